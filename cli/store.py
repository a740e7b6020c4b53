"""``bazgasht store add|list|remove|check|repoint``: the stores Bazgasht mirrors."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.text import Text

from app import (
    STORE_NAME_PATTERN,
    StoreConfig,
    save_config,
    shop_address,
    validation_message,
)
from cli._context import app_context, invocation, stdout_console
from cli._options import Format, FormatOpt, JsonOpt, TableOrJson, new_app, output_format
from cli._render import Table, cell, json_text
from connector import (
    ConfigError,
    WooClient,
    archive_store,
    check_store,
    remember_facts,
    store_lock,
    verify_identity,
)

app = new_app("Add, list, remove and check the stores Bazgasht mirrors.")

#: Words `bazgasht sync` reads as subcommands, so no store may be called that.
RESERVED_NAMES = frozenset({"status"})


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
    if not re.match(STORE_NAME_PATTERN, name) or name in RESERVED_NAMES:
        raise ConfigError(
            f"{name!r} cannot be a store name: use letters, digits, '-', '_' or '.', "
            f"not {', '.join(sorted(RESERVED_NAMES))}."
        )
    try:  # before asking for any key: a wrong address is said at once
        address = shop_address(url)
    except ValueError as exc:
        raise ConfigError(f"--url: {exc}") from None
    if key is None:
        key = typer.prompt("Consumer key (ck_…)")
    key = _checked_key(key.strip())
    secret: str | None = None
    if secret_env is not None:
        secret_from_env = _checked_env(secret_env, context.environ)
        _checked_secret(secret_from_env, f"the variable {secret_env}")
    else:
        if secret_stdin:
            secret = sys.stdin.readline().strip()
        else:
            secret = typer.prompt("Consumer secret (cs_…, hidden)", hide_input=True).strip()
        _checked_secret(secret, "the consumer secret")
    config = context.config.model_copy(deep=True)
    try:
        store = StoreConfig(
            url=address,
            consumer_key=key,
            consumer_secret=secret,
            consumer_secret_env=secret_env,
            query_string_auth=query_string_auth,
            verify_tls=verify_tls,
            loyalty=config.stores[name].loyalty if name in config.stores else {},
        )
    except ValidationError as exc:
        raise ConfigError(f"store {name!r}: {validation_message(exc)}") from None
    config.stores[name] = store
    save_config(context.config_path, config)
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
    config = app_context(ctx).config
    rows = [
        {
            "store": name,
            "url": store.url,
            "consumer_key": _mask(store.consumer_key),
            "secret_from": f"${store.consumer_secret_env}"
            if store.consumer_secret_env
            else "config file",
        }
        for name, store in sorted(config.stores.items())
    ]
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
    context.store(name)
    config = context.config.model_copy(deep=True)
    del config.stores[name]
    save_config(context.config_path, config)
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
    context = app_context(ctx)
    creds = context.store(name).credentials(name, context.environ)
    with WooClient(creds) as client:
        report = check_store(client)
        if report.facts is not None:
            engine = context.engine()
            # The facts (currency, timezone…) belong to the shop mirrored under this name:
            # another shop behind it must not overwrite them (raises StoreIdentityChanged).
            verify_identity(engine, client, name)
            remember_facts(engine, name, creds.url, report.facts)
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
    context = app_context(ctx)
    store = context.store(name)
    if not yes:
        raise ConfigError(
            f"`store repoint {name}` starts a fresh mirror for {name!r} (the old data is kept "
            "under an archive name); run it again with --yes to do it."
        )
    config = context.config.model_copy(deep=True)
    if url is not None:
        try:
            store = store.model_copy(update={"url": shop_address(url)})
        except ValueError as exc:
            raise ConfigError(f"--url: {exc}") from None
    engine = context.engine()
    with store_lock(engine, name):  # no sync of this name meanwhile
        archived = archive_store(engine, name, datetime.now(UTC))
        config.stores[name] = store
        save_config(context.config_path, config)
    typer.echo(f"Store {name!r} now points at {store.url}.")
    if archived:
        typer.echo(f"Its previous mirror is kept, untouched, as {archived!r}.")
    typer.echo(f"Next: {invocation()} sync --store {name}")


#: WooCommerce makes keys as "ck_"/"cs_" and a 40-digit hexadecimal hash (wc_rand_hash).
_KEY = re.compile(r"ck_[0-9a-f]{40}")
_SECRET = re.compile(r"cs_[0-9a-f]{40}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHERE = "WooCommerce → Settings → Advanced → REST API"


def _checked_key(key: str) -> str:
    """A consumer key as WooCommerce makes them; never echoes what was given (it may be the
    secret, pasted in the wrong place)."""
    if _SECRET.fullmatch(key):
        raise ConfigError(
            "--key: that is the consumer secret (cs_…); give the consumer key (ck_…) here, "
            "and the secret with --secret-env, --secret-stdin or at the prompt."
        )
    if not _KEY.fullmatch(key):
        raise ConfigError(
            f"--key: not a WooCommerce consumer key: those are ck_ and 40 letters and digits "
            f"(0-9, a-f), shown once when the key is made in {_WHERE}. Copy it whole."
        )
    return key


def _checked_env(variable: str, environ: Mapping[str, str]) -> str:
    if not _ENV_NAME.fullmatch(variable):
        raise ConfigError(
            f"--secret-env: {variable!r} is not an environment variable name "
            "(letters, digits and _, e.g. MYSHOP_SECRET)."
        )
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(
            f"--secret-env: the environment variable {variable} is not set here. Set it "
            f"first (export {variable}=cs_…) — and wherever Bazgasht runs, e.g. on the cron "
            "line — then add the store again. Nothing was saved."
        )
    return value


def _checked_secret(secret: str, what: str) -> None:
    if not secret:
        raise ConfigError(f"{what} is empty. Nothing was saved.")
    if _KEY.fullmatch(secret):
        raise ConfigError(
            f"{what} is the consumer key (ck_…); the secret is the one that starts with cs_."
        )
    if not _SECRET.fullmatch(secret):
        raise ConfigError(
            f"{what} is not a WooCommerce consumer secret: those are cs_ and 40 letters and "
            f"digits (0-9, a-f), shown once when the key is made in {_WHERE}. Nothing was "
            "saved."
        )


def _mask(key: str) -> str:
    return key[:3] + "…" + key[-4:] if len(key) > 10 else "…"
