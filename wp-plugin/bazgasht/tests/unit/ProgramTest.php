<?php
/**
 * Program parameters from the backend.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Program.
 */
final class ProgramTest extends TestCase {

	/**
	 * A complete answer parses; value_of and points_for are exact.
	 */
	public function test_parses_and_computes() {
		$program = Bazgasht_Program::from_array( Bazgasht_Test_Data::usd_program() );
		$this->assertNotNull( $program );
		$this->assertSame( '12.40', $program->value_of( 1240 ) );
		$this->assertSame( '0.00', $program->value_of( -5 ) );
		$this->assertSame( 3268, $program->points_for( '32.68' ) );
		$toman = Bazgasht_Program::from_array( Bazgasht_Test_Data::irt_program() );
		$this->assertSame( '18700', $toman->value_of( 18700 ) );
		$this->assertEquals( $program, Bazgasht_Program::from_array( $program->to_array() ), 'a kept copy reads back the same' );
	}

	/**
	 * Missing or out-of-range fields make the whole answer unusable.
	 *
	 * @dataProvider broken
	 * @param array $changes Changes to a good answer.
	 */
	public function test_refuses_broken_answers( array $changes ) {
		$data = Bazgasht_Test_Data::usd_program();
		foreach ( $changes as $key => $value ) {
			if ( null === $value ) {
				unset( $data[ $key ] );
			} else {
				$data[ $key ] = $value;
			}
		}
		$this->assertNull( Bazgasht_Program::from_array( $data ) );
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function broken() {
		return array(
			'no currency'             => array( array( 'currency' => null ) ),
			'lower-case currency'     => array( array( 'currency' => 'usd' ) ),
			'point value as a float'  => array( array( 'point_value' => 0.01 ) ),
			'point value zero'        => array( array( 'point_value' => '0.00' ) ),
			'percent over 100'        => array( array( 'cashback_percent' => '150' ) ),
			'negative percent'        => array( array( 'cashback_percent' => '-2' ) ),
			'unknown base'            => array( array( 'cashback_base' => 'gross' ) ),
			'decimals 9'              => array( array( 'decimals' => 9 ) ),
			'decimals as a string'    => array( array( 'decimals' => '2' ) ),
			'minimum zero'            => array( array( 'min_redeem_points' => 0 ) ),
			'cashback from order 0'   => array( array( 'cashback_from_order' => 0 ) ),
		);
	}

	/**
	 * Not an object at all.
	 */
	public function test_refuses_non_objects() {
		$this->assertNull( Bazgasht_Program::from_array( null ) );
		$this->assertNull( Bazgasht_Program::from_array( 'program' ) );
		$this->assertNull( Bazgasht_Program::from_array( false ) );
	}
}
