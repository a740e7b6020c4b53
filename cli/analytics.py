"""``bazgasht metrics | cohorts | rfm | report``: the retention numbers of a store.

Thin: parse the options, call ``loyalty.analytics``, render a rich table, JSON or CSV.
``headline()`` is what ``bazgasht demo`` prints at its end.
"""

from __future__ import annotations

import difflib
import sys
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Column
from rich.text import Text
from sqlalchemy import Engine

from cli._context import AppContext, app_context
from cli._csv import Cell, print_csv, write_csv
from cli._files import check_target, write_atomic
from cli._options import (
    Format,
    FormatOpt,
    JsonOpt,
    Rows,
    RowsFormatOpt,
    StoreOpt,
    TableOrJson,
    output_format,
)
from cli._render import Table, json_text
from loyalty.analytics import (
    DEFAULT_STATUSES,
    SEGMENTS,
    Calendar,
    MetricsReport,
    MetricsRequest,
    PeriodKind,
    cohort_table,
    cohorts_json,
    compute_metrics,
    headline_rows,
    open_analysis,
    report_html,
    report_json,
    rfm_json,
    rfm_members,
    rfm_summary,
    write_report,
)
from loyalty.analytics.cohorts import CohortTable
from loyalty.analytics.formatting import (
    NONE_SHOWN,
    Number,
    format_money,
    format_number,
    format_percent,
    money_json,
    rate_json,
)
from loyalty.analytics.periods import format_day, parse_day, parse_instant
from loyalty.analytics.present import TREND_KEYS, metrics_json
from loyalty.analytics.queries import StoreInfo, known_statuses, store_info
from loyalty.analytics.rfm import RfmMember, RfmSummary


class ReportLanguage(StrEnum):
    EN = "en"
    FA = "fa"


# --- shared options ----------------------------------------------------------------------------

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The moment the report describes: YYYY-MM-DD (its midnight, store time) or an "
        "ISO time; not in the future. Default: now.",
    ),
]
CalendarOpt = Annotated[
    Calendar,
    typer.Option("--calendar", help="Months of the Gregorian or the Jalali (Persian) calendar."),
]
StatusesOpt = Annotated[
    str,
    typer.Option(
        "--statuses",
        metavar="LIST",
        help="Order statuses that count, comma-separated.",
        show_default=True,
    ),
]
ACQUISITION_HELP = "Acquisition marketing spend of the period (gives CAC)."
RETENTION_HELP = "Retention marketing spend of the period (gives cost per returning customer)."


def _statuses(text: str) -> tuple[str, ...]:
    found = tuple(sorted({s.strip().lower().removeprefix("wc-") for s in text.split(",")} - {""}))
    if not found:
        raise typer.BadParameter("name at least one status, e.g. processing,completed")
    return found


def _money(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not an amount, e.g. 2500 or 2500.50") from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter(f"{option} must be a positive amount, got {text!r}")
    return value


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option}: {exc}") from None


class _Target:
    """The store a command works on, its facts, and the *as of* instant."""

    def __init__(self, ctx: typer.Context, store: str | None, as_of: str | None) -> None:
        context: AppContext = app_context(ctx)
        self.context = context
        self.name = context.pick_stores([store] if store else None, False)[0]
        self.engine = context.engine()
        self.store_id = context.store_id(self.name)
        with self.engine.connect() as conn:
            self.info: StoreInfo = store_info(conn, self.store_id)
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            self.as_of = now if as_of is None else parse_instant(as_of, self.info.zone)
        except ValueError as exc:
            raise typer.BadParameter(f"--as-of: {exc}") from None
        if self.as_of > now:  # the future has no orders: every figure would be a silent 0
            local = now.astimezone(self.info.zone)
            raise typer.BadParameter(
                f"--as-of {as_of} is in the future (it is {local:%Y-%m-%d %H:%M} in the "
                f"store's time zone, {self.info.timezone}): a report describes what has "
                "happened. Leave --as-of out for now."
            )

    def statuses(self, text: str) -> tuple[str, ...]:
        """``--statuses``: each one WooCommerce's own or one the store's orders have; a typo
        (``complete``) is an error, not a report of zeros."""
        wanted = _statuses(text)
        with self.engine.connect() as conn:
            known = known_statuses(conn, self.store_id)
        for status in wanted:
            if status not in known:
                close = difflib.get_close_matches(status, sorted(known), n=1)
                guess = f"did you mean {close[0]!r}? " if close else ""
                raise typer.BadParameter(
                    f"--statuses: {status!r} is not an order status of store {self.name!r}; "
                    f"{guess}Statuses: {', '.join(sorted(known - {'trash'}))}."
                )
        return wanted

    def point_value(self) -> Decimal | None:
        """The loyalty point value the owner set (``None``: the currency's default), from
        the settings stored in the database."""
        from app import program_for
        from loyalty.stored import SettingsNotImported

        try:
            program = program_for(self.context, self.name, datetime.now(UTC), create=False)
        except SettingsNotImported:
            return None
        return program.point_value if program.sources.get("point_value") == "config" else None


