"""``bazgasht loyalty …``: the loyalty program's commands (thin: parse, call, render).

The settings are kept in the database (``bazgasht loyalty settings``, ``cli/settings.py``);
the config file's ``[stores.NAME.loyalty]`` only starts a new program.
``docs/loyalty.md`` explains the program to a shop owner.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console

from app import (
    customer_balance,
    customer_history,
    expiring_points,
    grant_points,
    ignored_config,
    orders_before_program,
    program_of,
    program_summary,
    reconcile_store,
    redeem_points,
    store_program,
    store_redemptions,
    top_balances,
    verify_store,
)
from cli import settings as settings_cmd
from cli._context import AppContext, app_context, stdout_console
from cli._csv import print_csv
from cli._options import (
    EXIT_PENDING,
    EXIT_TAMPERED,
    AllOpt,
    Format,
    FormatOpt,
    JsonOpt,
    QuietOpt,
    Rows,
    RowsFormatOpt,
    StoreOpt,
    StoresOpt,
    TableOrJson,
    new_app,
    output_format,
    quiet_logs,
)
from cli._render import Table, clean, esc, json_text
from connector import ConfigError, money_json, money_text
from loyalty import DemoTour, Program, ProgramRun, Redemption
from loyalty.program import PastOrders

app = new_app(
    "The loyalty program: points, balances, reward coupons.\n\n"
    "Customers earn points for signing up, for their second purchase and as cashback, and "
    "redeem them as coupons in your store.\n\nSettings: kept in the database, the same on every "
    "host (`bazgasht loyalty settings`; docs/loyalty.md)."
)
app.add_typer(settings_cmd.app, name="settings")

CustomerArg = Annotated[
    str,
    typer.Argument(
        metavar="CUSTOMER", help="The customer: an e-mail address or a WooCommerce customer id."
    ),
]


@app.callback()
def loyalty(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option("--now", hidden=True, help="Pretend it is this instant (ISO, for tests)."),
    ] = None,
) -> None:
    """The loyalty program."""
    ctx.meta["loyalty_now"] = _parse_instant(now, "--now") if now else None


def _now(ctx: typer.Context) -> datetime:
    found = ctx.meta.get("loyalty_now")
    return found if isinstance(found, datetime) else datetime.now(UTC)


def _parse_instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{option}: {text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_within(text: str) -> timedelta:
    found = re.fullmatch(r"\s*(\d+)\s*([dwh]?)\s*", text.lower())
    if not found or int(found.group(1)) == 0:
        raise ConfigError(f"--within: {text!r} is not a duration; use e.g. 30d, 2w or 12h")
    unit = {"": "days", "d": "days", "w": "weeks", "h": "hours"}[found.group(2)]
    return timedelta(**{unit: int(found.group(1))})


def _points(text: str) -> int:
    try:
        return int(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        raise ConfigError(f"points must be a whole number, not {text!r}") from None


def _store(context: AppContext, name: str | None) -> str:
    return context.pick_stores([name] if name else None, False)[0]


def _open(ctx: typer.Context, store: str | None) -> tuple[AppContext, str, Program, datetime]:
    """What a one-store command starts with: the context, the store, its program, the clock."""
    context = app_context(ctx)
    now = _now(ctx)
    name = _store(context, store)
    return context, name, _program(context, name, now), now


def _program(context: AppContext, name: str, now: datetime) -> Program:
    return store_program(context, name, now)


def _echo_json(data: Any) -> None:
    typer.echo(json_text(data))


def _money(amount: Decimal, program: Program) -> str:
    return money_text(amount, program.decimals)


def _when(value: datetime | None, program: Program) -> str:
    return value.astimezone(program.tz).strftime("%Y-%m-%d %H:%M") if value else "—"


# --------------------------------------------------------------------------- commands


@app.command("reconcile")
def reconcile_cmd(
    ctx: typer.Context,
    stores: StoresOpt = None,
    all_stores: AllOpt = False,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Also recompute the customers with orders created or modified since this "
            "date (UTC), e.g. after restoring a backup.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute every customer, not only what changed.")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Do not contact the store (pending redemptions and expired coupons wait).",
        ),
    ] = False,
    quiet: QuietOpt = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Bring the ledger in line with the orders now.

    Appends only the differences. `sync` does this at the end of every run (and `loyalty
    settings set` after a change of the settings). Also finishes redemptions that a crash
    or an unreachable store left pending.

    \b
    Examples:
      bazgasht loyalty reconcile
      bazgasht loyalty reconcile --store myshop --since 2026-01-01
      bazgasht loyalty reconcile --all --full --quiet
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    if quiet:
        quiet_logs(ctx)
    context = app_context(ctx)
    now = _now(ctx)
    names = context.pick_stores(stores, all_stores)
    since_at = _parse_instant(since, "--since") if since else None
    results = []
    for name in names:
        program = _program(context, name, now)
        run = reconcile_store(context, program, now, full=full, since=since_at, offline=offline)
        results.append(run)
        if not as_json and not quiet:
            typer.echo(clean(run.one_line()))
            for line in finished_lines(name, run.finished):
                typer.echo(line)
            for line in settings_cmd.ignored_lines(name, ignored_config(context, name)):
                typer.echo(line, err=True)
        for problem in run.problems:
            if not as_json:
                typer.echo(clean(f"warning: {name}: {problem}"), err=True)
    if as_json:
        _echo_json({"stores": [r.as_dict() for r in results]})


@app.command(
    "redeem", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True}
)
def redeem_cmd(
    ctx: typer.Context,
    customer: CustomerArg,
    points: Annotated[
        str, typer.Argument(metavar="POINTS", help="How many points to turn into a coupon.")
    ],
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Turn a customer's points into a coupon in your store.

    The coupon (fixed cart discount worth points × point_value, once, for the customer's
    e-mail) is created on the store; the points are debited first, so a crash never gives a
    coupon without its debit and the next run finishes the job.

    \b
    Examples:
      bazgasht loyalty redeem sofia@example.com 500
      bazgasht loyalty redeem 42 1000 --store myshop --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, name, program, now = _open(ctx, store)
    done = redeem_points(context, program, customer, _points(points), now)
    earlier, r = done.finished, done.redemption
    if not as_json:
        for line in finished_lines(name, earlier):
            typer.echo(line)
    if as_json:
        _echo_json(r.as_dict(program.decimals))
    elif r.status == "issued":
        typer.echo(
            clean(
                f"Coupon {r.code} for {r.email}: {_money(r.amount, program)} "
                f"{program.currency} off, once, until "
                f"{_when(r.expires_at, program)} ({r.points} points redeemed)."
            )
        )
    elif r.status == "pending":
        typer.echo(
            clean(
                f"Pending: {r.points} points were debited, but the coupon {r.code} is not on "
                f"the store yet ({r.last_error}). Do not redeem again and do not send the "
                f"code yet: the next `bazgasht sync` (or `bazgasht loyalty reconcile --store "
                f"{name}`) creates this same coupon and says so; "
                "`bazgasht loyalty coupons --status pending` lists what is waiting."
            ),
            err=True,
        )
    else:
        typer.echo(
            clean(f"The store refused the coupon; the points were given back: {r.last_error}"),
            err=True,
        )
    if r.status == "released":
        raise typer.Exit(1)
    if r.status == "pending":  # not done: a script must not send a code the store lacks
        raise typer.Exit(EXIT_PENDING)


@app.command("coupons")
def coupons_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    status: Annotated[
        str | None,
        typer.Option(
            metavar="STATE", help="Only this state: pending, issued, used, expired, released."
        ),
    ] = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """The redemptions and the state of their coupons.

    \b
    Examples:
      bazgasht loyalty coupons
      bazgasht loyalty coupons --status pending --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, name, program, _clock = _open(ctx, store)
    found = store_redemptions(context, program, status)
    if as_json:
        _echo_json({"store": name, "redemptions": [r.as_dict(program.decimals) for r in found]})
        return
    if not found:
        typer.echo("No redemptions yet.")
        return
    table = Table("id", "customer", "points", "amount", "code", "state", "expires", "note")
    for r in found:
        note = f"order {r.used_order_id}" if r.used_order_id else (r.last_error or "")[:60]
        table.add_row(
            str(r.id), r.email, str(r.points), _money(r.amount, program), r.code, r.status,
            _when(r.expires_at, program), note,
        )  # fmt: skip
    stdout_console().print(table)


