"""Helpers shared by the integration tests: config files, CLI runs, mirror snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import woocommerce
from sqlalchemy import Engine, select

from app import Config, StoreConfig, save_config
from connector._schema import MIRROR_TABLES, orders, stores
from samplestore import SampleStore

ROOT = Path(__file__).resolve().parent.parent
#: Bookkeeping columns that differ between equivalent runs (which full scan saw a row).
BOOKKEEPING = {"seen_scan"}


def write_config(path: Path, db_url: str, **stores_: Any) -> Path:
    """A config with the given stores: name=SampleStore (its key/secret are used inline)."""
    config = Config(
        database_url=db_url,
        stores={
            name: StoreConfig(
                url=s.url, consumer_key=s.consumer_key, consumer_secret=s.consumer_secret
            )
            for name, s in stores_.items()
        },
    )
    save_config(path, config)
    return path


def mirror_snapshot(engine: Engine, store: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every mirror row of a store, sorted, without bookkeeping columns."""
    with engine.connect() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == store)).scalar_one()
        snapshot = {}
        for table in MIRROR_TABLES:
            cols = [c for c in table.columns if c.name not in BOOKKEEPING and c.name != "store_id"]
            rows = conn.execute(select(*cols).where(table.c.store_id == store_id)).all()
            snapshot[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return snapshot


def run_cli_subprocess(
    config: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    module: str = "cli",
) -> subprocess.CompletedProcess[str]:
    """``bazgasht --config CONFIG ARGS`` in a process of its own; ``module="tests._crashing_cli"``
    runs it with a crash injected (see that module)."""
    return subprocess.run(
        [sys.executable, "-m", module, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def spawn_cli(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def parse_json_output(text: str) -> Any:
    return json.loads(text)


def store_truth(store: SampleStore) -> dict[int, tuple[Any, ...]]:
    """Every order as the official client sees it: id → (status, total, refunded, modified)."""
    api = woocommerce.API(
        store.url, store.consumer_key, store.consumer_secret, version="wc/v3", timeout=60
    )
    truth: dict[int, tuple[Any, ...]] = {}
    page = 1
    while True:
        batch = api.get("orders", params={"page": page, "per_page": 100}).json()
        if not batch:
            return truth
        for o in batch:
            refunded = -sum((Decimal(r["total"]) for r in o["refunds"]), Decimal(0))
            truth[o["id"]] = (
                o["status"],
                Decimal(o["total"]),
                refunded,
                o["date_modified_gmt"],
                o["customer_id"],
            )
        page += 1


def mirror(engine: Engine, store: str | None = None) -> dict[int, tuple[Any, ...]]:
    """The live mirrored orders (of ``store``, or of the only store), compared like
    ``store_truth``."""
    query = select(
        orders.c.wc_id,
        orders.c.status,
        orders.c.total,
        orders.c.refunded_total,
        orders.c.modified_at,
        orders.c.customer_id,
    ).where(orders.c.deleted_at.is_(None))
    if store is not None:
        store_id = select(stores.c.id).where(stores.c.name == store).scalar_subquery()
        query = query.where(orders.c.store_id == store_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        r.wc_id: (
            r.status,
            r.total,
            r.refunded_total,
            r.modified_at.replace(tzinfo=None).isoformat(),
            r.customer_id,
        )
        for r in rows
    }
