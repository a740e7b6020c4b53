<?php
/**
 * What customers see: the Points section of My Account, the points line in cart and
 * checkout, and "earn N points" on product pages.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Thin WordPress/WooCommerce glue. Every HTML fragment is built by a *_html() method that
 * escapes each dynamic part (customer names, coupon codes, the shop owner's reasons) and
 * returns a string, so tests can look at it; the hook callbacks only echo them.
 */
class Bazgasht_Storefront {

	const ENDPOINT = 'points';

	/**
	 * How many recent entries the Points section shows.
	 */
	const HISTORY_LIMIT = 20;

	/**
	 * The backend.
	 *
	 * @var Bazgasht_Backend
	 */
	private $backend;

	/**
	 * Formatter for numbers and money.
	 *
	 * @var Bazgasht_Formatter
	 */
	private $formatter;

	/**
	 * Sends the browser elsewhere and ends the request (replaced in tests).
	 *
	 * @var callable
	 */
	public $redirect;

	/**
	 * Constructor.
	 *
	 * @param Bazgasht_Backend   $backend   The backend.
	 * @param Bazgasht_Formatter $formatter Formatter.
	 */
	public function __construct( Bazgasht_Backend $backend, Bazgasht_Formatter $formatter ) {
		$this->backend   = $backend;
		$this->formatter = $formatter;
		$this->redirect  = static function ( $url ) {
			wp_safe_redirect( $url );
			exit;
		};
	}

	/**
	 * Hook into WordPress and WooCommerce.
	 */
	public function register() {
		add_filter( 'woocommerce_get_query_vars', array( $this, 'query_vars' ) );
		add_filter( 'woocommerce_account_menu_items', array( $this, 'menu_items' ) );
		add_filter( 'woocommerce_endpoint_' . self::ENDPOINT . '_title', array( $this, 'endpoint_title' ) );
		add_action( 'woocommerce_account_' . self::ENDPOINT . '_endpoint', array( $this, 'print_points_page' ) );
		add_action( 'woocommerce_account_dashboard', array( $this, 'print_dashboard_line' ) );
		add_action( 'woocommerce_before_cart', array( $this, 'print_cart_box' ) );
		add_action( 'woocommerce_before_checkout_form', array( $this, 'print_checkout_box' ), 5 );
		add_filter( 'render_block', array( $this, 'add_box_to_block' ), 10, 2 );
		add_action( 'woocommerce_single_product_summary', array( $this, 'print_earn_line' ), 11 );
		add_action( 'wp_loaded', array( $this, 'handle_post' ), 20 );
		add_action( 'wp_enqueue_scripts', array( $this, 'enqueue_styles' ) );
	}

	/**
	 * Styles, with the right-to-left copy for RTL languages.
	 */
	public function enqueue_styles() {
		wp_enqueue_style( 'bazgasht', plugins_url( 'assets/css/bazgasht.css', BAZGASHT_PLUGIN_FILE ), array(), BAZGASHT_VERSION );
		wp_style_add_data( 'bazgasht', 'rtl', 'replace' );
	}

	/**
	 * Register the My Account endpoint with WooCommerce.
	 *
	 * @param array $vars Query vars.
	 * @return array
	 */
	public function query_vars( $vars ) {
		$vars[ self::ENDPOINT ] = self::ENDPOINT;
		return $vars;
	}

	/**
	 * Add "Points" to the My Account menu, before "Log out".
	 *
	 * @param array $items Menu items.
	 * @return array
	 */
	public function menu_items( $items ) {
		$logout = isset( $items['customer-logout'] ) ? array( 'customer-logout' => $items['customer-logout'] ) : array();
		unset( $items['customer-logout'] );
		$items[ self::ENDPOINT ] = __( 'Points', 'bazgasht' );
		return $items + $logout;
	}

	/**
	 * Title of the endpoint's page.
	 *
	 * @return string
	 */
	public function endpoint_title() {
		return __( 'Points', 'bazgasht' );
	}

