"""``bazgasht serve``: the HTTP entry point beside the CLI (issue 13).

An ASGI application (Starlette) served by uvicorn: the receiver of WooCommerce's webhooks
and the storefront API of the WordPress plugin, with a worker thread per process that
applies received deliveries. It calls the application layer (``app``) only. Run it on
loopback behind a reverse proxy that terminates TLS (docs/companion.md).
"""

from server._app import ISSUE_WAIT_SECONDS, MAX_STOREFRONT_BODY, Server, create_app
from server._run import app_from_environment, serve
from server._worker import InboxWorker

__all__ = [
    "ISSUE_WAIT_SECONDS",
    "MAX_STOREFRONT_BODY",
    "InboxWorker",
    "Server",
    "app_from_environment",
    "create_app",
    "serve",
]
