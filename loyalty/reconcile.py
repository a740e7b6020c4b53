"""Reconciliation: make the ledger hold what the rules say, by appending only the differences.

How it works (docs/loyalty.md has the why):

1. **Desired.** Orders are streamed once, sorted by (identity, creation, id) with the identity
   computed in SQL (``loyalty.identity.order_identities``); each identity's group goes through
   the pure rules (``loyalty.rules.identity_outcome``). The desired keys go, in batches, into a
   scratch table. No per-order query.
2. **Recorded.** One ``GROUP BY key, identity`` over the ledger, into a second scratch table.
3. **Difference.** SQL picks the keys whose holdings differ from what is desired; only those
   come back to Python, where ``loyalty.rules.plan_key`` turns each into entries.
4. **Append.** The planned entries are copied into the ledger in one short write transaction,
   with the rule inputs seen (``loyalty_order_facts``) and the program's state. They were
   linked into the store's hash chain (``loyalty.chain``) in Python as they were planned, in
   one pass, after the head read in phase 1; the write transaction claims the head and
   refuses to append if it moved meanwhile.

A *full* run recomputes every identity. An *incremental* run (the default after the first)
compares the mirror with the facts the last run saw, in SQL, and recomputes only the
identities touched (an order changed, an account appeared or went, new ledger entries, lots
reaching their expiry since the last run), closed over every identity that holds one of their
keys. A change of the program's rules, or a clock running backwards, makes it full.

Every writer of a store's ledger holds its ``loyalty`` lock; the UNIQUE (store, key, seq)
constraint is the second guard.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    Row,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    type_coerce,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError

from connector._schema import UTCDateTime, customers, orders
from loyalty._db import bulk_insert, ledger_lock, scratch_table
from loyalty._schema import (
    loyalty_account_facts,
    loyalty_ledger,
    loyalty_order_facts,
    loyalty_programs,
)
from loyalty.chain import Chain
from loyalty.identity import account_email_map, identity_of, order_identities
from loyalty.ledger import LedgerConflict, advance_head, claim_head, read_head
from loyalty.program import ensure_program
from loyalty.rules import (
    CASHBACK,
    EXPIRY,
    MANUAL,
    REDEEM,
    SECOND,
    WELCOME,
    AccountFacts,
    CashbackRate,
    Desired,
    Holding,
    KeyState,
    Movement,
    NewEntry,
    OrderFacts,
    Outcome,
    add_months,
    family,
    identity_outcome,
    key_subject,
    owner_of,
    plan_key,
)
from loyalty.settings import Program

log = logging.getLogger("bazgasht.loyalty")

#: Keys per round trip when the differences come back to Python.
PAGE = 5_000
#: An incremental run that would touch more identities than this runs in full instead.
MAX_INCREMENTAL_IDENTITIES = 50_000
#: An append at least this big refreshes the planner's statistics (PostgreSQL).
BIG_APPEND = 10_000
#: Rounds of "who else holds these keys" before giving up and running in full.
MAX_CLOSURE_ROUNDS = 8
#: Slack around the expiry window of an incremental run (month lengths, clock jitter).
EXPIRY_SLACK = timedelta(days=3)


@dataclass
class ReconcileResult:
    """What one reconciliation of one store did."""

    store: str
    mode: str  # "full" | "incremental"
    identities: int = 0
    keys_changed: int = 0
    appended: int = 0
    points_by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Seconds per step (for ``--debug`` and the benchmark).
    steps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.steps[name] = self.steps.get(name, 0.0) + spent
            log.debug("loyalty reconcile %s: %s took %.3f s", self.store, name, spent)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "mode": self.mode,
            "identities": self.identities,
            "keys_changed": self.keys_changed,
            "entries_appended": self.appended,
            "points_by_kind": dict(sorted(self.points_by_kind.items())),
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------- key ranges


def _family_range(col: Any, fam: str) -> Any:
    """``key`` in a family, as an index range (``'manual:' <= key < 'manual;'``)."""
    return and_(col >= f"{fam}:", col < f"{fam};")


def _derived(col: Any) -> Any:
    return and_(not_(_family_range(col, MANUAL)), not_(_family_range(col, REDEEM)))


def _non_derived(col: Any) -> Any:
    return or_(_family_range(col, MANUAL), _family_range(col, REDEEM))


# --------------------------------------------------------------------------- scratch tables


def _scratch_columns() -> dict[str, list[Any]]:
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
        "bz_entries": [
            Column("key", String(600), nullable=False),
            Column("seq", Integer, nullable=False),
            Column("identity", String(400), nullable=False),
            Column("points", BigInteger, nullable=False),
            Column("kind", String(20), nullable=False),
            Column("reason", Text, nullable=False),
            Column("effective_at", UTCDateTime, nullable=False),
            Column("order_id", BigInteger),
            Column("chain_seq", BigInteger, nullable=False),
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
class _Scratch:
    desired: Table
    held: Table
    flagged: Table
    keys: Table
    scope: Table
    entries: Table
    facts: Table


def _open_scratch(stack: ExitStack, conn: Connection) -> _Scratch:
    tables = {
        name: stack.enter_context(scratch_table(conn, name, *cols))
        for name, cols in _scratch_columns().items()
    }
    return _Scratch(
        desired=tables["bz_desired"],
        held=tables["bz_held"],
        flagged=tables["bz_flagged"],
        keys=tables["bz_keys"],
        scope=tables["bz_scope"],
        entries=tables["bz_entries"],
        facts=tables["bz_facts"],
    )


# --------------------------------------------------------------------------- loading facts


FACT_COLUMNS = (
    "order_id",
    "identity",
    "status",
    "deleted",
    "created_at",
    "completed_at",
    "paid_at",
    "total",
    "refunded_total",
    "shipping_total",
    "total_tax",
)


def order_rows(store_id: int) -> Select[Any]:
    """Orders with their identity and the rule inputs; money as raw units of 10⁻⁴."""
    base = order_identities(store_id)
    return base.add_columns(
        orders.c.customer_id,
        orders.c.billing_email,
        orders.c.status,
        orders.c.created_at,
        orders.c.completed_at,
        orders.c.paid_at,
        type_coerce(orders.c.total, BigInteger).label("total"),
        type_coerce(orders.c.refunded_total, BigInteger).label("refunded_total"),
        type_coerce(orders.c.shipping_total, BigInteger).label("shipping_total"),
        type_coerce(orders.c.total_tax, BigInteger).label("total_tax"),
        orders.c.deleted_at.is_not(None).label("deleted"),
    )


def _facts_of(row: Any) -> OrderFacts:
    return OrderFacts(
        order_id=row.order_id,
        customer_id=row.customer_id,
        billing_email=row.billing_email,
        status=row.status,
        created_at=row.created_at,
        completed_at=row.completed_at,
        paid_at=row.paid_at,
        total=row.total,
        refunded=row.refunded_total,
        shipping=row.shipping_total,
        tax=row.total_tax,
        deleted=bool(row.deleted),
    )


def _fact_tuple(identity: str, o: OrderFacts) -> tuple[Any, ...]:
    return (
        o.order_id,
        identity,
        o.status,
        o.deleted,
        o.created_at,
        o.completed_at,
        o.paid_at,
        o.total,
        o.refunded,
        o.shipping,
        o.tax,
    )


class Facts:
    """The accounts and the non-derived keys of a store, loaded once per run.

    A full run loads every account. An incremental run (``all_accounts=False``) loads only
    the accounts it needs — by id, and every account sharing an e-mail with one loaded, so
    the e-mail claims it computes are complete — through ``need()``, in batches."""

    def __init__(self, conn: Connection, program: Program, *, all_accounts: bool = True) -> None:
        self.program = program
        self.conn = conn
        self.complete = all_accounts
        store_id = program.store_id
        self.accounts: dict[int, AccountFacts] = {}
        self.claims: dict[str, int] = {}
        self._ids: set[int] = set()
        self._emails: set[str] = set()
        if all_accounts:
            self._add(conn.execute(_account_select(store_id)))
        # Non-derived keys: who they were written for (origin), their net, their holders.
        self.states: dict[str, KeyState] = {}
        # One index range per family (an OR of ranges would scan the store's whole ledger).
        rows = [
            row
            for fam in (MANUAL, REDEEM)
            for row in conn.execute(
                select(
                    loyalty_ledger.c.key,
                    loyalty_ledger.c.seq,
                    loyalty_ledger.c.identity,
                    loyalty_ledger.c.points,
                    loyalty_ledger.c.effective_at,
                )
                .where(
                    loyalty_ledger.c.store_id == store_id,
                    _family_range(loyalty_ledger.c.key, fam),
                )
                .order_by(loyalty_ledger.c.key, loyalty_ledger.c.seq)
            )
        ]
        nets: list[tuple[str, int, str, datetime]] = []
        for key, group in groupby(rows, key=lambda r: r[0]):
            entries = list(group)
            held: dict[str, int] = defaultdict(int)
            for e in entries:
                held[e[2]] += e[3]
            origin, first_at = entries[0][2], entries[0][4]
            self.states[key] = KeyState(
                key=key,
                holdings=tuple(Holding(i, p) for i, p in sorted(held.items()) if p != 0),
                last_seq=entries[-1][1],
                effective_at=first_at,
                origin=origin,
            )
            nets.append((key, sum(held.values()), origin, first_at))
        self.need_identities(origin for _, _, origin, _ in nets)
        self.movements: dict[str, list[Movement]] = defaultdict(list)
        for key, total, origin, first_at in nets:
            if total:
                self.movements[self.owner(origin)].append(Movement(key, total, first_at))

    def _add(self, rows: Iterable[Any]) -> set[str]:
        emails: set[str] = set()
        for row in rows:
            account = AccountFacts(row[0], row[1], row[2], row[4], bool(row[3]))
            self.accounts[account.customer_id] = account
            self._ids.add(account.customer_id)
            if account.email:
                emails.add(account.email)
        self.claims = account_email_map(
            (a.customer_id, a.email, a.role, a.deleted) for a in self.accounts.values()
        )
        return emails

    def need(self, ids: Iterable[int] = (), emails: Iterable[str] = ()) -> None:
        """Load the accounts with these ids and every account with these e-mails."""
        if self.complete:
            return
        store_id = self.program.store_id
        new_ids = sorted(set(ids) - self._ids)
        self._ids.update(new_ids)
        wanted = set(emails)
        for start in range(0, len(new_ids), 500):
            chunk = new_ids[start : start + 500]
            wanted |= self._add(
                self.conn.execute(_account_select(store_id).where(customers.c.wc_id.in_(chunk)))
            )
        new_emails = sorted(wanted - self._emails)
        self._emails.update(new_emails)
        for start in range(0, len(new_emails), 500):
            mails = new_emails[start : start + 500]
            self._add(
                self.conn.execute(_account_select(store_id).where(customers.c.email.in_(mails)))
            )

    def need_identities(self, identities: Iterable[str]) -> None:
        ids: set[int] = set()
        emails: set[str] = set()
        for identity in identities:
            kind, _, rest = identity.partition(":")
            if kind == "customer" and rest.isdigit():
                ids.add(int(rest))
            elif kind == "email" and rest:
                emails.add(rest)
        self.need(ids, emails)

    def owner(self, identity: str) -> str:
        self.need_identities([identity])  # a no-op when loaded (callers batch beforehand)
        return owner_of(identity, self.accounts, self.claims)

    def account_for(self, identity: str) -> AccountFacts | None:
        kind, _, rest = identity.partition(":")
        if kind == "customer" and rest.isdigit():
            return self.accounts.get(int(rest))
        return None

    def outcome(
        self, identity: str, group: Sequence[OrderFacts], now: datetime, rate: CashbackRate
    ) -> Outcome:
        return identity_outcome(
            identity,
            group,
            self.account_for(identity),
            self.program,
            now,
            self.movements.get(identity, ()),
            rate,
        )


def _outcomes(
    facts: Facts,
    rows: Iterable[Any],
    now: datetime,
    wanted: set[str] | None,
) -> Iterator[Outcome]:
    """Outcomes of the identities whose (identity-sorted) order rows stream by, then of the
    wanted identities (or, for a full run, every account and owner) without orders."""
    rate = CashbackRate.of(facts.program.cashback_percent, facts.program.point_value)
    seen: set[str] = set()
    for identity, group in groupby(rows, key=lambda r: r.identity):
        group_facts = [_facts_of(r) for r in group]
        if wanted is not None and identity not in wanted:
            continue
        seen.add(identity)
        yield facts.outcome(identity, group_facts, now, rate)
    if wanted is None:
        rest = {a.identity for a in facts.accounts.values()} | set(facts.movements)
    else:
        rest = set(wanted)
    for identity in sorted(rest - seen):
        yield facts.outcome(identity, [], now, rate)


def _desired_rows(outcomes: Iterable[Outcome], counter: list[int]) -> Iterator[tuple[Any, ...]]:
    for outcome in outcomes:
        counter[0] += 1
        for d in outcome.desired:
            yield (d.key, d.identity, d.points, d.effective_at, d.order_id, d.reason)


DESIRED_COLUMNS = ("key", "identity", "points", "effective_at", "order_id", "reason")


def _as_new(rows: Iterable[tuple[Any, ...]]) -> Iterator[NewEntry]:
    """Desired rows as the first entries of their keys (a ledger without derived keys)."""
    for key, identity, points, effective_at, order_id, reason in rows:
        kind = "expiry" if family(key) == EXPIRY else "earn"
        yield NewEntry(key, 1, identity, points, kind, reason, effective_at, order_id)


# --------------------------------------------------------------------------- the difference


#: The ledger keys that are derived (not a redemption's, not a manual grant's), in raw SQL.
_DERIVED_SQL = (
    "NOT (l.key >= 'manual:' AND l.key < 'manual;') "
    "AND NOT (l.key >= 'redeem:' AND l.key < 'redeem;')"
)

# The scoped queries below are written with CROSS JOIN, the small scratch table first: SQLite
# then loops over the scratch rows and probes the ledger's indexes (its planner, without
# statistics on scratch tables, would otherwise scan the store's whole ledger). PostgreSQL
# plans CROSS JOIN … WHERE like an inner join.


def _refresh_statistics(conn: Connection) -> None:
    """After a big append, let the planner know (autovacuum would, minutes later; the next
    incremental run would meanwhile plan scans of the whole ledger). SQLite needs no help:
    its scoped queries are written to probe the indexes."""
    if conn.dialect.name == "postgresql":
        for table in (loyalty_ledger, loyalty_order_facts, loyalty_account_facts):
            conn.execute(text(f"ANALYZE {table.name}"))
        conn.commit()


def _analyze(conn: Connection, *tables: Table) -> None:
    """PostgreSQL plans with statistics, and scratch tables have none until analyzed (the
    planner would guess them big and scan the whole ledger)."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.execute(text(f"ANALYZE {table.name}"))


