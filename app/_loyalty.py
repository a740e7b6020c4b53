"""The loyalty program's use cases, as the owner's commands ask for them: a store's program,
reconcile, redeem, grant, and the read-only views (balance, history, top, expiring, coupons,
verify, summary). Each takes the store registry and returns what an entry point renders.

Customers are named as an owner types them (an e-mail or a WooCommerce customer id);
``resolve_customer`` turns that into the identity that holds the points now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app._registry import Registry
from app._settings import program_for
from loyalty import (
    BalanceReport,
    Entry,
    ExpiringRow,
    Program,
    ProgramRun,
    Redemption,
    Summary,
    TopRow,
    VerifyReport,
    balance_report,
    expiring,
    finish_pending,
    grant,
    history,
    redeem,
    resolve_customer,
    run_program,
    summary,
    top,
    verify,
)
from loyalty.program import PastOrders, orders_before_start
from loyalty.redeem import redemptions


def store_program(registry: Registry, name: str, now: datetime) -> Program:
    """The store's program under the settings stored in the database (``program_for``;
    created on first use, its first settings version from the config file)."""
    return program_for(registry, name, now)


def customer_identity(registry: Registry, program: Program, customer: str) -> str:
    with registry.engine().connect() as conn:
        return resolve_customer(conn, program, customer)


def reconcile_store(
    registry: Registry,
    program: Program,
    now: datetime,
    *,
    full: bool = False,
    since: datetime | None = None,
    offline: bool = False,
) -> ProgramRun:
    """Finish pending redemptions and check coupons (unless ``offline``), then reconcile."""
    engine = registry.engine()
    if offline:
        return run_program(engine, None, program, now, full=full, since=since)
    with registry.client(program.store) as client:
        return run_program(engine, client, program, now, full=full, since=since)


@dataclass(frozen=True)
class Redeemed:
    #: Redemptions a crash or an unreachable store had left pending, finished first.
    finished: list[Redemption]
    redemption: Redemption


def redeem_points(
    registry: Registry, program: Program, customer: str, points: int, now: datetime
) -> Redeemed:
    """Turn ``points`` of ``customer`` into a coupon on the store (exactly once)."""
    identity = customer_identity(registry, program, customer)
    engine = registry.engine()
    with registry.client(program.store) as client:
        earlier = finish_pending(engine, client, program, now)
        done = redeem(engine, client, program, identity, points, now)
    return Redeemed(earlier, done)


def store_redemptions(registry: Registry, program: Program, status: str | None) -> list[Redemption]:
    return redemptions(registry.engine(), program, status)


def customer_balance(
    registry: Registry, program: Program, customer: str, now: datetime
) -> tuple[str, BalanceReport]:
    """The customer's identity and points."""
    identity = customer_identity(registry, program, customer)
    return identity, balance_report(registry.engine(), program, identity, now)


def customer_history(
    registry: Registry, program: Program, customer: str
) -> tuple[str, list[Entry]]:
    """The customer's identity and every ledger entry of it (and of the guest it was)."""
    identity = customer_identity(registry, program, customer)
    return identity, history(registry.engine(), program, identity)


@dataclass(frozen=True)
class Granted:
    identity: str
    entry: Entry
    balance: BalanceReport


def grant_points(
    registry: Registry, program: Program, customer: str, points: int, reason: str, now: datetime
) -> Granted:
    """Credit (or debit, when negative) points by hand, with a reason."""
    identity = customer_identity(registry, program, customer)
    entry = grant(registry.engine(), program, identity, points, reason, now)
    return Granted(identity, entry, balance_report(registry.engine(), program, identity, now))


def top_balances(registry: Registry, program: Program, limit: int) -> list[TopRow]:
    return top(registry.engine(), program, limit)


def orders_before_program(registry: Registry, program: Program) -> PastOrders:
    """Orders that would earn but predate ``starts_at``: why a program looks empty."""
    return orders_before_start(registry.engine(), program)


def expiring_points(
    registry: Registry, program: Program, now: datetime, within: timedelta
) -> list[ExpiringRow]:
    return expiring(registry.engine(), program, now, within)


def verify_store(registry: Registry, program: Program, now: datetime) -> VerifyReport:
    return verify(registry.engine(), program, now)


def program_summary(registry: Registry, program: Program, now: datetime) -> Summary:
    return summary(registry.engine(), program, now)
