"""Helpers shared by the integration tests: config files, CLI runs, mirror snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from cli._config import Config, StoreConfig, save_config
from connector._schema import MIRROR_TABLES, stores

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
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(config), *args],
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
