<?php
/**
 * Signing of storefront API requests (docs/storefront-api.md, "Authentication").
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * HMAC-SHA256 request signatures with the store's shared secret, scheme "v1":
 *
 *     v1\n METHOD \n PATH \n QUERY \n TIMESTAMP \n NONCE \n hex(SHA-256(body))
 *
 * PATH is the API path from "/storefront/v1/" on (not any prefix the backend is mounted
 * under); QUERY is the canonical query (canonical_query()). No field can hold a newline, so
 * the string to sign is unambiguous. The vectors in tests/fixtures/signing-vectors.json pin
 * this for both codebases.
 */
final class Bazgasht_Request_Signer {

	const SCHEME = 'v1';

	/**
	 * The shared secret.
	 *
	 * @var string
	 */
	private $secret;

	/**
	 * Constructor.
	 *
	 * @param string $secret The store's shared secret (never logged, never printed).
	 * @throws InvalidArgumentException For an empty secret.
	 */
	public function __construct( $secret ) {
		if ( ! is_string( $secret ) || '' === $secret ) {
			throw new InvalidArgumentException( 'the shared secret is empty' );
		}
		$this->secret = $secret;
	}

	/**
	 * The canonical query: parameters sorted by name, then value (byte order), each name and
	 * value percent-encoded as RFC 3986 (rawurlencode: only A-Z a-z 0-9 - _ . ~ stay),
	 * joined by "&". The client sends exactly this string, so the server may compare it
	 * raw or rebuild it from the parameters it parsed.
	 *
	 * @param array $params Name => value (scalars; an array value repeats the name).
	 * @return string "" when there are no parameters.
	 */
	public static function canonical_query( array $params ) {
		$pairs = array();
		foreach ( $params as $name => $value ) {
			foreach ( is_array( $value ) ? $value : array( $value ) as $item ) {
				if ( is_bool( $item ) ) {
					$item = $item ? '1' : '0';
				}
				$pairs[] = array( rawurlencode( (string) $name ), rawurlencode( (string) $item ) );
			}
		}
		usort(
			$pairs,
			static function ( $a, $b ) {
				$by_name = strcmp( $a[0], $b[0] );
				return 0 !== $by_name ? $by_name : strcmp( $a[1], $b[1] );
			}
		);
		return implode(
			'&',
			array_map(
				static function ( $pair ) {
					return $pair[0] . '=' . $pair[1];
				},
				$pairs
			)
		);
	}

	/**
	 * The string the HMAC is computed over.
	 *
	 * @param string $method    HTTP method (made upper-case).
	 * @param string $path      API path, e.g. "/storefront/v1/stores/shop/program".
	 * @param string $query     Canonical query ("" for none).
	 * @param int    $timestamp Unix seconds.
	 * @param string $nonce     32 lower-case hex digits.
	 * @param string $body      Raw request body ("" for none).
	 * @return string
	 */
	public static function string_to_sign( $method, $path, $query, $timestamp, $nonce, $body ) {
		return implode(
			"\n",
			array(
				self::SCHEME,
				strtoupper( $method ),
				$path,
				$query,
				(string) $timestamp,
				$nonce,
				hash( 'sha256', $body ),
			)
		);
	}

	/**
	 * The three authentication headers of a request.
	 *
	 * @param string $method    HTTP method.
	 * @param string $path      API path, starting "/storefront/v1/".
	 * @param string $query     Canonical query.
	 * @param string $body      Raw body.
	 * @param int    $timestamp Unix seconds.
	 * @param string $nonce     32 lower-case hex digits (128 random bits).
	 * @return array<string, string>
	 * @throws InvalidArgumentException For a malformed path, nonce or timestamp.
	 */
	public function headers( $method, $path, $query, $body, $timestamp, $nonce ) {
		if ( 1 !== preg_match( '#^/storefront/v1/[A-Za-z0-9._~/-]*$#D', $path ) ) {
			throw new InvalidArgumentException( 'the path must start with /storefront/v1/ and hold only unreserved characters' );
		}
		if ( 1 !== preg_match( '/^[0-9a-f]{32}$/D', $nonce ) ) {
			throw new InvalidArgumentException( 'the nonce must be 32 lower-case hex digits' );
		}
		if ( ! is_int( $timestamp ) || $timestamp < 0 ) {
			throw new InvalidArgumentException( 'the timestamp must be a non-negative integer' );
		}
		$message = self::string_to_sign( $method, $path, $query, $timestamp, $nonce, $body );
		return array(
			'X-Bazgasht-Timestamp' => (string) $timestamp,
			'X-Bazgasht-Nonce'     => $nonce,
			'X-Bazgasht-Signature' => self::SCHEME . '=' . hash_hmac( 'sha256', $message, $this->secret ),
		);
	}

	/**
	 * A fresh nonce: 128 random bits as 32 lower-case hex digits.
	 *
	 * @return string
	 */
	public static function new_nonce() {
		return bin2hex( random_bytes( 16 ) );
	}
}
