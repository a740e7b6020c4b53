"""Webhook benchmarks: the receiver under load, and an order's points end to end (by hand).

    .venv/bin/python bench/bench_webhooks.py                  # SQLite, the targets' figures
    .venv/bin/python bench/bench_webhooks.py --postgres       # the same on PostgreSQL
    .venv/bin/python bench/bench_webhooks.py --rate 400 --seconds 10

1. receiver: `bazgasht serve` (a real uvicorn process on 127.0.0.1) receives signed
   order.updated deliveries — WooCommerce's recorded bytes, one order id each — at a fixed
   rate for a fixed time (an open-loop, bounded load: requests leave on schedule whatever
   the answers do), each on a new connection with `Connection: close` as WooCommerce sends
   them. Meanwhile the server's worker applies them (mirror, reconciliation). Reported: the
   rate achieved, every answer 200, and the latency of the acknowledgement (p50, p99, max).
   Target: 200 deliveries/s acknowledged with p99 ≤ 50 ms.
2. end to end: the sample store (a WooCommerce that delivers webhooks as 8.2.2 does) with
   Bazgasht's webhooks installed (`bazgasht webhooks install`); an order is placed, then
   completed on the store; measured: from the completion to the order's cashback in the
   ledger. Target: within 2 s.

No test asserts these timings; they are measured here, on this machine, and printed beside
the targets.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import Config, StoreConfig, open_inbox, save_config, webhook_signature  # noqa: E402
from app._schema import webhook_deliveries  # noqa: E402
from connector import StoreFacts, open_database, remember_facts  # noqa: E402
from loyalty import loyalty_ledger  # noqa: E402
from samplestore import SampleStore  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIXTURE = ROOT / "tests/fixtures/woocommerce/webhooks"
SECRET = "bench-webhook-secret-" + "x" * 24
FACTS = StoreFacts("USD", 2, "UTC", True, "8.2.2", True, True)
#: Sending threads: enough that a slow answer does not hold back the schedule (at 200/s and
#: a few ms per answer, a handful are busy at once), few enough not to eat the 2 cores.
SENDERS = 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(config: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "--config", str(config), "serve",
             "--port", str(port), "--workers", str(workers), "--no-access-log"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=handle,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"bazgasht serve exited; see {log}") from None
        time.sleep(0.1)
    raise SystemExit("bazgasht serve did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def _database(use_postgres: bool, folder: Path) -> tuple[str, str | None]:
    if not use_postgres:
        return f"sqlite:///{folder / 'bench.sqlite'}", None
    name = f"bazgasht_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", name


def _drop(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# --------------------------------------------------------------------------- 1. receiver


def _bodies(count: int) -> list[tuple[dict[str, str], bytes]]:
    recorded = json.loads((FIXTURE / "order.updated.json").read_text())
    headers = {
        k: v
        for k, v in recorded["request"]["headers"].items()
        if k not in ("Host", "Content-Length", "Connection")
    }
    raw = json.loads((FIXTURE / "raw/order.updated.body").read_bytes())
    out = []
    for number in range(count):
        body = dict(raw, id=200_000 + number, number=str(200_000 + number))
        data = json.dumps(body, separators=(",", ":")).encode()
        signed = dict(headers, **{"X-WC-Webhook-Signature": webhook_signature(SECRET, data)})
        out.append((signed, data))
    return out


def receiver(
    db_url: str, folder: Path, rate: float, seconds: float, workers: int
) -> dict[str, float]:
    config = folder / "receiver.toml"
    save_config(
        config,
        Config(
            database_url=db_url,
            stores={
                "bench": StoreConfig(
                    url="http://127.0.0.1:9",
                    consumer_key="ck_" + "0" * 40,
                    consumer_secret="cs_" + "0" * 40,
                    webhook_secret=SECRET,
                    loyalty={"starts_at": "2000-01-01T00:00:00+00:00"},
                )
            },
        ),
    )
    engine = open_database(db_url)
    remember_facts(engine, "bench", "http://127.0.0.1:9", FACTS)  # as after a first sync
    inbox = open_inbox(engine)  # on SQLite a file of its own, beside the mirror's
    total = int(rate * seconds)
    deliveries = _bodies(total)
    port = _free_port()
    process = _serve(config, port, workers, folder / "receiver.log")
    latencies: list[float] = []
    statuses: list[int] = []
    finished: list[float] = []
    lock = threading.Lock()
    next_index = iter(range(total))
    start = time.perf_counter() + 0.5

    def sender() -> None:
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            due = start + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            headers, body = deliveries[index]
            sent = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request(
                    "POST", "/webhooks/woocommerce/bench", body=body,
                    headers={**headers, "Connection": "close"},
                )  # fmt: skip
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except OSError:
                status = 0
            finally:
                conn.close()
            done = time.perf_counter()
            with lock:
                latencies.append(done - sent)
                statuses.append(status)
                finished.append(done)

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = max(finished) - start  # from the first scheduled send to the last answer
    # Then: how long the worker takes to apply the backlog (not part of the target).
    applied_by = time.perf_counter()
    while time.perf_counter() - applied_by < 120:
        with inbox.connect() as conn:
            pending = conn.execute(
                select(func.count()).where(webhook_deliveries.c.status == "pending")
            ).scalar_one()
        if not pending:
            break
        time.sleep(0.2)
    drained = time.perf_counter() - start
    with inbox.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar_one()
    _stop(process)
    inbox.dispose()
    engine.dispose()
    ok = sum(1 for s in statuses if s == 200)
    return {
        "sent": total,
        "ok": ok,
        "stored": stored,
        "rate": ok / wall,
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": max(latencies) * 1000,
        "drained": drained,
    }


# --------------------------------------------------------------------------- 2. end to end


def _cashback(engine: Engine, order_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(loyalty_ledger.c.points), 0)).where(
                    loyalty_ledger.c.key == f"cashback:shop:{order_id}"
                )
            ).scalar_one()
        )


def end_to_end(db_url: str, folder: Path, orders: int, workers: int) -> list[float]:
    with SampleStore(orders=2000, seed=9) as store:
        config = folder / "e2e.toml"
        save_config(
            config,
            Config(
                database_url=db_url,
                stores={
                    "shop": StoreConfig(
                        url=store.url,
                        consumer_key=store.consumer_key,
                        consumer_secret=store.consumer_secret,
                        storefront_secret=hashlib.sha256(b"bench").hexdigest(),
                        loyalty={"starts_at": "2000-01-01T00:00:00+00:00"},
                    )
                },
            ),
        )
        cli = [sys.executable, "-m", "cli", "--config", str(config)]
        subprocess.run([*cli, "sync", "--quiet"], cwd=ROOT, check=True)
        port = _free_port()
        process = _serve(config, port, workers, folder / "e2e.log")
        try:
            subprocess.run(
                [*cli, "webhooks", "install", "--url", f"http://127.0.0.1:{port}"],
                cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            engine = open_database(db_url)
            customers = [c.id for c in store.data.customers(role="customer")]
            times = []
            for n in range(orders):
                order_id = store.create_order(customer_id=customers[n % len(customers)])
                time.sleep(0.3)  # the order as placed reaches Bazgasht first
                started = time.perf_counter()
                store.modify_order(order_id, status="completed")
                while _cashback(engine, order_id) <= 0:
                    if time.perf_counter() - started > 30:
                        raise SystemExit(f"order {order_id}: no points after 30 s")
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
            engine.dispose()
            return times
        finally:
            _stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    parser.add_argument("--orders", type=int, default=10, help="orders timed end to end")
    parser.add_argument("--workers", type=int, default=1, help="`serve --workers`")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}; database: "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}; serve --workers {args.workers}"
    )
    with tempfile.TemporaryDirectory(prefix="bazgasht-bench-") as tmp:
        folder = Path(tmp)
        db_url, name = _database(args.postgres, folder)
        try:
            got = receiver(db_url, folder, args.rate, args.seconds, args.workers)
        finally:
            _drop(name)
        db_url, name = _database(args.postgres, folder)
        try:
            times = end_to_end(db_url, folder, args.orders, args.workers)
        finally:
            _drop(name)
    rows = [
        ("deliveries acknowledged (200)", f"{got['ok']}/{got['sent']} (stored: {got['stored']})",
         "all"),
        ("acknowledged per second", f"{got['rate']:.0f}/s", f"≥ {args.rate:.0f}/s"),
        ("acknowledgement p50 / p99 / max", f"{got['p50']:.1f} / {got['p99']:.1f} / "
         f"{got['max']:.1f} ms", "p99 ≤ 50 ms"),
        ("backlog applied (mirror + ledger) after", f"{got['drained']:.1f} s from the first", "—"),
        ("order completed → points in the ledger", f"median {statistics.median(times):.2f} s, "
         f"max {max(times):.2f} s ({len(times)} orders)", "≤ 2 s"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\n{'':{width}}  {'measured':48}  target")
    for label, value, target in rows:
        print(f"{label:{width}}  {value:48}  {target}")


if __name__ == "__main__":
    main()
