"""``bazgasht campaign …``: retention campaigns (thin: parse, call, render).

A campaign gives each customer of an audience a WooCommerce coupon of their own, exactly
once, and can be run again from cron to reach the customers who entered the audience since.
``docs/campaigns.md`` explains the playbooks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from app import program_for
from cli._context import AppContext, app_context, stdout_console
from cli._csv import print_csv
from cli._options import (
    Export,
    ExportFormatOpt,
    Format,
    FormatOpt,
    JsonOpt,
    QuietOpt,
    StoreOpt,
    TableOrJson,
    new_app,
    output_format,
    quiet_logs,
)
from cli._render import Table, clean, json_text
from connector import ConfigError
from connector._client import WooClient
from loyalty.analytics.formatting import (
    Number,
    format_money,
    format_percent,
    points_difference_json,
)
from loyalty.analytics.queries import StoreInfo, store_info
from loyalty.campaigns import (
    TEMPLATES,
    Campaign,
    CampaignSpec,
    Preview,
    campaign_results,
    create_campaign,
    export_rows,
    get_campaign,
    list_campaigns,
    parse_audience,
    preview,
    run_campaign,
    set_status,
)
from loyalty.campaigns.export import COLUMNS
from loyalty.settings import Program

app = new_app(
    "Retention campaigns: one coupon per customer of an audience.\n\n"
    "The audience is an RFM segment, a first-order follow-up, the inactive, or members with "
    "points expiring; each customer gets a coupon of their own, exactly once, exported for "
    "your e-mail or SMS sender and measured afterwards. See docs/campaigns.md."
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The campaign's name.")]


@app.callback()
def campaign(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option("--now", hidden=True, help="Pretend it is this instant (ISO, for tests)."),
    ] = None,
) -> None:
    """Retention campaigns."""
    ctx.meta["campaign_now"] = _parse_instant(now) if now else None


def _now(ctx: typer.Context) -> datetime:
    found = ctx.meta.get("campaign_now")
    return found if isinstance(found, datetime) else datetime.now(UTC)


def _parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--now: {text!r} is not a date") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ConfigError(f"{option}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ConfigError(f"{option}: {text!r} is not a number")
    return value


def _percent(text: str, option: str) -> Decimal:
    return _decimal(re.sub(r"\s*%\s*$", "", text), option)


def _store(context: AppContext, name: str | None) -> tuple[str, int]:
    store = context.pick_stores([name] if name else None, False)[0]
    return store, context.store_id(store)


def _program(context: AppContext, store: str, audience: str, now: datetime) -> Program | None:
    """The loyalty program, when the audience needs it (points-expiring)."""
    if parse_audience(audience).kind != "points-expiring":
        return None
    return program_for(context, store, now, create=False)


def _client(context: AppContext, name: str) -> WooClient:
    return WooClient(context.store(name).credentials(name, context.environ))


def _echo_json(data: Any) -> None:
    typer.echo(json_text(data))


def _store_info(context: AppContext, store_id: int) -> StoreInfo:
    with context.engine().connect() as conn:
        return store_info(conn, store_id)


def print_preview(name: str, found: Preview, info: StoreInfo) -> None:
    """What a dry run shows: audience, who would get a coupon, the most it can cost."""
    typer.echo(
        f"{name} (dry run): audience of {found.audience}; {found.would_get_coupon} would "
        f"get a coupon, {found.holdout} held out, {found.no_email} without an e-mail, "
        f"{found.already_members} already members."
    )
    if found.max_cost is not None:
        typer.echo(
            f"Most it can cost: {format_money(found.max_cost, info.currency, info.decimals)}"
        )
    else:
        typer.echo(
            "Most it can cost: no fixed cap (a percentage); at each customer's average "
            f"order: {format_money(found.estimated_cost, info.currency, info.decimals)}"
        )
    for email in found.sample:
        typer.echo(f"  {clean(email)}")


def _offer(c: Campaign, info: StoreInfo) -> str:
    if c.discount_type == "percent":
        return f"{c.amount.normalize():f}%"
    return format_money(c.amount, info.currency, info.decimals)


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOpt = None,
    audience: Annotated[
        str,
        typer.Option(
            metavar="AUDIENCE",
            help="segment:at_risk (any RFM segment), first-order-followup[:7-30d], "
            "inactive:90d or points-expiring:30d.",
        ),
    ] = "",
    discount: Annotated[
        str | None, typer.Option(metavar="PERCENT", help="A percentage off the cart, e.g. 15%.")
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option(
            metavar="AMOUNT", help="A fixed amount off the cart, in the store's currency."
        ),
    ] = None,
    valid_days: Annotated[
        int, typer.Option(metavar="DAYS", help="Days each coupon stays valid.")
    ] = 30,
    min_spend: Annotated[
        str | None, typer.Option(metavar="AMOUNT", help="Minimum cart total for the coupon.")
    ] = None,
    holdout: Annotated[
        str,
        typer.Option(
            metavar="PERCENT", help="Share of the audience kept as a control group, e.g. 10%."
        ),
    ] = "0%",
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the audience and the cost; create nothing."),
    ] = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Create a campaign and give its audience their coupons.

    Each customer of the audience gets a coupon of their own, once. Try it with --dry-run
    first: it shows the audience and the cost and creates nothing.

    \b
    Examples:
      bazgasht campaign create winback --audience segment:at_risk \\
          --discount 15% --holdout 10% --dry-run
      bazgasht campaign create welcome-back --audience inactive:90d --amount 5
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    if not audience:
        raise ConfigError("--audience is required (e.g. --audience segment:at_risk)")
    if (discount is None) == (amount is None):
        raise ConfigError("give exactly one of --discount 15% or --amount X")
    held = _percent(holdout, "--holdout")
    if held != held.to_integral_value():
        raise ConfigError("--holdout must be a whole percentage")
    spec = CampaignSpec(
        name=name,
        audience=audience,
        discount_type="percent" if discount is not None else "fixed_cart",
        amount=_percent(discount, "--discount")
        if discount is not None
        else _decimal(amount or "", "--amount"),
        valid_days=valid_days,
        min_spend=None if min_spend is None else _decimal(min_spend, "--min-spend"),
        holdout_percent=int(held),
    )
    spec.check()
    context = app_context(ctx)
    now = _now(ctx)
    store_name, store_id = _store(context, store)
    program = _program(context, store_name, audience, now)
    engine = context.engine()
    if dry_run:
        found = preview(engine, store_id, spec, now, program=program)
        info = _store_info(context, store_id)
        if as_json:
            _echo_json({"campaign": name, "dry_run": True, **found.as_dict()})
            return
        print_preview(name, found, info)
        return
    create_campaign(engine, store_id, spec, now)
    _run(context, store_name, store_id, name, now, program, as_json)


def _run(
    context: AppContext,
    store_name: str,
    store_id: int,
    name: str,
    now: datetime,
    program: Program | None,
    as_json: bool,
    quiet: bool = False,
) -> None:
    with _client(context, store_name) as client:
        result = run_campaign(context.engine(), client, store_id, name, now, program=program)
    if as_json:
        _echo_json(result.as_dict())
    else:
        if not quiet:
            typer.echo(result.one_line())
        for problem in result.problems:
            typer.echo(clean(f"warning: {problem}"), err=True)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Run a campaign again: coupons for newcomers only.

    Safe from cron: customers who already got a coupon from the campaign never get a
    second; coupons an earlier run left pending are finished.

    \b
    Examples:
      bazgasht campaign run winback
      bazgasht campaign run winback --store myshop --quiet   (cron: 0 9 * * *)
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context = app_context(ctx)
    now = _now(ctx)
    store_name, store_id = _store(context, store)
    found = get_campaign(context.engine(), store_id, name)
    program = _program(context, store_name, found.audience, now)
    if quiet:
        quiet_logs(ctx)
    _run(context, store_name, store_id, name, now, program, as_json, quiet)


def _set(ctx: typer.Context, name: str, store: str | None, status: str, as_json: bool) -> None:
    context = app_context(ctx)
    _, store_id = _store(context, store)
    done = set_status(context.engine(), store_id, name, status)
    if as_json:
        _echo_json({"campaign": done.name, "status": done.status})
        return
    typer.echo(clean(f"{done.name}: {done.status}"))


@app.command("pause")
def pause_cmd(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Stop enrolling new customers.

    Coupons already made stay valid; coupons a run left pending are still finished.

    \b
    Examples:
      bazgasht campaign pause winback
      bazgasht campaign pause winback --store myshop
    """
    _set(ctx, name, store, "paused", output_format(fmt, as_json) is Format.JSON)


