"""The HTML report: one self-contained file with the numbers and their charts.

Everything is inside the file — CSS inline, charts as base64 PNG ``data:`` images drawn by
matplotlib (Agg, no display needed) — so it opens offline, by e-mail or on a phone. Sections:
headline metrics with their change, budget advice, monthly trends (orders, customers, repeat
purchase rate, AOV), a cohort retention heatmap, RFM segment sizes, the loyalty program.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from loyalty.analytics.cohorts import CohortTable, cohort_table
from loyalty.analytics.formatting import (
    NONE_SHOWN,
    format_money,
    format_number,
    format_percent,
)
from loyalty.analytics.metrics import (
    Analysis,
    MetricsReport,
    MetricsRequest,
    metrics_report,
    open_analysis,
)
from loyalty.analytics.periods import PeriodKind
from loyalty.analytics.present import headline_rows
from loyalty.analytics.queries import DEFAULT_STATUSES
from loyalty.analytics.rfm import RfmSummary, rfm_summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Months of trend and of cohorts the report shows.
REPORT_MONTHS = 24
COHORT_MONTHS = 12
_BLUE = "#2563eb"
_GREEN = "#059669"


@dataclass(frozen=True)
class ReportData:
    metrics: MetricsReport
    cohorts: CohortTable
    rfm: RfmSummary
    generated_at: datetime


def gather(analysis: Analysis, request: MetricsRequest, *, generated_at: datetime) -> ReportData:
    """Everything the report shows, from one open analysis."""
    monthly = MetricsRequest(
        as_of=request.as_of,
        kind=PeriodKind.MONTH,
        calendar=request.calendar,
        first_day=request.first_day,
        last_day=request.last_day,
        statuses=request.statuses,
        active_days=request.active_days,
        acquisition_spend=request.acquisition_spend,
        retention_spend=request.retention_spend,
        trend_units=REPORT_MONTHS,
        point_value=request.point_value,
    )
    return ReportData(
        metrics=metrics_report(analysis, monthly),
        cohorts=cohort_table(
            analysis.counted, analysis.store.zone, request.calendar, COHORT_MONTHS
        ),
        rfm=rfm_summary(analysis.counted),
        generated_at=generated_at,
    )


def report_html(
    engine: Engine, store_id: int, now: datetime, *, request: MetricsRequest | None = None
) -> str:
    """The HTML report of a store as of ``now`` (or of ``request.as_of``)."""
    request = request or MetricsRequest(as_of=now)
    with open_analysis(
        engine, store_id, as_of=request.as_of, statuses=request.statuses or DEFAULT_STATUSES
    ) as analysis:
        data = gather(analysis, request, generated_at=now)
    return render_html(data)


def write_report(
    engine: Engine,
    store_id: int,
    path: Path,
    now: datetime,
    *,
    request: MetricsRequest | None = None,
) -> Path:
    """Write ``report_html`` to ``path`` (the CLI's `report` writes it atomically instead)."""
    path.write_text(report_html(engine, store_id, now, request=request), encoding="utf-8")
    return path


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f9fafb; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
header h1 { font-size: 1.6rem; margin: 0.2em 0; }
.meta { color: var(--muted); font-size: 0.9rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 12px;
          padding: 12px 16px; margin: 16px 0; }
h2 { font-size: 1.2rem; margin: 0.3em 0 0.6em; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { color: var(--muted); font-weight: 600; }
img { display: block; max-width: 100%; height: auto; margin: 8px auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 8px 10px; }
.card .v { font-size: 1.3rem; font-weight: 650; }
.card .k { color: var(--muted); font-size: 0.85rem; }
.advice { font-size: 1.05rem; }
.note { color: var(--muted); font-size: 0.85rem; }
@media (max-width: 600px) { body { font-size: 15px; } main { padding: 8px; }
  section { padding: 10px; } th, td { padding: 4px 6px; } }
"""


def render_html(data: ReportData) -> str:
    report = data.metrics
    store = report.store
    as_of_local = report.request.as_of.astimezone(store.zone)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Retention report — {escape(store.name)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<header>",
        f"<h1>Retention report: {escape(store.name)}</h1>",
        f'<p class="meta">As of {as_of_local:%Y-%m-%d %H:%M} ({escape(store.timezone)}) · '
        f"{escape(report.current.period.label)} compared with "
        f"{escape(report.previous.period.label)} · {escape(store.currency)} · "
        f"counted statuses: {escape(', '.join(report.request.statuses))}</p>",
        "</header>",
        _headline_section(report),
        _budget_section(report),
        _trend_section(report),
        _cohort_section(data.cohorts),
        _rfm_section(data.rfm, report),
        _loyalty_section(report),
        '<footer class="note"><p>Definitions: docs/metrics.md of Bazgasht. Rates whose '
        "denominator is zero are shown as —. Generated "
        f"{data.generated_at.astimezone(store.zone):%Y-%m-%d %H:%M}.</p></footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _table(head: list[str], rows: list[list[str]]) -> str:
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    table = f"<table><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _headline_section(report: MetricsReport) -> str:
    store = report.store
    m = report.current.metrics
    cards = [
        ("Revenue", format_money(m.revenue, store.currency, store.decimals)),
        ("Orders", format_number(m.orders)),
        ("Customers", format_number(m.customers)),
        ("Repeat purchase rate", format_percent(m.repeat_purchase_rate)),
        ("AOV", format_money(m.aov, store.currency, store.decimals)),
        ("CLV", format_money(m.clv, store.currency, store.decimals)),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div></div>'
        for k, v in cards
    )
    rows = [list(row) for row in headline_rows(report, currency=True)]
    head = ["Metric", report.current.period.label, report.previous.period.label, "Change"]
    return (
        '<section id="headline"><h2>Headline metrics</h2>'
        f'<div class="cards">{card_html}</div>{_table(head, rows)}</section>'
    )


def _budget_section(report: MetricsReport) -> str:
    advice = report.budget
    split = f"<p>{escape(advice.split_note)}.</p>" if advice.split_note else ""
    return (
        '<section id="budget"><h2>Budget advice</h2>'
        f'<p class="advice"><strong>{escape(_span(advice.band.acquisition))} acquisition · '
        f"{escape(_span(advice.band.retention))} retention</strong></p>"
        f"<p>Why: {escape(advice.reason)}.</p>{split}</section>"
    )


def _span(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return f"{low} %" if low == high else f"{low}–{high} %"


def _trend_section(report: MetricsReport) -> str:
    trend = report.trend
    store = report.store
    if not any(r.counts.orders for r in trend):
        return '<section id="trends"><h2>Monthly trends</h2><p>No orders yet.</p></section>'
    keys = [r.period.key for r in trend]
    charts = [
        _bar_chart("Orders per month", keys, [r.metrics.orders for r in trend], _BLUE),
        _bar_chart(
            "Customers per month (new in green)",
            keys,
            [r.metrics.customers for r in trend],
            _BLUE,
            overlay=[r.metrics.new_customers for r in trend],
        ),
        _line_chart(
            "Repeat purchase rate (%)",
            keys,
            [_pct(r.metrics.repeat_purchase_rate) for r in trend],
        ),
        _line_chart(
            f"Average order value ({store.currency})",
            keys,
            [None if r.metrics.aov is None else float(r.metrics.aov) for r in trend],
        ),
    ]
    rows = [
        [
            r.period.label,
            format_number(r.metrics.orders),
            format_number(r.metrics.customers),
            format_number(r.metrics.new_customers),
            format_percent(r.metrics.repeat_purchase_rate),
            format_money(r.metrics.aov, store.currency, store.decimals),
            format_money(r.metrics.revenue, store.currency, store.decimals),
        ]
        for r in reversed(trend)
    ]
    table = _table(["Month", "Orders", "Customers", "New", "Repeat rate", "AOV", "Revenue"], rows)
    images = "".join(_img(png, alt) for png, alt in charts)
    return f'<section id="trends"><h2>Monthly trends</h2>{images}{table}</section>'


def _cohort_section(table: CohortTable) -> str:
    if not table.cohorts or all(c.size == 0 for c in table.cohorts):
        return '<section id="cohorts"><h2>Cohort retention</h2><p>No cohorts yet.</p></section>'
    png = _heatmap(table)
    explain = (
        '<p class="note">Each row is the customers whose first order fell in that month; '
        "each column the share of them who ordered again k months later (month 0 is 100 %).</p>"
    )
    return (
        '<section id="cohorts"><h2>Cohort retention</h2>'
        f"{_img(png, 'Cohort retention heatmap')}{explain}</section>"
    )


def _rfm_section(summary: RfmSummary, report: MetricsReport) -> str:
    store = report.store
    png = _segments_chart(summary)
    rows = [
        [
            s.name,
            format_number(s.customers),
            format_percent(s.customer_share),
            format_money(s.revenue, store.currency, store.decimals),
            format_percent(s.revenue_share),
            s.advice,
        ]
        for s in summary.segments
    ]
    table = _table(
        ["Segment", "Customers", "Share", "Revenue", "Revenue share", "What to do"], rows
    )
    return (
        '<section id="rfm"><h2>Customer segments (RFM)</h2>'
        f"{_img(png, 'RFM segment sizes')}{table}"
        '<p class="note">Export a segment for a campaign: '
        '<code>bazgasht rfm --segment "At risk" --export at-risk.csv</code></p></section>'
    )


def _loyalty_section(report: MetricsReport) -> str:
    figures = report.loyalty
    store = report.store
    if figures is None:
        body = "<p>The loyalty program has no ledger in this database yet.</p>"
    else:
        rows = [
            ["Members", format_number(figures.members)],
            ["Points issued", format_number(figures.points_issued)],
            ["Points redeemed", format_number(figures.points_redeemed)],
            ["Points expired", format_number(figures.points_expired)],
            ["Points outstanding", format_number(figures.points_outstanding)],
            ["Liability", format_money(figures.liability, store.currency, store.decimals)],
            ["Redemption rate", format_percent(figures.redemption_rate)],
            ["Repeat rate of members (12 months)", format_percent(figures.member_repeat_rate)],
            [
                "Repeat rate of non-members (12 months)",
                format_percent(figures.non_member_repeat_rate),
            ],
        ]
        body = _table(["Figure", "Value"], rows)
    return f'<section id="loyalty"><h2>Loyalty program</h2>{body}</section>'


# --- charts ----------------------------------------------------------------------------------


def _pct(rate: Decimal | None) -> float | None:
    return None if rate is None else float(rate * 100)


def _img(png: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{png}" alt="{escape(alt)}">'


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to PNG only
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=130, layout="constrained")


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    fig.clear()
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _ticks(ax: object, keys: list[str]) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    step = max(1, len(keys) // 8)
    ax.set_xticks(range(0, len(keys), step), [keys[i] for i in range(0, len(keys), step)])
    ax.tick_params(axis="x", labelrotation=45, labelsize=9)
    ax.tick_params(axis="y", labelsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _bar_chart(
    title: str, keys: list[str], values: list[int], color: str, overlay: list[int] | None = None
) -> tuple[str, str]:
    fig = _figure(6, 3)
    ax = fig.add_subplot()
    ax.bar(range(len(keys)), values, color=color, alpha=0.8)
    if overlay is not None:
        ax.bar(range(len(keys)), overlay, color=_GREEN, alpha=0.9)
    ax.set_title(title, fontsize=12)
    _ticks(ax, keys)
    return _png(fig), title


def _line_chart(title: str, keys: list[str], values: list[float | None]) -> tuple[str, str]:
    fig = _figure(6, 3)
    ax = fig.add_subplot()
    xs = [i for i, v in enumerate(values) if v is not None]
    ys = [v for v in values if v is not None]
    ax.plot(xs, ys, marker="o", color=_BLUE, linewidth=2, markersize=3)
    ax.set_xlim(-0.5, len(keys) - 0.5)
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=12)
    _ticks(ax, keys)
    return _png(fig), title


def _heatmap(table: CohortTable) -> str:
    import numpy as np

    width = table.width
    grid = np.full((len(table.cohorts), width), np.nan)
    for row, cohort in enumerate(table.cohorts):
        for col, value in enumerate(cohort.retention):
            if value is not None:
                grid[row, col] = float(value) * 100
    fig = _figure(7, 0.42 * len(table.cohorts) + 1.6)
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="YlGnBu", aspect="auto", vmin=0, vmax=max(1.0, _second_max(grid)))
    for row in range(grid.shape[0]):
        for col in range(grid.shape[1]):
            value = grid[row, col]
            if not np.isnan(value):
                light = value > 0.6 * max(1.0, _second_max(grid))
                ax.text(
                    col,
                    row,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if light else "black",
                )
    ax.set_yticks(
        range(len(table.cohorts)), [f"{c.label} ({c.size:,})" for c in table.cohorts], fontsize=8
    )
    ax.set_xticks(range(width), [str(k) for k in range(width)], fontsize=8)
    ax.set_xlabel("months since the first order")
    ax.set_title("Share of each month's new customers ordering k months later (%)", fontsize=11)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _png(fig)


def _second_max(grid: object) -> float:
    """The colour scale's top: the highest cell after month 0 (which is always 100 %)."""
    import numpy as np

    assert isinstance(grid, np.ndarray)
    later = grid[:, 1:] if grid.shape[1] > 1 else grid
    finite = later[~np.isnan(later)]
    return float(finite.max()) if finite.size else 100.0


def _segments_chart(summary: RfmSummary) -> str:
    names = [s.name for s in summary.segments][::-1]
    sizes = [s.customers for s in summary.segments][::-1]
    shares = [s.revenue_share for s in summary.segments][::-1]
    fig = _figure(6.5, 4.2)
    ax = fig.add_subplot()
    bars = ax.barh(names, sizes, color=_BLUE, alpha=0.85)
    for bar, share in zip(bars, shares, strict=True):
        label = "" if share is None else f" {format_percent(share, 0)} of revenue"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=8)
    ax.set_title("Customers per segment (with their share of revenue)", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.25)
    ax.tick_params(labelsize=9)
    return _png(fig)


__all__ = ["NONE_SHOWN", "ReportData", "gather", "render_html", "write_report"]
