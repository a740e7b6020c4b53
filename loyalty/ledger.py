"""The append-only ledger: writing entries, reading them back, and manual grants.

There is deliberately no function here (or anywhere) that updates or deletes an entry; the
database refuses it too (triggers from migrations 0002 and 0005). A balance is a sum of
entries. Every append extends the store's hash chain (``loyalty.chain``) in the same
transaction: ``claim_head`` locks the store's chain head (a row lock on PostgreSQL, the
write lock on SQLite — so even an appender that skipped the ledger lock waits, and two can
never fork the chain), the new entries are linked in Python in one pass, and
``advance_head`` records the new end.
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
    update,
)
from sqlalchemy.exc import IntegrityError

from connector import BazgashtError, ConfigError, dialect_insert
from loyalty._db import ledger_lock
from loyalty._schema import loyalty_ledger, loyalty_ledger_heads
from loyalty.chain import GENESIS, Chain
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


_CONFLICT = (
    "another process wrote the same ledger entry at the same time; nothing was written by "
    "this one. Run the command again."
)


def read_head(conn: Connection, store_id: int) -> Chain:
    """The store's chain as the last append left it (no lock: for planning)."""
    h = loyalty_ledger_heads
    row = conn.execute(select(h.c.length, h.c.head).where(h.c.store_id == store_id)).first()
    return Chain(store_id, 0, GENESIS) if row is None else Chain(store_id, int(row[0]), row[1])


def claim_head(conn: Connection, store_id: int, now: datetime) -> Chain:
    """Lock the store's chain head until the transaction ends and return the chain after it.

    An upsert that rewrites the row with itself: on PostgreSQL it takes the row lock (a
    concurrent appender waits, then reads the head the first one committed); on SQLite any
    write takes the database's write lock."""
    h = loyalty_ledger_heads
    upsert = dialect_insert(conn.dialect.name)
    row = conn.execute(
        upsert(h)
        .values(store_id=store_id, length=0, head=GENESIS, updated_at=now)
        .on_conflict_do_update(index_elements=["store_id"], set_={"length": h.c.length})
        .returning(h.c.length, h.c.head)
    ).one()
    return Chain(store_id, int(row[0]), row[1])


def advance_head(conn: Connection, chain: Chain, now: datetime) -> None:
    """Record the chain's new end (in the transaction that claimed it and appended)."""
    if not chain.appended:
        return
    h = loyalty_ledger_heads
    length, head = chain.start
    moved = conn.execute(
        update(h)
        .where(h.c.store_id == chain.store_id, h.c.length == length, h.c.head == head)
        .values(length=chain.length, head=chain.head, updated_at=now)
    ).rowcount
    if moved != 1:
        raise LedgerConflict(_CONFLICT)


def append(
    conn: Connection,
    store_id: int,
    entries: Sequence[NewEntry],
    now: datetime,
    *,
    redemption_id: int | None = None,
    coupon_code: str | None = None,
) -> None:
    """Insert a few entries, chained (reconciliation links its many in one pass too, and
    copies them from a scratch table)."""
    if not entries:
        return
    chain = claim_head(conn, store_id, now)
    rows = []
    for e in entries:
        chain_seq, chain_hash = chain.link(
            e.key,
            e.seq,
            e.identity,
            e.points,
            e.kind,
            e.reason,
            e.order_id,
            redemption_id,
            coupon_code,
            e.effective_at,
            now,
        )
        rows.append(
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
                "chain_seq": chain_seq,
                "chain_hash": chain_hash,
            }
        )
    try:
        conn.execute(insert(loyalty_ledger), rows)
    except IntegrityError as exc:
        raise LedgerConflict(_CONFLICT) from exc
    advance_head(conn, chain, now)


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
    "advance_head",
    "append",
    "balance",
    "claim_head",
    "entries_of",
    "grant",
    "last_seq",
    "member_identities",
    "read_head",
]
