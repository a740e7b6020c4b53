<?php
/**
 * The WordPress and WooCommerce functions the plugin calls, reduced to what the tests need.
 *
 * Escaping behaves like WordPress's (HTML special characters become entities), so the tests
 * can tell escaped from raw output. Everything the functions read or write lives in
 * $GLOBALS['bazgasht_test'], reset by bazgasht_test_reset() before each test.
 *
 * @package Bazgasht
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals, Squiz.Commenting.FunctionComment.Missing, Generic.Files.OneObjectStructurePerFile

/**
 * Empty the stand-in WordPress: no options, users, notices or hooks.
 */
function bazgasht_test_reset() {
	$GLOBALS['bazgasht_test'] = array(
		'options'      => array(
			'date_format' => 'Y-m-d',
			'time_format' => 'H:i',
		),
		'transients'   => array(),
		'user_meta'    => array(),
		'users'        => array(),
		'current_user' => 0,
		'caps'         => array(),
		'notices'      => array(),
		'translations' => array(),
		'filters'      => array(),
		'actions'      => array(),
		'remote'       => null,
		'cart'         => null,
		'session'      => null,
		'wc_currency'  => 'USD',
	);
}
bazgasht_test_reset();

// ---------------------------------------------------------------- translation and escaping

function __( $text, $domain = 'default' ) {
	$map = $GLOBALS['bazgasht_test']['translations'];
	return 'bazgasht' === $domain && isset( $map[ $text ] ) && '' !== $map[ $text ] ? $map[ $text ] : $text;
}

function _n( $single, $plural, $number, $domain = 'default' ) {
	$key = $single . "\0" . $plural;
	$map = $GLOBALS['bazgasht_test']['translations'];
	if ( 'bazgasht' === $domain && isset( $map[ $key ] ) ) {
		$forms = explode( "\0", $map[ $key ] );
		$index = 1 === (int) $number ? 0 : 1;
		return isset( $forms[ $index ] ) ? $forms[ $index ] : $forms[0];
	}
	return 1 === (int) $number ? $single : $plural;
}

function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_html__( $text, $domain = 'default' ) {
	return esc_html( __( $text, $domain ) );
}

function esc_url( $url ) {
	return htmlspecialchars( (string) $url, ENT_QUOTES, 'UTF-8' );
}

function esc_url_raw( $url, $protocols = null ) {
	$url = (string) $url;
	if ( '' === $url ) {
		return '';
	}
	$scheme = strtolower( (string) parse_url( $url, PHP_URL_SCHEME ) );
	return in_array( $scheme, null === $protocols ? array( 'http', 'https' ) : $protocols, true ) ? $url : '';
}

function sanitize_text_field( $text ) {
	return trim( preg_replace( '/[\r\n\t ]+/', ' ', wp_strip_all_tags_stub( (string) $text ) ) );
}

function wp_strip_all_tags_stub( $text ) {
	return strip_tags( $text );
}

function sanitize_key( $key ) {
	return preg_replace( '/[^a-z0-9_\-]/', '', strtolower( (string) $key ) );
}

function wp_unslash( $value ) {
	return is_string( $value ) ? stripslashes( $value ) : $value;
}

// ---------------------------------------------------------------- options, transients, meta

function get_option( $name, $default = false ) {
	return array_key_exists( $name, $GLOBALS['bazgasht_test']['options'] ) ? $GLOBALS['bazgasht_test']['options'][ $name ] : $default;
}

function update_option( $name, $value, $autoload = null ) {
	$GLOBALS['bazgasht_test']['options'][ $name ] = $value;
	return true;
}

function delete_option( $name ) {
	unset( $GLOBALS['bazgasht_test']['options'][ $name ] );
	return true;
}

function get_transient( $name ) {
	return isset( $GLOBALS['bazgasht_test']['transients'][ $name ] ) ? $GLOBALS['bazgasht_test']['transients'][ $name ] : false;
}

function set_transient( $name, $value, $ttl = 0 ) {
	$GLOBALS['bazgasht_test']['transients'][ $name ] = $value;
	return true;
}

function delete_transient( $name ) {
	unset( $GLOBALS['bazgasht_test']['transients'][ $name ] );
	return true;
}

function get_user_meta( $user_id, $key = '', $single = false ) {
	$meta = $GLOBALS['bazgasht_test']['user_meta'];
	return isset( $meta[ $user_id ][ $key ] ) ? $meta[ $user_id ][ $key ] : ( $single ? '' : array() );
}

function get_userdata( $user_id ) {
	return isset( $GLOBALS['bazgasht_test']['users'][ $user_id ] ) ? $GLOBALS['bazgasht_test']['users'][ $user_id ] : false;
}

function get_current_user_id() {
	return $GLOBALS['bazgasht_test']['current_user'];
}

function current_user_can( $capability ) {
	return in_array( $capability, $GLOBALS['bazgasht_test']['caps'], true );
}

// ---------------------------------------------------------------- hooks

function add_action( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['bazgasht_test']['actions'][ $hook ][] = $callback;
	return true;
}

function add_filter( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['bazgasht_test']['filters'][ $hook ][] = $callback;
	return true;
}

function apply_filters( $hook, $value, ...$args ) {
	foreach ( isset( $GLOBALS['bazgasht_test']['filters'][ $hook ] ) ? $GLOBALS['bazgasht_test']['filters'][ $hook ] : array() as $callback ) {
		$value = call_user_func( $callback, $value, ...$args );
	}
	return $value;
}

// ---------------------------------------------------------------- nonces, URLs, dates

function wp_create_nonce( $action ) {
	return substr( md5( 'nonce:' . $action . ':' . get_current_user_id() ), 0, 10 );
}

