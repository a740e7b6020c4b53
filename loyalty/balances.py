"""What the owner commands show: one customer's balance and history, the top balances, the
points about to expire, the program's summary. Read-only."""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, case, func, or_, select

from connector import (
    ConfigError,
    customers,
    guests,
    money_json,
    normalize_email,
    orders,
    price_json,
)
from loyalty._db import joined, ledger_lock, split_sum
from loyalty._schema import loyalty_ledger, loyalty_redemptions
from loyalty.identity import account_email_map
from loyalty.ledger import Entry, entries_of, member_identities
from loyalty.reconcile import Facts, _open_scratch, _orders_of, _outcomes, _phase_one
from loyalty.redeem import availability
from loyalty.rules import (
    CASHBACK,
    EXPIRY,
    MANUAL,
    REDEEM,
    SECOND,
    WELCOME,
    AccountFacts,
    CashbackRate,
    Outcome,
    family,
    owner_of,
)
from loyalty.settings import Program

# --------------------------------------------------------------------------- who


def resolve_customer(conn: Connection, program: Program, text: str) -> str:
    """CUSTOMER as the owner types it — an e-mail or a WooCommerce customer id (or an identity
    such as ``email:x``) — as the identity that holds the points now."""
    raw = text.strip()
    store_id = program.store_id
    if raw.isdigit():
        wc_id = int(raw)
        known = (
            conn.execute(
                select(customers.c.wc_id).where(
                    customers.c.store_id == store_id, customers.c.wc_id == wc_id
                )
            ).first()
            or conn.execute(
                select(orders.c.wc_id)
                .where(orders.c.store_id == store_id, orders.c.customer_id == wc_id)
                .limit(1)
            ).first()
        )
        if known is None:
            raise ConfigError(
                f"store {program.store!r} has no customer {wc_id}: give a WooCommerce customer "
                "id or an e-mail address (run `bazgasht sync` if the customer is new)."
            )
        return _owner(conn, program, f"customer:{wc_id}")
    if raw.startswith(("customer:", "email:", "order:")):
        kind, _, rest = raw.partition(":")
        return _owner(conn, program, f"{kind}:{normalize_email(rest) if kind == 'email' else rest}")
    if "@" in raw:
        email = normalize_email(raw)
        identity = _owner(conn, program, f"email:{email}")
        if identity.startswith("customer:"):
            return identity
        known = (
            conn.execute(
                select(guests.c.email).where(guests.c.store_id == store_id, guests.c.email == email)
            ).first()
            or conn.execute(
                select(orders.c.wc_id)
                .where(orders.c.store_id == store_id, orders.c.billing_email == email)
                .limit(1)
            ).first()
            or conn.execute(
                select(loyalty_ledger.c.id)
                .where(loyalty_ledger.c.store_id == store_id, loyalty_ledger.c.identity == identity)
                .limit(1)
            ).first()
        )
        if known is None:
            raise ConfigError(f"store {program.store!r} knows no customer with e-mail {email}.")
        return identity
    raise ConfigError(
        f"{text!r} is neither an e-mail address nor a WooCommerce customer id (e.g. 42)."
    )


def _owner(conn: Connection, program: Program, identity: str) -> str:
    """``loyalty.rules.owner_of`` with only the accounts that matter loaded."""
    kind, _, rest = identity.partition(":")
    c = customers.c
    conditions = []
    if kind == "customer" and rest.isdigit():
        email = conn.execute(
            select(c.email).where(c.store_id == program.store_id, c.wc_id == int(rest))
        ).scalar()
        conditions.append(c.wc_id == int(rest))
        if email:
            conditions.append(c.email == email)
    elif kind == "email":
        conditions.append(c.email == rest)
    if not conditions:
        return identity
    rows = conn.execute(
        select(c.wc_id, c.email, c.role, c.deleted_at.is_not(None), c.created_at).where(
            c.store_id == program.store_id, or_(*conditions)
        )
    ).all()
    accounts = {r[0]: AccountFacts(r[0], r[1], r[2], r[4], bool(r[3])) for r in rows}
    claims = account_email_map(
        (a.customer_id, a.email, a.role, a.deleted) for a in accounts.values()
    )
    return owner_of(identity, accounts, claims)