def _fill_held(conn: Connection, tmp: _Scratch, store_id: int, *, scoped: bool) -> None:
    """What the ledger holds per (derived key, identity), for every key or the scoped keys."""
    columns = "key, identity, points, last_seq, effective_at, order_id"
    aggregates = (
        "l.key, l.identity, SUM(l.points), MAX(l.seq), MAX(l.effective_at), MAX(l.order_id)"
    )
    params: dict[str, Any] = {"store": store_id}
    if scoped and conn.dialect.name == "postgresql":
        params["keys"] = _column(conn, tmp.keys, "key")
        sql = (
            f"INSERT INTO {tmp.held.name} ({columns}) SELECT {aggregates} "
            "FROM loyalty_ledger AS l "
            f"WHERE l.store_id = :store AND l.key = ANY(:keys) AND {_DERIVED_SQL} "
            "GROUP BY l.key, l.identity"
        )
    elif scoped:
        sql = (
            f"INSERT INTO {tmp.held.name} ({columns}) SELECT {aggregates} "
            f"FROM {tmp.keys.name} AS k CROSS JOIN loyalty_ledger AS l "
            f"WHERE l.store_id = :store AND l.key = k.key AND {_DERIVED_SQL} "
            "GROUP BY l.key, l.identity"
        )
    else:
        sql = (
            f"INSERT INTO {tmp.held.name} ({columns}) SELECT {aggregates} "
            f"FROM loyalty_ledger AS l WHERE l.store_id = :store AND {_DERIVED_SQL} "
            "GROUP BY l.key, l.identity"
        )
    conn.execute(text(sql), params)


