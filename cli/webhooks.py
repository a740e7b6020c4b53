"""``bazgasht webhooks install|status``: WooCommerce tells Bazgasht of changes as they happen."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

import typer
from rich.text import Text

from app import (
    TOPICS,
    ConfigError,
    WebhookReport,
    delivery_url,
    delivery_warnings,
    inbox_counts,
    install_webhooks,
    reactivate_webhooks,
    save_config,
    webhook_report,
)
from cli._context import AppContext, app_context, invocation, stdout_console
from cli._options import (
    Format,
    FormatOpt,
    JsonOpt,
    StoreOpt,
    TableOrJson,
    new_app,
    output_format,
)
from cli._render import Table, json_text

app = new_app(
    "Webhooks: WooCommerce tells Bazgasht of each order and customer change at once.\n\n"
    "`bazgasht serve` receives them; cron `sync` stays as the sweep that catches whatever a "
    "webhook missed."
)

#: A webhook secret named by --secret-env must be at least this long.
MIN_SECRET = 32
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _pick(context: AppContext, store: str | None) -> str:
    return context.pick_stores([store] if store else None, False)[0]


def _secret(context: AppContext, name: str, secret_env: str | None, new_secret: bool) -> str:
    """The webhook secret to install, saved in the config like the consumer secret."""
    config = context.config.model_copy(deep=True)
    store = config.stores[name]
    if secret_env is not None:
        if not _ENV_NAME.fullmatch(secret_env):
            raise ConfigError(f"--secret-env: {secret_env!r} is not an environment variable name.")
        secret = context.environ.get(secret_env, "").strip()
        if len(secret) < MIN_SECRET:
            raise ConfigError(
                f"--secret-env: the variable {secret_env} must hold a secret of at least "
                f"{MIN_SECRET} characters (e.g. from `openssl rand -hex 32`), set here and where "
                "`bazgasht serve` runs. Nothing was changed."
            )
        store.webhook_secret, store.webhook_secret_env = None, secret_env
    else:
        existing = None if new_secret else store.webhook_key(name, context.environ)
        if existing:
            return existing
        secret = secrets.token_hex(32)
        store.webhook_secret, store.webhook_secret_env = secret, None
    # Saved before the store is told: `bazgasht serve` must know it for the first delivery.
    save_config(context.config_path, config)
    context.reload()
    return secret


def _print(report: WebhookReport, counts: dict[str, int] | None) -> None:
    table = Table("topic", "webhook", "status", "delivers to")
    for topic, hooks in report.by_topic().items():
        if not hooks:
            table.add_row(topic, "—", Text("missing", style="red"), "—")
            continue
        for hook in hooks:
            style = "green" if hook.status == "active" else "red"
            state = hook.status + (f" ({report.actions[topic]})" if topic in report.actions else "")
            table.add_row(topic, str(hook.id), Text(state, style=style), hook.delivery_url)
    stdout_console().print(table)
    if counts is not None:
        shown = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty"
        typer.echo(f"Deliveries received by this Bazgasht: {shown}.")


@app.command("install")
def install(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Option(
            "--url",
            metavar="URL",
            help="Where `bazgasht serve` is reachable from the store, e.g. "
            "https://loyalty.example.com (the path /webhooks/woocommerce/STORE is added).",
        ),
    ],
    store: StoreOpt = None,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--secret-env",
            metavar="VAR",
            help="Take the webhook secret from this environment variable (never written to "
            "the config) instead of generating one.",
        ),
    ] = None,
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="Generate a new secret even if one is set.")
    ] = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Register Bazgasht's webhooks on the store.

    One webhook per topic: orders created, updated, trashed and restored; customers created
    and updated. Generates a webhook secret and keeps it like the consumer secret (in the
    config file, mode 0600), unless --secret-env names one. Run it again to change the
    address: existing webhooks are updated, none is made twice. The API key needs
    Read/Write. Start `bazgasht serve` first: WooCommerce pings the address when it creates
    a webhook.

    \b
    Examples:
      bazgasht webhooks install --store myshop --url https://loyalty.example.com
      bazgasht webhooks install -s shop --url https://shop.example/bz --new-secret
    """
    context = app_context(ctx)
    name = _pick(context, store)
    target = delivery_url(url, name)
    for warning in delivery_warnings(target, context.store(name).url):
        typer.echo(f"Warning: {warning}", err=True)
    secret = _secret(context, name, secret_env, new_secret)
    with context.client(name) as client:
        report = install_webhooks(client, name, target, secret)
    if output_format(fmt, as_json) is Format.JSON:
        typer.echo(json_text({**report.as_dict(), "delivery_url": target}))
        return
    _print(report, None)
    typer.echo(f"WooCommerce now delivers to {target}.")
    if context.known_store_id(name) is None:
        typer.echo(
            f"Note: run `{invocation()} sync --store {name}` once: deliveries wait until the "
            "store's first sync.",
            err=True,
        )
    typer.echo(f"Check them any time: {invocation()} webhooks status --store {name}")


@app.command("status")
def status(
    ctx: typer.Context,
    store: StoreOpt = None,
    reactivate: Annotated[
        bool,
        typer.Option(
            "--reactivate", help="Set paused or disabled webhooks of Bazgasht active again."
        ),
    ] = False,
    fmt: FormatOpt = TableOrJson.TABLE,
    as_json: JsonOpt = False,
) -> None:
    """Show the state of Bazgasht's webhooks on the store.

    WooCommerce disables a webhook after repeated failed deliveries (and never resends
    them): `--reactivate` turns it back on, and the next `sync` catches up whatever was
    missed meanwhile. Exit code 1 when a topic is missing or a webhook is not active.

    \b
    Examples:
      bazgasht webhooks status --store myshop
      bazgasht webhooks status -s myshop --reactivate --format json
    """
    context = app_context(ctx)
    name = _pick(context, store)
    with context.client(name) as client:
        report = webhook_report(client, name)
        if reactivate:
            report = reactivate_webhooks(client, report)
    counts = inbox_counts(context.inbox(), name)
    if output_format(fmt, as_json) is Format.JSON:
        typer.echo(json_text({**report.as_dict(), "inbox": counts}))
    else:
        _print(report, counts)
        if report.missing:
            typer.echo(
                f"Missing: {', '.join(report.missing)}. Install them with "
                f"`{invocation()} webhooks install --store {name} --url …`.",
                err=True,
            )
        if report.inactive and not reactivate:
            typer.echo(
                f"Not active: turn them on with `{invocation()} webhooks status --store {name} "
                "--reactivate`, then run `sync` to catch up.",
                err=True,
            )
    if not report.ok:
        raise typer.Exit(1)


__all__ = ["TOPICS", "app"]
