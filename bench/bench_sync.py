"""Sync benchmarks against the built-in sample store (run by hand; prints a table).

    .venv/bin/python bench/bench_sync.py                 # defaults below
    .venv/bin/python bench/bench_sync.py --orders 20000 --runs 3 --no-postgres

1. ingest: a first (full) sync of N orders at zero latency into SQLite and PostgreSQL —
   orders/s and the sync process's peak RSS;
2. latency: Bazgasht's sync vs the official `woocommerce` client's plain sequential page loop
   (`API.get("orders", params={"page": n, "per_page": 100})` until empty) with 100 ms per
   request — and Bazgasht with --concurrency 1 vs 4;
3. no-change: an incremental sync right after a full one — requests and wall time.

Each figure is the median of --runs runs; ratios compare figures of the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import woocommerce
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import Config, StoreConfig, save_config  # noqa: E402
from samplestore import SampleStore  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def sync_process(config: Path, *args: str) -> tuple[float, int, str]:
    """Run `bazgasht sync` in a child; (seconds, peak RSS in MiB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "--config", str(config), "sync", "--quiet", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"sync failed ({proc.returncode}): {err}")
    rss = _child_peak_rss_mib()
    return elapsed, rss, out


def _child_peak_rss_mib() -> int:
    import resource

    # ru_maxrss of children is the max over all waited-for children; each sync child is the
    # largest process we start, so the running maximum is the figure (KiB on Linux).
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def make_config(folder: Path, db_url: str, store: SampleStore, name: str) -> Path:
    """A config for the store, already checked (`store check`), so that the timed sync is
    only the sync — as it is for a shop owner from the second run on."""
    path = folder / f"{name}.toml"
    save_config(
        path,
        Config(
            database_url=db_url,
            stores={
                "bench": StoreConfig(
                    url=store.url,
                    consumer_key=store.consumer_key,
                    consumer_secret=store.consumer_secret,
                )
            },
        ),
    )
    checked = subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(path), "store", "check", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if checked.returncode != 0:
        raise SystemExit(f"store check failed: {checked.stdout}{checked.stderr}")
    return path


class Databases:
    """Fresh databases per run: SQLite files, and scratch PostgreSQL databases dropped after."""

    def __init__(self, folder: Path, postgres: bool) -> None:
        self.folder = folder
        self.postgres = postgres
        self.created: list[str] = []
        self.admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT") if postgres else None

    def sqlite(self) -> str:
        return f"sqlite:///{self.folder / f'{uuid.uuid4().hex[:8]}.sqlite'}"

    def pg(self) -> str:
        assert self.admin is not None
        name = f"bazgasht_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return f"postgresql://postgres@127.0.0.1:5432/{name}"

    def close(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def official_loop(store: SampleStore) -> int:
    api = woocommerce.API(
        store.url, store.consumer_key, store.consumer_secret, version="wc/v3", timeout=60
    )
    page, seen = 1, 0
    while True:
        batch = api.get("orders", params={"page": page, "per_page": 100}).json()
        if not batch:
            return seen
        seen += len(batch)
        page += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders for the ingest run")
    parser.add_argument("--latency-orders", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, postgres=not args.no_postgres)
        try:
            # 1. ingest at zero latency
            with SampleStore(orders=args.orders, seed=5) as store:
                backends = [("SQLite", dbs.sqlite)]
                if not args.no_postgres:
                    backends.append(("PostgreSQL", dbs.pg))
                for label, new_db in backends:
                    times, rss = [], 0
                    for run in range(args.runs):
                        cfg = make_config(folder, new_db(), store, f"ingest-{label}-{run}")
                        seconds, peak, _ = sync_process(cfg)
                        times.append(seconds)
                        rss = max(rss, peak)
                    t = statistics.median(times)
                    rows.append(
                        (
                            f"ingest {args.orders:,} orders → {label}",
                            f"{args.orders / t:,.0f} orders/s ({t:.1f} s), peak RSS ≤ {rss} MiB",
                        )
                    )
                # 3. no-change incremental (on the last SQLite config)
                cfg = make_config(folder, dbs.sqlite(), store, "nochange")
                sync_process(cfg)
                counts, times = [], []
                for _ in range(args.runs):
                    before = store.request_count
                    seconds, _, _ = sync_process(cfg)
                    counts.append(store.request_count - before)
                    times.append(seconds)
                rows.append(
                    (
                        "no-change incremental sync",
                        f"{statistics.median(counts):.0f} requests, "
                        f"{statistics.median(times):.2f} s (process start included)",
                    )
                )
            # 2. 100 ms per request
            with SampleStore(orders=args.latency_orders, seed=6, latency_ms=100) as slow:
                official = median(args.runs, lambda: _timed(lambda: official_loop(slow)))
                seq_configs = [
                    make_config(folder, dbs.sqlite(), slow, f"s{i}") for i in range(args.runs)
                ]
                conc_configs = [
                    make_config(folder, dbs.sqlite(), slow, f"c{i}") for i in range(args.runs)
                ]
                seq = statistics.median(
                    sync_process(cfg, "--concurrency", "1")[0] for cfg in seq_configs
                )
                conc = statistics.median(
                    sync_process(cfg, "--concurrency", "4")[0] for cfg in conc_configs
                )
                rows.append(
                    (
                        f"{args.latency_orders:,} orders, 100 ms/request: official client loop",
                        f"{official:.1f} s (orders only, nothing stored)",
                    )
                )
                rows.append(
                    ("  Bazgasht sync --concurrency 1", f"{seq:.1f} s (orders + customers, stored)")
                )
                rows.append(
                    (
                        "  Bazgasht sync --concurrency 4",
                        f"{conc:.1f} s (orders + customers, stored)",
                    )
                )
                rows.append(("  speed-up: concurrency 4 vs 1", f"{seq / conc:.2f}×"))
                rows.append(
                    ("  speed-up: Bazgasht (4) vs official loop", f"{official / conc:.2f}×")
                )
        finally:
            dbs.close()

    print(
        f"\nBazgasht sync benchmarks — {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, median of {args.runs}"
    )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