@dataclass(frozen=True)
class Person:
    identity: str
    email: str
    name: str


def people(conn: Connection, program: Program, identities: list[str]) -> dict[str, Person]:
    """Display details (e-mail, name) of identities."""
    ids = [int(i.split(":", 1)[1]) for i in identities if i.startswith("customer:")]
    mails = [i.split(":", 1)[1] for i in identities if i.startswith("email:")]
    found: dict[str, Person] = {}
    for start in range(0, len(ids), 500):
        for wc_id, email, first, last in conn.execute(
            select(
                customers.c.wc_id, customers.c.email, customers.c.first_name, customers.c.last_name
            ).where(
                customers.c.store_id == program.store_id,
                customers.c.wc_id.in_(ids[start : start + 500]),
            )
        ):
            identity = f"customer:{wc_id}"
            found[identity] = Person(identity, email, f"{first} {last}".strip())
    for start in range(0, len(mails), 500):
        for email, first, last in conn.execute(
            select(guests.c.email, guests.c.first_name, guests.c.last_name).where(
                guests.c.store_id == program.store_id,
                guests.c.email.in_(mails[start : start + 500]),
            )
        ):
            identity = f"email:{email}"
            found[identity] = Person(identity, email, f"{first} {last}".strip())
    for identity in identities:
        if identity not in found:
            email = identity.split(":", 1)[1] if identity.startswith("email:") else ""
            found[identity] = Person(identity, email, "")
    return found


# --------------------------------------------------------------------------- one customer


@dataclass(frozen=True)
class BalanceReport:
    identity: str
    email: str
    name: str
    balance: int
    pending: int
    available: int
    earned: int  # net of the rules' keys (welcome, second purchase, cashback), reversals included
    granted: int  # net of manual grants
    redeemed: int  # points spent on coupons, releases deducted
    expired: int
    next_expiry: datetime | None
    next_expiry_points: int
    value: Decimal  # the available points in the store's currency
    currency: str
    decimals: int

    def as_dict(self) -> dict[str, Any]:
        """JSON: points are integers, money a decimal string with the currency's decimals."""
        return {
            "identity": self.identity,
            "email": self.email,
            "name": self.name,
            "balance": self.balance,
            "pending": self.pending,
            "available": self.available,
            "lifetime_earned": self.earned,
            "granted": self.granted,
            "redeemed": self.redeemed,
            "expired": self.expired,
            "next_expiry": self.next_expiry.isoformat() if self.next_expiry else None,
            "next_expiry_points": self.next_expiry_points,
            "value": money_json(self.value, self.decimals),
            "currency": self.currency,
        }


def outcome_of(conn: Connection, program: Program, identity: str, now: datetime) -> Outcome:
    """The rules' view of one identity now (its lots and their expiry dates)."""
    facts = Facts(conn, program, all_accounts=False)
    rows = _orders_of(conn, facts, {identity})
    rate = CashbackRate.of(program.cashback_percent, program.point_value)
    found = list(_outcomes(facts, rows, now, {identity}))
    return found[0] if found else facts.outcome(identity, [], now, rate)


def balance_report(engine: Engine, program: Program, identity: str, now: datetime) -> BalanceReport:
    with engine.connect() as conn:
        have = availability(conn, program, identity, now)
        by_family: dict[str, int] = defaultdict(int)
        for key, points in conn.execute(
            select(loyalty_ledger.c.key, func.sum(loyalty_ledger.c.points))
            .where(
                loyalty_ledger.c.store_id == program.store_id,
                loyalty_ledger.c.identity == identity,
            )
            .group_by(loyalty_ledger.c.key)
        ):
            by_family[family(key)] += int(points)
        outcome = outcome_of(conn, program, identity, now)
        person = people(conn, program, [identity])[identity]
    next_at, next_points = _next_expiry(outcome, have.balance)
    return BalanceReport(
        identity=identity,
        email=person.email,
        name=person.name,
        balance=have.balance,
        pending=have.pending,
        available=have.available,
        earned=by_family[WELCOME] + by_family[SECOND] + by_family[CASHBACK],
        granted=by_family[MANUAL],
        redeemed=-by_family[REDEEM],
        expired=-by_family[EXPIRY],
        next_expiry=next_at,
        next_expiry_points=next_points,
        value=program.amount_of(max(have.available, 0)),
        currency=program.currency,
        decimals=program.decimals,
    )


