"""What a change of the program's settings would do to the ledger, before it is made.

The rules are a function of the mirror and the settings, so a change of the settings is
retroactive: adding ``expiry_months = 12`` expires every lot older than a year at the next
reconciliation. ``preview`` asks the reconciliation itself what it would append under the
proposed settings (``loyalty.reconcile.preview``: its phase 1, nothing written) and reports
it: points added and taken back (of which expired), customers touched, balances that would
fall below zero, outstanding points and liability before (the ledger as it stands) → after.
Entries the ledger is owed under the current settings anyway (orders synced but not
reconciled yet) are part of that next reconciliation too: their count is reported apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from loyalty.reconcile import preview as plan_preview
from loyalty.rules import EXPIRY
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


def preview(
    engine: Engine, current: Program | None, proposed: Program, now: datetime, *, examples: int = 5
) -> Effect:
    """The effect of reconciling under ``proposed`` instead of ``current`` (None: settings
    never stored; the ledger as it stands is the "before"). Writes nothing."""
    started = time.monotonic()
    effect = Effect(
        ledger_changes=current is None
        or current.rules_fingerprint() != proposed.rules_fingerprint(),
        currency=proposed.currency,
        decimals=proposed.decimals,
    )
    if current is not None:
        behind = plan_preview(engine, current, now)
        effect.behind_entries = behind.entries
        effect.outstanding_before = effect.outstanding_after = behind.outstanding_before
    if effect.ledger_changes:
        ahead = plan_preview(engine, proposed, now, examples=examples)
        effect.points_added = ahead.points_added
        effect.points_taken_back = ahead.points_taken_back
        effect.points_expired = max(0, -ahead.points_by_kind.get(EXPIRY, 0))
        effect.customers_gaining = ahead.identities_gaining
        effect.customers_losing = ahead.identities_losing
        effect.customers_touched = ahead.identities_gaining + ahead.identities_losing
        effect.customers_negative = ahead.identities_negative
        effect.outstanding_before = ahead.outstanding_before
        effect.outstanding_after = ahead.outstanding_after
        effect.examples = list(ahead.examples)
    old_point = current.point_value if current is not None else proposed.point_value
    effect.liability_before = _amount(effect.outstanding_before, old_point, proposed.decimals)
    effect.liability_after = proposed.amount_of(effect.outstanding_after)
    effect.seconds = time.monotonic() - started
    return effect


def _amount(points: int, point_value: Decimal, decimals: int) -> Decimal:
    exponent = Decimal(1).scaleb(-decimals)
    return (Decimal(points) * point_value).quantize(exponent, rounding="ROUND_DOWN")


__all__ = ["Effect", "preview"]
