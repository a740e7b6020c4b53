<?php
/**
 * The storefront API client with a scripted transport.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Api_Client.
 */
final class ApiClientTest extends TestCase {

	const SECRET = '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';

	/**
	 * Transport.
	 *
	 * @var Bazgasht_Fake_Transport
	 */
	private $transport;

	/**
	 * Client under test.
	 *
	 * @var Bazgasht_Api_Client
	 */
	private $client;

	/**
	 * A client at a base URL with a path prefix, fixed clock and nonce.
	 */
	protected function setUp(): void {
		$this->transport = new Bazgasht_Fake_Transport();
		$this->client    = new Bazgasht_Api_Client(
			'https://loyalty.example.com/bazgasht/',
			'myshop',
			new Bazgasht_Request_Signer( self::SECRET ),
			$this->transport,
			static function () {
				return 1700000000;
			},
			static function () {
				return '0123456789abcdef0123456789abcdef';
			}
		);
	}

	/**
	 * The program: URL under the prefix, signed over the API path only (the first vector).
	 */
	public function test_program_request_is_signed_like_the_vector() {
		$this->transport->answer( 200, Bazgasht_Test_Data::usd_program() );
		$program = $this->client->program();
		$this->assertSame( '0.01', $program->point_value );
		$sent = $this->transport->sent[0];
		$this->assertSame( 'GET', $sent['method'] );
		$this->assertSame( 'https://loyalty.example.com/bazgasht/storefront/v1/stores/myshop/program', $sent['url'] );
		$this->assertSame( '', $sent['body'] );
		$this->assertSame( Bazgasht_Api_Client::READ_TIMEOUT, $sent['timeout'] );
		$vectors = json_decode( (string) file_get_contents( dirname( __DIR__ ) . '/fixtures/signing-vectors.json' ), true );
		foreach ( $vectors['vectors'][0]['headers'] as $name => $value ) {
			$this->assertSame( $value, $sent['headers'][ $name ] );
		}
		$this->assertSame( 'application/json', $sent['headers']['Accept'] );
	}

	/**
	 * The customer's state, and history with its canonical query on the wire.
	 */
	public function test_customer_and_history() {
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$this->transport->answer( 200, array( 'entries' => array( array( 'at' => '2026-04-02T09:00:00Z', 'points' => 65, 'kind' => 'earn', 'source' => 'cashback', 'order_id' => 1234 ) ) ) );
		$this->assertSame( 1240, $this->client->customer( 42 )->spendable );
		$this->assertCount( 1, $this->client->history( 42, 20 ) );
		$this->assertSame( 'https://loyalty.example.com/bazgasht/storefront/v1/stores/myshop/customers/42', $this->transport->sent[0]['url'] );
		$this->assertSame( 'https://loyalty.example.com/bazgasht/storefront/v1/stores/myshop/customers/42/history?limit=20', $this->transport->sent[1]['url'] );
	}

	/**
	 * A redemption: the body holds only points and the request id; 201 issued, 202 pending.
	 */
	public function test_redeem() {
		$this->transport->answer( 201, Bazgasht_Test_Data::redemption() );
		$this->transport->answer( 202, Bazgasht_Test_Data::redemption( array( 'status' => 'pending' ) ) );
		$request = '3F1C2B9E-6A7D-4E5F-8A9B-0C1D2E3F4A5B';
		$result  = $this->client->redeem( 42, 600, $request );
		$this->assertSame( 201, $result['http_status'] );
		$this->assertSame( 'issued', $result['status'] );
		$this->assertSame( 'bz-8d90-18-m3qa', $result['code'] );
		$this->assertSame( '6.00', $result['amount'] );
		$sent = $this->transport->sent[0];
		$this->assertSame( 'POST', $sent['method'] );
		$this->assertSame( '{"points":600,"request_id":"3f1c2b9e-6a7d-4e5f-8a9b-0c1d2e3f4a5b"}', $sent['body'] );
		$this->assertSame( 'application/json', $sent['headers']['Content-Type'] );
		$this->assertSame( Bazgasht_Api_Client::REDEEM_TIMEOUT, $sent['timeout'] );
		$this->assertSame( 'v1=' . hash_hmac( 'sha256', Bazgasht_Request_Signer::string_to_sign( 'POST', '/storefront/v1/stores/myshop/customers/42/redemptions', '', 1700000000, '0123456789abcdef0123456789abcdef', $sent['body'] ), self::SECRET ), $sent['headers']['X-Bazgasht-Signature'] );
		$this->assertSame( 'pending', $this->client->redeem( 42, 600, $request )['status'] );
	}

