<?php
/**
 * A customer's loyalty state: from the live API, or from the meta the backend pushed.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Balance, spendable points and their value, next expiry, open reward coupons.
 *
 * Two sources, one shape: from_api() reads GET …/customers/{id}; from_meta() reads the
 * `bazgasht_loyalty` user meta (docs/storefront-api.md, "Pushed meta"), which may be old,
 * broken or of a version this plugin does not know — then it returns null, never throws.
 */
final class Bazgasht_Loyalty_State {

	/**
	 * The user meta key the backend writes.
	 */
	const META_KEY = 'bazgasht_loyalty';

	/**
	 * The only meta version this plugin reads. Version 1 only ever gains fields; a change
	 * that old readers would misread gets a new version number.
	 */
	const META_VERSION = 1;

	const CODE_PATTERN   = '/^[A-Za-z0-9._-]{1,64}$/D';
	const STATUS_PATTERN = '/^[a-z_]{1,20}$/D';

	/**
	 * All points, pending included; may be negative (points spent, then the order refunded).
	 *
	 * @var int
	 */
	public $balance;

	/**
	 * Points that can be redeemed now (never negative).
	 *
	 * @var int
	 */
	public $spendable;

	/**
	 * Value of the spendable points, decimal string in the currency.
	 *
	 * @var string
	 */
	public $value;

	/**
	 * Currency code.
	 *
	 * @var string
	 */
	public $currency;

	/**
	 * Next expiry: array( 'points' => int, 'on' => unix time ), or null.
	 *
	 * @var array|null
	 */
	public $expiring;

	/**
	 * Reward coupons: each array( 'code', 'amount', 'expires_at' => unix time, 'status' ).
	 *
	 * @var array[]
	 */
	public $coupons;

	/**
	 * When the backend computed this state (unix time).
	 *
	 * @var int
	 */
	public $updated_at;

	/**
	 * Cashback still in its return window (live answers only).
	 *
	 * @var int|null
	 */
	public $pending;

	/**
	 * The smallest redemption (live answers only).
	 *
	 * @var int|null
	 */
	public $min_redeem_points;

	/**
	 * Whether a redemption would be accepted now (live answers only).
	 *
	 * @var bool|null
	 */
	public $can_redeem;

	/**
	 * True for a live answer; false for pushed meta (possibly out of date).
	 *
	 * @var bool
	 */
	public $live;

	/**
	 * Private: use from_api() or from_meta().
	 */
	private function __construct() {
	}

	/**
	 * Parse a live answer of GET …/customers/{id}.
	 *
	 * @param mixed $data Decoded JSON.
	 * @return Bazgasht_Loyalty_State|null Null when a required field is missing or malformed.
	 */
	public static function from_api( $data ) {
		if ( ! is_array( $data ) ) {
			return null;
		}
		$state = self::common( $data );
		if ( null === $state ) {
			return null;
		}
		$state->pending           = Bazgasht_Fields::integer( $data, 'pending', 0 );
		$state->min_redeem_points = Bazgasht_Fields::integer( $data, 'min_redeem_points', 1 );
		$state->can_redeem        = isset( $data['can_redeem'] ) && is_bool( $data['can_redeem'] ) ? $data['can_redeem'] : null;
		if ( null === $state->pending || null === $state->min_redeem_points || null === $state->can_redeem ) {
			return null;
		}
		$state->live = true;
		return $state;
	}

	/**
	 * Parse the pushed meta, as get_user_meta() returns it.
	 *
	 * WooCommerce stores the JSON object of the REST call as a PHP array, so this is usually
	 * an array; a JSON string is accepted too (a backend may have sent one).
	 *
	 * @param mixed $raw The meta value.
	 * @return Bazgasht_Loyalty_State|null Null for empty, broken, or unknown-version meta.
	 */
	public static function from_meta( $raw ) {
		if ( is_string( $raw ) && '' !== $raw ) {
			$raw = json_decode( $raw, true, 16 );
		}
		if ( ! is_array( $raw ) || ! isset( $raw['v'] ) || self::META_VERSION !== $raw['v'] ) {
			return null;
		}
		$state = self::common( $raw );
		if ( null !== $state ) {
			$state->live = false;
		}
		return $state;
	}

	/**
	 * The open coupons, those not expired at $now (pending and issued ones).
	 *
	 * @param int $now Unix time.
	 * @return array[]
	 */
	public function open_coupons( $now ) {
		return array_values(
			array_filter(
				$this->coupons,
				static function ( $coupon ) use ( $now ) {
					return $coupon['expires_at'] > $now && in_array( $coupon['status'], array( 'issued', 'pending' ), true );
				}
			)
		);
	}

	/**
	 * The next expiry if it is still ahead at $now.
	 *
	 * @param int $now Unix time.
	 * @return array|null
	 */
	public function expiring_after( $now ) {
		return ( null !== $this->expiring && $this->expiring['on'] > $now ) ? $this->expiring : null;
	}

	/**
	 * Whether the customer may try to redeem now, as far as this state says: live answers
	 * say so themselves; pushed meta never allows it (the backend is not reachable).
	 *
	 * @return bool
	 */
	public function redeemable() {
		return $this->live && true === $this->can_redeem;
	}

	/**
	 * The fields both sources share.
	 *
	 * @param array $data Decoded object.
	 * @return Bazgasht_Loyalty_State|null
	 */
	private static function common( array $data ) {
		$state             = new self();
		$state->balance    = Bazgasht_Fields::integer( $data, 'balance' );
		$state->spendable  = Bazgasht_Fields::integer( $data, 'spendable', 0 );
		$state->value      = Bazgasht_Fields::decimal( $data, 'value' );
		$state->currency   = Bazgasht_Fields::currency( $data, 'currency' );
		$state->updated_at = Bazgasht_Fields::instant( $data, 'updated_at' );
		if ( null === $state->balance || null === $state->spendable || null === $state->value || null === $state->currency || null === $state->updated_at ) {
			return null;
		}
		$state->expiring = self::expiring( isset( $data['expiring'] ) ? $data['expiring'] : null );
		$state->coupons  = self::coupons( isset( $data['coupons'] ) ? $data['coupons'] : array() );
		return $state;
	}

	/**
	 * The next expiry, or null when absent or malformed.
	 *
	 * @param mixed $data Decoded JSON.
	 * @return array|null
	 */
	private static function expiring( $data ) {
		if ( ! is_array( $data ) ) {
			return null;
		}
		$points = Bazgasht_Fields::integer( $data, 'points', 1 );
		$on     = Bazgasht_Fields::instant( $data, 'on' );
		return ( null === $points || null === $on ) ? null : array(
			'points' => $points,
			'on'     => $on,
		);
	}

	/**
	 * The well-formed coupons of a list; malformed entries are left out.
	 *
	 * @param mixed $data Decoded JSON.
	 * @return array[]
	 */
	private static function coupons( $data ) {
		if ( ! is_array( $data ) ) {
			return array();
		}
		$coupons = array();
		foreach ( $data as $item ) {
			if ( ! is_array( $item ) ) {
				continue;
			}
			$coupon = array(
				'code'       => Bazgasht_Fields::text( $item, 'code', self::CODE_PATTERN ),
				'amount'     => Bazgasht_Fields::decimal( $item, 'amount' ),
				'expires_at' => Bazgasht_Fields::instant( $item, 'expires_at' ),
				'status'     => Bazgasht_Fields::text( $item, 'status', self::STATUS_PATTERN ),
			);
			if ( ! in_array( null, $coupon, true ) ) {
				$coupons[] = $coupon;
			}
		}
		return $coupons;
	}
}
