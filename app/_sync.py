"""Sync a store: the whole per-store job that ``bazgasht sync`` (and the demo) run.

First contact learns the store's facts (currency, decimals, timezone); then the mirror is
brought up to date, the loyalty program runs on it (SPEC §4: the ledger follows the mirror
at the end of every sync), and — when the storefront is set up for the store — the
customers whose loyalty state changed are pushed to WooCommerce's customer meta.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from app._push import PushResult, push_states
from app._registry import Registry
from app._settings import actor_of, program_for
from connector import (
    BazgashtError,
    ConfigError,
    LockHeld,
    SyncResult,
    WooClient,
    check_store,
    host_name,
    orders,
    quarantine,
    remember_facts,
    store_lock,
    stores,
    sync_runs,
    sync_store,
    verify_identity,
)
from loyalty import ProgramRun, after_sync

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


@dataclass(frozen=True)
class Round:
    """One ``sync --all`` of this process: the stores it goes through, from the moment it
    started. Several cron hosts running ``sync --all`` on one database share the work: a
    store busy on another host is skipped (``LockHeld``), and so is a store another process
    synced since this round started (``SyncedThisRound``) — judged by the ids of the runs,
    which one database hands out in order, and, for other hosts' runs, by their start up to
    ``Round.grace`` before this round's (hosts of one cron tick start seconds apart)."""

    #: The highest ``sync_runs`` id when the round started: later ids are later runs.
    mark: int
    started_at: datetime
    #: This host's name (as ``sync_runs.host`` records it).
    host: str

    #: How long before ``started_at`` another host's run still counts as this round's.
    grace: timedelta = timedelta(seconds=60)


#: Cron hosts of one round start some seconds apart (clocks, load, start-up): a run another
#: host started this long before this round began counts as the round's too. Seconds, from
#: ``BAZGASHT_ROUND_GRACE`` (keep it well under the cron interval).
ROUND_GRACE = timedelta(seconds=60)
ENV_ROUND_GRACE = "BAZGASHT_ROUND_GRACE"


def start_round(registry: Registry, now: datetime | None = None) -> Round:
    """A round starting now (``ConfigError`` for a bad ``BAZGASHT_ROUND_GRACE``)."""
    grace = ROUND_GRACE
    text = registry.environ.get(ENV_ROUND_GRACE, "").strip()
    if text:
        try:
            grace = timedelta(seconds=float(text))
        except ValueError:
            grace = timedelta(seconds=-1)
        if not timedelta(0) <= grace <= timedelta(hours=1):
            raise ConfigError(
                f"{ENV_ROUND_GRACE}={text!r}: give a number of seconds from 0 to 3600."
            )
    with registry.engine().connect() as conn:
        mark = conn.execute(select(func.max(sync_runs.c.id))).scalar()
    return Round(int(mark or 0), now or datetime.now(UTC), host_name(registry.environ), grace)


class SyncedThisRound(BazgashtError):
    """Another process synced the store after this round started: nothing to do here."""

    exit_code = 0

    def __init__(self, message: str, *, host: str | None, started_at: datetime, outcome: str):
        super().__init__(message)
        self.host = host
        self.started_at = started_at
        self.outcome = outcome