def _column(conn: Connection, table: Table, name: str) -> list[Any]:
    """A scratch table's column as a Python list (to bind as a PostgreSQL array)."""
    return [r[0] for r in conn.execute(select(table.c[name]))]


def _flag(conn: Connection, tmp: _Scratch) -> None:
    """Keys whose holdings differ from the desired ones (derived keys only)."""
    d, h = tmp.desired, tmp.held
    own = func.coalesce(func.sum(case((h.c.identity == d.c.identity, h.c.points), else_=0)), 0)
    others = func.coalesce(
        func.sum(case((and_(h.c.identity != d.c.identity, h.c.points != 0), 1), else_=0)), 0
    )
    wrong = (
        select(d.c.key)
        .select_from(d.outerjoin(h, h.c.key == d.c.key))
        .group_by(d.c.key, d.c.points)
        .having(or_(own != d.c.points, others > 0))
    )
    orphans = select(h.c.key).where(
        h.c.points != 0, ~exists(select(literal(1)).where(d.c.key == h.c.key))
    )
    conn.execute(insert(tmp.flagged).from_select(["key"], union(wrong, orphans)))


def _explain(key: str, order: Row[Any] | None) -> str:
    fam = family(key)
    if fam == CASHBACK:
        if order is None or order.status is None:
            return f"order {key_subject(key)} is not in the mirror any more"
        number = key_subject(key)
        if order.deleted_at is not None:
            return f"order {number} was deleted on the store"
        if order.total is not None and order.total - order.refunded_total <= 0:
            return f"order {number} was refunded in full"
        return f"order {number} does not earn now (status {order.status})"
    if fam == WELCOME:
        return f"{key_subject(key)} is not a customer account any more"
    if fam == SECOND:
        return f"{key_subject(key)} has no second earning order any more"
    if fam == EXPIRY:
        return "these points are no longer expired (the lot changed)"
    return "no longer due"