# --- metrics -----------------------------------------------------------------------------------


def metrics(
    ctx: typer.Context,
    store: StoreOpt = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="First day of the period (YYYY-MM-DD; Jalali when the year < 1700).",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last day of the period (included)."),
    ] = None,
    period: Annotated[
        PeriodKind,
        typer.Option("--period", help="Month, quarter or year: the period and the trend's steps."),
    ] = PeriodKind.MONTH,
    calendar: CalendarOpt = Calendar.GREGORIAN,
    as_of: AsOfOpt = None,
    acquisition_spend: Annotated[
        str | None, typer.Option("--acquisition-spend", metavar="AMOUNT", help=ACQUISITION_HELP)
    ] = None,
    retention_spend: Annotated[
        str | None, typer.Option("--retention-spend", metavar="AMOUNT", help=RETENTION_HELP)
    ] = None,
    statuses: StatusesOpt = ",".join(DEFAULT_STATUSES),
    active_days: Annotated[
        int,
        typer.Option(
            "--active-days",
            metavar="DAYS",
            min=1,
            max=3650,
            help="A customer is active with an order this recent.",
        ),
    ] = 365,
    fmt: RowsFormatOpt = Rows.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Retention metrics of a period, with trend and advice.

    Repeat purchase rate, frequency, AOV, CRR, churn, activation, ARPU, CLV, CAC and budget
    advice. Without --from/--to the period is the last complete month (quarter, year) before
    --as-of. Definitions of every metric: docs/metrics.md.

    \b
    Examples:
      bazgasht metrics
      bazgasht metrics --store myshop --period quarter \\
          --acquisition-spend 5000 --retention-spend 1500
      bazgasht metrics --calendar jalali --from 1403-01-01 --to 1403-12-30 \\
          --format json
    """
    out = output_format(fmt, as_json)
    target = _Target(ctx, store, as_of)
    request = MetricsRequest(
        as_of=target.as_of,
        kind=period,
        calendar=calendar,
        first_day=_day(from_, "--from"),
        last_day=_day(to, "--to"),
        statuses=target.statuses(statuses),
        active_days=active_days,
        acquisition_spend=_money(acquisition_spend, "--acquisition-spend"),
        retention_spend=_money(retention_spend, "--retention-spend"),
        point_value=target.point_value(),
    )
    report = compute_metrics(target.engine, target.store_id, request)
    if out is Format.JSON:
        typer.echo(json_text(report_json(report)))
    elif out is Format.CSV:
        print_csv(*_metrics_csv(report))
    else:
        _console().print(render_metrics(report))


def headline(engine: Engine, store_id: int, now: datetime) -> RenderableType:
    """The headline metrics of the last complete month and the budget advice (for the demo)."""
    report = compute_metrics(engine, store_id, MetricsRequest(as_of=now))
    return Group(_headline_table(report), _budget_panel(report))


def render_metrics(report: MetricsReport) -> RenderableType:
    parts: list[RenderableType] = [_headline_table(report)]
    arpu = report.current.metrics.arpu_by_month
    if len(arpu) > 1:
        table = Table("month", "ARPU", title="ARPU by month", title_justify="left")
        for month, value in arpu:
            table.add_row(month, _money_text(report.store, value))
        parts.append(table)
    parts.append(_trend_table(report))
    parts.append(_last_12_line(report))
    parts.append(_budget_panel(report))
    parts.append(_loyalty_table(report))
    return Group(*parts)


def _money_text(store: StoreInfo, value: Number | None) -> str:
    """An amount for a table cell: the table's title names the currency."""
    return format_number(value, store.decimals)


