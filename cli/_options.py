"""The one grammar of the command line (docs/cli.md), as shared option declarations.

* Positional arguments are the thing a command acts on: a customer and points, a campaign's
  name, the store itself under ``bazgasht store``. Nothing else is positional.
* The store is ``--store STORE`` / ``-s STORE`` everywhere; by default the only configured
  store. Commands that can work on several stores take ``--store`` again and again, or
  ``--all``.
* Output is ``--format table|json`` (``csv`` too where the output is rows); ``--json`` is a
  hidden alias of ``--format json``, kept for scripts written against the first version.
  With ``--format json`` standard output holds the JSON document and nothing else.
* Commands meant for cron take ``--quiet`` / ``-q``: nothing at all on success.

Every ``typer.Typer`` of the CLI is made by ``new_app`` so that help looks the same
everywhere: plain text wrapped to 80 columns, ``-h`` as well as ``--help``.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Annotated, Any

import typer

from app import config_path, load_config
from connector import BazgashtError

#: Help is click's plain formatter: rich's help panels wrapped raggedly at 80 columns and
#: parsed square brackets in the help text as markup (``[stores.NAME.loyalty]`` vanished).
CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 80,
}


def new_app(help_text: str | None, **options: Any) -> typer.Typer:
    """A command group with the CLI's help conventions (``help_text`` None: the callback's
    docstring)."""
    options.setdefault("no_args_is_help", True)
    if help_text is not None:  # an explicit None would hide the callback's docstring
        options["help"] = help_text
    return typer.Typer(
        rich_markup_mode=None,
        context_settings=CONTEXT_SETTINGS,
        pretty_exceptions_show_locals=False,  # locals may hold keys
        **options,
    )


def complete_store(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of ``--store``: the stores of the config file in use."""
    explicit = ctx.find_root().params.get("config")
    try:
        names = load_config(config_path(explicit, os.environ)).stores
    except BazgashtError:
        return []
    return [name for name in sorted(names) if name.startswith(incomplete)]


STORE_HELP = "The store (default: the only one configured)."

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", "-s", metavar="STORE", help=STORE_HELP, autocompletion=complete_store),
]
StoresOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--store",
        "-s",
        metavar="STORE",
        help="A store; repeat for several (default: the only one configured, or --all).",
        autocompletion=complete_store,
    ),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every configured store.")]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing when all is well, warnings included (for cron); errors still go "
        "to stderr.",
    ),
]


#: ``loyalty redeem``: the points are debited but the coupon is not on the store yet; the
#: next sync (or reconcile) creates it. Not 1 (nothing failed for good, do not retry: that
#: would debit again) and not 75 (that invites a retry); documented in docs/cli.md.
EXIT_PENDING = 3
#: ``loyalty verify``: the ledger's hash chain shows entries changed, deleted or inserted
#: outside Bazgasht — not a difference for ``reconcile`` to fix (that is 1). docs/cli.md.
EXIT_TAMPERED = 4


class Format(StrEnum):
    """What a command prints: a table for people, JSON or CSV for machines."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class TableOrJson(StrEnum):
    TABLE = "table"
    JSON = "json"


class Rows(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class Export(StrEnum):
    CSV = "csv"
    JSON = "json"


FormatOpt = Annotated[
    TableOrJson,
    typer.Option("--format", metavar="FORMAT", help="table (for people) or json."),
]
RowsFormatOpt = Annotated[
    Rows,
    typer.Option("--format", metavar="FORMAT", help="table (for people), json or csv."),
]
ExportFormatOpt = Annotated[
    Export, typer.Option("--format", metavar="FORMAT", help="csv (for a sender) or json.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", hidden=True, help="Same as --format json (kept for scripts).")
]


def output_format(chosen: StrEnum, as_json: bool = False) -> Format:
    """The format to print in: ``--json`` is ``--format json``."""
    return Format.JSON if as_json else Format(chosen.value)


def quiet_logs(ctx: typer.Context) -> None:
    """``--quiet``: Bazgasht's own warnings (plain http, a tightened database) stay unsaid
    for the rest of the command; errors are still printed."""
    logger = logging.getLogger("bazgasht")
    before = logger.level
    logger.setLevel(logging.ERROR)
    ctx.call_on_close(lambda: logger.setLevel(before))


__all__ = [
    "CONTEXT_SETTINGS",
    "EXIT_PENDING",
    "AllOpt",
    "Export",
    "ExportFormatOpt",
    "Format",
    "FormatOpt",
    "JsonOpt",
    "QuietOpt",
    "Rows",
    "RowsFormatOpt",
    "StoreOpt",
    "StoresOpt",
    "TableOrJson",
    "complete_store",
    "new_app",
    "output_format",
    "quiet_logs",
]
