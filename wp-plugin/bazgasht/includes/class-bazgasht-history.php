<?php
/**
 * Recent ledger entries of a customer (GET …/customers/{id}/history).
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Parsing of history entries; malformed entries are left out, one by one.
 */
final class Bazgasht_History {

	/**
	 * Where an entry's points come from; anything else is shown as a plain adjustment.
	 */
	const SOURCES = array( 'welcome', 'second_purchase', 'cashback', 'expiry', 'redemption', 'manual' );

	/**
	 * Entries of an answer.
	 *
	 * @param mixed $data Decoded JSON: {"entries": [...]}.
	 * @return array[]|null Each array( at, points, kind, source, reason, order_id, coupon_code );
	 *                      null when the answer has no entries list at all.
	 */
	public static function from_api( $data ) {
		if ( ! is_array( $data ) || ! isset( $data['entries'] ) || ! is_array( $data['entries'] ) ) {
			return null;
		}
		$entries = array();
		foreach ( $data['entries'] as $item ) {
			if ( ! is_array( $item ) ) {
				continue;
			}
			$entry = array(
				'at'     => Bazgasht_Fields::instant( $item, 'at' ),
				'points' => Bazgasht_Fields::integer( $item, 'points' ),
				'kind'   => Bazgasht_Fields::text( $item, 'kind', '/^[a-z0-9_]{1,32}$/D' ),
			);
			if ( in_array( null, $entry, true ) ) {
				continue;
			}
			$source               = isset( $item['source'] ) && in_array( $item['source'], self::SOURCES, true ) ? $item['source'] : 'other';
			$entry['source']      = $source;
			$entry['reason']      = isset( $item['reason'] ) && is_string( $item['reason'] ) ? self::clip( $item['reason'] ) : '';
			$entry['order_id']    = Bazgasht_Fields::integer( $item, 'order_id', 1, PHP_INT_MAX );
			$entry['coupon_code'] = Bazgasht_Fields::text( $item, 'coupon_code', Bazgasht_Loyalty_State::CODE_PATTERN );
			$entries[]            = $entry;
		}
		return $entries;
	}

	/**
	 * A reason cut to 200 characters (it is the shop owner's free text).
	 *
	 * @param string $text Text.
	 * @return string
	 */
	private static function clip( $text ) {
		return function_exists( 'mb_substr' ) ? mb_substr( $text, 0, 200 ) : substr( $text, 0, 200 );
	}
}
