"""A store's program as the services see it: the settings resolved against what the store told
us (currency, decimals, timezone), the moment the program was created and the per-currency
defaults it was created with (recorded then, kept for ever: see ``loyalty.settings``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, select, update

from connector import ConfigError, currency_decimals, dialect_insert, orders, store_row
from loyalty._schema import loyalty_programs
from loyalty.settings import (
    Program,
    currency_defaults,
    parse_settings,
    resolve,
)


def ensure_program(
    conn: Connection, store_id: int, now: datetime, defaults: dict[str, int] | None = None
) -> datetime:
    """The program's creation time, creating the program row on first use.

    ``defaults``: the per-currency amounts to record when the row is created (or when a row
    created without them — by a reconciliation before the settings were loaded — is found);
    a recorded set is never replaced."""
    insert = dialect_insert(conn.dialect.name)
    recorded = None if defaults is None else json.dumps(defaults, sort_keys=True)
    conn.execute(
        insert(loyalty_programs)
        .values(store_id=store_id, created_at=now, defaults=recorded)
        .on_conflict_do_nothing(index_elements=["store_id"])
    )
    row = conn.execute(
        select(loyalty_programs.c.created_at, loyalty_programs.c.defaults).where(
            loyalty_programs.c.store_id == store_id
        )
    ).one()
    if row.defaults is None and recorded is not None:
        conn.execute(
            update(loyalty_programs)
            .where(loyalty_programs.c.store_id == store_id, loyalty_programs.c.defaults.is_(None))
            .values(defaults=recorded)
        )
    created: datetime = row.created_at
    return created


def recorded_defaults(conn: Connection, store_id: int) -> dict[str, int] | None:
    """The per-currency amounts the program was created with (``None``: not created yet)."""
    text = conn.execute(
        select(loyalty_programs.c.defaults).where(loyalty_programs.c.store_id == store_id)
    ).scalar()
    return None if text is None else {k: int(v) for k, v in json.loads(text).items()}


def load_program(
    engine: Engine | Connection,
    store: str,
    settings: dict[str, Any] | None,
    now: datetime,
    *,
    create: bool = True,
) -> Program:
    """Validate ``settings`` (the store's ``loyalty`` table) and resolve them for the store.

    With ``create`` the program row is created if missing (its time is the default
    ``starts_at``); without, a program not created yet starts ``now`` (for display)."""
    parsed = parse_settings(store, settings)

    def run(conn: Connection) -> Program:
        row = store_row(conn, name=store)
        if row is None:
            raise ConfigError(
                f"store {store!r} has no data yet: run `bazgasht sync --store {store}` first."
            )
        currency = row.currency
        decimals = row.decimals if row.decimals is not None else currency_decimals(currency)
        if create:
            created = ensure_program(conn, row.id, now, currency_defaults(currency, decimals))
        else:
            created = (
                conn.execute(
                    select(loyalty_programs.c.created_at).where(
                        loyalty_programs.c.store_id == row.id
                    )
                ).scalar()
                or now
            )
        return resolve(
            parsed,
            store=store,
            store_id=row.id,
            currency=currency,
            decimals=row.decimals,
            timezone=row.timezone,
            program_created_at=created,
            recorded_defaults=recorded_defaults(conn, row.id),
        )

    if isinstance(engine, Connection):
        return run(engine)
    if create:
        with engine.begin() as conn:
            return run(conn)
    with engine.connect() as conn:
        return run(conn)


def program_started(conn: Connection, store_id: int) -> bool:
    """Whether the store's program exists yet (its first run creates it)."""
    found = conn.execute(
        select(loyalty_programs.c.store_id).where(loyalty_programs.c.store_id == store_id)
    ).first()
    return found is not None


class PastOrders(NamedTuple):
    """Orders that would earn under the program's rules but were created before
    ``starts_at``: what an owner with an empty program is missing, and what moving
    ``starts_at`` back to ``first`` (and a reconcile) would credit."""

    orders: int
    first: datetime | None


def orders_before_start(engine: Engine | Connection, program: Program) -> PastOrders:
    query = select(func.count(), func.min(orders.c.created_at)).where(
        orders.c.store_id == program.store_id,
        orders.c.deleted_at.is_(None),
        orders.c.status.in_(sorted(program.earn_statuses)),
        orders.c.total > orders.c.refunded_total,
        orders.c.created_at < program.starts_at,
    )
    if isinstance(engine, Connection):
        count, first = engine.execute(query).one()
    else:
        with engine.connect() as conn:
            count, first = conn.execute(query).one()
    return PastOrders(int(count), first)


__all__ = [
    "PastOrders",
    "ensure_program",
    "load_program",
    "orders_before_start",
    "program_started",
    "recorded_defaults",
]
