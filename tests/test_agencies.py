"""Agencies: many stores on one database, several cron hosts running ``sync --all``
(docs/agencies.md). A store busy on one host is skipped by the others, and so is a store
another process synced during this round; every store is synced once per round, never twice
at once, and the mirrors are exact. ``sync status`` says which host synced each store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app import Registry, SyncedThisRound, start_round, sync_one
from cli.main import run
from connector import ENV_HOST_NAME, LockHeld, open_database, store_lock
from connector._schema import stores, sync_runs
from samplestore import SampleStore
from tests._helpers import ROOT, mirror, store_truth, write_config

STORES = 20
HOSTS = ("host-a", "host-b", "host-c")


@pytest.fixture(scope="module")
def shops() -> Iterator[dict[str, SampleStore]]:
    """Twenty small sample stores, each its own server (a little latency, so runs overlap)."""
    started: dict[str, SampleStore] = {}
    try:
        for n in range(STORES):
            shop = SampleStore(orders=25, customers=8, seed=100 + n, latency_ms=5)
            started[f"shop{n:02d}"] = shop.__enter__()
        yield started
    finally:
        for shop in started.values():
            shop.__exit__(None, None, None)


def _spawn(config: Path, host: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "--config", str(config), "sync", "--all", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # Rounds here follow each other at once; cron's are minutes apart.
        env={**os.environ, ENV_HOST_NAME: host, "BAZGASHT_ROUND_GRACE": "4"},
    )


def _round(config: Path) -> dict[str, list[dict[str, object]]]:
    """Three hosts run ``sync --all`` at once; each host's per-store summaries."""
    procs = {host: _spawn(config, host) for host in HOSTS}
    out: dict[str, list[dict[str, object]]] = {}
    for host, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        out[host] = json.loads(stdout)["stores"]
    return out


def _runs(engine: Engine, after: int) -> list[tuple[str, str | None, object, object, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)  # type: ignore[misc]
            for r in conn.execute(
                select(
                    stores.c.name,
                    sync_runs.c.host,
                    sync_runs.c.started_at,
                    sync_runs.c.finished_at,
                    sync_runs.c.outcome,
                )
                .join(stores, stores.c.id == sync_runs.c.store_id)
                .where(sync_runs.c.id > after)
                .order_by(sync_runs.c.id)
            )
        ]


def _check_round(engine: Engine, summaries: dict[str, list[dict[str, object]]], after: int) -> None:
    runs = _runs(engine, after)
    per_store = Counter(name for name, *_ in runs)
    # every store synced once this round, and by the host its summary says
    assert per_store == Counter({name: 1 for name in per_store}) and len(per_store) == STORES
    assert all(outcome == "success" for *_, outcome in runs)
    synced_by = {name: host for name, host, *_ in runs}
    for host, rows in summaries.items():
        assert len(rows) == STORES
        for row in rows:
            if row["outcome"] == "ok":
                assert synced_by[str(row["store"])] == host
            else:
                assert row["outcome"] in ("skipped_busy", "skipped_synced"), row
                assert synced_by[str(row["store"])] != host
                if row["outcome"] == "skipped_synced":
                    assert row["host"] == synced_by[str(row["store"])]
    # the hosts shared the work
    assert len(set(synced_by.values())) >= 2, synced_by


@pytest.mark.slow
def test_three_hosts_share_twenty_stores_each_synced_once_per_round(
    tmp_path: Path, db_url: str, shops: dict[str, SampleStore]
) -> None:
    config = write_config(tmp_path / "config.toml", db_url, **shops)
    engine = open_database(db_url)
    try:
        for n in range(2):  # the first contact with every store, then an ordinary round
            if n:
                time.sleep(5)  # past the grace: a new round
            with engine.connect() as conn:
                before = conn.execute(
                    select(sync_runs.c.id).order_by(sync_runs.c.id.desc())
                ).scalar()
            _check_round(engine, _round(config), int(before or 0))
        for name, shop in shops.items():
            assert mirror(engine, name) == store_truth(shop), name
        status = run_json(config, "sync", "status", "--format", "json")
        hosts = {row["store"]: row["last_run"]["host"] for row in status["stores"]}
        assert set(hosts) == set(shops) and set(hosts.values()) <= set(HOSTS)
    finally:
        engine.dispose()


def run_json(config: Path, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


# --- the two skips, one at a time ---------------------------------------------------------------


@pytest.fixture
def two(tmp_path: Path, db_url: str) -> Iterator[tuple[Path, Registry]]:
    with SampleStore(orders=10, seed=5) as a, SampleStore(orders=10, seed=6) as b:
        config = write_config(tmp_path / "config.toml", db_url, a=a, b=b)
        registry = Registry(config, environ={}, config_explicit=True)
        yield config, registry
        registry.close()


def test_a_store_busy_on_another_host_is_skipped_and_named_not_exit_75(
    two: tuple[Path, Registry],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, registry = two
    monkeypatch.setenv(ENV_HOST_NAME, "cron-7")
    with store_lock(registry.engine(), "a", purpose="round"):  # "cron-7" is syncing a
        capsys.readouterr()
        code = run(["--config", str(config), "sync", "--all", "--format", "json"])
        rows = {r["store"]: r for r in json.loads(capsys.readouterr().out)["stores"]}
        assert code == 0
        assert rows["a"]["outcome"] == "skipped_busy"
        assert rows["a"]["holder"] == f"cron-7 (pid {os.getpid()})"
        assert rows["b"]["outcome"] == "ok"
        # the one store asked for by name: exit 75, and the message names the host
        code = run(["--config", str(config), "sync", "--store", "a"])
        assert code == 75
        assert "being synced by another run on cron-7 (pid" in capsys.readouterr().err
    with registry.engine().connect() as conn:
        hosts = conn.execute(select(sync_runs.c.host)).scalars().all()
    assert hosts == ["cron-7"]  # b's run, recorded with its host


def test_a_store_synced_by_another_process_during_the_round_is_skipped(
    two: tuple[Path, Registry], monkeypatch: pytest.MonkeyPatch
) -> None:
    _config, registry = two
    this_round = start_round(registry)
    monkeypatch.setenv(ENV_HOST_NAME, "cron-2")
    sync_one(registry, "a")  # another host, after this round started
    with pytest.raises(SyncedThisRound) as found:
        sync_one(registry, "a", sync_round=this_round)
    assert found.value.host == "cron-2" and found.value.exit_code == 0
    assert "was synced on cron-2" in str(found.value)
    sync_one(registry, "b", sync_round=this_round)  # not synced yet: this round does it
    later = start_round(registry)
    sync_one(registry, "a", sync_round=later)  # a new round syncs it again
    with registry.engine().connect() as conn:
        assert len(conn.execute(select(sync_runs.c.id)).all()) == 3


def test_lock_held_says_who_holds_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_HOST_NAME, "db-host-1")
    with store_lock(engine, "x"), pytest.raises(LockHeld) as found, store_lock(engine, "x"):
        pass
    if engine.url.database not in (None, "", ":memory:"):
        assert found.value.holder == f"db-host-1 (pid {os.getpid()})"
    with store_lock(engine, "x"):  # released
        pass