@app.command("resume")
def resume_cmd(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Enroll new customers again from the next run.

    \b
    Examples:
      bazgasht campaign resume winback
      bazgasht campaign resume winback && bazgasht campaign run winback
    """
    _set(ctx, name, store, "active", output_format(fmt, as_json) is Format.JSON)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """The store's campaigns, their offers and status.

    \b
    Examples:
      bazgasht campaign list
      bazgasht campaign list --store myshop --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context = app_context(ctx)
    _, store_id = _store(context, store)
    found = list_campaigns(context.engine(), store_id)
    if as_json:
        _echo_json({"campaigns": [c.as_dict() for c in found]})
        return
    if not found:
        typer.echo("No campaigns yet.")
        return
    info = _store_info(context, store_id)
    table = Table("name", "audience", "offer", "days", "hold-out", "status", "last run")
    for c in found:
        last = (
            c.last_run_at.astimezone(info.zone).strftime("%Y-%m-%d %H:%M") if c.last_run_at else "—"
        )
        table.add_row(
            c.name,
            c.audience,
            _offer(c, info),
            str(c.valid_days),
            f"{c.holdout_percent}%",
            c.status,
            last,
        )
    stdout_console().print(table)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOpt = None,
    fmt: ExportFormatOpt = Export.CSV,
    as_json: JsonOpt = False,
    message: Annotated[
        str | None,
        typer.Option(
            metavar="TEMPLATE",
            help="Message template: {first_name} {code} {amount} {expires} …",
        ),
    ] = None,
    language: Annotated[
        str,
        typer.Option(
            "--template", metavar="LANG", help="Shipped template when no --message: en or fa."
        ),
    ] = "en",
) -> None:
    """The campaign's coupons with a message, for your sender.

    One row per issued coupon with a rendered message, for your e-mail or SMS tool.

    \b
    Examples:
      bazgasht campaign export winback > winback.csv
      bazgasht campaign export winback --template fa --format json
    """
    out = output_format(fmt, as_json)
    if language not in TEMPLATES:
        raise ConfigError(f"--template must be one of {', '.join(TEMPLATES)}")
    context = app_context(ctx)
    _, store_id = _store(context, store)
    found = get_campaign(context.engine(), store_id, name)
    rows = export_rows(context.engine(), found, message or TEMPLATES[language], language)
    if out is Format.JSON:
        _echo_json({"campaign": name, "rows": [r.as_dict() for r in rows]})
        return
    print_csv(COLUMNS, ([row.as_dict()[c] for c in COLUMNS] for row in rows))


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """What the campaign brought back.

    Coupons used, revenue, discount, cost per returning customer, and the return rate
    against the hold-out group.

    \b
    Examples:
      bazgasht campaign report winback
      bazgasht campaign report winback --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context = app_context(ctx)
    now = _now(ctx)
    _, store_id = _store(context, store)
    found = get_campaign(context.engine(), store_id, name)
    results = campaign_results(context.engine(), found, now)
    info = _store_info(context, store_id)
    if as_json:
        _echo_json(results.as_dict(info.decimals))
        return

    def money(value: Number | None) -> str:
        return format_money(value, info.currency, info.decimals)

    table = Table("", name)
    table.add_row("coupons issued", str(results.issued))
    table.add_row("coupons used", str(results.used))
    table.add_row("conversion", format_percent(results.conversion))
    table.add_row("revenue of those orders", money(results.revenue))
    table.add_row("discount given", money(results.discount))
    table.add_row("cost per returning customer", money(results.cost_per_returning_customer))
    table.add_row("receivers who came back", format_percent(results.receivers_return_rate))
    if results.holdout:
        table.add_row(
            f"hold-out who came back ({results.holdout})",
            format_percent(results.holdout_return_rate),
        )
        table.add_row(
            "difference",
            "—" if results.lift is None else f"{points_difference_json(results.lift, 0):+.1f} pp",
        )
    stdout_console().print(table)
