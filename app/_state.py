"""A registered customer's loyalty state as the storefront sees it: one computation for the
live API (``GET …/customers/{id}``) and for the meta pushed into WooCommerce.

Field meanings are docs/storefront-api.md's. Money is a decimal string with exactly the
currency's decimals, cut like ``Program.amount_of``; instants are RFC 3339 UTC, to the
second, with ``Z``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from connector import customers, money_text
from loyalty import Program, RedeemError, balance_report, loyalty_ledger
from loyalty.redeem import email_of, redemptions
from loyalty.rules import CASHBACK

#: WordPress roles of the shop's staff: their accounts are not customers (SPEC §4).
STAFF_ROLES = frozenset({"administrator", "shop_manager", "editor", "author", "contributor"})
#: Version of the pushed meta (docs/storefront-api.md): fields are only ever added within 1.
META_VERSION = 1
META_KEY = "bazgasht_loyalty"


def instant_text(moment: datetime) -> str:
    """RFC 3339 in UTC, to the second: ``2026-05-01T10:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CouponState:
    code: str
    amount: Decimal
    expires_at: datetime
    status: str  # pending | issued

    def as_json(self, decimals: int) -> dict[str, Any]:
        return {
            "code": self.code,
            "amount": money_text(self.amount, decimals),
            "expires_at": instant_text(self.expires_at),
            "status": self.status,
        }


@dataclass(frozen=True)
class CustomerState:
    """What a customer holds, computed at ``updated_at``."""

    customer_id: int
    identity: str
    balance: int
    spendable: int
    pending: int
    value: Decimal
    currency: str
    decimals: int
    expiring: tuple[int, datetime] | None
    min_redeem_points: int
    can_redeem: bool
    coupons: tuple[CouponState, ...]
    updated_at: datetime
    #: The next moment this state changes with no ledger entry (pending points become
    #: spendable, a coupon runs out, points expire); None: only the ledger changes it.
    recheck_at: datetime | None

    def _expiring_json(self) -> dict[str, Any] | None:
        if self.expiring is None:
            return None
        points, on = self.expiring
        return {"points": points, "on": instant_text(on)}

    def api_json(self) -> dict[str, Any]:
        """The answer of ``GET /storefront/v1/stores/{store}/customers/{id}``."""
        return {
            "customer_id": self.customer_id,
            "balance": self.balance,
            "spendable": self.spendable,
            "pending": self.pending,
            "value": money_text(self.value, self.decimals),
            "currency": self.currency,
            "expiring": self._expiring_json(),
            "min_redeem_points": self.min_redeem_points,
            "can_redeem": self.can_redeem,
            "coupons": [c.as_json(self.decimals) for c in self.coupons],
            "updated_at": instant_text(self.updated_at),
        }

    def meta_json(self) -> dict[str, Any]:
        """The ``bazgasht_loyalty`` meta value (a JSON object, never a string)."""
        return {
            "v": META_VERSION,
            "balance": self.balance,
            "spendable": self.spendable,
            "value": money_text(self.value, self.decimals),
            "currency": self.currency,
            "expiring": self._expiring_json(),
            "coupons": [c.as_json(self.decimals) for c in self.coupons],
            "updated_at": instant_text(self.updated_at),
        }

    def fingerprint(self) -> str:
        """A digest of the pushed meta without ``updated_at``: equal when nothing a customer
        could see has changed."""
        meta = self.meta_json()
        del meta["updated_at"]
        return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()


def known_customer(conn: Connection, program: Program, customer_id: int) -> bool:
    """Whether ``customer_id`` is a customer account of the store as last synced (not
    deleted, not staff). A new account is unknown until a sync or webhook brings it."""
    row = conn.execute(
        select(customers.c.role, customers.c.deleted_at).where(
            customers.c.store_id == program.store_id, customers.c.wc_id == customer_id
        )
    ).first()
    return row is not None and row.deleted_at is None and row.role not in STAFF_ROLES


def _pending_until(
    conn: Connection, program: Program, identity: str, now: datetime
) -> datetime | None:
    """When the first of the identity's pending cashback becomes spendable (the rule of
    ``loyalty.rules.pending_points``: ``pending_days`` after the key's latest entry)."""
    if not program.pending_days:
        return None
    led = loyalty_ledger
    latest = func.max(led.c.effective_at)
    found = conn.execute(
        select(latest)
        .where(
            led.c.store_id == program.store_id,
            led.c.identity == identity,
            led.c.key >= f"{CASHBACK}:",
            led.c.key < f"{CASHBACK};",
        )
        .group_by(led.c.key)
        .having(latest > now - program.pending)
    ).all()
    first = min((row[0] for row in found), default=None)
    return None if first is None else first + program.pending


def customer_state(
    engine: Engine, program: Program, customer_id: int, now: datetime
) -> CustomerState | None:
    """The customer's state now; None for a customer the store does not know (see
    ``known_customer``). The points are those of ``customer:<id>`` (a guest identity that
    became this customer has moved its points there, SPEC §4)."""
    identity = f"customer:{customer_id}"
    with engine.connect() as conn:
        if not known_customer(conn, program, customer_id):
            return None
        try:
            email_of(conn, program, identity)
            has_email = True
        except RedeemError:
            has_email = False
        matures = _pending_until(conn, program, identity, now)
    report = balance_report(engine, program, identity, now)
    spendable = max(report.available, 0)
    open_coupons = tuple(
        CouponState(r.code, r.amount, r.expires_at, r.status)
        for r in sorted(
            redemptions(engine, program, identity=identity), key=lambda r: r.id, reverse=True
        )
        if r.status in ("pending", "issued") and r.expires_at > now
    )
    expiring = (
        (report.next_expiry_points, report.next_expiry)
        if report.next_expiry is not None and report.next_expiry_points > 0
        else None
    )
    moments = [c.expires_at for c in open_coupons]
    moments += [m for m in (matures, report.next_expiry) if m is not None and m > now]
    return CustomerState(
        customer_id=customer_id,
        identity=identity,
        balance=report.balance,
        spendable=spendable,
        pending=report.pending,
        value=program.amount_of(spendable),
        currency=program.currency,
        decimals=program.decimals,
        expiring=expiring,
        min_redeem_points=program.min_redeem_points,
        can_redeem=report.balance >= 0 and spendable >= program.min_redeem_points and has_email,
        coupons=open_coupons,
        updated_at=now,
        recheck_at=min(moments, default=None),
    )
