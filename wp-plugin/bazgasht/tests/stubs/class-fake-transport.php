<?php
/**
 * A transport that answers from a script and records what it was sent.
 *
 * @package Bazgasht
 */

/**
 * Scripted answers: each a Bazgasht_Http_Response, or an exception to throw.
 */
final class Bazgasht_Fake_Transport implements Bazgasht_Transport {

	/**
	 * Answers still to give, in order.
	 *
	 * @var array
	 */
	public $answers = array();

	/**
	 * Requests sent: each array( method, url, headers, body, timeout ).
	 *
	 * @var array[]
	 */
	public $sent = array();

	/**
	 * Queue a JSON answer.
	 *
	 * @param int   $status HTTP status.
	 * @param mixed $data   Decoded JSON (or a raw string body).
	 * @return $this
	 */
	public function answer( $status, $data ) {
		$this->answers[] = new Bazgasht_Http_Response( $status, is_string( $data ) ? $data : json_encode( $data ) );
		return $this;
	}

	/**
	 * Queue a failure to answer.
	 *
	 * @param string $message Why.
	 * @return $this
	 */
	public function fail( $message ) {
		$this->answers[] = new Bazgasht_Transport_Exception( $message );
		return $this;
	}

	/**
	 * Answer the next scripted answer.
	 *
	 * @param string $method  Method.
	 * @param string $url     URL.
	 * @param array  $headers Headers.
	 * @param string $body    Body.
	 * @param int    $timeout Timeout.
	 * @return Bazgasht_Http_Response
	 * @throws Bazgasht_Transport_Exception When so scripted.
	 * @throws LogicException When the script ran out.
	 */
	public function send( $method, $url, array $headers, $body, $timeout ) {
		$this->sent[] = compact( 'method', 'url', 'headers', 'body', 'timeout' );
		if ( array() === $this->answers ) {
			throw new LogicException( 'the fake transport has no answer left for ' . $method . ' ' . $url );
		}
		$answer = array_shift( $this->answers );
		if ( $answer instanceof Exception ) {
			throw $answer;
		}
		return $answer;
	}
}
