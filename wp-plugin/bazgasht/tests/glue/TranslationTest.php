<?php
/**
 * Every customer- and owner-facing string has a Persian translation, and the compiled
 * catalogue matches its source.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * languages/bazgasht-fa_IR.po and .mo against the plugin's source.
 */
final class TranslationTest extends TestCase {

	/**
	 * Translation functions: name => positions of the singular and plural arguments.
	 */
	const FUNCTIONS = array(
		'__'         => array( 0 ),
		'_e'         => array( 0 ),
		'esc_html__' => array( 0 ),
		'esc_html_e' => array( 0 ),
		'esc_attr__' => array( 0 ),
		'_n'         => array( 0, 1 ),
	);

	/**
	 * The strings the source asks to translate (plural pairs keyed "singular\0plural").
	 *
	 * @return array<string, true>
	 */
	private static function source_strings() {
		$root  = dirname( __DIR__, 2 );
		$files = array_merge( array( $root . '/bazgasht.php' ), glob( $root . '/includes/*.php' ) );
		$found = array();
		foreach ( $files as $file ) {
			$tokens = token_get_all( (string) file_get_contents( $file ) );
			$count  = count( $tokens );
			for ( $i = 0; $i < $count; $i++ ) {
				if ( ! is_array( $tokens[ $i ] ) || T_STRING !== $tokens[ $i ][0] || ! isset( self::FUNCTIONS[ $tokens[ $i ][1] ] ) ) {
					continue;
				}
				$args = self::literal_arguments( $tokens, $i + 1 );
				$want = self::FUNCTIONS[ $tokens[ $i ][1] ];
				$key  = implode( "\0", array_map( static function ( $n ) use ( $args ) { return $args[ $n ]; }, $want ) );
				$found[ $key ] = true;
			}
		}
		return $found;
	}

	/**
	 * The string literals that are whole arguments of a call starting at $i.
	 *
	 * @param array $tokens Tokens.
	 * @param int   $i      Index after the function name.
	 * @return array<int, string|null>
	 */
	private static function literal_arguments( array $tokens, $i ) {
		while ( is_array( $tokens[ $i ] ) && T_WHITESPACE === $tokens[ $i ][0] ) {
			++$i;
		}
		$args  = array();
		$depth = 0;
		$parts = array();
		for ( ++$i; $i < count( $tokens ); $i++ ) {
			$token = $tokens[ $i ];
			$text  = is_array( $token ) ? $token[1] : $token;
			if ( in_array( $text, array( '(', '[' ), true ) ) {
				++$depth;
			} elseif ( in_array( $text, array( ')', ']' ), true ) && $depth > 0 ) {
				--$depth;
			} elseif ( 0 === $depth && ( ',' === $text || ')' === $text ) ) {
				$args[] = ( 1 === count( $parts ) && T_CONSTANT_ENCAPSED_STRING === $parts[0][0] ) ? eval( 'return ' . $parts[0][1] . ';' ) : null; // phpcs:ignore Squiz.PHP.Eval.Discouraged -- a PHP string literal from our own source.
				$parts  = array();
				if ( ')' === $text ) {
					return $args;
				}
				continue;
			}
			if ( is_array( $token ) && in_array( $token[0], array( T_WHITESPACE, T_COMMENT ), true ) ) {
				continue;
			}
			$parts[] = is_array( $token ) ? $token : array( 0, $token );
		}
		return $args;
	}

	/**
	 * Every string of the source is translated in the compiled Persian catalogue, with the
	 * same placeholders.
	 */
	public function test_every_string_is_translated() {
		$catalogue = Bazgasht_Test_Mo::read( dirname( __DIR__, 2 ) . '/languages/bazgasht-fa_IR.mo' );
		$strings   = self::source_strings();
		$this->assertGreaterThan( 80, count( $strings ) );
		foreach ( array_keys( $strings ) as $key ) {
			$this->assertStringNotContainsString( "\0\0", $key . "\0", 'a translation call without a literal string' );
			$this->assertArrayHasKey( $key, $catalogue, 'not translated: ' . $key );
			preg_match_all( '/%(\d+\$)?[sd]/', explode( "\0", $key )[0], $want );
			foreach ( explode( "\0", $catalogue[ $key ] ) as $form ) {
				preg_match_all( '/%(\d+\$)?[sd]/', $form, $have );
				sort( $want[0] );
				sort( $have[0] );
				$this->assertSame( $want[0], $have[0], 'placeholders differ in: ' . $form );
				$this->assertMatchesRegularExpression( '/\p{Arabic}/u', $form, 'not Persian: ' . $form );
			}
		}
	}

	/**
	 * The .mo is compiled from the .po as it stands (msgfmt is run when it is installed).
	 */
	public function test_mo_matches_po() {
		$dir = dirname( __DIR__, 2 ) . '/languages';
		if ( '' === trim( (string) shell_exec( 'command -v msgfmt' ) ) ) {
			$this->markTestSkipped( 'msgfmt is not installed' );
		}
		$out = tempnam( sys_get_temp_dir(), 'bazgasht-mo' );
		exec( 'msgfmt --check -o ' . escapeshellarg( $out ) . ' ' . escapeshellarg( $dir . '/bazgasht-fa_IR.po' ) . ' 2>&1', $output, $status );
		$this->assertSame( 0, $status, implode( "\n", $output ) );
		$this->assertEquals( Bazgasht_Test_Mo::read( $out ), Bazgasht_Test_Mo::read( $dir . '/bazgasht-fa_IR.mo' ), 'run: msgfmt -o languages/bazgasht-fa_IR.mo languages/bazgasht-fa_IR.po' );
		unlink( $out );
	}

	/**
	 * The styles exist in both directions, and the RTL copy mirrors the sides.
	 */
	public function test_rtl_styles() {
		$dir = dirname( __DIR__, 2 ) . '/assets/css';
		$ltr = (string) file_get_contents( $dir . '/bazgasht.css' );
		$rtl = (string) file_get_contents( $dir . '/bazgasht-rtl.css' );
		$this->assertStringContainsString( 'direction: rtl', $rtl );
		$this->assertSame( substr_count( $ltr, 'left' ), substr_count( $rtl, 'right' ) );
		$this->assertSame( substr_count( $ltr, 'right' ), substr_count( $rtl, 'left' ) );
	}
}
