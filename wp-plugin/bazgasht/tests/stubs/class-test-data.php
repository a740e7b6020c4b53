<?php
/**
 * Answers of the storefront API as docs/storefront-api.md shows them.
 *
 * @package Bazgasht
 */

/**
 * Example payloads for the tests.
 */
final class Bazgasht_Test_Data {

	/**
	 * The program of a USD store (defaults of docs/loyalty.md).
	 *
	 * @param array $changes Fields to change.
	 * @return array
	 */
	public static function usd_program( array $changes = array() ) {
		return array_merge(
			array(
				'store'                  => 'myshop',
				'currency'               => 'USD',
				'decimals'               => 2,
				'point_value'            => '0.01',
				'cashback_percent'       => '2',
				'cashback_base'          => 'paid',
				'cashback_from_order'    => 1,
				'welcome_points'         => 100,
				'second_purchase_points' => 200,
				'min_redeem_points'      => 500,
				'coupon_valid_days'      => 90,
				'pending_days'           => 14,
			),
			$changes
		);
	}

	/**
	 * The program of a toman store: no decimals, a point worth 1 toman.
	 *
	 * @param array $changes Fields to change.
	 * @return array
	 */
	public static function irt_program( array $changes = array() ) {
		return self::usd_program(
			array_merge(
				array(
					'currency'          => 'IRT',
					'decimals'          => 0,
					'point_value'       => '1',
					'min_redeem_points' => 50000,
				),
				$changes
			)
		);
	}

	/**
	 * A customer's live state.
	 *
	 * @param array $changes Fields to change.
	 * @return array
	 */
	public static function customer( array $changes = array() ) {
		return array_merge(
			array(
				'customer_id'       => 42,
				'balance'           => 1340,
				'spendable'         => 1240,
				'pending'           => 100,
				'value'             => '12.40',
				'currency'          => 'USD',
				'expiring'          => array(
					'points' => 300,
					'on'     => '2030-03-01T00:00:00Z',
				),
				'min_redeem_points' => 500,
				'can_redeem'        => true,
				'coupons'           => array(
					array(
						'code'       => 'bz-8d90-17-k2cc',
						'amount'     => '5.00',
						'expires_at' => '2030-01-31T12:00:00Z',
						'status'     => 'issued',
					),
				),
				'updated_at'        => '2026-05-01T10:00:00Z',
			),
			$changes
		);
	}

	/**
	 * The pushed meta of the same customer.
	 *
	 * @param array $changes Fields to change.
	 * @return array
	 */
	public static function meta( array $changes = array() ) {
		$meta = array_merge( array( 'v' => 1 ), self::customer() );
		unset( $meta['customer_id'], $meta['pending'], $meta['min_redeem_points'], $meta['can_redeem'] );
		return array_merge( $meta, $changes );
	}

	/**
	 * A redemption answer.
	 *
	 * @param array $changes Fields to change.
	 * @return array
	 */
	public static function redemption( array $changes = array() ) {
		return array_merge(
			array(
				'redemption_id' => 18,
				'code'          => 'bz-8d90-18-m3qa',
				'points'        => 600,
				'amount'        => '6.00',
				'currency'      => 'USD',
				'expires_at'    => '2030-07-30T10:00:00Z',
				'status'        => 'issued',
			),
			$changes
		);
	}
}
