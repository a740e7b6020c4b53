"""The metrics service: which periods a report covers, and every number of SPEC §5 for them.

``plan_periods`` (pure) decides the periods; ``compute_metrics`` fills one temporary table of
counted orders and asks it for all periods at once (a handful of aggregate queries however
many periods the trend has), then applies the formulas.

Periods of a report:

* *current* — by default the last **complete** month / quarter / year before *as of* (so it
  compares like with like); ``--from``/``--to`` give any range of days instead (``--to`` is
  the last day included; ``--from`` alone runs to *as of*; ``--to`` alone starts at the
  beginning of its month / quarter / year);
* *previous* — the same number of months / quarters / years just before it, or, for a range
  that is not whole units, the same number of days;
* *trend* — the units covering the current period, extended back to at least 12 months,
  8 quarters or 5 years, never before the store's first counted order;
* *last 12 months* — ``[as_of − 365 days, as_of)``, the window of CLV and the budget advice.
  Its ARPU by month lists the calendar months wholly inside the window (11 or 12 of them):
  the window starts and ends mid-month, and a month's part would not be a month's ARPU.

Every period is cut at *as of*; orders created after it do not exist for the report. CLV of a
period is computed over the 365 days before its (cut) end.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from connector import ConfigError, from_units
from loyalty.analytics import periods as P
from loyalty.analytics.budget import BudgetAdvice, advise
from loyalty.analytics.formulas import PeriodCounts, PeriodMetrics, arpu, clv, period_metrics
from loyalty.analytics.periods import Calendar, Period, PeriodKind
from loyalty.analytics.program_figures import LoyaltyFigures, figures_if_ledger
from loyalty.analytics.queries import (
    ACTIVE_DAYS,
    DEFAULT_STATUSES,
    Activity,
    CountedOrders,
    Range,
    StoreInfo,
    counted_orders,
    store_info,
)

TRAILING_DAYS = 365
#: How many units the trend shows at least.
TREND_UNITS = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 8, PeriodKind.YEAR: 5}


@dataclass(frozen=True)
class MetricsRequest:
    """What a report is about. ``as_of`` is required: the caller owns the clock."""

    as_of: datetime
    kind: PeriodKind = PeriodKind.MONTH
    calendar: Calendar = Calendar.GREGORIAN
    first_day: date | None = None  # --from (local day, included)
    last_day: date | None = None  # --to (local day, included)
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    active_days: int = ACTIVE_DAYS
    acquisition_spend: Decimal | None = None
    retention_spend: Decimal | None = None
    trend_units: int | None = None  # default: TREND_UNITS[kind]
    point_value: Decimal | None = None  # loyalty point value; default: the currency's unit


@dataclass(frozen=True)
class PeriodPlan:
    current: Period
    previous: Period
    trend: tuple[Period, ...]


@dataclass(frozen=True)
class PeriodResult:
    period: Period  # cut at as of
    counts: PeriodCounts
    metrics: PeriodMetrics


@dataclass(frozen=True)
class MetricsReport:
    store: StoreInfo
    request: MetricsRequest
    current: PeriodResult
    previous: PeriodResult
    trend: tuple[PeriodResult, ...]
    last_12_months: PeriodResult
    first_order_at: datetime | None
    budget: BudgetAdvice
    loyalty: LoyaltyFigures | None = field(default=None)


def plan_periods(
    *,
    as_of: datetime,
    zone: ZoneInfo,
    kind: PeriodKind = PeriodKind.MONTH,
    calendar: Calendar = Calendar.GREGORIAN,
    first_day: date | None = None,
    last_day: date | None = None,
    trend_units: int | None = None,
    first_order_at: datetime | None = None,
) -> PeriodPlan:
    """The current, previous and trend periods of a report (not yet cut at *as of*)."""
    today = P.local_day(as_of, zone)
    if first_day is None and last_day is None:
        current = P.shift(P.unit_period(today, kind, calendar, zone), -1, kind, calendar, zone)
        previous = P.shift(current, -1, kind, calendar, zone)
    else:
        if first_day is None:
            assert last_day is not None
            first_day = P.unit_start(last_day, kind, calendar)
        end_day = (last_day or today) + timedelta(days=1)
        if end_day <= first_day:
            raise ConfigError(
                f"--to ({last_day}) is before --from ({first_day}): give the first and the "
                "last day of the period, in that order."
            )
        current = P.day_range(first_day, end_day, calendar, zone)
        if current.start >= as_of:
            raise ConfigError(
                f"the period starts on {first_day}, not before --as-of "
                f"({as_of.astimezone(zone):%Y-%m-%d %H:%M}): nothing to report yet."
            )
        if P.is_unit_aligned(first_day, end_day, kind, calendar):
            units = P.count_units(first_day, end_day, kind, calendar)
            back = P.add_months(first_day, -units * kind.months, calendar)
        else:
            back = first_day - (end_day - first_day)
        previous = P.day_range(back, first_day, calendar, zone)
        if P.is_unit_aligned(first_day, end_day, kind, calendar):
            current = _named(current, kind, calendar, zone)
            previous = _named(previous, kind, calendar, zone)
    wanted = trend_units or TREND_UNITS[kind]
    last_unit = P.unit_period(current.last_day, kind, calendar, zone)
    covering = P.units_covering(current.first_day, current.end_day, kind, calendar, zone)
    earliest = P.shift(last_unit, -(wanted - 1), kind, calendar, zone)
    if covering and covering[0].first_day < earliest.first_day:
        earliest = covering[0]
    if first_order_at is not None:
        first_unit = P.unit_period(P.local_day(first_order_at, zone), kind, calendar, zone)
        if first_unit.first_day > earliest.first_day:
            earliest = first_unit if first_unit.first_day <= last_unit.first_day else last_unit
    trend = P.units_covering(earliest.first_day, last_unit.end_day, kind, calendar, zone)
    return PeriodPlan(current, previous, tuple(p for p in trend if p.start < as_of))


def _named(period: Period, kind: PeriodKind, calendar: Calendar, zone: ZoneInfo) -> Period:
    """A whole-unit range named like its unit when it is exactly one (``March 2024``)."""
    unit = P.unit_period(period.first_day, kind, calendar, zone)
    if unit.end_day == period.end_day:
        return unit
    return period


def trailing_window(as_of: datetime, zone: ZoneInfo, calendar: Calendar) -> Period:
    """``[as_of − 365 days, as_of)``: the last 12 months."""
    start = as_of - timedelta(days=TRAILING_DAYS)
    return Period(
        start,
        as_of,
        P.local_day(start, zone),
        P.local_day(as_of, zone) + timedelta(days=1),
        "last-12-months",
        "last 12 months",
    )


@dataclass(frozen=True)
class Analysis:
    """One store's counted orders, ready to be asked: metrics, cohorts, RFM share it."""

    store: StoreInfo
    counted: CountedOrders

    @property
    def as_of(self) -> datetime:
        return self.counted.as_of


