"""Entry point of the ``bazgasht`` command: the root options and turning errors into exits.

Each command group lives in its own module and is added here. Errors the product raises on
purpose (``BazgashtError``) become one line on stderr and their exit code; ``--debug`` adds
the traceback. Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from cli import analytics as analytics_cmd
from cli import campaign
from cli import demo as demo_cmd
from cli import loyalty as loyalty_cmd
from cli import samplestore as samplestore_cmd
from cli import store as store_cmd
from cli import sync as sync_cmd
from cli._config import Config, config_path, load_config, save_config
from cli._context import AppContext, app_context
from connector import BazgashtError, display_url

app = typer.Typer(
    name="bazgasht",
    help="Retention marketing for WooCommerce: mirror your store, run a loyalty program, "
    "measure retention.\n\nStart with `bazgasht demo`, or `bazgasht init` and "
    "`bazgasht store add NAME --url URL` for a real store.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold keys
    add_completion=False,
)
app.add_typer(store_cmd.app, name="store")
app.command("sync")(sync_cmd.sync)
app.command("demo")(demo_cmd.demo)
app.command("metrics")(analytics_cmd.metrics)
app.command("cohorts")(analytics_cmd.cohorts)
app.command("rfm")(analytics_cmd.rfm)
app.command("report")(analytics_cmd.report)
app.add_typer(samplestore_cmd.app, name="sample-store")
app.add_typer(loyalty_cmd.app, name="loyalty")
app.add_typer(campaign.app, name="campaign")


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file (default: BAZGASHT_CONFIG, else ~/.config/bazgasht/config.toml).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Root options, valid before any command."""
    context = AppContext(config_path=config_path(config, os.environ), debug=debug)
    ctx.obj = context
    ctx.call_on_close(context.close)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the config file (mode 0600) and the database.

    Example: bazgasht init
    """
    context = app_context(ctx)
    path = context.config_path
    if path.exists():
        load_config(path)  # refuse to continue on a broken file rather than overwrite it
        typer.echo(f"Config already exists: {path}")
    else:
        save_config(path, Config())
        typer.echo(f"Created {path}")
    context.engine()
    typer.echo(f"Database ready: {display_url(context.database_url)}")
    typer.echo("Next: bazgasht store add NAME --url https://your-shop.example")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (tests call this)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="bazgasht")
    except SystemExit as exc:  # typer ends every run, good or bad (usage: 2), with an exit
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BazgashtError as exc:
        if "--debug" in args:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    return 0


def main() -> None:
    sys.exit(run())
