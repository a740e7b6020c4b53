"""Running the application under uvicorn (one or several web processes) beside one applier
process (``server._worker.run_applier``)."""

from __future__ import annotations

import logging
import multiprocessing
import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from app import ENV_CONFIG, Registry, config_path, durable_receipts
from server._app import create_app
from server._worker import run_applier

log = logging.getLogger("bazgasht.server")


def app_from_environment() -> Starlette:
    """The application of one web process: the config named by ``BAZGASHT_CONFIG`` (set by
    ``serve``), its database opened so that an acknowledged delivery survives a crash. It
    receives; the applier process applies."""
    registry = Registry(config_path(None, os.environ), config_explicit=True)
    durable_receipts(registry.inbox())
    return create_app(registry, run_worker=False)


def serve(
    config: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8700,
    workers: int = 1,
    access_log: bool = True,
    log_level: str = "info",
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM: finish the requests under way, then stop).

    ``X-Forwarded-For`` / ``-Proto`` are trusted from the proxy on 127.0.0.1 only."""
    os.environ[ENV_CONFIG] = str(config)
    applier = multiprocessing.get_context("spawn").Process(
        target=run_applier,
        args=(str(config), os.getpid(), 0.1, log_level),
        name="bazgasht-applier",
        daemon=True,
    )
    applier.start()
    try:
        _run_uvicorn(host, port, workers, access_log, log_level)
    finally:
        applier.terminate()  # SIGTERM: it finishes the round under way
        applier.join(30)


def _run_uvicorn(host: str, port: int, workers: int, access_log: bool, log_level: str) -> None:
    uvicorn.run(
        "server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level=log_level,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        timeout_graceful_shutdown=15,
    )


__all__ = ["app_from_environment", "serve"]
