"""The loyalty program's tables, on the mirror's ``metadata`` (one schema, one migration chain).

* ``loyalty_ledger`` — append-only. Entries are only ever inserted (no code path updates or
  deletes them; triggers refuse it on both databases, and on SQLite an ``INSERT OR
  REPLACE``). ``(store_id, key, seq)`` is UNIQUE: the n-th entry of a key can be written
  once, so two processes that computed the same correction from the same state cannot both
  append it. Each entry is also the ``chain_seq``-th link of its store's hash chain
  (``loyalty.chain``): ``chain_hash`` covers its content and the previous link's hash, and
  ``(store_id, chain_seq)`` is UNIQUE, so two appenders can never fork the chain.
* ``loyalty_ledger_heads`` — per store, the chain's length and last hash as the last append
  left them (tail deletions and appends behind Bazgasht's back show against it).
* ``loyalty_redemptions`` — one row per redemption, a small state machine
  (pending → issued → used | expired, or pending → released). A redemption asked for by
  the storefront carries its ``request_id``, UNIQUE per (store, identity): retries of one
  request find one redemption.
* ``loyalty_programs`` — per store: when the program was created (the default ``starts_at``)
  and what the last reconciliation saw (for the incremental runs).
* ``loyalty_settings`` — the program's settings, versioned (migration 0010_settings): one row per
  version of a store's settings, never updated — the values the owner set (JSON, the
  ``ProgramSettings`` shape; unset keys take their defaults), when, by whom (``user@host``)
  and how (``default``, ``toml-import``, ``cli``). The highest version is in force on every
  host; ``(store_id, version)`` is the key, so two hosts cannot both write version n.
* ``loyalty_order_facts`` / ``loyalty_account_facts`` — the rule inputs as the last
  reconciliation saw them: whose an order or an e-mail was before it changed, and, when the
  change log's triggers are missing, what the next run compares the mirror with.
  Bookkeeping, rebuilt by a full reconciliation; not part of the ledger.
* ``loyalty_changes`` — the mirror's change log: triggers on ``orders`` and ``customers``
  (migration 0008) note every row whose rule inputs were inserted, changed or deleted, with a
  stamp that grows at each change. A reconciliation reads the notes of its store, recomputes
  only what they touch, and deletes the notes it saw (stamp unchanged) when it commits: its
  cost follows the change, not the store. No foreign key (a note may outlive its row).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from connector import Money, UTCDateTime, metadata

KINDS_SQL = (
    "kind IN ('earn', 'reversal', 'redemption', 'redemption_release', 'expiry', 'transfer', "
    "'manual')"
)

loyalty_programs = Table(
    "loyalty_programs",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Rules fingerprint of the last complete reconciliation (None: never / must redo all).
    Column("fingerprint", String(64)),
    Column("reconciled_at", UTCDateTime),  # the `now` of the last reconciliation
    Column("last_entry_id", Integer),  # highest ledger id the last reconciliation had seen
    # JSON: the per-currency default amounts (welcome, second purchase, minimum redemption)
    # recorded when the program was created; the program keeps them (loyalty.settings).
    Column("defaults", Text),
)

loyalty_settings = Table(
    "loyalty_settings",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    # JSON object: the settings the owner set (ProgramSettings, unset keys are defaults).
    Column("settings", Text, nullable=False),
    # JSON object: {setting: [before, after]} of what this version changed.
    Column("changes", Text, nullable=False),
    Column("source", String(20), nullable=False),  # default | toml-import | cli
    Column("changed_by", String(300), nullable=False),  # user@host
    Column("changed_at", UTCDateTime, nullable=False),
    Column("note", Text),
    CheckConstraint("source IN ('default', 'toml-import', 'cli')", name="source"),
)

loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("stores.id"), nullable=False),
    Column("key", String(600), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, … per (store, key)
    Column("identity", String(400), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("order_id", BigInteger),  # the order it refers to, if any
    Column("redemption_id", Integer),  # the redemption it refers to, if any
    Column("coupon_code", String(64)),  # the coupon it refers to, if any
    # When the points were earned / spent / expired (an order's completion, an expiry date);
    # lots age from it. `created_at` is when the entry was written.
    Column("effective_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Tamper evidence (migration 0005): position in the store's chain (1, 2, …) and the
    # SHA-256 (hex) of this entry's content and the previous position's hash.
    Column("chain_seq", BigInteger, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    UniqueConstraint("store_id", "key", "seq", name="uq_loyalty_ledger_key_seq"),
    CheckConstraint("points <> 0", name="points_not_zero"),
    CheckConstraint(KINDS_SQL, name="kind"),
    Index("ix_loyalty_ledger_identity", "store_id", "identity"),
    Index("ix_loyalty_ledger_effective", "store_id", "effective_at"),
    # A unique index rather than a constraint: the same on both databases.
    Index("uq_loyalty_ledger_chain", "store_id", "chain_seq", unique=True),
)

loyalty_ledger_heads = Table(
    "loyalty_ledger_heads",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("length", BigInteger, nullable=False),  # the last chain_seq written
    Column("head", String(64), nullable=False),  # its chain_hash
    Column("updated_at", UTCDateTime, nullable=False),
)

loyalty_redemptions = Table(
    "loyalty_redemptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("stores.id"), nullable=False),
    Column("identity", String(400), nullable=False),
    Column("email", String(320), nullable=False),  # the coupon is restricted to it
    Column("points", BigInteger, nullable=False),
    Column("amount", Money, nullable=False),
    # Random (loyalty.codes), lower-case as WooCommerce keeps codes; stored before the coupon
    # is made, so a retry looks it up instead of making a second coupon.
    Column("code", String(64), nullable=False),
    # pending | issued | used | expired | released
    Column("status", String(20), nullable=False),
    Column("coupon_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("issued_at", UTCDateTime),
    Column("used_at", UTCDateTime),
    Column("used_order_id", BigInteger),
    Column("closed_at", UTCDateTime),  # released, or expired unused
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    # The storefront's idempotency key (a UUID the plugin picks once per redemption attempt):
    # the same request, retried, finds this redemption instead of making a second one.
    Column("request_id", String(36)),
    UniqueConstraint("store_id", "code", name="uq_loyalty_redemptions_code"),
    Index("ix_loyalty_redemptions_status", "store_id", "status"),
    Index("uq_loyalty_redemptions_request", "store_id", "identity", "request_id", unique=True),
)

loyalty_order_facts = Table(
    "loyalty_order_facts",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("identity", String(400), nullable=False),
    Column("status", String(20), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
    Column("paid_at", UTCDateTime),
    # Money as raw units of 10^-4, exactly as `orders` stores it.
    Column("total", BigInteger, nullable=False),
    Column("refunded_total", BigInteger, nullable=False),
    Column("shipping_total", BigInteger, nullable=False),
    Column("total_tax", BigInteger, nullable=False),
)

loyalty_account_facts = Table(
    "loyalty_account_facts",
    metadata,
    Column("store_id", Integer, ForeignKey("stores.id"), primary_key=True, autoincrement=False),
    Column("customer_id", BigInteger, primary_key=True, autoincrement=False),
    Column("email", String(320), nullable=False),
    Column("role", String(60), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

loyalty_changes = Table(
    "loyalty_changes",
    metadata,
    Column("store_id", Integer, primary_key=True, autoincrement=False),
    Column("subject", String(1), primary_key=True),  # 'o' an order, 'c' a customer account
    Column("wc_id", BigInteger, primary_key=True, autoincrement=False),
    Column("stamp", BigInteger, nullable=False),  # 1, then + 1 at each further change
)

LOYALTY_TABLES = (
    loyalty_programs,
    loyalty_settings,
    loyalty_ledger,
    loyalty_ledger_heads,
    loyalty_redemptions,
    loyalty_order_facts,
    loyalty_account_facts,
    loyalty_changes,
)

__all__ = [
    "LOYALTY_TABLES",
    "loyalty_account_facts",
    "loyalty_changes",
    "loyalty_ledger",
    "loyalty_ledger_heads",
    "loyalty_order_facts",
    "loyalty_programs",
    "loyalty_redemptions",
    "loyalty_settings",
]
