"""The analytics as people and machines read them: labels, formatted values, JSON.

Shared by the terminal tables (``cli/analytics.py``) and the HTML report so both say the same
thing the same way. JSON follows SPEC §5: rates are fractions (CRR too), ``null`` when the
denominator is 0; money is a decimal string with the store's decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from connector import format_money, money_json, price_json
from loyalty.analytics.budget import BudgetAdvice
from loyalty.analytics.cohorts import CohortTable
from loyalty.analytics.formatting import (
    NONE_SHOWN,
    Number,
    format_number,
    format_percent,
    points_difference_json,
    rate_json,
)
from loyalty.analytics.formulas import PeriodMetrics
from loyalty.analytics.metrics import MetricsReport, PeriodResult
from loyalty.analytics.periods import Period
from loyalty.analytics.program_figures import LoyaltyFigures
from loyalty.analytics.queries import StoreInfo
from loyalty.analytics.rfm import RfmSummary

Kind = Literal["count", "money", "rate", "number"]


@dataclass(frozen=True)
class MetricRow:
    key: str  # the JSON key
    label: str
    kind: Kind


#: The metrics of one period, in the order tables show them (ARPU by month is separate).
METRIC_ROWS = (
    MetricRow("orders", "Orders", "count"),
    MetricRow("customers", "Customers", "count"),
    MetricRow("revenue", "Revenue", "money"),
    MetricRow("repeat_purchase_rate", "Repeat purchase rate", "rate"),
    MetricRow("purchase_frequency", "Purchase frequency", "number"),
    MetricRow("aov", "Average order value (AOV)", "money"),
    MetricRow("customer_value", "Customer value", "money"),
    MetricRow("returning_customer_rate", "Returning customer rate", "rate"),
    MetricRow("new_customers", "New customers (N)", "count"),
    MetricRow("active_start", "Active at start (S)", "count"),
    MetricRow("active_end", "Active at end (E)", "count"),
    MetricRow("crr", "Customer retention rate (CRR)", "rate"),
    MetricRow("churn_rate", "Churn rate", "rate"),
    MetricRow("activation_rate", "60-day activation rate", "rate"),
    MetricRow("clv", "Customer lifetime value (CLV)", "money"),
    MetricRow("cac", "Customer acquisition cost (CAC)", "money"),
    MetricRow("cost_per_returning_customer", "Cost per returning customer", "money"),
)
#: Trend rows leave out CLV (a 12-month figure) and the spend-based costs (the spend given
#: is the current period's).
TREND_KEYS = tuple(
    row.key for row in METRIC_ROWS if row.key not in {"clv", "cac", "cost_per_returning_customer"}
)


def metric_value(metrics: PeriodMetrics, key: str) -> Number | None:
    value: Number | None = getattr(metrics, key)
    return value


def format_value(
    value: Number | None, kind: Kind, store: StoreInfo, *, currency: bool = False
) -> str:
    """A value for a table; money without the currency code unless ``currency`` (tables name
    the currency once, in their title)."""
    if value is None:
        return NONE_SHOWN
    if kind == "count":
        return format_number(int(value))
    if kind == "money":
        if currency:
            return format_money(value, store.currency, store.decimals)
        return format_number(value, store.decimals)
    if kind == "rate":
        return format_percent(value)
    return format_number(value, 2)


def signed(shown: str) -> str:
    """``+`` in front of a formatted change that is not zero once rounded; no ``-0.0``."""
    if not any(ch in "123456789" for ch in shown):
        return shown.lstrip("-")
    return shown if shown.startswith("-") else "+" + shown


def format_change(now: Number | None, before: Number | None, kind: Kind, store: StoreInfo) -> str:
    """``+20 (+25.0 %)`` for counts and money, ``+3.0 pp`` for rates, "—" when undefined."""
    if now is None or before is None:
        return NONE_SHOWN
    delta = Fraction(now) - Fraction(before)
    if kind == "rate":
        return signed(format_number(delta * 100, 1)) + " pp"
    if kind == "count":
        shown = signed(f"{int(delta):,}")
    elif kind == "money":
        shown = signed(format_number(delta, store.decimals))
    else:
        shown = signed(format_number(delta, 2))
    if before == 0:
        return shown
    return f"{shown} ({signed(format_percent(delta / Fraction(before)))})"


def headline_cells(
    report: MetricsReport, *, currency: bool = False
) -> list[tuple[str, str, str, str, str]]:
    """(key, label, current, previous, change) for every metric of the current period."""
    store = report.store
    rows = []
    for row in METRIC_ROWS:
        now = metric_value(report.current.metrics, row.key)
        before = metric_value(report.previous.metrics, row.key)
        if row.key in {"cac", "cost_per_returning_customer"}:
            if report.request.acquisition_spend is None and row.key == "cac":
                continue
            if report.request.retention_spend is None and row.key != "cac":
                continue
            before, change = None, NONE_SHOWN
        else:
            change = format_change(now, before, row.kind, store)
        rows.append(
            (
                row.key,
                row.label,
                format_value(now, row.kind, store, currency=currency),
                format_value(before, row.kind, store, currency=currency),
                change,
            )
        )
    return rows


def headline_rows(
    report: MetricsReport, *, currency: bool = False
) -> list[tuple[str, str, str, str]]:
    """(label, current, previous, change) for every metric of the current period."""
    return [cells[1:] for cells in headline_cells(report, currency=currency)]


# --- JSON ------------------------------------------------------------------------------------


def _json_value(value: Number | None, kind: Kind, store: StoreInfo) -> Any:
    if value is None:
        return None
    if kind == "count":
        return int(value)
    if kind == "money":
        return money_json(value, store.decimals)
    return rate_json(value)


def period_json(period: Period) -> dict[str, Any]:
    return {
        "key": period.key,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def metrics_json(
    result: PeriodResult, store: StoreInfo, keys: tuple[str, ...] | None = None
) -> dict[str, Any]:
    wanted = keys or tuple(row.key for row in METRIC_ROWS)
    kinds = {row.key: row.kind for row in METRIC_ROWS}
    out: dict[str, Any] = {}
    for key in wanted:
        out[key] = _json_value(metric_value(result.metrics, key), kinds[key], store)
        if key == "activation_rate":
            out["arpu_by_month"] = [
                {"month": month, "arpu": money_json(value, store.decimals)}
                for month, value in result.metrics.arpu_by_month
            ]
    return out


def budget_json(advice: BudgetAdvice) -> dict[str, Any]:
    return {
        "band": advice.band.name,
        "young_store": advice.young,
        "repeat_purchase_rate_12m": rate_json(advice.repeat_rate),
        "store_age_days": advice.store_age_days,
        "acquisition_percent": list(advice.band.acquisition),
        "retention_percent": list(advice.band.retention),
        "reason": advice.reason,
        "your_acquisition_share": rate_json(advice.acquisition_share),
        "your_split": advice.split_note,
    }


def loyalty_json(figures: LoyaltyFigures | None, store: StoreInfo) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {
        "members": figures.members,
        "points_issued": figures.points_issued,
        "points_redeemed": figures.points_redeemed,
        "points_expired": figures.points_expired,
        "points_outstanding": figures.points_outstanding,
        "point_value": price_json(figures.point_value, store.decimals),
        "liability": money_json(figures.liability, store.decimals),
        "redemption_rate": rate_json(figures.redemption_rate),
        "member_customers_12m": figures.member_customers,
        "member_repeat_purchase_rate_12m": rate_json(figures.member_repeat_rate),
        "non_member_customers_12m": figures.non_member_customers,
        "non_member_repeat_purchase_rate_12m": rate_json(figures.non_member_repeat_rate),
    }


def change_json(report: MetricsReport) -> dict[str, Any]:
    """Current minus previous, per metric: counts, money (a decimal string) and purchase
    frequency as differences; rates as differences in **percentage points**, under the rate's
    key + ``_pp`` (``repeat_purchase_rate_pp``: 0.25 → 0.30 is ``5.0``). CAC and cost per
    returning customer are ``null``: the spend given is the current period's only."""
    store = report.store
    change: dict[str, Any] = {}
    for row in METRIC_ROWS:
        now = metric_value(report.current.metrics, row.key)
        before = metric_value(report.previous.metrics, row.key)
        key = f"{row.key}_pp" if row.kind == "rate" else row.key
        if now is None or before is None or row.key in {"cac", "cost_per_returning_customer"}:
            change[key] = None
        elif row.kind == "rate":
            change[key] = points_difference_json(now, before)
        else:
            change[key] = _json_value(Fraction(now) - Fraction(before), row.kind, store)
    return change


