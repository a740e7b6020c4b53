"""``bazgasht loyalty settings [set KEY VALUE | import]``: the program's settings, stored in
the database, and their changes — each shown with its effect on the ledger before it is
applied (thin: parse, call ``app``, render)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from app import (
    AppliedChange,
    SettingsChange,
    SettingsView,
    apply_change,
    plan_change,
    plan_import,
    settings_view,
)
from cli._context import AppContext, app_context, stdout_console
from cli._options import Format, FormatOpt, JsonOpt, StoreOpt, TableOrJson, new_app, output_format
from cli._render import Table, clean, esc, json_text
from connector import ConfigError


class _SettingsGroup(TyperGroup):
    """``loyalty settings`` shows; ``set`` and ``import`` change. A word that is neither is
    most likely a setting: say how to change it."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            raise typer.BadParameter(
                f"{args[0]!r} is not a sub-command of `loyalty settings`; to change a setting "
                f"write `bazgasht loyalty settings set {args[0]} VALUE`.",
                ctx=ctx,
            )
        return super().resolve_command(ctx, args)


app = new_app(
    None, cls=_SettingsGroup, invoke_without_command=True, no_args_is_help=False,
    subcommand_metavar="[set KEY VALUE | import]",
)  # fmt: skip

YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Apply without asking (after the preview).")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Only show what it would do; change nothing.")
]


def _now(ctx: typer.Context) -> datetime:
    found = ctx.meta.get("loyalty_now")  # the loyalty group's hidden --now
    return found if isinstance(found, datetime) else datetime.now(UTC)


def _store(context: AppContext, name: str | None) -> str:
    return context.pick_stores([name] if name else None, False)[0]


