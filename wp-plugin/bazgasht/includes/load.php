<?php
/**
 * Loads the plugin's classes (the pure ones first: they need nothing of WordPress).
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/class-bazgasht-decimal.php';
require_once __DIR__ . '/class-bazgasht-fields.php';
require_once __DIR__ . '/class-bazgasht-program.php';
require_once __DIR__ . '/class-bazgasht-earn-estimate.php';
require_once __DIR__ . '/class-bazgasht-formatter.php';
require_once __DIR__ . '/class-bazgasht-loyalty-state.php';
require_once __DIR__ . '/class-bazgasht-history.php';
require_once __DIR__ . '/class-bazgasht-request-signer.php';
require_once __DIR__ . '/class-bazgasht-exceptions.php';
require_once __DIR__ . '/class-bazgasht-http-response.php';
require_once __DIR__ . '/interface-bazgasht-transport.php';
require_once __DIR__ . '/class-bazgasht-api-client.php';
require_once __DIR__ . '/class-bazgasht-wp-transport.php';
require_once __DIR__ . '/class-bazgasht-settings.php';
require_once __DIR__ . '/class-bazgasht-backend.php';
require_once __DIR__ . '/class-bazgasht-storefront.php';
