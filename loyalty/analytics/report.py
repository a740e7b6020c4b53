"""The HTML report: one self-contained file with the numbers and their charts.

Everything is inside the file — CSS inline, charts as inline SVG drawn by ``charts`` (a few
rectangles, lines and texts each; the browser shapes their text) — so it opens offline, by
e-mail or on a phone. Sections:
headline metrics with their change, budget advice, monthly trends (orders, customers, repeat
purchase rate, AOV), a cohort retention heatmap, RFM segment sizes, the loyalty program.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path

from sqlalchemy import Engine

from connector import format_money
from loyalty.analytics import charts
from loyalty.analytics.cohorts import Cohort, CohortTable, cohort_table
from loyalty.analytics.formatting import NONE_SHOWN, Number, format_number, format_percent
from loyalty.analytics.language import ENGLISH, Language, language
from loyalty.analytics.metrics import (
    Analysis,
    MetricsReport,
    MetricsRequest,
    metrics_report,
    open_analysis,
)
from loyalty.analytics.periods import Period, PeriodKind
from loyalty.analytics.present import METRIC_ROWS, headline_cells
from loyalty.analytics.queries import DEFAULT_STATUSES, StoreInfo
from loyalty.analytics.rfm import RfmSummary, rfm_summary

#: Months of trend and of cohorts the report shows.
REPORT_MONTHS = 24
COHORT_MONTHS = 12
_BLUE = charts.BLUE


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
    engine: Engine,
    store_id: int,
    now: datetime,
    *,
    request: MetricsRequest | None = None,
    lang: str = "en",
) -> str:
    """The HTML report of a store as of ``now`` (or of ``request.as_of``), in English or
    Persian (``lang`` ``fa``: right to left, Persian digits, Jalali dates)."""
    words = language(lang)
    request = request or MetricsRequest(as_of=now)
    with open_analysis(
        engine, store_id, as_of=request.as_of, statuses=request.statuses or DEFAULT_STATUSES
    ) as analysis:
        data = gather(analysis, request, generated_at=now)
    return render_html(data, words)


def write_report(
    engine: Engine,
    store_id: int,
    path: Path,
    now: datetime,
    *,
    request: MetricsRequest | None = None,
    lang: str = "en",
) -> Path:
    """Write ``report_html`` to ``path`` (the CLI's `report` writes it atomically instead)."""
    html = report_html(engine, store_id, now, request=request, lang=lang)
    path.write_text(html, encoding="utf-8")
    return path


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Vazirmatn,
       Tahoma, sans-serif; color: var(--ink); background: #f9fafb; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
header h1 { font-size: 1.6rem; margin: 0.2em 0; }
.meta { color: var(--muted); font-size: 0.9rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 12px;
          padding: 12px 16px; margin: 16px 0; }
h2 { font-size: 1.2rem; margin: 0.3em 0 0.6em; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: end;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: start; }
thead th { color: var(--muted); font-weight: 600; }
svg.chart { display: block; width: 100%; max-width: 780px; height: auto; margin: 8px auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 8px 10px; }
.card .v { font-size: 1.3rem; font-weight: 650; }
.card .k { color: var(--muted); font-size: 0.85rem; }
.advice { font-size: 1.05rem; }
.note { color: var(--muted); font-size: 0.85rem; }
code { direction: ltr; unicode-bidi: isolate; }
@media (max-width: 600px) { body { font-size: 15px; } main { padding: 8px; }
  section { padding: 10px; } th, td { padding: 4px 6px; } }
"""


def render_html(data: ReportData, words: Language = ENGLISH) -> str:
    """The report as one HTML document; every text from the store or the words is escaped."""
    report = data.metrics
    store = report.store
    calendar = report.request.calendar
    meta = words.meta(
        as_of=words.moment(report.request.as_of, store.zone),
        zone=store.timezone,
        current=words.period(report.current.period, calendar),
        previous=words.period(report.previous.period, calendar),
        currency=words.currency(store.currency),
        statuses=words.comma.join(words.status(s) for s in report.request.statuses),
    )
    title = f"{words.text('title')}: {store.name}"
    parts = [
        "<!doctype html>",
        f'<html lang="{words.code}" dir="{words.direction}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        "</header>",
        _headline_section(report, words),
        _budget_section(report, words),
        _trend_section(report, words),
        _cohort_section(data.cohorts, words),
        _rfm_section(data.rfm, report, words),
        _loyalty_section(report, words),
        f'<footer class="note"><p>'
        f"{escape(words.footer(words.moment(data.generated_at, store.zone)))}</p></footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _cell(text: str, words: Language, *, number: bool) -> str:
    """A table cell; in a right-to-left report numbers (signs, changes) keep left-to-right."""
    shown = escape(text)
    if number and words.direction == "rtl":
        shown = f'<bdi dir="ltr">{shown}</bdi>'
    return f"<td>{shown}</td>"


def _table(head: list[str], rows: list[list[str]], words: Language = ENGLISH) -> str:
    """A table whose first column is a label and the others numbers (or, for the last column
    of some tables, text: ``text_columns`` counts them from the end)."""
    return _text_table(head, rows, words, text_columns=0)


def _text_table(
    head: list[str], rows: list[list[str]], words: Language, *, text_columns: int
) -> str:
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    width = len(head)
    body = "".join(
        "<tr>"
        + "".join(
            _cell(cell, words, number=0 < n < width - text_columns) for n, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    table = f"<table><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _money(words: Language, value: Number | None, store: StoreInfo) -> str:
    return words.amount(format_money(value, store.currency, store.decimals), store.currency)


def _headline_section(report: MetricsReport, words: Language) -> str:
    store = report.store
    m = report.current.metrics
    calendar = report.request.calendar
    cards = [
        (words.text("revenue"), _money(words, m.revenue, store)),
        (words.text("orders"), words.number(format_number(m.orders))),
        (words.text("customers"), words.number(format_number(m.customers))),
        (words.text("repeat_purchase_rate"), words.number(format_percent(m.repeat_purchase_rate))),
        (words.text("aov"), _money(words, m.aov, store)),
        (words.text("clv"), _money(words, m.clv, store)),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div></div>'
        for k, v in cards
    )
    kinds = {row.key: row.kind for row in METRIC_ROWS}
    rows = []
    for key, label, now, before, change in headline_cells(report, currency=True):
        if kinds[key] == "money":
            now, before = words.amount(now, store.currency), words.amount(before, store.currency)
        else:
            now, before = words.number(now), words.number(before)
        rows.append([words.metric(key, label), now, before, words.number(change)])
    head = [
        words.text("metric"),
        words.period(report.current.period, calendar),
        words.period(report.previous.period, calendar),
        words.text("change"),
    ]
    return (
        f'<section id="headline"><h2>{escape(words.text("headline"))}</h2>'
        f'<div class="cards">{card_html}</div>{_table(head, rows, words)}</section>'
    )


def _budget_section(report: MetricsReport, words: Language) -> str:
    advice = report.budget
    note = words.split_note(advice)
    split = f"<p>{escape(note)}.</p>" if note else ""
    return (
        f'<section id="budget"><h2>{escape(words.text("budget"))}</h2>'
        f'<p class="advice"><strong>{escape(words.span(advice.band.acquisition))} '
        f"{escape(words.text('acquisition'))} · "
        f"{escape(words.span(advice.band.retention))} {escape(words.text('retention'))}"
        "</strong></p>"
        f"<p>{escape(words.text('why'))}: {escape(words.budget_reason(advice))}.</p>{split}"
        "</section>"
    )


def _trend_section(report: MetricsReport, words: Language) -> str:
    trend = report.trend
    store = report.store
    calendar = report.request.calendar
    heading = f'<section id="trends"><h2>{escape(words.text("trends"))}</h2>'
    if not any(r.counts.orders for r in trend):
        return f"{heading}<p>{escape(words.text('no_orders'))}</p></section>"
    ticks = [words.tick(r.period, calendar) for r in trend]
    drawn = [
        _bar_chart(words.text("chart_orders"), ticks, [r.metrics.orders for r in trend], _BLUE,
                   words=words),
        _bar_chart(
            words.text("chart_customers"),
            ticks,
            [r.metrics.customers for r in trend],
            _BLUE,
            overlay=[r.metrics.new_customers for r in trend],
            words=words,
        ),
        _line_chart(
            words.text("chart_repeat"),
            ticks,
            [_pct(r.metrics.repeat_purchase_rate) for r in trend],
            words=words,
        ),
        _line_chart(
            words.text("chart_aov", currency=words.currency(store.currency)),
            ticks,
            [None if r.metrics.aov is None else float(r.metrics.aov) for r in trend],
            words=words,
        ),
    ]  # fmt: skip
    rows = [
        [
            words.period(r.period, calendar),
            words.number(format_number(r.metrics.orders)),
            words.number(format_number(r.metrics.customers)),
            words.number(format_number(r.metrics.new_customers)),
            words.number(format_percent(r.metrics.repeat_purchase_rate)),
            _money(words, r.metrics.aov, store),
            _money(words, r.metrics.revenue, store),
        ]
        for r in reversed(trend)
    ]
    head = [words.text(k) for k in ("month", "orders", "customers", "new", "repeat", "aov",
                                    "revenue")]  # fmt: skip
    images = "".join(svg for svg, _ in drawn)
    return f"{heading}{images}{_table(head, rows, words)}</section>"


def _cohort_section(table: CohortTable, words: Language) -> str:
    heading = f'<section id="cohorts"><h2>{escape(words.text("cohorts"))}</h2>'
    if not table.cohorts or all(c.size == 0 for c in table.cohorts):
        return f"{heading}<p>{escape(words.text('no_cohorts'))}</p></section>"
    explain = f'<p class="note">{escape(words.text("cohort_note"))}</p>'
    return f"{heading}{_heatmap(table, words)}{explain}</section>"


def _rfm_section(summary: RfmSummary, report: MetricsReport, words: Language) -> str:
    store = report.store
    rows = [
        [
            words.segment(s.name),
            words.number(format_number(s.customers)),
            words.number(format_percent(s.customer_share)),
            _money(words, s.revenue, store),
            words.number(format_percent(s.revenue_share)),
            words.advice(s.name, s.advice),
        ]
        for s in summary.segments
    ]
    head = [words.text(k) for k in ("segment", "customers", "share", "revenue", "revenue_share",
                                    "what_to_do")]  # fmt: skip
    table = _text_table(head, rows, words, text_columns=1)
    return (
        f'<section id="rfm"><h2>{escape(words.text("rfm"))}</h2>'
        f"{_segments_chart(summary, words)}{table}"
        f'<p class="note">{escape(words.text("export_note"))} '
        '<code>bazgasht rfm --segment "At risk" --export at-risk.csv</code></p></section>'
    )


def _loyalty_section(report: MetricsReport, words: Language) -> str:
    figures = report.loyalty
    store = report.store
    heading = f'<section id="loyalty"><h2>{escape(words.text("loyalty"))}</h2>'
    if figures is None:
        return f"{heading}<p>{escape(words.text('no_ledger'))}</p></section>"
    values = {
        "members": words.number(format_number(figures.members)),
        "points_issued": words.number(format_number(figures.points_issued)),
        "points_redeemed": words.number(format_number(figures.points_redeemed)),
        "points_expired": words.number(format_number(figures.points_expired)),
        "points_outstanding": words.number(format_number(figures.points_outstanding)),
        "liability": _money(words, figures.liability, store),
        "redemption_rate": words.number(format_percent(figures.redemption_rate)),
        "member_repeat_rate": words.number(format_percent(figures.member_repeat_rate)),
        "non_member_repeat_rate": words.number(format_percent(figures.non_member_repeat_rate)),
    }
    rows = [[words.LOYALTY[key], value] for key, value in values.items()]
    body = _table([words.text("figure"), words.text("value")], rows, words)
    return f"{heading}{body}</section>"


# --- charts ----------------------------------------------------------------------------------


def _pct(rate: Number | None) -> float | None:
    return None if rate is None else float(rate * 100)


def _ticks(keys: list[str], words: Language = ENGLISH) -> list[str]:
    """The month labels of a trend chart's axis (already in the report's language)."""
    return keys


def _rtl(words: Language) -> bool:
    return words.direction == "rtl"


def _bar_chart(
    title: str,
    keys: list[str],
    values: list[int],
    color: str,
    overlay: list[int] | None = None,
    *,
    words: Language = ENGLISH,
) -> tuple[str, str]:
    svg = charts.bar_chart(
        title, _ticks(keys, words), values, color=color, overlay=overlay,
        number=words.number, rtl=_rtl(words),
    )  # fmt: skip
    return svg, title


def _line_chart(
    title: str, keys: list[str], values: list[float | None], *, words: Language = ENGLISH
) -> tuple[str, str]:
    svg = charts.line_chart(
        title, _ticks(keys, words), values, number=words.number, rtl=_rtl(words)
    )
    return svg, title


def _heatmap(table: CohortTable, words: Language = ENGLISH) -> str:
    calendar = table.calendar
    labels = [
        f"{words.period(_month_of(c), calendar)} ({words.number(format_number(c.size))})"
        for c in table.cohorts
    ]
    cells = [
        [None if v is None else float(v) * 100 for v in cohort.retention]
        for cohort in table.cohorts
    ]
    return charts.heatmap(
        words.text("heatmap_title"),
        labels,
        [words.number(str(k)) for k in range(table.width)],
        cells,
        x_label=words.text("heatmap_x"),
        alt=words.text("alt_cohorts"),
        number=words.number,
        rtl=_rtl(words),
    )


def _month_of(cohort: Cohort) -> Period:
    """A cohort's month as a period (what the language names)."""
    from datetime import UTC

    moment = datetime(2000, 1, 1, tzinfo=UTC)  # only the key and label are read
    return Period(moment, moment, date(2000, 1, 1), date(2000, 1, 1), cohort.key, cohort.label)


def _segments_chart(summary: RfmSummary, words: Language = ENGLISH) -> str:
    notes = [
        ""
        if s.revenue_share is None
        else words.text("of_revenue", share=words.number(format_percent(s.revenue_share, 0)))
        for s in summary.segments
    ]
    return charts.hbar_chart(
        words.text("segments_title"),
        [words.segment(s.name) for s in summary.segments],
        [s.customers for s in summary.segments],
        notes,
        alt=words.text("alt_segments"),
        number=words.number,
        rtl=_rtl(words),
    )


__all__ = ["NONE_SHOWN", "ReportData", "gather", "render_html", "write_report"]
