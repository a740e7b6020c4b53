"""What a store told us about itself (currency, decimals, timezone, version), kept per store:
``remember_facts`` writes it on the store's row, ``store_row`` is the one way to read it back
(the loyalty program and the analytics both build their view of a store from it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select, update

from connector._schema import orders, stores

if TYPE_CHECKING:
    from connector._check import StoreFacts


def remember_facts(engine: Engine, store: str, url: str, facts: StoreFacts) -> int:
    """Record the facts on the store's row (created if new); returns the store id."""
    from connector._sync import ensure_store  # the sync engine: only when a check writes

    with engine.begin() as conn:
        store_id = ensure_store(conn, store, url, datetime.now(UTC))
        conn.execute(
            update(stores)
            .where(stores.c.id == store_id)
            .values(
                currency=facts.currency,
                decimals=facts.decimals,
                timezone=facts.timezone,
                wc_version=facts.wc_version,
                supports_modified_after=facts.supports_modified_after,
            )
        )
    return store_id


@dataclass(frozen=True)
class StoreRow:
    """A mirrored store as the database knows it.

    ``currency`` is what the store told (``store check`` / sync) or, before it told anything,
    the currency of its orders; ``decimals`` and ``timezone`` are ``None`` until it told them
    (``connector.currency_decimals`` gives the usual decimals of a currency)."""

    id: int
    name: str
    currency: str | None
    decimals: int | None
    timezone: str | None


def store_row(
    conn: Connection, *, name: str | None = None, store_id: int | None = None
) -> StoreRow | None:
    """The store named ``name`` (or with this id); ``None`` before its first sync."""
    query = select(
        stores.c.id, stores.c.name, stores.c.currency, stores.c.decimals, stores.c.timezone
    )
    if name is not None:
        query = query.where(stores.c.name == name)
    elif store_id is not None:
        query = query.where(stores.c.id == store_id)
    else:
        raise TypeError("store_row needs a name or a store_id")
    row = conn.execute(query).first()
    if row is None:
        return None
    currency: str | None = (
        row.currency
        or conn.execute(
            select(orders.c.currency).where(orders.c.store_id == row.id).limit(1)
        ).scalar()
    )
    return StoreRow(int(row.id), row.name, currency, row.decimals, row.timezone)
