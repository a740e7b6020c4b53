<?php
/**
 * The settings page.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Settings.
 */
final class SettingsTest extends TestCase {

	const SECRET = 'a-secret-of-at-least-32-characters-0123456789';

	/**
	 * Under test.
	 *
	 * @var Bazgasht_Settings
	 */
	private $settings;

	/**
	 * A shop manager on the page.
	 */
	protected function setUp(): void {
		bazgasht_test_reset();
		$GLOBALS['bazgasht_test']['caps']         = array( 'manage_woocommerce' );
		$GLOBALS['bazgasht_test']['current_user'] = 1;
		$this->settings                           = new Bazgasht_Settings();
		$this->settings->redirect                 = static function ( $url ) {
			throw new Bazgasht_Test_Redirect( $url );
		};
		$_GET  = array();
		$_POST = array();
	}

	/**
	 * Clean globals.
	 */
	protected function tearDown(): void {
		$_GET  = array();
		$_POST = array();
	}

	/**
	 * Post the form as WordPress would (slashed values, a nonce) and return the redirect.
	 *
	 * @param array $fields Form fields.
	 * @return string The notice code redirected to.
	 */
	private function post( array $fields ) {
		$_POST = array_map( 'addslashes', $fields + array( '_wpnonce' => wp_create_nonce( 'bazgasht_save_settings' ) ) );
		try {
			$this->settings->handle_save();
		} catch ( Bazgasht_Test_Redirect $e ) {
			parse_str( (string) parse_url( $e->getMessage(), PHP_URL_QUERY ), $query );
			return $query['bazgasht_notice'];
		}
		$this->fail( 'no redirect' );
	}

	/**
	 * A good form is saved; the secret is stored apart and never printed back.
	 */
	public function test_save_and_never_echo_the_secret() {
		$this->assertSame(
			'saved',
			$this->post(
				array(
					'bazgasht_backend_url' => 'https://loyalty.example.com/',
					'bazgasht_store'       => 'myshop',
					'bazgasht_secret'      => self::SECRET,
				)
			)
		);
		$config = $this->settings->get();
		$this->assertSame( 'https://loyalty.example.com', $config['backend_url'] );
		$this->assertSame( 'myshop', $config['store'] );
		$this->assertSame( self::SECRET, $config['secret'] );
		$this->assertArrayNotHasKey( 'secret', get_option( 'bazgasht_settings' ) );

		$_GET = array( 'bazgasht_notice' => 'saved' );
		$html = $this->settings->page_html();
		$this->assertStringNotContainsString( self::SECRET, $html );
		$this->assertStringNotContainsString( substr( self::SECRET, -8 ), $html, 'not even part of it' );
		$this->assertStringContainsString( 'name="bazgasht_secret" value=""', $html );
		$this->assertStringContainsString( 'A secret is saved. Leave empty to keep it.', $html );
		$this->assertStringContainsString( 'Settings saved.', $html );
		$this->assertStringContainsString( 'value="https://loyalty.example.com"', $html );
	}

	/**
	 * An empty secret keeps the saved one; a secret with quotes and backslashes is kept exactly.
	 */
	public function test_empty_secret_keeps_and_odd_characters_survive() {
		$odd = 'x\\y"z\'<' . str_repeat( 's', 30 );
		$this->post( array( 'bazgasht_backend_url' => 'https://a.example', 'bazgasht_store' => 'myshop', 'bazgasht_secret' => $odd ) );
		$this->assertSame( $odd, $this->settings->get()['secret'] );
		$this->post( array( 'bazgasht_backend_url' => 'https://b.example', 'bazgasht_store' => 'myshop', 'bazgasht_secret' => '' ) );
		$this->assertSame( $odd, $this->settings->get()['secret'] );
		$this->assertSame( 'https://b.example', $this->settings->get()['backend_url'] );
	}

	/**
	 * Bad values are refused and nothing is saved.
	 *
	 * @dataProvider bad_forms
	 * @param array  $fields Form.
	 * @param string $notice Expected notice.
	 */
	public function test_refuses_bad_values( array $fields, $notice ) {
		$this->assertSame( $notice, $this->post( $fields + array( 'bazgasht_backend_url' => 'https://a.example', 'bazgasht_store' => 'myshop', 'bazgasht_secret' => self::SECRET ) ) );
		$this->assertFalse( get_option( 'bazgasht_settings' ) );
		$this->assertFalse( get_option( 'bazgasht_secret' ) );
	}

