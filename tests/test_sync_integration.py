"""The sync over real HTTP against the sample store (real OAuth 1.0a signing).

The oracle for "the mirror equals the store" is the official `woocommerce` client reading
every order with a plain page loop after the store has stopped changing.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.main import run
from connector import open_database
from connector._client import WooClient
from connector._schema import orders, quarantine, sync_runs
from samplestore import Fault, SampleStore
from samplestore._faults import FaultKind
from tests._helpers import (
    mirror,
    mirror_snapshot,
    run_cli_subprocess,
    spawn_cli,
    store_truth,
    write_config,
)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's client, with retries that wait milliseconds, not seconds."""
    monkeypatch.setattr(
        "app._sync.WooClient", functools.partial(WooClient, backoff_base=0.01, backoff_cap=0.05)
    )


@pytest.fixture
def store() -> Iterator[SampleStore]:
    with SampleStore(orders=450, seed=7) as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, store: SampleStore) -> Path:
    """A configured and checked store: the store's facts are known, so a sync's requests
    are all page reads (the fault schedules below count on that)."""
    path = write_config(tmp_path / "config.toml", db_url, shop=store)
    assert run(["--config", str(path), "store", "check", "shop"]) == 0
    return path


def sync(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(["--config", str(config), "sync", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_first_sync_mirrors_the_store_exactly(
    tmp_path: Path, store: SampleStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config.toml", db_url, shop=store)
    code, out, err = sync(config, "--json", capsys=capsys)
    assert code == 0, err
    summary = json.loads(out)["stores"][0]
    assert summary["outcome"] == "ok" and summary["mode"] == "full"
    engine = open_database(db_url)
    assert mirror(engine) == store_truth(store)
    engine.dispose()


def test_no_change_incremental_sync_reads_almost_nothing(
    config: Path, store: SampleStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    seen: list[tuple[str, dict[str, str]]] = []
    store.on_request = lambda path, query: seen.append((path, dict(query)))
    code, out, err = sync(config, "--quiet", capsys=capsys)
    assert (code, out, err) == (0, "", "")  # cron mails only on trouble
    # The anchor order (the store's identity) + one page of orders modified in the overlap
    # window + one page of new accounts; and when an order in that window names a registered
    # customer (how many do depends on when the first sync ran), one look-up re-reading
    # those accounts. Never anything that grows with the store.
    refresh = [q for path, q in seen if path.endswith("/customers") and "include" in q]
    assert len(seen) - len(refresh) == 3 and len(refresh) <= 1, seen


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_orders_created_and_modified_while_paging_are_not_lost(
    config: Path,
    store: SampleStore,
    db_url: str,
    concurrency: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Offset pagination shifts under a sync; this sync plus the next equal the store."""
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    ids = sorted(store_truth(store))
    changes = iter(range(100))
    lock = threading.Lock()

    def mutate(path: str, query: dict[str, str]) -> None:
        if not path.endswith("/orders"):
            return
        with lock:
            step = next(changes)
        if step < 6:  # during the first pages of the next run
            store.create_order()
            store.modify_order(ids[step * 7], status="cancelled")  # already read
            store.modify_order(ids[-1 - step], status="completed")  # not read yet
            store.modify_order(ids[step + 40], refund=Decimal("1.00"))

    store.on_request = mutate
    assert sync(config, "--quiet", "--full", "--concurrency", concurrency, capsys=capsys)[0] == 0
    store.on_request = None
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    engine = open_database(db_url)
    assert mirror(engine) == store_truth(store)
    engine.dispose()


def test_incremental_sync_picks_up_changes_and_full_marks_deletions(
    config: Path, store: SampleStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    victim = sorted(store_truth(store))[10]
    new_id = store.create_order()
    store.delete_order(victim)
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    engine = open_database(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(orders.c.wc_id).where(orders.c.wc_id == new_id)).first()
        assert (
            conn.execute(select(orders.c.deleted_at).where(orders.c.wc_id == victim)).scalar()
            is None
        )  # incremental runs cannot see deletions
    code, out, _ = sync(config, "--full", "--json", capsys=capsys)
    assert code == 0
    assert json.loads(out)["stores"][0]["deleted"] == 1
    with engine.connect() as conn:
        assert (
            conn.execute(select(orders.c.deleted_at).where(orders.c.wc_id == victim)).scalar()
            is not None
        )
    assert mirror(engine) == store_truth(store)
    engine.dispose()


def test_transient_faults_are_retried(
    config: Path, store: SampleStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_fault(Fault("status", status=503, path="/orders", times=2, after=1))
    store.add_fault(Fault("status", status=500, path="/orders", times=1, after=3))
    store.add_fault(Fault("retry_after", status=429, retry_after=1, path="/orders", after=4))
    store.add_fault(Fault("reset", path="/customers", times=1))
    code, _, err = sync(config, "--quiet", capsys=capsys)
    assert code == 0, err
    engine = open_database(db_url)
    assert mirror(engine) == store_truth(store)
    engine.dispose()


@pytest.mark.parametrize(
    ("kind", "message"),
    [("html200", "an HTML page titled 'Log In"), ("truncated", "JSON that does not parse")],
)
def test_invalid_responses_are_retried_then_fail_the_store_and_lose_nothing(
    config: Path,
    store: SampleStore,
    db_url: str,
    kind: FaultKind,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong body once is retried away (test_fault_mix…); one that stays wrong through
    every attempt fails the store with the message saying what came back."""
    # /orders requests: the pages at offsets 0 (read by the identity check, which a first
    # sync learns from the listing's first page) and 99, then 198: the fault, 5 attempts
    store.add_fault(Fault(kind, path="/orders", after=2, times=5))
    code, _, err = sync(config, "--concurrency", "1", capsys=capsys)
    assert code == 1
    assert "shop" in err and message in err and "gave up after 5 attempts" in err
    assert "Traceback" not in err
    engine = open_database(db_url)
    kept = mirror(engine)
    assert len(kept) == 199  # the two pages before the fault stay (one row overlaps)
    with engine.connect() as conn:
        outcome = conn.execute(select(sync_runs.c.outcome)).scalar()
    assert outcome == "failed"
    # the fault passes: the next run resumes and completes
    code, _, err = sync(config, "--quiet", capsys=capsys)
    assert code == 0, err
    assert mirror(engine) == store_truth(store)
    engine.dispose()


def test_wrong_secret_is_a_clear_error_without_the_secret(
    tmp_path: Path, db_url: str, store: SampleStore, capsys: pytest.CaptureFixture[str]
) -> None:
    real = store.consumer_secret
    store.consumer_secret = "cs_" + "0" * 40  # what the config will send: not the store's
    config = write_config(tmp_path / "c.toml", db_url, shop=store)
    store.consumer_secret = real
    code, out, err = sync(config, "--json", capsys=capsys)
    assert code == 1
    summary = json.loads(out)["stores"][0]
    assert summary["outcome"] == "failed"
    assert "woocommerce_rest_authentication_error" in summary["error"]
    assert "0" * 40 not in out + err


def test_secret_never_reaches_output_logs_or_database(
    config: Path, store: SampleStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_fault(Fault("status", status=503, path="/orders", times=1))
    store.add_fault(Fault("html200", path="/customers", times=50))
    code = run(["--config", str(config), "--debug", "sync", "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    _, out2, err2 = sync(config, "status", "--json", capsys=capsys)
    engine = open_database(db_url)
    dump = []
    with engine.connect() as conn:
        for table in (orders, quarantine, sync_runs):
            dump.extend(repr(r) for r in conn.execute(select(table)))
    engine.dispose()
    for text in (out, err, out2, err2, "\n".join(dump)):
        assert store.consumer_secret not in text
        assert "oauth_signature" not in text


# --------------------------------------------------------------------------- processes


def test_killed_runs_resume_to_the_same_mirror(
    tmp_path: Path, db_url: str, store: SampleStore
) -> None:
    """SIGKILL the sync at several points; each resumed mirror equals an uninterrupted one."""
    reference_url = f"sqlite:///{tmp_path / 'reference.sqlite'}"
    reference_cfg = write_config(tmp_path / "ref.toml", reference_url, shop=store)
    assert run_cli_subprocess(reference_cfg, "sync", "--quiet").returncode == 0
    reference = open_database(reference_url)
    expected = mirror_snapshot(reference, "shop")
    reference.dispose()

    for kill_at in (1, 3, 6):
        db = f"sqlite:///{tmp_path / f'killed-{kill_at}.sqlite'}"
        if os.environ.get("BAZGASHT_TEST_POSTGRES") and kill_at == 3:
            db = db_url  # one of the points on PostgreSQL when the suite runs there
        cfg = write_config(tmp_path / f"k{kill_at}.toml", db, shop=store)
        kill_sync_at_request(store, cfg, kill_at)
        resumed = run_cli_subprocess(cfg, "sync", "--quiet")
        assert resumed.returncode == 0, resumed.stderr
        engine = open_database(db)
        assert mirror_snapshot(engine, "shop") == expected, f"kill at request {kill_at}"
        with engine.connect() as conn:
            outcomes = [r.outcome for r in conn.execute(select(sync_runs.c.outcome))]
        engine.dispose()
        # the killed run (if it got as far as starting) never got to say more
        assert outcomes[-1] == "success" and set(outcomes[:-1]) <= {"running"}


def kill_sync_at_request(store: SampleStore, cfg: Path, kill_at: int) -> None:
    """Start a sync process and SIGKILL it when the store receives request number kill_at."""
    seen = iter(range(10_000))
    killed = threading.Event()
    proc = spawn_cli(cfg, "sync", "--quiet", "--concurrency", "1")

    def kill(path: str, query: dict[str, str]) -> None:
        if next(seen) == kill_at:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed.set()

    store.on_request = kill
    try:
        proc.communicate(timeout=120)
    finally:
        store.on_request = None
    assert killed.is_set() and proc.returncode == -signal.SIGKILL


def test_a_second_concurrent_sync_exits_75(tmp_path: Path, db_url: str) -> None:
    with SampleStore(orders=1000, seed=2, latency_ms=150) as slow:
        cfg = write_config(tmp_path / "c.toml", db_url, shop=slow)
        started = threading.Event()
        second_done = threading.Event()

        def paging(path: str, query: dict[str, str]) -> None:
            if path.endswith("/orders") and query.get("offset") == "99":
                started.set()  # the first run holds the lock: it is paging
                # ... and keeps it until the second is done (a fast sync of 1 000 orders
                # could otherwise finish before the second process has even started).
                second_done.wait(60)

        slow.on_request = paging
        first = spawn_cli(cfg, "sync", "--quiet", "--concurrency", "1")
        assert started.wait(60)
        second = run_cli_subprocess(cfg, "sync")
        second_done.set()
        _, err = first.communicate(timeout=120)
    assert second.returncode == 75, second.stderr
    assert "another run" in second.stderr
    assert first.returncode == 0, err


def test_sync_status_reports_runs_and_quarantine(
    config: Path, store: SampleStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    code, out, _ = sync(config, "status", "--json", capsys=capsys)
    assert code == 0
    report = json.loads(out)["stores"][0]
    assert report["store"] == "shop"
    assert report["last_run"]["outcome"] == "success"
    assert report["orders_mirrored"] == len(store_truth(store))
    assert report["quarantined"] == 0
    started = datetime.fromisoformat(report["last_run"]["started_at"])
    assert started.tzinfo is not None
