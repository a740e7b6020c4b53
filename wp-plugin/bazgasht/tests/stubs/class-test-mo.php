<?php
/**
 * A reader of compiled gettext catalogues (.mo), for the translation tests.
 *
 * @package Bazgasht
 */

/**
 * Reads a .mo file into msgid => msgstr (plural entries keyed "singular\0plural").
 */
final class Bazgasht_Test_Mo {

	/**
	 * Read a catalogue.
	 *
	 * @param string $path File.
	 * @return array<string, string>
	 * @throws RuntimeException For a file that is not a .mo catalogue.
	 */
	public static function read( $path ) {
		$data  = (string) file_get_contents( $path );
		$magic = unpack( 'V', substr( $data, 0, 4 ) )[1];
		if ( 0x950412de !== $magic ) {
			throw new RuntimeException( $path . ' is not a little-endian .mo file' );
		}
		list( , $count, $originals, $translations ) = array_values( unpack( 'V4', substr( $data, 4, 16 ) ) );
		$catalogue = array();
		for ( $i = 0; $i < $count; $i++ ) {
			$original                = unpack( 'V2', substr( $data, $originals + 8 * $i, 8 ) );
			$translation             = unpack( 'V2', substr( $data, $translations + 8 * $i, 8 ) );
			$key                     = substr( $data, $original[2], $original[1] );
			$catalogue[ $key ]       = substr( $data, $translation[2], $translation[1] );
		}
		return $catalogue;
	}
}
