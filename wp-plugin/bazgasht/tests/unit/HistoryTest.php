<?php
/**
 * History entries.
 *
 * @package Bazgasht
 */

use PHPUnit\Framework\TestCase;

/**
 * Bazgasht_History.
 */
final class HistoryTest extends TestCase {

	/**
	 * Good entries are read; broken ones are left out one by one.
	 */
	public function test_entries() {
		$entries = Bazgasht_History::from_api(
			array(
				'entries' => array(
					array( 'at' => '2026-04-02T09:00:00Z', 'points' => 65, 'kind' => 'earn', 'source' => 'cashback', 'reason' => '2% cashback on order 1234', 'order_id' => 1234 ),
					array( 'at' => '2026-04-03T09:00:00Z', 'points' => -500, 'kind' => 'redemption', 'source' => 'redemption', 'reason' => 'redeemed', 'order_id' => null, 'coupon_code' => 'bz-8d90-17-k2cc' ),
					array( 'at' => 'soon', 'points' => 1, 'kind' => 'earn' ),
					array( 'at' => '2026-04-03T09:00:00Z', 'points' => '5', 'kind' => 'earn' ),
					'junk',
					array( 'at' => '2026-04-04T09:00:00Z', 'points' => 10, 'kind' => 'manual', 'source' => 'manual', 'reason' => str_repeat( 'x', 500 ) ),
					array( 'at' => '2026-04-05T09:00:00Z', 'points' => 10, 'kind' => 'bonus_v2', 'source' => 'birthday' ),
				),
			)
		);
		$this->assertCount( 4, $entries );
		$this->assertSame( 1234, $entries[0]['order_id'] );
		$this->assertSame( 'cashback', $entries[0]['source'] );
		$this->assertSame( 'bz-8d90-17-k2cc', $entries[1]['coupon_code'] );
		$this->assertNull( $entries[1]['order_id'] );
		$this->assertSame( 200, strlen( $entries[2]['reason'] ), 'a long reason is clipped' );
		$this->assertSame( 'other', $entries[3]['source'], 'an unknown source is shown as a plain adjustment' );
		$this->assertSame( array(), Bazgasht_History::from_api( array( 'entries' => array() ) ) );
		$this->assertNull( Bazgasht_History::from_api( array( 'items' => array() ) ) );
	}
}
