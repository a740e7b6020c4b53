<?php
/**
 * A customer's state from the live API and from the pushed meta.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Loyalty_State.
 */
final class LoyaltyStateTest extends TestCase {

	const NOW = 1777629600; // 2026-05-01T10:00:00Z.

	/**
	 * A live answer: every field read.
	 */
	public function test_live_answer() {
		$state = Bazgasht_Loyalty_State::from_api( Bazgasht_Test_Data::customer() );
		$this->assertTrue( $state->live );
		$this->assertSame( 1340, $state->balance );
		$this->assertSame( 1240, $state->spendable );
		$this->assertSame( 100, $state->pending );
		$this->assertSame( '12.40', $state->value );
		$this->assertSame( 'USD', $state->currency );
		$this->assertSame( 500, $state->min_redeem_points );
		$this->assertTrue( $state->redeemable() );
		$this->assertSame( array( 'points' => 300, 'on' => gmmktime( 0, 0, 0, 3, 1, 2030 ) ), $state->expiring );
		$this->assertSame( 'bz-8d90-17-k2cc', $state->coupons[0]['code'] );
		$this->assertSame( self::NOW, $state->updated_at );
	}

	/**
	 * A live answer missing a field it must have is not used.
	 */
	public function test_live_answer_missing_fields() {
		foreach ( array( 'balance', 'spendable', 'pending', 'value', 'currency', 'min_redeem_points', 'can_redeem', 'updated_at' ) as $field ) {
			$data = Bazgasht_Test_Data::customer();
			unset( $data[ $field ] );
			$this->assertNull( Bazgasht_Loyalty_State::from_api( $data ), $field );
		}
		$this->assertNull( Bazgasht_Loyalty_State::from_api( Bazgasht_Test_Data::customer( array( 'can_redeem' => 'yes' ) ) ) );
		$this->assertNull( Bazgasht_Loyalty_State::from_api( Bazgasht_Test_Data::customer( array( 'spendable' => -1 ) ) ) );
	}

	/**
	 * Pushed meta as WooCommerce stores it (an array), and as a JSON string.
	 */
	public function test_meta() {
		$state = Bazgasht_Loyalty_State::from_meta( Bazgasht_Test_Data::meta() );
		$this->assertFalse( $state->live );
		$this->assertFalse( $state->redeemable(), 'pushed meta never allows redeeming' );
		$this->assertSame( 1240, $state->spendable );
		$this->assertNull( $state->pending );
		$this->assertEquals( $state, Bazgasht_Loyalty_State::from_meta( json_encode( Bazgasht_Test_Data::meta() ) ) );
	}

	/**
	 * Broken, empty, old or future meta: nothing, and no error.
	 *
	 * @dataProvider unusable_meta
	 * @param mixed $raw Meta value.
	 */
	public function test_unusable_meta( $raw ) {
		$this->assertNull( Bazgasht_Loyalty_State::from_meta( $raw ) );
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function unusable_meta() {
		$no_balance = Bazgasht_Test_Data::meta();
		unset( $no_balance['balance'] );
		return array(
			'absent (get_user_meta gives "")' => array( '' ),
			'false'                           => array( false ),
			'not JSON'                        => array( '{"v":1,"balance":' ),
			'a JSON list'                     => array( '[1,2]' ),
			'no version'                      => array( array_diff_key( Bazgasht_Test_Data::meta(), array( 'v' => 0 ) ) ),
			'version 0 (older shape)'         => array( Bazgasht_Test_Data::meta( array( 'v' => 0 ) ) ),
			'version 2 (unknown)'             => array( Bazgasht_Test_Data::meta( array( 'v' => 2 ) ) ),
			'version as a string'             => array( Bazgasht_Test_Data::meta( array( 'v' => '1' ) ) ),
			'no balance'                      => array( $no_balance ),
			'balance as a string'             => array( Bazgasht_Test_Data::meta( array( 'balance' => '1340' ) ) ),
			'value as a float'                => array( Bazgasht_Test_Data::meta( array( 'value' => 12.4 ) ) ),
			'updated_at not a date'           => array( Bazgasht_Test_Data::meta( array( 'updated_at' => 'yesterday' ) ) ),
			'updated_at 30 February'          => array( Bazgasht_Test_Data::meta( array( 'updated_at' => '2026-02-30T10:00:00Z' ) ) ),
			'deeply nested garbage'           => array( str_repeat( '[', 100 ) . str_repeat( ']', 100 ) ),
		);
	}

	/**
	 * Optional parts that are broken are dropped; the rest is still shown.
	 */
	public function test_meta_with_broken_optional_parts() {
		$state = Bazgasht_Loyalty_State::from_meta(
			Bazgasht_Test_Data::meta(
				array(
					'expiring' => array( 'points' => 'many' ),
					'coupons'  => array(
						'not a coupon',
						array( 'code' => '<script>', 'amount' => '5.00', 'expires_at' => '2030-01-31T12:00:00Z', 'status' => 'issued' ),
						array( 'code' => 'bz-1-2-3', 'amount' => '5.00', 'expires_at' => '2030-01-31T12:00:00+03:30', 'status' => 'issued' ),
					),
				)
			)
		);
		$this->assertNotNull( $state );
		$this->assertNull( $state->expiring );
		$this->assertCount( 1, $state->coupons );
		$this->assertSame( gmmktime( 8, 30, 0, 1, 31, 2030 ), $state->coupons[0]['expires_at'], 'offsets are honoured' );
		$this->assertNotNull( Bazgasht_Loyalty_State::from_meta( Bazgasht_Test_Data::meta( array( 'coupons' => 'none' ) ) ) );
	}

	/**
	 * What is still ahead: past expiries and expired or used coupons are left out.
	 */
	public function test_as_of_now() {
		$state = Bazgasht_Loyalty_State::from_meta(
			Bazgasht_Test_Data::meta(
				array(
					'expiring' => array( 'points' => 300, 'on' => '2026-04-01T00:00:00Z' ),
					'coupons'  => array(
						array( 'code' => 'bz-a-1-x', 'amount' => '5.00', 'expires_at' => '2026-04-30T00:00:00Z', 'status' => 'issued' ),
						array( 'code' => 'bz-a-2-x', 'amount' => '5.00', 'expires_at' => '2030-01-01T00:00:00Z', 'status' => 'used' ),
						array( 'code' => 'bz-a-3-x', 'amount' => '5.00', 'expires_at' => '2030-01-01T00:00:00Z', 'status' => 'pending' ),
						array( 'code' => 'bz-a-4-x', 'amount' => '5.00', 'expires_at' => '2030-01-01T00:00:00Z', 'status' => 'issued' ),
					),
				)
			)
		);
		$this->assertNull( $state->expiring_after( self::NOW ) );
		$this->assertSame( array( 'bz-a-3-x', 'bz-a-4-x' ), array_column( $state->open_coupons( self::NOW ), 'code' ) );
	}

	/**
	 * A negative balance (points spent, then the order refunded) is shown as it is.
	 */
	public function test_negative_balance() {
		$state = Bazgasht_Loyalty_State::from_api( Bazgasht_Test_Data::customer( array( 'balance' => -200, 'spendable' => 0, 'value' => '0.00', 'can_redeem' => false ) ) );
		$this->assertSame( -200, $state->balance );
		$this->assertFalse( $state->redeemable() );
	}
}
