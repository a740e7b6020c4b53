<?php
/**
 * A stand-in for `bazgasht serve`'s storefront API, for the end-to-end site until the real
 * server exists: it checks requests exactly as docs/storefront-api.md says (signature,
 * ±300 s, nonce replay), serves one customer's points from a JSON file, and redeems by
 * creating a real coupon through the shop's WooCommerce REST API, once per request id.
 *
 *   E2E_ENV=/work/e2e/site/e2e.env php -S 127.0.0.1:8700 wp-plugin/e2e/stub-backend.php
 *
 * It is test scaffolding, not a model of the ledger: a redemption just lowers the balance.
 *
 * @package Bazgasht
 */

// phpcs:disable WordPress.WP.AlternativeFunctions, WordPress.NamingConventions.PrefixAllGlobals, WordPress.Security

$env = parse_ini_file( (string) getenv( 'E2E_ENV' ), false, INI_SCANNER_RAW );
if ( ! $env ) {
	fwrite( STDERR, "set E2E_ENV to the site's e2e.env\n" );
	exit( 1 );
}
$state_file = dirname( (string) getenv( 'E2E_ENV' ) ) . '/stub-state.json';

/**
 * Answer with JSON and stop.
 *
 * @param int   $status HTTP status.
 * @param array $body   Answer.
 */
function answer( $status, array $body ) {
	http_response_code( $status );
	header( 'Content-Type: application/json' );
	echo json_encode( $body, JSON_UNESCAPED_SLASHES );
	exit;
}

/**
 * An error answer.
 *
 * @param int    $status HTTP status.
 * @param string $code   Error code.
 * @param string $message Message.
 * @param array  $extra  Extra fields.
 */
function refuse( $status, $code, $message, array $extra = array() ) {
	answer( $status, array( 'error' => array( 'code' => $code, 'message' => $message ) + $extra ) );
}

/**
 * Read, change and write the stub's state under a lock.
 *
 * @param string   $file   State file.
 * @param callable $change fn( array $state ): array{0: array, 1: mixed}.
 * @return mixed What $change returned second.
 */
function with_state( $file, callable $change ) {
	$handle = fopen( $file, 'c+' );
	flock( $handle, LOCK_EX );
	$state = json_decode( (string) stream_get_contents( $handle ), true );
	if ( ! is_array( $state ) ) {
		$state = array( 'balance' => 1340, 'spendable' => 1240, 'nonces' => array(), 'redemptions' => array() );
	}
	list( $state, $result ) = $change( $state );
	ftruncate( $handle, 0 );
	rewind( $handle );
	fwrite( $handle, json_encode( $state, JSON_PRETTY_PRINT ) );
	flock( $handle, LOCK_UN );
	fclose( $handle );
	return $result;
}

