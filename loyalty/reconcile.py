"""Reconciliation: make the ledger hold what the rules say, by appending only the differences.

How it works (docs/loyalty.md has the why). Phase 1 plans, phase 2 appends:

1. **Scope.** A *full* run recomputes every identity; an *incremental* run (the default after
   the first) only those the mirror's change log names (``loyalty._scope``: orders and
   accounts written since the last run, new ledger entries, lots reaching their expiry),
   closed over every identity that holds one of their keys. A change of the program's rules,
   or a clock running backwards, makes it full.
2. **Plan** (``loyalty._planner``, into scratch tables, ``loyalty._scratch``). Orders stream
   sorted by identity through the pure rules (``loyalty.rules``); SQL compares the desired
   keys with what the ledger holds and only the differing keys come back to Python, where
   ``loyalty.rules.plan_key`` turns each into entries. A first run's desired keys are its
   entries as they are. Every entry is linked into the store's hash chain (``loyalty.chain``)
   as it is planned, after the head read in phase 1.
3. **Append** (``_commit_phase``): one short write transaction copies the planned entries into
   the ledger, with the rule inputs seen (``loyalty_order_facts``), the program's state, and
   deletes the change notes the run has seen. It claims the chain's head and refuses to append
   if the head moved meanwhile.

``preview`` runs phase 1 only and says what phase 2 would do (a settings preview, a dry run).

Every writer of a store's ledger holds its ``loyalty`` lock; the UNIQUE (store, key, seq)
constraint is the second guard.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    case,
    delete,
    distinct,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from connector import UTCDateTime
from loyalty._db import bulk_insert, joined, ledger_lock, split_sum
from loyalty._facts import (
    FACT_COLUMNS,
    Facts,
    order_rows,
    orders_of,
)
from loyalty._planner import (
    ENTRY_SCRATCH_COLUMNS,
    PAGE,
    Planner,
    ReconcileResult,
    identity_outcomes,
)
from loyalty._schema import (
    loyalty_account_facts,
    loyalty_changes,
    loyalty_ledger,
    loyalty_order_facts,
    loyalty_programs,
)
from loyalty._scope import (
    change_log_ready,
    program_state,
    snapshot_changes,
)
from loyalty._scratch import (
    Scratch,
    indexes_built_after,
    ledger_is_empty,
    open_scratch,
    refresh_statistics,
    table_is_empty,
    working_memory,
)
from loyalty.ledger import LedgerConflict, advance_head, claim_head
from loyalty.program import ensure_program
from loyalty.settings import Program

log = logging.getLogger("bazgasht.loyalty")

#: An append at least this big refreshes the planner's statistics (PostgreSQL).
BIG_APPEND = 10_000


def _commit_phase(
    work: Connection, tmp: Scratch, planner: Planner, rebuild: ExitStack, *, full: bool
) -> None:
    """Phase 2: one short write transaction. Its first statement writes (SQLite then takes the
    write lock at once instead of upgrading a stale read snapshot). A direct first run
    (``planner.direct``) is still in phase 1's transaction: its entries are in the ledger
    already and ``rebuild`` builds the ledger's indexes back."""
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
    if planner.direct:
        first = True
        rebuild.close()  # the indexes and triggers phase 1 dropped, built over its entries
    else:
        # A first run into an empty ledger appends everything, then builds the indexes.
        first = planner.fresh and ledger_is_empty(work)
        with indexes_built_after(work, enabled=first):
            work.execute(
                insert(loyalty_ledger).from_select(
                    ["store_id", *cols, "created_at"],
                    # In chain order: the chain's and the identities' indexes grow at their ends.
                    select(
                        literal(store_id), *(e.c[c] for c in cols), literal(now, UTCDateTime)
                    ).order_by(e.c.chain_seq),
                )
            )
    advance_head(work, planner.chain, now)
    f = loyalty_order_facts
    if full and not planner.direct_facts:
        work.execute(delete(f).where(f.c.store_id == store_id))
    elif planner.facts_rows:
        bulk_insert(work, tmp.facts, FACT_COLUMNS, planner.facts_rows)
        work.execute(
            delete(f).where(
                f.c.store_id == store_id, f.c.order_id.in_(select(tmp.facts.c.order_id))
            )
        )
    for start in range(0, len(planner.gone_orders), 500):
        chunk = planner.gone_orders[start : start + 500]
        work.execute(delete(f).where(f.c.store_id == store_id, f.c.order_id.in_(chunk)))
    # A first run: the facts tables are empty too (their foreign keys checked once, after).
    # (A direct first run wrote the orders' facts in phase 1.)
    if not planner.direct_facts:
        with indexes_built_after(work, enabled=full and first and table_is_empty(work, f), table=f):
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
    with indexes_built_after(work, enabled=full and first and table_is_empty(work, a), table=a):
        bulk_insert(
            work,
            a,
            ("store_id", "customer_id", "email", "role", "deleted", "created_at"),
            (
                (store_id, x.customer_id, x.email, x.role, x.deleted, x.created_at)
                for x in planner.changed_accounts
            ),
        )
    if planner.logged:
        # The notes this run has seen; a note changed since (a higher stamp) stays.
        lc, seen = loyalty_changes, tmp.changes
        work.execute(
            delete(lc).where(
                lc.c.store_id == store_id,
                exists(
                    select(literal(1)).where(
                        seen.c.subject == lc.c.subject,
                        seen.c.wc_id == lc.c.wc_id,
                        seen.c.stamp == lc.c.stamp,
                    )
                ),
            )
        )
    # The highest id of the whole ledger (one index probe; with the store as a condition,
    # SQLite reads all the store's entries): under the store's lock, every later entry of
    # the store gets a higher id.
    last_id = work.execute(select(func.max(loyalty_ledger.c.id))).scalar()
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
        stack.enter_context(working_memory(conn))
        tmp = open_scratch(stack, conn)
        # The ledger's indexes, dropped by a direct first run, built in its commit phase.
        rebuild = stack.enter_context(ExitStack())
        direct = table_is_empty(conn, loyalty_ledger)
        conn.rollback()
        try:
            planner = _phase_one(
                conn, tmp, program, now, full=full, since=since, direct=rebuild if direct else None
            )
            with planner.stats.step("append"):
                _commit_phase(conn, tmp, planner, rebuild, full=planner.stats.mode == "full")
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
        finally:
            # (a direct first run kept phase 1's transaction, and its isolation, to here)
            if conn.dialect.name == "postgresql" and not conn.in_transaction():
                conn.execution_options(isolation_level="READ COMMITTED")
        if planner.stats.mode == "full" or planner.stats.appended >= BIG_APPEND:
            with planner.stats.step("statistics"):
                refresh_statistics(conn)
        result = planner.stats
    result.seconds = time.monotonic() - started
    return result


