<?php
/**
 * Request signatures against the shared vectors (tests/fixtures/signing-vectors.json).
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Request_Signer.
 */
final class RequestSignerTest extends TestCase {

	/**
	 * The vectors file.
	 *
	 * @return array
	 */
	private static function vectors() {
		return json_decode( (string) file_get_contents( dirname( __DIR__ ) . '/fixtures/signing-vectors.json' ), true );
	}

	/**
	 * Each vector, by name.
	 *
	 * @return array
	 */
	public function vector_cases() {
		$cases = array();
		foreach ( self::vectors()['vectors'] as $vector ) {
			$cases[ $vector['name'] ] = array( $vector );
		}
		return $cases;
	}

	/**
	 * Canonical query, string to sign and headers are exactly the vector's.
	 *
	 * @dataProvider vector_cases
	 * @param array $v Vector.
	 */
	public function test_vector( array $v ) {
		$params = array();
		foreach ( $v['params'] as $pair ) {
			$params[ $pair[0] ][] = $pair[1];
		}
		$query = Bazgasht_Request_Signer::canonical_query( $params );
		$this->assertSame( $v['canonical_query'], $query );
		$this->assertSame( $v['body_sha256'], hash( 'sha256', $v['body'] ) );
		$this->assertSame( $v['string_to_sign'], Bazgasht_Request_Signer::string_to_sign( $v['method'], $v['path'], $query, $v['timestamp'], $v['nonce'], $v['body'] ) );
		$signer = new Bazgasht_Request_Signer( $v['secret'] );
		$this->assertSame( $v['headers'], $signer->headers( $v['method'], $v['path'], $query, $v['body'], $v['timestamp'], $v['nonce'] ) );
	}

	/**
	 * Changing any one signed field changes the signature.
	 */
	public function test_tampered_fields_change_the_signature() {
		$data   = self::vectors();
		$byname = array_column( $data['vectors'], null, 'name' );
		$this->assertCount( 7, $data['tampered'] );
		foreach ( $data['tampered'] as $case ) {
			$v                   = $byname[ $case['base'] ];
			$v[ $case['field'] ] = $case['value'];
			$signer              = new Bazgasht_Request_Signer( $v['secret'] );
			$headers             = $signer->headers( $v['method'], $v['path'], $v['canonical_query'], $v['body'], $v['timestamp'], $v['nonce'] );
			$this->assertNotSame( $byname[ $case['base'] ]['headers']['X-Bazgasht-Signature'], $headers['X-Bazgasht-Signature'], $case['field'] );
		}
	}

	/**
	 * Scalars in a query: a single value, booleans, numbers.
	 */
	public function test_canonical_query_of_scalars() {
		$this->assertSame( '', Bazgasht_Request_Signer::canonical_query( array() ) );
		$this->assertSame( 'a=1&b=0&limit=20', Bazgasht_Request_Signer::canonical_query( array( 'limit' => 20, 'b' => false, 'a' => true ) ) );
	}

	/**
	 * Malformed inputs are refused before anything is signed.
	 */
	public function test_refuses_bad_inputs() {
		$signer = new Bazgasht_Request_Signer( 'x' );
		foreach (
			array(
				array( '/wp-json/x', 1700000000, str_repeat( 'a', 32 ) ),
				array( '/storefront/v1/stores/a b', 1700000000, str_repeat( 'a', 32 ) ),
				array( "/storefront/v1/stores/x\ny", 1700000000, str_repeat( 'a', 32 ) ),
				array( '/storefront/v1/stores/x', 1700000000, str_repeat( 'A', 32 ) ),
				array( '/storefront/v1/stores/x', 1700000000, str_repeat( 'a', 31 ) ),
				array( '/storefront/v1/stores/x', '1700000000', str_repeat( 'a', 32 ) ),
			) as $case
		) {
			try {
				$signer->headers( 'GET', $case[0], '', '', $case[1], $case[2] );
				$this->fail( 'accepted ' . json_encode( $case ) );
			} catch ( InvalidArgumentException $e ) {
				$this->assertNotSame( '', $e->getMessage() );
			}
		}
		$this->expectException( InvalidArgumentException::class );
		new Bazgasht_Request_Signer( '' );
	}

	/**
	 * Nonces: 128 random bits in lower-case hex, never repeated.
	 */
	public function test_nonces() {
		$a = Bazgasht_Request_Signer::new_nonce();
		$this->assertMatchesRegularExpression( '/^[0-9a-f]{32}$/', $a );
		$this->assertNotSame( $a, Bazgasht_Request_Signer::new_nonce() );
	}
}