	/**
	 * Cases.
	 *
	 * @return array
	 */
	public function bad_forms() {
		return array(
			'plain http elsewhere'  => array( array( 'bazgasht_backend_url' => 'http://loyalty.example.com' ), 'insecure_url' ),
			'ftp'                   => array( array( 'bazgasht_backend_url' => 'ftp://loyalty.example.com' ), 'bad_url' ),
			'a query'               => array( array( 'bazgasht_backend_url' => 'https://loyalty.example.com/?x=1' ), 'bad_url' ),
			'credentials in it'     => array( array( 'bazgasht_backend_url' => 'https://u:p@loyalty.example.com' ), 'bad_url' ),
			'store with a slash'    => array( array( 'bazgasht_store' => 'my/shop' ), 'bad_store' ),
			'store with a space'    => array( array( 'bazgasht_store' => 'my shop' ), 'bad_store' ),
			'short secret'          => array( array( 'bazgasht_secret' => 'short' ), 'short_secret' ),
		);
	}

	/**
	 * Plain HTTP is fine on this machine.
	 */
	public function test_loopback_http() {
		$this->assertSame( '', Bazgasht_Settings::check_url( 'http://127.0.0.1:8700' ) );
		$this->assertSame( '', Bazgasht_Settings::check_url( 'http://localhost:8700/bazgasht' ) );
		$this->assertSame( '', Bazgasht_Settings::check_url( 'http://[::1]:8700' ) );
		$this->assertSame( 'insecure_url', Bazgasht_Settings::check_url( 'http://10.0.0.5:8700' ) );
		$this->assertSame( 'insecure_url', Bazgasht_Settings::check_url( 'http://127.0.0.1.example.com' ) );
	}

	/**
	 * Only shop managers, and only with a valid nonce.
	 */
	public function test_capability_and_nonce() {
		$GLOBALS['bazgasht_test']['caps'] = array( 'read' );
		try {
			$this->post( array( 'bazgasht_store' => 'x' ) );
			$this->fail( 'a customer saved settings' );
		} catch ( Bazgasht_Test_Died $e ) {
			$this->assertFalse( get_option( 'bazgasht_settings' ) );
		}
		$this->assertSame( '', $this->render(), 'the page shows nothing to others' );
		$GLOBALS['bazgasht_test']['caps'] = array( 'manage_woocommerce' );
		$_POST                            = array(
			'bazgasht_store' => 'x',
			'_wpnonce'       => 'forged',
		);
		$this->expectException( Bazgasht_Test_Died::class );
		$this->settings->handle_save();
	}

	/**
	 * A secret from wp-config.php wins and the field is not offered.
	 *
	 * @runInSeparateProcess
	 * @preserveGlobalState disabled
	 */
	public function test_secret_from_constant() {
		define( 'BAZGASHT_SHARED_SECRET', 'from-wp-config-0123456789abcdef0123' );
		update_option( 'bazgasht_secret', self::SECRET );
		$this->assertSame( BAZGASHT_SHARED_SECRET, $this->settings->get()['secret'] );
		$html = $this->settings->page_html();
		$this->assertStringContainsString( 'Set in wp-config.php', $html );
		$this->assertStringNotContainsString( 'name="bazgasht_secret"', $html );
		$this->assertStringNotContainsString( BAZGASHT_SHARED_SECRET, $html );
	}

	/**
	 * "Test connection": the backend's answer is recorded and shown, escaped.
	 */
	public function test_connection_test() {
		update_option( 'bazgasht_settings', array( 'backend_url' => 'https://a.example', 'store' => 'myshop' ) );
		update_option( 'bazgasht_secret', self::SECRET );
		$transport = new Bazgasht_Fake_Transport();
		$transport->answer( 401, array( 'error' => array( 'code' => 'stale_timestamp', 'message' => 'clock off by 400 s <b>' ) ) );
		$this->settings->backend = new Bazgasht_Backend(
			$this->settings,
			static function ( $url, $store, $secret ) use ( $transport ) {
				return new Bazgasht_Api_Client( $url, $store, new Bazgasht_Request_Signer( $secret ), $transport );
			}
		);
		$_POST = array( '_wpnonce' => wp_create_nonce( 'bazgasht_test_connection' ) );
		try {
			$this->settings->handle_test();
		} catch ( Bazgasht_Test_Redirect $e ) {
			$this->assertStringContainsString( 'bazgasht_notice=test_failed', $e->getMessage() );
		}
		$html = $this->settings->page_html();
		$this->assertStringContainsString( 'it failed: unauthorized: the backend refused our signature (stale_timestamp: clock off by 400 s &lt;b&gt;)', $html );
		$this->assertStringNotContainsString( self::SECRET, $html );
	}

	/**
	 * Unknown notice codes in the URL are ignored.
	 */
	public function test_unknown_notice_is_ignored() {
		$_GET = array( 'bazgasht_notice' => '<script>' );
		$this->assertStringNotContainsString( 'notice-', $this->settings->page_html() );
	}

	/**
	 * Output of render_page().
	 *
	 * @return string
	 */
	private function render() {
		ob_start();
		$this->settings->render_page();
		return (string) ob_get_clean();
	}
}