def _phase_one(
    conn: Connection,
    tmp: Scratch,
    program: Program,
    now: datetime,
    *,
    full: bool,
    since: datetime | None,
    direct: ExitStack | None = None,
) -> Planner:
    """Compute the entries to append into the scratch tables, from one consistent snapshot
    of the mirror and the ledger (PostgreSQL: REPEATABLE READ; SQLite: one read transaction,
    opened by the first scratch write). Writes nothing else; ends committed.

    ``direct`` (``reconcile``, when the ledger looked empty): a first run may write its
    entries straight into the ledger. The transaction then starts by locking the ledger
    (SQLite: a write, which takes the database's write lock at once; PostgreSQL: the lock
    of ``ledger_is_empty``, before the snapshot); if the ledger is empty and the run full,
    the ledger's indexes are dropped (built again when ``direct`` closes, in the commit
    phase) and the transaction stays open for the commit phase: a crash anywhere leaves
    nothing."""
    if conn.in_transaction():
        conn.commit()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")
    empty = False
    if direct is not None:
        if conn.dialect.name == "sqlite":
            ensure_program(conn, program.store_id, now)  # the write lock, before any read
        empty = ledger_is_empty(conn)  # PostgreSQL: the lock first, then the snapshot
    conn.execute(delete(tmp.scope))  # opens the transaction (pysqlite begins on a write)
    state = program_state(conn, program.store_id)
    use_full = (
        full
        or state is None
        or state.fingerprint != program.rules_fingerprint()
        or state.reconciled_at is None
        or now < state.reconciled_at
    )
    logged = change_log_ready(conn)
    if logged:
        snapshot_changes(conn, tmp, program.store_id)
    planner = Planner(conn, program, now, all_accounts=use_full)
    planner.logged = logged
    if not use_full:
        assert state is not None
        if not planner.incremental(tmp, state, since):
            use_full = True
            for table in (tmp.desired, tmp.held, tmp.keys, tmp.scope, tmp.facts):
                conn.execute(delete(table))
            planner = Planner(conn, program, now)
            planner.logged = logged
    if use_full:
        if empty and direct is not None:
            direct.enter_context(indexes_built_after(conn, enabled=True))
            planner.direct = True
            if table_is_empty(conn, loyalty_order_facts):
                direct.enter_context(
                    indexes_built_after(conn, enabled=True, table=loyalty_order_facts)
                )
                planner.direct_facts = True
        planner.full(tmp)
    planner.plan(tmp, scoped=not use_full)
    planner.stats.mode = "full" if use_full else "incremental"
    if planner.direct:
        return planner  # still in the transaction that wrote the entries
    conn.commit()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="READ COMMITTED")
    return planner


