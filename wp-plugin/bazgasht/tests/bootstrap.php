<?php
/**
 * Test bootstrap: the plugin's classes with a minimal stand-in for the WordPress and
 * WooCommerce functions they call (tests/stubs/wordpress.php). No WordPress is loaded.
 *
 * @package Bazgasht
 */

error_reporting( E_ALL );

define( 'ABSPATH', __DIR__ . '/' );
define( 'BAZGASHT_VERSION', '0.1.0-test' );
define( 'BAZGASHT_PLUGIN_FILE', dirname( __DIR__ ) . '/bazgasht.php' );

require_once __DIR__ . '/stubs/wordpress.php';
require_once dirname( __DIR__ ) . '/includes/load.php';
require_once __DIR__ . '/stubs/class-fake-transport.php';
require_once __DIR__ . '/stubs/class-test-data.php';
require_once __DIR__ . '/stubs/class-test-mo.php';