function wp_verify_nonce( $nonce, $action ) {
	return is_string( $nonce ) && hash_equals( wp_create_nonce( $action ), $nonce ) ? 1 : false;
}

function wp_nonce_field( $action, $name = '_wpnonce', $referer = true, $display = true ) {
	return '<input type="hidden" name="' . esc_attr( $name ) . '" value="' . esc_attr( wp_create_nonce( $action ) ) . '" />';
}

function check_admin_referer( $action ) {
	// phpcs:ignore WordPress.Security.NonceVerification.Missing
	if ( ! isset( $_POST['_wpnonce'] ) || ! wp_verify_nonce( $_POST['_wpnonce'], $action ) ) {
		throw new Bazgasht_Test_Died( 'nonce check failed' );
	}
	return 1;
}

function wp_die( $message = '', $code = 500 ) {
	throw new Bazgasht_Test_Died( (string) $message );
}

function admin_url( $path = '' ) {
	return 'https://shop.test/wp-admin/' . $path;
}

function add_query_arg( array $args, $url ) {
	return $url . ( false === strpos( $url, '?' ) ? '?' : '&' ) . http_build_query( $args );
}

function wp_parse_url( $url, $component = -1 ) {
	return parse_url( $url, $component );
}

function wp_date( $format, $timestamp ) {
	return gmdate( $format, $timestamp );
}

function plugins_url( $path, $file ) {
	return 'https://shop.test/wp-content/plugins/bazgasht/' . $path;
}

// ---------------------------------------------------------------- HTTP

class WP_Error {
	private $message;

	public function __construct( $code = '', $message = '' ) {
		$this->message = $message;
	}

	public function get_error_message() {
		return $this->message;
	}
}

function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}

function wp_remote_request( $url, $args ) {
	$GLOBALS['bazgasht_test']['remote_sent'] = array( $url, $args );
	return $GLOBALS['bazgasht_test']['remote'];
}

function wp_remote_retrieve_response_code( $response ) {
	return $response['response']['code'];
}

function wp_remote_retrieve_body( $response ) {
	return $response['body'];
}

// ---------------------------------------------------------------- WooCommerce

function wc_add_notice( $message, $type = 'success' ) {
	$GLOBALS['bazgasht_test']['notices'][] = array( $type, $message );
}

function wc_get_cart_url() {
	return 'https://shop.test/cart/';
}

function wc_get_checkout_url() {
	return 'https://shop.test/checkout/';
}

function wc_get_account_endpoint_url( $endpoint ) {
	return 'https://shop.test/my-account/' . $endpoint . '/';
}

function get_woocommerce_currency_symbol( $currency = '' ) {
	$symbols = array(
		'USD' => '&#36;',
		'IRT' => 'تومان',
	);
	$currency = '' === $currency ? $GLOBALS['bazgasht_test']['wc_currency'] : $currency;
	return isset( $symbols[ $currency ] ) ? $symbols[ $currency ] : $currency;
}

function wc_format_decimal( $number, $dp = false ) {
	return is_float( $number ) || is_int( $number ) ? number_format( (float) $number, (int) $dp, '.', '' ) : (string) $number;
}

function wc_get_price_including_tax( $product, $args = array() ) {
	return (float) $args['price'] * ( 1 + $product->tax_rate );
}

function wc_get_price_excluding_tax( $product, $args = array() ) {
	return (float) $args['price'];
}

/**
 * The cart and session the tests set up.
 */
function WC() {
	return (object) array(
		'cart'    => $GLOBALS['bazgasht_test']['cart'],
		'session' => $GLOBALS['bazgasht_test']['session'],
	);
}

/**
 * What wp_die() and failed nonce checks throw in tests.
 */
class Bazgasht_Test_Died extends RuntimeException {
}

/**
 * What the stand-in redirect throws, carrying the URL.
 */
class Bazgasht_Test_Redirect extends RuntimeException {
}

/**
 * A cart that records applied coupons.
 */
class Bazgasht_Test_Cart {
	public $coupons = array();
	public $contents_total;
	public $contents_tax;

	public function __construct( $contents_total = 0.0, $contents_tax = 0.0 ) {
		$this->contents_total = $contents_total;
		$this->contents_tax   = $contents_tax;
	}

	public function has_discount( $code ) {
		return in_array( $code, $this->coupons, true );
	}

	public function apply_coupon( $code ) {
		$this->coupons[] = $code;
		return true;
	}

	public function get_cart_contents_total() {
		return $this->contents_total;
	}

	public function get_cart_contents_tax() {
		return $this->contents_tax;
	}
}

/**
 * A WooCommerce session.
 */
class Bazgasht_Test_Session {
	public $data = array();

	public function get( $key ) {
		return isset( $this->data[ $key ] ) ? $this->data[ $key ] : null;
	}

	public function set( $key, $value ) {
		$this->data[ $key ] = $value;
	}
}

/**
 * A simple product with a price and a tax rate.
 */
class Bazgasht_Test_Product {
	public $price;
	public $tax_rate;

	public function __construct( $price, $tax_rate = 0.0 ) {
		$this->price    = $price;
		$this->tax_rate = $tax_rate;
	}

	public function get_price() {
		return $this->price;
	}
}

/**
 * A variable product with a price range.
 */
class Bazgasht_Test_Variable_Product extends Bazgasht_Test_Product {
	public $max;

	public function __construct( $min, $max ) {
		parent::__construct( $min );
		$this->max = $max;
	}

	public function get_variation_price( $which = 'min' ) {
		return 'min' === $which ? $this->price : $this->max;
	}
}
