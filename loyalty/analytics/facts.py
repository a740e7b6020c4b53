"""The store's counted orders, kept in ``analytics_orders`` between runs and brought up to
date from the change log before each analysis (``refresh_facts``).

A full build is one ``INSERT … SELECT``: every counted order with its identity (SPEC §4,
``order_identities``) and, by window functions over the identity's orders, the creation
times of its previous and next counted orders. Afterwards the triggers of migration
``0009_metrics`` log each changed order and each changed account e-mail; a refresh then
recomputes, in a handful of set-based statements, only the identities they touch:

1. the touched orders: the logged ones, and the guest orders placed with a logged account
   e-mail (which account claims them may have changed);
2. the affected identities: the touched orders' identities as stored and as they are now;
3. their rows are deleted and computed again from all of their orders.

Counts therefore never depend on whether the facts were built at once or bit by bit (a
test holds the two to each other). Facts cover every counted order, also those after any
*as of*; an analysis reads the rows before its *as of* — an order's previous order is never
later than it, and the next order after *as of* compares like none with every period end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union,
)

from connector import UTCDateTime, customers, lock_key, orders
from loyalty._db import split_parts
from loyalty.analytics._schema import analytics_changes, analytics_orders, analytics_state
from loyalty.identity import order_identities

#: Stand-ins for "no previous / next order" (far outside any real order's time).
NEVER_BEFORE = datetime(1000, 1, 1, tzinfo=UTC)
NEVER_AFTER = datetime(9999, 1, 1, tzinfo=UTC)
#: Above this many logged changes a refresh rebuilds the store's facts instead.
REBUILD_CHANGES = 50_000
FACT_COLUMNS = ["store_id", "order_id", "ident", "x", "rev_hi", "rev_lo", "prev_x", "next_x"]


def statuses_key(statuses: Sequence[str]) -> str:
    return ",".join(sorted(set(statuses)))


def refresh_facts(
    conn: Connection, store_id: int, statuses: Sequence[str], *, now: datetime | None = None
) -> str:
    """Bring ``analytics_orders`` of the store up to date and commit; returns what it did:
    ``"current"``, ``"incremental"`` or ``"rebuilt"``."""
    key = statuses_key(statuses)
    if _is_current(conn, store_id, key):
        return "current"
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("analytics", str(store_id))}
        )
    else:  # take SQLite's write lock now, not half-way through
        conn.execute(delete(analytics_changes).where(analytics_changes.c.id < 0))
    if _is_current(conn, store_id, key):  # another process refreshed meanwhile
        conn.commit()
        return "current"
    state = conn.execute(
        select(analytics_state.c.statuses).where(analytics_state.c.store_id == store_id)
    ).scalar()
    pending = conn.execute(
        select(func.count()).where(analytics_changes.c.store_id == store_id)
    ).scalar_one()
    if state != key or pending > REBUILD_CHANGES:
        _rebuild(conn, store_id, statuses, key, now or datetime.now(UTC))
        done = "rebuilt"
    else:
        _incremental(conn, store_id, statuses)
        done = "incremental"
    conn.commit()
    if done == "rebuilt" and conn.dialect.name == "postgresql":
        _vacuum(conn)
    return done


def _vacuum(conn: Connection) -> None:
    """Mark the freshly written rows visible to all (PostgreSQL): until a ``VACUUM`` has run,
    every index-only scan of the analyses still reads the table for each row's visibility
    (activation at 1 M orders: 118 000 such reads, a second). Autovacuum would, some time
    later; this takes a few tenths of a second, once per rebuild. ``VACUUM`` cannot run in
    a transaction: it gets a connection of its own."""
    with conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as own:
        own.execute(text("VACUUM analytics_orders"))


def _is_current(conn: Connection, store_id: int, key: str) -> bool:
    state = conn.execute(
        select(analytics_state.c.statuses).where(analytics_state.c.store_id == store_id)
    ).scalar()
    if state != key:
        return False
    changed = conn.execute(
        select(analytics_changes.c.id).where(analytics_changes.c.store_id == store_id).limit(1)
    ).first()
    return changed is None


def _rebuild(
    conn: Connection, store_id: int, statuses: Sequence[str], key: str, now: datetime
) -> None:
    conn.execute(delete(analytics_changes).where(analytics_changes.c.store_id == store_id))
    conn.execute(delete(analytics_orders).where(analytics_orders.c.store_id == store_id))
    conn.execute(delete(analytics_state).where(analytics_state.c.store_id == store_id))
    # The state row first: changes committed by others from here on are logged.
    conn.execute(insert(analytics_state).values(store_id=store_id, statuses=key, built_at=now))
    conn.execute(
        insert(analytics_orders).from_select(FACT_COLUMNS, counted_rows(store_id, statuses))
    )
    conn.execute(text("ANALYZE analytics_orders"))


def counted_rows(
    store_id: int,
    statuses: Sequence[str],
    *,
    before: datetime | None = None,
    candidates: Table | None = None,
    affected: Table | None = None,
) -> Select[Any]:
    """The fact rows of the store's counted orders, in the columns of ``analytics_orders``
    (store_id, order_id, ident, x, rev_hi, rev_lo, prev_x, next_x): created ``before`` that
    instant, and of ``candidates`` whose identity is in ``affected``, when given. The one
    definition of a counted order's row, for the kept table and for ``queries``' temporary
    one (other statuses)."""
    from loyalty.analytics.queries import binary_collation, full_scan

    scan = full_scan if candidates is None else (lambda column: column)
    base_query = (
        order_identities(store_id)
        .add_columns(
            orders.c.created_at.label("x"),
            (orders.c.total - orders.c.refunded_total).label("rev"),
        )
        .where(
            scan(orders.c.store_id) == store_id,
            orders.c.status.in_(list(statuses)),
            orders.c.deleted_at.is_(None),
        )
    )
    if before is not None:
        base_query = base_query.where(scan(orders.c.created_at) < before)
    if candidates is not None and affected is not None:
        base_query = base_query.where(
            orders.c.wc_id.in_(select(candidates.c.order_id)),
        )
    base = base_query.subquery("base")
    source: Any = base
    if affected is not None:
        source = (
            select(base)
            .where(binary_collation(base.c.identity).in_(select(affected.c.ident)))
            .subquery("mine")
        )
    # Two orders of one identity created in the same second: either may come first, every
    # count comes out the same (both rows share x; only prev/next differ), so the sort
    # needs no tie-breaker.
    window: dict[str, Any] = {
        "partition_by": binary_collation(source.c.identity),
        "order_by": source.c.x,
    }
    rev_hi, rev_lo = split_parts(source.c.rev)
    fill = select(
        literal(store_id, Integer),
        source.c.order_id,
        source.c.identity,
        source.c.x,
        rev_hi,
        rev_lo,
        func.lag(source.c.x, 1, literal(NEVER_BEFORE, UTCDateTime)).over(**window),
        func.lead(source.c.x, 1, literal(NEVER_AFTER, UTCDateTime)).over(**window),
    )
    return fill.order_by(source.c.x)  # the x index and the heap fill in the same order


def _scratch(conn: Connection, name: str, *columns: Column[Any]) -> Table:
    table = Table(f"bz_{name}", MetaData(), *columns, prefixes=["TEMPORARY"])
    table.drop(conn, checkfirst=True)
    table.create(conn)
    return table


def _incremental(conn: Connection, store_id: int, statuses: Sequence[str]) -> None:
    postgres = conn.dialect.name == "postgresql"
    ident_type = String(400, collation="C") if postgres else String(400)
    taken = _scratch(
        conn,
        "taken",
        Column("id", Integer),
        Column("order_id", BigInteger),
        Column("email", String(400)),
    )
    touched = _scratch(conn, "touched", Column("order_id", BigInteger))
    affected = _scratch(
        conn,
        "affected",
        Column("ident", ident_type),
        Column("customer_id", BigInteger),
        Column("email", String(400)),
        Column("order_id", BigInteger),
    )
    candidates = _scratch(conn, "candidates", Column("order_id", BigInteger))
    try:
        changes = analytics_changes
        conn.execute(
            insert(taken).from_select(
                ["id", "order_id", "email"],
                select(changes.c.id, changes.c.order_id, changes.c.email).where(
                    changes.c.store_id == store_id
                ),
            )
        )
        conn.execute(
            insert(touched).from_select(
                ["order_id"],
                union(
                    select(taken.c.order_id).where(taken.c.order_id.is_not(None)),
                    select(orders.c.wc_id).where(
                        orders.c.store_id == store_id,
                        orders.c.customer_id == 0,
                        orders.c.billing_email.in_(
                            select(taken.c.email).where(taken.c.email.is_not(None))
                        ),
                    ),
                ),
            )
        )
        facts = analytics_orders
        now_ident = order_identities(store_id).where(orders.c.wc_id.in_(select(touched.c.order_id)))
        idents = union(
            select(facts.c.ident.label("ident")).where(
                facts.c.store_id == store_id,
                facts.c.order_id.in_(select(touched.c.order_id)),
            ),
            select(now_ident.subquery().c.identity.label("ident")),
        ).subquery("idents")
        conn.execute(
            insert(affected).from_select(
                ["ident", "customer_id", "email", "order_id"],
                select(
                    idents.c.ident,
                    _tail_if(idents.c.ident, "customer:", BigInteger),
                    _tail_if(idents.c.ident, "email:", String(400)),
                    _tail_if(idents.c.ident, "order:", BigInteger),
                ),
            )
        )
        conn.execute(
            delete(facts).where(
                facts.c.store_id == store_id, facts.c.ident.in_(select(affected.c.ident))
            )
        )
        customer_ids = select(affected.c.customer_id).where(affected.c.customer_id.is_not(None))
        conn.execute(
            insert(candidates).from_select(
                ["order_id"],
                union(
                    select(orders.c.wc_id).where(
                        orders.c.store_id == store_id, orders.c.customer_id.in_(customer_ids)
                    ),
                    select(orders.c.wc_id).where(
                        orders.c.store_id == store_id,
                        orders.c.customer_id == 0,
                        orders.c.billing_email.in_(
                            union(
                                select(affected.c.email).where(affected.c.email.is_not(None)),
                                select(customers.c.email).where(
                                    customers.c.store_id == store_id,
                                    customers.c.wc_id.in_(customer_ids),
                                ),
                            )
                        ),
                    ),
                    select(affected.c.order_id).where(affected.c.order_id.is_not(None)),
                ),
            )
        )
        conn.execute(
            insert(facts).from_select(
                FACT_COLUMNS,
                counted_rows(store_id, statuses, candidates=candidates, affected=affected),
            )
        )
        conn.execute(delete(changes).where(changes.c.id.in_(select(taken.c.id))))
    finally:
        for table in (taken, touched, affected, candidates):
            table.drop(conn, checkfirst=True)


def _tail_if(ident: Any, prefix: str, type_: Any) -> Any:
    """The part of ``ident`` after ``prefix`` (as ``type_``) when it starts with it, else NULL."""
    from sqlalchemy import case

    starts = func.substr(ident, 1, len(prefix)) == prefix
    return case((starts, cast(func.substr(ident, len(prefix) + 1), type_)), else_=None)


__all__ = ["NEVER_AFTER", "NEVER_BEFORE", "REBUILD_CHANGES", "refresh_facts", "statuses_key"]
