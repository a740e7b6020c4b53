<?php
/**
 * Strict readers for fields of decoded JSON (backend answers and pushed meta).
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Each reader returns the field's value, or null when it is missing or malformed; callers
 * decide whether a null makes the whole object unusable.
 */
final class Bazgasht_Fields {

	/**
	 * The largest number of points believed (the backend's own bound, 10^12).
	 */
	const MAX_POINTS = 1000000000000;

	/**
	 * An integer in [$min, $max]. Integral JSON numbers only: "12" or 12.5 are refused.
	 *
	 * @param array  $data Object.
	 * @param string $key  Field.
	 * @param int    $min  Smallest allowed.
	 * @param int    $max  Largest allowed.
	 * @return int|null
	 */
	public static function integer( array $data, $key, $min = -self::MAX_POINTS, $max = self::MAX_POINTS ) {
		if ( ! isset( $data[ $key ] ) || ! is_int( $data[ $key ] ) ) {
			return null;
		}
		$value = $data[ $key ];
		return ( $value < $min || $value > $max ) ? null : $value;
	}

	/**
	 * A non-negative decimal string ("12.40").
	 *
	 * @param array  $data Object.
	 * @param string $key  Field.
	 * @return string|null
	 */
	public static function decimal( array $data, $key ) {
		return isset( $data[ $key ] ) && Bazgasht_Decimal::is_valid( $data[ $key ] ) ? $data[ $key ] : null;
	}

	/**
	 * A currency code: three upper-case letters.
	 *
	 * @param array  $data Object.
	 * @param string $key  Field.
	 * @return string|null
	 */
	public static function currency( array $data, $key ) {
		return isset( $data[ $key ] ) && is_string( $data[ $key ] ) && 1 === preg_match( '/^[A-Z]{3}$/D', $data[ $key ] ) ? $data[ $key ] : null;
	}

	/**
	 * An RFC 3339 instant ("2025-03-01T00:00:00Z" or with an offset), as a Unix timestamp.
	 *
	 * @param array  $data Object.
	 * @param string $key  Field.
	 * @return int|null
	 */
	public static function instant( array $data, $key ) {
		if ( ! isset( $data[ $key ] ) || ! is_string( $data[ $key ] ) ) {
			return null;
		}
		if ( 1 !== preg_match( '/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/D', $data[ $key ] ) ) {
			return null;
		}
		try {
			$instant = new DateTimeImmutable( $data[ $key ] );
		} catch ( Exception $e ) {
			return null;
		}
		// DateTimeImmutable rolls 2025-02-30 over to March; a rolled-over date is malformed.
		if ( substr( $data[ $key ], 0, 10 ) !== $instant->format( 'Y-m-d' ) ) {
			return null;
		}
		return $instant->getTimestamp();
	}

	/**
	 * A short text without control characters (a coupon code, a status).
	 *
	 * @param array  $data    Object.
	 * @param string $key     Field.
	 * @param string $pattern A PCRE the whole value must match.
	 * @return string|null
	 */
	public static function text( array $data, $key, $pattern ) {
		return isset( $data[ $key ] ) && is_string( $data[ $key ] ) && 1 === preg_match( $pattern, $data[ $key ] ) ? $data[ $key ] : null;
	}
}
