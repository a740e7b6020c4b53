<?php
/**
 * "Earn N points": the backend's cashback rule on a price.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Earn_Estimate.
 */
final class EarnEstimateTest extends TestCase {

	/**
	 * Exact on USD and toman, as in SPEC §4 and docs/loyalty.md.
	 *
	 * @dataProvider prices
	 * @param array  $program  Program fields.
	 * @param string $price    Price.
	 * @param int    $expected Points.
	 */
	public function test_points( array $program, $price, $expected ) {
		$this->assertSame( $expected, Bazgasht_Earn_Estimate::points( $price, Bazgasht_Program::from_array( $program ) ) );
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function prices() {
		$usd = Bazgasht_Test_Data::usd_program();
		$irt = Bazgasht_Test_Data::irt_program();
		return array(
			'USD 32.68 at 2 %'                => array( $usd, '32.68', 65 ),
			'USD 29.19 at 2 % (58.38)'        => array( $usd, '29.19', 58 ),
			'USD 0.49 earns nothing'          => array( $usd, '0.49', 0 ),
			'USD 0.50 earns 1'                => array( $usd, '0.50', 1 ),
			'toman 935000 at 2 %'             => array( $irt, '935000', 18700 ),
			'toman 49 earns nothing'          => array( $irt, '49', 0 ),
			'2.5 % of 10.00'                  => array( Bazgasht_Test_Data::usd_program( array( 'cashback_percent' => '2.5' ) ), '10.00', 25 ),
			'point worth 0.05: 32.68 → 13'    => array( Bazgasht_Test_Data::usd_program( array( 'point_value' => '0.05' ) ), '32.68', 13 ),
			'0 % earns nothing'               => array( Bazgasht_Test_Data::usd_program( array( 'cashback_percent' => '0' ) ), '100.00', 0 ),
			'100 % of 1.00 at 0.01'           => array( Bazgasht_Test_Data::usd_program( array( 'cashback_percent' => '100' ) ), '1.00', 100 ),
			'toman with rial-like point 10'   => array( Bazgasht_Test_Data::irt_program( array( 'point_value' => '10' ) ), '935000', 1870 ),
		);
	}

	/**
	 * No price, a malformed one, or an absurd one: no estimate.
	 */
	public function test_no_estimate_for_bad_prices() {
		$program = Bazgasht_Program::from_array( Bazgasht_Test_Data::usd_program() );
		$this->assertNull( Bazgasht_Earn_Estimate::points( '', $program ) );
		$this->assertNull( Bazgasht_Earn_Estimate::points( '-5.00', $program ) );
		$this->assertNull( Bazgasht_Earn_Estimate::points( 32.68, $program ), 'a float is refused, never used' );
		$this->assertNull( Bazgasht_Earn_Estimate::points( '99999999999999999.00', $program ) );
	}

	/**
	 * A variable product: the points of its cheapest and dearest variation.
	 */
	public function test_range() {
		$program = Bazgasht_Program::from_array( Bazgasht_Test_Data::usd_program() );
		$this->assertSame( array( 20, 65 ), Bazgasht_Earn_Estimate::range( '32.68', '10.00', $program ) );
		$this->assertNull( Bazgasht_Earn_Estimate::range( '', '10.00', $program ) );
	}
}
