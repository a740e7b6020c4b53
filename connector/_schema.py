"""The local mirror's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Every mirrored row is keyed by (store_id, WooCommerce id). Two column types keep values exact
and comparable on both databases:

* ``Money`` stores an amount as an integer count of 1/10 000 of the currency unit (BIGINT), so
  sums in SQL are exact on SQLite too (whose NUMERIC is a binary float). Python sees ``Decimal``.
* ``UTCDateTime`` stores naive UTC and hands back aware UTC datetimes; ISO strings on SQLite
  compare correctly as text.

The schema itself is created by the Alembic migrations in ``migrations/``; these objects are
what the code queries with. A test checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from connector.money import from_units, to_units

# The limits a value must respect to be stored on both databases. ``connector._models`` checks
# every mirrored field against them before anything is written (a record that does not fit is
# quarantined, see docs/sync.md).
#: BIGINT (ids, money units) and INTEGER (quantities) on PostgreSQL; SQLite's INTEGER is 64-bit.
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
EMAIL_LENGTH = 320  # RFC 5321's limit, and the width of WooCommerce's own address column
ORDER_NUMBER_LENGTH = 64
CURRENCY_LENGTH = 10
ORDER_STATUS_LENGTH = 20  # WordPress post status slugs
ROLE_LENGTH = 60
COUPON_CODE_LENGTH = 200  # part of a primary key and an index: kept bounded
#: Free text typed by shoppers or shop managers (names, phones, line-item names) is TEXT, so a
#: long real value is stored exactly; beyond this many characters a record is quarantined.
FREE_TEXT_MAX = 2000


class Money(TypeDecorator[Decimal]):
    """An exact amount, stored as BIGINT units of 10^-4 (``connector.money``)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_units(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_units(value)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: aware UTC in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is needed")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _store_fk() -> Column[int]:
    return Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True)


stores = Table(
    "stores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("url", String(500), nullable=False),
    # What the store told us last (`store check` / sync); None until first contact.
    Column("currency", String(10)),
    Column("decimals", Integer),
    Column("timezone", String(64)),
    Column("wc_version", String(32)),
    # False: the store ignores `modified_after` (WooCommerce < 5.8), so every sync is full.
    Column("supports_modified_after", Boolean),
    Column("created_at", UTCDateTime, nullable=False),
    # The store's identity, learned on first contact (connector/_identity.py): WordPress' home
    # address and the lowest order id with its random ``order_key``. A sync refuses to mirror
    # a shop whose anchor order has another key: that is another shop behind the same name.
    Column("site_home", String(500)),
    Column("anchor_order_id", BigInteger),
    Column("anchor_order_key", String(100)),
)