def _plan_flagged(
    conn: Connection, tmp: _Scratch, program: Program, now: datetime, facts: Facts
) -> Iterator[list[NewEntry]]:
    """Entries for the flagged keys, one list per page of keys (key ranges, no giant IN
    lists; each page is read completely before the caller writes anything)."""
    d, h, f = tmp.desired, tmp.held, tmp.flagged
    last: str | None = None
    while True:
        page_q = select(f.c.key).order_by(f.c.key).limit(PAGE)
        if last is not None:
            page_q = page_q.where(f.c.key > last)
        page = [r[0] for r in conn.execute(page_q)]
        if not page:
            return
        lo, hi = page[0], page[-1]
        in_page = and_(f.c.key >= lo, f.c.key <= hi)
        desired = {
            r.key: Desired(r.key, r.identity, r.points, r.effective_at, r.order_id, r.reason)
            for r in conn.execute(
                select(d).select_from(d.join(f, f.c.key == d.c.key)).where(in_page)
            )
        }
        held_rows = conn.execute(
            select(
                h,
                orders.c.status,
                orders.c.deleted_at,
                type_coerce(orders.c.total, BigInteger).label("total"),
                type_coerce(orders.c.refunded_total, BigInteger).label("refunded_total"),
            )
            .select_from(
                h.join(f, f.c.key == h.c.key).outerjoin(
                    orders,
                    and_(orders.c.store_id == program.store_id, orders.c.wc_id == h.c.order_id),
                )
            )
            .where(in_page)
            .order_by(h.c.key, h.c.identity)
        ).all()
        states: dict[str, KeyState] = {}
        order_info: dict[str, Row[Any]] = {}
        for key, group in groupby(held_rows, key=lambda r: r.key):
            rows = list(group)
            order_info[key] = rows[0]
            states[key] = KeyState(
                key=key,
                holdings=tuple(Holding(r.identity, r.points) for r in rows if r.points != 0),
                last_seq=max(r.last_seq for r in rows),
                effective_at=max((r.effective_at for r in rows if r.effective_at), default=None),
                order_id=max((r.order_id for r in rows if r.order_id is not None), default=None),
            )
        entries: list[NewEntry] = []
        for key in page:
            entries.extend(
                plan_key(
                    key,
                    desired.get(key),
                    states.get(key),
                    now,
                    facts.owner,
                    lambda k, info=order_info: _explain(k, info.get(k)),  # type: ignore[misc]
                )
            )
        yield entries
        last = hi


def _plan_non_derived(
    facts: Facts, keys: Iterable[str] | None, now: datetime
) -> Iterator[NewEntry]:
    wanted = (
        facts.states if keys is None else {k: facts.states[k] for k in keys if k in facts.states}
    )
    for key in sorted(wanted):
        yield from plan_key(key, None, wanted[key], now, facts.owner)


ENTRY_SCRATCH_COLUMNS = (
    "key",
    "seq",
    "identity",
    "points",
    "kind",
    "reason",
    "effective_at",
    "order_id",
    "chain_seq",
    "chain_hash",
)


def _entry_rows(
    entries: Iterable[NewEntry], stats: ReconcileResult, chain: Chain, now: datetime
) -> Iterator[tuple[Any, ...]]:
    """Scratch rows of planned entries, each linked into the chain (written at ``now``)."""
    previous = None
    for e in entries:
        stats.appended += 1
        stats.points_by_kind[e.kind] = stats.points_by_kind.get(e.kind, 0) + e.points
        if e.key != previous:
            previous = e.key
            stats.keys_changed += 1
        chain_seq, chain_hash = chain.link(
            e.key, e.seq, e.identity, e.points, e.kind, e.reason, e.order_id, None, None,
            e.effective_at, now,
        )  # fmt: skip
        yield (
            e.key, e.seq, e.identity, e.points, e.kind, e.reason, e.effective_at, e.order_id,
            chain_seq, chain_hash,
        )  # fmt: skip


# --------------------------------------------------------------------------- incremental scope


@dataclass
class _State:
    fingerprint: str | None
    reconciled_at: datetime | None
    last_entry_id: int | None


def _program_state(conn: Connection, store_id: int) -> _State | None:
    row = conn.execute(
        select(
            loyalty_programs.c.fingerprint,
            loyalty_programs.c.reconciled_at,
            loyalty_programs.c.last_entry_id,
        ).where(loyalty_programs.c.store_id == store_id)
    ).first()
    return None if row is None else _State(row[0], row[1], row[2])


def _changed_orders(conn: Connection, store_id: int) -> list[Row[Any]]:
    """Orders whose rule inputs differ from what the last reconciliation saw."""
    cur = order_rows(store_id).subquery("cur")
    f = loyalty_order_facts
    joined = cur.outerjoin(f, and_(f.c.store_id == store_id, f.c.order_id == cur.c.order_id))
    differs = or_(
        f.c.order_id.is_(None),
        f.c.identity != cur.c.identity,
        f.c.status != cur.c.status,
        f.c.deleted != cur.c.deleted,
        f.c.created_at != cur.c.created_at,
        f.c.completed_at.is_distinct_from(cur.c.completed_at),
        f.c.paid_at.is_distinct_from(cur.c.paid_at),
        f.c.total != cur.c.total,
        f.c.refunded_total != cur.c.refunded_total,
        f.c.shipping_total != cur.c.shipping_total,
        f.c.total_tax != cur.c.total_tax,
    )
    return list(
        conn.execute(
            select(cur, f.c.identity.label("old_identity")).select_from(joined).where(differs)
        ).all()
    )


