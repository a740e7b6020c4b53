<?php
/**
 * Plugin Name:       Bazgasht loyalty
 * Description:       Shows customers the loyalty points Bazgasht keeps for them (My Account, cart, checkout, product pages) and lets them spend points as a coupon.
 * Version:           0.1.0
 * Requires at least: 6.2
 * Requires PHP:      7.4
 * Requires Plugins:  woocommerce
 * Author:            Bazgasht
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       bazgasht
 * Domain Path:       /languages
 * WC requires at least: 8.2
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

define( 'BAZGASHT_VERSION', '0.1.0' );
define( 'BAZGASHT_PLUGIN_FILE', __FILE__ );

require_once __DIR__ . '/includes/load.php';

/**
 * Wire the plugin once WooCommerce is loaded (nothing of it works without WooCommerce).
 */
function bazgasht_boot() {
	load_plugin_textdomain( 'bazgasht', false, dirname( plugin_basename( BAZGASHT_PLUGIN_FILE ) ) . '/languages' );
	$settings = new Bazgasht_Settings();
	$settings->register();
	if ( ! class_exists( 'WooCommerce' ) ) {
		return;
	}
	$backend           = new Bazgasht_Backend( $settings );
	$settings->backend = $backend;
	$storefront        = new Bazgasht_Storefront( $backend, bazgasht_formatter() );
	$storefront->register();
}
add_action( 'plugins_loaded', 'bazgasht_boot' );

/**
 * The formatter for this site: WooCommerce's separators and price format, and Persian
 * digits when the site's language is Persian (filter: bazgasht_persian_digits).
 *
 * @return Bazgasht_Formatter
 */
function bazgasht_formatter() {
	$locale = function_exists( 'determine_locale' ) ? determine_locale() : get_locale();
	/**
	 * Whether numbers are written in Persian digits.
	 *
	 * @param bool   $persian Default: the locale is Persian (fa_IR, fa_AF).
	 * @param string $locale  The locale.
	 */
	$persian = (bool) apply_filters( 'bazgasht_persian_digits', Bazgasht_Formatter::locale_uses_persian_digits( $locale ), $locale );
	return new Bazgasht_Formatter(
		wc_get_price_thousand_separator(),
		wc_get_price_decimal_separator(),
		$persian,
		html_entity_decode( get_woocommerce_price_format(), ENT_QUOTES, 'UTF-8' )
	);
}

/**
 * On activation: the Points endpoint needs new rewrite rules, made once WooCommerce has
 * registered its endpoints (next request's init).
 */
function bazgasht_activate() {
	update_option( 'bazgasht_flush_rewrite_rules', 1 );
}
register_activation_hook( __FILE__, 'bazgasht_activate' );

/**
 * Flush the rewrite rules after activation, once.
 */
function bazgasht_maybe_flush_rewrite_rules() {
	if ( get_option( 'bazgasht_flush_rewrite_rules' ) ) {
		delete_option( 'bazgasht_flush_rewrite_rules' );
		flush_rewrite_rules();
	}
}
add_action( 'init', 'bazgasht_maybe_flush_rewrite_rules', 99 );
