"""Database helpers of the loyalty services: fast bulk inserts, scratch tables, the ledger lock.

* ``bulk_insert`` writes many rows at once: ``COPY`` on PostgreSQL, one ``executemany`` of
  plain tuples on SQLite (values converted the way SQLAlchemy stores them, so queries through
  the schema's types read them back unchanged).
* ``scratch_table`` creates a connection-private temporary table and drops it afterwards.
* ``ledger_lock`` is the store's ``loyalty`` lock: every writer of the ledger (reconcile,
  redeem, grant, releasing a redemption) holds it, so the balance a redemption checks cannot
  change under it. It waits a while for the holder instead of failing at once.
* ``split_sum`` / ``joined`` sum BIGINT columns (money units, points) exactly on both
  databases: SQLite's ``SUM`` of integers raises "integer overflow" past 2⁶³ (ten orders of
  99 999 999 999 999.99 are 10¹⁹ units of 10⁻⁴, past it), so money and point sums are taken
  as two partial sums that cannot overflow, joined in Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Label,
    MetaData,
    Table,
    cast,
    func,
)
from sqlalchemy.types import Boolean

from connector import LockHeld, UTCDateTime, store_lock

#: How long a ledger writer waits for another one (a reconciliation of a big store may take a
#: while; a redemption queues behind it).
LOCK_WAIT_SECONDS = 120.0
BATCH = 5_000


def _sqlite_instant(value: Any) -> Any:
    """As SQLAlchemy's SQLite dialect stores a naive UTC datetime: text with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_instant(value: Any) -> Any:
    if value is None:
        return None
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def stored_instant(canonical: str, dialect: str) -> Any:
    """An instant formatted by ``loyalty.chain.canonical_instant``
    (``2026-01-01T00:00:00.000000+00:00``) as ``bulk_insert(stored=True)`` takes it: SQLite's
    text, or for PostgreSQL's COPY the same text without its offset (always UTC)."""
    if dialect == "postgresql":
        return canonical[:26]
    return f"{canonical[:10]} {canonical[11:26]}"


def _bool(value: Any) -> Any:
    return None if value is None else int(bool(value))


def _converters(
    table: Table, columns: Sequence[str], dialect: str
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, converter) for the columns whose Python value needs converting."""
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for position, name in enumerate(columns):
        col_type = table.c[name].type
        if isinstance(col_type, UTCDateTime):
            out.append((position, _pg_instant if dialect == "postgresql" else _sqlite_instant))
        elif isinstance(col_type, Boolean) and dialect != "postgresql":
            out.append((position, _bool))
    return out


def _converted(
    rows: Iterable[Sequence[Any]], convert: list[tuple[int, Callable[[Any], Any]]]
) -> Iterator[Sequence[Any]]:
    if not convert:
        yield from rows
        return
    for row in rows:
        values = list(row)
        for position, fn in convert:
            values[position] = fn(values[position])
        yield tuple(values)


def bulk_insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    stored: bool = False,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order, Python values); returns the count.
    ``stored``: the values are already as the database stores them (``stored_instant``)."""
    dialect = conn.dialect.name
    values = rows if stored else _converted(rows, _converters(table, columns, dialect))
    names = ", ".join(f'"{c}"' for c in columns)
    count = 0
    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in values:
                copy.write_row(row)
                count += 1
        return count
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    batch: list[Sequence[Any]] = []
    for row in values:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.exec_driver_sql(sql, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


@contextmanager
def scratch_table(conn: Connection, name: str, *columns: Any) -> Iterator[Table]:
    """A temporary table private to ``conn``, dropped when the block ends."""
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
    table.create(conn)
    conn.commit()
    try:
        yield table
    finally:
        # A failed transaction (PostgreSQL) must end before the table can go.
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
        conn.commit()


@contextmanager
def ledger_lock(
    engine: Engine, store: str, *, wait: float = LOCK_WAIT_SECONDS, purpose: str = "loyalty"
) -> Iterator[None]:
    """Hold the store's ledger lock; wait up to ``wait`` seconds for it, then ``LockHeld``."""
    deadline = time.monotonic() + wait
    delay = 0.02
    with ExitStack() as stack:
        while True:
            try:
                stack.enter_context(store_lock(engine, store, purpose=purpose))
                break
            except LockHeld:
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"store {store!r}: another Bazgasht process is writing the loyalty "
                        f"ledger (reconcile or redeem) and did not finish within {wait:.0f} s; "
                        "try again."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        yield


#: The split of ``split_sum``: a 64-bit value is ``high × 2³² + low`` with |low| < 2³², so the
#: sum of the highs (each |high| ≤ 2³¹) and the sum of the lows stay within 2⁶³ for up to two
#: thousand million rows.
SPLIT = 1 << 32


def split_parts(value: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """``value`` (an integer expression) as ``(high, low)`` with ``value = high × 2³² + low``.

    Integer division and remainder truncate toward zero on both databases, so the identity
    holds for negative values too. The value is cast to BIGINT first: on PostgreSQL an inner
    ``SUM`` (a balance) is NUMERIC, whose ``/`` would not be an integer division."""
    whole = cast(value, BigInteger)
    return whole // SPLIT, whole % SPLIT


def split_sum(value: ColumnElement[Any], name: str) -> tuple[Label[Any], Label[Any]]:
    """``SUM(value)`` as two columns ``<name>_hi``, ``<name>_lo`` that cannot overflow;
    ``joined(hi, lo)`` is the exact sum (0 over no rows)."""
    high, low = split_parts(value)
    return (
        func.coalesce(func.sum(high), 0).label(f"{name}_hi"),
        func.coalesce(func.sum(low), 0).label(f"{name}_lo"),
    )


def normalized(
    high_sum: ColumnElement[Any], low_sum: ColumnElement[Any]
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Two partial sums as ``(high, low)`` with ``0 ≤ low < 2³²``: then ordering by
    ``(high, low)`` orders by the exact sum (RFM ranks customers by revenue this way)."""
    low = ((low_sum % SPLIT) + SPLIT) % SPLIT
    return high_sum + (low_sum - low) // SPLIT, low


def joined(high: Any, low: Any) -> int:
    """The exact sum from ``split_sum``'s two columns (PostgreSQL returns them as NUMERIC)."""
    return int(high or 0) * SPLIT + int(low or 0)


__all__ = [
    "SPLIT",
    "bulk_insert",
    "joined",
    "ledger_lock",
    "normalized",
    "scratch_table",
    "split_parts",
    "split_sum",
    "stored_instant",
]
