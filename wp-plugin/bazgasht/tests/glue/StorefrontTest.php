<?php
/**
 * What customers see, with the WordPress functions stubbed and a scripted backend.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_Storefront and Bazgasht_Backend together.
 */
final class StorefrontTest extends TestCase {

	const NOW     = 1777629600; // 2026-05-01T10:00:00Z.
	const USER    = 42;
	const HOSTILE = '<script>alert("x")</script>';

	/**
	 * Scripted backend.
	 *
	 * @var Bazgasht_Fake_Transport
	 */
	private $transport;

	/**
	 * The backend.
	 *
	 * @var Bazgasht_Backend
	 */
	private $backend;

	/**
	 * Under test.
	 *
	 * @var Bazgasht_Storefront
	 */
	private $storefront;

	/**
	 * A configured plugin, a logged-in customer, an empty cart.
	 */
	protected function setUp(): void {
		bazgasht_test_reset();
		update_option( 'bazgasht_settings', array( 'backend_url' => 'https://loyalty.example.com', 'store' => 'myshop' ) );
		update_option( 'bazgasht_secret', str_repeat( 'k', 64 ) );
		$GLOBALS['bazgasht_test']['current_user']        = self::USER;
		$GLOBALS['bazgasht_test']['users'][ self::USER ] = (object) array( 'display_name' => 'Sara' );
		$GLOBALS['bazgasht_test']['cart']                = new Bazgasht_Test_Cart( 30.0, 0.0 );
		$GLOBALS['bazgasht_test']['session']             = new Bazgasht_Test_Session();
		$this->transport                                 = new Bazgasht_Fake_Transport();
		$this->storefront                                = $this->storefront( new Bazgasht_Formatter( ',', '.', false, '%1$s%2$s' ) );
	}

	/**
	 * A storefront over the scripted transport.
	 *
	 * @param Bazgasht_Formatter $formatter Formatter.
	 * @return Bazgasht_Storefront
	 */
	private function storefront( Bazgasht_Formatter $formatter ) {
		$transport     = $this->transport;
		$clock         = static function () {
			return self::NOW;
		};
		$this->backend = new Bazgasht_Backend(
			new Bazgasht_Settings(),
			static function ( $url, $store, $secret ) use ( $transport, $clock ) {
				return new Bazgasht_Api_Client( $url, $store, new Bazgasht_Request_Signer( $secret ), $transport, $clock );
			},
			$clock
		);
		$storefront           = new Bazgasht_Storefront( $this->backend, $formatter );
		$storefront->redirect = static function ( $url ) {
			throw new Bazgasht_Test_Redirect( $url );
		};
		return $storefront;
	}

	/**
	 * The Points section from a live answer: balance, value, pending, expiry, coupons, history.
	 */
	public function test_points_page_live() {
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$this->transport->answer(
			200,
			array(
				'entries' => array(
					array( 'at' => '2026-04-02T09:00:00Z', 'points' => 65, 'kind' => 'earn', 'source' => 'cashback', 'reason' => 'x', 'order_id' => 1234 ),
					array( 'at' => '2026-04-03T09:00:00Z', 'points' => -500, 'kind' => 'redemption', 'source' => 'redemption', 'reason' => 'x', 'order_id' => null, 'coupon_code' => 'bz-8d90-17-k2cc' ),
				),
			)
		);
		$html = $this->storefront->points_page_html( self::USER );
		$this->assertStringContainsString( 'Sara, here are your points.', $html );
		$this->assertStringContainsString( '<dd class="bazgasht-balance">1,340 points</dd>', $html );
		$this->assertStringContainsString( '1,240 points, worth $12.40', $html );
		$this->assertStringContainsString( '<dd class="bazgasht-pending">100 points</dd>', $html );
		$this->assertStringContainsString( '300 points expire on 2030-03-01.', $html );
		$this->assertStringContainsString( '<code>bz-8d90-17-k2cc</code></td><td>$5.00</td><td>2030-01-31</td>', $html );
		$this->assertStringContainsString( 'Cashback on order 1,234', $html );
		$this->assertStringContainsString( 'Redeemed for coupon bz-8d90-17-k2cc', $html );
		$this->assertStringContainsString( '<bdi>+65</bdi>', $html );
		$this->assertStringContainsString( '<bdi>-500</bdi>', $html );
		$this->assertStringNotContainsString( 'out of date', $html );
		$this->assertSame( '/storefront/v1/stores/myshop/customers/42/history?limit=20', substr( $this->transport->sent[1]['url'], strlen( 'https://loyalty.example.com' ) ) );
	}

