"""Sync a store: the whole per-store job that ``bazgasht sync`` (and the demo) run.

First contact learns the store's facts (currency, decimals, timezone); then the mirror is
brought up to date, the loyalty program runs on it (SPEC §4: the ledger follows the mirror
at the end of every sync), and — when the storefront is set up for the store — the
customers whose loyalty state changed are pushed to WooCommerce's customer meta.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app._push import PushResult, push_states
from app._registry import Registry
from connector import (
    LockHeld,
    SyncResult,
    WooClient,
    check_store,
    remember_facts,
    stores,
    sync_store,
    verify_identity,
)
from loyalty import ProgramRun, after_sync, load_program

#: Called after each committed page: (resource, pages done, pages expected or None).
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class StoreRun:
    """One store's run: the mirror, the loyalty program on it, the push (if set up)."""

    sync: SyncResult
    loyalty: ProgramRun
    push: PushResult | None = None

    @property
    def problems(self) -> list[str]:
        """What went wrong after the mirror was up to date (coupons, the push)."""
        found = list(self.loyalty.problems)
        if self.push is not None and self.push.problem:
            found.append(self.push.problem)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.sync.as_dict(),
            "loyalty": self.loyalty.as_dict(),
            "push": None if self.push is None else self.push.as_dict(),
        }


def push_enabled(registry: Registry, name: str) -> bool:
    """Whether the store's customers' states are pushed: when the storefront (the WordPress
    plugin) is set up for it, i.e. it has a shared secret."""
    store = registry.store(name)
    return bool(store.storefront_secret or store.storefront_secret_env)


def push_store(
    registry: Registry, client: WooClient, name: str, now: datetime, *, force: bool = False
) -> PushResult:
    """Push the changed customers' states of one store (``app.push_states``)."""
    engine = registry.engine()
    program = load_program(engine, name, registry.store(name).loyalty, now, create=False)
    try:
        return push_states(engine, client, program, now, force=force)
    except LockHeld as exc:
        return PushResult(name, problem=str(exc))


def sync_one(
    registry: Registry,
    name: str,
    *,
    full: bool = False,
    concurrency: int = 4,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> StoreRun:
    """Sync one store. Raises ``LockHeld`` when another run holds the store, ``ConfigError``
    and ``StoreError`` as the mirror meets them; problems after the mirror is safe (coupons,
    the push) are reported in the result, not raised."""
    store = registry.store(name)
    creds = registry.credentials(name)
    engine = registry.engine()
    with WooClient(creds, pool_size=max(concurrency, 2)) as client:
        with engine.connect() as conn:
            known_version = conn.execute(
                select(stores.c.wc_version).where(stores.c.name == name)
            ).scalar()
        if known_version is None:
            # First contact: learn currency, decimals and timezone (metrics need them) — of
            # the shop mirrored under this name only (raises StoreIdentityChanged otherwise).
            report = check_store(client)
            if report.facts is not None:
                verify_identity(engine, client, name)
                remember_facts(engine, name, creds.url, report.facts)
        mirrored = sync_store(
            engine,
            client,
            store=name,
            url=creds.url,
            full=full,
            concurrency=concurrency,
            progress=progress,
        )
        # SPEC §4: the ledger follows the mirror at the end of every sync of the store.
        program = after_sync(engine, client, name, registry.store_id(name), store.loyalty, now())
        pushed = push_store(registry, client, name, now()) if push_enabled(registry, name) else None
        return StoreRun(mirrored, program, pushed)


__all__ = ["Progress", "StoreRun", "push_enabled", "push_store", "sync_one"]
