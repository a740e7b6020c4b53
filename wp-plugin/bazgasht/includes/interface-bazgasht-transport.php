<?php
/**
 * How the API client reaches the backend: an interface, so tests can inject a fake.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * One HTTP exchange.
 */
interface Bazgasht_Transport {

	/**
	 * Send a request and return the answer, whatever its status.
	 *
	 * @param string                $method  HTTP method.
	 * @param string                $url     Absolute URL.
	 * @param array<string, string> $headers Request headers.
	 * @param string                $body    Raw body ("" for none).
	 * @param int                   $timeout Seconds for the whole exchange.
	 * @return Bazgasht_Http_Response
	 * @throws Bazgasht_Transport_Exception When no answer came (refused, timed out, DNS, TLS).
	 */
	public function send( $method, $url, array $headers, $body, $timeout );
}
