<?php
/**
 * The settings page: WooCommerce → Bazgasht.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Backend URL, store name and shared secret: stored, validated, and edited by users who
 * may manage WooCommerce. The secret is never printed back into any page.
 */
class Bazgasht_Settings {

	const CAPABILITY = 'manage_woocommerce';
	const PAGE       = 'bazgasht';

	/**
	 * The shortest shared secret accepted (the backend generates 64 hex digits).
	 */
	const MIN_SECRET_LENGTH = 32;

	/**
	 * Notices the page shows after a redirect, by code (the only codes accepted).
	 */
	const NOTICES = array( 'saved', 'bad_url', 'insecure_url', 'bad_store', 'short_secret', 'tested', 'test_failed' );

	/**
	 * Sends the browser elsewhere and ends the request (replaced in tests).
	 *
	 * @var callable
	 */
	public $redirect;

	/**
	 * The backend (set by the plugin once both exist).
	 *
	 * @var Bazgasht_Backend|null
	 */
	public $backend;

	/**
	 * Constructor.
	 */
	public function __construct() {
		$this->redirect = static function ( $url ) {
			wp_safe_redirect( $url );
			exit;
		};
	}

	/**
	 * Hook into WordPress.
	 */
	public function register() {
		add_action( 'admin_menu', array( $this, 'add_page' ), 60 );
		add_action( 'admin_post_bazgasht_save_settings', array( $this, 'handle_save' ) );
		add_action( 'admin_post_bazgasht_test_connection', array( $this, 'handle_test' ) );
	}

	/**
	 * The settings in force.
	 *
	 * @return array{backend_url: string, store: string, secret: string, secret_from_constant: bool}
	 */
	public function get() {
		$saved    = get_option( 'bazgasht_settings', array() );
		$saved    = is_array( $saved ) ? $saved : array();
		$constant = defined( 'BAZGASHT_SHARED_SECRET' ) && is_string( BAZGASHT_SHARED_SECRET ) && '' !== BAZGASHT_SHARED_SECRET;
		$secret   = $constant ? BAZGASHT_SHARED_SECRET : get_option( 'bazgasht_secret', '' );
		return array(
			'backend_url'          => isset( $saved['backend_url'] ) && is_string( $saved['backend_url'] ) ? $saved['backend_url'] : '',
			'store'                => isset( $saved['store'] ) && is_string( $saved['store'] ) ? $saved['store'] : '',
			'secret'               => is_string( $secret ) ? $secret : '',
			'secret_from_constant' => $constant,
		);
	}

