<?php
/**
 * Numbers and money as customers read them.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Formatter.
 */
final class FormatterTest extends TestCase {

	/**
	 * Grouping of whole numbers.
	 */
	public function test_integers() {
		$english = new Bazgasht_Formatter( ',', '.' );
		$this->assertSame( '1,240', $english->integer( 1240 ) );
		$this->assertSame( '0', $english->integer( 0 ) );
		$this->assertSame( '999', $english->integer( 999 ) );
		$this->assertSame( '1,000,000', $english->integer( '1000000' ) );
		$this->assertSame( '-1,500', $english->integer( -1500 ) );
		$this->assertSame( '1 240', ( new Bazgasht_Formatter( ' ', ',' ) )->integer( 1240 ) );
		$this->assertSame( '', $english->integer( '12a' ), 'not a number: nothing, not a guess' );
	}

	/**
	 * Persian digits, and a multibyte thousands separator kept whole.
	 */
	public function test_persian_digits() {
		$persian = new Bazgasht_Formatter( '٬', '٫', true );
		$this->assertSame( '۱٬۲۴۰', $persian->integer( 1240 ) );
		$this->assertSame( '۹۳۵٬۰۰۰', $persian->decimal( '935000' ) );
		$this->assertSame( '۱۲٫۴۰', $persian->decimal( '12.40' ) );
		$this->assertSame( '۱۴۰۵/۰۲/۱۱', $persian->digits( '1405/02/11' ) );
		$this->assertSame( '-۵', $persian->integer( -5 ) );
	}

	/**
	 * Dates: Persian digits inside a first-strong isolate, so right-to-left text keeps
	 * 2026-05-01 in order; untouched otherwise.
	 */
	public function test_dates() {
		$this->assertSame( "\u{2068}۲۰۲۶-۰۵-۰۱ ۱۰:۰۰\u{2069}", ( new Bazgasht_Formatter( ',', '.', true ) )->date( '2026-05-01 10:00' ) );
		$this->assertSame( '2026-05-01', ( new Bazgasht_Formatter() )->date( '2026-05-01' ) );
	}

	/**
	 * Which locales get Persian digits.
	 */
	public function test_locale_choice() {
		$this->assertTrue( Bazgasht_Formatter::locale_uses_persian_digits( 'fa_IR' ) );
		$this->assertTrue( Bazgasht_Formatter::locale_uses_persian_digits( 'fa_AF' ) );
		$this->assertFalse( Bazgasht_Formatter::locale_uses_persian_digits( 'en_US' ) );
		$this->assertFalse( Bazgasht_Formatter::locale_uses_persian_digits( 'fr_FR' ) );
		$this->assertFalse( Bazgasht_Formatter::locale_uses_persian_digits( 'far' ) );
	}

	/**
	 * Money in the store's price format, decimals as given (never re-rounded).
	 */
	public function test_money() {
		$this->assertSame( '$12.40', ( new Bazgasht_Formatter( ',', '.', false, '%1$s%2$s' ) )->money( '12.40', '$' ) );
		$this->assertSame( '12.40 USD', ( new Bazgasht_Formatter() )->money( '12.40', 'USD' ) );
		$this->assertSame( '1.234,50 €', ( new Bazgasht_Formatter( '.', ',', false, '%2$s %1$s' ) )->money( '1234.50', '€' ) );
		$this->assertSame( '۹۳۵٬۰۰۰ تومان', ( new Bazgasht_Formatter( '٬', '.', true, '%2$s %1$s' ) )->money( '935000', 'تومان' ) );
		$this->assertSame( '', ( new Bazgasht_Formatter() )->money( 'NaN', 'USD' ) );
		$this->assertSame( '5.00 USD', ( new Bazgasht_Formatter( ',', '.', false, 'broken' ) )->money( '5.00', 'USD' ), 'a pattern without the amount falls back' );
	}
}