@app.command("balance")
def balance_cmd(
    ctx: typer.Context,
    customer: CustomerArg,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """A customer's points.

    Available, pending, lifetime earned, granted, redeemed, expired, and the next expiry.

    \b
    Examples:
      bazgasht loyalty balance sofia@example.com
      bazgasht loyalty balance 42 --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, _name, program, now = _open(ctx, store)
    identity, report = customer_balance(context, program, customer, now)
    if as_json:
        _echo_json(report.as_dict())
        return
    table = Table(show_header=False, title=f"{report.name or report.email or identity}")
    rows = [
        ("customer", f"{identity}  {report.email}"),
        ("available", f"{report.available} points = {report.value} {program.currency}"),
        ("pending", f"{report.pending} (cashback inside the {program.pending_days}-day window)"),
        ("balance", str(report.balance)),
        ("lifetime earned", str(report.earned)),
        ("granted by hand", str(report.granted)),
        ("redeemed", str(report.redeemed)),
        ("expired", str(report.expired)),
        (
            "next expiry",
            f"{report.next_expiry_points} points on {_when(report.next_expiry, program)}"
            if report.next_expiry
            else "—",
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    stdout_console().print(table)
    if report.balance < 0:
        typer.echo(
            "The balance is negative (cashback was spent, then its order refunded): "
            "no redemption until new points bring it above zero.",
            err=True,
        )


@app.command("history")
def history_cmd(
    ctx: typer.Context,
    customer: CustomerArg,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Every ledger entry of a customer.

    Includes the entries of the guest e-mail that became the customer.

    \b
    Examples:
      bazgasht loyalty history 42
      bazgasht loyalty history sofia@example.com --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, _name, program, _clock = _open(ctx, store)
    identity, entries = customer_history(context, program, customer)
    if as_json:
        _echo_json(
            {
                "identity": identity,
                "entries": [
                    {
                        "id": e.id,
                        "identity": e.identity,
                        "points": e.points,
                        "kind": e.kind,
                        "key": e.key,
                        "reason": e.reason,
                        "order_id": e.order_id,
                        "coupon_code": e.coupon_code,
                        "effective_at": e.effective_at.isoformat(),
                        "created_at": e.created_at.isoformat(),
                    }
                    for e in entries
                ],
            }
        )
        return
    if not entries:
        typer.echo(clean(f"{identity} has no ledger entries."))
        return
    table = Table("when", "points", "running", "kind", "reason", title=identity)
    running = 0
    for e in entries:
        running += e.points if e.identity == identity or e.kind != "transfer" else 0
        who = "" if e.identity == identity else f" [{e.identity}]"
        table.add_row(
            _when(e.effective_at, program), f"{e.points:+d}", str(running), e.kind,
            e.reason + who,
        )  # fmt: skip
    stdout_console().print(table)


@app.command(
    "grant", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True}
)
def grant_cmd(
    ctx: typer.Context,
    customer: CustomerArg,
    points: Annotated[
        str,
        typer.Argument(metavar="POINTS", help="Points to credit; negative to debit (e.g. -50)."),
    ],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why (kept in the ledger).")
    ] = "",
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Credit or debit points by hand, with a reason.

    The ledger keeps the reason with the entry.

    \b
    Examples:
      bazgasht loyalty grant 42 250 --reason "apology for the late parcel"
      bazgasht loyalty grant sofia@example.com -100 --reason "duplicate account"
    """
    context, _name, program, now = _open(ctx, store)
    granted = grant_points(context, program, customer, _points(points), reason, now)
    identity, entry, report = granted.identity, granted.entry, granted.balance
    if output_format(fmt, as_json) is Format.JSON:
        _echo_json(
            {
                "identity": identity,
                "points": entry.points,
                "kind": entry.kind,
                "reason": entry.reason,
                "entry_id": entry.id,
                "balance": report.balance,
            }
        )
        return
    typer.echo(
        clean(
            f"{'Credited' if entry.points > 0 else 'Debited'} {abs(entry.points)} points "
            f"{'to' if entry.points > 0 else 'from'} {identity}; balance now {report.balance}."
        )
    )


@app.command("top")
def top_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, max=10_000, help="How many customers.")
    ] = 20,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """The customers with the most points.

    \b
    Examples:
      bazgasht loyalty top
      bazgasht loyalty top --limit 50 --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, name, program, _clock = _open(ctx, store)
    rows = top_balances(context, program, limit)
    past = orders_before_program(context, program)
    if as_json:
        _echo_json(
            {
                "store": name,
                "top": [
                    {
                        "identity": r.identity,
                        "email": r.email,
                        "name": r.name,
                        "points": r.balance,
                        "value": money_json(r.value, program.decimals),
                    }
                    for r in rows
                ],
                "program": _start_json(program, past),
            }
        )
        return
    table = Table("#", "customer", "e-mail", "name", "points", f"value ({program.currency})")
    for i, r in enumerate(rows, 1):
        table.add_row(str(i), r.identity, r.email, r.name, str(r.balance), str(r.value))
    stdout_console().print(table)
    if past.orders or not rows:  # say why the program looks empty
        for line in start_lines(context, name, program, past):
            typer.echo(line)


@app.command("expiring")
def expiring_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    within: Annotated[
        str, typer.Option("--within", metavar="DURATION", help="The window: 30d, 2w, 12h.")
    ] = "30d",
    fmt: RowsFormatOpt = Rows.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Customers whose points expire soon.

    A segment to remind by e-mail or SMS: the CSV is ready for your sender.

    \b
    Examples:
      bazgasht loyalty expiring
      bazgasht loyalty expiring --within 30d --format csv > expiring.csv
    """
    output = output_format(fmt, as_json).value
    context, name, program, now = _open(ctx, store)
    window = _parse_within(within)
    rows = expiring_points(context, program, now, window)
    if output == "json":
        _echo_json(
            {"store": name, "within_days": window.days, "customers": [r.as_dict() for r in rows]}
        )
        return
    if output == "csv":
        print_csv(
            ["email", "name", "identity", "points_expiring", "first_expiry", "balance"],
            ([r.email, r.name, r.identity, r.points, r.first_expiry.isoformat(), r.balance]
             for r in rows),
        )  # fmt: skip
        return
    if not rows:
        typer.echo(f"No points expire in the next {within}.")
        return
    table = Table("customer", "e-mail", "points expiring", "from", "balance")
    for r in rows:
        table.add_row(
            r.identity, r.email, str(r.points), _when(r.first_expiry, program), str(r.balance)
        )
    stdout_console().print(table)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Audit the ledger: recompute balances, check its hash chain.

    Lists each difference between the rules and the ledger (exit code 1 if there is any)
    and every entry changed, deleted or inserted outside Bazgasht (exit code 4: tampering);
    docs/loyalty.md says how to read them.

    \b
    Examples:
      bazgasht loyalty verify
      bazgasht loyalty verify --store myshop --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, name, program, now = _open(ctx, store)
    report = verify_store(context, program, now)
    if as_json:
        _echo_json(report.as_dict())
    else:
        console = stdout_console()
        if report.tampering:
            table = Table("kind", "entries", "position", "what was done", title="TAMPERING")
            for t in report.tampering:
                table.add_row(
                    t.kind,
                    ", ".join(str(i) for i in t.entry_ids),
                    "" if t.position is None else str(t.position),
                    t.detail,
                )
            console.print(table)
            console.print(
                f"[red]The ledger of {esc(name)} was changed outside Bazgasht[/] "
                f"({len(report.tampering)} findings): entries were edited, deleted or "
                "inserted by hand. Do not reconcile over it: restore the database from a "
                "backup, or find out who changed it."
            )
        if report.differences:
            table = Table("kind", "key", "identity", "ledger", "rules", "what differs")
            for d in report.differences:
                table.add_row(d.kind, d.key, d.identity, str(d.recorded), str(d.expected), d.detail)
            console.print(table)
            console.print(
                f"[red]{len(report.differences)} differences[/]. A difference in a rule's key "
                "is fixed by `bazgasht loyalty reconcile`; a sequence or redemption "
                "difference means the ledger was changed outside Bazgasht."
            )
        if report.ok:
            console.print(
                f"[green]ok[/]: {esc(name)}: {report.entries} entries agree with the rules "
                f"for {report.identities} customers and form an unbroken chain; "
                f"{report.outstanding} points outstanding."
            )
    if report.tampered:
        raise typer.Exit(EXIT_TAMPERED)
    if not report.ok:
        raise typer.Exit(1)