	/**
	 * Print the Points section.
	 */
	public function print_points_page() {
		echo $this->points_page_html( get_current_user_id() ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in points_page_html().
	}

	/**
	 * Print the summary on the My Account dashboard.
	 */
	public function print_dashboard_line() {
		echo $this->dashboard_line_html( get_current_user_id() ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in dashboard_line_html().
	}

	/**
	 * Print the points box at the top of the classic cart.
	 */
	public function print_cart_box() {
		echo $this->cart_box_html( get_current_user_id(), 'cart' ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in cart_box_html().
	}

	/**
	 * Print the points box at the top of the classic checkout.
	 */
	public function print_checkout_box() {
		echo $this->cart_box_html( get_current_user_id(), 'checkout' ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in cart_box_html().
	}

	/**
	 * Put the points box above the Cart and Checkout blocks (stores using the blocks fire
	 * none of the classic hooks). Server-rendered, so no JavaScript build is needed.
	 *
	 * @param string $content Block HTML.
	 * @param array  $block   Parsed block.
	 * @return string
	 */
	public function add_box_to_block( $content, $block ) {
		$name = isset( $block['blockName'] ) ? $block['blockName'] : '';
		if ( 'woocommerce/cart' !== $name && 'woocommerce/checkout' !== $name ) {
			return $content;
		}
		return $this->cart_box_html( get_current_user_id(), 'woocommerce/cart' === $name ? 'cart' : 'checkout' ) . $content;
	}

	/**
	 * Print "earn N points" under the product's price.
	 */
	public function print_earn_line() {
		global $product;
		echo $this->earn_line_html( $product ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in earn_line_html().
	}

	/**
	 * The Points section of My Account.
	 *
	 * @param int $user_id Logged-in user.
	 * @return string HTML.
	 */
	public function points_page_html( $user_id ) {
		if ( $user_id < 1 ) {
			return '';
		}
		$view  = $this->backend->customer_view( $user_id );
		$state = $view['state'];
		$now   = $this->backend->now();
		$user  = get_userdata( $user_id );
		$name  = $user && isset( $user->display_name ) ? (string) $user->display_name : '';
		$html  = '<div class="bazgasht-points">';
		if ( '' !== $name ) {
			/* translators: %s: the customer's name */
			$html .= '<p class="bazgasht-greeting">' . esc_html( sprintf( __( '%s, here are your points.', 'bazgasht' ), $name ) ) . '</p>';
		}
		if ( null === $state ) {
			$html .= '<p class="bazgasht-empty">' . esc_html( $view['known'] ? __( 'Your points cannot be shown right now. Please try again later.', 'bazgasht' ) : __( 'You have no points yet. You earn points with every purchase.', 'bazgasht' ) ) . '</p>';
			return $html . '</div>';
		}
		$html .= $this->stale_html( $state );
		$html .= '<dl class="bazgasht-summary">';
		$html .= '<dt>' . esc_html__( 'Balance', 'bazgasht' ) . '</dt><dd class="bazgasht-balance">' . esc_html( $this->points_text( $state->balance ) ) . '</dd>';
		$html .= '<dt>' . esc_html__( 'Available to spend', 'bazgasht' ) . '</dt><dd class="bazgasht-spendable">' . esc_html(
			sprintf(
				/* translators: 1: points, 2: money */
				__( '%1$s, worth %2$s', 'bazgasht' ),
				$this->points_text( $state->spendable ),
				$this->money( $state->value, $state->currency )
			)
		) . '</dd>';
		if ( null !== $state->pending && $state->pending > 0 ) {
			$html .= '<dt>' . esc_html__( 'Pending', 'bazgasht' ) . '</dt><dd class="bazgasht-pending">' . esc_html( $this->points_text( $state->pending ) ) . '</dd>';
		}
		$html    .= '</dl>';
		$expiring = $state->expiring_after( $now );
		if ( null !== $expiring ) {
			$html .= '<p class="bazgasht-expiring">' . esc_html(
				sprintf(
					/* translators: 1: points, 2: date */
					_n( '%1$s point expires on %2$s.', '%1$s points expire on %2$s.', $expiring['points'], 'bazgasht' ),
					$this->formatter->integer( $expiring['points'] ),
					$this->date( $expiring['on'] )
				)
			) . '</p>';
		}
		if ( $state->balance < 0 ) {
			$html .= '<p class="bazgasht-negative">' . esc_html__( 'Your balance is below zero because points you had spent were taken back after a refund. You can redeem again once new purchases bring it above zero.', 'bazgasht' ) . '</p>';
		}
		$html .= $this->coupons_html( $state->open_coupons( $now ), $state->currency );
		$html .= $this->history_html( $state->live ? $this->backend->history( $user_id, self::HISTORY_LIMIT ) : null, $state->live );
		return $html . '</div>';
	}

	/**
	 * One line for the My Account dashboard.
	 *
	 * @param int $user_id Logged-in user.
	 * @return string HTML.
	 */
	public function dashboard_line_html( $user_id ) {
		if ( $user_id < 1 ) {
			return '';
		}
		$state = $this->backend->customer_view( $user_id )['state'];
		if ( null === $state ) {
			return '';
		}
		$link = '<a href="' . esc_url( wc_get_account_endpoint_url( self::ENDPOINT ) ) . '">' . esc_html__( 'See your points', 'bazgasht' ) . '</a>';
		return '<p class="bazgasht-dashboard">' . esc_html( $this->have_text( $state ) ) . ' ' . $link . '</p>';
	}

	/**
	 * The box in cart and checkout: the balance, "use them", and open reward coupons.
	 *
	 * @param int    $user_id Logged-in user.
	 * @param string $where   "cart" or "checkout" (where to come back to).
	 * @return string HTML.
	 */
	public function cart_box_html( $user_id, $where ) {
		if ( $user_id < 1 ) {
			return '';
		}
		$state = $this->backend->customer_view( $user_id )['state'];
		if ( null === $state ) {
			return '';
		}
		$html  = '<div class="bazgasht-cart-box woocommerce-info">';
		$html .= '<p class="bazgasht-have">' . esc_html( $this->have_text( $state ) ) . '</p>';
		$html .= $this->stale_html( $state );
		if ( ! $state->live ) {
			$html .= '<p class="bazgasht-unavailable">' . esc_html__( 'Redeeming points is unavailable right now. Please try again later.', 'bazgasht' ) . '</p>';
		} elseif ( $state->redeemable() ) {
			$html .= $this->redeem_form_html( $state, $where );
		} elseif ( $state->balance < 0 ) {
			$html .= '<p class="bazgasht-negative">' . esc_html__( 'Your balance is below zero, so points cannot be redeemed until new purchases bring it above zero.', 'bazgasht' ) . '</p>';
		} elseif ( null !== $state->min_redeem_points && $state->spendable < $state->min_redeem_points ) {
			/* translators: %s: points */
			$html .= '<p class="bazgasht-minimum">' . esc_html( sprintf( __( 'You can use your points once you have %s.', 'bazgasht' ), $this->points_text( $state->min_redeem_points ) ) ) . '</p>';
		}
		foreach ( $state->open_coupons( $this->backend->now() ) as $coupon ) {
			if ( 'issued' !== $coupon['status'] || $this->cart_has_coupon( $coupon['code'] ) ) {
				continue;
			}
			$html .= $this->apply_form_html( $coupon, $state->currency, $where );
		}
		return $html . '</div>';
	}

	/**
	 * "Earn N points" for a product.
	 *
	 * @param mixed $product WC_Product (or anything else: then nothing).
	 * @return string HTML.
	 */
	public function earn_line_html( $product ) {
		if ( ! is_object( $product ) || ! method_exists( $product, 'get_price' ) ) {
			return '';
		}
		$program = $this->backend->program();
		if ( null === $program ) {
			return '';
		}
		if ( method_exists( $product, 'get_variation_price' ) ) {
			$range = Bazgasht_Earn_Estimate::range(
				$this->price_for_cashback( $product, $product->get_variation_price( 'min' ), $program ),
				$this->price_for_cashback( $product, $product->get_variation_price( 'max' ), $program ),
				$program
			);
			if ( null === $range || 0 === $range[1] ) {
				return '';
			}
			$text = $range[0] === $range[1]
				? $this->earn_text( $range[0] )
				/* translators: 1: fewest points, 2: most points */
				: sprintf( __( 'Earn %1$s to %2$s points with this purchase.', 'bazgasht' ), $this->formatter->integer( $range[0] ), $this->formatter->integer( $range[1] ) );
		} else {
			$points = Bazgasht_Earn_Estimate::points( $this->price_for_cashback( $product, $product->get_price(), $program ), $program );
			if ( null === $points || 0 === $points ) {
				return '';
			}
			$text = $this->earn_text( $points );
		}
		if ( $program->cashback_from_order > 1 ) {
			/* translators: %s: an order number such as 2 */
			$text .= ' ' . sprintf( __( 'Points are earned from your order number %s on.', 'bazgasht' ), $this->formatter->integer( $program->cashback_from_order ) );
		}
		return '<p class="bazgasht-earn">' . esc_html( $text ) . '</p>';
	}

	/**
	 * Handle the forms of the cart box (on wp_loaded, before any output).
	 */
	public function handle_post() {
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- verified in handle_form().
		if ( ! isset( $_POST['bazgasht_action'] ) ) {
			return;
		}
		$fields = array();
		foreach ( array( 'bazgasht_action', 'bazgasht_nonce', 'bazgasht_points', 'bazgasht_request', 'bazgasht_code', 'bazgasht_return' ) as $key ) {
			$fields[ $key ] = isset( $_POST[ $key ] ) ? sanitize_text_field( wp_unslash( $_POST[ $key ] ) ) : '';
		}
		// phpcs:enable WordPress.Security.NonceVerification.Missing
		$url = $this->handle_form( $fields, get_current_user_id() );
		if ( '' !== $url ) {
			call_user_func( $this->redirect, $url );
		}
	}

	/**
	 * Do what a cart-box form asks, with notices for the customer.
	 *
	 * @param array $fields  Sanitized form fields.
	 * @param int   $user_id Logged-in user (the only customer whose points can be spent).
	 * @return string Where to send the browser ("" to carry on).
	 */
	public function handle_form( array $fields, $user_id ) {
		$action = sanitize_key( $fields['bazgasht_action'] );
		if ( ! in_array( $action, array( 'redeem', 'apply' ), true ) ) {
			return '';
		}
		$back = 'checkout' === $fields['bazgasht_return'] ? wc_get_checkout_url() : wc_get_cart_url();
		if ( $user_id < 1 ) {
			wc_add_notice( __( 'Please log in to use your points.', 'bazgasht' ), 'error' );
			return $back;
		}
		if ( ! wp_verify_nonce( $fields['bazgasht_nonce'], 'bazgasht_' . $action ) ) {
			wc_add_notice( __( 'That form had expired. Please try again.', 'bazgasht' ), 'error' );
			return $back;
		}
		if ( 'apply' === $action ) {
			$this->apply_coupon( $user_id, $fields['bazgasht_code'] );
		} else {
			$this->redeem( $user_id, $fields['bazgasht_points'], $fields['bazgasht_request'] );
		}
		return $back;
	}

	/**
	 * Redeem, then apply the coupon to the cart.
	 *
	 * @param int    $user_id    Logged-in user.
	 * @param string $points     Points as typed.
	 * @param string $request_id The form's request id.
	 */
	private function redeem( $user_id, $points, $request_id ) {
		if ( 1 !== preg_match( '/^\d{1,13}$/D', trim( $points ) ) || (int) $points < 1 ) {
			wc_add_notice( __( 'Please enter a whole number of points.', 'bazgasht' ), 'error' );
			return;
		}
		if ( ! Bazgasht_Api_Client::is_request_id( $request_id ) ) {
			wc_add_notice( __( 'That form had expired. Please try again.', 'bazgasht' ), 'error' );
			return;
		}
		try {
			$result = $this->backend->redeem( $user_id, (int) $points, $request_id );
		} catch ( Bazgasht_Api_Refusal $e ) {
			$this->forget_attempt();
			wc_add_notice( $this->refusal_text( $e->error_code ), 'error' );
			return;
		} catch ( Bazgasht_Api_Exception $e ) {
			// Maybe it happened, maybe not: the next form reuses this request id, so trying
			// again returns this redemption instead of making a second one.
			$this->remember_attempt( (int) $points, $request_id );
			wc_add_notice( __( 'Redeeming points is unavailable right now. Please try again later.', 'bazgasht' ), 'error' );
			return;
		}
		$this->forget_attempt();
		$amount = $this->money( $result['amount'], $result['currency'] );
		if ( 'issued' === $result['status'] ) {
			wc_add_notice(
				sprintf(
					/* translators: 1: points, 2: coupon code, 3: money */
					__( '%1$s redeemed: coupon %2$s worth %3$s.', 'bazgasht' ),
					$this->points_text( $result['points'] ),
					$result['code'],
					$amount
				),
				'success'
			);
			$this->apply_to_cart( $result['code'] );
		} elseif ( 'pending' === $result['status'] ) {
			wc_add_notice(
				sprintf(
					/* translators: 1: coupon code, 2: money */
					__( 'Your coupon %1$s worth %2$s is being created. It will appear here in a minute; you can then apply it.', 'bazgasht' ),
					$result['code'],
					$amount
				),
				'notice'
			);
		} else {
			wc_add_notice( __( 'That redemption can no longer be used. Your points were returned if it was never used.', 'bazgasht' ), 'error' );
		}
	}

	/**
	 * Apply one of the customer's own open reward coupons.
	 *
	 * @param int    $user_id Logged-in user.
	 * @param string $code    Code as posted.
	 */
	private function apply_coupon( $user_id, $code ) {
		$state = $this->backend->customer_view( $user_id )['state'];
		$mine  = false;
		if ( null !== $state ) {
			foreach ( $state->open_coupons( $this->backend->now() ) as $coupon ) {
				$mine = $mine || ( 'issued' === $coupon['status'] && $coupon['code'] === $code );
			}
		}
		if ( ! $mine ) {
			wc_add_notice( __( 'That reward coupon is not one of yours, or it has expired.', 'bazgasht' ), 'error' );
			return;
		}
		$this->apply_to_cart( $code );
	}

	/**
	 * Apply a coupon to the cart; WooCommerce adds its own success or error notice.
	 *
	 * @param string $code Coupon code.
	 */
	private function apply_to_cart( $code ) {
		if ( function_exists( 'WC' ) && WC()->cart && ! WC()->cart->has_discount( $code ) ) {
			WC()->cart->apply_coupon( $code );
		}
	}

	/**
	 * Whether the cart already holds a coupon.
	 *
	 * @param string $code Coupon code.
	 * @return bool
	 */
	private function cart_has_coupon( $code ) {
		return function_exists( 'WC' ) && WC()->cart && WC()->cart->has_discount( $code );
	}

	/**
	 * The "use them" form.
	 *
	 * @param Bazgasht_Loyalty_State $state Live state.
	 * @param string                 $where "cart" or "checkout".
	 * @return string HTML.
	 */
	private function redeem_form_html( Bazgasht_Loyalty_State $state, $where ) {
		$attempt = $this->attempt();
		$points  = null !== $attempt ? $attempt['points'] : $this->suggested_points( $state );
		$request = null !== $attempt ? $attempt['request_id'] : Bazgasht_Api_Client::new_request_id();
		$html    = '<form class="bazgasht-redeem" method="post">';
		$html   .= '<input type="hidden" name="bazgasht_action" value="redeem" />';
		$html   .= '<input type="hidden" name="bazgasht_nonce" value="' . esc_attr( wp_create_nonce( 'bazgasht_redeem' ) ) . '" />';
		$html   .= '<input type="hidden" name="bazgasht_request" value="' . esc_attr( $request ) . '" />';
		$html   .= '<input type="hidden" name="bazgasht_return" value="' . esc_attr( $where ) . '" />';
		$html   .= '<label for="bazgasht_points_' . esc_attr( $where ) . '">' . esc_html__( 'Points to use', 'bazgasht' ) . '</label> ';
		$html   .= '<input type="number" id="bazgasht_points_' . esc_attr( $where ) . '" name="bazgasht_points" min="' . esc_attr( (string) $state->min_redeem_points ) . '" max="' . esc_attr( (string) $state->spendable ) . '" step="1" value="' . esc_attr( (string) $points ) . '" /> ';
		$html   .= '<button type="submit" class="button">' . esc_html__( 'Use them', 'bazgasht' ) . '</button>';
		return $html . '</form>';
	}

	/**
	 * The "apply" form of an issued coupon not in the cart yet.
	 *
	 * @param array  $coupon   Coupon.
	 * @param string $currency Currency code.
	 * @param string $where    "cart" or "checkout".
	 * @return string HTML.
	 */
	private function apply_form_html( array $coupon, $currency, $where ) {
		$html  = '<form class="bazgasht-apply" method="post">';
		$html .= '<input type="hidden" name="bazgasht_action" value="apply" />';
		$html .= '<input type="hidden" name="bazgasht_nonce" value="' . esc_attr( wp_create_nonce( 'bazgasht_apply' ) ) . '" />';
		$html .= '<input type="hidden" name="bazgasht_code" value="' . esc_attr( $coupon['code'] ) . '" />';
		$html .= '<input type="hidden" name="bazgasht_return" value="' . esc_attr( $where ) . '" />';
		$html .= '<span>' . esc_html(
			sprintf(
				/* translators: 1: coupon code, 2: money, 3: date */
				__( 'Your reward coupon %1$s (%2$s, valid until %3$s)', 'bazgasht' ),
				$coupon['code'],
				$this->money( $coupon['amount'], $currency ),
				$this->date( $coupon['expires_at'] )
			)
		) . '</span> ';
		$html .= '<button type="submit" class="button">' . esc_html__( 'Apply', 'bazgasht' ) . '</button>';
		return $html . '</form>';
	}

	/**
	 * The points that cover the cart (never more than the customer has, never fewer than
	 * the minimum): a fixed-cart coupon larger than the cart would waste the rest.
	 *
	 * @param Bazgasht_Loyalty_State $state Live state.
	 * @return int
	 */
	private function suggested_points( Bazgasht_Loyalty_State $state ) {
		$points  = $state->spendable;
		$program = $this->backend->program();
		if ( null !== $program && function_exists( 'WC' ) && WC()->cart ) {
			$total = wc_format_decimal( WC()->cart->get_cart_contents_total() + WC()->cart->get_cart_contents_tax(), $program->decimals );
			if ( Bazgasht_Decimal::is_valid( $total ) ) {
				$points = min( $points, $program->points_for( $total ) );
			}
		}
		return max( (int) $state->min_redeem_points, $points );
	}

	/**
	 * Reward coupons, as a table.
	 *
	 * @param array[] $coupons  Open coupons.
	 * @param string  $currency Currency code.
	 * @return string HTML.
	 */
	private function coupons_html( array $coupons, $currency ) {
		if ( array() === $coupons ) {
			return '';
		}
		$html  = '<h3>' . esc_html__( 'Your reward coupons', 'bazgasht' ) . '</h3>';
		$html .= '<table class="bazgasht-coupons shop_table"><thead><tr><th>' . esc_html__( 'Code', 'bazgasht' ) . '</th><th>' . esc_html__( 'Worth', 'bazgasht' ) . '</th><th>' . esc_html__( 'Valid until', 'bazgasht' ) . '</th></tr></thead><tbody>';
		foreach ( $coupons as $coupon ) {
			$code  = 'pending' === $coupon['status'] ? sprintf( /* translators: %s: coupon code */ __( '%s (being created)', 'bazgasht' ), $coupon['code'] ) : $coupon['code'];
			$html .= '<tr><td><code>' . esc_html( $code ) . '</code></td><td>' . esc_html( $this->money( $coupon['amount'], $currency ) ) . '</td><td>' . esc_html( $this->date( $coupon['expires_at'] ) ) . '</td></tr>';
		}
		$html .= '</tbody></table><p class="bazgasht-hint">' . esc_html__( 'Apply a coupon in your cart; it works only with your e-mail address.', 'bazgasht' ) . '</p>';
		return $html;
	}

	/**
	 * Recent activity, as a table.
	 *
	 * @param array[]|null $entries Entries, or null when they could not be had.
	 * @param bool         $live    Whether the state was live.
	 * @return string HTML.
	 */
	private function history_html( $entries, $live ) {
		$html = '<h3>' . esc_html__( 'Recent activity', 'bazgasht' ) . '</h3>';
		if ( null === $entries ) {
			return $html . '<p class="bazgasht-empty">' . esc_html( $live ? __( 'Recent activity cannot be shown right now.', 'bazgasht' ) : __( 'Recent activity is shown when the points service is reachable.', 'bazgasht' ) ) . '</p>';
		}
		if ( array() === $entries ) {
			return $html . '<p class="bazgasht-empty">' . esc_html__( 'Nothing yet.', 'bazgasht' ) . '</p>';
		}
		$html .= '<table class="bazgasht-history shop_table"><thead><tr><th>' . esc_html__( 'Date', 'bazgasht' ) . '</th><th>' . esc_html__( 'What', 'bazgasht' ) . '</th><th>' . esc_html__( 'Points', 'bazgasht' ) . '</th></tr></thead><tbody>';
		foreach ( $entries as $entry ) {
			$sign   = $entry['points'] > 0 ? '+' : '';
			$class  = $entry['points'] < 0 ? 'bazgasht-debit' : 'bazgasht-credit';
			$html  .= '<tr><td>' . esc_html( $this->date( $entry['at'] ) ) . '</td><td>' . esc_html( $this->entry_text( $entry ) ) . '</td>';
			$html  .= '<td class="' . esc_attr( $class ) . '"><bdi>' . esc_html( $sign . $this->formatter->integer( $entry['points'] ) ) . '</bdi></td></tr>';
		}
		return $html . '</tbody></table>';
	}

	/**
	 * What an entry was, for the customer (translated from its source; the shop owner's
	 * own words only for manual adjustments).
	 *
	 * @param array $entry History entry.
	 * @return string
	 */
	private function entry_text( array $entry ) {
		$order    = null !== $entry['order_id'] ? $this->formatter->integer( $entry['order_id'] ) : '';
		$reversal = $entry['points'] < 0;
		switch ( $entry['source'] ) {
			case 'welcome':
				return $reversal ? __( 'Welcome points taken back', 'bazgasht' ) : __( 'Welcome points', 'bazgasht' );
			case 'second_purchase':
				/* translators: %s: order number */
				return '' !== $order ? sprintf( $reversal ? __( 'Second-purchase reward taken back (order %s)', 'bazgasht' ) : __( 'Second-purchase reward (order %s)', 'bazgasht' ), $order ) : __( 'Second-purchase reward', 'bazgasht' );
			case 'cashback':
				/* translators: %s: order number */
				return '' !== $order ? sprintf( $reversal ? __( 'Cashback taken back: order %s was refunded or cancelled', 'bazgasht' ) : __( 'Cashback on order %s', 'bazgasht' ), $order ) : __( 'Cashback', 'bazgasht' );
			case 'expiry':
				return __( 'Points expired', 'bazgasht' );
			case 'redemption':
				if ( null !== $entry['coupon_code'] ) {
					/* translators: %s: coupon code */
					return sprintf( $reversal ? __( 'Redeemed for coupon %s', 'bazgasht' ) : __( 'Points returned from coupon %s', 'bazgasht' ), $entry['coupon_code'] );
				}
				return $reversal ? __( 'Redeemed for a coupon', 'bazgasht' ) : __( 'Points returned from a coupon', 'bazgasht' );
			case 'manual':
				return '' !== $entry['reason'] ? $entry['reason'] : __( 'Adjustment by the store', 'bazgasht' );
			default:
				return 'transfer' === $entry['kind'] ? __( 'Points moved to your account', 'bazgasht' ) : __( 'Adjustment', 'bazgasht' );
		}
	}

	/**
	 * The "possibly out of date" note for pushed meta.
	 *
	 * @param Bazgasht_Loyalty_State $state State.
	 * @return string HTML.
	 */
	private function stale_html( Bazgasht_Loyalty_State $state ) {
		if ( $state->live ) {
			return '';
		}
		$when = $this->date( $state->updated_at, true );
		/* translators: %s: date and time */
		return '<p class="bazgasht-stale">' . esc_html( sprintf( __( 'As of %s; this may be out of date.', 'bazgasht' ), $when ) ) . '</p>';
	}

	/**
	 * "You have 1,240 points worth $12.40."
	 *
	 * @param Bazgasht_Loyalty_State $state State.
	 * @return string
	 */
	private function have_text( Bazgasht_Loyalty_State $state ) {
		return sprintf(
			/* translators: 1: points, 2: money */
			_n( 'You have %1$s point worth %2$s.', 'You have %1$s points worth %2$s.', max( 0, $state->spendable ), 'bazgasht' ),
			$this->formatter->integer( $state->spendable ),
			$this->money( $state->value, $state->currency )
		);
	}

	/**
	 * "Earn 65 points with this purchase."
	 *
	 * @param int $points Points.
	 * @return string
	 */
	private function earn_text( $points ) {
		/* translators: %s: points */
		return sprintf( _n( 'Earn %s point with this purchase.', 'Earn %s points with this purchase.', $points, 'bazgasht' ), $this->formatter->integer( $points ) );
	}

	/**
	 * "1,240 points".
	 *
	 * @param int $points Points.
	 * @return string
	 */
	private function points_text( $points ) {
		/* translators: %s: number of points */
		return sprintf( _n( '%s point', '%s points', abs( (int) $points ), 'bazgasht' ), $this->formatter->integer( $points ) );
	}

	/**
	 * An amount in the store's price format with its currency symbol.
	 *
	 * @param string $amount   Decimal string.
	 * @param string $currency Currency code.
	 * @return string Plain text.
	 */
	private function money( $amount, $currency ) {
		$symbol = function_exists( 'get_woocommerce_currency_symbol' ) ? get_woocommerce_currency_symbol( $currency ) : $currency;
		return $this->formatter->money( $amount, html_entity_decode( (string) $symbol, ENT_QUOTES, 'UTF-8' ) );
	}

	/**
	 * A date (and time) in the site's format and timezone, in the site's digits.
	 *
	 * @param int  $timestamp Unix time.
	 * @param bool $with_time Add the time of day.
	 * @return string
	 */
	private function date( $timestamp, $with_time = false ) {
		$format = get_option( 'date_format' ) . ( $with_time ? ' ' . get_option( 'time_format' ) : '' );
		return $this->formatter->date( (string) wp_date( $format, $timestamp ) );
	}

	/**
	 * The price cashback would be computed on, as a decimal string at the currency's
	 * decimals: with tax for the "paid" base, without for "items". WooCommerce's tax
	 * functions return floats; they become a decimal string here, once, rounded to the
	 * currency's decimals exactly as WooCommerce shows the price.
	 *
	 * @param object           $product WC_Product.
	 * @param mixed            $price   Raw price.
	 * @param Bazgasht_Program $program Program.
	 * @return string "" when the product has no price.
	 */
	private function price_for_cashback( $product, $price, Bazgasht_Program $program ) {
		if ( '' === $price || null === $price ) {
			return '';
		}
		$args  = array(
			'qty'   => 1,
			'price' => $price,
		);
		$gross = 'paid' === $program->cashback_base ? wc_get_price_including_tax( $product, $args ) : wc_get_price_excluding_tax( $product, $args );
		return (string) wc_format_decimal( $gross, $program->decimals );
	}

	/**
	 * The customer's message for a refusal.
	 *
	 * @param string $code Error code.
	 * @return string
	 */
	private function refusal_text( $code ) {
		switch ( $code ) {
			case 'below_minimum':
				return __( 'That is fewer points than the smallest redemption.', 'bazgasht' );
			case 'insufficient_balance':
				return __( 'You do not have that many points available.', 'bazgasht' );
			case 'negative_balance':
				return __( 'Your balance is below zero, so points cannot be redeemed until new purchases bring it above zero.', 'bazgasht' );
			case 'invalid_points':
				return __( 'Please enter a whole number of points.', 'bazgasht' );
			case 'unknown_customer':
				return __( 'You have no points yet. You earn points with every purchase.', 'bazgasht' );
			case 'request_id_conflict':
				return __( 'That form was already used for another amount. Please try again.', 'bazgasht' );
			default:
				/* translators: %s: an error code */
				return sprintf( __( 'Your points could not be redeemed (%s).', 'bazgasht' ), $code );
		}
	}

	/**
	 * A redemption whose outcome is unknown (the backend did not answer), if any.
	 *
	 * @return array{points: int, request_id: string}|null
	 */
	private function attempt() {
		$session = $this->session();
		$stored  = null !== $session ? $session->get( 'bazgasht_attempt' ) : null;
		if ( is_array( $stored ) && isset( $stored['points'], $stored['request_id'] ) && Bazgasht_Api_Client::is_request_id( $stored['request_id'] ) ) {
			return array(
				'points'     => (int) $stored['points'],
				'request_id' => (string) $stored['request_id'],
			);
		}
		return null;
	}

	/**
	 * Keep an attempt with an unknown outcome for the next form.
	 *
	 * @param int    $points     Points.
	 * @param string $request_id Request id.
	 */
	private function remember_attempt( $points, $request_id ) {
		$session = $this->session();
		if ( null !== $session ) {
			$session->set(
				'bazgasht_attempt',
				array(
					'points'     => $points,
					'request_id' => $request_id,
				)
			);
		}
	}

	/**
	 * Drop the kept attempt (its outcome is known now).
	 */
	private function forget_attempt() {
		$session = $this->session();
		if ( null !== $session ) {
			$session->set( 'bazgasht_attempt', null );
		}
	}

	/**
	 * WooCommerce's session, when there is one.
	 *
	 * @return object|null
	 */
	private function session() {
		return function_exists( 'WC' ) && isset( WC()->session ) && WC()->session ? WC()->session : null;
	}
}