def _synced_since(registry: Registry, name: str, sync_round: Round) -> SyncedThisRound | None:
    """The finished run of ``name`` of this round by another process, if any: one started
    after the round began (a later id), or by another host at most ``ROUND_GRACE`` before."""
    r = sync_runs
    with registry.engine().connect() as conn:
        row = conn.execute(
            select(r.c.host, r.c.started_at, r.c.outcome)
            .join(stores, stores.c.id == r.c.store_id)
            .where(
                stores.c.name == name,
                r.c.outcome != "running",
                or_(
                    r.c.id > sync_round.mark,
                    and_(
                        r.c.started_at >= sync_round.started_at - sync_round.grace,
                        r.c.host.is_not(None),
                        r.c.host != sync_round.host,
                    ),
                ),
            )
            .order_by(r.c.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    where = f" on {row.host}" if row.host else ""
    return SyncedThisRound(
        f"store {name!r} was synced{where} at {row.started_at:%H:%M:%S} UTC ({row.outcome}), "
        "after this round started; skipped.",
        host=row.host,
        started_at=row.started_at,
        outcome=row.outcome,
    )


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
    program = program_for(registry, name, now, create=False)
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
    sync_round: Round | None = None,
) -> StoreRun:
    """Sync one store. Raises ``LockHeld`` when another run holds the store (``holder``
    says where), ``SyncedThisRound`` when another process synced it since ``sync_round`` began,
    ``ConfigError`` and ``StoreError`` as the mirror meets them; problems after the mirror is
    safe (coupons, the push) are reported in the result, not raised.

    The whole job — mirror, loyalty, push — runs under the store's "round" lock, and the
    "synced since" check is made once it is held: two hosts can never both decide to sync
    a store in the same round."""
    registry.store(name)
    with store_lock(registry.engine(), name, purpose="round"):
        if sync_round is not None:
            done = _synced_since(registry, name, sync_round)
            if done is not None:
                raise done
        return _sync_one(registry, name, full, concurrency, progress, now)


def _sync_one(
    registry: Registry,
    name: str,
    full: bool,
    concurrency: int,
    progress: Progress | None,
    now: Callable[[], datetime],
) -> StoreRun:
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
        program = after_sync(
            engine,
            client,
            name,
            registry.store_id(name),
            store.loyalty,
            now(),
            actor=actor_of(registry),
        )
        pushed = push_store(registry, client, name, now()) if push_enabled(registry, name) else None
        return StoreRun(mirrored, program, pushed)


@dataclass
class StoreOutcome:
    """What became of one store of ``sync_stores``: its summary (``--format json``), the
    exit code it asks for (0: none), and what an entry point shows of it."""

    store: str
    #: ok, loyalty_problem, skipped_synced, skipped_busy or failed.
    outcome: str
    summary: dict[str, Any]
    exit_code: int = 0
    run: StoreRun | None = None
    #: The exception that made it skipped or failed (``SyncedThisRound``, ``LockHeld``…).
    error: Exception | None = None
    #: True when ``error`` is nobody's on purpose: a bug (the traceback is worth showing).
    unexpected: bool = False


def sync_stores(
    registry: Registry,
    names: list[str],
    sync: Callable[[str, Round | None], StoreRun],
) -> Iterator[StoreOutcome]:
    """``sync`` each store (``sync_one`` with the caller's progress and options), one after
    the other, whatever happens to one of them; yields each outcome as it is known. Several
    stores make a round shared with the other hosts running it (``start_round``,
    docs/agencies.md): a store busy on another host, or synced since the round began, is
    skipped and asks for no exit code; one store asked for and busy asks for 75."""
    sync_round = start_round(registry) if len(names) > 1 else None
    for name in names:
        summary: dict[str, Any] = {"store": name}
        try:
            run = sync(name, sync_round)
        except SyncedThisRound as exc:
            summary |= {
                "outcome": "skipped_synced",
                "host": exc.host,
                "run_started_at": exc.started_at.isoformat(),
                "run_outcome": exc.outcome,
            }
            yield StoreOutcome(name, "skipped_synced", summary, error=exc)
        except LockHeld as exc:
            summary |= {"outcome": "skipped_busy", "holder": exc.holder, "error": str(exc)}
            code = exc.exit_code if sync_round is None else 0
            yield StoreOutcome(name, "skipped_busy", summary, code, error=exc)
        except BazgashtError as exc:
            summary |= {"outcome": "failed", "error": str(exc)}
            yield StoreOutcome(name, "failed", summary, exc.exit_code, error=exc)
        except Exception as exc:  # a bug, or something nobody foresaw: still only this store
            summary |= {"outcome": "failed", "error": unexpected_words(name, exc)}
            yield StoreOutcome(name, "failed", summary, 1, error=exc, unexpected=True)
        else:
            # A problem: the mirror is fine; a reward coupon could not be issued or checked,
            # or the customers' points could not be pushed to the store.
            summary |= {"outcome": "ok", **run.as_dict()}
            if run.problems:
                summary["outcome"] = "loyalty_problem"
            code = 1 if run.problems else 0
            yield StoreOutcome(name, summary["outcome"], summary, code, run)


def round_exit_code(outcomes: list[StoreOutcome]) -> int:
    """A configuration error outranks a failed store, which outranks a skipped one."""
    codes = {o.exit_code for o in outcomes}
    return next((c for c in (2, 1, 75) if c in codes), 0)


def unexpected_words(name: str, exc: Exception) -> str:
    """One line for an exception nobody raised on purpose (the traceback: --debug)."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:299] + "…"
    return (
        f"store {name!r}: unexpected {type(exc).__name__}"
        + (f": {text}" if text else "")
        + " (run with --debug for the traceback, and please report it)"
    )


def sync_status(registry: Registry) -> list[dict[str, Any]]:
    """``sync status``: each store's last run (with the host that ran it), its mirrored
    orders and its unresolved quarantine."""
    rows = []
    with registry.engine().connect() as conn:
        for store_id, name in conn.execute(
            select(stores.c.id, stores.c.name).order_by(stores.c.name)
        ):
            last = (
                conn.execute(
                    select(sync_runs)
                    .where(sync_runs.c.store_id == store_id)
                    .order_by(sync_runs.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            mirrored = conn.execute(
                select(func.count()).where(
                    orders.c.store_id == store_id, orders.c.deleted_at.is_(None)
                )
            ).scalar()
            quarantined = conn.execute(
                select(func.count()).where(
                    quarantine.c.store_id == store_id, quarantine.c.resolved_at.is_(None)
                )
            ).scalar()
            rows.append(
                {
                    "store": name,
                    "orders_mirrored": mirrored,
                    "quarantined": quarantined,
                    "last_run": None
                    if last is None
                    else {
                        "started_at": last["started_at"].isoformat(),
                        "finished_at": last["finished_at"].isoformat()
                        if last["finished_at"]
                        else None,
                        "outcome": last["outcome"],
                        "mode": last["mode"],
                        "orders": last["orders"],
                        "customers": last["customers"],
                        "quarantined": last["quarantined"],
                        "deleted": last["deleted"],
                        "requests": last["requests"],
                        "error": last["error"],
                        "host": last["host"],
                    },
                }
            )
    return rows
