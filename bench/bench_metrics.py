"""Benchmark: `bazgasht metrics` and `bazgasht report` end to end on a million-order mirror.

Builds a synthetic but realistic store (accounts and guests, guests who later register,
repeat buyers with gaps between orders, growth and seasonality, cancelled, refunded and
deleted orders, a non-UTC timezone with summer time) by bulk inserts — ``executemany`` on
SQLite, ``COPY`` on PostgreSQL — then runs each command as its own process (start-up and
imports included) several times and prints, one row per command, the median wall time (and
the process's CPU time, which a busy machine inflates less) beside the target of issue 11.
Also shown: the first run, which builds the kept counted orders (``analytics_orders``), and a
run after ``--changed`` orders changed (the incremental refresh), and the load average.

    .venv/bin/python bench/bench_metrics.py                       # 1 M orders, both backends
    .venv/bin/python bench/bench_metrics.py --orders 200000 --backend sqlite --runs 3
    .venv/bin/python bench/bench_metrics.py --keep /tmp/bench-metrics   # build once, reuse

PostgreSQL: a scratch database ``bazgasht_bench_metrics_<random>`` is created on the server
given by ``--postgres`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) and
dropped at the end (with ``--keep``: ``bazgasht_bench_metrics_<orders>``, kept). Nothing here
asserts a time: it prints numbers for people to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import Config, StoreConfig, save_config  # noqa: E402
from connector import open_database, stores  # noqa: E402
from connector._db import normalize_url  # noqa: E402

STORE = "bench"
TIMEZONE = "Europe/Berlin"
#: The instant the generated history ends; the benchmark reports "as of" it.
END = datetime(2026, 1, 1, tzinfo=UTC)
YEARS = 3
STATUSES = (
    ("completed", 0.80),
    ("processing", 0.06),
    ("cancelled", 0.05),
    ("refunded", 0.03),
    ("failed", 0.02),
    ("pending", 0.02),
    ("on-hold", 0.02),
)
ORDER_COLUMNS = (
    "store_id", "wc_id", "number", "status", "currency", "created_at", "modified_at",
    "paid_at", "completed_at", "total", "total_tax", "shipping_total", "discount_total",
    "refunded_total", "customer_id", "billing_email", "billing_first_name",
    "billing_last_name", "billing_phone", "coupon_codes", "deleted_at", "seen_scan",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "store_id", "wc_id", "email", "first_name", "last_name", "phone", "role", "created_at",
    "modified_at", "is_paying_customer", "deleted_at", "seen_scan",
)  # fmt: skip
FIRST = ("Sara", "Ali", "Maryam", "Reza", "Anna", "John", "Lena", "Omid", "Nika", "Paul")
LAST = ("Ahmadi", "Karimi", "Smith", "Müller", "Rossi", "Tehrani", "Novak", "Berg")


@dataclass
class Generated:
    orders: list[tuple[object, ...]]
    customers: list[tuple[object, ...]]


def _ts(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def generate(n_orders: int, *, store_id: int = 1, seed: int = 7) -> Generated:
    """Rows for ``orders`` and ``customers`` in column order, naive UTC datetimes.

    Buyers arrive with a growing rate over ``YEARS`` years; each buys a geometric number of
    times (60 % once) with exponential gaps, until the history ends. 55 % open an account,
    a few of them after buying as a guest under the same e-mail; 1 % of guest orders carry
    no e-mail at all.
    """
    rng = random.Random(seed)
    start = END - timedelta(days=365 * YEARS)
    span = (END - start).total_seconds()
    order_rows: list[tuple[object, ...]] = []
    customer_rows: list[tuple[object, ...]] = []
    status_names = [s for s, _ in STATUSES]
    status_weights = [w for _, w in STATUSES]
    next_customer = 1
    buyer = 0
    while len(order_rows) < n_orders:
        buyer += 1
        # Growth: arrival density rises linearly (sqrt of a uniform), plus a December bump.
        first = start + timedelta(seconds=span * math.sqrt(rng.random()))
        if rng.random() < 0.08:
            first = first.replace(month=12, day=min(first.day, 28)) if first.year < 2025 else first
        email = f"buyer{buyer}@example.{rng.choice(('com', 'org', 'ir'))}"
        first_name, last_name = rng.choice(FIRST), rng.choice(LAST)
        phone = f"+98912{buyer:07d}"
        kind = rng.random()
        customer_id = 0
        account_at: datetime | None = None
        if kind < 0.55:
            customer_id = next_customer
            next_customer += 1
            account_at = first - timedelta(minutes=rng.randint(1, 600))
        elif kind < 0.60:
            # A guest who registers later with the same e-mail: guest orders merge into it.
            account_at = first + timedelta(days=rng.randint(1, 200))
            if account_at < END:
                customer_id = next_customer
                next_customer += 1
        if customer_id and account_at is not None:
            customer_rows.append(
                (store_id, customer_id, email, first_name, last_name, phone, "customer",
                 _ts(account_at), _ts(account_at), True, None, None)
            )  # fmt: skip
        when = first
        while when < END and len(order_rows) < n_orders:
            wc_id = len(order_rows) + 1
            status = rng.choices(status_names, status_weights)[0]
            total = round(math.exp(rng.gauss(3.9, 0.7)), 2)
            total_units = int(round(total * 10_000, -2))
            refunded = 0
            if status == "refunded":
                refunded = total_units
            elif status == "completed" and rng.random() < 0.04:
                refunded = (total_units * rng.randint(5, 60) // 100) // 100 * 100
            # Orders placed before the account existed were guest orders.
            as_customer = customer_id if account_at is not None and when >= account_at else 0
            has_email = as_customer or rng.random() > 0.01
            order_rows.append(
                (
                    store_id, wc_id, str(wc_id), status, "USD", _ts(when),
                    _ts(when + timedelta(hours=2)),
                    _ts(when) if status in ("completed", "processing", "refunded") else None,
                    _ts(when + timedelta(days=2)) if status == "completed" else None,
                    total_units, total_units // 11, 50_000, 0, refunded, as_customer,
                    email if has_email else "", first_name, last_name, phone, "",
                    _ts(when + timedelta(days=30)) if rng.random() < 0.002 else None, None,
                )
            )  # fmt: skip
            if rng.random() < 0.45:  # the next purchase never comes
                break
            when += timedelta(days=rng.expovariate(1 / 75) + 0.5)
    return Generated(order_rows, customer_rows)


def _sqlite_timestamp(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load(engine: Engine, data: Generated) -> int:
    """Create the store row and bulk-insert the generated rows; returns the store id."""
    with engine.begin() as conn:
        store_id = conn.execute(
            insert(stores)
            .values(
                name=STORE,
                url="https://bench.example",
                currency="USD",
                decimals=2,
                timezone=TIMEZONE,
                wc_version="9.0.0",
                created_at=END,
            )
            .returning(stores.c.id)
        ).scalar_one()
    assert store_id == 1, "the generator wrote store id 1 into the rows"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns, rows in (
            ("customers", CUSTOMER_COLUMNS, data.customers),
            ("orders", ORDER_COLUMNS, data.orders),
        ):
            names = ", ".join(columns)
            if engine.dialect.name == "sqlite":
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    ([_sqlite_timestamp(v) for v in row] for row in rows),
                )
            else:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
        raw.commit()
        if engine.dialect.name == "postgresql":
            driver = raw.driver_connection
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute("VACUUM ANALYZE orders")  # type: ignore[union-attr]
            driver.execute("VACUUM ANALYZE customers")  # type: ignore[union-attr]
            driver.autocommit = False  # type: ignore[union-attr]
        else:
            cursor.execute("ANALYZE")
    finally:
        raw.close()
    return int(store_id)


@contextlib.contextmanager
def scratch_database(
    backend: str, postgres: str, folder: Path, n_orders: int, keep: bool
) -> Iterator[tuple[str, bool]]:
    """The database URL and whether it still has to be filled. ``keep``: a database kept
    between runs (``--keep``: ``FOLDER/bench-N.sqlite``, PostgreSQL
    ``bazgasht_bench_metrics_N``), built by the first run, reused by the next ones."""
    if backend == "sqlite":
        path = folder / f"bench-{n_orders}.sqlite"
        yield f"sqlite:///{path}", not (keep and path.exists())
        return
    name = (
        f"bazgasht_bench_metrics_{n_orders}"
        if keep
        else f"bazgasht_bench_metrics_{uuid.uuid4().hex[:10]}"
    )
    admin = create_engine(normalize_url(postgres), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + f"/{name}", not (keep and exists)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]  # user + system of the command's process
    output: bytes

    @property
    def median(self) -> float:
        return statistics.median(self.wall)


def _time_cli(config: Path, args: list[str], runs: int) -> Timing:
    """Run ``bazgasht ARGS`` as its own process ``runs`` times (start-up and imports
    included, as a user or cron would run it)."""
    # As installed: Python keeps the compiled modules (an environment that forbids writing
    # them, PYTHONDONTWRITEBYTECODE, would make every run compile the product again).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [str(ROOT / ".venv" / "bin" / "bazgasht"), "--config", str(config), *args]
    wall, cpu = [], []
    output = b""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(
                f"`bazgasht {' '.join(args)}` exited {done.returncode}:\n"
                f"{done.stdout.decode()}{done.stderr.decode()}"
            )
        output = done.stdout
    return Timing(wall, cpu, output)


def _change_orders(url: str, count: int, seed: int = 11) -> list[tuple[int, str]]:
    """Cancel ``count / 2`` counted orders and complete as many cancelled ones, as a sync
    would write them; returns (order, old status) to put them back."""
    engine = create_engine(normalize_url(url))
    rng = random.Random(seed)
    changed: list[tuple[int, str]] = []
    with engine.begin() as conn:
        for old, new in (("completed", "cancelled"), ("cancelled", "completed")):
            ids = (
                conn.execute(
                    text("SELECT wc_id FROM orders WHERE store_id = 1 AND status = :s"), {"s": old}
                )
                .scalars()
                .all()
            )
            picked = rng.sample(sorted(ids), count // 2)
            _set_statuses(conn, [(wc_id, new) for wc_id in picked])
            changed += [(wc_id, old) for wc_id in picked]
    engine.dispose()
    return changed


def _set_statuses(conn: Any, statuses: list[tuple[int, str]]) -> None:
    conn.execute(
        text("UPDATE orders SET status = :s WHERE store_id = 1 AND wc_id = :i"),
        [{"s": status, "i": wc_id} for wc_id, status in statuses],
    )


def _restore_orders(url: str, changed: list[tuple[int, str]]) -> None:
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        _set_statuses(conn, changed)
    engine.dispose()


TARGETS = {"metrics": 2.0, "report": 4.0}


def bench(
    backend: str,
    n_orders: int,
    runs: int,
    postgres: str,
    folder: Path,
    keep: bool,
    changed: int,
    data: Callable[[], Generated],
) -> tuple[list[str], bytes]:
    lines = []
    with scratch_database(backend, postgres, folder, n_orders, keep) as (url, fill):
        if fill:
            engine = open_database(url)
            started = time.perf_counter()
            load(engine, data())
            lines.append(f"  loaded {n_orders:,} orders in {time.perf_counter() - started:.1f} s")
            engine.dispose()
        else:
            open_database(url).dispose()  # migrations of this checkout
        config = folder / f"config-{backend}.toml"
        save_config(
            config,
            Config(
                database_url=url,
                stores={STORE: StoreConfig(url="https://bench.example", consumer_key="ck_bench")},
            ),
        )
        as_of = ["--as-of", END.isoformat()]
        metrics_args = ["metrics", "--store", STORE, *as_of, "--format", "json"]
        first = _time_cli(config, metrics_args, 1)  # builds analytics_orders if needed
        lines.append(
            f"  first `metrics` (brings analytics_orders up to date): {first.wall[0]:.2f} s"
        )
        rows = {
            "metrics": _time_cli(config, metrics_args, runs),
            "report": _time_cli(
                config,
                ["report", "--store", STORE, *as_of, "--output", str(folder / "report.html")],
                runs,
            ),
        }
        for name, timing in rows.items():
            target = TARGETS[name]
            verdict = "meets" if timing.median <= target else "misses"
            cpu = statistics.median(timing.cpu)
            lines.append(
                f"  {name:<8} {timing.median:6.2f} s wall (cpu {cpu:.2f} s)"
                f"  target <= {target:.0f} s: {verdict}   runs {_runs(timing.wall)}"
            )
        if changed:
            undo = _change_orders(url, changed)
            after = _time_cli(config, metrics_args, 1)
            lines.append(
                f"  `metrics` after {changed:,} changed orders (incremental refresh): "
                f"{after.wall[0]:.2f} s"
            )
            _restore_orders(url, undo)  # a kept mirror stays as it was built
    return lines, rows["metrics"].output


def _runs(times: list[float]) -> str:
    return "[" + " ".join(f"{t:.2f}" for t in times) + "]"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median shown)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="FOLDER",
        help="keep the generated mirror (FOLDER/bench-N.sqlite, PostgreSQL database "
        "bazgasht_bench_metrics_N) and reuse it next time; drop it by hand",
    )
    parser.add_argument(
        "--changed", type=int, default=1000, help="orders changed for the incremental row"
    )
    args = parser.parse_args()
    generated: list[Generated] = []

    def data() -> Generated:
        if not generated:
            started = time.perf_counter()
            generated.append(generate(args.orders))
            took = time.perf_counter() - started
            print(
                f"generated {len(generated[0].orders):,} orders and "
                f"{len(generated[0].customers):,} accounts in {took:.1f} s",
                flush=True,
            )
        return generated[0]

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    outputs = []
    print(f"{args.orders:,} orders, median of {args.runs} runs; {_load()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            print(backend, flush=True)
            lines, output = bench(
                backend, args.orders, args.runs, args.postgres, folder, args.keep is not None,
                args.changed, data,
            )  # fmt: skip
            print("\n".join(lines), flush=True)
            outputs.append(output)
    if len(outputs) == 2:
        print(f"byte-identical `metrics` JSON on both backends: {outputs[0] == outputs[1]}")
    print(_load())


if __name__ == "__main__":
    main()
