"""What a store told us about itself (currency, decimals, timezone, version), kept per store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, update

from connector._check import StoreFacts
from connector._schema import stores
from connector._sync import ensure_store


def remember_facts(engine: Engine, store: str, url: str, facts: StoreFacts) -> int:
    """Record the facts on the store's row (created if new); returns the store id."""
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
