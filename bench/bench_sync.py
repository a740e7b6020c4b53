"""Sync benchmarks against the built-in sample store (run by hand; prints figures beside the
targets of issue 11). One command per row:

    .venv/bin/python bench/bench_sync.py latency   # 1: 100 ms per answer, vs the official loop
    .venv/bin/python bench/bench_sync.py cpu       # 2: zero latency, CPU per order (both DBs)
    .venv/bin/python bench/bench_sync.py memory    # 3: peak RSS of a 1M-order first sync
    .venv/bin/python bench/bench_sync.py nochange  # a no-change incremental sync

``--orders`` scales each; ``--runs`` takes the median; ``--no-postgres`` skips PostgreSQL.

How it is made fair (docs/sync.md, "Speed"):

* The sample store runs in a process of its own (this script started with ``serve``), so
  neither client shares an interpreter (or its GIL) with the server.
* ``latency`` and ``cpu`` serve pre-rendered answers: each distinct GET is rendered once
  (a warm-up run of each client, not timed) and replayed from memory afterwards. Rendering
  a page of 100 orders costs the sample store ~16 ms of CPU; a real WooCommerce renders on
  its own machine, and on this 2-core box the renderer would otherwise take the core the
  client needs. ``memory`` renders live (a 1M-order cache would not fit).
* ``bazgasht sync`` runs as the real CLI in a child process (``--config`` with a checked
  store, as from a shop owner's second run on). The loyalty step that ends every sync
  (``after_sync``, owned by the ledger) is timed separately and reported apart: the sync
  figures exclude it. The child also reports the CPU of the engine alone (``sync_store``).
* The official ``woocommerce`` client's loop is the plain sequential page loop a script
  would write: ``API.get("orders", params={"page": n, "per_page": 100})`` until a page is
  empty — and the same over ``customers`` (``role=all``), which the first sync mirrors too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ME = Path(__file__).resolve()

# --------------------------------------------------------------------------- the store process


def _sample_store_class() -> Any:
    from samplestore import SampleStore

    return SampleStore


def serve(orders: int, seed: int, latency_ms: float, cached: bool) -> None:
    """The store, in this process: prints its address and keys as one JSON line, then
    answers ``count`` on stdin with its request count; stops at end of input."""
    store = _sample_store_class()(orders=orders, seed=seed, latency_ms=latency_ms).start()
    if cached:
        _cache_answers(store)
    print(
        json.dumps({"url": store.url, "key": store.consumer_key, "secret": store.consumer_secret}),
        flush=True,
    )
    for line in sys.stdin:
        if line.strip() == "count":
            print(store.request_count, flush=True)
    store.stop()


def _cache_answers(store: Any) -> None:
    """Render each distinct successful GET once, replay it afterwards (see the docstring)."""
    api = store.api
    render = api.handle
    answers: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
    hidden = ("oauth_", "consumer_")

    def handle(request: Any, now: int) -> Any:
        if request.method != "GET":
            return render(request, now)
        key = (
            request.path,
            tuple(sorted((k, v) for k, v in request.query if not k.startswith(hidden))),
        )
        found = answers.get(key)
        if found is None:
            found = render(request, now)
            if found.status == 200:
                answers[key] = found
        return found

    api.handle = handle


class Store:
    """A sample store in a child process."""

    def __init__(self, orders: int, *, seed: int, latency_ms: float = 0, cached: bool) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ME), "serve", "--orders", str(orders), "--seed", str(seed)]
            + ["--latency-ms", str(latency_ms)]
            + ([] if cached else ["--live"]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.url, self.key, self.secret = info["url"], info["key"], info["secret"]

    @property
    def request_count(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# --------------------------------------------------------------------------- the clients


#: Runs `bazgasht sync` (the real CLI) with the engine and the loyalty step timed apart.
CHILD = """
import json, os, resource, sys, time
started = time.perf_counter()
sys.argv = ["bazgasht", *json.loads(os.environ["BENCH_ARGV"])]
import app._sync as flow
figures = {"loyalty_s": 0.0, "loyalty_cpu": 0.0}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            figures[name + "_s"] = figures.get(name + "_s", 0) + time.perf_counter() - t
            figures[name + "_cpu"] = figures.get(name + "_cpu", 0) + time.process_time() - c
            # the process's peak so far: the sync's own, before the loyalty step runs
            figures[name + "_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return wrapper
if hasattr(flow, "after_sync"):
    flow.after_sync = timed("loyalty", flow.after_sync)
if hasattr(flow, "sync_store"):
    flow.sync_store = timed("engine", flow.sync_store)
from cli.main import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
usage = resource.getrusage(resource.RUSAGE_SELF)
figures.update(
    code=code, wall_s=time.perf_counter() - started, cpu=usage.ru_utime + usage.ru_stime,
    rss_mib=usage.ru_maxrss / 1024,
)
with open(os.environ["BENCH_OUT"], "w") as out:
    json.dump(figures, out)
"""


def bazgasht_sync(config: Path, *args: str) -> dict[str, float]:
    """`bazgasht sync` in a child; its figures (wall from the start of the process)."""
    out = config.with_suffix(".json")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BENCH_ARGV": json.dumps(["--config", str(config), "sync", "--quiet", *args]),
        "BENCH_OUT": str(out),
    }
    # As installed: Python keeps the compiled modules (an environment that forbids writing
    # them, PYTHONDONTWRITEBYTECODE — this VM's — would make every run compile the product
    # again: ~0.1 s of each run's start; bench_metrics.py does the same).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    figures = json.loads(out.read_text()) if out.exists() else {}
    if done.returncode != 0 or figures.get("code"):
        raise SystemExit(f"sync failed: {done.stdout}{done.stderr}")
    figures["process_s"] = elapsed  # spawn included
    figures["sync_s"] = elapsed - figures["loyalty_s"]
    figures["sync_cpu"] = figures["cpu"] - figures["loyalty_cpu"]
    return figures


def make_config(folder: Path, db_url: str, store: Store, name: str) -> Path:
    """A config whose store is already checked (`store check`, which also creates the
    database), so that the timed run is only the sync."""
    from app import Config, StoreConfig, save_config

    path = folder / f"{name}.toml"
    save_config(
        path,
        Config(
            database_url=db_url,
            stores={
                "bench": StoreConfig(
                    url=store.url, consumer_key=store.key, consumer_secret=store.secret
                )
            },
        ),
    )
    checked = subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(path), "store", "check", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if checked.returncode != 0:
        raise SystemExit(f"store check failed: {checked.stdout}{checked.stderr}")
    return path


def official_loop(store: Store, resource: str, **extra: str) -> int:
    import woocommerce

    api = woocommerce.API(store.url, store.key, store.secret, version="wc/v3", timeout=60)
    page, seen = 1, 0
    while True:
        batch = api.get(resource, params={"page": page, "per_page": 100, **extra}).json()
        if not batch:
            return seen
        seen += len(batch)
        page += 1


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class Databases:
    """Fresh databases per run: SQLite files, and scratch PostgreSQL databases dropped after."""

    def __init__(self, folder: Path, postgres: bool) -> None:
        from sqlalchemy import create_engine

        self.folder = folder
        self.created: list[str] = []
        self.admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT") if postgres else None

    def new(self, kind: str) -> str:
        if kind == "SQLite":
            return f"sqlite:///{self.folder / f'{uuid.uuid4().hex[:8]}.sqlite'}"
        from sqlalchemy import text

        assert self.admin is not None
        name = f"bazgasht_bench_syncperf_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return f"postgresql://postgres@127.0.0.1:5432/{name}"

    def close(self) -> None:
        if self.admin is None:
            return
        from sqlalchemy import text

        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


# --------------------------------------------------------------------------- the rows


def row_latency(args: argparse.Namespace, dbs: Databases, folder: Path) -> list[str]:
    lines = []
    with Store(args.orders, seed=6, latency_ms=args.latency_ms, cached=True) as store:
        # Warm-up (untimed): every answer either client asks for gets rendered once.
        official_loop(store, "orders")
        official_loop(store, "customers", role="all")
        bazgasht_sync(make_config(folder, dbs.new("SQLite"), store, "warm4"), "--concurrency", "4")
        bazgasht_sync(make_config(folder, dbs.new("SQLite"), store, "warm8"), "--concurrency", "8")
        orders_only, both = [], []
        for _ in range(args.runs):
            o = timed(lambda: official_loop(store, "orders"))
            c = timed(lambda: official_loop(store, "customers", role="all"))
            orders_only.append(o)
            both.append(o + c)
        official, official_all = statistics.median(orders_only), statistics.median(both)
        lines.append(
            f"official client loop, {args.orders:,} orders: {official:.1f} s; "
            f"orders + customers: {official_all:.1f} s"
        )
        for concurrency, target in ((4, 3.5), (8, 7.0)):
            runs = [
                bazgasht_sync(
                    make_config(folder, dbs.new("SQLite"), store, f"c{concurrency}-{i}"),
                    "--concurrency",
                    str(concurrency),
                )
                for i in range(args.runs)
            ]
            sync = statistics.median(r["sync_s"] for r in runs)
            engine = statistics.median(r["engine_s"] for r in runs)
            loyalty = statistics.median(r["loyalty_s"] for r in runs)
            lines.append(
                f"bazgasht sync --concurrency {concurrency}: {sync:.1f} s (process, without the "
                f"loyalty step's {loyalty:.1f} s; engine alone {engine:.1f} s) → "
                f"{official_all / sync:.2f}× the official loop over the same data "
                f"({official / sync:.2f}× its orders-only loop)   [target ≥ {target}×]"
            )
    return lines


def row_cpu(args: argparse.Namespace, dbs: Databases, folder: Path) -> list[str]:
    lines = []
    with Store(args.orders, seed=5, cached=True) as store:
        bazgasht_sync(make_config(folder, dbs.new("SQLite"), store, "warm"))  # renders all
        for kind in ["SQLite"] + ([] if args.no_postgres else ["PostgreSQL"]):
            runs = [
                bazgasht_sync(make_config(folder, dbs.new(kind), store, f"cpu-{kind}-{i}"))
                for i in range(args.runs)
            ]
            engine = statistics.median(r["engine_cpu"] for r in runs) / args.orders * 1000
            process = statistics.median(r["sync_cpu"] for r in runs) / args.orders * 1000
            wall = statistics.median(r["engine_s"] for r in runs)
            rss = max(r.get("engine_rss_mib", r["rss_mib"]) for r in runs)
            lines.append(
                f"{kind}: {engine:.3f} ms CPU per order in the engine, {process:.3f} ms in the "
                f"whole process without the loyalty step (start-up included); engine "
                f"{args.orders / wall:,.0f} orders/s wall; peak RSS {rss:.0f} MiB   "
                "[target ≤ 0.1 ms]"
            )
    return lines


def row_memory(args: argparse.Namespace, dbs: Databases, folder: Path) -> list[str]:
    lines = []
    with Store(args.orders, seed=7, cached=False) as store:
        for kind in ["SQLite"] + ([] if args.no_postgres else ["PostgreSQL"]):
            r = bazgasht_sync(make_config(folder, dbs.new(kind), store, f"mem-{kind}"))
            lines.append(
                f"{kind}, {args.orders:,} orders: peak RSS {r['engine_rss_mib']:.0f} MiB during "
                f"the sync, {r['rss_mib']:.0f} MiB with the loyalty step after it "
                f"(sync {r['engine_s']:.0f} s, live rendering)   [target ≤ 200 MiB at 1M]"
            )
    return lines


def row_nochange(args: argparse.Namespace, dbs: Databases, folder: Path) -> list[str]:
    with Store(args.orders, seed=5, cached=False) as store:
        cfg = make_config(folder, dbs.new("SQLite"), store, "nochange")
        bazgasht_sync(cfg)
        counts, times = [], []
        for _ in range(args.runs):
            before = store.request_count
            r = bazgasht_sync(cfg)
            counts.append(store.request_count - before)
            times.append(r["process_s"])
    return [
        f"no-change incremental sync: {statistics.median(counts):.0f} requests, "
        f"{statistics.median(times):.2f} s (process start and loyalty step included)"
    ]


ROWS = {"latency": row_latency, "cpu": row_cpu, "memory": row_memory, "nochange": row_nochange}
DEFAULT_ORDERS = {"latency": 30_000, "cpu": 30_000, "memory": 1_000_000, "nochange": 5_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("row", choices=[*ROWS, "serve"])
    parser.add_argument("--orders", type=int, help="orders in the store (default per row)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--live", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row == "serve":
        serve(args.orders, args.seed, args.latency_ms, cached=not args.live)
        return
    args.orders = args.orders or DEFAULT_ORDERS[args.row]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bazgasht-bench-") as tmp:
        dbs = Databases(Path(tmp), postgres=not args.no_postgres)
        try:
            lines = ROWS[args.row](args, dbs, Path(tmp))
        finally:
            dbs.close()
    after = os.getloadavg()
    print(
        f"\nbench_sync {args.row} — {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, median of {args.runs}; "
        f"load average {load[0]:.1f} before, {after[0]:.1f} after"
    )
    for line in lines:
        print(f"  {line}")


if __name__ == "__main__":
    main()