def _console() -> Console:
    # Wraps long lines (the shared stdout console crops them) and follows sys.stdout so
    # tests that capture it see the output.
    return Console(file=sys.stdout)


def _headline_table(report: MetricsReport) -> Table:
    current, previous = report.current.period, report.previous.period
    as_of = report.request.as_of.astimezone(report.store.zone)
    table = Table(
        "metric",
        Column(current.label, justify="right"),
        Column(previous.label, justify="right"),
        Column("change", justify="right"),
        title=f"{report.store.name}: {current.label}, amounts in {report.store.currency} "
        f"(as of {as_of:%Y-%m-%d %H:%M} {report.store.timezone})",
        title_justify="left",
    )
    for label, now, before, change in headline_rows(report):
        table.add_row(label, now, before, change)
    return table


def _trend_table(report: MetricsReport) -> Table:
    store = report.store
    table = Table(
        Column("period", no_wrap=True),
        *(
            Column(name, justify="right", no_wrap=True)
            for name in ("orders", "cust.", "new", "repeat", "AOV", "CRR", "churn", "revenue")
        ),
        title=f"Trend by {report.request.kind.value}, amounts in {store.currency}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    for result in report.trend:
        m = result.metrics
        table.add_row(
            result.period.label + (" (so far)" if result.period.cut else ""),
            format_number(m.orders),
            format_number(m.customers),
            format_number(m.new_customers),
            format_percent(m.repeat_purchase_rate),
            _money_text(store, m.aov),
            format_percent(m.crr),
            format_percent(m.churn_rate),
            format_number(m.revenue, 0),
        )
    return table


def _last_12_line(report: MetricsReport) -> Text:
    m = report.last_12_months.metrics
    store = report.store
    return Text.assemble(
        ("Last 12 months: ", "bold"),
        f"{format_number(m.orders)} orders, {format_number(m.customers)} customers, "
        f"repeat purchase rate {format_percent(m.repeat_purchase_rate)}, "
        f"CLV {format_money(m.clv, store.currency, store.decimals)}, "
        f"churn {format_percent(m.churn_rate)}.",
    )


def _budget_panel(report: MetricsReport) -> Text:
    advice = report.budget
    acquisition = _span(advice.band.acquisition)
    retention = _span(advice.band.retention)
    body = Text.assemble(
        ("Budget advice: ", "bold"),
        (f"{acquisition} on acquisition, {retention} on retention.\n", "bold"),
        f"Why: {advice.reason}.",
    )
    if advice.split_note:
        body.append(f"\n{advice.split_note[0].upper()}{advice.split_note[1:]}.")
    return body


def _span(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return f"{low} %" if low == high else f"{low}–{high} %"


def _loyalty_table(report: MetricsReport) -> RenderableType:
    figures = report.loyalty
    if figures is None:
        return Text("Loyalty program: no ledger in this database yet.", style="dim")
    if figures.members == 0:
        return Text("Loyalty program: no points credited yet.", style="dim")
    store = report.store
    table = Table(
        "loyalty program",
        Column("value", justify="right"),
        title=f"Loyalty program, amounts in {store.currency}",
        title_justify="left",
    )
    for label, value in (
        ("members", format_number(figures.members)),
        ("points issued", format_number(figures.points_issued)),
        ("points redeemed", format_number(figures.points_redeemed)),
        ("points expired", format_number(figures.points_expired)),
        ("points outstanding", format_number(figures.points_outstanding)),
        ("liability", _money_text(store, figures.liability)),
        ("redemption rate", format_percent(figures.redemption_rate)),
        ("repeat rate, members (12 months)", format_percent(figures.member_repeat_rate)),
        ("repeat rate, non-members (12 months)", format_percent(figures.non_member_repeat_rate)),
    ):
        table.add_row(label, value)
    return table


CsvRows = tuple[list[str], list[list[Cell]]]


def _metrics_csv(report: MetricsReport) -> CsvRows:
    """One row per period (current, previous, trend, last 12 months), a column per metric."""
    store = report.store
    keys = [*TREND_KEYS, "clv", "cac", "cost_per_returning_customer"]
    header = ["role", "period", "label", "start", "end", *keys, "arpu_by_month"]
    out: list[list[Cell]] = []
    rows = [
        ("current", report.current),
        ("previous", report.previous),
        ("last_12_months", report.last_12_months),
        *(("trend", r) for r in report.trend),
    ]
    for role, result in rows:
        values = metrics_json(result, store, tuple(keys))
        arpu = ";".join(f"{m}={v if v is not None else ''}" for m, v in _arpu_pairs(values))
        out.append(
            [
                role,
                result.period.key,
                result.period.label,
                result.period.start.isoformat(),
                result.period.end.isoformat(),
                *(_csv_cell(values.get(k)) for k in keys),
                arpu,
            ]
        )
    return header, out


def _arpu_pairs(values: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(item["month"], item["arpu"]) for item in values.get("arpu_by_month", [])]


def _csv_cell(value: Any) -> Cell:
    """A JSON value as a CSV cell: numbers stay numbers (the CSV writer escapes only text)."""
    if value is None or isinstance(value, str | int | float | Decimal):
        return value
    return str(value)


# --- cohorts -----------------------------------------------------------------------------------


def cohorts(
    ctx: typer.Context,
    store: StoreOpt = None,
    months: Annotated[
        int,
        typer.Option(
            "--months", metavar="N", min=1, max=120, help="How many monthly cohorts to show."
        ),
    ] = 12,
    calendar: CalendarOpt = Calendar.GREGORIAN,
    as_of: AsOfOpt = None,
    statuses: StatusesOpt = ",".join(DEFAULT_STATUSES),
    fmt: RowsFormatOpt = Rows.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Monthly cohorts of first-time customers and who came back.

    Of the customers whose first order fell in a month, the share who ordered again 1, 2,
    3 … months later (month 0 is 100 %).

    \b
    Examples:
      bazgasht cohorts
      bazgasht cohorts --months 24 --calendar jalali --format csv > cohorts.csv
    """
    out = output_format(fmt, as_json)
    target = _Target(ctx, store, as_of)
    with open_analysis(
        target.engine, target.store_id, as_of=target.as_of, statuses=target.statuses(statuses)
    ) as analysis:
        table = cohort_table(analysis.counted, target.info.zone, calendar, months)
    if out is Format.JSON:
        typer.echo(json_text(cohorts_json(table)))
    elif out is Format.CSV:
        print_csv(*_cohorts_csv(table))
    else:
        _console().print(render_cohorts(table, target.info.name))


def render_cohorts(table: CohortTable, store: str) -> Table:
    out = Table(
        Column("cohort", no_wrap=True),
        Column("customers", justify="right", no_wrap=True),
        *(Column(f"M{k}", justify="right", no_wrap=True) for k in range(table.width)),
        title=f"{store}: % of each month's new customers ordering k months later",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    for cohort in table.cohorts:
        cells = [NONE_SHOWN if v is None else f"{v * 100:.0f}" for v in cohort.retention]
        cells += [""] * (table.width - len(cells))
        out.add_row(cohort.label, format_number(cohort.size), *cells)
    return out


def _cohorts_csv(table: CohortTable) -> CsvRows:
    header = ["cohort", "label", "customers", *(f"m{k}" for k in range(table.width))]
    out: list[list[Cell]] = []
    for cohort in table.cohorts:
        cells = [_csv_cell(rate_json(v)) for v in cohort.retention]
        cells += [None] * (table.width - len(cells))
        out.append([cohort.key, cohort.label, cohort.size, *cells])
    return header, out


# --- rfm ---------------------------------------------------------------------------------------


def _segment_name(text: str | None) -> str | None:
    if text is None:
        return None
    wanted = _squash(text)
    for name in SEGMENTS:
        if _squash(name) == wanted:
            return name
    raise typer.BadParameter(
        f"no segment {text!r}; the segments are: " + ", ".join(f'"{n}"' for n in SEGMENTS)
    )


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def rfm(
    ctx: typer.Context,
    store: StoreOpt = None,
    segment: Annotated[
        str | None,
        typer.Option(
            "--segment",
            metavar="NAME",
            help='A segment, e.g. "At risk" (also at-risk): list its customers.',
        ),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            metavar="FILE",
            help="Write the segment's customers to this CSV file (e-mail, name, phone, R/F/M, "
            "last order, total spent, loyalty balance) for an e-mail or SMS campaign.",
        ),
    ] = None,
    calendar: CalendarOpt = Calendar.GREGORIAN,
    as_of: AsOfOpt = None,
    statuses: StatusesOpt = ",".join(DEFAULT_STATUSES),
    fmt: RowsFormatOpt = Rows.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """RFM segments, and their customers for a campaign.

    Customers scored 1–5 on recency, frequency and money spent, grouped into named segments
    (Champions, Loyal, At risk, …) with their size and revenue share.

    \b
    Examples:
      bazgasht rfm
      bazgasht rfm --segment "At risk" --export at-risk.csv
      bazgasht rfm --store myshop --format json
    """
    out = output_format(fmt, as_json)
    name = _segment_name(segment)
    if export is not None and name is None:
        raise typer.BadParameter("--export needs --segment NAME (the customers to export)")
    if export is not None:
        check_target(export)
    target = _Target(ctx, store, as_of)
    with open_analysis(
        target.engine, target.store_id, as_of=target.as_of, statuses=target.statuses(statuses)
    ) as analysis:
        summary = rfm_summary(analysis.counted)
        members = rfm_members(analysis.counted, name) if name else None
    info = target.info
    if members is not None and export is not None:
        write_csv(export, *export_csv(members, info, calendar))
        typer.echo(
            f"Wrote {len(members):,} customers of {name!r} to {export}",
            err=out is not Format.TABLE,
        )
        if out is Format.TABLE:
            return
    if out is Format.JSON:
        data = rfm_json(summary, info)
        if members is not None:
            data["members"] = [_member_json(m, info, calendar) for m in members]
        typer.echo(json_text(data))
    elif out is Format.CSV:
        if members is not None:
            print_csv(*export_csv(members, info, calendar))
        else:
            print_csv(*_segments_csv(summary, info))
    elif members is not None:
        _console().print(_members_table(members, info, calendar))
    else:
        _console().print(render_rfm(summary, info))


def render_rfm(summary: RfmSummary, store: StoreInfo) -> RenderableType:
    table = _compact_table(
        f"{store.name}: RFM segments of {summary.customers:,} customers, "
        f"amounts in {store.currency}",
        ["segment", "customers", "share", "revenue", "rev. share", "days since", "orders"],
    )
    for s in summary.segments:
        table.add_row(
            s.name,
            format_number(s.customers),
            format_percent(s.customer_share),
            format_number(s.revenue, 0),
            format_percent(s.revenue_share),
            format_number(s.avg_days_since, 0),
            format_number(s.avg_orders, 1),
        )
    advice = Text("What to do (days since and orders are averages):", style="bold")
    for s in summary.segments:
        advice.append(f"\n  {s.name}: {s.advice}", style="default")
    return Group(table, advice)


def _compact_table(title: str, headers: list[str]) -> Table:
    """A borderless table that fits 80 columns: first column left, the others right."""
    return Table(
        Column(headers[0], no_wrap=True),
        *(Column(h, justify="right", no_wrap=True) for h in headers[1:]),
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )


def _segments_csv(summary: RfmSummary, store: StoreInfo) -> CsvRows:
    header = ["segment", "customers", "customer_share", "revenue", "revenue_share"]
    out: list[list[Cell]] = []
    for s in summary.segments:
        out.append(
            [
                s.name,
                s.customers,
                _csv_cell(rate_json(s.customer_share)),
                money_json(s.revenue, store.decimals),
                _csv_cell(rate_json(s.revenue_share)),
            ]
        )
    return header, out


EXPORT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "segment",
    "r_score",
    "f_score",
    "m_score",
    "days_since_last_order",
    "orders",
    "last_order_date",
    "total_spent",
    "loyalty_balance",
    "identity",
)


def _member_json(member: RfmMember, store: StoreInfo, calendar: Calendar) -> dict[str, Any]:
    return {
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "phone": member.phone,
        "segment": member.segment,
        "r_score": member.r_score,
        "f_score": member.f_score,
        "m_score": member.m_score,
        "days_since_last_order": member.days_since_last_order,
        "orders": member.orders,
        "last_order_date": format_day(member.last_order_at.astimezone(store.zone).date(), calendar),
        "total_spent": money_json(member.total_spent, store.decimals),
        "loyalty_balance": member.loyalty_balance,
        "identity": member.identity,
    }


def export_csv(members: list[RfmMember], store: StoreInfo, calendar: Calendar) -> CsvRows:
    """The campaign file: one row per customer of the segment."""
    rows: list[list[Cell]] = []
    for member in members:
        row = _member_json(member, store, calendar)
        rows.append([_csv_cell(row[c]) for c in EXPORT_COLUMNS])
    return list(EXPORT_COLUMNS), rows


def _members_table(members: list[RfmMember], store: StoreInfo, calendar: Calendar) -> Table:
    shown = members[:50]
    segment = members[0].segment if members else ""
    more = f" (first 50; --export FILE.csv for all {len(members):,})" if len(members) > 50 else ""
    table = Table(
        "customer",
        "e-mail",
        "R",
        "F",
        "M",
        "last order",
        "orders",
        "total spent",
        "points",
        title=f"{segment}: {len(members):,} customers{more}, amounts in {store.currency}",
        title_justify="left",
    )
    for member in shown:
        row = _member_json(member, store, calendar)
        name = f"{member.first_name} {member.last_name}".strip() or member.identity
        table.add_row(
            name,
            member.email or NONE_SHOWN,
            str(member.r_score),
            str(member.f_score),
            str(member.m_score),
            row["last_order_date"],
            str(member.orders),
            _money_text(store, member.total_spent),
            NONE_SHOWN if member.loyalty_balance is None else f"{member.loyalty_balance:,}",
        )
    return table


# --- report ------------------------------------------------------------------------------------


def report(
    ctx: typer.Context,
    store: StoreOpt = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="The HTML file to write.")
    ] = Path("report.html"),
    calendar: Annotated[
        Calendar | None,
        typer.Option(
            "--calendar",
            help="Months of the Gregorian or the Jalali (Persian) calendar "
            "(default: Jalali with --lang fa, else Gregorian).",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    acquisition_spend: Annotated[
        str | None, typer.Option("--acquisition-spend", metavar="AMOUNT", help=ACQUISITION_HELP)
    ] = None,
    retention_spend: Annotated[
        str | None, typer.Option("--retention-spend", metavar="AMOUNT", help=RETENTION_HELP)
    ] = None,
    statuses: StatusesOpt = ",".join(DEFAULT_STATUSES),
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
    lang: Annotated[
        ReportLanguage,
        typer.Option(
            "--lang",
            help="The report's language: en, or fa (Persian: right to left, Persian digits, "
            "Jalali dates).",
        ),
    ] = ReportLanguage.EN,
) -> None:
    """Write an HTML report with charts.

    One self-contained file (charts inside, opens offline, fits a phone): headline
    metrics, monthly trends, cohort heatmap, RFM segments, budget advice, loyalty; in English
    or, with --lang fa, in Persian (right to left, Persian digits, Jalali dates).

    \b
    Examples:
      bazgasht report --output report.html
      bazgasht report --store myshop -o /var/www/private/report.html --format json
      bazgasht report --lang fa -o report-fa.html
    """
    out = output_format(fmt, as_json)
    check_target(output)  # a path mistake is said before the work, not after
    target = _Target(ctx, store, as_of)
    if calendar is None:
        calendar = Calendar.JALALI if lang is ReportLanguage.FA else Calendar.GREGORIAN
    request = MetricsRequest(
        as_of=target.as_of,
        calendar=calendar,
        statuses=target.statuses(statuses),
        acquisition_spend=_money(acquisition_spend, "--acquisition-spend"),
        retention_spend=_money(retention_spend, "--retention-spend"),
        point_value=target.point_value(),
    )
    html = report_html(
        target.engine, target.store_id, datetime.now(UTC), request=request, lang=lang.value
    )
    written = write_atomic(output, html.encode("utf-8"))
    size = written.stat().st_size
    if out is Format.JSON:
        data = {
            "store": target.name,
            "output": str(written),
            "bytes": size,
            "as_of": target.as_of.isoformat(),
        }
        typer.echo(json_text(data))
        return
    typer.echo(f"Wrote {written} ({size // 1024} KiB)")


__all__ = ["cohorts", "export_csv", "headline", "metrics", "report", "rfm", "write_report"]
