"""``bazgasht sync``: mirror stores from cron or by hand; ``bazgasht sync status``."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from app import (
    Round,
    StoreOutcome,
    StoreRun,
    SyncedThisRound,
    round_exit_code,
    sync_status,
    sync_stores,
)
from cli._context import AppContext, app_context, stdout_console
from cli._options import (
    AllOpt,
    Format,
    FormatOpt,
    JsonOpt,
    QuietOpt,
    StoresOpt,
    TableOrJson,
    new_app,
    output_format,
    quiet_logs,
)
from cli._progress import sync_with_progress
from cli._render import Table, clean
from cli.loyalty import run_notes
from connector import BazgashtError, LockHeld


class _SyncGroup(TyperGroup):
    """``sync`` runs without a sub-command; a word that is not one is most likely a store
    named the way the first version did (``sync myshop``): say how to name it now."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            raise typer.BadParameter(
                f"{args[0]!r} is not a sub-command of sync; to sync a store, name it with "
                f"--store {args[0]} (or sync them all with --all).",
                ctx=ctx,
            )
        return super().resolve_command(ctx, args)


app = new_app(
    None,
    cls=_SyncGroup,
    invoke_without_command=True,
    no_args_is_help=False,
    subcommand_metavar="[status]",
)


@app.callback()
def sync(
    ctx: typer.Context,
    names: StoresOpt = None,
    all_stores: AllOpt = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read everything, not only what changed, and mark orders the store no longer "
            "has as deleted. Run it nightly or weekly.",
        ),
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option(metavar="N", min=1, max=16, help="Pages fetched at once from each store."),
    ] = 4,
    quiet: QuietOpt = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Mirror orders and customers of your stores.

    Copies what changed since the last run into the local database, then brings the loyalty
    ledger up to date. Safe to run from cron every few minutes: a run that is killed resumes
    where it stopped, and a run that finds another one busy with its one store exits with
    code 75. With several stores (--all) the hosts share the work: a store busy elsewhere,
    or synced elsewhere since this run began, is skipped and is no error. Exit codes: 0 ok,
    1 a store failed, 2 usage or configuration error, 75 skipped. `bazgasht sync status`
    shows the last run of each store and the host that ran it.

    \b
    Examples:
      bazgasht sync --all --quiet          (crontab: */15 * * * *)
      bazgasht sync --store myshop --full --format json
      bazgasht sync status
    """
    if ctx.invoked_subcommand is not None:
        return
    as_json = output_format(fmt, as_json) is Format.JSON
    if quiet:
        quiet_logs(ctx)  # not even the plain-http warning: cron mails only real trouble
    context = app_context(ctx)
    try:
        targets = context.pick_stores(names, all_stores)
        context.engine()  # opened (and migrated) before any store is tried
    except BazgashtError as exc:
        if not as_json:
            raise
        # --format json always prints a summary, even when no store could be tried.
        typer.echo(json.dumps({"stores": [], "error": str(exc)}, indent=2))
        raise typer.Exit(exc.exit_code) from None
    show_progress = sys.stdout.isatty() and not quiet and not as_json

    def sync(name: str, sync_round: Round | None) -> StoreRun:
        return sync_with_progress(context, name, full, concurrency, show_progress, sync_round)

    outcomes: list[StoreOutcome] = []
    # Whatever happens to one store, the others are synced and the summary printed.
    for done in sync_stores(context, targets, sync):
        outcomes.append(done)
        _show(context, done, quiet=quiet, as_json=as_json, several=len(targets) > 1)
    exit_code = round_exit_code(outcomes)
    if as_json:
        typer.echo(json.dumps({"stores": [o.summary for o in outcomes]}, indent=2))
    if exit_code:
        raise typer.Exit(exit_code)


def _show(
    context: AppContext, done: StoreOutcome, *, quiet: bool, as_json: bool, several: bool
) -> None:
    """One store's outcome, as the terminal (or cron's mail) shows it."""
    name, exc = done.store, done.error
    if done.unexpected and context.debug and exc is not None:
        traceback.print_exception(exc)
    if as_json:
        return
    if isinstance(exc, SyncedThisRound):
        # Another host did this store's work in this round: nothing to report as trouble.
        if not quiet:
            typer.echo(clean(f"{name}: skipped, {_synced_words(exc)}"))
    elif isinstance(exc, LockHeld):
        if not several:  # one store asked for, and it was not synced: 75
            typer.echo(clean(f"skipped: {exc}"), err=True)
        elif not quiet:  # the other host is on it: not trouble
            typer.echo(clean(f"{name}: skipped, busy on {exc.holder or 'another process'}"))
    elif done.outcome == "failed":
        typer.echo(clean(f"error: {done.summary['error']}"), err=True)
    elif done.run is not None:
        for problem in done.run.problems:
            typer.echo(clean(f"error: store {name!r}, loyalty: {problem}"), err=True)
        if not quiet:
            typer.echo(_one_line(done.summary))
            # pending coupons now issued; when a new program started; ignored config
            for note in run_notes(context, name, done.run.loyalty):
                typer.echo(note)


def _synced_words(exc: SyncedThisRound) -> str:
    where = f" on {exc.host}" if exc.host else " by another process"
    return (
        f"already synced{where} this round ({exc.outcome}, started {exc.started_at:%H:%M:%S} UTC)"
    )


def _one_line(summary: dict[str, Any]) -> str:
    extra = []
    if summary["quarantined"]:
        extra.append(f"{summary['quarantined']} quarantined (see `bazgasht sync status`)")
    if summary["deleted"]:
        extra.append(f"{summary['deleted']} marked deleted")
    if summary["resumed"]:
        extra.append("resumed an interrupted run")
    appended = summary["loyalty"]["reconcile"]["entries_appended"]
    if appended:
        extra.append(f"{appended} loyalty ledger entries")
    tail = f"; {', '.join(extra)}" if extra else ""
    return (
        f"{summary['store']}: {summary['orders']} orders, {summary['customers']} customers "
        f"synced ({summary['mode']}, {summary['requests']} requests){tail}"
    )


@app.command("status")
def status_cmd(
    ctx: typer.Context, fmt: FormatOpt = TableOrJson.TABLE, as_json: JsonOpt = False
) -> None:
    """The last run of each store: counts, errors, quarantine.

    \b
    Examples:
      bazgasht sync status
      bazgasht sync status --format json
    """
    status(app_context(ctx), as_json=output_format(fmt, as_json) is Format.JSON)


def status(context: AppContext, *, as_json: bool) -> None:
    """The last run of each store, its counts and errors, and the quarantine size."""
    rows = sync_status(context)
    if as_json:
        typer.echo(json.dumps({"stores": rows}, indent=2))
        return
    if not rows:
        typer.echo("No store has been synced yet.")
        return
    table = Table(
        "store",
        "last run (UTC)",
        "host",
        "outcome",
        "orders",
        "customers",
        "mirrored",
        "quarantine",
    )
    for row in rows:
        last = row["last_run"]
        if last is None:
            table.add_row(
                row["store"],
                "never",
                "—",
                "—",
                "—",
                "—",
                str(row["orders_mirrored"]),
                str(row["quarantined"]),
            )
            continue
        outcome = last["outcome"] + (f": {last['error']}" if last["error"] else "")
        table.add_row(
            row["store"],
            last["started_at"][:19],
            last["host"] or "—",
            outcome,
            str(last["orders"]),
            str(last["customers"]),
            str(row["orders_mirrored"]),
            str(row["quarantined"]),
        )
    stdout_console().print(table)
