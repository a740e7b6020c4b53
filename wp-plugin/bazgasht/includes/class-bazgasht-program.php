<?php
/**
 * The store's loyalty program parameters, as the backend states them.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Immutable program parameters (GET /storefront/v1/stores/{store}/program).
 *
 * Rates and values stay decimal strings; points are integers. See docs/storefront-api.md.
 */
final class Bazgasht_Program {

	/**
	 * Currency code, e.g. "USD", "IRT".
	 *
	 * @var string
	 */
	public $currency;

	/**
	 * Currency decimals (0 to 8).
	 *
	 * @var int
	 */
	public $decimals;

	/**
	 * Value of one point in the currency, e.g. "0.01".
	 *
	 * @var string
	 */
	public $point_value;

	/**
	 * Cashback percent, e.g. "2" or "2.5".
	 *
	 * @var string
	 */
	public $cashback_percent;

	/**
	 * "paid" (order total, tax and shipping included) or "items" (without them).
	 *
	 * @var string
	 */
	public $cashback_base;

	/**
	 * 1: every earning order earns cashback; 2: from the second on; and so on.
	 *
	 * @var int
	 */
	public $cashback_from_order;

	/**
	 * Points for creating an account.
	 *
	 * @var int
	 */
	public $welcome_points;

	/**
	 * Points for the second purchase.
	 *
	 * @var int
	 */
	public $second_purchase_points;

	/**
	 * The smallest redemption.
	 *
	 * @var int
	 */
	public $min_redeem_points;

	/**
	 * How long a reward coupon is valid.
	 *
	 * @var int
	 */
	public $coupon_valid_days;

	/**
	 * Private: use from_array().
	 *
	 * @param array $fields Validated fields.
	 */
	private function __construct( array $fields ) {
		foreach ( $fields as $name => $value ) {
			$this->$name = $value;
		}
	}

	/**
	 * Parse the backend's answer (or a copy of it kept in an option).
	 *
	 * @param mixed $data Decoded JSON.
	 * @return Bazgasht_Program|null Null when a field is missing or out of range.
	 */
	public static function from_array( $data ) {
		if ( ! is_array( $data ) ) {
			return null;
		}
		$currency = Bazgasht_Fields::currency( $data, 'currency' );
		$decimals = Bazgasht_Fields::integer( $data, 'decimals', 0, 8 );
		$value    = Bazgasht_Fields::decimal( $data, 'point_value' );
		$percent  = Bazgasht_Fields::decimal( $data, 'cashback_percent' );
		$base     = isset( $data['cashback_base'] ) && in_array( $data['cashback_base'], array( 'paid', 'items' ), true ) ? $data['cashback_base'] : null;
		$fields   = array(
			'currency'               => $currency,
			'decimals'               => $decimals,
			'point_value'            => $value,
			'cashback_percent'       => $percent,
			'cashback_base'          => $base,
			'cashback_from_order'    => Bazgasht_Fields::integer( $data, 'cashback_from_order', 1, 1000 ),
			'welcome_points'         => Bazgasht_Fields::integer( $data, 'welcome_points', 0 ),
			'second_purchase_points' => Bazgasht_Fields::integer( $data, 'second_purchase_points', 0 ),
			'min_redeem_points'      => Bazgasht_Fields::integer( $data, 'min_redeem_points', 1 ),
			'coupon_valid_days'      => Bazgasht_Fields::integer( $data, 'coupon_valid_days', 1 ),
		);
		if ( in_array( null, $fields, true ) ) {
			return null;
		}
		if ( 0 === Bazgasht_Decimal::compare( $value, '0' ) || 1 === Bazgasht_Decimal::compare( $percent, '100' ) ) {
			return null;
		}
		return new self( $fields );
	}

	/**
	 * The fields, as from_array() reads them (to keep a copy in an option).
	 *
	 * @return array
	 */
	public function to_array() {
		return get_object_vars( $this );
	}

	/**
	 * The currency value of $points, cut (never rounded up) to the currency's decimals.
	 *
	 * @param int $points Non-negative points.
	 * @return string Decimal string, e.g. "12.40".
	 */
	public function value_of( $points ) {
		return Bazgasht_Decimal::floor_ratio( array( (string) max( 0, (int) $points ), $this->point_value ), array(), $this->decimals );
	}

	/**
	 * How many whole points $amount is worth (the points that cover an amount).
	 *
	 * @param string $amount Non-negative decimal string.
	 * @return int
	 */
	public function points_for( $amount ) {
		return (int) Bazgasht_Decimal::floor_ratio( array( $amount ), array( $this->point_value ), 0 );
	}
}