@app.callback()
def settings(
    ctx: typer.Context,
    store: StoreOpt = None,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """The program's settings, where each comes from, their history.

    The settings are kept in the database, the same for every host that runs Bazgasht on
    it; the config file's [stores.NAME.loyalty] only starts a new program. Change them with
    `loyalty settings set`, or import the config file's with `loyalty settings import`:
    both show what the change would do to customers' points before they apply it.

    \b
    Examples:
      bazgasht loyalty settings
      bazgasht loyalty settings --store myshop --format json
      bazgasht loyalty settings set expiry_months 12
      bazgasht loyalty settings import --store myshop
    """
    if ctx.invoked_subcommand is not None:
        return
    context = app_context(ctx)
    name = _store(context, store)
    view = settings_view(context, name, _now(ctx))
    if output_format(fmt, as_json) is Format.JSON:
        typer.echo(json_text(view.as_dict()))
        return
    _print_view(view)


def _print_view(view: SettingsView) -> None:
    program, name = view.program, view.store
    console = stdout_console()
    table = Table("setting", "value", "from", "changed", title=f"Loyalty program of {name}")
    for setting, value, source in program.as_table():
        last = view.changed(setting)
        when = (
            ""
            if last is None
            else f"v{last.version} {last.changed_at:%Y-%m-%d} {last.changed_by} ({last.source})"
        )
        table.add_row(setting, value, source, when)
    console.print(table)
    currency = esc(program.currency or "?")  # as the store told it
    console.print(
        f"Currency {currency} with {program.decimals} decimals: "
        f"1 point = {program.point_value} {currency}; "
        f"{program.min_redeem_points} points = "
        f"{program.amount_of(program.min_redeem_points)} {currency}."
    )
    if view.versions:
        history = Table("version", "when (UTC)", "by", "how", "changed", title="History")
        for v in view.versions:
            changed = ", ".join(
                f"{k}: {_shown(a)} → {_shown(b)}" for k, (a, b) in v.changes.items()
            )
            history.add_row(
                str(v.version), f"{v.changed_at:%Y-%m-%d %H:%M}", v.changed_by, v.source,
                changed or "(defaults)",
            )  # fmt: skip
        console.print(history)
    elif view.not_imported is None:
        typer.echo(
            f"Not stored yet: the first sync of {name} starts the program with these settings."
        )
    if view.not_imported:
        typer.echo(clean(f"warning: {view.not_imported}"), err=True)
    for line in ignored_lines(name, view.ignored):
        typer.echo(line, err=True)


def ignored_lines(name: str, ignored: dict[str, list[Any]]) -> list[str]:
    """The warning that the config file's loyalty settings are ignored, with the way out."""
    if not ignored:
        return []
    if "*" in ignored:
        what = "its loyalty table is not valid"
    else:
        what = ", ".join(
            f"{k} = {_shown(c)} (in force: {_shown(d)})" for k, (c, d) in ignored.items()
        )
    return [
        clean(
            f"note: {name}: the config file's [stores.{name}.loyalty] is ignored — the "
            f"program's settings are kept in the database — and says otherwise: {what}. "
            f"To use the file's values: `bazgasht loyalty settings import --store {name}` "
            "(shows the effect first); or remove them from the file."
        )
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "default"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- changes


@app.command("set", context_settings={"ignore_unknown_options": True})
def set_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The setting, e.g. expiry_months.")],
    value: Annotated[
        str,
        typer.Argument(
            metavar="VALUE",
            help="Its new value; `default` to go back to the default, `none` for no expiry, "
            "statuses separated by commas.",
        ),
    ],
    store: StoreOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Change a setting, after a preview of what it does to points.

    The preview: points added and taken back (expired), customers touched, balances that
    would go below zero, outstanding points and liability before → after. It applies with
    --yes, or when you answer yes on a terminal; then the ledger is reconciled at once.
    Without a terminal and without --yes nothing changes (exit code 2).

    \b
    Examples:
      bazgasht loyalty settings set expiry_months 12
      bazgasht loyalty settings set cashback_percent 3 --store myshop --yes
      bazgasht loyalty settings set earn_statuses completed,processing --dry-run
      bazgasht loyalty settings set expiry_months none
    """
    context = app_context(ctx)
    name = _store(context, store)
    change = plan_change(context, name, key, value, _now(ctx))
    _decide(context, change, yes, dry_run, output_format(fmt, as_json) is Format.JSON, _now(ctx))


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    store: StoreOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Use the config file's loyalty settings, after a preview.

    Shows what that does to customers' points first, like `settings set`; settings the
    file does not name go back to their defaults. Needed once after upgrading when the
    ledger follows neither the file nor the defaults, and whenever you prefer to edit the
    file: the file is otherwise ignored.

    \b
    Examples:
      bazgasht loyalty settings import --store myshop
      bazgasht loyalty settings import --store myshop --yes
    """
    context = app_context(ctx)
    name = _store(context, store)
    change = plan_import(context, name, _now(ctx))
    _decide(context, change, yes, dry_run, output_format(fmt, as_json) is Format.JSON, _now(ctx))


def _decide(
    context: AppContext,
    change: SettingsChange,
    yes: bool,
    dry_run: bool,
    as_json: bool,
    now: datetime,
) -> None:
    """Show the plan; apply it with --yes or a yes on a terminal; else change nothing."""
    if change.empty:
        message = f"{change.store}: the settings already are so; nothing to change."
        if as_json:
            typer.echo(json_text({**change.as_dict(), "applied": False, "message": message}))
        else:
            typer.echo(message)
        return
    if not as_json:
        for line in preview_lines(change):
            typer.echo(line)
    if dry_run:
        if as_json:
            typer.echo(json_text({**change.as_dict(), "applied": False}))
        return
    if not yes:
        if not sys.stdin.isatty():
            if as_json:
                typer.echo(json_text({**change.as_dict(), "applied": False}))
            raise ConfigError(
                "nothing was changed: a change of the loyalty settings is applied only after "
                "its preview is confirmed — run again with --yes (or on a terminal, to be "
                "asked); --dry-run only shows it."
            )
        if not typer.confirm("Apply this change?", default=False):
            typer.echo("Nothing changed.")
            raise typer.Exit(1)
    applied = apply_change(context, change, now)
    if as_json:
        typer.echo(json_text(applied.as_dict()))
        return
    for line in applied_lines(applied):
        typer.echo(line)


def preview_lines(change: SettingsChange) -> list[str]:
    """The preview, in words."""
    e = change.effect
    lines = [f"Loyalty settings of {change.store}" + (
        f" (version {change.base_version})" if change.base_version else " (not stored yet)"
    ) + ":"]  # fmt: skip
    for key, (before, after) in change.changes.items():
        concrete = change.resolved.get(key)
        shown = (
            f"{concrete[0]} → {concrete[1]}" if concrete else f"{_shown(before)} → {_shown(after)}"
        )
        lines.append(f"  {key}: {shown}" + (" (the default)" if after is None else ""))
    if not e.ledger_changes:
        lines.append("No customer's points change (the rules that credit points are the same).")
        return [clean(x) for x in lines]
    money = f"{{:,.{e.decimals}f}}"
    lines += [
        "What the next reconciliation would do to the ledger:",
        f"  points added        {e.points_added:,}",
        f"  points taken back   {e.points_taken_back:,}"
        + (f" (of which expired: {e.points_expired:,})" if e.points_expired else ""),
        f"  customers touched   {e.customers_touched:,} ({e.customers_gaining:,} gain, "
        f"{e.customers_losing:,} lose)",
        f"  outstanding points  {e.outstanding_before:,} → {e.outstanding_after:,}",
        f"  liability           {money.format(e.liability_before)} → "
        f"{money.format(e.liability_after)} {e.currency}",
    ]
    if e.customers_negative:
        lines.append(
            f"  below zero          {e.customers_negative:,} customers (points they already "
            "spent would be taken back)"
        )
    for identity, before_p, after_p in e.examples:
        lines.append(f"  e.g. {identity}: {before_p:,} → {after_p:,} points")
    if e.behind_entries:
        lines.append(
            f"(Counted in these: {e.behind_entries:,} changes of orders not reconciled yet, "
            "due under either settings.)"
        )
    if e.takes_back:
        lines.append(
            f"Warning: this takes back {e.points_taken_back:,} points from "
            f"{e.customers_losing:,} customers."
        )
    return [clean(x) for x in lines]


def applied_lines(applied: AppliedChange) -> list[str]:
    v = applied.version
    lines = [f"Applied: settings version {v.version} of {applied.change.store}, by {v.changed_by}."]
    if applied.reconcile is not None:
        r = applied.reconcile
        lines.append(f"Ledger reconciled: {r.appended:,} entries ({r.mode}).")
    elif applied.problem:
        lines.append(
            f"The ledger was not reconciled yet ({applied.problem}); the next sync does it."
        )
    return [clean(x) for x in lines]


__all__ = ["app", "ignored_lines", "preview_lines"]