	/**
	 * Refusals carry the backend's code and status.
	 *
	 * @dataProvider refusals
	 * @param int    $status HTTP status.
	 * @param string $code   Error code.
	 */
	public function test_refusals( $status, $code ) {
		$this->transport->answer( $status, array( 'error' => array( 'code' => $code, 'message' => 'no' ) ) );
		try {
			$this->client->redeem( 42, 100, Bazgasht_Api_Client::new_request_id() );
			$this->fail( 'no refusal' );
		} catch ( Bazgasht_Api_Refusal $e ) {
			$this->assertSame( $code, $e->error_code );
			$this->assertSame( $status, $e->http_status );
		}
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function refusals() {
		return array(
			'below minimum'        => array( 422, 'below_minimum' ),
			'insufficient balance' => array( 422, 'insufficient_balance' ),
			'negative balance'     => array( 422, 'negative_balance' ),
			'invalid points'       => array( 422, 'invalid_points' ),
			'unknown customer'     => array( 404, 'unknown_customer' ),
			'request id reused'    => array( 409, 'request_id_conflict' ),
			'bad request'          => array( 400, 'bad_request' ),
		);
	}

	/**
	 * No usable answer: every case is "unavailable", with a code for the shop owner.
	 *
	 * @dataProvider unavailable
	 * @param callable $script Scripts the transport.
	 * @param string   $code   Expected code.
	 */
	public function test_unavailable( $script, $code ) {
		$script( $this->transport );
		try {
			$this->client->customer( 42 );
			$this->fail( 'no failure' );
		} catch ( Bazgasht_Backend_Unavailable $e ) {
			$this->assertSame( $code, $e->error_code );
			$this->assertStringNotContainsString( self::SECRET, $e->getMessage() );
		}
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function unavailable() {
		return array(
			'timeout'                   => array( static function ( $t ) { $t->fail( 'cURL error 28: Operation timed out after 3001 milliseconds' ); }, 'unreachable' ),
			'connection refused'        => array( static function ( $t ) { $t->fail( 'cURL error 7: Failed to connect' ); }, 'unreachable' ),
			'503 maintenance'           => array( static function ( $t ) { $t->answer( 503, array( 'error' => array( 'code' => 'unavailable', 'message' => 'restarting' ) ) ); }, 'server_error' ),
			'500 with an HTML page'     => array( static function ( $t ) { $t->answer( 500, '<html>oops</html>' ); }, 'server_error' ),
			'401 bad signature'         => array( static function ( $t ) { $t->answer( 401, array( 'error' => array( 'code' => 'bad_signature', 'message' => 'no' ) ) ); }, 'unauthorized' ),
			'404 page of a proxy'       => array( static function ( $t ) { $t->answer( 404, '<html>Not Found</html>' ); }, 'unexpected_status' ),
			'302 to a login page'       => array( static function ( $t ) { $t->answer( 302, '' ); }, 'unexpected_status' ),
			'200 that is not JSON'      => array( static function ( $t ) { $t->answer( 200, 'OK' ); }, 'malformed_answer' ),
			'200 missing a field'       => array( static function ( $t ) { $t->answer( 200, array( 'balance' => 5 ) ); }, 'malformed_answer' ),
			'422 without an error body' => array( static function ( $t ) { $t->answer( 422, array( 'detail' => 'x' ) ); }, 'unexpected_status' ),
		);
	}

	/**
	 * Ids and points never come from anywhere but the caller, and must be well-formed.
	 */
	public function test_refuses_bad_arguments() {
		foreach ( array( array( '42', 'uuid' ), array( 0, 'uuid' ), array( 42, 'not-a-uuid' ) ) as $case ) {
			try {
				$this->client->redeem( $case[0], 100, 'uuid' === $case[1] ? Bazgasht_Api_Client::new_request_id() : $case[1] );
				$this->fail( 'accepted ' . json_encode( $case ) );
			} catch ( InvalidArgumentException $e ) {
				$this->assertSame( array(), $this->transport->sent, 'nothing was sent' );
			}
		}
		$this->expectException( InvalidArgumentException::class );
		new Bazgasht_Api_Client( 'https://x', '../admin', new Bazgasht_Request_Signer( 's' ), $this->transport );
	}

	/**
	 * Request ids are version 4 UUIDs.
	 */
	public function test_request_ids() {
		$id = Bazgasht_Api_Client::new_request_id();
		$this->assertMatchesRegularExpression( '/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', $id );
		$this->assertTrue( Bazgasht_Api_Client::is_request_id( $id ) );
		$this->assertFalse( Bazgasht_Api_Client::is_request_id( $id . 'x' ) );
	}
}
