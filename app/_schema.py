"""The application layer's tables, on the one schema (``connector``'s ``metadata``).

* ``webhook_deliveries`` — the durable inbox: every signed WooCommerce delivery is inserted
  and committed here *before* the receiver answers 200; a worker applies it afterwards.
  UNIQUE (store, webhook id, SHA-256 of the body): a delivery seen twice is stored once
  (WooCommerce's ``X-WC-Webhook-Delivery-ID`` is kept for the record but is not unique: it
  repeats for two deliveries of one webhook in the same second). Keyed by the store's
  *name*: a delivery may arrive before the store's first sync has made its row.
* ``storefront_nonces`` — nonces of signed storefront requests, shared by every server
  worker; UNIQUE (store, nonce) is what refuses a replay. Rows older than 600 s may go.
* ``storefront_pushes`` — per registered customer, a fingerprint of the loyalty state last
  written to WooCommerce (``bazgasht_loyalty`` meta), so only changed states are pushed;
  with what makes the customer worth looking at again without a ledger entry (open
  coupons, a time at which pending points or a coupon's validity run out).
* ``storefront_push_marks`` — per store, the highest ledger entry the last push had seen.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from connector import UTCDateTime, metadata

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store", String(100), nullable=False),
    Column("webhook_id", BigInteger, nullable=False),  # X-WC-Webhook-ID
    Column("topic", String(64), nullable=False),  # X-WC-Webhook-Topic, e.g. order.updated
    Column("resource_id", BigInteger),  # the body's "id"
    Column("delivery_id", String(64), nullable=False),  # X-WC-Webhook-Delivery-ID ('' if none)
    Column("body_sha256", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the raw body, exactly as signed
    Column("received_at", UTCDateTime, nullable=False),
    # pending → applied | skipped (changed nothing, and why) | failed (gave up; sync sweeps)
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),  # a retry waits until then
    Column("applied_at", UTCDateTime),
    Column("outcome", Text),  # what applying it did, or why it could not yet
    UniqueConstraint("store", "webhook_id", "body_sha256", name="uq_webhook_deliveries_body"),
    Index("ix_webhook_deliveries_status", "status", "store", "id"),
)

storefront_nonces = Table(
    "storefront_nonces",
    metadata,
    Column("store", String(100), primary_key=True),
    Column("nonce", String(32), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_storefront_nonces_seen", "seen_at"),
)

storefront_pushes = Table(
    "storefront_pushes",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("customer_id", BigInteger, primary_key=True, autoincrement=False),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of the state, updated_at aside
    Column("open_coupons", Boolean, nullable=False),  # the pushed state lists coupons
    Column("recheck_at", UTCDateTime),  # pending points mature or a coupon expires then
    Column("pushed_at", UTCDateTime, nullable=False),
    Index("ix_storefront_pushes_recheck", "store_id", "recheck_at"),
)

storefront_push_marks = Table(
    "storefront_push_marks",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("last_entry_id", Integer, nullable=False),
    Column("pushed_at", UTCDateTime, nullable=False),
)

APP_TABLES = (webhook_deliveries, storefront_nonces, storefront_pushes, storefront_push_marks)
