"""The planner of a reconciliation (phase 1): from the mirror and the ledger to the entries
to append, in scratch tables; nothing written to the store's tables.

A full run streams the store's orders once, sorted by identity, through the pure rules
(``loyalty.rules``) into scratch tables; a first run's desired keys are its entries as they
are (``first_entries``). Otherwise SQL flags the keys whose holdings differ
(``flag_differences``) and ``plan_flagged`` turns each into entries (``loyalty.rules.plan_key``).
An incremental run computes only its scope (``loyalty._scope``), closed over every identity
that holds one of its keys. Every planned entry is linked into the store's hash chain as it is
planned."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    union,
)

from connector import orders
from loyalty._db import bulk_insert, stored_instant
from loyalty._facts import (
    FACT_COLUMNS,
    Facts,
    fact_tuple,
    facts_of,
    facts_stream,
    order_rows,
    orders_of,
)
from loyalty._pipeline import ChildFailed, Job, RulesProcess
from loyalty._schema import (
    loyalty_ledger,
    loyalty_order_facts,
)
from loyalty._scope import (
    State,
    account_changes,
    changed_orders,
    expiry_window_identities,
    natural_identities,
    noted_ids,
    noted_orders,
)
from loyalty._scratch import (
    DERIVED_SQL,
    Scratch,
    analyze,
    column_values,
    derived,
    non_derived,
)
from loyalty.chain import Chain, canonical_instant
from loyalty.identity import order_identities
from loyalty.ledger import read_head
from loyalty.rules import (
    CASHBACK,
    EXPIRY,
    SECOND,
    WELCOME,
    AccountFacts,
    CashbackRate,
    Desired,
    Holding,
    KeyState,
    NewEntry,
    OrderFacts,
    Outcome,
    family,
    key_subject,
    plan_key,
)
from loyalty.settings import Program

log = logging.getLogger("bazgasht.loyalty")

PAGE = 5_000
#: An incremental run that would touch more identities than this runs in full instead.
MAX_INCREMENTAL_IDENTITIES = 50_000
#: Rounds of "who else holds these keys" before giving up and running in full.
MAX_CLOSURE_ROUNDS = 8


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


def identity_outcomes(
    facts: Facts,
    rows: Iterable[Any],
    now: datetime,
    wanted: set[str] | None,
) -> Iterator[Outcome]:
    """Outcomes of the identities whose (identity-sorted) order rows stream by, then of the
    wanted identities (or, for a full run, every account and owner) without orders."""
    return outcomes_of(facts, ((r.identity, facts_of(r)) for r in rows), now, wanted)


def outcomes_of(
    facts: Facts,
    pairs: Iterable[tuple[str, OrderFacts]],
    now: datetime,
    wanted: set[str] | None,
) -> Iterator[Outcome]:
    """``identity_outcomes`` over (identity, order facts) pairs, identity-sorted."""
    rate = CashbackRate.of(facts.program.cashback_percent, facts.program.point_value)
    seen: set[str] = set()
    for identity, group in groupby(pairs, key=itemgetter(0)):
        group_facts = [pair[1] for pair in group]
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


def desired_rows(outcomes: Iterable[Outcome], counter: list[int]) -> Iterator[tuple[Any, ...]]:
    for outcome in outcomes:
        counter[0] += 1
        for d in outcome.desired:
            yield (d.key, d.identity, d.points, d.effective_at, d.order_id, d.reason)


DESIRED_COLUMNS = ("key", "identity", "points", "effective_at", "order_id", "reason")


def fill_held(conn: Connection, tmp: Scratch, store_id: int, *, scoped: bool) -> None:
    """What the ledger holds per (derived key, identity), for every key or the scoped keys."""
    columns = "key, identity, points, last_seq, effective_at, order_id"
    aggregates = (
        "l.key, l.identity, SUM(l.points), MAX(l.seq), MAX(l.effective_at), MAX(l.order_id)"
    )
    params: dict[str, Any] = {"store": store_id}
    if scoped and conn.dialect.name == "postgresql":
        params["keys"] = column_values(conn, tmp.keys, "key")
        sql = (
            f"INSERT INTO {tmp.held.name} ({columns}) SELECT {aggregates} "
            "FROM loyalty_ledger AS l "
            f"WHERE l.store_id = :store AND l.key = ANY(:keys) AND {DERIVED_SQL} "
            "GROUP BY l.key, l.identity"
        )
    elif scoped:
        sql = (
            f"INSERT INTO {tmp.held.name} ({columns}) SELECT {aggregates} "
            f"FROM {tmp.keys.name} AS k CROSS JOIN loyalty_ledger AS l "
            f"WHERE l.store_id = :store AND l.key = k.key AND {DERIVED_SQL} "
            "GROUP BY l.key, l.identity"
        )
    else:
        sql = (
            f"INSERT INTO {tmp.held.name} ({columns}) SELECT {aggregates} "
            f"FROM loyalty_ledger AS l WHERE l.store_id = :store AND {DERIVED_SQL} "
            "GROUP BY l.key, l.identity"
        )
    conn.execute(text(sql), params)


def flag_differences(conn: Connection, tmp: Scratch) -> None:
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


def explain(key: str, order: Row[Any] | None) -> str:
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


def plan_flagged(
    conn: Connection, tmp: Scratch, program: Program, now: datetime, facts: Facts
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
                    lambda k, info=order_info: explain(k, info.get(k)),  # type: ignore[misc]
                )
            )
        yield entries
        last = hi


def plan_non_derived(facts: Facts, keys: Iterable[str] | None, now: datetime) -> Iterator[NewEntry]:
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


#: A first run's entries written straight into the ledger (``Planner.direct``).
LEDGER_COLUMNS = ("store_id", *ENTRY_SCRATCH_COLUMNS, "created_at")


def entry_rows(
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


def first_entries(
    outcomes: Iterable[Outcome],
    stats: ReconcileResult,
    chain: Chain,
    now: datetime,
    dialect: str,
    *,
    ledger: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """A ledger without derived keys (a store's first run): each desired key is the first
    entry of its key. Linked into the chain and formatted as stored, in one pass (each
    instant formatted once for both). Rows of ``ENTRY_SCRATCH_COLUMNS``, or with ``ledger``
    of ``LEDGER_COLUMNS`` (the ledger's own row: the store first, the write time last).

    The hot loop of a first run (1.85 M entries for a million orders): ``Chain.link``'s
    bytes (``chain.entry_hash``; the golden test's ``verify`` checks every one), with every
    part the entries share formatted once, and the chain and the statistics advanced once
    per identity."""
    by_kind = stats.points_by_kind
    expiry = f"{EXPIRY}:"
    sha256 = hashlib.sha256
    written = canonical_instant(now)
    prefix = chain.store_prefix
    sqlite = dialect != "postgresql"
    store_id = chain.store_id
    created = stored_instant(written, dialect)
    length, head = chain.length, chain.head
    earned = by_kind.get("earn", 0)
    expired = by_kind.get("expiry", 0)
    for outcome in outcomes:
        stats.identities += 1
        before = length
        for key, identity, points, effective_at, order_id, reason in outcome.desired:
            if key.startswith(expiry):
                kind, kind_text = "expiry", "6:expiry"
                expired += points
            else:
                kind, kind_text = "earn", "4:earn"
                earned += points
            at = (
                effective_at.isoformat(timespec="microseconds")
                if effective_at.tzinfo is UTC
                else canonical_instant(effective_at)
            )
            length += 1
            head = sha256(
                f"{head}{prefix}{length}|{len(key)}:{key}|1|{len(identity)}:{identity}|"
                f"{points}|{kind_text}|{len(reason)}:{reason}|"
                f"{'-' if order_id is None else order_id}|-|-|{at}|{written}".encode(
                    "utf-8", "surrogatepass"
                )
            ).hexdigest()
            stored = f"{at[:10]} {at[11:26]}" if sqlite else at[:26]  # ``stored_instant``
            if ledger:
                yield (
                    store_id, key, 1, identity, points, kind, reason, stored, order_id, length,
                    head, created,
                )  # fmt: skip
            else:
                yield (
                    key, 1, identity, points, kind, reason, stored, order_id, length, head,
                )  # fmt: skip
        if length != before:
            chain.advance(length, head)
            stats.appended += length - before
            stats.keys_changed += length - before
            by_kind["earn"] = earned
            by_kind["expiry"] = expired
    for kind in ("earn", "expiry"):
        if by_kind.get(kind) == 0:
            del by_kind[kind]


# --------------------------------------------------------------------------- the run


def sorted_orders_query(conn: Connection, store_id: int) -> Any:
    """A full run's pass: the store's orders with their rule inputs, sorted by identity (then
    creation time and id), instants as the driver gives them (``facts_stream``)."""
    scan = conn.dialect.name == "sqlite"
    query = order_rows(store_id, driver_instants=True, scan=scan)
    identity = query.selected_columns.identity
    if conn.dialect.name == "postgresql":
        # Rows of one identity only need to be together: byte order sorts fastest.
        identity = identity.collate("C")
    return query.order_by(identity, orders.c.created_at, orders.c.wc_id)


def sorted_orders(conn: Connection, store_id: int) -> tuple[str, list[Any]]:
    """SQLite: ``sorted_orders_query`` as SQL and parameters for the driver's own cursor
    (plain tuples, no result processing per row)."""
    compiled = sorted_orders_query(conn, store_id).compile(dialect=conn.dialect)
    params = compiled.construct_params()
    assert compiled.positiontup is not None
    return str(compiled), [params[k] for k in compiled.positiontup]


#: A direct first run of at least this many orders computes its rules in a second process
#: (``loyalty._pipeline``): below, starting it costs more than it saves.
SECOND_PROCESS_MIN_ORDERS = 20_000
#: Where it does. Not PostgreSQL: its first run already overlaps the Python with the server
#: (the rows stream into a ``COPY`` the server takes in on the other core), and a third busy
#: process on two cores made it slower (1 M orders, load ≈ 2: 33.4 s against 28.0 s).
SECOND_PROCESS_DIALECTS = frozenset({"sqlite"})


class Planner:
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
        #: Orders noted in the change log that are no longer in the mirror.
        self.gone_orders: list[int] = []
        #: The run's snapshot of the change log is in the scratch table (deleted at commit).
        self.logged = False
        #: The ledger holds no derived key of the store: desired keys are new entries as is.
        self.fresh = False
        #: A first run into an empty ledger, locked for this run's one transaction, its
        #: indexes dropped (``reconcile``): the entries go straight into the ledger, written
        #: once, instead of into the scratch table and then copied.
        self.direct = False
        #: With ``direct``: the facts table was empty too; the orders' facts go straight in.
        self.direct_facts = False
        #: The store's hash chain, continued by every planned entry in the order planned.
        self.chain = read_head(conn, program.store_id)

    def full(self, tmp: Scratch) -> None:
        """Recompute every identity of the store: one sorted pass over its orders.

        When the ledger holds no derived key of the store yet (the first run), every desired
        key is simply a new entry: they go straight to the entries table."""
        led = loyalty_ledger
        self.fresh = (
            self.work.execute(
                select(led.c.id)
                .where(led.c.store_id == self.program.store_id, derived(led.c.key))
                .limit(1)
            ).first()
            is None
        )
        if self.direct and not self.fresh:
            raise RuntimeError("a direct first run into a ledger that holds entries")
        scan = self.work.dialect.name == "sqlite"
        current = order_rows(self.program.store_id, scan=scan).subquery("cur")
        with self.stats.step("facts snapshot"):
            if self.direct_facts:
                # (straight into the empty facts table, as the entries into the ledger)
                copied = self.work.execute(
                    insert(loyalty_order_facts).from_select(
                        ["store_id", *FACT_COLUMNS],
                        select(
                            literal(self.program.store_id), *(current.c[c] for c in FACT_COLUMNS)
                        ),
                    )
                )
            else:
                copied = self.work.execute(
                    insert(tmp.facts).from_select(
                        list(FACT_COLUMNS), select(*(current.c[c] for c in FACT_COLUMNS))
                    )
                )
        target, columns = self._entries_table(tmp)
        if (
            self.direct
            and self.work.dialect.name in SECOND_PROCESS_DIALECTS
            and self._orders_copied(copied, tmp) >= SECOND_PROCESS_MIN_ORDERS
        ):
            with self.stats.step("rules"):
                self._first_run_two_processes(target, columns)
            return
        if not scan:
            with self.stats.step("rules"):
                self._full_pg(tmp, sorted_orders_query(self.work, self.program.store_id))
            return
        # SQLite: the driver's own cursor, plain tuples (no result processing per row).
        raw = self.work.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.arraysize = PAGE
        rows = cursor.execute(*sorted_orders(self.work, self.program.store_id))
        counter = [0]
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            # Written between two fetches of the streamed query, on the same connection.
            if self.fresh:
                bulk_insert(self.work, target, columns, batch, stored=True)
            else:
                bulk_insert(self.work, tmp.desired, DESIRED_COLUMNS, batch)
            batch.clear()

        outcomes = outcomes_of(self.facts, facts_stream(rows), self.now, None)
        planned = (
            first_entries(outcomes, self.stats, self.chain, self.now, "sqlite", ledger=self.direct)
            if self.fresh
            else desired_rows(outcomes, counter)
        )
        with self.stats.step("rules"):
            for row in planned:
                batch.append(row)
                if len(batch) >= PAGE:
                    flush()
            flush()
        rows.close()
        if not self.fresh:
            self.stats.identities = counter[0]
        if not self.fresh:
            with self.stats.step("recorded"):
                fill_held(self.work, tmp, self.program.store_id, scoped=False)

    def _orders_copied(self, copied: Any, tmp: Scratch) -> int:
        """How many orders the facts snapshot copied (psycopg reports -1 for it: counted)."""
        if copied.rowcount >= 0:
            return int(copied.rowcount)
        table = loyalty_order_facts if self.direct_facts else tmp.facts
        query = select(func.count()).select_from(table)
        if self.direct_facts:
            query = query.where(loyalty_order_facts.c.store_id == self.program.store_id)
        return int(self.work.execute(query).scalar_one())

    def _first_run_two_processes(self, target: Table, columns: tuple[str, ...]) -> None:
        """A direct first run of a big store: the rules in a second process
        (``loyalty._pipeline``), the entries written here as they come (SQLite: by
        ``executemany``; PostgreSQL: one ``COPY``, the child reading this transaction's
        exported snapshot)."""
        work = self.work
        url = work.engine.url.render_as_string(hide_password=False)
        snapshot = None
        if work.dialect.name == "postgresql":
            snapshot = work.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        job = Job(url, self.program, self.now, (self.chain.length, self.chain.head), snapshot)
        child = RulesProcess(job)
        try:
            bulk_insert(self.work, target, columns, child.rows(), stored=True)
        finally:
            child.close()
        summary = child.summary
        assert summary is not None  # (``rows`` raised otherwise)
        if summary.length != self.chain.length + summary.appended:
            raise ChildFailed("the rules process sent a chain that does not add up")
        self.chain.advance(summary.length, summary.head)
        stats = self.stats
        stats.identities += summary.identities
        stats.appended += summary.appended
        stats.keys_changed += summary.keys_changed
        for kind, points in summary.points_by_kind.items():
            stats.points_by_kind[kind] = stats.points_by_kind.get(kind, 0) + points

    def _entries_table(self, tmp: Scratch) -> tuple[Table, tuple[str, ...]]:
        """Where a first run's entries go: the ledger itself (``direct``) or the scratch table."""
        if self.direct:
            return loyalty_ledger, LEDGER_COLUMNS
        return tmp.entries, ENTRY_SCRATCH_COLUMNS

    def _full_pg(self, tmp: Scratch, query: Any) -> None:
        """PostgreSQL: the orders stream from a second connection that shares the run's
        snapshot (``SET TRANSACTION SNAPSHOT``: exactly the rows this connection sees), so
        the planned rows go to the scratch table through one ``COPY`` that stays open for
        the whole pass: the server takes them in as they come, on the other core, instead
        of the client waiting for it at each page (a cursor and a ``COPY`` cannot share a
        connection)."""
        work = self.work
        snapshot = work.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        with work.engine.connect() as reader:
            reader = reader.execution_options(isolation_level="REPEATABLE READ")
            reader.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            # The driver's own server-side cursor: plain tuples, no result processing per row.
            compiled = query.compile(dialect=reader.dialect)
            raw = reader.connection.driver_connection
            assert raw is not None
            cursor = raw.cursor(name="bz_orders")
            cursor.itersize = PAGE
            cursor.execute(str(compiled), compiled.construct_params())
            outcomes = outcomes_of(self.facts, facts_stream(cursor), self.now, None)
            if self.fresh:
                first = first_entries(
                    outcomes, self.stats, self.chain, self.now, "postgresql", ledger=self.direct
                )
                bulk_insert(work, *self._entries_table(tmp), first, stored=True)
            else:
                counter = [0]
                bulk_insert(work, tmp.desired, DESIRED_COLUMNS, desired_rows(outcomes, counter))
                self.stats.identities = counter[0]
            cursor.close()
            reader.rollback()
        if not self.fresh:
            with self.stats.step("recorded"):
                fill_held(work, tmp, self.program.store_id, scoped=False)

    def incremental(self, tmp: Scratch, state: State, since: datetime | None) -> bool:
        """Recompute the identities touched since the last run; False: run in full instead."""
        program, reader = self.program, self.reader
        self.stats.mode = "incremental"
        scope: set[str] = set()
        facts_rows: dict[int, tuple[Any, ...]] = {}
        noted: dict[str, list[int]] | None = None
        with self.stats.step("changed orders"):
            if self.logged:
                # The change log names the rows written since the last run: cost ∝ change.
                noted = noted_ids(reader, tmp, MAX_INCREMENTAL_IDENTITIES)
                if noted is None:
                    return False
                now_rows, before, self.gone_orders = noted_orders(reader, self.facts, noted["o"])
                scope |= before | {r.identity for r in now_rows}
                facts_rows = {r.order_id: fact_tuple(r.identity, facts_of(r)) for r in now_rows}
            else:
                for row in changed_orders(reader, program.store_id):
                    scope.add(row.identity)
                    if row.old_identity:
                        scope.add(row.old_identity)
                    facts_rows[row.order_id] = fact_tuple(row.identity, facts_of(row))
        with self.stats.step("changed accounts"):
            touched, self.changed_accounts, self.gone_accounts = account_changes(
                reader, self.facts, None if noted is None else noted["c"]
            )
        scope |= touched
        with self.stats.step("new entries"):
            # Entries appended since (a grant, a redemption): a range of ids. SQLite is told
            # not to use an index on the store (``+store_id``), which would read them all.
            store = (
                literal_column("+store_id")
                if reader.dialect.name == "sqlite"
                else loyalty_ledger.c.store_id
            )
            scope |= {
                r[0]
                for r in reader.execute(
                    select(loyalty_ledger.c.identity)
                    .where(
                        loyalty_ledger.c.id > (state.last_entry_id or 0),
                        store == program.store_id,
                    )
                    .distinct()
                )
            }
        if state.reconciled_at is not None:
            with self.stats.step("expiry window"):
                scope |= expiry_window_identities(reader, program, state.reconciled_at, self.now)
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
                rows = orders_of(reader, self.facts, pending)
            # What the rules saw of these orders, identities as of now (a guest who
            # registered moves their orders' facts to the account).
            for r in rows:
                facts_rows[r.order_id] = fact_tuple(r.identity, facts_of(r))
            with self.stats.step("rules"):
                outcomes = list(identity_outcomes(self.facts, rows, self.now, pending))
            bulk_insert(
                self.work,
                tmp.desired,
                DESIRED_COLUMNS,
                desired_rows(outcomes, [0]),
            )
            computed |= pending
            with self.stats.step("closure"):
                analyze(self.work, tmp.scope, tmp.desired)
                more = self._holders_outside(tmp) | self._natural_of_held(tmp)
            self.facts.need_identities(more)
            more |= {self.facts.owner(i) for i in more}
            pending = more - computed
        self.stats.identities = len(computed)
        self.facts_rows = [facts_rows[k] for k in sorted(facts_rows)]
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
                    {
                        "store": program.store_id,
                        "scope": column_values(self.work, tmp.scope, "identity"),
                    },
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
            analyze(self.work, tmp.keys)
            fill_held(self.work, tmp, program.store_id, scoped=True)
        return True

    def _holders_outside(self, tmp: Scratch) -> set[str]:
        """Identities outside the scope that hold one of the scope's desired keys."""
        store = self.program.store_id
        if self.work.dialect.name == "postgresql":
            # Arrays, not joins: the planner then probes the ledger's indexes for sure.
            scope = set(column_values(self.work, tmp.scope, "identity"))
            found = self.work.execute(
                text(
                    "SELECT DISTINCT l.identity FROM loyalty_ledger AS l "
                    "WHERE l.store_id = :store AND l.key = ANY(:keys)"
                ),
                {"store": store, "keys": column_values(self.work, tmp.desired, "key")},
            )
            return {r[0] for r in found} - scope
        sql = (
            f"SELECT DISTINCT l.identity FROM {tmp.desired.name} AS d "
            "CROSS JOIN loyalty_ledger AS l "
            "WHERE l.store_id = :store AND l.key = d.key "
            f"AND l.identity NOT IN (SELECT identity FROM {tmp.scope.name})"
        )
        return {r[0] for r in self.work.execute(text(sql), {"store": store})}

    def _natural_of_held(self, tmp: Scratch) -> set[str]:
        """The identities owning the keys the scope holds but does not desire."""
        store = self.program.store_id
        if self.work.dialect.name == "postgresql":
            desired = set(column_values(self.work, tmp.desired, "key"))
            found = self.work.execute(
                text(
                    "SELECT DISTINCT l.key FROM loyalty_ledger AS l "
                    "WHERE l.store_id = :store AND l.identity = ANY(:scope)"
                ),
                {"store": store, "scope": column_values(self.work, tmp.scope, "identity")},
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
        return natural_identities(self.reader, self.facts, keys)

    def plan(self, tmp: Scratch, *, scoped: bool) -> None:
        """Flag the differing keys and plan their entries into the entries scratch table."""
        with self.stats.step("differences"):
            self._plan(tmp, scoped=scoped)

    def _plan(self, tmp: Scratch, *, scoped: bool) -> None:
        if not self.fresh:
            flag_differences(self.work, tmp)
            for page in plan_flagged(self.work, tmp, self.program, self.now, self.facts):
                rows = entry_rows(page, self.stats, self.chain, self.now)
                bulk_insert(self.work, tmp.entries, ENTRY_SCRATCH_COLUMNS, rows)
        keys: list[str] | None = None
        if scoped:
            keys = [
                r[0]
                for r in self.work.execute(
                    select(tmp.keys.c.key).where(non_derived(tmp.keys.c.key))
                )
            ]
        moves = list(plan_non_derived(self.facts, keys, self.now))
        # (a direct first run's ledger was empty: no redemption or grant to move)
        assert not (moves and self.direct), "entries to move in an empty ledger"
        bulk_insert(
            self.work,
            tmp.entries,
            ENTRY_SCRATCH_COLUMNS,
            entry_rows(moves, self.stats, self.chain, self.now),
        )