def _account_changes(
    conn: Connection, facts: Facts
) -> tuple[set[str], list[AccountFacts], set[int]]:
    """Identities touched by account changes since the last run (found in SQL); the accounts
    to (re)write; the ids gone."""
    store_id = facts.program.store_id
    c, f = customers, loyalty_account_facts
    now_rows = conn.execute(
        select(
            c.c.wc_id,
            c.c.email,
            c.c.role,
            c.c.deleted_at.is_not(None),
            c.c.created_at,
            f.c.customer_id,
            f.c.email,
            f.c.role,
            f.c.deleted,
            f.c.created_at,
        )
        .select_from(
            c.outerjoin(f, and_(f.c.store_id == c.c.store_id, f.c.customer_id == c.c.wc_id))
        )
        .where(
            c.c.store_id == store_id,
            or_(
                f.c.customer_id.is_(None),
                f.c.email != c.c.email,
                f.c.role != c.c.role,
                f.c.deleted != c.c.deleted_at.is_not(None),
                f.c.created_at != c.c.created_at,
            ),
        )
    ).all()
    gone_rows = conn.execute(
        select(f.c.customer_id, f.c.email)
        .select_from(
            f.outerjoin(c, and_(c.c.store_id == f.c.store_id, c.c.wc_id == f.c.customer_id))
        )
        .where(f.c.store_id == store_id, c.c.wc_id.is_(None))
    ).all()
    changed = [AccountFacts(r[0], r[1], r[2], r[4], bool(r[3])) for r in now_rows]
    touched: set[str] = {a.identity for a in changed}
    emails = {a.email for a in changed if a.email}
    emails |= {r[6] for r in now_rows if r[6]}
    gone = {int(r[0]) for r in gone_rows}
    touched |= {f"customer:{wc_id}" for wc_id in gone}
    emails |= {r[1] for r in gone_rows if r[1]}
    touched |= {f"email:{e}" for e in emails}
    # Who claimed those e-mails before (as the last run saw the accounts) and now.
    ordered = sorted(emails)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        before = account_email_map(
            (r[0], r[1], r[2], bool(r[3]))
            for r in conn.execute(
                select(f.c.customer_id, f.c.email, f.c.role, f.c.deleted).where(
                    f.c.store_id == store_id, f.c.email.in_(chunk)
                )
            )
        )
        touched |= {f"customer:{wc_id}" for wc_id in before.values()}
    facts.need(emails=emails)
    touched |= {f"customer:{facts.claims[e]}" for e in emails if e in facts.claims}
    return touched, changed, gone


def _expiry_window_identities(
    conn: Connection, program: Program, since: datetime, now: datetime
) -> set[str]:
    """Identities with a lot that may have expired in (since, now] (a superset)."""
    found: set[str] = set()
    store_id = program.store_id
    if program.expiry_months is not None:
        lo = add_months(since, -program.expiry_months) - EXPIRY_SLACK
        hi = add_months(now, -program.expiry_months) + EXPIRY_SLACK
        months = program.expiry_months
        found |= {
            identity
            for identity, earned in conn.execute(
                select(loyalty_ledger.c.identity, loyalty_ledger.c.effective_at)
                .where(
                    loyalty_ledger.c.store_id == store_id,
                    loyalty_ledger.c.points > 0,
                    loyalty_ledger.c.effective_at > lo,
                    loyalty_ledger.c.effective_at <= hi,
                )
                .distinct()
            )
            if since < add_months(earned, months) <= now
        }
    if program.inactivity_expiry_months is not None:
        lo = add_months(since, -program.inactivity_expiry_months) - EXPIRY_SLACK
        hi = add_months(now, -program.inactivity_expiry_months) + EXPIRY_SLACK
        f = loyalty_order_facts
        found |= {
            r[0]
            for r in conn.execute(
                select(f.c.identity)
                .where(
                    f.c.store_id == store_id,
                    f.c.created_at > lo,
                    f.c.created_at <= hi,
                    f.c.status.in_(sorted(program.earn_statuses)),
                )
                .distinct()
            )
        }
        found |= {
            f"customer:{r[0]}"
            for r in conn.execute(
                select(customers.c.wc_id).where(
                    customers.c.store_id == store_id,
                    customers.c.created_at > lo,
                    customers.c.created_at <= hi,
                )
            )
        }
    return found


def _orders_of(conn: Connection, facts: Facts, identities: set[str]) -> list[_OrderRow]:
    """The orders of the given identities (identity-sorted), found through the indexes."""
    facts.need_identities(identities)
    customer_ids: set[int] = set()
    emails: set[str] = set()
    order_ids: set[int] = set()
    for identity in identities:
        kind, _, rest = identity.partition(":")
        if kind == "customer" and rest.isdigit():
            customer_ids.add(int(rest))
            account = facts.accounts.get(int(rest))
            if account is not None and account.email:
                emails.add(account.email)
        elif kind == "email":
            emails.add(rest)
        elif kind == "order" and rest.isdigit():
            order_ids.add(int(rest))
    raw = _raw_order_rows(facts.program.store_id)
    found: dict[int, _OrderRow] = {}
    conditions: list[Any] = []
    ids, mails, oids = sorted(customer_ids), sorted(emails), sorted(order_ids)
    for start in range(0, len(ids), 500):
        conditions.append(orders.c.customer_id.in_(ids[start : start + 500]))
    for start in range(0, len(mails), 500):
        chunk = mails[start : start + 500]
        # (customer_id = 0 is checked in Python: in SQL it would steer SQLite to the wrong index)
        conditions.append(orders.c.billing_email.in_(chunk))
    for start in range(0, len(oids), 500):
        conditions.append(orders.c.wc_id.in_(oids[start : start + 500]))
    for condition in conditions:
        for r in conn.execute(raw.where(condition)):
            identity = identity_of(r.order_id, r.customer_id, r.billing_email, facts.claims)
            if identity in identities:
                found[r.order_id] = _OrderRow(r.order_id, identity, *r[1:])
    return sorted(found.values(), key=lambda r: (r.identity, r.created_at, r.order_id))


def _account_select(store_id: int) -> Select[Any]:
    return select(
        customers.c.wc_id,
        customers.c.email,
        customers.c.role,
        customers.c.deleted_at.is_not(None),
        customers.c.created_at,
    ).where(customers.c.store_id == store_id)


class _OrderRow(NamedTuple):
    """An order row as ``order_rows`` gives it, with the identity computed in Python."""

    order_id: int
    identity: str
    customer_id: int
    billing_email: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    paid_at: datetime | None
    total: int
    refunded_total: int
    shipping_total: int
    total_tax: int
    deleted: bool


