"""``bazgasht serve``: the webhook receiver and the storefront API, over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from app import ConfigError
from cli._context import app_context


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            metavar="HOST",
            help="Address to listen on. Keep 127.0.0.1 behind a reverse proxy on the same machine.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="Port.")] = 8700,
    workers: Annotated[
        int,
        typer.Option(
            metavar="N", min=1, max=64, help="Worker processes (each applies deliveries too)."
        ),
    ] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (method, path, status).")
    ] = True,
) -> None:
    """Serve WooCommerce's webhooks and the WordPress plugin's storefront API.

    WooCommerce delivers to /webhooks/woocommerce/STORE (see `bazgasht webhooks install`);
    the plugin calls /storefront/v1/ (see `bazgasht storefront secret`). Each delivery is
    stored before it is acknowledged, then applied to the mirror and the loyalty ledger
    within a second or two. Put it behind a reverse proxy that terminates TLS (nginx,
    Caddy); docs/companion.md has a systemd unit. Stop it with Ctrl-C or SIGTERM.

    \b
    Examples:
      bazgasht serve
      bazgasht serve --port 8700 --workers 2
    """
    context = app_context(ctx)
    if not context.config_path.exists():
        raise ConfigError(
            f"there is no config file at {context.config_path}: set up a store first "
            "(`bazgasht init`, `bazgasht store add`)."
        )
    config = context.config  # a broken file stops here, before anything listens
    for name, store in sorted(config.stores.items()):
        # Secrets named by environment variables must be set where the server runs.
        store.webhook_key(name, context.environ)
        store.storefront_keys(name, context.environ)
    context.engine()  # migrated once, before the workers start
    context.close()
    typer.echo(
        f"Serving {len(config.stores)} store(s) on http://{host}:{port} — webhooks at "
        "/webhooks/woocommerce/STORE, the storefront API at /storefront/v1/. Ctrl-C stops.",
        err=True,
    )
    from server import serve as run_server  # uvicorn is loaded only to serve

    run_server(
        context.config_path.resolve(),
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="debug" if context.debug else "info",
    )
