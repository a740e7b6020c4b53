"""The metric formulas of SPEC §5 over aggregated numbers: pure, exact, no database.

Counts are ``int``, money is ``Decimal`` in the store's currency, and every rate is a
``Decimal`` fraction — or ``None`` when its denominator is 0 (shown as "—"). The database
layer (``queries``) produces the counts; these functions only divide and multiply, so each
formula can be read and tested on its own. ``docs/metrics.md`` explains them in words.

Money per something (AOV, customer value, ARPU, CLV, CAC, cost per returning customer) is an
exact ``Fraction``: no division is cut to 28 digits on the way, so the one rounding a shown
amount gets is at the end, half up to the currency's decimals
(``formatting.round_half_up``). Customer value is revenue ÷ customers (not frequency × AOV,
two divisions multiplied).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

#: Expected lifetime used when nobody churned, and the cap on ``1 / churn``.
MAX_LIFETIME_YEARS = Decimal(10)
ZERO = Decimal(0)


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0."""
    if denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def exact(numerator: int | Decimal | Fraction, denominator: int | Decimal) -> Fraction | None:
    """``numerator / denominator`` as an exact fraction, or ``None`` when the denominator
    is 0 (money per customer, per order: rounded only when shown)."""
    if denominator == 0:
        return None
    return Fraction(numerator) / Fraction(denominator)


def crr(active_end: int, new_customers: int, active_start: int) -> Decimal | None:
    """Customer retention rate ``(E − N) / S`` as a fraction (not × 100).

    It can exceed 1: a customer who lapsed before S was counted and comes back in the period
    is in E but neither in N nor in S — the textbook formula's known quirk, kept as defined.
    """
    return ratio(active_end - new_customers, active_start)


def lifetime_years(churn_rate: Decimal | Fraction | None) -> Fraction | None:
    """Expected customer lifetime: ``1 / churn``, capped at 10 years; 10 when churn is 0.
    Exact (a fraction of years)."""
    if churn_rate is None:
        return None
    cap = Fraction(MAX_LIFETIME_YEARS)
    if churn_rate == 0:
        return cap
    return min(cap, 1 / Fraction(churn_rate))


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
    aov: Fraction | None
    customer_value: Fraction | None
    returning_customer_rate: Decimal | None
    new_customers: int
    active_start: int
    active_end: int
    crr: Decimal | None
    churn_rate: Decimal | None
    activation_rate: Decimal | None
    arpu_by_month: tuple[tuple[str, Fraction | None], ...]
    clv: Fraction | None
    cac: Fraction | None
    cost_per_returning_customer: Fraction | None


def clv(window: PeriodCounts) -> Fraction | None:
    """CLV over a (trailing 12-month) window: AOV × purchase frequency × expected lifetime
    = revenue ÷ customers × lifetime, exactly (AOV × frequency is revenue ÷ customers).

    ``None`` when S of the window is 0 (no churn rate, so no lifetime) or it had no orders.
    """
    lifetime = lifetime_years(exact(window.churned, window.active_start))
    per_customer = exact(window.revenue, window.customers) if window.orders else None
    if lifetime is None or per_customer is None:
        return None
    return per_customer * lifetime


def period_metrics(
    counts: PeriodCounts,
    *,
    arpu_by_month: tuple[tuple[str, Fraction | None], ...],
    clv: Fraction | None,
    acquisition_spend: Decimal | None = None,
    retention_spend: Decimal | None = None,
) -> PeriodMetrics:
    """The metrics of a period from its counts, its months' ARPU and its window's CLV."""
    return PeriodMetrics(
        orders=counts.orders,
        customers=counts.customers,
        revenue=counts.revenue,
        repeat_purchase_rate=ratio(counts.repeat_customers, counts.customers),
        purchase_frequency=ratio(counts.orders, counts.customers),
        aov=exact(counts.revenue, counts.orders),
        customer_value=exact(counts.revenue, counts.customers),
        returning_customer_rate=ratio(counts.returning_customers, counts.customers),
        new_customers=counts.new_customers,
        active_start=counts.active_start,
        active_end=counts.active_end,
        crr=crr(counts.active_end, counts.new_customers, counts.active_start),
        churn_rate=ratio(counts.churned, counts.active_start),
        activation_rate=ratio(counts.accounts_activated, counts.accounts_eligible),
        arpu_by_month=arpu_by_month,
        clv=clv,
        cac=None if acquisition_spend is None else exact(acquisition_spend, counts.new_customers),
        cost_per_returning_customer=(
            None if retention_spend is None else exact(retention_spend, counts.returning_customers)
        ),
    )


def arpu(revenue: Decimal, customers: int) -> Fraction | None:
    """Average revenue per customer of one month (exact)."""
    return exact(revenue, customers)


__all__ = [
    "MAX_LIFETIME_YEARS",
    "PeriodCounts",
    "PeriodMetrics",
    "arpu",
    "clv",
    "crr",
    "exact",
    "lifetime_years",
    "period_metrics",
    "ratio",
]
