"""Retention analytics (SPEC §5): metrics, cohorts, RFM segments, budget advice, HTML report.

Pure parts: ``periods`` (calendar math, Gregorian and Jalali), ``formulas`` (the metric
formulas over counts), ``budget`` (the advice table), ``formatting``. The database part is
``queries``: the store's counted orders (kept in ``analytics_orders`` and brought up to date
by ``facts``; a temporary table for non-default statuses), asked for every period at once.
Entry points:

* ``compute_metrics(engine, store_id, MetricsRequest(as_of=now, ...)) -> MetricsReport``
* ``open_analysis(engine, store_id, as_of=now)`` then ``metrics_report``, ``cohort_table``,
  ``rfm_summary``, ``rfm_members`` on the same counted orders;
* ``report_html(engine, store_id, now)`` / ``write_report(…, path, …)`` — the self-contained
  HTML report.

Definitions in words: docs/metrics.md.
"""

from loyalty.analytics.budget import BudgetAdvice, advise
from loyalty.analytics.cohorts import Cohort, CohortTable, cohort_table
from loyalty.analytics.formulas import PeriodCounts, PeriodMetrics
from loyalty.analytics.metrics import (
    Analysis,
    MetricsReport,
    MetricsRequest,
    PeriodResult,
    compute_metrics,
    metrics_report,
    open_analysis,
    plan_periods,
)
from loyalty.analytics.periods import Calendar, Period, PeriodKind
from loyalty.analytics.present import cohorts_json, headline_rows, report_json, rfm_json
from loyalty.analytics.program_figures import LoyaltyFigures
from loyalty.analytics.queries import ACTIVE_DAYS, DEFAULT_STATUSES, StoreInfo
from loyalty.analytics.report import report_html, write_report
from loyalty.analytics.rfm import (
    SEGMENT_GRID,
    SEGMENTS,
    RfmMember,
    RfmSummary,
    rfm_members,
    rfm_summary,
)

__all__ = [
    "ACTIVE_DAYS",
    "DEFAULT_STATUSES",
    "SEGMENTS",
    "SEGMENT_GRID",
    "Analysis",
    "BudgetAdvice",
    "Calendar",
    "Cohort",
    "CohortTable",
    "LoyaltyFigures",
    "MetricsReport",
    "MetricsRequest",
    "Period",
    "PeriodCounts",
    "PeriodKind",
    "PeriodMetrics",
    "PeriodResult",
    "RfmMember",
    "RfmSummary",
    "StoreInfo",
    "advise",
    "cohort_table",
    "cohorts_json",
    "compute_metrics",
    "headline_rows",
    "metrics_report",
    "open_analysis",
    "plan_periods",
    "report_html",
    "report_json",
    "rfm_json",
    "rfm_members",
    "rfm_summary",
    "write_report",
]
