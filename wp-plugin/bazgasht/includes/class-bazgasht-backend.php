<?php
/**
 * The backend as the storefront sees it: live answers when it is reachable, the pushed
 * meta when it is not, and a short memory of failures so pages do not wait on it.
 *
 * @package Bazgasht
 */

defined( 'ABSPATH' ) || exit;

/**
 * Glue between the API client and WordPress storage (transients, options, user meta).
 */
class Bazgasht_Backend {

	/**
	 * After a failure to reach the backend, pages use the pushed meta for this long
	 * instead of waiting for the backend's timeout on every page view.
	 */
	const PAUSE_AFTER_FAILURE = 30;

	/**
	 * The program parameters change rarely: kept this long.
	 */
	const PROGRAM_TTL = 3600;

	/**
	 * Settings.
	 *
	 * @var Bazgasht_Settings
	 */
	private $settings;

	/**
	 * Makes an API client from (url, store, secret), or null to use the default.
	 *
	 * @var callable|null
	 */
	private $client_factory;

	/**
	 * Returns unix time.
	 *
	 * @var callable
	 */
	private $clock;

	/**
	 * Answers already fetched during this request, by customer id.
	 *
	 * @var array
	 */
	private $views = array();

	/**
	 * Constructor.
	 *
	 * @param Bazgasht_Settings $settings       Settings.
	 * @param callable|null     $client_factory fn( string $url, string $store, string $secret ): Bazgasht_Api_Client.
	 * @param callable|null     $clock          Returns unix time.
	 */
	public function __construct( Bazgasht_Settings $settings, $client_factory = null, $clock = null ) {
		$this->settings       = $settings;
		$this->client_factory = $client_factory;
		$this->clock          = null !== $clock ? $clock : 'time';
	}

	/**
	 * The current unix time.
	 *
	 * @return int
	 */
	public function now() {
		return (int) call_user_func( $this->clock );
	}

	/**
	 * An API client, or null while the plugin is not configured.
	 *
	 * @return Bazgasht_Api_Client|null
	 */
	public function client() {
		$config = $this->settings->get();
		if ( '' === $config['backend_url'] || '' === $config['store'] || '' === $config['secret'] ) {
			return null;
		}
		if ( null !== $this->client_factory ) {
			return call_user_func( $this->client_factory, $config['backend_url'], $config['store'], $config['secret'] );
		}
		return new Bazgasht_Api_Client( $config['backend_url'], $config['store'], new Bazgasht_Request_Signer( $config['secret'] ), new Bazgasht_WP_Transport(), $this->clock );
	}

	/**
	 * Whether live calls are paused after a recent failure.
	 *
	 * @return bool
	 */
	public function paused() {
		return (bool) get_transient( 'bazgasht_backend_paused' );
	}

	/**
	 * The program parameters: cached, else fetched, else the last ones ever fetched.
	 *
	 * @return Bazgasht_Program|null
	 */
	public function program() {
		$cached = Bazgasht_Program::from_array( get_transient( 'bazgasht_program' ) );
		if ( null !== $cached ) {
			return $cached;
		}
		$client = $this->client();
		if ( null !== $client && ! $this->paused() ) {
			try {
				$program = $client->program();
				set_transient( 'bazgasht_program', $program->to_array(), self::PROGRAM_TTL );
				update_option( 'bazgasht_program_last', $program->to_array(), false );
				return $program;
			} catch ( Bazgasht_Api_Exception $e ) {
				$this->failed( $e );
			}
		}
		return Bazgasht_Program::from_array( get_option( 'bazgasht_program_last' ) );
	}