@app.command("summary")
def summary_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """The program in numbers.

    Members, points issued, redeemed, expired and outstanding, and the liability in your
    currency.

    \b
    Examples:
      bazgasht loyalty summary
      bazgasht loyalty summary --store myshop --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    context, name, program, now = _open(ctx, store)
    s = program_summary(context, program, now)
    past = orders_before_program(context, program)
    if as_json:
        _echo_json({**s.as_dict(), "program": _start_json(program, past)})
        return
    table = Table(show_header=False, title=f"Loyalty program of {name}")
    rows = [
        ("members", str(s.members)),
        ("points issued", str(s.issued)),
        ("points redeemed", str(s.redeemed)),
        ("points expired", str(s.expired)),
        ("points outstanding", str(s.outstanding)),
        ("of which pending", str(s.pending)),
        ("negative balances", str(s.negative)),
        ("liability", f"{s.liability} {s.currency} (1 point = {s.point_value})"),
        ("redemptions", ", ".join(f"{k} {v}" for k, v in s.redemptions.items()) or "none"),
        ("program started", f"{_when(program.starts_at, program)} ({program.timezone})"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    stdout_console().print(table)
    for line in start_lines(context, name, program, past):
        typer.echo(line)


# --------------------------------------------------------------------------- what runs say


def start_lines(context: AppContext, name: str, program: Program, past: PastOrders) -> list[str]:
    """When the program started, and how to credit the orders before it: a real store's
    program starts at its first sync, so without these words it looks empty, not new."""
    when = f"{_when(program.starts_at, program)} ({program.timezone})"
    if program.sources.get("starts_at") == "program start":
        head = f"The loyalty program of {name} started {when}, when Bazgasht first ran it"
    else:
        head = f"The loyalty program of {name} credits orders from {when} (starts_at)"
    if not past.orders or past.first is None:
        return [clean(head + ".")]
    first = past.first.astimezone(program.tz).date().isoformat()
    return [
        clean(f"{head}: {past.orders:,} earlier orders earn no points."),
        clean(
            f"To credit them: `bazgasht loyalty settings set starts_at {first} --store {name}` "
            "(it shows what that credits before it applies)."
        ),
    ]


def _start_json(program: Program, past: PastOrders) -> dict[str, Any]:
    return {
        "starts_at": program.starts_at.isoformat(),
        "starts_at_from": program.sources.get("starts_at", "default"),
        "orders_before_start": past.orders,
        "first_order_before_start": past.first.isoformat() if past.first else None,
    }


def finished_lines(name: str, finished: list[Redemption]) -> list[str]:
    """What became of redemptions that were pending: the owner was told a run would say."""
    lines = []
    for r in finished:
        if r.status == "issued":
            lines.append(
                f"{name}: the pending coupon {r.code} for {r.email} ({r.points} points, "
                f"redemption {r.id}) is now on the store; it can be sent."
            )
        elif r.status == "released":
            lines.append(
                f"{name}: the store refused the pending coupon {r.code} for {r.email}; its "
                f"{r.points} points were given back ({r.last_error})."
            )
    return [clean(line) for line in lines]


def run_notes(context: AppContext, name: str, run: ProgramRun) -> list[str]:
    """What a sync or reconcile run tells the owner beyond its one line: redemptions it
    finished, on a store's first sync when the program started, and whether the config
    file's loyalty settings say otherwise than the stored ones (they are ignored)."""
    lines = finished_lines(name, run.finished)
    lines += settings_cmd.ignored_lines(name, ignored_config(context, name))
    if run.started_at is not None:
        program = program_of(context, name, run.started_at)
        lines += start_lines(context, name, program, orders_before_program(context, program))
    return lines


