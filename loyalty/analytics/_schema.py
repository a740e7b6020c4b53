"""The analytics' own tables: the counted orders of each store, kept between runs.

* ``analytics_orders`` — one row per *counted* order (default statuses, not deleted) of a
  store whose facts have been built: the order's identity (SPEC §4), its creation time
  ``x``, its revenue split in two (``rev_hi × 2³² + rev_lo``, exact past 2⁶³ units), and the
  creation times of the identity's previous and next counted orders (``prev_x`` /
  ``next_x``; far-away sentinels when there is none). Every period figure of SPEC §5 is a
  range scan of ``ix_analytics_orders_x``, every per-customer question one of
  ``ix_analytics_orders_ident``, and *active at* also reads ``ix_analytics_orders_next``;
  each holds every column its queries read.
* ``analytics_changes`` — a log, written by triggers on ``orders`` and ``customers``
  (migration ``0009_metrics``) for stores whose facts exist, of the orders and account
  e-mails that changed. The next analysis recomputes the identities they touch and empties
  the log; nobody else has to remember to keep the facts up to date.
* ``analytics_state`` — per store: the facts are built, and for which statuses.

Derived data: dropping all three rows of a store only makes the next analysis rebuild them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from connector import UTCDateTime, metadata

IDENT_LENGTH = 400

analytics_state = Table(
    "analytics_state",
    metadata,
    Column("store_id", Integer, primary_key=True, autoincrement=False),
    Column("statuses", String(400), nullable=False),  # comma-separated, sorted
    Column("built_at", UTCDateTime, nullable=False),
)

analytics_orders = Table(
    "analytics_orders",
    metadata,
    Column("store_id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    # Byte-wise collation on PostgreSQL (migration 0009_metrics): nothing needs a human
    # order, and the locale's is several times slower to sort.
    Column("ident", String(IDENT_LENGTH), nullable=False),
    Column("x", UTCDateTime, nullable=False),
    Column("rev_hi", BigInteger, nullable=False),
    Column("rev_lo", BigInteger, nullable=False),
    Column("prev_x", UTCDateTime, nullable=False),
    Column("next_x", UTCDateTime, nullable=False),
    Index(
        "ix_analytics_orders_x", "store_id", "x", "prev_x", "next_x", "rev_hi", "rev_lo", "ident"
    ),
    Index("ix_analytics_orders_ident", "store_id", "ident", "x", "rev_hi", "rev_lo"),
    Index("ix_analytics_orders_next", "store_id", "next_x", "x"),
)

analytics_changes = Table(
    "analytics_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, nullable=False),
    Column("order_id", BigInteger),  # an order that changed (inserted, updated, deleted)
    Column("email", String(400)),  # an account e-mail whose claim on guest orders may change
    Index("ix_analytics_changes_store_id", "store_id"),
)

__all__ = ["IDENT_LENGTH", "analytics_changes", "analytics_orders", "analytics_state"]
