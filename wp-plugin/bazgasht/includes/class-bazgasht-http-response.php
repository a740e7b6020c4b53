<?php
/**
 * An HTTP answer, as a transport returns it.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Status and raw body (headers are not needed by the client).
 */
final class Bazgasht_Http_Response {

	/**
	 * HTTP status code.
	 *
	 * @var int
	 */
	public $status;

	/**
	 * Raw body.
	 *
	 * @var string
	 */
	public $body;

	/**
	 * Constructor.
	 *
	 * @param int    $status HTTP status code.
	 * @param string $body   Raw body.
	 */
	public function __construct( $status, $body ) {
		$this->status = (int) $status;
		$this->body   = (string) $body;
	}
}