	/**
	 * A customer's points as they can be shown now.
	 *
	 * @param int $user_id The logged-in user's id.
	 * @return array{state: Bazgasht_Loyalty_State|null, known: bool, problem: string}
	 *         state: live, else pushed meta, else null; known: false when the backend said
	 *         it has no such customer (yet); problem: "" or why the answer is not live.
	 */
	public function customer_view( $user_id ) {
		$user_id = (int) $user_id;
		if ( isset( $this->views[ $user_id ] ) ) {
			return $this->views[ $user_id ];
		}
		$view   = array(
			'state'   => null,
			'known'   => true,
			'problem' => 'not_configured',
		);
		$client = $this->client();
		if ( null !== $client && $user_id > 0 ) {
			$view['problem'] = 'paused';
			if ( ! $this->paused() ) {
				try {
					$view['state']   = $client->customer( $user_id );
					$view['problem'] = '';
				} catch ( Bazgasht_Api_Refusal $e ) {
					$view['known']   = 'unknown_customer' !== $e->error_code;
					$view['problem'] = $e->error_code;
				} catch ( Bazgasht_Api_Exception $e ) {
					$this->failed( $e );
					$view['problem'] = $e->error_code;
				}
			}
		}
		if ( null === $view['state'] && $user_id > 0 ) {
			$view['state'] = Bazgasht_Loyalty_State::from_meta( get_user_meta( $user_id, Bazgasht_Loyalty_State::META_KEY, true ) );
		}
		$this->views[ $user_id ] = $view;
		return $view;
	}

	/**
	 * Recent entries of a customer, or null when they cannot be had now.
	 *
	 * @param int $user_id The logged-in user's id.
	 * @param int $limit   How many.
	 * @return array[]|null
	 */
	public function history( $user_id, $limit = 20 ) {
		$client = $this->client();
		if ( null === $client || $this->paused() ) {
			return null;
		}
		try {
			return $client->history( (int) $user_id, $limit );
		} catch ( Bazgasht_Api_Refusal $e ) {
			return null;
		} catch ( Bazgasht_Api_Exception $e ) {
			$this->failed( $e );
			return null;
		}
	}

	/**
	 * Redeem points for the logged-in customer.
	 *
	 * @param int    $user_id    The logged-in user's id (never one from the browser).
	 * @param int    $points     Points.
	 * @param string $request_id UUID of this attempt.
	 * @return array See Bazgasht_Api_Client::redeem().
	 * @throws Bazgasht_Api_Exception When it did not happen (or it is not known whether).
	 */
	public function redeem( $user_id, $points, $request_id ) {
		$client = $this->client();
		if ( null === $client ) {
			throw new Bazgasht_Backend_Unavailable( 'not_configured', 'the plugin is not configured' );
		}
		try {
			$result = $client->redeem( (int) $user_id, (int) $points, $request_id );
		} catch ( Bazgasht_Backend_Unavailable $e ) {
			$this->failed( $e );
			throw $e;
		}
		unset( $this->views[ (int) $user_id ] );
		$this->record_contact( true, '' );
		return $result;
	}

	/**
	 * Ask the backend for the program now (the settings page's "Test connection").
	 *
	 * @return string "" when it answered, else why not (for the shop owner).
	 */
	public function test_connection() {
		$client = $this->client();
		if ( null === $client ) {
			return 'not_configured';
		}
		try {
			$program = $client->program();
		} catch ( Bazgasht_Api_Exception $e ) {
			$this->record_contact( false, $e->error_code . ': ' . $e->getMessage() );
			return $e->error_code;
		}
		delete_transient( 'bazgasht_backend_paused' );
		set_transient( 'bazgasht_program', $program->to_array(), self::PROGRAM_TTL );
		update_option( 'bazgasht_program_last', $program->to_array(), false );
		$this->record_contact( true, '' );
		return '';
	}

	/**
	 * Forget the cached program (after the settings change).
	 */
	public function forget() {
		delete_transient( 'bazgasht_program' );
		delete_transient( 'bazgasht_backend_paused' );
		$this->views = array();
	}

	/**
	 * Remember a failure: pause live calls briefly, and keep it for the settings page.
	 *
	 * @param Bazgasht_Api_Exception $e The failure.
	 */
	private function failed( Bazgasht_Api_Exception $e ) {
		set_transient( 'bazgasht_backend_paused', 1, self::PAUSE_AFTER_FAILURE );
		$this->record_contact( false, $e->error_code . ': ' . $e->getMessage() );
	}

	/**
	 * Keep the outcome of the last contact for the settings page.
	 *
	 * @param bool   $ok      Whether it worked.
	 * @param string $message Why not.
	 */
	private function record_contact( $ok, $message ) {
		update_option(
			'bazgasht_last_contact',
			array(
				'ok'      => (bool) $ok,
				'at'      => $this->now(),
				'message' => (string) $message,
			),
			false
		);
	}
}
