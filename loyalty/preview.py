"""What a change of the program's settings would do to the ledger, before it is made.

The rules are a function of the mirror and the settings, so a change of the settings is
retroactive: adding ``expiry_months = 12`` expires every lot older than a year at the next
reconciliation. ``preview`` computes that next reconciliation twice without writing —
under the settings in force and under the proposed ones (``reconcile.planned_entries``) —
and reports the difference: points added and taken back (of which expired), customers
touched, balances that would fall below zero, outstanding points and liability before →
after. Entries the ledger is owed under the current settings anyway (orders synced but not
reconciled yet) are in neither side of the difference: they are reported apart.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from loyalty._schema import loyalty_ledger
from loyalty.reconcile import planned_entries
from loyalty.rules import EXPIRY, family
from loyalty.settings import Program


@dataclass
class Effect:
    """The effect of going from the settings in force to proposed ones (``preview``)."""

    #: False when no rule changes (only redemption limits, pending days…): the ledger stays.
    ledger_changes: bool
    currency: str
    decimals: int
    points_added: int = 0
    points_taken_back: int = 0
    #: Of the points taken back, those that expire (``expiry`` entries).
    points_expired: int = 0
    customers_touched: int = 0
    customers_gaining: int = 0
    customers_losing: int = 0
    #: Customers whose balance would fall below zero (points they already spent taken back).
    customers_negative: int = 0
    outstanding_before: int = 0
    outstanding_after: int = 0
    liability_before: Decimal = Decimal(0)
    liability_after: Decimal = Decimal(0)
    #: Entries the next reconciliation appends under the *current* settings anyway.
    behind_entries: int = 0
    #: The customers most affected: (identity, points before, points after).
    examples: list[tuple[str, int, int]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def takes_back(self) -> bool:
        return self.points_taken_back > 0

    def as_dict(self) -> dict[str, Any]:
        money = f"{{:.{self.decimals}f}}"
        return {
            "ledger_changes": self.ledger_changes,
            "points_added": self.points_added,
            "points_taken_back": self.points_taken_back,
            "points_expired": self.points_expired,
            "customers_touched": self.customers_touched,
            "customers_gaining": self.customers_gaining,
            "customers_losing": self.customers_losing,
            "customers_negative": self.customers_negative,
            "outstanding_before": self.outstanding_before,
            "outstanding_after": self.outstanding_after,
            "liability_before": money.format(self.liability_before),
            "liability_after": money.format(self.liability_after),
            "currency": self.currency,
            "behind_entries": self.behind_entries,
            "examples": [
                {"identity": i, "points_before": b, "points_after": a} for i, b, a in self.examples
            ],
            "seconds": round(self.seconds, 3),
        }


def balances(engine: Engine, store_id: int) -> dict[str, int]:
    """Every identity's balance as the ledger holds it now (non-zero only)."""
    led = loyalty_ledger
    with engine.connect() as conn:
        rows = conn.execute(
            select(led.c.identity, func.sum(led.c.points))
            .where(led.c.store_id == store_id)
            .group_by(led.c.identity)
        )
        return {identity: int(points) for identity, points in rows if points}


def preview(
    engine: Engine, current: Program | None, proposed: Program, now: datetime, *, examples: int = 5
) -> Effect:
    """The effect of reconciling under ``proposed`` instead of ``current`` (None: the ledger
    as it stands is the "before", for settings never stored). Writes nothing."""
    started = time.monotonic()
    effect = Effect(
        ledger_changes=current is None
        or current.rules_fingerprint() != proposed.rules_fingerprint(),
        currency=proposed.currency,
        decimals=proposed.decimals,
    )
    held = balances(engine, proposed.store_id)
    before: dict[tuple[str, str], int] = {}
    if current is not None:
        with planned_entries(engine, current, now) as rows:
            for key, identity, points in rows:
                if points:
                    before[(key, identity)] = int(points)
        effect.behind_entries = len(before)
    before_by: dict[str, int] = defaultdict(int)
    for (_key, identity), points in before.items():
        before_by[identity] += points
    after_by = dict(before_by)
    change_by: dict[str, int] = defaultdict(int)
    touched: set[str] = set()

    def count(key: str, identity: str, delta: int) -> None:
        if not delta:
            return
        touched.add(identity)
        change_by[identity] += delta
        after_by[identity] = after_by.get(identity, 0) + delta
        if delta > 0:
            effect.points_added += delta
        else:
            effect.points_taken_back -= delta
            if family(key) == EXPIRY:
                effect.points_expired -= delta

    if effect.ledger_changes:
        remaining = dict(before)
        with planned_entries(engine, proposed, now) as rows:
            for key, identity, points in rows:
                count(key, identity, int(points or 0) - remaining.pop((key, identity), 0))
        for (key, identity), points in remaining.items():
            count(key, identity, -points)
    old_point = current.point_value if current is not None else proposed.point_value
    old = {i: held.get(i, 0) + before_by.get(i, 0) for i in set(held) | set(before_by)}
    new = {i: held.get(i, 0) + after_by.get(i, 0) for i in set(held) | set(after_by)}
    effect.outstanding_before = sum(p for p in old.values() if p > 0)
    effect.outstanding_after = sum(p for p in new.values() if p > 0)
    effect.liability_before = _amount(effect.outstanding_before, old_point, proposed.decimals)
    effect.liability_after = proposed.amount_of(effect.outstanding_after)
    effect.customers_touched = sum(1 for i in touched if change_by[i])
    effect.customers_gaining = sum(1 for i in touched if change_by[i] > 0)
    effect.customers_losing = sum(1 for i in touched if change_by[i] < 0)
    effect.customers_negative = sum(1 for i in touched if new.get(i, 0) < 0 and old.get(i, 0) >= 0)
    worst = sorted((i for i in touched if change_by[i]), key=lambda i: (-abs(change_by[i]), i))
    effect.examples = [(i, old.get(i, 0), new.get(i, 0)) for i in worst[:examples]]
    effect.seconds = time.monotonic() - started
    return effect


def _amount(points: int, point_value: Decimal, decimals: int) -> Decimal:
    exponent = Decimal(1).scaleb(-decimals)
    return (Decimal(points) * point_value).quantize(exponent, rounding="ROUND_DOWN")


__all__ = ["Effect", "balances", "preview"]
