<?php
/**
 * The storefront API client (docs/storefront-api.md).
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Signed calls to the Bazgasht backend for one store.
 *
 * Every failure becomes a Bazgasht_Backend_Unavailable (no usable answer: use the pushed
 * meta) or a Bazgasht_Api_Refusal (the backend said no, with an error code); nothing else
 * escapes. The customer id is always the caller's business: pass the logged-in user's id,
 * never one that came from the browser.
 */
final class Bazgasht_Api_Client {

	/**
	 * Reads are on the page's critical path: a slow backend must not hold the page long.
	 */
	const READ_TIMEOUT = 3;

	/**
	 * A redemption creates a coupon on the store through WooCommerce's REST API; the backend
	 * answers within 10 s (202 "pending" when the coupon is not made by then).
	 */
	const REDEEM_TIMEOUT = 15;

	/**
	 * Statuses that carry an error the customer can be told about.
	 */
	const REFUSAL_STATUSES = array( 400, 404, 409, 422 );

	/**
	 * Backend base URL without a trailing slash.
	 *
	 * @var string
	 */
	private $base_url;

	/**
	 * Store name as the backend knows it.
	 *
	 * @var string
	 */
	private $store;

	/**
	 * Request signer.
	 *
	 * @var Bazgasht_Request_Signer
	 */
	private $signer;

	/**
	 * Transport.
	 *
	 * @var Bazgasht_Transport
	 */
	private $transport;

	/**
	 * Returns the current unix time.
	 *
	 * @var callable
	 */
	private $clock;

	/**
	 * Returns a fresh nonce.
	 *
	 * @var callable
	 */
	private $nonces;

	/**
	 * Constructor.
	 *
	 * @param string                  $base_url  Backend base URL, e.g. "https://loyalty.example.com".
	 * @param string                  $store     Store name in the backend's config.
	 * @param Bazgasht_Request_Signer $signer    Signer holding the shared secret.
	 * @param Bazgasht_Transport      $transport Transport.
	 * @param callable|null           $clock     Returns unix seconds (default: time()).
	 * @param callable|null           $nonces    Returns a nonce (default: 128 random bits).
	 * @throws InvalidArgumentException For a store name the API path cannot hold.
	 */
	public function __construct( $base_url, $store, Bazgasht_Request_Signer $signer, Bazgasht_Transport $transport, $clock = null, $nonces = null ) {
		if ( ! self::is_store_name( $store ) ) {
			throw new InvalidArgumentException( 'not a store name' );
		}
		$this->base_url  = rtrim( (string) $base_url, '/' );
		$this->store     = $store;
		$this->signer    = $signer;
		$this->transport = $transport;
		$this->clock     = null !== $clock ? $clock : 'time';
		$this->nonces    = null !== $nonces ? $nonces : array( 'Bazgasht_Request_Signer', 'new_nonce' );
	}

	/**
	 * Whether $name is a store name as the backend allows them (letters, digits, "_.-").
	 *
	 * @param mixed $name Candidate.
	 * @return bool
	 */
	public static function is_store_name( $name ) {
		return is_string( $name ) && 1 === preg_match( '/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/D', $name );
	}

	/**
	 * The program parameters.
	 *
	 * @return Bazgasht_Program
	 * @throws Bazgasht_Api_Exception On failure.
	 */
	public function program() {
		$data    = $this->call( 'GET', $this->store_path( '/program' ), array(), null, self::READ_TIMEOUT );
		$program = Bazgasht_Program::from_array( $data['body'] );
		if ( null === $program ) {
			throw new Bazgasht_Backend_Unavailable( 'malformed_answer', 'the program answer lacks a field or has one out of range', $data['status'] );
		}
		return $program;
	}

	/**
	 * A customer's live state.
	 *
	 * @param int $customer_id WooCommerce customer (WordPress user) id.
	 * @return Bazgasht_Loyalty_State
	 * @throws Bazgasht_Api_Exception On failure; a customer the backend does not know is a
	 *                                refusal with code "unknown_customer" (404).
	 */
	public function customer( $customer_id ) {
		$data  = $this->call( 'GET', $this->customer_path( $customer_id, '' ), array(), null, self::READ_TIMEOUT );
		$state = Bazgasht_Loyalty_State::from_api( $data['body'] );
		if ( null === $state ) {
			throw new Bazgasht_Backend_Unavailable( 'malformed_answer', 'the customer answer lacks a field or has one out of range', $data['status'] );
		}
		return $state;
	}

