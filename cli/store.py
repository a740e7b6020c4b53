"""``bazgasht store add|list|remove|check|repoint``: the stores Bazgasht mirrors."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.text import Text

from app import (
    add_store,
    check_store_now,
    checked_key,
    checked_secret,
    checked_secret_env,
    new_store_address,
    remove_store,
    repoint_store,
    store_rows,
)
from cli._context import app_context, invocation, stdout_console
from cli._options import Format, FormatOpt, JsonOpt, TableOrJson, new_app, output_format
from cli._render import Table, cell, json_text

app = new_app("Add, list, remove and check the stores Bazgasht mirrors.")


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name for the store, e.g. myshop.")],
    url: Annotated[
        str, typer.Option("--url", help="The shop's address, e.g. https://myshop.example")
    ],
    key: Annotated[
        str | None, typer.Option("--key", help="Consumer key (ck_…); asked for when omitted.")
    ] = None,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--secret-env",
            help="Name of an environment variable that holds the consumer secret (it is read "
            "at each run and never written to the config).",
        ),
    ] = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the consumer secret from standard input.")
    ] = False,
    query_string_auth: Annotated[
        bool,
        typer.Option(
            help="Send the keys in the query string (for hosts that strip Authorization)."
        ),
    ] = False,
    verify_tls: Annotated[bool, typer.Option(help="Verify the store's TLS certificate.")] = True,
) -> None:
    """Add a store, or replace its settings.

    The keys come from WooCommerce: Settings, Advanced, REST API, Add key (Read for sync
    and metrics, Read/Write to issue loyalty coupons). The consumer secret is never taken as
    an argument (shell history and `ps` would keep it): it is asked for with hidden input,
    read from stdin, or named by an environment variable.

    \b
    Examples:
      export MYSHOP_SECRET=cs_…
      bazgasht store add myshop --url https://myshop.example \\
          --key ck_… --secret-env MYSHOP_SECRET
    """
    context = app_context(ctx)
    address = new_store_address(name, url)  # before asking for any key
    if key is None:
        key = typer.prompt("Consumer key (ck_…)")
    key = checked_key(key.strip())
    secret: str | None = None
    if secret_env is not None:
        checked_secret_env(secret_env, context.environ)
    else:
        if secret_stdin:
            secret = sys.stdin.readline().strip()
        else:
            secret = typer.prompt("Consumer secret (cs_…, hidden)", hide_input=True).strip()
        checked_secret(secret, "the consumer secret")
    store = add_store(
        context,
        name,
        address,
        key,
        secret=secret,
        secret_env=secret_env,
        query_string_auth=query_string_auth,
        verify_tls=verify_tls,
    )
    typer.echo(f"Saved store {name!r} in {context.config_path} (mode 0600).")
    if store.url != url.strip().rstrip("/"):
        typer.echo(
            f"Note: saved the shop's address {store.url}; Bazgasht adds the REST API's path "
            "(/wp-json/wc/v3/) itself.",
            err=True,
        )
    if store.url.startswith("http://"):
        typer.echo(
            "Warning: plain http:// sends your orders unencrypted; prefer https://.", err=True
        )
    typer.echo(f"Next: {invocation()} store check {name}")


@app.command("list")
def list_stores(
    ctx: typer.Context, fmt: FormatOpt = TableOrJson.TABLE, as_json: JsonOpt = False
) -> None:
    """List the configured stores (secrets are never shown).

    \b
    Examples:
      bazgasht store list
      bazgasht store list --format json
    """
    rows = store_rows(app_context(ctx))
    if output_format(fmt, as_json) is Format.JSON:
        typer.echo(json_text({"stores": rows}))
        return
    if not rows:
        typer.echo("No stores yet. Add one with `bazgasht store add NAME --url URL --key ck_…`.")
        return
    table = Table("store", "url", "consumer key", "secret from")
    for row in rows:
        table.add_row(row["store"], row["url"], row["consumer_key"], row["secret_from"])
    stdout_console().print(table)


@app.command("remove")
def remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The store to remove.")]
) -> None:
    """Remove a store from the config.

    Its mirrored data and loyalty ledger stay in the database.

    \b
    Example:
      bazgasht store remove myshop
    """
    context = app_context(ctx)
    remove_store(context, name)
    typer.echo(f"Removed store {name!r} from {context.config_path}.")


@app.command("check")
def check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The store to check.")],
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Check a store: reachable? key valid? permissions? currency?

    Exit code 1 when a check fails; each failed check says how to fix it.

    \b
    Examples:
      bazgasht store check myshop
      bazgasht store check myshop --format json
    """
    report = check_store_now(app_context(ctx), name)
    if output_format(fmt, as_json) is Format.JSON:
        data: dict[str, Any] = {
            "store": name,
            "ok": report.ok,
            "checks": [asdict(item) for item in report.items],
            "facts": None if report.facts is None else asdict(report.facts),
        }
        typer.echo(json_text(data))
        if not report.ok:
            raise typer.Exit(1)
        return
    table = Table("check", "result", "details")
    for item in report.items:
        if item.ok is None:
            mark = Text("—")
        else:
            mark = Text("ok", style="green") if item.ok else Text("FAILED", style="red")
        detail = cell(item.detail)
        if item.hint and not item.ok:
            detail.append("\nfix: ", style="yellow").append_text(cell(item.hint))
        table.add_row(item.name, mark, detail)
    stdout_console().print(table)
    if not report.ok:
        raise typer.Exit(1)


@app.command("repoint")
def repoint(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The store to point at another shop.")],
    url: Annotated[
        str | None,
        typer.Option("--url", help="The new shop's address (default: the one in the config)."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: start a fresh mirror for this name.")
    ] = False,
) -> None:
    """Start a fresh mirror for a store now at another shop.

    What was mirrored under NAME (orders, customers, loyalty ledger, runs) stays in the
    database under NAME@archived-<time>, untouched; the next sync of NAME starts a new mirror
    of the shop at URL. Use it when `sync` refuses because the shop changed. The new shop's
    keys: `bazgasht store add NAME --url URL --key ck_…` (before or after).

    \b
    Example:
      bazgasht store repoint myshop --url https://newshop.example --yes
    """
    done = repoint_store(app_context(ctx), name, url, datetime.now(UTC), yes=yes)
    store, archived = done.store, done.archived
    typer.echo(f"Store {name!r} now points at {store.url}.")
    if archived:
        typer.echo(f"Its previous mirror is kept, untouched, as {archived!r}.")
    typer.echo(f"Next: {invocation()} sync --store {name}")