// ------------------------------------------------------------------ authentication (v1)
$method = $_SERVER['REQUEST_METHOD'];
$path   = parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH );
$raw_q  = (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_QUERY );
$body   = (string) file_get_contents( 'php://input' );
$ts     = isset( $_SERVER['HTTP_X_BAZGASHT_TIMESTAMP'] ) ? $_SERVER['HTTP_X_BAZGASHT_TIMESTAMP'] : '';
$nonce  = isset( $_SERVER['HTTP_X_BAZGASHT_NONCE'] ) ? $_SERVER['HTTP_X_BAZGASHT_NONCE'] : '';
$sig    = isset( $_SERVER['HTTP_X_BAZGASHT_SIGNATURE'] ) ? $_SERVER['HTTP_X_BAZGASHT_SIGNATURE'] : '';
if ( ! preg_match( '/^\d{1,12}$/D', $ts ) || ! preg_match( '/^[0-9a-f]{32}$/D', $nonce ) || ! preg_match( '/^v1=[0-9a-f]{64}$/D', $sig ) ) {
	refuse( 401, 'missing_auth', 'X-Bazgasht-Timestamp, -Nonce and -Signature are required' );
}
if ( ! preg_match( '#^/storefront/v1/stores/([^/]+)(/.*)?$#', $path, $m ) || $m[1] !== $env['E2E_STORE'] ) {
	refuse( 401, 'unknown_store', 'no such store' );
}
if ( abs( time() - (int) $ts ) > 300 ) {
	refuse( 401, 'stale_timestamp', 'the timestamp is more than 300 s off', array( 'server_time' => time() ) );
}
// The canonical query rebuilt from the parsed parameters (the plugin sends it canonical).
$pairs = array();
foreach ( '' === $raw_q ? array() : explode( '&', $raw_q ) as $pair ) {
	list( $name, $value ) = array_pad( explode( '=', $pair, 2 ), 2, '' );
	$pairs[]              = array( rawurlencode( rawurldecode( $name ) ), rawurlencode( rawurldecode( $value ) ) );
}
usort(
	$pairs,
	static function ( $a, $b ) {
		return strcmp( $a[0], $b[0] ) ?: strcmp( $a[1], $b[1] ); // Byte order, never numeric.
	}
);
$query   = implode( '&', array_map( static function ( $p ) { return $p[0] . '=' . $p[1]; }, $pairs ) );
$message = implode( "\n", array( 'v1', $method, $path, $query, $ts, $nonce, hash( 'sha256', $body ) ) );
if ( ! hash_equals( 'v1=' . hash_hmac( 'sha256', $message, $env['E2E_SHARED_SECRET'] ), $sig ) ) {
	refuse( 401, 'bad_signature', 'the signature does not match' );
}
$replayed = with_state(
	$state_file,
	static function ( $state ) use ( $nonce ) {
		$state['nonces'] = array_filter( $state['nonces'], static function ( $seen ) { return $seen > time() - 600; } );
		$seen            = isset( $state['nonces'][ $nonce ] );
		$state['nonces'][ $nonce ] = time();
		return array( $state, $seen );
	}
);
if ( $replayed ) {
	refuse( 401, 'replayed_nonce', 'this nonce was seen in the last 600 s' );
}