def _raw_order_rows(store_id: int) -> Select[Any]:
    """``order_rows`` without the identity (computed in Python with the account claims)."""
    return select(
        orders.c.wc_id.label("order_id"),
        orders.c.customer_id,
        orders.c.billing_email,
        orders.c.status,
        orders.c.created_at,
        orders.c.completed_at,
        orders.c.paid_at,
        type_coerce(orders.c.total, BigInteger).label("total"),
        type_coerce(orders.c.refunded_total, BigInteger).label("refunded_total"),
        type_coerce(orders.c.shipping_total, BigInteger).label("shipping_total"),
        type_coerce(orders.c.total_tax, BigInteger).label("total_tax"),
        orders.c.deleted_at.is_not(None).label("deleted"),
    ).where(orders.c.store_id == store_id)


def _natural_identities(conn: Connection, facts: Facts, keys: Iterable[str]) -> set[str]:
    """The identity each key belongs to now, without computing the rules."""
    result: set[str] = set()
    order_ids: set[int] = set()
    for key in keys:
        subject = key
        while family(subject) == EXPIRY:
            subject = key_subject(subject)
        fam = family(subject)
        if fam in (WELCOME, SECOND):
            result.add(key_subject(subject))
        elif fam == CASHBACK and key_subject(subject).isdigit():
            order_ids.add(int(key_subject(subject)))
        elif fam in (MANUAL, REDEEM):
            state = facts.states.get(subject)
            if state is not None and state.origin:
                result.add(facts.owner(state.origin))
    ids = sorted(order_ids)
    q = _raw_order_rows(facts.program.store_id)
    rows: list[Any] = []
    for start in range(0, len(ids), 500):
        rows.extend(conn.execute(q.where(orders.c.wc_id.in_(ids[start : start + 500]))))
    facts.need(emails={r.billing_email for r in rows if r.customer_id == 0 and r.billing_email})
    result |= {identity_of(r.order_id, r.customer_id, r.billing_email, facts.claims) for r in rows}
    return result


# --------------------------------------------------------------------------- the run


