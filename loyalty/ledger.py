"""The append-only ledger: writing entries, reading them back, and manual grants.

There is deliberately no function here (or anywhere) that updates or deletes an entry; the
database refuses it too (triggers from migration 0002). A balance is a sum of entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    and_,
    case,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from connector import BazgashtError, ConfigError
from loyalty._db import ledger_lock
from loyalty._schema import loyalty_ledger
from loyalty.rules import CASHBACK, MANUAL, REDEEM, SECOND, WELCOME, NewEntry, manual_key
from loyalty.settings import MAX_POINTS, Program

#: Keys the program's rules credit (SPEC §4); a member holds positive points on one of them.
RULE_FAMILIES = (WELCOME, SECOND, CASHBACK)
#: Facts, not rules: holding one (a manual grant, a redemption) also makes a member.
FACT_FAMILIES = (MANUAL, REDEEM)


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


def _in_family(key: ColumnElement[str], families: Sequence[str]) -> ColumnElement[bool]:
    """``key`` in one of the families, as index ranges (``'welcome:' <= key < 'welcome;'``)."""
    return or_(*(and_(key >= f"{fam}:", key < f"{fam};") for fam in families))


def member_identities(
    store_id: int, *, before: datetime | None = None, ledger: Table = loyalty_ledger
) -> Select[tuple[str]]:
    """The program's members (SPEC §5): identities that a rule key (welcome, second purchase,
    cashback) credits with positive points now, or that hold a manual grant or a redemption.

    Judged by what each (key, identity) *holds* — the net of its entries — not by whether it
    has entries: an identity whose every credit a settings change (a later ``starts_at``)
    took back, or whose keys moved to the account it became, is not a member, so the figure
    never depends on the ledger's history. ``before``: only entries that took effect earlier.
    """
    led = ledger
    rule = _in_family(led.c.key, RULE_FAMILIES)
    conditions = [led.c.store_id == store_id, or_(rule, _in_family(led.c.key, FACT_FAMILIES))]
    if before is not None:
        conditions.append(led.c.effective_at < before)
    held = (
        select(
            led.c.identity,
            case((rule, 1), else_=0).label("rule"),
            func.sum(led.c.points).label("points"),
        )
        .where(*conditions)
        .group_by(led.c.key, led.c.identity)
        .subquery("held")
    )
    credited = or_(
        and_(held.c.rule == 1, held.c.points > 0), and_(held.c.rule == 0, held.c.points != 0)
    )
    return select(held.c.identity).where(credited).distinct()


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
    "FACT_FAMILIES",
    "RULE_FAMILIES",
    "Entry",
    "LedgerConflict",
    "append",
    "balance",
    "entries_of",
    "grant",
    "last_seq",
    "member_identities",
]