@contextmanager
def open_analysis(
    engine: Engine,
    store_id: int,
    *,
    as_of: datetime,
    statuses: Sequence[str] = DEFAULT_STATUSES,
) -> Iterator[Analysis]:
    """Open a connection and fill the counted orders of the store as of ``as_of``."""
    with engine.connect() as conn:
        store = store_info(conn, store_id)
        with counted_orders(conn, store_id, as_of=as_of, statuses=statuses) as counted:
            yield Analysis(store, counted)


def compute_metrics(engine: Engine, store_id: int, request: MetricsRequest) -> MetricsReport:
    """Every metric of SPEC §5 for the request's periods, in one connection."""
    with open_analysis(
        engine, store_id, as_of=request.as_of, statuses=request.statuses
    ) as analysis:
        return metrics_report(analysis, request)


def metrics_report(analysis: Analysis, request: MetricsRequest) -> MetricsReport:
    """The report of ``request`` over an open analysis (its *as of* and statuses win)."""
    counted, store = analysis.counted, analysis.store
    as_of, zone = counted.as_of, store.zone
    first_order_at = counted.first_order_at()
    plan = plan_periods(
        as_of=as_of,
        zone=zone,
        kind=request.kind,
        calendar=request.calendar,
        first_day=request.first_day,
        last_day=request.last_day,
        trend_units=request.trend_units,
        first_order_at=first_order_at,
    )
    window = trailing_window(as_of, zone, request.calendar)
    periods = [plan.current, plan.previous, window, *plan.trend]
    current, previous, last_12, *trend = compute_periods(
        counted, periods, request, zone, clv_for=3, whole_months_for={2}
    )
    current = _with_spend(current, request)
    budget = advise(
        last_12.metrics.repeat_purchase_rate,
        first_order_at,
        as_of,
        acquisition_spend=request.acquisition_spend,
        retention_spend=request.retention_spend,
    )
    point_value = request.point_value or Decimal(1).scaleb(-store.decimals)
    loyalty = figures_if_ledger(
        counted,
        point_value=point_value,
        window=(window.start, as_of),
        window_customers=(last_12.counts.customers, last_12.counts.repeat_customers),
    )
    return MetricsReport(
        store=store,
        request=request,
        current=current,
        previous=previous,
        trend=tuple(trend),
        last_12_months=last_12,
        first_order_at=first_order_at,
        budget=budget,
        loyalty=loyalty,
    )


def _with_spend(result: PeriodResult, request: MetricsRequest) -> PeriodResult:
    """CAC and cost per returning customer: the spend given is the current period's."""
    metrics = period_metrics(
        result.counts,
        arpu_by_month=result.metrics.arpu_by_month,
        clv=result.metrics.clv,
        acquisition_spend=request.acquisition_spend,
        retention_spend=request.retention_spend,
    )
    return PeriodResult(result.period, result.counts, metrics)


