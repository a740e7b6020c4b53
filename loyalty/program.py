"""A store's program as the services see it: the settings resolved against what the store told
us (currency, decimals, timezone) and the moment the program was created."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from connector import ConfigError
from connector._schema import stores
from loyalty._schema import loyalty_programs
from loyalty.settings import Program, parse_settings, resolve


def store_id_of(conn: Connection, store: str) -> int:
    found = conn.execute(select(stores.c.id).where(stores.c.name == store)).scalar()
    if found is None:
        raise ConfigError(
            f"store {store!r} has no data yet: run `bazgasht sync --store {store}` first."
        )
    return int(found)


def ensure_program(conn: Connection, store_id: int, now: datetime) -> datetime:
    """The program's creation time, creating the program row on first use."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(loyalty_programs)
        .values(store_id=store_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["store_id"])
    )
    created: datetime = conn.execute(
        select(loyalty_programs.c.created_at).where(loyalty_programs.c.store_id == store_id)
    ).scalar_one()
    return created


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
        row = conn.execute(
            select(stores.c.id, stores.c.currency, stores.c.decimals, stores.c.timezone).where(
                stores.c.name == store
            )
        ).first()
        if row is None:
            raise ConfigError(
                f"store {store!r} has no data yet: run `bazgasht sync --store {store}` first."
            )
        if create:
            created = ensure_program(conn, row.id, now)
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
            currency=row.currency,
            decimals=row.decimals,
            timezone=row.timezone,
            program_created_at=created,
        )

    if isinstance(engine, Connection):
        return run(engine)
    if create:
        with engine.begin() as conn:
            return run(conn)
    with engine.connect() as conn:
        return run(conn)


__all__ = ["ensure_program", "load_program", "store_id_of"]
