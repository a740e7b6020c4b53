"""The append-only ledger: writing entries, reading them back, and manual grants.

There is deliberately no function here (or anywhere) that updates or deletes an entry; the
database refuses it too (triggers from migration 0002). A balance is a sum of entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from connector import BazgashtError, ConfigError
from loyalty._db import ledger_lock
from loyalty._schema import loyalty_ledger
from loyalty.rules import NewEntry, manual_key
from loyalty.settings import MAX_POINTS, Program


class LedgerConflict(BazgashtError):
    """Another process appended the same entry first (the UNIQUE (store, key, seq) guard)."""


@dataclass(frozen=True)
class Entry:
    """One ledger entry as stored."""

    id: int
    key: str
    seq: int
    identity: str
    points: int
    kind: str
    reason: str
    order_id: int | None
    redemption_id: int | None
    coupon_code: str | None
    effective_at: datetime
    created_at: datetime


ENTRY_COLUMNS = (
    "store_id",
    "key",
    "seq",
    "identity",
    "points",
    "kind",
    "reason",
    "order_id",
    "redemption_id",
    "coupon_code",
    "effective_at",
    "created_at",
)


def append(
    conn: Connection,
    store_id: int,
    entries: Sequence[NewEntry],
    now: datetime,
    *,
    redemption_id: int | None = None,
    coupon_code: str | None = None,
) -> None:
    """Insert a few entries (for bulk appends, reconciliation copies from a scratch table)."""
    if not entries:
        return
    rows = [
        {
            "store_id": store_id,
            "key": e.key,
            "seq": e.seq,
            "identity": e.identity,
            "points": e.points,
            "kind": e.kind,
            "reason": e.reason,
            "order_id": e.order_id,
            "redemption_id": redemption_id,
            "coupon_code": coupon_code,
            "effective_at": e.effective_at,
            "created_at": now,
        }
        for e in entries
    ]
    try:
        conn.execute(insert(loyalty_ledger), rows)
    except IntegrityError as exc:
        raise LedgerConflict(
            "another process wrote the same ledger entry at the same time; nothing was "
            "written by this one. Run the command again."
        ) from exc


def last_seq(conn: Connection, store_id: int, key: str) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.max(loyalty_ledger.c.seq), 0)).where(
                loyalty_ledger.c.store_id == store_id, loyalty_ledger.c.key == key
            )
        ).scalar_one()
    )


def balance(conn: Connection, store_id: int, identity: str) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.sum(loyalty_ledger.c.points), 0)).where(
                loyalty_ledger.c.store_id == store_id, loyalty_ledger.c.identity == identity
            )
        ).scalar_one()
    )


def entries_of(conn: Connection, store_id: int, identity: str) -> list[Entry]:
    """An identity's entries, oldest first."""
    rows = conn.execute(
        select(
            loyalty_ledger.c.id,
            loyalty_ledger.c.key,
            loyalty_ledger.c.seq,
            loyalty_ledger.c.identity,
            loyalty_ledger.c.points,
            loyalty_ledger.c.kind,
            loyalty_ledger.c.reason,
            loyalty_ledger.c.order_id,
            loyalty_ledger.c.redemption_id,
            loyalty_ledger.c.coupon_code,
            loyalty_ledger.c.effective_at,
            loyalty_ledger.c.created_at,
        )
        .where(loyalty_ledger.c.store_id == store_id, loyalty_ledger.c.identity == identity)
        .order_by(loyalty_ledger.c.id)
    ).all()
    return [Entry(**row._mapping) for row in rows]


def grant(
    engine: Engine, program: Program, identity: str, points: int, reason: str, now: datetime
) -> Entry:
    """A manual credit (points > 0) or debit (points < 0) with the owner's reason."""
    reason = reason.strip()
    if not reason:
        raise ConfigError('a manual grant needs a reason (--reason "…"): the ledger keeps it.')
    if points == 0 or abs(points) > MAX_POINTS:
        raise ConfigError(f"points must be a non-zero whole number up to {MAX_POINTS:,}.")
    if identity.startswith("order:"):
        raise ConfigError("a guest order without an e-mail address cannot hold points.")
    token = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    key = manual_key(program.store, token)
    entry = NewEntry(key, 1, identity, points, "manual", reason, now, None)
    with ledger_lock(engine, program.store), engine.begin() as conn:
        append(conn, program.store_id, [entry], now)
        stored = conn.execute(
            select(loyalty_ledger.c.id).where(
                loyalty_ledger.c.store_id == program.store_id, loyalty_ledger.c.key == key
            )
        ).scalar_one()
    return Entry(stored, key, 1, identity, points, "manual", reason, None, None, None, now, now)


__all__ = [
    "ENTRY_COLUMNS",
    "Entry",
    "LedgerConflict",
    "append",
    "balance",
    "entries_of",
    "grant",
    "last_seq",
]