def _next_expiry(outcome: Outcome, balance: int) -> tuple[datetime | None, int]:
    dated = sorted((lot.expires_at, lot.remaining) for lot in outcome.lots if lot.expires_at)
    first = dated[0][0] if dated else None
    if outcome.inactive_at is not None and (first is None or outcome.inactive_at <= first):
        return outcome.inactive_at, max(balance, 0)
    if first is None:
        return None, 0
    return first, sum(points for when, points in dated if when == first)


def history(engine: Engine, program: Program, identity: str) -> list[Entry]:
    """The identity's entries, and those of the guest identity that became it (an e-mail
    identity now owned by this customer), in the order the points took effect."""
    with engine.connect() as conn:
        related = {identity}
        if identity.startswith("customer:"):
            email = conn.execute(
                select(customers.c.email).where(
                    customers.c.store_id == program.store_id,
                    customers.c.wc_id == int(identity.split(":", 1)[1]),
                )
            ).scalar()
            if email and _owner(conn, program, f"email:{email}") == identity:
                related.add(f"email:{email}")
        found = [e for i in sorted(related) for e in entries_of(conn, program.store_id, i)]
    return sorted(found, key=lambda e: (e.effective_at, e.id))


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class TopRow:
    identity: str
    email: str
    name: str
    balance: int
    value: Decimal


def top(engine: Engine, program: Program, limit: int = 20) -> list[TopRow]:
    led = loyalty_ledger
    with engine.connect() as conn:
        total = func.sum(led.c.points)
        rows = conn.execute(
            select(led.c.identity, total.label("balance"))
            .where(led.c.store_id == program.store_id)
            .group_by(led.c.identity)
            .having(total > 0)
            .order_by(total.desc(), led.c.identity)
            .limit(limit)
        ).all()
        who = people(conn, program, [r[0] for r in rows])
    return [
        TopRow(i, who[i].email, who[i].name, int(b), program.amount_of(int(b))) for i, b in rows
    ]


@dataclass(frozen=True)
class ExpiringRow:
    identity: str
    email: str
    name: str
    points: int
    first_expiry: datetime
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "email": self.email,
            "name": self.name,
            "points_expiring": self.points,
            "first_expiry": self.first_expiry.isoformat(),
            "balance": self.balance,
        }


def expiring(
    engine: Engine, program: Program, now: datetime, within: timedelta
) -> list[ExpiringRow]:
    """Points that will expire in ``[now, now + within)`` unless the customer acts: the
    expiry entries a reconciliation at ``now + within`` would add, per identity."""
    if program.expiry_months is None and program.inactivity_expiry_months is None:
        return []
    later = now + within
    per: dict[str, tuple[int, datetime]] = {}
    with ExitStack() as stack:
        stack.enter_context(ledger_lock(engine, program.store))
        conn = stack.enter_context(engine.connect())
        tmp = _open_scratch(stack, conn)
        _phase_one(conn, tmp, program, later, full=True, since=None)
        for key, identity, points, effective_at in conn.execute(
            select(
                tmp.entries.c.key,
                tmp.entries.c.identity,
                tmp.entries.c.points,
                tmp.entries.c.effective_at,
            )
        ):
            if family(key) != EXPIRY or points >= 0 or effective_at < now:
                continue
            total, first = per.get(identity, (0, effective_at))
            per[identity] = (total - points, min(first, effective_at))
        balances = dict(
            conn.execute(
                select(loyalty_ledger.c.identity, func.sum(loyalty_ledger.c.points))
                .where(loyalty_ledger.c.store_id == program.store_id)
                .group_by(loyalty_ledger.c.identity)
            ).all()
        )
        who = people(conn, program, sorted(per))
        conn.rollback()
    rows = [
        ExpiringRow(i, who[i].email, who[i].name, p, first, int(balances.get(i, 0)))
        for i, (p, first) in per.items()
    ]
    return sorted(rows, key=lambda r: (r.first_expiry, -r.points, r.identity))


