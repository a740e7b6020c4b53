"""Scratch tables of a reconciliation and the SQL helpers around them.

Connection-private temporary tables hold a run's work (desired keys, what the ledger holds,
the differing keys, the scope, the planned entries, the facts and change notes it saw);
nothing in them outlives the run. Also: key families as index ranges, planner statistics,
and SQLite's page cache while a run works."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    literal_column,
    not_,
    or_,
    select,
    text,
)

from connector import UTCDateTime
from loyalty._db import scratch_table
from loyalty._schema import (
    loyalty_account_facts,
    loyalty_ledger,
    loyalty_order_facts,
)
from loyalty.rules import (
    MANUAL,
    REDEEM,
)

# --------------------------------------------------------------------------- key ranges


def family_range(col: Any, fam: str) -> Any:
    """``key`` in a family, as an index range (``'manual:' <= key < 'manual;'``)."""
    return and_(col >= f"{fam}:", col < f"{fam};")


def derived(col: Any) -> Any:
    return and_(not_(family_range(col, MANUAL)), not_(family_range(col, REDEEM)))


def non_derived(col: Any) -> Any:
    return or_(family_range(col, MANUAL), family_range(col, REDEEM))


# --------------------------------------------------------------------------- scratch tables


def scratch_columns() -> dict[str, list[Any]]:
    return {
        "bz_desired": [
            Column("key", String(600), primary_key=True),
            Column("identity", String(400), nullable=False),
            Column("points", BigInteger, nullable=False),
            Column("effective_at", UTCDateTime, nullable=False),
            Column("order_id", BigInteger),
            Column("reason", Text, nullable=False),
        ],
        "bz_held": [
            Column("key", String(600), nullable=False),
            Column("identity", String(400), nullable=False),
            Column("points", BigInteger, nullable=False),
            Column("last_seq", Integer, nullable=False),
            Column("effective_at", UTCDateTime),
            Column("order_id", BigInteger),
            Index("ix_bz_held_key", "key"),
        ],
        "bz_flagged": [Column("key", String(600), primary_key=True)],
        "bz_keys": [Column("key", String(600), primary_key=True)],
        "bz_scope": [Column("identity", String(400), primary_key=True)],
        "bz_changes": [
            Column("subject", String(1), primary_key=True),
            Column("wc_id", BigInteger, primary_key=True),
            Column("stamp", BigInteger, nullable=False),
        ],
        "bz_entries": [
            Column("key", String(600), nullable=False),
            Column("seq", Integer, nullable=False),
            Column("identity", String(400), nullable=False),
            Column("points", BigInteger, nullable=False),
            Column("kind", String(20), nullable=False),
            Column("reason", Text, nullable=False),
            Column("effective_at", UTCDateTime, nullable=False),
            Column("order_id", BigInteger),
            # The key (on SQLite the rowid): the entries are read back in chain order for free.
            Column("chain_seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("chain_hash", String(64), nullable=False),
        ],
        "bz_facts": [
            Column("order_id", BigInteger, primary_key=True),
            Column("identity", String(400), nullable=False),
            Column("status", String(20), nullable=False),
            Column("deleted", Boolean, nullable=False),
            Column("created_at", UTCDateTime, nullable=False),
            Column("completed_at", UTCDateTime),
            Column("paid_at", UTCDateTime),
            Column("total", BigInteger, nullable=False),
            Column("refunded_total", BigInteger, nullable=False),
            Column("shipping_total", BigInteger, nullable=False),
            Column("total_tax", BigInteger, nullable=False),
        ],
    }


@dataclass
class Scratch:
    desired: Table
    held: Table
    flagged: Table
    keys: Table
    scope: Table
    entries: Table
    facts: Table
    changes: Table


def open_scratch(stack: ExitStack, conn: Connection) -> Scratch:
    tables = {
        name: stack.enter_context(scratch_table(conn, name, *cols))
        for name, cols in scratch_columns().items()
    }
    return Scratch(
        desired=tables["bz_desired"],
        held=tables["bz_held"],
        flagged=tables["bz_flagged"],
        keys=tables["bz_keys"],
        scope=tables["bz_scope"],
        entries=tables["bz_entries"],
        facts=tables["bz_facts"],
        changes=tables["bz_changes"],
    )


# --------------------------------------------------------------------------- the difference


#: The ledger keys that are derived (not a redemption's, not a manual grant's), in raw SQL.
DERIVED_SQL = (
    "NOT (l.key >= 'manual:' AND l.key < 'manual;') "
    "AND NOT (l.key >= 'redeem:' AND l.key < 'redeem;')"
)

# The scoped queries below are written with CROSS JOIN, the small scratch table first: SQLite
# then loops over the scratch rows and probes the ledger's indexes (its planner, without
# statistics on scratch tables, would otherwise scan the store's whole ledger). PostgreSQL
# plans CROSS JOIN … WHERE like an inner join.


#: SQLite page cache of a reconciliation, KiB (the default is 2 MiB): the indexes a big
#: store's first run appends to stay in memory instead of being re-read page by page.
SQLITE_CACHE_KIB = 262_144


#: PostgreSQL working memory of a reconciliation's session (the default 4 MiB): a full
#: run's sort of the store's orders by identity, the hash joins over its scratch tables and
#: a first run's index builds then stay in memory instead of spilling to temporary files.
PG_WORK_MEM = "256MB"


@contextmanager
def working_memory(conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "postgresql":
        # Session settings (a rolled-back transaction would undo a SET LOCAL's scope only):
        # reset when the run ends, before the connection goes back to the pool.
        conn.exec_driver_sql(f"SET work_mem = '{PG_WORK_MEM}'")
        conn.exec_driver_sql(f"SET maintenance_work_mem = '{PG_WORK_MEM}'")
        conn.commit()
        try:
            yield
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.exec_driver_sql("RESET work_mem")
            conn.exec_driver_sql("RESET maintenance_work_mem")
            conn.commit()
        return
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    before_temp = conn.exec_driver_sql("PRAGMA temp.cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    # The scratch tables too (a first run's entries pass through one): no temp-file round trips.
    conn.exec_driver_sql(f"PRAGMA temp.cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
        conn.exec_driver_sql(f"PRAGMA temp.cache_size = {int(before_temp or -2000)}")


def refresh_statistics(conn: Connection) -> None:
    """After a big append, let the planner know (autovacuum would, minutes later; the next
    incremental run would meanwhile plan scans of the whole ledger). SQLite needs no help:
    its scoped queries are written to probe the indexes."""
    if conn.dialect.name == "postgresql":
        for table in (loyalty_ledger, loyalty_order_facts, loyalty_account_facts):
            conn.execute(text(f"ANALYZE {table.name}"))
        conn.commit()


def analyze(conn: Connection, *tables: Table) -> None:
    """PostgreSQL plans with statistics, and scratch tables have none until analyzed (the
    planner would guess them big and scan the whole ledger)."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.execute(text(f"ANALYZE {table.name}"))


