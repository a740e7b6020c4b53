<?php
/**
 * Numbers and money as a customer reads them: grouped, in the store's format, and in
 * Persian digits when the site speaks Persian.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Pure formatting: every locale-dependent choice is passed to the constructor, so the
 * WordPress glue decides them once (Bazgasht_Plugin::formatter()).
 *
 * Outputs are plain text (not HTML): escape them when printing.
 */
final class Bazgasht_Formatter {

	const PERSIAN_DIGITS = array( '۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹' );

	/**
	 * Thousands separator.
	 *
	 * @var string
	 */
	private $thousands;

	/**
	 * Decimal separator.
	 *
	 * @var string
	 */
	private $point;

	/**
	 * Whether digits are written as ۰۱۲۳۴۵۶۷۸۹.
	 *
	 * @var bool
	 */
	private $persian;

	/**
	 * A sprintf pattern with %1$s for the currency and %2$s for the amount (WooCommerce's
	 * get_woocommerce_price_format()).
	 *
	 * @var string
	 */
	private $price_format;

	/**
	 * Constructor.
	 *
	 * @param string $thousands    Thousands separator.
	 * @param string $point        Decimal separator.
	 * @param bool   $persian      Persian digits.
	 * @param string $price_format Pattern of a price: %1$s currency, %2$s amount.
	 */
	public function __construct( $thousands = ',', $point = '.', $persian = false, $price_format = '%2$s %1$s' ) {
		$this->thousands    = (string) $thousands;
		$this->point        = (string) $point;
		$this->persian      = (bool) $persian;
		$this->price_format = false !== strpos( (string) $price_format, '%2$s' ) ? (string) $price_format : '%2$s %1$s';
	}

	/**
	 * Whether a locale code calls for Persian digits (fa_IR, fa_AF, fa).
	 *
	 * @param string $locale WordPress locale.
	 * @return bool
	 */
	public static function locale_uses_persian_digits( $locale ) {
		return 1 === preg_match( '/^fa(_|$)/', (string) $locale );
	}

	/**
	 * ASCII digits in $text made Persian, when this formatter writes Persian digits.
	 *
	 * @param string $text Any text.
	 * @return string
	 */
	public function digits( $text ) {
		return $this->persian ? str_replace( array( '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' ), self::PERSIAN_DIGITS, (string) $text ) : (string) $text;
	}

	/**
	 * A date as the site formats it, in this formatter's digits.
	 *
	 * Persian digits are "Arabic numbers" to the Unicode bidirectional algorithm, which does
	 * not join them across "-": in right-to-left text 2026-05-01 would read 01-05-2026. So
	 * the date is wrapped in a first-strong isolate (U+2068 … U+2069): digits and
	 * separators keep their order, and a date with Persian month names stays right to left.
	 *
	 * @param string $text Formatted date.
	 * @return string
	 */
	public function date( $text ) {
		$text = $this->digits( $text );
		return $this->persian ? "\u{2068}" . $text . "\u{2069}" : $text;
	}

	/**
	 * A whole number, grouped by thousands: 1240 is "1,240" (or "۱٬۲۴۰").
	 *
	 * @param int|string $number An integer, or a string of digits with an optional minus.
	 * @return string
	 */
	public function integer( $number ) {
		$text = (string) $number;
		if ( 1 !== preg_match( '/^(-?)(\d+)$/D', $text, $match ) ) {
			return '';
		}
		return $this->digits( $match[1] ) . $this->digits( $this->group( ltrim( $match[2], '0' ) ) );
	}

	/**
	 * A decimal string with its own places kept: "12.40" is "12.40", "935000" is "935,000".
	 *
	 * @param string $amount Decimal string, optionally negative.
	 * @return string
	 */
	public function decimal( $amount ) {
		if ( 1 !== preg_match( '/^(-?)(\d+)(?:\.(\d+))?$/D', (string) $amount, $match ) ) {
			return '';
		}
		$text = $match[1] . $this->group( ltrim( $match[2], '0' ) );
		if ( isset( $match[3] ) && '' !== $match[3] ) {
			$text .= $this->point . $match[3];
		}
		return $this->digits( $text );
	}

	/**
	 * An amount with its currency, in the store's price format: "$12.40", "12.40 USD".
	 *
	 * @param string $amount   Decimal string.
	 * @param string $currency Currency symbol or code (plain text).
	 * @return string
	 */
	public function money( $amount, $currency ) {
		$number = $this->decimal( $amount );
		if ( '' === $number ) {
			return '';
		}
		return sprintf( $this->price_format, (string) $currency, $number );
	}

	/**
	 * Digits grouped by three from the right.
	 *
	 * @param string $digits Digits, no sign.
	 * @return string
	 */
	private function group( $digits ) {
		if ( '' === $digits ) {
			return '0';
		}
		$head   = strlen( $digits ) % 3;
		$groups = array();
		if ( $head > 0 ) {
			$groups[] = substr( $digits, 0, $head );
		}
		foreach ( str_split( substr( $digits, $head ), 3 ) as $group ) {
			if ( '' !== $group ) {
				$groups[] = $group;
			}
		}
		// The separator may be multibyte (٬), so it is joined, never reversed.
		return implode( $this->thousands, $groups );
	}
}
