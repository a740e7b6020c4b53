<?php
/**
 * Exact decimal arithmetic.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Decimal.
 */
final class DecimalTest extends TestCase {

	/**
	 * Floor of products and quotients, table-driven.
	 *
	 * @dataProvider ratios
	 * @param array  $multiply Factors.
	 * @param array  $divide   Divisors.
	 * @param int    $decimals Places.
	 * @param string $expected Result.
	 */
	public function test_floor_ratio( array $multiply, array $divide, $decimals, $expected ) {
		$this->assertSame( $expected, Bazgasht_Decimal::floor_ratio( $multiply, $divide, $decimals ) );
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function ratios() {
		return array(
			'SPEC: 32.68 at 2 % of 0.01'          => array( array( '32.68', '2' ), array( '100', '0.01' ), 0, '65' ),
			'SPEC: refunded 29.19 earns 58'       => array( array( '29.19', '2' ), array( '100', '0.01' ), 0, '58' ),
			'SPEC: 935000 toman at 2 % of 1'      => array( array( '935000', '2' ), array( '100', '1' ), 0, '18700' ),
			'a float would say 57.99999'          => array( array( '0.29', '2' ), array( '100', '0.0001' ), 0, '58' ),
			'1240 points of 0.01 are 12.40'       => array( array( '1240', '0.01' ), array(), 2, '12.40' ),
			'cut, never rounded up'               => array( array( '999', '0.015' ), array(), 2, '14.98' ),
			'three decimals'                      => array( array( '7', '0.001' ), array(), 3, '0.007' ),
			'zero'                                => array( array( '0', '2' ), array( '100', '0.01' ), 0, '0' ),
			'leading zeros'                       => array( array( '007.50' ), array( '0.5' ), 0, '15' ),
			'beyond 64-bit integers'              => array( array( '99999999999999999999.99', '100' ), array( '100', '0.0001' ), 0, '999999999999999999999900' ),
			'2.5 % of 10.00 at 0.01'              => array( array( '10.00', '2.5' ), array( '100', '0.01' ), 0, '25' ),
			'one point short of a whole'          => array( array( '0.49', '2' ), array( '100', '0.01' ), 0, '0' ),
		);
	}

	/**
	 * Malformed numbers and zero divisors are refused, not guessed.
	 *
	 * @dataProvider bad_inputs
	 * @param array $multiply Factors.
	 * @param array $divide   Divisors.
	 */
	public function test_refuses_bad_input( array $multiply, array $divide ) {
		$this->expectException( InvalidArgumentException::class );
		Bazgasht_Decimal::floor_ratio( $multiply, $divide, 0 );
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function bad_inputs() {
		return array(
			'negative'       => array( array( '-1' ), array() ),
			'float'          => array( array( 0.1 ), array() ),
			'exponent'       => array( array( '1e3' ), array() ),
			'comma'          => array( array( '1,000' ), array() ),
			'empty'          => array( array( '' ), array() ),
			'trailing point' => array( array( '1.' ), array() ),
			'zero divisor'   => array( array( '1' ), array( '0.00' ) ),
			'spaces'         => array( array( ' 1' ), array() ),
		);
	}

	/**
	 * Comparison across different numbers of places.
	 */
	public function test_compare() {
		$this->assertSame( 0, Bazgasht_Decimal::compare( '1.50', '1.5' ) );
		$this->assertSame( -1, Bazgasht_Decimal::compare( '0.99', '1' ) );
		$this->assertSame( 1, Bazgasht_Decimal::compare( '100.01', '100' ) );
		$this->assertSame( 0, Bazgasht_Decimal::compare( '0', '0.000' ) );
	}
}
