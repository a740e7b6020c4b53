"""Helpers of the server's tests: configs with secrets, recorded deliveries, signed storefront
requests, and a real uvicorn on 127.0.0.1 in a thread."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from starlette.applications import Starlette

from app import Config, Registry, StoreConfig, request_signature, save_config
from app._signing import canonical_query
from server import create_app
from tests.conftest import FIXTURES

HOOKS = FIXTURES / "webhooks"
#: The secret every recorded delivery was signed with.
FIXTURE_SECRET = "whsec-fixture-not-a-real-secret"
STOREFRONT_SECRET = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
#: Headers an HTTP client sets itself.
_TRANSPORT = {"host", "content-length", "connection", "accept-encoding"}


def store_config(url: str, key: str = "ck_" + "0" * 40, secret: str = "cs_" + "0" * 40,
                 **extra: Any) -> StoreConfig:  # fmt: skip
    return StoreConfig(url=url, consumer_key=key, consumer_secret=secret, **extra)


def write_server_config(path: Path, db_url: str, **stores: StoreConfig) -> Path:
    save_config(path, Config(database_url=db_url, stores=stores))
    return path


def registry_of(path: Path) -> Registry:
    return Registry(path, environ={}, config_explicit=True)


def recorded(name: str) -> tuple[dict[str, str], bytes]:
    """A recorded delivery: its headers (those a client would not set itself) and bytes."""
    data = json.loads((HOOKS / f"{name}.json").read_text(encoding="utf-8"))
    headers = {k: v for k, v in data["request"]["headers"].items() if k.lower() not in _TRANSPORT}
    return headers, (HOOKS / "raw" / f"{name}.body").read_bytes()


def deliver(client: httpx.Client, store: str, name: str, **replace: Any) -> httpx.Response:
    """POST a recorded delivery, byte for byte (``replace``: headers or ``body``)."""
    headers, body = recorded(name)
    body = replace.pop("body", body)
    headers.update(replace)
    return client.post(f"/webhooks/woocommerce/{store}", content=body, headers=headers)


def signed_headers(
    secret: str,
    method: str,
    path: str,
    *,
    params: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The plugin's three headers for a request (docs/storefront-api.md)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    query = canonical_query(params or [])
    return {
        "X-Bazgasht-Timestamp": stamp,
        "X-Bazgasht-Nonce": nonce,
        "X-Bazgasht-Signature": request_signature(secret, method, path, query, stamp, nonce, body),
    }


def storefront_call(
    client: httpx.Client,
    method: str,
    path: str,
    secret: str = STOREFRONT_SECRET,
    *,
    params: list[tuple[str, str]] | None = None,
    json_body: Mapping[str, Any] | None = None,
    **signing: Any,
) -> httpx.Response:
    """A signed storefront request, sent the way the plugin sends it."""
    body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
    headers = signed_headers(secret, method, path, params=params, body=body, **signing)
    if body:
        headers["Content-Type"] = "application/json"
    query = canonical_query(params or [])
    url = path + (f"?{query}" if query else "")
    return client.request(method, url, content=body or None, headers=headers)


def new_request_id() -> str:
    return str(uuid.uuid4())


@dataclass
class LiveServer:
    url: str
    app: Starlette
    server: uvicorn.Server


@contextmanager
def live_server(registry: Registry, **options: Any) -> Iterator[LiveServer]:
    """``create_app(registry)`` served by a real uvicorn on 127.0.0.1 (a free port)."""
    application = create_app(registry, **options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(application, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", application, server)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy; its value, or AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)