class _Batch:
    """Distinct ranges and instants to ask the database for, each once."""

    def __init__(self) -> None:
        self.ranges: dict[Range, int] = {}
        self.instants: dict[datetime, int] = {}

    def range(self, start: datetime, end: datetime) -> Range:
        self.ranges.setdefault((start, end), len(self.ranges))
        self.instants.setdefault(start, len(self.instants))
        self.instants.setdefault(end, len(self.instants))
        return (start, end)


def compute_periods(
    counted: CountedOrders,
    periods: Sequence[Period],
    request: MetricsRequest,
    zone: ZoneInfo,
    *,
    clv_for: int | None = None,
    whole_months_for: Collection[int] = (),
) -> list[PeriodResult]:
    """The metrics of each period (cut at *as of*), all periods in one batch of queries.

    CLV needs a 12-month window per period, the costliest part: it is computed for the first
    ``clv_for`` periods only (all by default) and left ``None`` for the others. ARPU by month
    covers every month the period touches (the part inside it), except for the periods whose
    index is in ``whole_months_for``: those list only the months wholly inside them.
    """
    as_of = counted.as_of
    cut = [p.clipped(as_of) for p in periods]
    batch = _Batch()
    plans = []
    for number, period in enumerate(cut):
        own = batch.range(period.start, period.end)
        months = [
            m.clipped(period.end)
            for m in P.units_covering(
                period.first_day, period.end_day, PeriodKind.MONTH, request.calendar, zone
            )
        ]
        if number in whole_months_for:
            months = [m for m in months if m.start >= period.start and not m.cut]
        month_ranges = [
            (m, batch.range(max(m.start, period.start), m.end)) for m in months if m.start < m.end
        ]
        clv_window = None
        if clv_for is None or number < clv_for:
            clv_window = batch.range(period.end - timedelta(days=TRAILING_DAYS), period.end)
        plans.append((period, own, month_ranges, clv_window))
    own_ranges = [own for _, own, _, _ in plans]
    windows = {w for _, _, _, w in plans if w is not None}
    # Every range but the CLV-only windows gets all its counts; a CLV window needs only
    # orders, revenue and customers: the first two add up over the pieces the other
    # ranges' bounds cut it into (most are months counted anyway), and its customers are
    # those active at its end over a 365-day window. Saves a year of orders per window.
    full = [r for r in batch.ranges if r not in windows or r in own_ranges]
    clv_only = [w for w in batch.ranges if w not in full]
    bounds = sorted({moment for span in [*full, *clv_only] for moment in span})
    pieces_of = {
        w: [(a, b) for a, b in pairwise(bounds) if w[0] <= a and b <= w[1]] for w in clv_only
    }
    extra = sorted({piece for pieces in pieces_of.values() for piece in pieces} - set(full))
    asked = [*full, *extra]
    activity = dict(zip(asked, counted.activity(asked), strict=True))
    churned = dict(
        zip(batch.ranges, counted.churned(list(batch.ranges), request.active_days), strict=True)
    )
    instants = list(batch.instants)
    active = dict(zip(instants, counted.active_at(instants, request.active_days), strict=True))
    window_ends = [w[1] for w in clv_only]
    if request.active_days == TRAILING_DAYS:  # the default: customers of a window are the
        in_window = {end: active[end] for end in window_ends}  # active at its end, counted
    else:
        in_window = dict(
            zip(window_ends, counted.active_at(window_ends, TRAILING_DAYS), strict=True)
        )
    for w in clv_only:
        parts = [activity[piece] for piece in pieces_of[w]]
        activity[w] = Activity(
            orders=sum(a.orders for a in parts),
            revenue_units=sum(a.revenue_units for a in parts),
            customers=in_window[w[1]],
            repeat_customers=0,  # not counted: CLV does not use it
            new_customers=sum(a.new_customers for a in parts),
        )
    activation = dict(zip(own_ranges, counted.activation(own_ranges), strict=True))

    def counts_of(span: Range) -> PeriodCounts:
        a = activity[span]
        eligible, activated = activation.get(span, (0, 0))
        return PeriodCounts(
            orders=a.orders,
            revenue=from_units(a.revenue_units),
            customers=a.customers,
            repeat_customers=a.repeat_customers,
            new_customers=a.new_customers,
            returning_customers=a.customers - a.new_customers,
            active_start=active[span[0]],
            active_end=active[span[1]],
            churned=churned[span],
            accounts_eligible=eligible,
            accounts_activated=activated,
        )

    results = []
    for period, own, month_ranges, clv_window in plans:
        counts = counts_of(own)
        arpu_by_month = tuple(
            (m.key, arpu(from_units(activity[r].revenue_units), activity[r].customers))
            for m, r in month_ranges
        )
        metrics = period_metrics(
            counts,
            arpu_by_month=arpu_by_month,
            clv=None if clv_window is None else clv(counts_of(clv_window)),
        )
        results.append(PeriodResult(period, counts, metrics))
    return results


__all__ = [
    "Analysis",
    "MetricsReport",
    "MetricsRequest",
    "PeriodPlan",
    "PeriodResult",
    "compute_metrics",
    "compute_periods",
    "metrics_report",
    "open_analysis",
    "plan_periods",
    "trailing_window",
]
