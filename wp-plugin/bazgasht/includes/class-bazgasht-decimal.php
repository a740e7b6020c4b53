<?php
/**
 * Exact arithmetic on decimal strings ("32.68", "0.01", "935000").
 *
 * Money and rates arrive from the backend as decimal strings. PHP floats cannot hold 0.01
 * exactly, and neither bcmath nor gmp can be assumed on a shop's host, so this class works
 * on strings of digits: multiplication and floor division of arbitrary size. The one
 * rounding mode is "down" (towards zero, the values are never negative), as in the backend
 * (docs/loyalty.md: cashback is rounded down; a coupon amount is cut to the decimals).
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Non-negative decimal strings: parsing and the floor of products and quotients.
 */
final class Bazgasht_Decimal {

	/**
	 * Whether $text is a plain non-negative decimal: digits, optionally a point and digits.
	 *
	 * @param mixed $text Candidate.
	 * @return bool
	 */
	public static function is_valid( $text ) {
		return is_string( $text ) && 1 === preg_match( '/^\d{1,40}(\.\d{1,20})?$/D', $text );
	}

	/**
	 * The floor of (product of $multiply) / (product of $divide), with $decimals places.
	 *
	 * Example: floor_ratio( array( '32.68', '2' ), array( '100', '0.01' ), 0 ) is "65"
	 * (32.68 × 2 / 100 / 0.01 = 65.36); floor_ratio( array( '1240', '0.01' ), array(), 2 )
	 * is "12.40".
	 *
	 * @param string[] $multiply Non-negative decimal strings.
	 * @param string[] $divide   Non-negative, non-zero decimal strings.
	 * @param int      $decimals Places after the point in the result (0 to 20).
	 * @return string A decimal string with exactly $decimals places.
	 * @throws InvalidArgumentException On a malformed number or a zero divisor.
	 */
	public static function floor_ratio( array $multiply, array $divide, $decimals = 0 ) {
		if ( ! is_int( $decimals ) || $decimals < 0 || $decimals > 20 ) {
			throw new InvalidArgumentException( 'decimals must be an integer from 0 to 20' );
		}
		$numerator   = '1';
		$denominator = '1';
		$scale       = $decimals; // Power of ten the numerator is multiplied by.
		foreach ( $multiply as $value ) {
			list( $digits, $places ) = self::split( $value );
			$numerator               = self::mul( $numerator, $digits );
			$scale                  -= $places;
		}
		foreach ( $divide as $value ) {
			list( $digits, $places ) = self::split( $value );
			if ( '0' === $digits ) {
				throw new InvalidArgumentException( 'division by zero' );
			}
			$denominator = self::mul( $denominator, $digits );
			$scale      += $places;
		}
		if ( $scale >= 0 ) {
			$numerator .= str_repeat( '0', $scale );
		} else {
			$denominator .= str_repeat( '0', -$scale );
		}
		$quotient = self::trim( self::div( $numerator, $denominator ) );
		if ( 0 === $decimals ) {
			return $quotient;
		}
		$quotient = str_pad( $quotient, $decimals + 1, '0', STR_PAD_LEFT );
		return substr( $quotient, 0, -$decimals ) . '.' . substr( $quotient, -$decimals );
	}

	/**
	 * Compare two non-negative decimal strings.
	 *
	 * @param string $a Decimal string.
	 * @param string $b Decimal string.
	 * @return int -1, 0 or 1.
	 */
	public static function compare( $a, $b ) {
		list( $da, $pa ) = self::split( $a );
		list( $db, $pb ) = self::split( $b );
		$places          = max( $pa, $pb );
		return self::cmp( self::trim( $da . str_repeat( '0', $places - $pa ) ), self::trim( $db . str_repeat( '0', $places - $pb ) ) );
	}

	/**
	 * Digits without the point, and how many places the point stood from the right.
	 *
	 * @param mixed $value Decimal string.
	 * @return array{0: string, 1: int}
	 * @throws InvalidArgumentException When $value is not a non-negative decimal string.
	 */
	private static function split( $value ) {
		if ( ! self::is_valid( $value ) ) {
			throw new InvalidArgumentException( 'not a non-negative decimal string' );
		}
		$parts    = explode( '.', $value );
		$fraction = isset( $parts[1] ) ? $parts[1] : '';
		return array( self::trim( $parts[0] . $fraction ), strlen( $fraction ) );
	}

	/**
	 * Strip leading zeros ("007" is "7", "000" is "0").
	 *
	 * @param string $digits Digits.
	 * @return string
	 */
	private static function trim( $digits ) {
		$trimmed = ltrim( $digits, '0' );
		return '' === $trimmed ? '0' : $trimmed;
	}

	/**
	 * Compare digit strings without leading zeros.
	 *
	 * @param string $a Digits.
	 * @param string $b Digits.
	 * @return int
	 */
	private static function cmp( $a, $b ) {
		if ( strlen( $a ) !== strlen( $b ) ) {
			return strlen( $a ) < strlen( $b ) ? -1 : 1;
		}
		return $a <=> $b;
	}

	/**
	 * Product of two digit strings (schoolbook; the numbers here are short).
	 *
	 * @param string $a Digits.
	 * @param string $b Digits.
	 * @return string
	 */
	private static function mul( $a, $b ) {
		$result = array_fill( 0, strlen( $a ) + strlen( $b ), 0 );
		for ( $i = strlen( $a ) - 1; $i >= 0; $i-- ) {
			$carry = 0;
			for ( $j = strlen( $b ) - 1; $j >= 0; $j-- ) {
				$sum                   = $result[ $i + $j + 1 ] + (int) $a[ $i ] * (int) $b[ $j ] + $carry;
				$result[ $i + $j + 1 ] = $sum % 10;
				$carry                 = intdiv( $sum, 10 );
			}
			$result[ $i ] += $carry;
		}
		return self::trim( implode( '', $result ) );
	}

	/**
	 * Difference $a - $b of digit strings, $a >= $b.
	 *
	 * @param string $a Digits.
	 * @param string $b Digits.
	 * @return string
	 */
	private static function sub( $a, $b ) {
		$b      = str_pad( $b, strlen( $a ), '0', STR_PAD_LEFT );
		$result = '';
		$borrow = 0;
		for ( $i = strlen( $a ) - 1; $i >= 0; $i-- ) {
			$digit  = (int) $a[ $i ] - (int) $b[ $i ] - $borrow;
			$borrow = $digit < 0 ? 1 : 0;
			$result = ( $digit + 10 * $borrow ) . $result;
		}
		return self::trim( $result );
	}

	/**
	 * Floor of $a / $b for digit strings, $b > 0 (long division).
	 *
	 * @param string $a Digits.
	 * @param string $b Digits.
	 * @return string
	 */
	private static function div( $a, $b ) {
		$quotient  = '';
		$remainder = '0';
		$length    = strlen( $a );
		for ( $i = 0; $i < $length; $i++ ) {
			$remainder = self::trim( $remainder . $a[ $i ] );
			$digit     = 0;
			while ( self::cmp( $remainder, $b ) >= 0 ) {
				$remainder = self::sub( $remainder, $b );
				++$digit;
			}
			$quotient .= $digit;
		}
		return self::trim( $quotient );
	}
}
