<?php
/**
 * What can go wrong talking to the backend, split by what the caller should do.
 *
 *     Bazgasht_Api_Exception            every failure of the storefront API
 *       Bazgasht_Backend_Unavailable    no usable answer: fall back to the pushed meta and
 *                                       tell the customer redemption is unavailable for now
 *                                       (network, timeout, 5xx, 401, a malformed answer)
 *       Bazgasht_Api_Refusal            the backend answered and said no, with an error code
 *                                       (400, 404, 409, 422): show the customer why
 *     Bazgasht_Transport_Exception      a transport's "no answer at all" (mapped to
 *                                       Bazgasht_Backend_Unavailable by the client)
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Root of the API client's errors. The message is for logs and the settings page, never
 * for customers, and never holds the shared secret.
 */
class Bazgasht_Api_Exception extends RuntimeException {

	/**
	 * The backend's error code ("insufficient_balance"), or a local one ("unreachable").
	 *
	 * @var string
	 */
	public $error_code;

	/**
	 * HTTP status, 0 when there was no answer.
	 *
	 * @var int
	 */
	public $http_status;

	/**
	 * Constructor.
	 *
	 * @param string $error_code  Machine-readable code.
	 * @param string $message     Human-readable detail.
	 * @param int    $http_status HTTP status (0: no answer).
	 */
	public function __construct( $error_code, $message, $http_status = 0 ) {
		parent::__construct( $message );
		$this->error_code  = (string) $error_code;
		$this->http_status = (int) $http_status;
	}
}

/**
 * No usable answer from the backend.
 */
class Bazgasht_Backend_Unavailable extends Bazgasht_Api_Exception {
}

/**
 * The backend answered with an error that the customer can be told about.
 */
class Bazgasht_Api_Refusal extends Bazgasht_Api_Exception {
}

/**
 * A transport got no answer (thrown by Bazgasht_Transport implementations).
 */
class Bazgasht_Transport_Exception extends RuntimeException {
}
