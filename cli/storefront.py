"""``bazgasht storefront secret|push``: the WordPress plugin's side of Bazgasht."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from app import BazgashtError, ConfigError, push_store, save_config
from cli._context import AppContext, app_context, invocation
from cli._options import (
    AllOpt,
    Format,
    FormatOpt,
    JsonOpt,
    QuietOpt,
    StoreOpt,
    StoresOpt,
    TableOrJson,
    new_app,
    output_format,
    quiet_logs,
)
from cli._render import clean

app = new_app(
    "The storefront: the WordPress plugin that shows customers their points and lets them "
    "spend them (docs/companion.md)."
)

#: The contract's shared secret: 64 hex digits = 256 random bits.
SECRET_BYTES = 32
MIN_SECRET = 32
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _pick(context: AppContext, store: str | None) -> str:
    return context.pick_stores([store] if store else None, False)[0]


def _from_env(context: AppContext, variable: str) -> None:
    if not _ENV_NAME.fullmatch(variable):
        raise ConfigError(f"--secret-env: {variable!r} is not an environment variable name.")
    if len(context.environ.get(variable, "").strip()) < MIN_SECRET:
        raise ConfigError(
            f"--secret-env: the variable {variable} must hold a secret of at least "
            f"{MIN_SECRET} characters (e.g. `openssl rand -hex 32`), set here and where "
            "`bazgasht serve` runs. Nothing was changed."
        )


@app.command("secret")
def secret(
    ctx: typer.Context,
    store: StoreOpt = None,
    rotate: Annotated[
        bool,
        typer.Option(
            "--rotate",
            help="Make a new secret; the current one stays valid until --end-rotation, so the "
            "plugin keeps working while you paste the new one.",
        ),
    ] = False,
    end_rotation: Annotated[
        bool,
        typer.Option("--end-rotation", help="Stop accepting the previous secret."),
    ] = False,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--secret-env",
            metavar="VAR",
            help="Use the secret in this environment variable (never written to the config) "
            "instead of generating one.",
        ),
    ] = None,
) -> None:
    """Make the shared secret of the WordPress plugin.

    Sets up the storefront for the store. Generates 256 random bits and prints them once:
    paste them into WooCommerce → Bazgasht → Shared secret (or define
    BAZGASHT_SHARED_SECRET in wp-config.php). The secret is kept like the consumer secret
    (config file, mode 0600) unless --secret-env names one. From then on every sync and
    webhook also writes each customer's points into their WooCommerce account, for when the
    plugin cannot reach Bazgasht.

    \b
    Examples:
      bazgasht storefront secret --store myshop
      bazgasht storefront secret -s myshop --rotate
      bazgasht storefront secret -s myshop --end-rotation
    """
    context = app_context(ctx)
    name = _pick(context, store)
    if rotate and end_rotation:
        raise ConfigError("--rotate and --end-rotation: one at a time (end a rotation later).")
    config = context.config.model_copy(deep=True)
    current = config.stores[name]
    has_secret = bool(current.storefront_secret or current.storefront_secret_env)
    if end_rotation:
        if not (current.storefront_previous_secret or current.storefront_previous_secret_env):
            typer.echo(f"Store {name!r} has no rotation under way; nothing changed.")
            return
        current.storefront_previous_secret = current.storefront_previous_secret_env = None
        save_config(context.config_path, config)
        typer.echo(f"Store {name!r}: the previous storefront secret is no longer accepted.")
        return
    if has_secret and not rotate:
        typer.echo(
            f"Store {name!r} already has a storefront secret (it is never shown again). For a "
            f"new one: {invocation()} storefront secret --store {name} --rotate"
        )
        return
    if secret_env is not None:
        _from_env(context, secret_env)
    if rotate and has_secret:
        current.storefront_previous_secret = current.storefront_secret
        current.storefront_previous_secret_env = current.storefront_secret_env
    new_secret = None if secret_env is not None else secrets.token_hex(SECRET_BYTES)
    current.storefront_secret, current.storefront_secret_env = new_secret, secret_env
    save_config(context.config_path, config)
    where = f"the variable {secret_env}" if secret_env else f"{context.config_path} (mode 0600)"
    typer.echo(f"Store {name!r}: storefront secret saved in {where}.", err=True)
    if new_secret is not None:
        typer.echo(new_secret)
        typer.echo(
            "Paste it into WooCommerce → Bazgasht → Shared secret (it is not shown again).",
            err=True,
        )
    if rotate and has_secret:
        typer.echo(
            "The previous secret is still accepted; once the plugin has the new one: "
            f"{invocation()} storefront secret --store {name} --end-rotation",
            err=True,
        )


@app.command("push")
def push(
    ctx: typer.Context,
    names: StoresOpt = None,
    all_stores: AllOpt = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write every customer with points, changed or not (after the meta was "
            "edited or deleted on the store).",
        ),
    ] = False,
    quiet: QuietOpt = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Write customers' points into their WooCommerce accounts now.

    Every sync and every webhook delivery does this for the customers whose points
    changed; this command is for the first time and for repairs. Customers whose state did
    not change since the last push are skipped, unless --force. Exit code 1 when the store
    could not be written to.

    \b
    Examples:
      bazgasht storefront push --store myshop
      bazgasht storefront push --all --force --format json
    """
    as_json = output_format(fmt, as_json) is Format.JSON
    if quiet:
        quiet_logs(ctx)
    context = app_context(ctx)
    results: list[dict[str, Any]] = []
    failed = False
    for name in context.pick_stores(names, all_stores):
        try:
            context.store_id(name)
            with context.client(name) as client:
                result = push_store(context, client, name, datetime.now(UTC), force=force)
        except BazgashtError as exc:
            failed = True
            results.append({"store": name, "problem": str(exc)})
            if not as_json:
                typer.echo(clean(f"error: {exc}"), err=True)
            continue
        results.append(result.as_dict())
        failed = failed or result.problem is not None
        if as_json:
            continue
        if result.problem:
            typer.echo(clean(f"error: store {name!r}: {result.problem}"), err=True)
        for customer_id, error in result.errors:
            typer.echo(clean(f"warning: store {name!r}, customer {customer_id}: {error}"), err=True)
        if not quiet:
            typer.echo(
                f"{name}: {result.pushed} customers' points written, {result.unchanged} "
                f"unchanged ({result.considered} looked at, {result.requests} requests)."
            )
    if as_json:
        typer.echo(json.dumps({"stores": results}, indent=2))
    if failed:
        raise typer.Exit(1)