@dataclass(frozen=True)
class Preview:
    """What a reconciliation would append now (``preview``); nothing was written.

    ``points_added`` / ``points_taken_back`` count the entries that change what is held
    (transfers, which move points between identities, are in ``points_by_kind`` only);
    ``outstanding`` is the sum of positive balances, ``liability`` its value."""

    store: str
    mode: str
    entries: int
    identities_touched: int
    points_added: int
    points_taken_back: int
    points_by_kind: dict[str, int]
    outstanding_before: int
    outstanding_after: int
    liability_before: Decimal
    liability_after: Decimal
    #: Identities whose balance the entries raise / lower (transfers included: they move a
    #: customer's points), and those a balance of zero or more would leave below zero.
    identities_gaining: int = 0
    identities_losing: int = 0
    identities_negative: int = 0
    #: The identities most changed (``examples=`` of ``preview``): (identity, before, after).
    examples: tuple[tuple[str, int, int], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["examples"] = [
            {"identity": i, "points_before": b, "points_after": a} for i, b, a in self.examples
        ]
        out["liability_before"] = str(self.liability_before)
        out["liability_after"] = str(self.liability_after)
        out["points_by_kind"] = dict(sorted(self.points_by_kind.items()))
        return out


def preview(
    engine: Engine,
    program: Program,
    now: datetime,
    *,
    full: bool = False,
    since: datetime | None = None,
    examples: int = 0,
) -> Preview:
    """What ``reconcile(engine, program, now, full=..., since=...)`` would append, computed
    exactly as it would (phase 1) and not written. ``program`` may carry settings not in use
    yet (a settings preview: another rules fingerprint makes it a full plan). Takes no lock:
    a writer that appends meanwhile makes the answer stale, not wrong for its snapshot.
    ``examples``: how many of the most changed identities to name (the settings preview)."""
    with ExitStack() as stack:
        conn = stack.enter_context(engine.connect())
        stack.enter_context(working_memory(conn))
        tmp = open_scratch(stack, conn)
        planner = _phase_one(conn, tmp, program, now, full=full, since=since)
        e, led = tmp.entries, loyalty_ledger
        not_transfer = e.c.kind != "transfer"
        added_hi, added_lo, back_hi, back_lo, identities = conn.execute(
            select(
                *split_sum(case((and_(not_transfer, e.c.points > 0), e.c.points), else_=0), "a"),
                *split_sum(case((and_(not_transfer, e.c.points < 0), e.c.points), else_=0), "b"),
                func.count(distinct(e.c.identity)),
            )
        ).one()
        before = _outstanding(conn, select(led.c.identity, led.c.points), program.store_id)
        after = _outstanding(
            conn,
            union_all(
                select(led.c.identity, led.c.points).where(led.c.store_id == program.store_id),
                select(e.c.identity, e.c.points),
            ),
            program.store_id,
        )
        gaining, losing, negative, worst = _identity_changes(conn, e, program.store_id, examples)
        conn.rollback()
    stats = planner.stats
    return Preview(
        store=program.store,
        mode=stats.mode,
        entries=stats.appended,
        identities_touched=int(identities or 0),
        points_added=joined(added_hi, added_lo),
        points_taken_back=-joined(back_hi, back_lo),
        points_by_kind=dict(stats.points_by_kind),
        outstanding_before=before,
        outstanding_after=after,
        liability_before=program.amount_of(before),
        liability_after=program.amount_of(after),
        identities_gaining=gaining,
        identities_losing=losing,
        identities_negative=negative,
        examples=worst,
    )


def _identity_changes(
    conn: Connection, entries: Any, store_id: int, examples: int
) -> tuple[int, int, int, tuple[tuple[str, int, int], ...]]:
    """Per identity, the net change the planned ``entries`` make against its balance now:
    how many gain, lose, fall below zero, and the ``examples`` most changed."""
    led = loyalty_ledger
    change = (
        select(entries.c.identity, func.sum(entries.c.points).label("change"))
        .group_by(entries.c.identity)
        .subquery()
    )
    held = (
        select(led.c.identity, func.sum(led.c.points).label("balance"))
        .where(led.c.store_id == store_id, led.c.identity.in_(select(change.c.identity)))
        .group_by(led.c.identity)
        .subquery()
    )
    before = func.coalesce(held.c.balance, 0)
    rows = (
        select(change.c.identity, change.c.change, before.label("before"))
        .select_from(change.outerjoin(held, held.c.identity == change.c.identity))
        .where(change.c.change != 0)
        .subquery()
    )
    one = literal(1)
    falls = and_(rows.c.before >= 0, rows.c.before + rows.c.change < 0)
    gaining, losing, negative = conn.execute(
        select(
            func.coalesce(func.sum(case((rows.c.change > 0, one), else_=0)), 0),
            func.coalesce(func.sum(case((rows.c.change < 0, one), else_=0)), 0),
            func.coalesce(func.sum(case((falls, one), else_=0)), 0),
        )
    ).one()
    worst: tuple[tuple[str, int, int], ...] = ()
    if examples > 0:
        found = conn.execute(
            select(rows.c.identity, rows.c.before, rows.c.change)
            .order_by(func.abs(rows.c.change).desc(), rows.c.identity)
            .limit(examples)
        ).all()
        worst = tuple((i, int(b), int(b) + int(c)) for i, b, c in found)
    return int(gaining), int(losing), int(negative), worst


def _outstanding(conn: Connection, points: Any, store_id: int) -> int:
    """The sum of positive balances over (identity, points) rows (the store's ledger when
    ``points`` is a plain select of it)."""
    if isinstance(points, Select):
        points = points.where(loyalty_ledger.c.store_id == store_id)
    rows = points.subquery()
    balances = select(func.sum(rows.c.points).label("balance")).group_by(rows.c.identity).subquery()
    hi, lo = conn.execute(
        select(*split_sum(case((balances.c.balance > 0, balances.c.balance), else_=0), "pos"))
    ).one()
    return joined(hi, lo)


# Names verify and reports import (before the planner moved out of this module).
_open_scratch = open_scratch
_orders_of = orders_of
_outcomes = identity_outcomes

__all__ = ["PAGE", "Facts", "Preview", "ReconcileResult", "order_rows", "preview", "reconcile"]
