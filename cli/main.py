"""Entry point of the ``bazgasht`` command: the root options and turning errors into exits.

Each command group lives in its own module and is added here. Errors the product raises on
purpose (``BazgashtError``) become one line on stderr and their exit code; ``--debug`` adds
the traceback. Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer

from app import ENV_CONFIG, Config, config_path, load_config, save_config
from cli._context import AppContext, app_context, invocation
from cli._options import new_app
from cli._render import CleanLogRecords, clean
from connector import BazgashtError, display_url

ROOT_HELP = (
    "Retention marketing for WooCommerce: mirror your store, run a loyalty program, "
    "measure retention.\n\nStart with `bazgasht demo`, or `bazgasht init` and "
    "`bazgasht store add NAME --url URL --key ck_…` for a real store. Every command has "
    "-h with an example; the grammar is in docs/cli.md."
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


# The order of `bazgasht -h`: set up, run, look at the numbers, try it out. Each entry: the
# command's name, its module, and the command (a function) or group (a ``typer.Typer``) in it.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("init", "cli.main", "init"),
    ("store", "cli.store", "app"),
    ("sync", "cli.sync", "app"),
    ("loyalty", "cli.loyalty", "app"),
    ("campaign", "cli.campaign", "app"),
    ("metrics", "cli.analytics", "metrics"),
    ("cohorts", "cli.analytics", "cohorts"),
    ("rfm", "cli.analytics", "rfm"),
    ("report", "cli.analytics", "report"),
    ("serve", "cli.serve", "serve"),
    ("webhooks", "cli.webhooks", "app"),
    ("storefront", "cli.storefront", "app"),
    ("demo", "cli.demo", "demo"),
    ("sample-store", "cli.samplestore", "app"),
)
#: Root options that take a value (the command comes after it).
_ROOT_VALUES = ("--config",)


def build_app(only: str | None = None) -> typer.Typer:
    """The ``bazgasht`` application: every command, or only the command ``only``.

    A run needs only the command it runs, and importing a command's module imports what it
    uses: the sync engine and its HTTP client, the loyalty program, the web server… —
    about half a second of a short command's start-up. ``run`` builds the one command the
    arguments name (its help, options and errors are the same: they are its own) and the
    whole application for anything else (``-h``, ``--version``, a mistyped command)."""
    root_app = new_app(
        ROOT_HELP,
        name="bazgasht",
        add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    )
    root_app.callback()(root)
    for name, module, attribute in COMMANDS:
        if only is not None and name != only:
            continue
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            root_app.add_typer(target, name=name)
        else:
            root_app.command(name)(target)
    return root_app


def command_named(args: list[str]) -> str | None:
    """The command ``args`` run, when they plainly name one (root options before it are
    ``--config PATH`` and ``--debug``); ``None`` otherwise."""
    names = {name for name, _, _ in COMMANDS}
    at = 0
    while at < len(args):
        arg = args[at]
        if arg in _ROOT_VALUES:
            at += 2
        elif arg == "--debug" or arg.startswith(tuple(f"{o}=" for o in _ROOT_VALUES)):
            at += 1
        else:
            return arg if arg in names else None
    return None


def __getattr__(name: str) -> Any:
    """``cli.main.app``: the whole application (tests walk its commands)."""
    if name == "app":
        whole = build_app()
        globals()["app"] = whole
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (tests call this)."""
    args = list(sys.argv[1:] if argv is None else argv)
    completing = any(key.endswith("_COMPLETE") for key in os.environ)  # shell completion
    application = build_app(None if completing else command_named(args))
    try:
        application(args=args, prog_name="bazgasht")
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
