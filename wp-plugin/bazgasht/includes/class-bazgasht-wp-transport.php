<?php
/**
 * The production transport: WordPress's HTTP API.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Sends with wp_remote_request(). Not wp_safe_remote_request(): the backend's address is
 * the shop owner's own setting and may well be on the same host (127.0.0.1).
 */
final class Bazgasht_WP_Transport implements Bazgasht_Transport {

	/**
	 * Send a request.
	 *
	 * @param string                $method  HTTP method.
	 * @param string                $url     Absolute URL.
	 * @param array<string, string> $headers Request headers.
	 * @param string                $body    Raw body.
	 * @param int                   $timeout Seconds.
	 * @return Bazgasht_Http_Response
	 * @throws Bazgasht_Transport_Exception When no answer came.
	 */
	public function send( $method, $url, array $headers, $body, $timeout ) {
		$args = array(
			'method'      => $method,
			'headers'     => $headers,
			'timeout'     => $timeout,
			'redirection' => 0,
			'user-agent'  => 'Bazgasht-WordPress/' . BAZGASHT_VERSION,
		);
		if ( '' !== $body ) {
			$args['body'] = $body;
		}
		$response = wp_remote_request( $url, $args );
		if ( is_wp_error( $response ) ) {
			throw new Bazgasht_Transport_Exception( $response->get_error_message() );
		}
		return new Bazgasht_Http_Response( (int) wp_remote_retrieve_response_code( $response ), (string) wp_remote_retrieve_body( $response ) );
	}
}
