"""The loyalty program's runs: what ``sync`` calls at the end of each store, and the demo."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from connector import BazgashtError, CouponApi, StoreError, orders
from loyalty.balances import BalanceReport, balance_report, top
from loyalty.program import orders_before_start, program_started
from loyalty.reconcile import ReconcileResult, reconcile
from loyalty.redeem import CouponCheck, Redemption, check_coupons, finish_pending, redeem
from loyalty.settings import Program
from loyalty.stored import stored_program

log = logging.getLogger("bazgasht.loyalty")


@dataclass
class ProgramRun:
    """What one run of a store's program did (``after_sync``, ``loyalty reconcile``)."""

    store: str
    reconcile: ReconcileResult
    finished: list[Redemption] = field(default_factory=list)
    coupons: CouponCheck = field(default_factory=CouponCheck)
    problems: list[str] = field(default_factory=list)
    #: Set by the run that created the program (a store's first sync): when it starts, and
    #: how many earning orders are older — they earn nothing unless ``starts_at`` moves back.
    started_at: datetime | None = None
    orders_before_start: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "reconcile": self.reconcile.as_dict(),
            "redemptions_finished": [
                {"id": r.id, "status": r.status, "code": r.code, "email": r.email}
                for r in self.finished
            ],
            "coupons": self.coupons.as_dict(),
            "problems": self.problems,
            "program_started": None
            if self.started_at is None
            else {
                "starts_at": self.started_at.isoformat(),
                "orders_before_start": self.orders_before_start,
            },
        }

    def one_line(self) -> str:
        r = self.reconcile
        parts = [f"{r.appended} ledger entries ({r.mode}, {r.identities} customers recomputed)"]
        if self.finished:
            done = sum(1 for x in self.finished if x.status == "issued")
            parts.append(f"{done} of {len(self.finished)} pending redemptions issued")
        c = self.coupons
        if c.used or c.expired:
            parts.append(f"{c.used} reward coupons used, {c.expired} expired")
        return f"{self.store}: loyalty: " + "; ".join(parts)


def run_program(
    engine: Engine,
    client: CouponApi | None,
    program: Program,
    now: datetime,
    *,
    full: bool = False,
    since: datetime | None = None,
) -> ProgramRun:
    """Finish pending redemptions, notice used and expired coupons (both need ``client``;
    store errors are reported in ``problems``, not raised), then reconcile the ledger."""
    problems: list[str] = []
    finished: list[Redemption] = []
    coupons = CouponCheck()
    if client is not None:
        try:
            finished = finish_pending(engine, client, program, now)
        except StoreError as exc:
            problems.append(f"pending redemptions not finished: {exc}")
        for r in finished:
            if r.status == "pending" and r.last_error:
                problems.append(f"redemption {r.id} still pending: {r.last_error}")
    try:
        coupons = check_coupons(
            engine, client, program, now, on_error=lambda exc: problems.append(f"coupons: {exc}")
        )
    except StoreError as exc:  # pragma: no cover - on_error takes them
        problems.append(f"coupons not checked: {exc}")
    result = reconcile(engine, program, now, full=full, since=since)
    return ProgramRun(program.store, result, finished, coupons, problems)


def after_sync(
    engine: Engine,
    client: CouponApi | None,
    store_name: str,
    store_id: int,
    settings: dict[str, Any] | None,
    now: datetime,
    *,
    actor: str | None = None,
) -> ProgramRun:
    """Call at the end of every ``sync`` of a store: reconcile the loyalty ledger with the
    freshly synced mirror, finish pending redemptions, notice used and expired coupons.

    The first call for a store creates its program (``starts_at`` defaults to that moment);
    the run then says so (``started_at``, ``orders_before_start``) so the owner learns why
    past orders earn nothing and how to credit them.

    The program runs under the settings stored in the database (``loyalty.stored``);
    ``settings`` (the config file's loyalty table) only make the first version of them.

    Raises ``ConfigError`` for invalid loyalty settings (``SettingsNotImported`` when the
    owner must decide on them first) and ``LockHeld`` when another process keeps the store's
    ledger busy; store (HTTP) errors end up in ``ProgramRun.problems``."""
    with engine.connect() as conn:
        existed = program_started(conn, store_id)
    program = stored_program(engine, store_name, now, config=settings, actor=actor)
    if program.store_id != store_id:
        raise BazgashtError(f"store {store_name!r} is store id {program.store_id}, not {store_id}")
    run = run_program(engine, client, program, now)
    if not existed:
        run.started_at = program.starts_at
        run.orders_before_start = orders_before_start(engine, program).orders
    return run


@dataclass
class DemoTour:
    """What ``bazgasht demo`` shows of the program."""

    program: Program
    run: ProgramRun
    top: list[Any]
    customer: BalanceReport | None
    redemption: Redemption | None
    after: BalanceReport | None
    error: str | None = None


def demo_tour(
    engine: Engine,
    client: CouponApi,
    store_name: str,
    settings: dict[str, Any] | None,
    now: datetime,
) -> DemoTour:
    """Reconcile the demo store's program, show the top balances, and redeem points of the
    richest customer as a real coupon on the (sample) store.

    Without ``starts_at`` in ``settings`` the program starts at the store's first order, so the
    whole sample history earns (a real store's program starts when it is created). The
    settings make the program's first stored version; a stored one wins."""
    settings = dict(settings or {})
    if "starts_at" not in settings:
        with engine.connect() as conn:
            first = conn.execute(select(func.min(orders.c.created_at))).scalar()
        if first is not None:
            settings["starts_at"] = first.isoformat()
    program = stored_program(engine, store_name, now, config=settings)
    run = run_program(engine, client, program, now)
    best = top(engine, program, 5)
    tour = DemoTour(program, run, best, None, None, None)
    for row in best:
        if not row.identity.startswith("customer:"):
            continue
        report = balance_report(engine, program, row.identity, now)
        if report.available < program.min_redeem_points:
            continue
        tour.customer = report
        points = max(program.min_redeem_points, (report.available // 2) // 100 * 100)
        try:
            tour.redemption = redeem(engine, client, program, row.identity, points, now)
        except BazgashtError as exc:
            tour.error = str(exc)
        tour.after = balance_report(engine, program, row.identity, now)
        break
    return tour


__all__ = ["DemoTour", "ProgramRun", "after_sync", "demo_tour", "run_program"]
