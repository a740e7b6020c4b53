"""Benchmark: loyalty reconciliation of a big store, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_loyalty.py [--row full|incremental|nothing|recheck|all]
        [--orders 1000000] [--changed 1000] [--runs 3] [--backend sqlite|postgresql|both]
        [--steps]

A synthetic mirror (one store, ``--orders`` orders from registered customers and guests,
every status, partial and full refunds) is written once with bulk inserts into a template
database. Then, ``--runs`` times each, on a fresh copy of the template:

* ``full`` — **from scratch**: one full reconcile of the empty ledger (target ≤ 30 s at 1 M);
* ``incremental`` — then ``--changed`` orders change (status flips, refunds, new orders, a
  few guests register) and the next reconcile appends the differences (target ≤ 1 s);
* ``nothing`` — then a reconcile with nothing changed (target ≤ 1 s);
* ``recheck`` — then a *full* reconcile with nothing to change (re-derives every identity;
  what ``--full`` and ``verify`` cost).

Every row needs the first run; each prints its median (min–max) beside its target, and the
CPU seconds of this process (all of SQLite's work; PostgreSQL's server CPU is not in it)
plus those of a big SQLite first run's rules process (``loyalty._pipeline``) — on a shared
machine the CPU time is the steadier figure. ``--steps`` prints each run's steps.
PostgreSQL runs in scratch databases ``<--db-prefix><random>`` on ``--pg`` (default
postgresql://postgres@127.0.0.1:5432/postgres), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, func, select, text, update  # noqa: E402

from connector import (  # noqa: E402
    customers,
    open_database,
    orders,
    stores,
)
from connector._db import normalize_url  # noqa: E402
from loyalty._db import bulk_insert  # noqa: E402
from loyalty.program import load_program  # noqa: E402
from loyalty.reconcile import reconcile  # noqa: E402

STORE = "bench"
START = datetime(2022, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
STATUSES = (
    ["completed"] * 88
    + ["processing"] * 3
    + ["cancelled"] * 4
    + ["failed"] * 2
    + ["refunded"] * 2
    + ["pending"]
)
SETTINGS: dict[str, Any] = {"starts_at": "2023-01-01T00:00:00Z", "expiry_months": 12}

#: The mirror's columns the synthetic rows give, in the tables' own order (``synthetic_orders``
#: yields them so): all but the sync's bookkeeping (``deleted_at``, ``seen_scan``).
_BOOKKEEPING = ("deleted_at", "seen_scan")
ORDER_COLUMNS = tuple(c.name for c in orders.c if c.name not in _BOOKKEEPING)
CUSTOMER_COLUMNS = tuple(c.name for c in customers.c if c.name not in _BOOKKEEPING)


def synthetic_orders(
    store_id: int, count: int, accounts: int, seed: int
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    span = (NOW - START).total_seconds()
    for wc_id in range(1, count + 1):
        created = START + timedelta(seconds=span * wc_id / (count + 1))
        status = rng.choice(STATUSES)
        total = rng.randint(500, 50_000) * 100  # 5.00 … 500.00, in units of 1e-4
        refunded = total if status == "refunded" else (total // 4 if rng.random() < 0.03 else 0)
        if rng.random() < 0.7:
            customer_id, email = rng.randint(1, accounts), ""
        else:
            customer_id, email = 0, f"guest{rng.randint(1, accounts // 2)}@example.com"
        done = created + timedelta(days=2) if status in ("completed", "refunded") else None
        yield (
            store_id, wc_id, str(wc_id), status, "USD", created, done or created, done, done,
            total, total // 10, 500 * 100, 0, refunded, customer_id, email, "", "", "", "",
        )  # fmt: skip


def build_template(url: str, count: int) -> None:
    engine = open_database(url)
    accounts = max(10, count // 5)
    with engine.begin() as conn:
        store_id = conn.execute(  # type: ignore[index]
            stores.insert().values(
                name=STORE, url="http://127.0.0.1:1", currency="USD", decimals=2,
                timezone="UTC", created_at=START,
            )
        ).inserted_primary_key[0]  # fmt: skip
        span = (NOW - START).total_seconds()
        bulk_insert(
            conn,
            customers,
            CUSTOMER_COLUMNS,
            (
                (store_id, i, f"c{i}@example.com", "C", str(i), "", "customer",
                 START + timedelta(seconds=span * i / (accounts + 1)), None, False)
                for i in range(1, accounts + 1)
            ),
        )  # fmt: skip
        bulk_insert(conn, orders, ORDER_COLUMNS, synthetic_orders(store_id, count, accounts, 1))
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()


def change_orders(engine: Engine, count: int, seed: int) -> None:
    """``count`` orders change as a day of a real shop would change them."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == STORE)).scalar_one()
        top = conn.execute(select(func.max(orders.c.wc_id))).scalar_one()
        accounts = conn.execute(select(func.max(customers.c.wc_id))).scalar_one()
        picked = rng.sample(range(1, top + 1), count // 2)
        for i, wc_id in enumerate(picked):
            values: dict[str, Any] = (
                {"status": rng.choice(["cancelled", "completed", "refunded"])}
                if i % 2
                else {"refunded_total": text("total / 3")}
            )
            conn.execute(
                update(orders)
                .where(orders.c.store_id == store_id, orders.c.wc_id == wc_id)
                .values(**values)
            )
        new = [
            (
                store_id, top + j + 1, str(top + j + 1), "completed", "USD", NOW, NOW, NOW, NOW,
                rng.randint(500, 50_000) * 100, 0, 0, 0, 0,
                rng.randint(1, accounts) if j % 3 else 0,
                "" if j % 3 else f"guest{rng.randint(1, accounts // 2)}@example.com",
                "", "", "", "",
            )
            for j in range(count - len(picked))
        ]  # fmt: skip
        bulk_insert(conn, orders, ORDER_COLUMNS, new)


class Backend:
    def __init__(self, name: str, make: Callable[[], str], drop: Callable[[str], None]) -> None:
        self.name, self.make, self.drop = name, make, drop


def sqlite_backend(workdir: Path, template: Path) -> Backend:
    def make() -> str:
        path = workdir / f"run-{uuid.uuid4().hex[:8]}.sqlite"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    def drop(url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)

    return Backend("sqlite", make, drop)


#: Scratch PostgreSQL databases are named with this and a random suffix (``--db-prefix``).
DB_PREFIX = ["bazgasht_bench_"]


def pg_backend(server: str, template: str) -> Backend:
    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"{DB_PREFIX[0]}{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return server.rsplit("/", 1)[0] + f"/{name}"

    def drop(url: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))

    return Backend("postgresql", make, drop)


