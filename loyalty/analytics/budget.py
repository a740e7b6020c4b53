"""Budget advice (SPEC §5): how to split marketing money between acquisition and retention.

Pure: the trailing-12-month repeat purchase rate and the store's age in, a band and a reason
out. Bands are half-open on the repeat rate (20 % exactly is in 20–40 %); a store whose first
counted order is less than 365 days before *as of* gets the last row whatever its rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from loyalty.analytics.formatting import format_percent

YOUNG_STORE_DAYS = 365


@dataclass(frozen=True)
class BudgetBand:
    """One row of the advice table: a repeat-rate range ``[lower, upper)`` and the split."""

    name: str
    lower: Decimal | None
    upper: Decimal | None
    acquisition: tuple[int, int]  # percent of the budget, lowest and highest
    retention: tuple[int, int]

    def describe(self) -> str:
        return f"{_span(self.acquisition)} on acquisition, {_span(self.retention)} on retention"


BANDS = (
    BudgetBand("0–20 %", Decimal(0), Decimal("0.2"), (80, 90), (10, 20)),
    BudgetBand("20–40 %", Decimal("0.2"), Decimal("0.4"), (60, 70), (30, 40)),
    BudgetBand("40–70 %", Decimal("0.4"), Decimal("0.7"), (30, 50), (50, 70)),
    BudgetBand("70 %+", Decimal("0.7"), None, (20, 20), (80, 80)),
)
YOUNG_STORE = BudgetBand("store younger than 12 months", None, None, (90, 100), (0, 10))


@dataclass(frozen=True)
class BudgetAdvice:
    band: BudgetBand
    young: bool
    repeat_rate: Decimal | None  # over the trailing 12 months
    store_age_days: int | None  # since the first counted order; None without orders
    reason: str
    #: When the owner gave their spend: the acquisition share of it and a comment.
    acquisition_share: Decimal | None = None
    split_note: str | None = None


def band_for(repeat_rate: Decimal) -> BudgetBand:
    for band in BANDS:
        if band.upper is None or repeat_rate < band.upper:
            return band
    raise AssertionError("the last band is open-ended")


def advise(
    repeat_rate: Decimal | None,
    first_order_at: datetime | None,
    as_of: datetime,
    *,
    acquisition_spend: Decimal | None = None,
    retention_spend: Decimal | None = None,
) -> BudgetAdvice:
    """The advice for a store, with the reason in words."""
    age = None if first_order_at is None else as_of - first_order_at
    age_days = None if age is None else age.days
    if age is None or age < timedelta(days=YOUNG_STORE_DAYS):
        band = YOUNG_STORE
        since = (
            "the store has no counted order yet"
            if age_days is None
            else f"the store's first counted order was {age_days} days ago, less than 12 months"
        )
        reason = f"{since} → {band.describe()}: win customers first, there are few to keep yet"
        young = True
    elif repeat_rate is None:
        band = BANDS[0]
        reason = f"nobody ordered in the last 12 months → {band.describe()}"
        young = False
    else:
        band = band_for(repeat_rate)
        reason = (
            f"repeat purchase rate {format_percent(repeat_rate)} over the last 12 months "
            f"(band {band.name}) → {band.describe()}"
        )
        young = False
    share, note = _judge_split(band, acquisition_spend, retention_spend)
    return BudgetAdvice(band, young, repeat_rate, age_days, reason, share, note)


def _judge_split(
    band: BudgetBand, acquisition: Decimal | None, retention: Decimal | None
) -> tuple[Decimal | None, str | None]:
    if acquisition is None or retention is None or acquisition + retention <= 0:
        return None, None
    share = acquisition / (acquisition + retention)
    percent = share * 100
    split = f"your split is {format_percent(share, 0)} acquisition / "
    split += f"{format_percent(1 - share, 0)} retention"
    low, high = band.acquisition
    if percent < low:
        return share, f"{split}: less on acquisition than advised ({_span(band.acquisition)})"
    if percent > high:
        return share, f"{split}: more on acquisition than advised ({_span(band.acquisition)})"
    return share, f"{split}: within the advice"


def _span(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return f"{low} %" if low == high else f"{low}–{high} %"


__all__ = ["BANDS", "YOUNG_STORE", "BudgetAdvice", "BudgetBand", "advise", "band_for"]