	/**
	 * A customer's most recent ledger entries, newest first.
	 *
	 * @param int $customer_id Customer id.
	 * @param int $limit       How many (1 to 100).
	 * @return array[] See Bazgasht_History::from_api().
	 * @throws Bazgasht_Api_Exception On failure.
	 */
	public function history( $customer_id, $limit = 20 ) {
		$limit   = max( 1, min( 100, (int) $limit ) );
		$data    = $this->call( 'GET', $this->customer_path( $customer_id, '/history' ), array( 'limit' => $limit ), null, self::READ_TIMEOUT );
		$entries = Bazgasht_History::from_api( $data['body'] );
		if ( null === $entries ) {
			throw new Bazgasht_Backend_Unavailable( 'malformed_answer', 'the history answer has no entries list', $data['status'] );
		}
		return $entries;
	}

	/**
	 * Redeem points for a coupon. Sending the same $request_id again returns the same
	 * redemption (in its current state), never a second one.
	 *
	 * @param int    $customer_id Customer id (the logged-in user's, server side).
	 * @param int    $points      Points to redeem.
	 * @param string $request_id  A UUID chosen once per redemption attempt.
	 * @return array{http_status: int, status: string, redemption_id: int, code: string, points: int, amount: string, currency: string, expires_at: int}
	 * @throws Bazgasht_Api_Exception On failure (422 refusals carry "below_minimum",
	 *                                "insufficient_balance", "negative_balance", "invalid_points").
	 */
	public function redeem( $customer_id, $points, $request_id ) {
		if ( ! self::is_request_id( $request_id ) ) {
			throw new InvalidArgumentException( 'the request id must be a UUID' );
		}
		$body   = array(
			'points'     => (int) $points,
			'request_id' => strtolower( $request_id ),
		);
		$data   = $this->call( 'POST', $this->customer_path( $customer_id, '/redemptions' ), array(), $body, self::REDEEM_TIMEOUT );
		$answer = is_array( $data['body'] ) ? $data['body'] : array();
		$result = array(
			'http_status'   => $data['status'],
			'status'        => Bazgasht_Fields::text( $answer, 'status', Bazgasht_Loyalty_State::STATUS_PATTERN ),
			'redemption_id' => Bazgasht_Fields::integer( $answer, 'redemption_id', 1, PHP_INT_MAX ),
			'code'          => Bazgasht_Fields::text( $answer, 'code', Bazgasht_Loyalty_State::CODE_PATTERN ),
			'points'        => Bazgasht_Fields::integer( $answer, 'points', 1 ),
			'amount'        => Bazgasht_Fields::decimal( $answer, 'amount' ),
			'currency'      => Bazgasht_Fields::currency( $answer, 'currency' ),
			'expires_at'    => Bazgasht_Fields::instant( $answer, 'expires_at' ),
		);
		if ( in_array( null, $result, true ) ) {
			throw new Bazgasht_Backend_Unavailable( 'malformed_answer', 'the redemption answer lacks a field', $data['status'] );
		}
		return $result;
	}

	/**
	 * Whether $text is a UUID (any version, either case).
	 *
	 * @param mixed $text Candidate.
	 * @return bool
	 */
	public static function is_request_id( $text ) {
		return is_string( $text ) && 1 === preg_match( '/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/Di', $text );
	}

	/**
	 * A new random (version 4) UUID.
	 *
	 * @return string
	 */
	public static function new_request_id() {
		$bytes    = random_bytes( 16 );
		$bytes[6] = chr( ( ord( $bytes[6] ) & 0x0f ) | 0x40 );
		$bytes[8] = chr( ( ord( $bytes[8] ) & 0x3f ) | 0x80 );
		$hex      = bin2hex( $bytes );
		return substr( $hex, 0, 8 ) . '-' . substr( $hex, 8, 4 ) . '-' . substr( $hex, 12, 4 ) . '-' . substr( $hex, 16, 4 ) . '-' . substr( $hex, 20 );
	}

