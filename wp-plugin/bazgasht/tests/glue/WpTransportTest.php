<?php
/**
 * The production transport over wp_remote_request().
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_WP_Transport.
 */
final class WpTransportTest extends TestCase {

	/**
	 * Empty stand-in.
	 */
	protected function setUp(): void {
		bazgasht_test_reset();
	}

	/**
	 * An answer, whatever its status; no redirects followed; the body only when there is one.
	 */
	public function test_answers() {
		$GLOBALS['bazgasht_test']['remote'] = array(
			'response' => array( 'code' => 422 ),
			'body'     => '{"error":{"code":"below_minimum","message":"x"}}',
		);
		$response = ( new Bazgasht_WP_Transport() )->send( 'POST', 'https://a.example/storefront/v1/x', array( 'X-A' => 'b' ), '{"points":1}', 15 );
		$this->assertSame( 422, $response->status );
		$this->assertSame( '{"error":{"code":"below_minimum","message":"x"}}', $response->body );
		list( $url, $args ) = $GLOBALS['bazgasht_test']['remote_sent'];
		$this->assertSame( 'https://a.example/storefront/v1/x', $url );
		$this->assertSame( 'POST', $args['method'] );
		$this->assertSame( 0, $args['redirection'] );
		$this->assertSame( 15, $args['timeout'] );
		$this->assertSame( '{"points":1}', $args['body'] );
		$this->assertSame( array( 'X-A' => 'b' ), $args['headers'] );

		( new Bazgasht_WP_Transport() )->send( 'GET', 'https://a.example/storefront/v1/y', array(), '', 3 );
		$this->assertArrayNotHasKey( 'body', $GLOBALS['bazgasht_test']['remote_sent'][1] );
	}

	/**
	 * No answer at all becomes a transport exception.
	 */
	public function test_no_answer() {
		$GLOBALS['bazgasht_test']['remote'] = new WP_Error( 'http_request_failed', 'cURL error 7: Failed to connect to 127.0.0.1 port 8700' );
		$this->expectException( Bazgasht_Transport_Exception::class );
		$this->expectExceptionMessage( 'Failed to connect' );
		( new Bazgasht_WP_Transport() )->send( 'GET', 'http://127.0.0.1:8700/storefront/v1/x', array(), '', 3 );
	}
}