# --------------------------------------------------------------------------- the demo


def print_demo_tour(console: Console, tour: DemoTour, appended: int | None = None) -> None:
    """The loyalty part of ``bazgasht demo``; ``appended``: entries an earlier run (the
    sync's) wrote, when the tour's own reconciliation found the ledger already up to date."""
    program = tour.program
    run = tour.run.reconcile
    console.print(
        f"Loyalty: {appended if appended is not None else run.appended} ledger entries from "
        "the store's history "
        f"(cashback {program.cashback_percent}%, welcome "
        f"{program.welcome_points}, second purchase {program.second_purchase_points})."
    )
    table = Table(
        "customer", "e-mail", "points", f"value ({program.currency})", title="Top balances"
    )
    for row in tour.top:
        table.add_row(row.identity, row.email, str(row.balance), str(row.value))
    console.print(table)
    r = tour.redemption
    if r is not None and tour.customer is not None and tour.after is not None:
        console.print(
            f"Redeemed {r.points} of {tour.customer.available} points of {esc(r.email)}: coupon "
            f"[bold]{esc(r.code)}[/] ({_money(r.amount, program)} {esc(program.currency)}, "
            f"{r.status}) "
            "created on the "
            f"store; balance now {tour.after.balance}."
        )
    elif tour.error:
        console.print(f"No redemption: {esc(tour.error)}")


__all__ = ["app", "finished_lines", "print_demo_tour", "run_notes", "start_lines"]