customers = Table(
    "customers",
    metadata,
    _store_fk(),
    Column("wc_id", BigInteger, primary_key=True, autoincrement=False),
    Column("email", String(EMAIL_LENGTH), nullable=False),  # normalized: trimmed, lower-case
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("phone", Text, nullable=False),
    Column("role", String(ROLE_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime),
    Column("is_paying_customer", Boolean, nullable=False),
    # Set when a full sync no longer finds the account on the store (the customer deleted it).
    Column("deleted_at", UTCDateTime),
    Column("seen_scan", String(40)),  # full-scan id that last saw the row (deletion detection)
    Index(None, "store_id", "email"),
)

guests = Table(
    "guests",
    metadata,
    _store_fk(),
    Column("email", String(EMAIL_LENGTH), primary_key=True),  # normalized billing e-mail
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("phone", Text, nullable=False),
    # The details above come from the latest order (by creation, then id) that used the e-mail.
    Column("latest_order_created_at", UTCDateTime, nullable=False),
    Column("latest_order_id", BigInteger, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    _store_fk(),
    Column("wc_id", BigInteger, primary_key=True, autoincrement=False),
    Column("number", String(ORDER_NUMBER_LENGTH), nullable=False),
    Column("status", String(ORDER_STATUS_LENGTH), nullable=False),
    Column("currency", String(CURRENCY_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("total", Money, nullable=False),
    Column("total_tax", Money, nullable=False),
    Column("shipping_total", Money, nullable=False),
    Column("discount_total", Money, nullable=False),
    Column("refunded_total", Money, nullable=False),  # positive sum of the refunds
    Column("customer_id", BigInteger, nullable=False),  # 0 for guests
    Column("billing_email", String(EMAIL_LENGTH), nullable=False),  # normalized; '' when none
    Column("billing_first_name", Text, nullable=False),
    Column("billing_last_name", Text, nullable=False),
    Column("billing_phone", Text, nullable=False),
    Column("coupon_codes", Text, nullable=False),  # comma-separated, lower-case, sorted
    Column("deleted_at", UTCDateTime),  # set by `sync --full` when the store lost the order
    Column("seen_scan", String(40)),
    Index(None, "store_id", "created_at"),
    Index(None, "store_id", "modified_at"),
    Index(None, "store_id", "customer_id"),
    Index(None, "store_id", "billing_email"),
)

order_line_items = Table(
    "order_line_items",
    metadata,
    _store_fk(),
    # Keyed with the order too: a line item id seen under two orders (a store's data gone
    # wrong) must not make the whole page fail.
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("wc_id", BigInteger, primary_key=True, autoincrement=False),
    Column("product_id", BigInteger, nullable=False),
    Column("variation_id", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("subtotal", Money, nullable=False),
    Column("total", Money, nullable=False),
)

order_coupons = Table(
    "order_coupons",
    metadata,
    _store_fk(),
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column(
        "code", String(COUPON_CODE_LENGTH), primary_key=True
    ),  # lower-case, as WooCommerce compares codes
    Column("discount", Money, nullable=False),
    Index(None, "store_id", "code"),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    _store_fk(),
    Column("resource", String(40), primary_key=True),
    # Next incremental run asks for rows modified after this instant (store clock, UTC).
    Column("modified_after", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

sync_checkpoints = Table(
    "sync_checkpoints",
    metadata,
    _store_fk(),
    Column("resource", String(40), primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("mode", String(20), nullable=False),  # incremental | full | new
    Column("scan_id", String(40), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),  # store clock at the run's start
    Column("modified_after", UTCDateTime),  # the query's lower bound, kept for the resume
    # Where the listing goes on: the offset of the next request and the last id read, which
    # that request must return first (an overlap of one row proves no row was skipped).
    Column("next_offset", Integer, nullable=False),
    Column("last_id", BigInteger),
    # Why this full scan cannot prove deletions (a short page, ids out of order…); None: so far
    # the scan is complete. Kept here so that a resumed scan remembers it.
    Column("incomplete", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("stores.id"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(20), nullable=False),  # running | success | failed
    Column("mode", String(20), nullable=False),
    Column("resumed", Boolean, nullable=False),
    Column("orders", Integer, nullable=False),
    Column("customers", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("deleted", Integer, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("error", Text),
    # Which machine ran it (migration 0010_settings): `sync status` shows it, and an agency's cron
    # hosts tell each other which host holds or synced a store.
    Column("host", String(255)),
    Index(None, "store_id", "started_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("stores.id"), nullable=False),
    Column("resource", String(40), nullable=False),
    Column("wc_id", String(64), nullable=False),  # '' when the payload had no usable id
    Column("error", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the raw JSON as received
    Column("run_id", Integer),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),  # set when a later sync stored a valid version
    UniqueConstraint("store_id", "resource", "wc_id", name="uq_quarantine_record"),
)

#: The tables that hold the mirror of a store (what "the same mirror state" compares).
MIRROR_TABLES = (customers, guests, orders, order_line_items, order_coupons)

__all__ = [
    "BIGINT_MAX",
    "COUPON_CODE_LENGTH",
    "CURRENCY_LENGTH",
    "EMAIL_LENGTH",
    "FREE_TEXT_MAX",
    "INTEGER_MAX",
    "MIRROR_TABLES",
    "ORDER_NUMBER_LENGTH",
    "ORDER_STATUS_LENGTH",
    "ROLE_LENGTH",
    "Money",
    "UTCDateTime",
    "customers",
    "guests",
    "metadata",
    "order_coupons",
    "order_line_items",
    "orders",
    "quarantine",
    "stores",
    "sync_checkpoints",
    "sync_cursors",
    "sync_runs",
]