	/**
	 * "/storefront/v1/stores/{store}{suffix}".
	 *
	 * @param string $suffix Path after the store.
	 * @return string
	 */
	private function store_path( $suffix ) {
		return '/storefront/v1/stores/' . $this->store . $suffix;
	}

	/**
	 * "/storefront/v1/stores/{store}/customers/{id}{suffix}".
	 *
	 * @param int    $customer_id Customer id.
	 * @param string $suffix      Path after the customer.
	 * @return string
	 * @throws InvalidArgumentException For an id that is not a positive integer.
	 */
	private function customer_path( $customer_id, $suffix ) {
		if ( ! is_int( $customer_id ) || $customer_id < 1 ) {
			throw new InvalidArgumentException( 'the customer id must be a positive integer' );
		}
		return $this->store_path( '/customers/' . $customer_id . $suffix );
	}

	/**
	 * One signed exchange; the decoded 2xx answer, or an exception.
	 *
	 * @param string     $method  HTTP method.
	 * @param string     $path    API path.
	 * @param array      $query   Query parameters.
	 * @param array|null $payload JSON body, or null for none.
	 * @param int        $timeout Seconds.
	 * @return array{status: int, body: mixed}
	 * @throws Bazgasht_Api_Exception On failure.
	 */
	private function call( $method, $path, array $query, $payload, $timeout ) {
		// Plain json_encode: this class runs without WordPress; the payload is numbers and a UUID.
		$body      = null === $payload ? '' : (string) json_encode( $payload ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode
		$canonical = Bazgasht_Request_Signer::canonical_query( $query );
		$headers   = $this->signer->headers( $method, $path, $canonical, $body, (int) call_user_func( $this->clock ), (string) call_user_func( $this->nonces ) );

		$headers['Accept'] = 'application/json';
		if ( '' !== $body ) {
			$headers['Content-Type'] = 'application/json';
		}
		$url = $this->base_url . $path . ( '' === $canonical ? '' : '?' . $canonical );
		try {
			$response = $this->transport->send( $method, $url, $headers, $body, $timeout );
		} catch ( Bazgasht_Transport_Exception $e ) {
			throw new Bazgasht_Backend_Unavailable( 'unreachable', 'the backend did not answer: ' . $e->getMessage() );
		}
		$status  = $response->status;
		$decoded = json_decode( $response->body, true, 32 );
		if ( $status >= 200 && $status < 300 ) {
			if ( ! is_array( $decoded ) ) {
				throw new Bazgasht_Backend_Unavailable( 'malformed_answer', 'the backend answered ' . $status . ' without a JSON object', $status );
			}
			return array(
				'status' => $status,
				'body'   => $decoded,
			);
		}
		$error = self::error_of( $decoded );
		if ( null !== $error && in_array( $status, self::REFUSAL_STATUSES, true ) ) {
			throw new Bazgasht_Api_Refusal( $error['code'], $error['message'], $status );
		}
		if ( 401 === $status || 403 === $status ) {
			$detail = null !== $error ? $error['code'] . ': ' . $error['message'] : 'no reason given';
			throw new Bazgasht_Backend_Unavailable( 'unauthorized', 'the backend refused our signature (' . $detail . '); check the store name, the shared secret and the clock', $status );
		}
		$code = $status >= 500 ? 'server_error' : 'unexpected_status';
		throw new Bazgasht_Backend_Unavailable( $code, 'the backend answered HTTP ' . $status . ( null !== $error ? ' (' . $error['code'] . ')' : '' ), $status );
	}

	/**
	 * The {"error": {"code", "message"}} of an answer, if it has a well-formed one.
	 *
	 * @param mixed $decoded Decoded JSON.
	 * @return array{code: string, message: string}|null
	 */
	private static function error_of( $decoded ) {
		if ( ! is_array( $decoded ) || ! isset( $decoded['error'] ) || ! is_array( $decoded['error'] ) ) {
			return null;
		}
		$code = Bazgasht_Fields::text( $decoded['error'], 'code', '/^[a-z0-9_]{1,64}$/D' );
		if ( null === $code ) {
			return null;
		}
		$message = isset( $decoded['error']['message'] ) && is_string( $decoded['error']['message'] ) ? $decoded['error']['message'] : '';
		return array(
			'code'    => $code,
			'message' => $message,
		);
	}
}