	/**
	 * A hostile display name and a hostile reason written by the shop owner are escaped.
	 */
	public function test_hostile_text_is_escaped() {
		$GLOBALS['bazgasht_test']['users'][ self::USER ] = (object) array( 'display_name' => self::HOSTILE );
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$this->transport->answer( 200, array( 'entries' => array( array( 'at' => '2026-04-04T09:00:00Z', 'points' => 10, 'kind' => 'manual', 'source' => 'manual', 'reason' => '<img src=x onerror=alert(1)>' ) ) ) );
		$html = $this->storefront->points_page_html( self::USER );
		$this->assertStringNotContainsString( '<script>', $html );
		$this->assertStringNotContainsString( '<img', $html );
		$this->assertStringContainsString( '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, here are your points.', $html );
		$this->assertStringContainsString( '&lt;img src=x onerror=alert(1)&gt;', $html );
	}

	/**
	 * Backend unreachable: the pushed meta, marked as possibly out of date; no redeeming;
	 * and the next page does not wait for the backend again.
	 */
	public function test_fallback_to_pushed_meta() {
		$GLOBALS['bazgasht_test']['user_meta'][ self::USER ]['bazgasht_loyalty'] = Bazgasht_Test_Data::meta();
		$this->transport->fail( 'cURL error 28: Operation timed out' );
		$html = $this->storefront->points_page_html( self::USER );
		$this->assertStringContainsString( '1,240 points, worth $12.40', $html );
		$this->assertStringContainsString( 'As of 2026-05-01 10:00; this may be out of date.', $html );
		$this->assertStringContainsString( 'Recent activity is shown when the points service is reachable.', $html );
		$this->assertCount( 1, $this->transport->sent );

		$cart = $this->storefront( new Bazgasht_Formatter( ',', '.', false, '%1$s%2$s' ) )->cart_box_html( self::USER, 'cart' );
		$this->assertCount( 1, $this->transport->sent, 'paused after the failure: no second wait' );
		$this->assertStringContainsString( 'You have 1,240 points worth $12.40.', $cart );
		$this->assertStringContainsString( 'Redeeming points is unavailable right now.', $cart );
		$this->assertStringNotContainsString( 'bazgasht_action" value="redeem"', $cart );
		$this->assertStringContainsString( 'bazgasht_action" value="apply"', $cart, 'an issued coupon can still be applied' );
		$last = get_option( 'bazgasht_last_contact' );
		$this->assertFalse( $last['ok'] );
		$this->assertStringContainsString( 'unreachable', $last['message'] );
	}

	/**
	 * Neither backend nor meta (or broken meta): a plain message, no error.
	 */
	public function test_nothing_to_show() {
		$GLOBALS['bazgasht_test']['user_meta'][ self::USER ]['bazgasht_loyalty'] = '{"v":1,"balance":';
		$this->transport->answer( 503, array( 'error' => array( 'code' => 'unavailable', 'message' => 'x' ) ) );
		$this->assertStringContainsString( 'Your points cannot be shown right now.', $this->storefront->points_page_html( self::USER ) );
		$this->assertSame( '', $this->storefront->cart_box_html( self::USER, 'cart' ) );
		$this->assertSame( '', $this->storefront->dashboard_line_html( self::USER ) );
	}