@dataclass(frozen=True)
class Summary:
    store: str
    members: int
    issued: int
    redeemed: int
    expired: int
    outstanding: int  # sum of the positive balances
    negative: int  # sum of the negative balances (owed back by nobody; blocks redemption)
    pending: int
    point_value: Decimal
    liability: Decimal
    currency: str
    decimals: int
    redemptions: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """JSON: points are integers, money a decimal string with the currency's decimals."""
        return {
            "store": self.store,
            "members": self.members,
            "points_issued": self.issued,
            "points_redeemed": self.redeemed,
            "points_expired": self.expired,
            "points_outstanding": self.outstanding,
            "negative_balances": self.negative,
            "points_pending": self.pending,
            "point_value": price_json(self.point_value, self.decimals),
            "liability": money_json(self.liability, self.decimals),
            "currency": self.currency,
            "redemptions": self.redemptions,
        }


def summary(engine: Engine, program: Program, now: datetime) -> Summary:
    """The program's figures. Definitions as in ``loyalty.analytics.program_figures`` (SPEC §5):
    members are the identities the current rules credit (``member_identities``); issued is
    the net of earn, reversal and manual entries; outstanding the sum of positive balances,
    and the liability its value. Sums are exact (``split_sum``), however big."""
    led = loyalty_ledger
    with engine.connect() as conn:
        by_kind = {
            kind: joined(hi, lo)
            for kind, hi, lo in conn.execute(
                select(led.c.kind, *split_sum(led.c.points, "points"))
                .where(led.c.store_id == program.store_id)
                .group_by(led.c.kind)
            )
        }
        balances = (
            select(led.c.identity, func.sum(led.c.points).label("balance"))
            .where(led.c.store_id == program.store_id)
            .group_by(led.c.identity)
            .subquery()
        )
        positive_hi, positive_lo, negative_hi, negative_lo = conn.execute(
            select(
                *split_sum(case((balances.c.balance > 0, balances.c.balance), else_=0), "pos"),
                *split_sum(case((balances.c.balance < 0, balances.c.balance), else_=0), "neg"),
            )
        ).one()
        positive, negative = joined(positive_hi, positive_lo), joined(negative_hi, negative_lo)
        members = conn.execute(
            select(func.count()).select_from(member_identities(program.store_id).subquery())
        ).scalar_one()
        pending = 0
        if program.pending_days:
            cashback = (
                select(led.c.key, func.sum(led.c.points).label("points"))
                .where(
                    led.c.store_id == program.store_id,
                    led.c.key >= f"{CASHBACK}:",
                    led.c.key < f"{CASHBACK};",
                )
                .group_by(led.c.key)
                .having(func.max(led.c.effective_at) > now - program.pending)
                .subquery()
            )
            pending = joined(
                *conn.execute(
                    select(*split_sum(cashback.c.points, "points")).where(cashback.c.points > 0)
                ).one()
            )
        statuses: dict[str, int] = dict(
            conn.execute(
                select(loyalty_redemptions.c.status, func.count())
                .where(loyalty_redemptions.c.store_id == program.store_id)
                .group_by(loyalty_redemptions.c.status)
            ).all()
        )

    def kinds(*names: str) -> int:
        return sum(by_kind.get(n, 0) for n in names)

    return Summary(
        store=program.store,
        members=int(members),
        issued=kinds("earn", "reversal", "manual"),
        redeemed=-kinds("redemption", "redemption_release"),
        expired=-kinds("expiry"),
        outstanding=positive,
        negative=negative,
        pending=pending,
        point_value=program.point_value,
        liability=program.amount_of(positive),
        currency=program.currency,
        decimals=program.decimals,
        redemptions={s: int(n) for s, n in sorted(statuses.items())},
    )


__all__ = [
    "BalanceReport",
    "ExpiringRow",
    "Person",
    "Summary",
    "TopRow",
    "balance_report",
    "expiring",
    "history",
    "outcome_of",
    "people",
    "resolve_customer",
    "summary",
    "top",
]