class _Planner:
    """Phase 1 of a run: everything computed into scratch tables, nothing written to the
    store's tables. ``verify`` stops here; ``reconcile`` then copies the entries."""

    def __init__(
        self, conn: Connection, program: Program, now: datetime, *, all_accounts: bool = True
    ) -> None:
        self.work = conn
        self.reader = conn
        self.program = program
        self.now = now
        self.stats = ReconcileResult(program.store, "full")
        with self.stats.step("accounts and grants"):
            self.facts = Facts(conn, program, all_accounts=all_accounts)
        self.changed_accounts: list[AccountFacts] = list(self.facts.accounts.values())
        self.gone_accounts: set[int] = set()
        self.facts_rows: list[tuple[Any, ...]] = []
        #: The ledger holds no derived key of the store: desired keys are new entries as is.
        self.fresh = False
        #: The store's hash chain, continued by every planned entry in the order planned.
        self.chain = read_head(conn, program.store_id)

    def full(self, tmp: _Scratch) -> None:
        """Recompute every identity of the store: one sorted pass over its orders.

        When the ledger holds no derived key of the store yet (the first run), every desired
        key is simply a new entry: they go straight to the entries table."""
        led = loyalty_ledger
        self.fresh = (
            self.work.execute(
                select(led.c.id)
                .where(led.c.store_id == self.program.store_id, _derived(led.c.key))
                .limit(1)
            ).first()
            is None
        )
        query = order_rows(self.program.store_id)
        current = query.subquery("cur")
        with self.stats.step("facts snapshot"):
            self.work.execute(
                insert(tmp.facts).from_select(
                    list(FACT_COLUMNS), select(*(current.c[c] for c in FACT_COLUMNS))
                )
            )
        identity = query.selected_columns.identity
        if self.work.dialect.name == "postgresql":
            # Rows of one identity only need to be together: byte order sorts fastest.
            identity = identity.collate("C")
        query = query.order_by(identity, orders.c.created_at, orders.c.wc_id)
        rows = self.reader.execute(query, execution_options={"yield_per": PAGE})
        counter = [0]
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            # Written between two fetches of the streamed query, on the same connection.
            if self.fresh:
                entries = _entry_rows(_as_new(batch), self.stats, self.chain, self.now)
                bulk_insert(self.work, tmp.entries, ENTRY_SCRATCH_COLUMNS, entries)
            else:
                bulk_insert(self.work, tmp.desired, DESIRED_COLUMNS, batch)
            batch.clear()

        with self.stats.step("rules"):
            for row in _desired_rows(_outcomes(self.facts, rows, self.now, None), counter):
                batch.append(row)
                if len(batch) >= PAGE:
                    flush()
            flush()
        self.stats.identities = counter[0]
        if not self.fresh:
            with self.stats.step("recorded"):
                _fill_held(self.work, tmp, self.program.store_id, scoped=False)

    def incremental(self, tmp: _Scratch, state: _State, since: datetime | None) -> bool:
        """Recompute the identities touched since the last run; False: run in full instead."""
        program, reader = self.program, self.reader
        self.stats.mode = "incremental"
        with self.stats.step("changed orders"):
            changed = _changed_orders(reader, program.store_id)
        scope: set[str] = set()
        for row in changed:
            scope.add(row.identity)
            if row.old_identity:
                scope.add(row.old_identity)
        self.facts_rows = [_fact_tuple(r.identity, _facts_of(r)) for r in changed]
        with self.stats.step("changed accounts"):
            touched, self.changed_accounts, self.gone_accounts = _account_changes(
                reader, self.facts
            )
        scope |= touched
        scope |= {
            r[0]
            for r in reader.execute(
                select(loyalty_ledger.c.identity)
                .where(
                    loyalty_ledger.c.store_id == program.store_id,
                    loyalty_ledger.c.id > (state.last_entry_id or 0),
                )
                .distinct()
            )
        }
        if state.reconciled_at is not None:
            with self.stats.step("expiry window"):
                scope |= _expiry_window_identities(reader, program, state.reconciled_at, self.now)
        if since is not None:
            scope |= {
                r.identity
                for r in reader.execute(
                    order_identities(program.store_id).where(
                        or_(orders.c.modified_at >= since, orders.c.created_at >= since)
                    )
                )
            }
        self.facts.need_identities(scope)
        scope |= {self.facts.owner(i) for i in scope}
        computed: set[str] = set()
        pending = scope
        rounds = 0
        while pending:
            rounds += 1
            if (
                rounds > MAX_CLOSURE_ROUNDS
                or len(computed) + len(pending) > MAX_INCREMENTAL_IDENTITIES
            ):
                return False
            bulk_insert(self.work, tmp.scope, ("identity",), ((i,) for i in sorted(pending)))
            with self.stats.step("orders of scope"):
                rows = _orders_of(reader, self.facts, pending)
            with self.stats.step("rules"):
                outcomes = list(_outcomes(self.facts, rows, self.now, pending))
            bulk_insert(
                self.work,
                tmp.desired,
                DESIRED_COLUMNS,
                _desired_rows(outcomes, [0]),
            )
            computed |= pending
            with self.stats.step("closure"):
                _analyze(self.work, tmp.scope, tmp.desired)
                more = self._holders_outside(tmp) | self._natural_of_held(tmp)
            self.facts.need_identities(more)
            more |= {self.facts.owner(i) for i in more}
            pending = more - computed
        self.stats.identities = len(computed)
        # Keys in question: the desired ones and every key the scope's identities hold.
        with self.stats.step("recorded"):
            if self.work.dialect.name == "postgresql":
                self.work.execute(
                    text(
                        f"INSERT INTO {tmp.keys.name} (key) "
                        f"SELECT key FROM {tmp.desired.name} UNION "
                        "SELECT l.key FROM loyalty_ledger AS l "
                        "WHERE l.store_id = :store AND l.identity = ANY(:scope)"
                    ),
                    {"store": program.store_id, "scope": _column(self.work, tmp.scope, "identity")},
                )
            else:
                self.work.execute(
                    text(
                        f"INSERT INTO {tmp.keys.name} (key) "
                        f"SELECT key FROM {tmp.desired.name} UNION "
                        f"SELECT l.key FROM {tmp.scope.name} AS s "
                        "CROSS JOIN loyalty_ledger AS l "
                        "WHERE l.store_id = :store AND l.identity = s.identity"
                    ),
                    {"store": program.store_id},
                )
            _analyze(self.work, tmp.keys)
            _fill_held(self.work, tmp, program.store_id, scoped=True)
        return True

    def _holders_outside(self, tmp: _Scratch) -> set[str]:
        """Identities outside the scope that hold one of the scope's desired keys."""
        store = self.program.store_id
        if self.work.dialect.name == "postgresql":
            # Arrays, not joins: the planner then probes the ledger's indexes for sure.
            scope = set(_column(self.work, tmp.scope, "identity"))
            found = self.work.execute(
                text(
                    "SELECT DISTINCT l.identity FROM loyalty_ledger AS l "
                    "WHERE l.store_id = :store AND l.key = ANY(:keys)"
                ),
                {"store": store, "keys": _column(self.work, tmp.desired, "key")},
            )
            return {r[0] for r in found} - scope
        sql = (
            f"SELECT DISTINCT l.identity FROM {tmp.desired.name} AS d "
            "CROSS JOIN loyalty_ledger AS l "
            "WHERE l.store_id = :store AND l.key = d.key "
            f"AND l.identity NOT IN (SELECT identity FROM {tmp.scope.name})"
        )
        return {r[0] for r in self.work.execute(text(sql), {"store": store})}

    def _natural_of_held(self, tmp: _Scratch) -> set[str]:
        """The identities owning the keys the scope holds but does not desire."""
        store = self.program.store_id
        if self.work.dialect.name == "postgresql":
            desired = set(_column(self.work, tmp.desired, "key"))
            found = self.work.execute(
                text(
                    "SELECT DISTINCT l.key FROM loyalty_ledger AS l "
                    "WHERE l.store_id = :store AND l.identity = ANY(:scope)"
                ),
                {"store": store, "scope": _column(self.work, tmp.scope, "identity")},
            )
            keys = [r[0] for r in found if r[0] not in desired]
        else:
            sql = (
                f"SELECT DISTINCT l.key FROM {tmp.scope.name} AS s "
                "CROSS JOIN loyalty_ledger AS l "
                "WHERE l.store_id = :store AND l.identity = s.identity "
                f"AND l.key NOT IN (SELECT key FROM {tmp.desired.name})"
            )
            keys = [r[0] for r in self.work.execute(text(sql), {"store": store})]
        return _natural_identities(self.reader, self.facts, keys)

    def plan(self, tmp: _Scratch, *, scoped: bool) -> None:
        """Flag the differing keys and plan their entries into the entries scratch table."""
        with self.stats.step("differences"):
            self._plan(tmp, scoped=scoped)

    def _plan(self, tmp: _Scratch, *, scoped: bool) -> None:
        if not self.fresh:
            _flag(self.work, tmp)
            for page in _plan_flagged(self.work, tmp, self.program, self.now, self.facts):
                rows = _entry_rows(page, self.stats, self.chain, self.now)
                bulk_insert(self.work, tmp.entries, ENTRY_SCRATCH_COLUMNS, rows)
        keys: list[str] | None = None
        if scoped:
            keys = [
                r[0]
                for r in self.work.execute(
                    select(tmp.keys.c.key).where(_non_derived(tmp.keys.c.key))
                )
            ]
        moves = list(_plan_non_derived(self.facts, keys, self.now))
        bulk_insert(
            self.work,
            tmp.entries,
            ENTRY_SCRATCH_COLUMNS,
            _entry_rows(moves, self.stats, self.chain, self.now),
        )


