"""kill -9 of ``bazgasht serve`` loses no delivery it acknowledged: each 200 comes after the
inbox's commit. The server started again applies what the killed one had not."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, select

from app import open_inbox, webhook_signature
from app._schema import webhook_deliveries
from connector import StoreFacts, remember_facts
from connector._schema import orders
from tests._helpers import ROOT
from tests._server import FIXTURE_SECRET, recorded, store_config, wait_for, write_server_config

pytestmark = pytest.mark.slow
FACTS = StoreFacts("USD", 2, "UTC", True, "8.2.2", True, True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    """``bazgasht serve`` in a process of its own; its log in ``server.log`` beside the config."""
    with (config.parent / "server.log").open("ab") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "--config", str(config), "serve",
             "--port", str(port), "--no-access-log"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, "the server exited"
            return False

    wait_for(up, timeout=60, interval=0.1)
    return process


def _delivery(number: int) -> tuple[dict[str, str], bytes]:
    """order.updated as recorded, for another order each time (a body of its own)."""
    headers, raw = recorded("order.updated")
    body = json.loads(raw)
    body["id"] = body["number"] = 100_000 + number
    body["number"] = str(body["number"])
    data = json.dumps(body, separators=(",", ":")).encode()
    headers["X-WC-Webhook-Signature"] = webhook_signature(FIXTURE_SECRET, data)
    return headers, data


def test_kill_9_loses_no_acknowledged_delivery(tmp_path: Path, db_url: str, engine: Engine) -> None:
    config = write_server_config(
        tmp_path / "config.toml",
        db_url,
        usd=store_config("http://127.0.0.1:9", webhook_secret=FIXTURE_SECRET),
    )
    remember_facts(engine, "usd", "http://127.0.0.1:9", FACTS)
    inbox = open_inbox(engine)  # on SQLite a file of its own, beside the mirror's
    port = _free_port()
    process = _serve(config, port)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(1_000_000))
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while not stop.is_set():
                with lock:
                    number = next(counter)
                headers, body = _delivery(number)
                try:
                    answer = client.post("/webhooks/woocommerce/usd", content=body, headers=headers)
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 200:
                    with lock:
                        acknowledged.add(hashlib.sha256(body).hexdigest())

    senders = [threading.Thread(target=send) for _ in range(4)]
    for thread in senders:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 60, timeout=60)
    os.kill(process.pid, signal.SIGKILL)  # mid-stream: requests are in flight
    process.wait(30)
    stop.set()
    for thread in senders:
        thread.join(30)
    with inbox.connect() as conn:
        stored = set(conn.execute(select(webhook_deliveries.c.body_sha256)).scalars())
    assert acknowledged and acknowledged <= stored

    # The next server (on a port of its own: the old one may be taken meanwhile) applies
    # what was left pending.
    process = _serve(config, _free_port())
    try:

        def applied() -> bool:
            with inbox.connect() as conn:
                statuses = set(conn.execute(select(webhook_deliveries.c.status)).scalars())
            return statuses == {"applied"}

        wait_for(applied, timeout=60, interval=0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    # A request the kill interrupted after its COMMIT was sent may still have committed
    # (PostgreSQL finishes it) after the look above; it was never acknowledged, so it may be
    # there or not, but whatever is in the inbox in the end is mirrored.
    with inbox.connect() as conn:
        final = set(conn.execute(select(webhook_deliveries.c.body_sha256)).scalars())
    with engine.connect() as conn:
        mirrored = len(conn.execute(select(orders.c.wc_id)).all())
    assert stored <= final and mirrored == len(final) >= len(acknowledged)
    # Neither server left its applier process behind (the first one's parent was killed).
    wait_for(lambda: not _processes_of(config), timeout=30, interval=0.1)


def _processes_of(config: Path) -> list[int]:
    """Processes running with this config (``BAZGASHT_CONFIG``), by /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"BAZGASHT_CONFIG={config}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