	/**
	 * A customer the backend does not know yet.
	 */
	public function test_unknown_customer() {
		$this->transport->answer( 404, array( 'error' => array( 'code' => 'unknown_customer', 'message' => 'x' ) ) );
		$this->assertStringContainsString( 'You have no points yet.', $this->storefront->points_page_html( self::USER ) );
		$this->assertFalse( get_transient( 'bazgasht_backend_paused' ), 'a refusal is an answer, not an outage' );
	}

	/**
	 * Guests see nothing.
	 */
	public function test_guests() {
		$this->assertSame( '', $this->storefront->points_page_html( 0 ) );
		$this->assertSame( '', $this->storefront->cart_box_html( 0, 'cart' ) );
		$this->assertSame( array(), $this->transport->sent );
	}

	/**
	 * The cart box: "use them" with the points that cover the cart, and a nonce.
	 */
	public function test_cart_box_live() {
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$this->transport->answer( 200, Bazgasht_Test_Data::usd_program() );
		$html = $this->storefront->cart_box_html( self::USER, 'checkout' );
		$this->assertStringContainsString( 'You have 1,240 points worth $12.40.', $html );
		$this->assertStringContainsString( 'min="500" max="1240" step="1" value="1240"', $html, 'the cart (30.00) needs 3,000 points: all 1,240 are suggested' );
		$this->assertStringContainsString( 'name="bazgasht_nonce" value="' . wp_create_nonce( 'bazgasht_redeem' ) . '"', $html );
		$this->assertMatchesRegularExpression( '/name="bazgasht_request" value="[0-9a-f-]{36}"/', $html );
		$this->assertStringContainsString( 'name="bazgasht_return" value="checkout"', $html );
		$this->assertStringContainsString( 'Your reward coupon bz-8d90-17-k2cc ($5.00, valid until 2030-01-31)', $html );

		$GLOBALS['bazgasht_test']['cart']->contents_total = 7.0;
		$GLOBALS['bazgasht_test']['cart']->coupons        = array( 'bz-8d90-17-k2cc' );
		$again = $this->storefront( new Bazgasht_Formatter( ',', '.', false, '%1$s%2$s' ) );
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$html = $again->cart_box_html( self::USER, 'cart' );
		$this->assertStringContainsString( 'value="700"', $html, 'a 7.00 cart needs only 700 points' );
		$this->assertStringNotContainsString( 'bz-8d90-17-k2cc', $html, 'a coupon already in the cart is not offered again' );
	}

	/**
	 * Below the minimum, or below zero: no form, a reason.
	 */
	public function test_cart_box_cannot_redeem() {
		$this->transport->answer( 200, Bazgasht_Test_Data::customer( array( 'spendable' => 120, 'value' => '1.20', 'can_redeem' => false, 'coupons' => array() ) ) );
		$html = $this->storefront->cart_box_html( self::USER, 'cart' );
		$this->assertStringContainsString( 'You can use your points once you have 500 points.', $html );
		$this->assertStringNotContainsString( '<form', $html );
		$this->transport->answer( 200, Bazgasht_Test_Data::customer( array( 'balance' => -200, 'spendable' => 0, 'value' => '0.00', 'can_redeem' => false ) ) );
		$html = $this->storefront( new Bazgasht_Formatter() )->cart_box_html( self::USER, 'cart' );
		$this->assertStringContainsString( 'below zero', $html );
	}