def _commit_phase(work: Connection, tmp: _Scratch, planner: _Planner, *, full: bool) -> None:
    """Phase 2: one short write transaction. Its first statement writes (SQLite then takes the
    write lock at once instead of upgrading a stale read snapshot)."""
    program, now = planner.program, planner.now
    store_id = program.store_id
    ensure_program(work, store_id, now)
    # The chain was planned after the head phase 1 read; it must still be the head.
    if planner.chain.appended and claim_head(work, store_id, now).start != planner.chain.start:
        raise LedgerConflict(
            f"store {program.store!r}: another process appended to the loyalty ledger "
            "while this reconciliation ran; nothing was written. Run it again."
        )
    cols = ENTRY_SCRATCH_COLUMNS
    e = tmp.entries
    work.execute(
        insert(loyalty_ledger).from_select(
            ["store_id", *cols, "created_at"],
            select(literal(store_id), *(e.c[c] for c in cols), literal(now, UTCDateTime)).order_by(
                e.c.key, e.c.seq
            ),
        )
    )
    advance_head(work, planner.chain, now)
    f = loyalty_order_facts
    if full:
        work.execute(delete(f).where(f.c.store_id == store_id))
    elif planner.facts_rows:
        bulk_insert(work, tmp.facts, FACT_COLUMNS, planner.facts_rows)
        work.execute(
            delete(f).where(
                f.c.store_id == store_id, f.c.order_id.in_(select(tmp.facts.c.order_id))
            )
        )
    work.execute(
        insert(f).from_select(
            ["store_id", *FACT_COLUMNS],
            select(literal(store_id), *(tmp.facts.c[c] for c in FACT_COLUMNS)),
        )
    )
    a = loyalty_account_facts
    if full:
        work.execute(delete(a).where(a.c.store_id == store_id))
    else:
        ids = sorted({x.customer_id for x in planner.changed_accounts} | planner.gone_accounts)
        for start in range(0, len(ids), 500):
            work.execute(
                delete(a).where(
                    a.c.store_id == store_id, a.c.customer_id.in_(ids[start : start + 500])
                )
            )
    bulk_insert(
        work,
        a,
        ("store_id", "customer_id", "email", "role", "deleted", "created_at"),
        (
            (store_id, x.customer_id, x.email, x.role, x.deleted, x.created_at)
            for x in planner.changed_accounts
        ),
    )
    last_id = work.execute(
        select(func.max(loyalty_ledger.c.id)).where(loyalty_ledger.c.store_id == store_id)
    ).scalar()
    work.execute(
        update(loyalty_programs)
        .where(loyalty_programs.c.store_id == store_id)
        .values(
            fingerprint=program.rules_fingerprint(),
            reconciled_at=now,
            last_entry_id=last_id,
        )
    )


def reconcile(
    engine: Engine,
    program: Program,
    now: datetime,
    *,
    full: bool = False,
    since: datetime | None = None,
    lock: bool = True,
) -> ReconcileResult:
    """Bring a store's ledger to what the rules say; returns what was appended.

    ``full`` recomputes every identity; otherwise the run is incremental when the last run's
    state allows it. ``since`` also recomputes the identities with orders created or modified
    since then. Raises ``LockHeld`` if another ledger writer keeps the store busy too long."""
    started = time.monotonic()
    with ExitStack() as stack:
        if lock:
            stack.enter_context(ledger_lock(engine, program.store))
        conn = stack.enter_context(engine.connect())
        tmp = _open_scratch(stack, conn)
        planner = _phase_one(conn, tmp, program, now, full=full, since=since)
        try:
            with planner.stats.step("append"):
                _commit_phase(conn, tmp, planner, full=planner.stats.mode == "full")
                conn.commit()
        except LedgerConflict:
            conn.rollback()
            raise
        except IntegrityError as exc:
            conn.rollback()
            raise LedgerConflict(
                f"store {program.store!r}: another process appended to the loyalty ledger "
                "while this reconciliation ran; nothing was written. Run it again."
            ) from exc
        if planner.stats.mode == "full" or planner.stats.appended >= BIG_APPEND:
            with planner.stats.step("statistics"):
                _refresh_statistics(conn)
        result = planner.stats
    result.seconds = time.monotonic() - started
    return result


def _phase_one(
    conn: Connection,
    tmp: _Scratch,
    program: Program,
    now: datetime,
    *,
    full: bool,
    since: datetime | None,
) -> _Planner:
    """Compute the entries to append into the scratch tables, from one consistent snapshot
    of the mirror and the ledger (PostgreSQL: REPEATABLE READ; SQLite: one read transaction,
    opened by the first scratch write). Writes nothing else; ends committed."""
    if conn.in_transaction():
        conn.commit()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")
    conn.execute(delete(tmp.scope))  # opens the transaction (pysqlite begins on a write)
    state = _program_state(conn, program.store_id)
    use_full = (
        full
        or state is None
        or state.fingerprint != program.rules_fingerprint()
        or state.reconciled_at is None
        or now < state.reconciled_at
    )
    planner = _Planner(conn, program, now, all_accounts=use_full)
    if not use_full:
        assert state is not None
        if not planner.incremental(tmp, state, since):
            use_full = True
            for table in (tmp.desired, tmp.held, tmp.keys, tmp.scope, tmp.facts):
                conn.execute(delete(table))
            planner = _Planner(conn, program, now)
    if use_full:
        planner.full(tmp)
    planner.plan(tmp, scoped=not use_full)
    planner.stats.mode = "full" if use_full else "incremental"
    conn.commit()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="READ COMMITTED")
    return planner


@contextmanager
def planned_entries(
    engine: Engine, program: Program, now: datetime
) -> Iterator[Iterable[tuple[str, str, int]]]:
    """Plan only (the settings preview): the entries ``reconcile`` would append for
    ``program`` at ``now``, as rows ``(key, identity, points)`` summed per key and identity,
    streamed while the block runs. Writes nothing but its scratch tables; takes no lock (one
    consistent snapshot, like every phase one). A stand-in until the planner has a public
    plan-only function of its own: the lead re-points ``loyalty.preview`` at it."""
    with ExitStack() as stack:
        conn = stack.enter_context(engine.connect())
        tmp = _open_scratch(stack, conn)
        _phase_one(conn, tmp, program, now, full=False, since=None)
        e = tmp.entries
        yield conn.execute(
            select(e.c.key, e.c.identity, func.sum(e.c.points)).group_by(e.c.key, e.c.identity),
            execution_options={"yield_per": PAGE},
        )
        conn.rollback()


__all__ = ["PAGE", "Facts", "ReconcileResult", "order_rows", "planned_entries", "reconcile"]
