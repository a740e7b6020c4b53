<?php
/**
 * Installs the end-to-end site from the command line (standup.sh runs it; no WP-CLI needed):
 * WordPress, WooCommerce, the Bazgasht plugin, a REST API key, a customer and a product.
 *
 * Usage: php install-site.php SITE_ROOT URL BACKEND_URL STORE OUT_ENV_FILE
 *
 * Idempotent enough for a fresh database (standup.sh drops and creates it first).
 *
 * @package Bazgasht
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals, WordPress.WP.AlternativeFunctions, WordPress.Security.EscapeOutput

if ( 'cli' !== PHP_SAPI || 6 !== $argc ) {
	fwrite( STDERR, "usage: php install-site.php SITE_ROOT URL BACKEND_URL STORE OUT_ENV_FILE\n" );
	exit( 2 );
}
list( , $root, $url, $backend_url, $store, $env_file ) = $argv;

$parts                   = parse_url( $url );
$_SERVER['HTTP_HOST']    = $parts['host'] . ( isset( $parts['port'] ) ? ':' . $parts['port'] : '' );
$_SERVER['SERVER_NAME']  = $parts['host'];
$_SERVER['SERVER_PORT']  = isset( $parts['port'] ) ? (string) $parts['port'] : '80';
$_SERVER['REQUEST_URI']  = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
define( 'WP_INSTALLING', true );

require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

/**
 * Print a step.
 *
 * @param string $text What happened.
 */
function step( $text ) {
	fwrite( STDOUT, '  - ' . $text . "\n" );
}

// No mail leaves a loopback site (and there is no sendmail here).
add_filter( 'pre_wp_mail', '__return_false' );

if ( ! is_blog_installed() ) {
	$result = wp_install( 'Bazgasht E2E shop', 'admin', 'admin@shop.test', false, '', 'admin-password' );
	step( 'WordPress installed (admin / admin-password), user ' . $result['user_id'] );
}
update_option( 'siteurl', $url );
update_option( 'home', $url );
update_option( 'permalink_structure', '/%postname%/' );
update_option( 'timezone_string', 'UTC' );
update_option( 'date_format', 'Y-m-d' );
update_option( 'time_format', 'H:i' );

foreach ( array( 'woocommerce/woocommerce.php', 'bazgasht/bazgasht.php' ) as $plugin ) {
	$error = activate_plugin( $plugin );
	if ( is_wp_error( $error ) ) {
		fwrite( STDERR, $plugin . ': ' . $error->get_error_message() . "\n" );
		exit( 1 );
	}
	step( 'activated ' . $plugin );
}

// The store: USD with two decimals, cash on delivery (so checkout needs no payment service),
// coupons on, no onboarding wizard, no tracking, no marketplace calls.
foreach (
	array(
		'woocommerce_currency'                   => 'USD',
		'woocommerce_price_num_decimals'         => '2',
		'woocommerce_default_country'            => 'US:CA',
		'woocommerce_store_address'              => '1 Loopback Way',
		'woocommerce_store_city'                 => 'Localhost',
		'woocommerce_store_postcode'             => '90001',
		'woocommerce_enable_coupons'             => 'yes',
		'woocommerce_calc_taxes'                 => 'no',
		'woocommerce_allow_tracking'             => 'no',
		'woocommerce_show_marketplace_suggestions' => 'no',
		'woocommerce_onboarding_profile'         => array( 'skipped' => true ),
		'woocommerce_task_list_hidden'           => 'yes',
		'woocommerce_cod_settings'               => array(
			'enabled'     => 'yes',
			'title'       => 'Cash on delivery',
			'description' => 'Pay with cash upon delivery.',
		),
	) as $name => $value
) {
	update_option( $name, $value );
}
step( 'WooCommerce configured (USD, cash on delivery, coupons enabled)' );

// WooCommerce's own pages (My Account, cart, checkout) are made on activation; check.
foreach ( array( 'myaccount', 'cart', 'checkout', 'shop' ) as $page ) {
	if ( ! wc_get_page_id( $page ) || wc_get_page_id( $page ) < 1 ) {
		WC_Install::create_pages();
		break;
	}
}
step( 'pages: My Account ' . get_permalink( wc_get_page_id( 'myaccount' ) ) . ', cart ' . get_permalink( wc_get_page_id( 'cart' ) ) );

// A REST API key with read/write, as `bazgasht store add` needs.
global $wpdb;
$consumer_key    = 'ck_' . wc_rand_hash();
$consumer_secret = 'cs_' . wc_rand_hash();
$wpdb->insert(
	$wpdb->prefix . 'woocommerce_api_keys',
	array(
		'user_id'         => 1,
		'description'     => 'Bazgasht e2e',
		'permissions'     => 'read_write',
		'consumer_key'    => wc_api_hash( $consumer_key ),
		'consumer_secret' => $consumer_secret,
		'truncated_key'   => substr( $consumer_key, -7 ),
	)
);
step( 'REST API key made (read/write)' );

// A customer who can log in, and a product.
$customer_id = email_exists( 'sara@shop.test' );
if ( ! $customer_id ) {
	$customer_id = wc_create_new_customer( 'sara@shop.test', 'sara', 'sara-password', array( 'first_name' => 'Sara', 'display_name' => 'Sara' ) );
}
if ( is_wp_error( $customer_id ) ) {
	fwrite( STDERR, 'customer: ' . $customer_id->get_error_message() . "\n" );
	exit( 1 );
}
wp_update_user(
	array(
		'ID'           => $customer_id,
		'display_name' => 'Sara',
	)
);
step( 'customer sara@shop.test / sara-password, id ' . $customer_id );

$product = new WC_Product_Simple();
$product->set_name( 'Loopback mug' );
$product->set_slug( 'loopback-mug' );
$product->set_regular_price( '32.68' );
$product->set_status( 'publish' );
$product_id = $product->save();
step( 'product "Loopback mug" at 32.68, id ' . $product_id . ': ' . get_permalink( $product_id ) );

// The plugin: the backend is not running yet, so pages fall back to the pushed meta.
$secret = bin2hex( random_bytes( 32 ) );
update_option(
	'bazgasht_settings',
	array(
		'backend_url' => $backend_url,
		'store'       => $store,
	)
);
update_option( 'bazgasht_secret', $secret, false );
step( 'Bazgasht plugin set to ' . $backend_url . ', store ' . $store );

flush_rewrite_rules( false );
delete_option( 'bazgasht_flush_rewrite_rules' );

file_put_contents(
	$env_file,
	implode(
		"\n",
		array(
			'# Written by wp-plugin/e2e/install-site.php: secrets of a throw-away loopback site.',
			'E2E_URL=' . $url,
			'E2E_ADMIN=admin:admin-password',
			'E2E_CUSTOMER_ID=' . $customer_id,
			'E2E_CUSTOMER_LOGIN=sara:sara-password',
			'E2E_PRODUCT_ID=' . $product_id,
			'E2E_CONSUMER_KEY=' . $consumer_key,
			'E2E_CONSUMER_SECRET=' . $consumer_secret,
			'E2E_BACKEND_URL=' . $backend_url,
			'E2E_STORE=' . $store,
			'E2E_SHARED_SECRET=' . $secret,
			'',
		)
	)
);
chmod( $env_file, 0600 );
step( 'credentials written to ' . $env_file );