def children_cpu() -> float:
    """CPU seconds of this process's ended children (a big first run's rules process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


#: Rows of the table: (name, title, target in seconds at 1 M orders).
ROWS = (
    ("full", "full, from scratch", 30.0),
    ("incremental", "incremental, changed orders", 1.0),
    ("nothing", "nothing to change", 1.0),
    ("recheck", "full, nothing to change", None),
)


def run_backend(
    backend: Backend, runs: int, changed: int, rows: set[str], steps: bool
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = defaultdict(list)

    def measure(row: str, run: int, fn: Callable[[], Any]) -> Any:
        cpu = time.process_time()
        helper = children_cpu()
        seconds, result = timed(fn)
        cpu = time.process_time() - cpu
        helper = children_cpu() - helper
        results[row].append(seconds)
        results[f"{row}-cpu"].append(cpu + helper)
        print(
            f"  {backend.name} run {run + 1}: {row} {seconds:.2f} s (CPU here {cpu:.2f} s"
            + (f" + rules process {helper:.2f} s" if helper >= 0.005 else "")
            + f"; {result.mode}, {result.identities:,} identities, "
            f"{result.appended:,} entries; load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        if steps:
            print("    " + ", ".join(f"{k} {v:.2f}" for k, v in result.steps.items()))
        return result

    for run in range(runs):
        url = backend.make()
        try:
            engine = open_database(url)
            program = load_program(engine, STORE, SETTINGS, NOW)
            full = measure("full", run, lambda: reconcile(engine, program, NOW, full=True))  # noqa: B023
            results["entries"].append(full.appended)
            later = NOW
            if "incremental" in rows:
                change_orders(engine, changed, seed=100 + run)
                later = later + timedelta(hours=1)
                inc = measure("incremental", run, lambda: reconcile(engine, program, later))  # noqa: B023
                assert inc.mode == "incremental", inc.mode
            if "nothing" in rows:
                later = later + timedelta(hours=1)
                same = measure("nothing", run, lambda: reconcile(engine, program, later))  # noqa: B023
                assert same.mode == "incremental", same.mode
            if "recheck" in rows:
                later = later + timedelta(hours=1)
                measure("recheck", run, lambda: reconcile(engine, program, later, full=True))  # noqa: B023
            engine.dispose()
        finally:
            backend.drop(url)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--row",
        choices=["full", "incremental", "nothing", "recheck", "all"],
        default="all",
        help="which row of the table to measure (every row runs the full one first)",
    )
    parser.add_argument("--steps", action="store_true", help="print each run's steps")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "BAZGASHT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--db-prefix",
        default="bazgasht_bench_",
        help="name prefix of the scratch PostgreSQL databases (e.g. with your name)",
    )
    args = parser.parse_args()
    DB_PREFIX[0] = args.db_prefix
    rows = {name for name, _, _ in ROWS} if args.row == "all" else {"full", args.row}
    table: list[tuple[str, dict[str, list[float]]]] = []
    with tempfile.TemporaryDirectory(prefix="bazgasht-bench-") as tmp:
        workdir = Path(tmp)
        if args.backend in ("sqlite", "both"):
            template = workdir / "template.sqlite"
            seconds, _ = timed(lambda: build_template(f"sqlite:///{template}", args.orders))
            print(
                f"sqlite: mirror of {args.orders:,} orders written in {seconds:.1f} s", flush=True
            )
            table.append(
                (
                    "sqlite",
                    run_backend(
                        sqlite_backend(workdir, template), args.runs, args.changed, rows, args.steps
                    ),
                )
            )
        if args.backend in ("postgresql", "both"):
            admin = create_engine(normalize_url(args.pg), isolation_level="AUTOCOMMIT")
            name = f"{DB_PREFIX[0]}{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = args.pg.rsplit("/", 1)[0] + f"/{name}"
                seconds, _ = timed(lambda: build_template(url, args.orders))
                print(
                    f"postgresql: mirror of {args.orders:,} orders written in {seconds:.1f} s",
                    flush=True,
                )
                table.append(
                    (
                        "postgresql",
                        run_backend(
                            pg_backend(args.pg, name), args.runs, args.changed, rows, args.steps
                        ),
                    )
                )
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"

    print()
    print(
        f"Loyalty reconciliation, {args.orders:,} orders, {args.changed:,} changed, "
        f"{args.runs} run(s): median (min–max) wall time; CPU (this process and its rules "
        "process); target"
    )
    scale = args.orders / 1_000_000
    for name, res in table:
        for row, title, target in ROWS:
            if row not in rows or not res.get(row):
                continue
            goal = "—"
            if target is not None:
                # The from-scratch target scales with the store; the others must not grow.
                goal = f"≤ {target * scale if row == 'full' else target:.2f} s"
            cpu = statistics.median(res[f"{row}-cpu"])
            print(f"{name:<11} {title:<28} {cell(res[row]):<26} CPU {cpu:6.2f} s   {goal}")
    if table:
        print(f"entries appended by a full run: {int(statistics.median(table[0][1]['entries'])):,}")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