// ------------------------------------------------------------------ endpoints
$rest       = isset( $m[2] ) ? $m[2] : '';
$customer   = (int) $env['E2E_CUSTOMER_ID'];
$iso        = static function ( $t ) { return gmdate( 'Y-m-d\TH:i:s\Z', $t ); };
if ( 'GET' === $method && '/program' === $rest ) {
	answer(
		200,
		array(
			'store' => $env['E2E_STORE'], 'currency' => 'USD', 'decimals' => 2, 'point_value' => '0.01',
			'cashback_percent' => '2', 'cashback_base' => 'paid', 'cashback_from_order' => 1, 'welcome_points' => 100,
			'second_purchase_points' => 200, 'min_redeem_points' => 500, 'coupon_valid_days' => 90, 'pending_days' => 0,
		)
	);
}
if ( ! preg_match( '#^/customers/(\d+)(/history|/redemptions)?$#', $rest, $c ) ) {
	refuse( 404, 'not_found', 'no such endpoint' );
}
if ( (int) $c[1] !== $customer ) {
	refuse( 404, 'unknown_customer', 'the backend does not know this customer' );
}
$what  = isset( $c[2] ) ? $c[2] : '';
$state = with_state( $state_file, static function ( $s ) { return array( $s, $s ); } );
if ( 'GET' === $method && '' === $what ) {
	$coupons = array();
	foreach ( $state['redemptions'] as $r ) {
		$coupons[] = array( 'code' => $r['code'], 'amount' => $r['amount'], 'expires_at' => $r['expires_at'], 'status' => 'issued' );
	}
	answer(
		200,
		array(
			'customer_id' => $customer, 'balance' => $state['balance'], 'spendable' => $state['spendable'], 'pending' => 0,
			'value' => number_format( $state['spendable'] / 100, 2, '.', '' ), 'currency' => 'USD', 'expiring' => null,
			'min_redeem_points' => 500, 'can_redeem' => $state['spendable'] >= 500, 'coupons' => $coupons, 'updated_at' => $iso( time() ),
		)
	);
}
if ( 'GET' === $method && '/history' === $what ) {
	$entries = array( array( 'at' => '2026-04-02T09:00:00Z', 'points' => 1340, 'kind' => 'manual', 'source' => 'manual', 'reason' => 'Opening balance <b>for the e2e run</b>', 'order_id' => null, 'coupon_code' => null ) );
	foreach ( $state['redemptions'] as $r ) {
		array_unshift( $entries, array( 'at' => $r['at'], 'points' => -$r['points'], 'kind' => 'redemption', 'source' => 'redemption', 'reason' => 'redeemed', 'order_id' => null, 'coupon_code' => $r['code'] ) );
	}
	answer( 200, array( 'entries' => $entries ) );
}
if ( 'POST' === $method && '/redemptions' === $what ) {
	$input = json_decode( $body, true );
	if ( ! is_array( $input ) || ! isset( $input['points'], $input['request_id'] ) || ! is_int( $input['points'] ) ) {
		refuse( 422, 'invalid_points', 'points must be an integer' );
	}
	$request = strtolower( (string) $input['request_id'] );
	if ( isset( $state['redemptions'][ $request ] ) ) {
		$r = $state['redemptions'][ $request ];
		if ( $r['points'] !== $input['points'] ) {
			refuse( 409, 'request_id_conflict', 'this request id was used for other points' );
		}
		answer( 201, $r['answer'] );
	}
	if ( $input['points'] < 500 ) {
		refuse( 422, 'below_minimum', 'at least 500 points' );
	}
	if ( $input['points'] > $state['spendable'] ) {
		refuse( 422, 'insufficient_balance', 'not that many points' );
	}
	$number = count( $state['redemptions'] ) + 1;
	$code   = 'bz-e2e0-' . $number . '-' . substr( md5( $request ), 0, 4 );
	$amount = number_format( $input['points'] / 100, 2, '.', '' );
	$expiry = time() + 90 * 86400;
	// The coupon, on the shop, through its REST API (Basic auth; the proxy header stands for TLS).
	$curl = curl_init( $env['E2E_URL'] . '/wp-json/wc/v3/coupons' );
	curl_setopt_array(
		$curl,
		array(
			CURLOPT_POST           => true,
			CURLOPT_RETURNTRANSFER => true,
			CURLOPT_TIMEOUT        => 8,
			CURLOPT_USERPWD        => $env['E2E_CONSUMER_KEY'] . ':' . $env['E2E_CONSUMER_SECRET'],
			CURLOPT_HTTPHEADER     => array( 'Content-Type: application/json', 'X-Forwarded-Proto: https' ),
			CURLOPT_POSTFIELDS     => json_encode(
				array(
					'code' => $code, 'discount_type' => 'fixed_cart', 'amount' => $amount, 'individual_use' => false,
					'usage_limit' => 1, 'usage_limit_per_user' => 1, 'email_restrictions' => array( 'sara@shop.test' ),
					'date_expires' => gmdate( 'Y-m-d\TH:i:s', $expiry ),
				)
			),
		)
	);
	$made   = curl_exec( $curl );
	$status = curl_getinfo( $curl, CURLINFO_RESPONSE_CODE );
	if ( 201 !== $status ) {
		refuse( 503, 'unavailable', 'the shop did not create the coupon: HTTP ' . $status . ' ' . substr( (string) $made, 0, 200 ) );
	}
	$answer = array( 'redemption_id' => $number, 'code' => $code, 'points' => $input['points'], 'amount' => $amount, 'currency' => 'USD', 'expires_at' => $iso( $expiry ), 'status' => 'issued' );
	with_state(
		$state_file,
		static function ( $s ) use ( $request, $input, $code, $amount, $expiry, $answer, $iso ) {
			$s['balance']                  -= $input['points'];
			$s['spendable']                -= $input['points'];
			$s['redemptions'][ $request ]   = array( 'points' => $input['points'], 'code' => $code, 'amount' => $amount, 'expires_at' => $iso( $expiry ), 'at' => $iso( time() ), 'answer' => $answer );
			return array( $s, null );
		}
	);
	answer( 201, $answer );
}
refuse( 400, 'bad_request', 'no such endpoint' );