def column_values(conn: Connection, table: Table, name: str) -> list[Any]:
    """A scratch table's column as a Python list (to bind as a PostgreSQL array)."""
    return [r[0] for r in conn.execute(select(table.c[name]))]


# --------------------------------------------------------------------------- a first append


def ledger_is_empty(conn: Connection) -> bool:
    """No entry of any store in the ledger (one row probed) — and, on PostgreSQL, it stays so
    until this transaction ends, unless it appends: the ledger is first locked in SHARE ROW
    EXCLUSIVE mode, which conflicts with itself and with every writer. Without it, two
    stores' first runs (an agency's first round) could both see it empty, both hold their
    read lock, and deadlock on ``indexes_built_after``'s ``DROP``; now the second waits for
    the first's commit and finds entries. Only a store's first run asks (SQLite has one
    writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'LOCK TABLE "{loyalty_ledger.name}" IN SHARE ROW EXCLUSIVE MODE')
    return table_is_empty(conn, loyalty_ledger)


def table_is_empty(conn: Connection, table: Table) -> bool:
    """No row of any store in ``table`` (one row probed)."""
    return conn.execute(select(literal_column("1")).select_from(table).limit(1)).first() is None


@contextmanager
def indexes_built_after(
    conn: Connection, *, enabled: bool, table: Table = loyalty_ledger
) -> Iterator[None]:
    """Append to an *empty* ledger without its secondary indexes (and, on SQLite, its
    triggers, whose probes would use them), then build them again, all inside the caller's
    write transaction: building an index over sorted rows is several times cheaper than
    growing it entry by entry. Nothing outside the transaction ever sees the ledger without
    them (SQLite and PostgreSQL both roll DDL back with the transaction: a crash leaves the
    schema as it was). Each index, constraint and trigger is re-created from the definition
    the database itself holds, so the schema after is the schema before.

    ``enabled`` False (a ledger with entries: rebuilding would cost its whole size) does
    nothing. PostgreSQL: the ``DROP`` locks the table until the commit, which only other
    writers (they hold the store's ledger lock anyway) and readers of an empty table wait.
    Its foreign keys go too: each row appended would otherwise queue a per-row trigger that
    looks its store up (1.85 M look-ups in a first run of a million orders), where adding the
    key back checks every row in one join. Adding or dropping a foreign key also locks the
    referenced ``stores`` against writes until the commit (a store's registration waits).
    ``table``: the ledger, or a facts table the run fills (same conditions: empty before)."""
    raw = conn.connection.driver_connection
    if not enabled or (conn.dialect.name == "sqlite" and not getattr(raw, "in_transaction", 0)):
        # (pysqlite runs DDL outside a transaction as it comes: never drop anything then)
        yield
        return
    table_name = table.name
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name",
            (table_name,),
        ).all()
        for kind, name, _ in found:
            conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
        yield
        # Indexes first ('index' < 'trigger'): the triggers' probes use them.
        for _, _, sql in found:
            conn.exec_driver_sql(sql)
        return
    constraints = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            # Unique constraints before foreign keys ('f' < 'u', hence DESC): re-added in order.
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f') "
            "ORDER BY contype DESC, conname"
        ),
        {"t": table_name},
    ).all()
    indexes = conn.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index AS x "
            "JOIN pg_class AS i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.oid) "
            "ORDER BY i.relname"
        ),
        {"t": table_name},
    ).all()
    for name, _ in constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table_name}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for name, definition in constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table_name}" ADD CONSTRAINT "{name}" {definition}')
    for _, definition in indexes:
        conn.exec_driver_sql(definition)