	/**
	 * Redeeming: the logged-in user's id goes to the backend, the coupon lands in the cart.
	 */
	public function test_redeem_applies_the_coupon() {
		$this->transport->answer( 201, Bazgasht_Test_Data::redemption() );
		$request = Bazgasht_Api_Client::new_request_id();
		$url     = $this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => '600', 'bazgasht_request' => $request ) ), self::USER );
		$this->assertSame( 'https://shop.test/cart/', $url );
		$this->assertStringEndsWith( '/stores/myshop/customers/42/redemptions', $this->transport->sent[0]['url'] );
		$this->assertSame( json_encode( array( 'points' => 600, 'request_id' => $request ) ), $this->transport->sent[0]['body'] );
		$this->assertSame( array( 'bz-8d90-18-m3qa' ), $GLOBALS['bazgasht_test']['cart']->coupons );
		$this->assertSame( array( array( 'success', '600 points redeemed: coupon bz-8d90-18-m3qa worth $6.00.' ) ), $GLOBALS['bazgasht_test']['notices'] );
	}

	/**
	 * The whole POST path: wp_loaded reads $_POST (slashed, as WordPress gives it) and redirects.
	 */
	public function test_handle_post_redirects() {
		$this->transport->answer( 201, Bazgasht_Test_Data::redemption() );
		$_POST = $this->form( 'redeem', array( 'bazgasht_points' => '600', 'bazgasht_request' => Bazgasht_Api_Client::new_request_id(), 'bazgasht_return' => 'checkout' ) );
		try {
			$this->storefront->handle_post();
			$this->fail( 'no redirect' );
		} catch ( Bazgasht_Test_Redirect $e ) {
			$this->assertSame( 'https://shop.test/checkout/', $e->getMessage() );
		} finally {
			$_POST = array();
		}
		$this->storefront->handle_post();
		$this->assertCount( 1, $this->transport->sent, 'a request without our form does nothing' );
	}

	/**
	 * A form with a wrong nonce, or from a guest, sends nothing to the backend.
	 */
	public function test_forms_need_a_nonce_and_a_login() {
		$fields                   = $this->form( 'redeem', array( 'bazgasht_points' => '600', 'bazgasht_request' => Bazgasht_Api_Client::new_request_id() ) );
		$fields['bazgasht_nonce'] = 'forged';
		$this->storefront->handle_form( $fields, self::USER );
		$this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => '600' ) ), 0 );
		$this->assertSame( array(), $this->transport->sent );
		$this->assertSame( 'error', $GLOBALS['bazgasht_test']['notices'][0][0] );
		$this->assertSame( 'That form had expired. Please try again.', $GLOBALS['bazgasht_test']['notices'][0][1] );
		$this->assertSame( 'Please log in to use your points.', $GLOBALS['bazgasht_test']['notices'][1][1] );
	}

	/**
	 * Typed points that are not a whole number are refused locally.
	 */
	public function test_bad_points_are_refused_locally() {
		foreach ( array( '', '12.5', '-3', '0', '1e3', 'lots' ) as $points ) {
			$this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => $points, 'bazgasht_request' => Bazgasht_Api_Client::new_request_id() ) ), self::USER );
		}
		$this->assertSame( array(), $this->transport->sent );
		$this->assertCount( 6, $GLOBALS['bazgasht_test']['notices'] );
	}

	/**
	 * The backend's refusals become the customer's messages; nothing is applied.
	 */
	public function test_refusal_messages() {
		$this->transport->answer( 422, array( 'error' => array( 'code' => 'insufficient_balance', 'message' => 'x' ) ) );
		$this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => '5000', 'bazgasht_request' => Bazgasht_Api_Client::new_request_id() ) ), self::USER );
		$this->assertSame( array( array( 'error', 'You do not have that many points available.' ) ), $GLOBALS['bazgasht_test']['notices'] );
		$this->assertSame( array(), $GLOBALS['bazgasht_test']['cart']->coupons );
	}

	/**
	 * Unknown outcome (timeout): the next form reuses the request id, so a retry cannot
	 * redeem twice.
	 */
	public function test_timeout_keeps_the_request_id() {
		$request = Bazgasht_Api_Client::new_request_id();
		$this->transport->fail( 'cURL error 28: Operation timed out after 15000 milliseconds' );
		$this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => '700', 'bazgasht_request' => $request ) ), self::USER );
		$this->assertSame( 'Redeeming points is unavailable right now. Please try again later.', $GLOBALS['bazgasht_test']['notices'][0][1] );

		delete_transient( 'bazgasht_backend_paused' );
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$html = $this->storefront( new Bazgasht_Formatter() )->cart_box_html( self::USER, 'cart' );
		$this->assertStringContainsString( 'name="bazgasht_request" value="' . $request . '"', $html );
		$this->assertStringContainsString( 'value="700"', $html );

		$this->transport->answer( 201, Bazgasht_Test_Data::redemption( array( 'points' => 700, 'amount' => '7.00' ) ) );
		$this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => '700', 'bazgasht_request' => $request ) ), self::USER );
		$this->assertNull( $GLOBALS['bazgasht_test']['session']->get( 'bazgasht_attempt' ), 'settled: the next form gets a new id' );
	}

	/**
	 * A coupon still being created is announced, not applied.
	 */
	public function test_pending_redemption() {
		$this->transport->answer( 202, Bazgasht_Test_Data::redemption( array( 'status' => 'pending' ) ) );
		$this->storefront->handle_form( $this->form( 'redeem', array( 'bazgasht_points' => '600', 'bazgasht_request' => Bazgasht_Api_Client::new_request_id() ) ), self::USER );
		$this->assertSame( 'notice', $GLOBALS['bazgasht_test']['notices'][0][0] );
		$this->assertStringContainsString( 'is being created', $GLOBALS['bazgasht_test']['notices'][0][1] );
		$this->assertSame( array(), $GLOBALS['bazgasht_test']['cart']->coupons );
	}

	/**
	 * "Apply" works for the customer's own issued coupons only.
	 */
	public function test_apply_own_coupon_only() {
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$this->storefront->handle_form( $this->form( 'apply', array( 'bazgasht_code' => 'someone-elses-code' ) ), self::USER );
		$this->assertSame( array(), $GLOBALS['bazgasht_test']['cart']->coupons );
		$this->storefront->handle_form( $this->form( 'apply', array( 'bazgasht_code' => 'bz-8d90-17-k2cc' ) ), self::USER );
		$this->assertSame( array( 'bz-8d90-17-k2cc' ), $GLOBALS['bazgasht_test']['cart']->coupons );
	}

	/**
	 * "Earn N points" on product pages, from the program.
	 */
	public function test_earn_line() {
		$this->transport->answer( 200, Bazgasht_Test_Data::usd_program() );
		$this->assertSame( '<p class="bazgasht-earn">Earn 65 points with this purchase.</p>', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '32.68' ) ) );
		$this->assertSame( '<p class="bazgasht-earn">Earn 71 points with this purchase.</p>', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '32.68', 0.09 ) ), '"paid" base: 35.62 with tax' );
		$this->assertSame( '<p class="bazgasht-earn">Earn 20 to 65 points with this purchase.</p>', $this->storefront->earn_line_html( new Bazgasht_Test_Variable_Product( '10.00', '32.68' ) ) );
		$this->assertSame( '', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '0.40' ) ) );
		$this->assertSame( '', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '' ) ) );
		$this->assertSame( '', $this->storefront->earn_line_html( null ) );
		$this->assertCount( 1, $this->transport->sent, 'the program is fetched once and kept' );
	}

	/**
	 * Items base (tax left out), cashback from the second order, and a toman store.
	 */
	public function test_earn_line_variants() {
		set_transient( 'bazgasht_program', Bazgasht_Test_Data::usd_program( array( 'cashback_base' => 'items', 'cashback_from_order' => 2 ) ) );
		$this->assertSame( '<p class="bazgasht-earn">Earn 65 points with this purchase. Points are earned from your order number 2 on.</p>', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '32.68', 0.09 ) ) );
		set_transient( 'bazgasht_program', Bazgasht_Test_Data::irt_program() );
		$this->assertSame( '<p class="bazgasht-earn">Earn 18,700 points with this purchase.</p>', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '935000' ) ) );
	}

	/**
	 * No program reachable and none kept: no line; a kept one is used when unreachable.
	 */
	public function test_earn_line_without_backend() {
		$this->transport->fail( 'refused' );
		$this->assertSame( '', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '32.68' ) ) );
		update_option( 'bazgasht_program_last', Bazgasht_Test_Data::usd_program() );
		$this->assertStringContainsString( 'Earn 65 points', $this->storefront->earn_line_html( new Bazgasht_Test_Product( '32.68' ) ) );
	}

	/**
	 * Persian: the fa_IR translation and Persian digits.
	 */
	public function test_persian() {
		$GLOBALS['bazgasht_test']['translations'] = Bazgasht_Test_Mo::read( dirname( __DIR__, 2 ) . '/languages/bazgasht-fa_IR.mo' );
		$this->transport->answer( 200, Bazgasht_Test_Data::customer( array( 'currency' => 'IRT', 'value' => '1240', 'coupons' => array() ) ) );
		set_transient( 'bazgasht_program', Bazgasht_Test_Data::irt_program() );
		$persian = $this->storefront( new Bazgasht_Formatter( '٬', '٫', true, '%2$s %1$s' ) );
		$html    = $persian->cart_box_html( self::USER, 'cart' );
		$this->assertStringContainsString( 'شما ۱٬۲۴۰ امتیاز به ارزش ۱٬۲۴۰ تومان دارید.', $html );
		$this->assertStringContainsString( 'استفاده کنید', $html );
		$GLOBALS['bazgasht_test']['user_meta'][ self::USER ]['bazgasht_loyalty'] = Bazgasht_Test_Data::meta();
		$this->transport->fail( 'down' );
		$page = $this->storefront( new Bazgasht_Formatter( '٬', '٫', true, '%2$s %1$s' ) )->points_page_html( self::USER );
		$this->assertStringContainsString( "تا \u{2068}۲۰۲۶-۰۵-۰۱ ۱۰:۰۰\u{2069}؛ ممکن است به‌روز نباشد.", $page, 'dates keep their order in RTL' );
		$this->assertSame( '<p class="bazgasht-earn">با این خرید ۱۸٬۷۰۰ امتیاز می‌گیرید.</p>', $persian->earn_line_html( new Bazgasht_Test_Product( '935000' ) ) );
	}

	/**
	 * "Points" joins the My Account menu before "Log out"; the endpoint is registered.
	 */
	public function test_menu_and_endpoint() {
		$items = $this->storefront->menu_items( array( 'dashboard' => 'Dashboard', 'orders' => 'Orders', 'customer-logout' => 'Log out' ) );
		$this->assertSame( array( 'dashboard', 'orders', 'points', 'customer-logout' ), array_keys( $items ) );
		$this->assertSame( array( 'orders' => 'orders', 'points' => 'points' ), $this->storefront->query_vars( array( 'orders' => 'orders' ) ) );
		$this->storefront->register();
		$this->assertArrayHasKey( 'woocommerce_account_points_endpoint', $GLOBALS['bazgasht_test']['actions'] );
		$this->assertArrayHasKey( 'render_block', $GLOBALS['bazgasht_test']['filters'] );
	}

	/**
	 * The Cart block gets the box too; other blocks are left alone.
	 */
	public function test_blocks() {
		$this->transport->answer( 200, Bazgasht_Test_Data::customer() );
		$this->transport->answer( 200, Bazgasht_Test_Data::usd_program() );
		$this->assertSame( '<p>x</p>', $this->storefront->add_box_to_block( '<p>x</p>', array( 'blockName' => 'core/paragraph' ) ) );
		$html = $this->storefront->add_box_to_block( '<div class="wc-block-cart"></div>', array( 'blockName' => 'woocommerce/cart' ) );
		$this->assertStringStartsWith( '<div class="bazgasht-cart-box', $html );
		$this->assertStringEndsWith( '<div class="wc-block-cart"></div>', $html );
	}

	/**
	 * A form's fields, as the cart box makes them.
	 *
	 * @param string $action  "redeem" or "apply".
	 * @param array  $changes Fields.
	 * @return array
	 */
	private function form( $action, array $changes ) {
		return array_merge(
			array(
				'bazgasht_action'  => $action,
				'bazgasht_nonce'   => wp_create_nonce( 'bazgasht_' . $action ),
				'bazgasht_points'  => '',
				'bazgasht_request' => '',
				'bazgasht_code'    => '',
				'bazgasht_return'  => 'cart',
			),
			$changes
		);
	}
}