def report_json(report: MetricsReport) -> dict[str, Any]:
    store = report.store
    change = change_json(report)
    return {
        "store": store.name,
        "currency": store.currency,
        "timezone": store.timezone,
        "as_of": report.request.as_of.isoformat(),
        "calendar": report.request.calendar.value,
        "period_kind": report.request.kind.value,
        "counted_statuses": list(report.request.statuses),
        "active_days": report.request.active_days,
        "first_order_at": (
            None if report.first_order_at is None else report.first_order_at.isoformat()
        ),
        "period": period_json(report.current.period),
        "metrics": metrics_json(report.current, store),
        "previous": {
            "period": period_json(report.previous.period),
            "metrics": metrics_json(report.previous, store),
        },
        "change": change,
        "trend": [
            {"period": period_json(r.period), "metrics": metrics_json(r, store, TREND_KEYS)}
            for r in report.trend
        ],
        "last_12_months": {
            "period": period_json(report.last_12_months.period),
            "metrics": metrics_json(report.last_12_months, store, (*TREND_KEYS, "clv")),
        },
        "budget": budget_json(report.budget),
        "loyalty": loyalty_json(report.loyalty, store),
    }


def cohorts_json(table: CohortTable) -> dict[str, Any]:
    return {
        "calendar": table.calendar.value,
        "cohorts": [
            {
                "month": c.key,
                "label": c.label,
                "size": c.size,
                "retention": [rate_json(v) for v in c.retention],
            }
            for c in table.cohorts
        ],
    }


def rfm_json(summary: RfmSummary, store: StoreInfo) -> dict[str, Any]:
    return {
        "as_of": summary.as_of.isoformat(),
        "customers": summary.customers,
        "revenue": money_json(summary.revenue, store.decimals),
        "segments": [
            {
                "segment": s.name,
                "customers": s.customers,
                "customer_share": rate_json(s.customer_share),
                "revenue": money_json(s.revenue, store.decimals),
                "revenue_share": rate_json(s.revenue_share),
                "avg_days_since_last_order": rate_json(s.avg_days_since, 1),
                "avg_orders": rate_json(s.avg_orders, 2),
                "advice": s.advice,
            }
            for s in summary.segments
        ],
    }


__all__ = [
    "METRIC_ROWS",
    "TREND_KEYS",
    "MetricRow",
    "change_json",
    "cohorts_json",
    "format_change",
    "format_value",
    "headline_cells",
    "headline_rows",
    "metric_value",
    "metrics_json",
    "period_json",
    "report_json",
    "rfm_json",
]
