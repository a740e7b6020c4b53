"""``bazgasht demo``: the whole job on the built-in sample store, in one command.

It never touches a configured real store or the default database: it works in a demo folder
of its own (a fresh SQLite file and config there each time) and stops its server at the end.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import platformdirs
import typer
from rich.console import Console
from sqlalchemy import Engine

from app import (
    DEMO_STORE,
    ENV_DATABASE_URL,
    check_and_remember,
    demo_campaign_preview,
    demo_database_url,
    demo_report,
    loyalty_tour,
    mirror_overview,
    write_demo_config,
)
from cli._context import AppContext, app_context, invocation, stdout_console
from cli._progress import sync_with_progress
from cli._render import Table, esc
from cli.analytics import headline
from cli.campaign import print_preview
from cli.loyalty import print_demo_tour
from connector import from_units


def default_demo_dir() -> Path:
    return Path(platformdirs.user_data_dir("bazgasht")) / "demo"


def demo(
    ctx: typer.Context,
    orders_count: Annotated[
        int,
        typer.Option(
            "--orders", metavar="N", min=10, max=200_000, help="Orders in the sample history."
        ),
    ] = 3000,
    currency: Annotated[
        str, typer.Option(metavar="CODE", help="USD, EUR, or a zero-decimal IRT / IRR.")
    ] = "USD",
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="PATH",
            help="Where the demo keeps its database and config (recreated).",
        ),
    ] = None,
) -> None:
    """Run the whole job on a built-in sample store.

    Sync, loyalty, metrics, the HTML report and a campaign dry run, on a generated store
    served on 127.0.0.1; your own config and database are never touched.

    \b
    Examples:
      bazgasht demo
      bazgasht demo --orders 5000 --currency IRT
    """
    from samplestore import SampleStore  # only loaded when needed

    outer = app_context(ctx)
    # The demo store is on loopback: the "plain http travels unencrypted" warning is moot.
    logging.getLogger("bazgasht.connector").setLevel(logging.ERROR)
    folder = directory or default_demo_dir()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)  # its database holds (made-up) customers' data
    console = stdout_console()
    started = time.monotonic()
    console.print(
        f"[bold]Bazgasht demo[/]: a sample WooCommerce store with {orders_count} orders "
        f"({currency.upper()}), served on 127.0.0.1 for this run only."
    )
    with SampleStore(orders=orders_count, currency=currency.upper(), seed=11) as store:
        config_path = write_demo_config(
            folder, store.url, store.consumer_key, store.consumer_secret
        )
        db_url = demo_database_url(folder)
        context = AppContext(config_path=config_path, debug=outer.debug, environ={})
        # The demo database is named explicitly: BAZGASHT_DATABASE_URL must not redirect it.
        engine = context.engine()
        facts = check_and_remember(context, DEMO_STORE)
        console.print(
            "1. Checked the store: key valid, "
            + (
                f"WooCommerce {esc(facts.wc_version)}, {esc(facts.currency)} with "
                f"{facts.decimals} decimals, timezone {esc(facts.timezone)}."
                if facts
                else "but it told nothing about itself."
            )
        )
        run = sync_with_progress(context, DEMO_STORE, False, 4, sys.stdout.isatty())
        result = run.sync
        console.print(
            f"2. Synced over HTTP with OAuth 1.0a: {result.count('orders')} orders and "
            f"{result.count('customers')} customer accounts in {result.requests} requests."
        )
        _tour_mirror(context, console)
        now = datetime.now(UTC)
        tour = loyalty_tour(context, now)
        console.print("\n[bold]4.[/] ", end="")
        print_demo_tour(console, tour, appended=run.loyalty.reconcile.appended)
        store_id = context.store_id(DEMO_STORE)
        console.print("\n[bold]5. Retention[/] (last complete month vs the month before)")
        console.print(headline(engine, store_id, now))
        report_path = demo_report(context, store_id, folder / "report.html", now)
        console.print(f"6. The HTML report (open it in a browser): {esc(report_path)}")
        console.print(
            "\n[bold]7. A win-back campaign[/], dry run: 15 % off for the customers at risk"
        )
        _campaign_dry_run(engine, store_id, now)
        context.close()
    console.print(
        f"\n[bold]Done in {time.monotonic() - started:.1f} s.[/] The demo's data: {folder}"
    )
    # BAZGASHT_DATABASE_URL would send the hints to your database, not the demo's.
    overridden = bool(os.environ.get(ENV_DATABASE_URL))
    for line in closing_hints(invocation(), config_path, db_url if overridden else None):
        console.print(esc(line))


def closing_hints(bazgasht: str, config_path: Path, db_url: str | None = None) -> list[str]:
    """The demo's last words: commands to look around the demo's data (they run as printed;
    ``db_url`` is named on them when the environment would point elsewhere) and the steps
    for a real store (with your address and keys in place of the examples)."""
    demo = f"{bazgasht} --config {shlex.quote(str(config_path))}"
    if db_url is not None:
        demo = f"{ENV_DATABASE_URL}={shlex.quote(db_url)} {demo}"
    pad = " " * 19
    return [
        *(
            f"  Look around:     {demo} {command}"
            for command in ("sync status", "metrics --period quarter", "rfm", "loyalty top")
        ),
        "  Your own store (your shop's address and its REST API keys in place of these):",
        f"{pad}{bazgasht} init",
        f"{pad}export MYSHOP_SECRET=cs_…",
        f"{pad}{bazgasht} store add myshop --url https://myshop.example --key ck_… "
        "--secret-env MYSHOP_SECRET",
        f"{pad}{bazgasht} store check myshop && {bazgasht} sync",
    ]


def _campaign_dry_run(engine: Engine, store_id: int, now: datetime) -> None:
    dry = demo_campaign_preview(engine, store_id, now)
    print_preview(dry.spec.name, dry.preview, dry.store)


def _tour_mirror(context: AppContext, console: Console) -> None:
    seen = mirror_overview(context.engine())
    console.print("\n[bold]3. What the mirror holds[/]")
    table = Table("status", "orders", "net revenue")
    for status, count, net_units in seen.by_status:
        table.add_row(status, str(count), f"{from_units(net_units):,.2f}")
    console.print(table)
    console.print(
        f"   {seen.accounts} registered accounts, {seen.guests} guests (identified by e-mail), "
        f"{seen.quarantined} records quarantined."
    )
