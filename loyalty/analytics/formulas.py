"""The metric formulas of SPEC §5 over aggregated numbers: pure, exact, no database.

Counts are ``int``, money is ``Decimal`` in the store's currency, and every ratio is a
``Decimal`` fraction — or ``None`` when its denominator is 0 (shown as "—"). The database
layer (``queries``) produces the counts; these functions only divide and multiply, so each
formula can be read and tested on its own. ``docs/metrics.md`` explains them in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: Expected lifetime used when nobody churned, and the cap on ``1 / churn``.
MAX_LIFETIME_YEARS = Decimal(10)
ZERO = Decimal(0)


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0."""
    if denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def times(*factors: Decimal | None) -> Decimal | None:
    """The product, or ``None`` if any factor is undefined."""
    result = Decimal(1)
    for factor in factors:
        if factor is None:
            return None
        result *= factor
    return result


def crr(active_end: int, new_customers: int, active_start: int) -> Decimal | None:
    """Customer retention rate ``(E − N) / S`` as a fraction (not × 100).

    It can exceed 1: a customer who lapsed before S was counted and comes back in the period
    is in E but neither in N nor in S — the textbook formula's known quirk, kept as defined.
    """
    return ratio(active_end - new_customers, active_start)


def lifetime_years(churn_rate: Decimal | None) -> Decimal | None:
    """Expected customer lifetime: ``1 / churn``, capped at 10 years; 10 when churn is 0."""
    if churn_rate is None:
        return None
    if churn_rate == 0:
        return MAX_LIFETIME_YEARS
    return min(MAX_LIFETIME_YEARS, 1 / churn_rate)


@dataclass(frozen=True)
class PeriodCounts:
    """What the database counts for one period (see ``queries``).

    ``churned`` is the part of ``active_start`` (S) with no counted order in the active
    window before the period's end; ``accounts_eligible`` the accounts created in the period
    at least 60 days before *as of*, ``accounts_activated`` those of them that ordered within
    60 days of their creation.
    """

    orders: int
    revenue: Decimal
    customers: int
    repeat_customers: int
    new_customers: int
    returning_customers: int
    active_start: int
    active_end: int
    churned: int
    accounts_eligible: int
    accounts_activated: int

    @staticmethod
    def empty() -> PeriodCounts:
        return PeriodCounts(0, ZERO, 0, 0, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class PeriodMetrics:
    """Every metric of SPEC §5 for one period; field names are the JSON keys."""

    orders: int
    customers: int
    revenue: Decimal
    repeat_purchase_rate: Decimal | None
    purchase_frequency: Decimal | None
    aov: Decimal | None
    customer_value: Decimal | None
    returning_customer_rate: Decimal | None
    new_customers: int
    active_start: int
    active_end: int
    crr: Decimal | None
    churn_rate: Decimal | None
    activation_rate: Decimal | None
    arpu_by_month: tuple[tuple[str, Decimal | None], ...]
    clv: Decimal | None
    cac: Decimal | None
    cost_per_returning_customer: Decimal | None


def clv(window: PeriodCounts) -> Decimal | None:
    """CLV over a (trailing 12-month) window: AOV × purchase frequency × expected lifetime.

    ``None`` when S of the window is 0 (no churn rate, so no lifetime) or it had no orders.
    """
    churn = ratio(window.churned, window.active_start)
    return times(
        ratio(window.revenue, window.orders),
        ratio(window.orders, window.customers),
        lifetime_years(churn),
    )


def period_metrics(
    counts: PeriodCounts,
    *,
    arpu_by_month: tuple[tuple[str, Decimal | None], ...],
    clv: Decimal | None,
    acquisition_spend: Decimal | None = None,
    retention_spend: Decimal | None = None,
) -> PeriodMetrics:
    """The metrics of a period from its counts, its months' ARPU and its window's CLV."""
    frequency = ratio(counts.orders, counts.customers)
    aov = ratio(counts.revenue, counts.orders)
    return PeriodMetrics(
        orders=counts.orders,
        customers=counts.customers,
        revenue=counts.revenue,
        repeat_purchase_rate=ratio(counts.repeat_customers, counts.customers),
        purchase_frequency=frequency,
        aov=aov,
        customer_value=times(frequency, aov),
        returning_customer_rate=ratio(counts.returning_customers, counts.customers),
        new_customers=counts.new_customers,
        active_start=counts.active_start,
        active_end=counts.active_end,
        crr=crr(counts.active_end, counts.new_customers, counts.active_start),
        churn_rate=ratio(counts.churned, counts.active_start),
        activation_rate=ratio(counts.accounts_activated, counts.accounts_eligible),
        arpu_by_month=arpu_by_month,
        clv=clv,
        cac=None if acquisition_spend is None else ratio(acquisition_spend, counts.new_customers),
        cost_per_returning_customer=(
            None if retention_spend is None else ratio(retention_spend, counts.returning_customers)
        ),
    )


def arpu(revenue: Decimal, customers: int) -> Decimal | None:
    """Average revenue per customer of one month."""
    return ratio(revenue, customers)


__all__ = [
    "MAX_LIFETIME_YEARS",
    "PeriodCounts",
    "PeriodMetrics",
    "arpu",
    "clv",
    "crr",
    "lifetime_years",
    "period_metrics",
    "ratio",
    "times",
]
