<?php
/**
 * Removes the plugin's settings. The loyalty state the backend pushed into customer meta
 * (bazgasht_loyalty) stays: it belongs to the backend, which keeps it up to date.
 *
 * @package Bazgasht
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

foreach ( array( 'bazgasht_settings', 'bazgasht_secret', 'bazgasht_program_last', 'bazgasht_last_contact', 'bazgasht_flush_rewrite_rules' ) as $bazgasht_option ) {
	delete_option( $bazgasht_option );
}
delete_transient( 'bazgasht_program' );
delete_transient( 'bazgasht_backend_paused' );
