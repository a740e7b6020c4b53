<?php
/**
 * "Earn N points" on product pages: the backend's cashback rule applied to a price.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Cashback points of a price, exactly as the backend computes them (SPEC §4):
 * floor(price × cashback_percent / 100 / point_value), in whole numbers, never floats.
 *
 * It is an estimate: the order's real base (total less refunds, or items only) is known
 * only when the order is paid.
 */
final class Bazgasht_Earn_Estimate {

	/**
	 * Points that $price would earn.
	 *
	 * @param string           $price   Non-negative decimal string in the store's currency.
	 * @param Bazgasht_Program $program The program.
	 * @return int|null Null for a malformed price, or one too large to believe.
	 */
	public static function points( $price, Bazgasht_Program $program ) {
		if ( ! Bazgasht_Decimal::is_valid( $price ) ) {
			return null;
		}
		$points = Bazgasht_Decimal::floor_ratio(
			array( $price, $program->cashback_percent ),
			array( '100', $program->point_value ),
			0
		);
		if ( strlen( $points ) > 13 || (int) $points > Bazgasht_Fields::MAX_POINTS ) {
			return null;
		}
		return (int) $points;
	}

	/**
	 * The points of a range of prices (a variable product): [lowest, highest].
	 *
	 * @param string           $min_price Lowest price.
	 * @param string           $max_price Highest price.
	 * @param Bazgasht_Program $program   The program.
	 * @return array{0: int, 1: int}|null
	 */
	public static function range( $min_price, $max_price, Bazgasht_Program $program ) {
		$low  = self::points( $min_price, $program );
		$high = self::points( $max_price, $program );
		if ( null === $low || null === $high ) {
			return null;
		}
		return array( min( $low, $high ), max( $low, $high ) );
	}
}