	/**
	 * Whether a backend URL is acceptable: http(s), no query or fragment, and HTTPS unless
	 * the backend is on this machine (the answers are not signed: TLS protects them).
	 *
	 * @param string $url Candidate.
	 * @return string "" when acceptable, else the notice code.
	 */
	public static function check_url( $url ) {
		$parts = wp_parse_url( $url );
		if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] ) || isset( $parts['user'] ) ) {
			return 'bad_url';
		}
		$scheme = strtolower( $parts['scheme'] );
		if ( 'https' === $scheme ) {
			return '';
		}
		if ( 'http' !== $scheme ) {
			return 'bad_url';
		}
		$host     = strtolower( trim( $parts['host'], '[]' ) );
		$loopback = 'localhost' === $host || '::1' === $host || 1 === preg_match( '/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/D', $host );
		/**
		 * Whether a plain-HTTP backend URL is allowed (default: only on this machine).
		 *
		 * @param bool   $allowed Allowed.
		 * @param string $url     The URL.
		 */
		return apply_filters( 'bazgasht_allow_insecure_backend', $loopback, $url ) ? '' : 'insecure_url';
	}

	/**
	 * Add the page under the WooCommerce menu.
	 */
	public function add_page() {
		add_submenu_page(
			'woocommerce',
			__( 'Bazgasht loyalty', 'bazgasht' ),
			__( 'Bazgasht', 'bazgasht' ),
			self::CAPABILITY,
			self::PAGE,
			array( $this, 'render_page' )
		);
	}

	/**
	 * Save the form (admin-post.php?action=bazgasht_save_settings).
	 */
	public function handle_save() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to change these settings.', 'bazgasht' ), 403 );
		}
		check_admin_referer( 'bazgasht_save_settings' );
		$notice = $this->save(
			isset( $_POST['bazgasht_backend_url'] ) ? sanitize_text_field( wp_unslash( $_POST['bazgasht_backend_url'] ) ) : '',
			isset( $_POST['bazgasht_store'] ) ? trim( sanitize_text_field( wp_unslash( $_POST['bazgasht_store'] ) ) ) : '',
			// The secret is used as typed (sanitizing could change it); it is only ever hashed.
			isset( $_POST['bazgasht_secret'] ) ? trim( (string) wp_unslash( $_POST['bazgasht_secret'] ) ) : '' // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized
		);
		call_user_func( $this->redirect, $this->page_url( $notice ) );
	}

	/**
	 * Validate and store. An empty secret keeps the saved one.
	 *
	 * @param string $url    Backend URL ("" to clear it).
	 * @param string $store  Store name.
	 * @param string $secret New secret, or "" to keep.
	 * @return string Notice code.
	 */
	public function save( $url, $store, $secret ) {
		$url = rtrim( trim( $url ), '/' );
		if ( '' !== $url ) {
			$problem = self::check_url( $url );
			$url     = esc_url_raw( $url, array( 'http', 'https' ) );
			if ( '' !== $problem || '' === $url ) {
				return '' !== $problem ? $problem : 'bad_url';
			}
		}
		if ( '' !== $store && ! Bazgasht_Api_Client::is_store_name( $store ) ) {
			return 'bad_store';
		}
		if ( '' !== $secret && strlen( $secret ) < self::MIN_SECRET_LENGTH ) {
			return 'short_secret';
		}
		update_option(
			'bazgasht_settings',
			array(
				'backend_url' => $url,
				'store'       => $store,
			)
		);
		if ( '' !== $secret ) {
			update_option( 'bazgasht_secret', $secret, false );
		}
		if ( null !== $this->backend ) {
			$this->backend->forget();
		}
		return 'saved';
	}

	/**
	 * "Test connection" (admin-post.php?action=bazgasht_test_connection).
	 */
	public function handle_test() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to change these settings.', 'bazgasht' ), 403 );
		}
		check_admin_referer( 'bazgasht_test_connection' );
		$failure = null !== $this->backend ? $this->backend->test_connection() : 'not_configured';
		call_user_func( $this->redirect, $this->page_url( '' === $failure ? 'tested' : 'test_failed' ) );
	}

	/**
	 * The page's URL with a notice.
	 *
	 * @param string $notice Notice code.
	 * @return string
	 */
	private function page_url( $notice ) {
		return add_query_arg(
			array(
				'page'            => self::PAGE,
				'bazgasht_notice' => $notice,
			),
			admin_url( 'admin.php' )
		);
	}

	/**
	 * Print the page.
	 */
	public function render_page() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		echo $this->page_html(); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built from escaped parts in page_html().
	}

	/**
	 * The page's HTML (every dynamic part escaped here).
	 *
	 * @return string
	 */
	public function page_html() {
		$config = $this->get();
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only picks one of the fixed messages.
		$notice = isset( $_GET['bazgasht_notice'] ) ? sanitize_key( wp_unslash( $_GET['bazgasht_notice'] ) ) : '';
		$html   = '<div class="wrap bazgasht-settings"><h1>' . esc_html__( 'Bazgasht loyalty', 'bazgasht' ) . '</h1>';
		if ( in_array( $notice, self::NOTICES, true ) ) {
			$error = ! in_array( $notice, array( 'saved', 'tested' ), true );
			$html .= '<div class="notice ' . ( $error ? 'notice-error' : 'notice-success' ) . '"><p>' . esc_html( $this->notice_text( $notice ) ) . '</p></div>';
		}
		$html .= '<p>' . esc_html__( 'Customers see their points on My Account, in the cart and at checkout. The points come from your Bazgasht backend.', 'bazgasht' ) . '</p>';
		$html .= '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		$html .= '<input type="hidden" name="action" value="bazgasht_save_settings" />';
		$html .= wp_nonce_field( 'bazgasht_save_settings', '_wpnonce', true, false );
		$html .= '<table class="form-table" role="presentation"><tbody>';
		$html .= '<tr><th scope="row"><label for="bazgasht_backend_url">' . esc_html__( 'Backend URL', 'bazgasht' ) . '</label></th><td>';
		$html .= '<input type="url" class="regular-text code" id="bazgasht_backend_url" name="bazgasht_backend_url" value="' . esc_attr( $config['backend_url'] ) . '" placeholder="https://loyalty.example.com" />';
		$html .= '<p class="description">' . esc_html__( 'Where `bazgasht serve` answers. HTTPS, unless the backend runs on this server.', 'bazgasht' ) . '</p></td></tr>';
		$html .= '<tr><th scope="row"><label for="bazgasht_store">' . esc_html__( 'Store name', 'bazgasht' ) . '</label></th><td>';
		$html .= '<input type="text" class="regular-text code" id="bazgasht_store" name="bazgasht_store" value="' . esc_attr( $config['store'] ) . '" />';
		$html .= '<p class="description">' . esc_html__( 'The name of this store in the Bazgasht configuration.', 'bazgasht' ) . '</p></td></tr>';
		$html .= '<tr><th scope="row"><label for="bazgasht_secret">' . esc_html__( 'Shared secret', 'bazgasht' ) . '</label></th><td>';
		if ( $config['secret_from_constant'] ) {
			$html .= '<p>' . esc_html__( 'Set in wp-config.php (BAZGASHT_SHARED_SECRET).', 'bazgasht' ) . '</p>';
		} else {
			$placeholder = '' === $config['secret'] ? __( 'Paste the secret the backend gave you', 'bazgasht' ) : __( 'A secret is saved. Leave empty to keep it.', 'bazgasht' );
			// The saved secret is never printed: the field always starts empty.
			$html .= '<input type="password" class="regular-text code" id="bazgasht_secret" name="bazgasht_secret" value="" autocomplete="new-password" placeholder="' . esc_attr( $placeholder ) . '" />';
			$html .= '<p class="description">' . esc_html__( 'Leave empty to keep the saved secret.', 'bazgasht' ) . '</p>';
		}
		$html .= '</td></tr></tbody></table>';
		$html .= '<p class="submit"><button type="submit" class="button button-primary">' . esc_html__( 'Save changes', 'bazgasht' ) . '</button></p></form>';

		$html .= '<h2>' . esc_html__( 'Connection', 'bazgasht' ) . '</h2>' . $this->contact_html();
		$html .= '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		$html .= '<input type="hidden" name="action" value="bazgasht_test_connection" />';
		$html .= wp_nonce_field( 'bazgasht_test_connection', '_wpnonce', true, false );
		$html .= '<p><button type="submit" class="button">' . esc_html__( 'Test connection', 'bazgasht' ) . '</button></p></form></div>';
		return $html;
	}

	/**
	 * The last contact with the backend, as a paragraph.
	 *
	 * @return string
	 */
	private function contact_html() {
		$last = get_option( 'bazgasht_last_contact' );
		if ( ! is_array( $last ) || ! isset( $last['at'], $last['ok'] ) ) {
			return '<p>' . esc_html__( 'No contact with the backend yet.', 'bazgasht' ) . '</p>';
		}
		$when = wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), (int) $last['at'] );
		if ( $last['ok'] ) {
			/* translators: %s: date and time */
			return '<p>' . esc_html( sprintf( __( 'Last contact: %s, it answered.', 'bazgasht' ), $when ) ) . '</p>';
		}
		/* translators: 1: date and time, 2: the error */
		return '<p class="bazgasht-contact-failed">' . esc_html( sprintf( __( 'Last contact: %1$s, it failed: %2$s', 'bazgasht' ), $when, isset( $last['message'] ) ? (string) $last['message'] : '' ) ) . '</p>';
	}

	/**
	 * A notice's text.
	 *
	 * @param string $code Notice code.
	 * @return string
	 */
	private function notice_text( $code ) {
		switch ( $code ) {
			case 'saved':
				return __( 'Settings saved.', 'bazgasht' );
			case 'bad_url':
				return __( 'The backend URL must be a plain http:// or https:// address, without a query.', 'bazgasht' );
			case 'insecure_url':
				return __( 'The backend URL must use https:// (plain http:// only for a backend on this server). Nothing was saved.', 'bazgasht' );
			case 'bad_store':
				return __( 'The store name may hold only letters, digits, "-", "_" and ".". Nothing was saved.', 'bazgasht' );
			case 'short_secret':
				/* translators: %d: number of characters */
				return sprintf( __( 'The shared secret must be at least %d characters. Nothing was saved.', 'bazgasht' ), self::MIN_SECRET_LENGTH );
			case 'tested':
				return __( 'The backend answered.', 'bazgasht' );
			default:
				return __( 'The backend could not be reached or refused the request; see below.', 'bazgasht' );
		}
	}
}
