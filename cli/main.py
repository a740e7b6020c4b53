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
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

from app import ENV_CONFIG, Config, config_path, load_config, save_config
from cli import analytics as analytics_cmd
from cli import campaign
from cli import demo as demo_cmd
from cli import loyalty as loyalty_cmd
from cli import samplestore as samplestore_cmd
from cli import serve as serve_cmd
from cli import store as store_cmd
from cli import storefront as storefront_cmd
from cli import sync as sync_cmd
from cli import webhooks as webhooks_cmd
from cli._context import AppContext, app_context, invocation
from cli._options import new_app
from cli._render import CleanLogRecords, clean
from connector import BazgashtError, display_url

app = new_app(
    "Retention marketing for WooCommerce: mirror your store, run a loyalty program, "
    "measure retention.\n\nStart with `bazgasht demo`, or `bazgasht init` and "
    "`bazgasht store add NAME --url URL --key ck_…` for a real store. Every command has "
    "-h with an example; the grammar is in docs/cli.md.",
    name="bazgasht",
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
)


def version() -> str:
    try:
        return metadata.version("bazgasht")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bazgasht {version()}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="Config file (default: BAZGASHT_CONFIG, else ~/.config/bazgasht/config.toml).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Root options, valid before any command."""
    context = AppContext(
        config_path=config_path(config, os.environ),
        debug=debug,
        config_explicit=config is not None or bool(os.environ.get(ENV_CONFIG)),
    )
    ctx.obj = context
    ctx.call_on_close(context.close)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:  # the one basicConfig made (not pytest's)
        if getattr(handler, "stream", None) is sys.stderr and not any(
            isinstance(f, CleanLogRecords) for f in handler.filters
        ):
            handler.addFilter(CleanLogRecords())


def init(ctx: typer.Context) -> None:
    """Create the config file and the database.

    The config file is written with mode 0600 (it may hold a consumer secret); an existing
    one is checked, never overwritten.

    \b
    Examples:
      bazgasht init
      bazgasht --config /etc/bazgasht/shop.toml init
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
    typer.echo(
        f"Next: {invocation()} store add NAME --url https://your-shop.example --key ck_… "
        "--secret-env NAME_SECRET"
    )


# The order of `bazgasht -h`: set up, run, look at the numbers, try it out.
app.command("init")(init)
app.add_typer(store_cmd.app, name="store")
app.add_typer(sync_cmd.app, name="sync")
app.add_typer(loyalty_cmd.app, name="loyalty")
app.add_typer(campaign.app, name="campaign")
app.command("metrics")(analytics_cmd.metrics)
app.command("cohorts")(analytics_cmd.cohorts)
app.command("rfm")(analytics_cmd.rfm)
app.command("report")(analytics_cmd.report)
app.command("serve")(serve_cmd.serve)
app.add_typer(webhooks_cmd.app, name="webhooks")
app.add_typer(storefront_cmd.app, name="storefront")
app.command("demo")(demo_cmd.demo)
app.add_typer(samplestore_cmd.app, name="sample-store")


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
        typer.echo(f"error: {clean(str(exc))}", err=True)  # it may quote the store
        return exc.exit_code
    return 0


def main() -> None:
    sys.exit(run())
