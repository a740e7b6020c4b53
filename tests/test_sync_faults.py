"""The mirror stays exact when the store misbehaves (issue 9), over real HTTP against the
sample store: short, empty and repeating pages, deletions while a scan pages and between a
killed scan and its resume, a mix of transient faults, another shop behind a known name.

"The store" is what the official ``woocommerce`` client reads once the store is quiet.
"""

from __future__ import annotations

import functools
import json
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select

from app import load_config, save_config
from cli.main import run
from connector import open_database
from connector._check import StoreFacts
from connector._client import StoreCredentials, WooClient
from connector._facts import remember_facts
from connector._schema import customers, orders, stores, sync_checkpoints, sync_runs
from connector._sync import sync_store
from loyalty._schema import loyalty_ledger
from samplestore import Fault, SampleStore
from tests._helpers import mirror, mirror_snapshot, spawn_cli, store_truth, write_config

#: Listing pages only (not the identity look-ups, not the include= look-ups).
LISTING = {"per_page": "100", "orderby": "id"}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's client, with retries that wait milliseconds, not seconds."""
    monkeypatch.setattr(
        "app._sync.WooClient", functools.partial(WooClient, backoff_base=0.01, backoff_cap=0.05)
    )


@pytest.fixture
def store() -> Iterator[SampleStore]:
    with SampleStore(orders=450, customers=320, seed=11) as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, store: SampleStore) -> Path:
    return write_config(tmp_path / "config.toml", db_url, shop=store)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()


def sync(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(["--config", str(config), "sync", *args])
    out, err = capsys.readouterr()
    return code, out, err


def sync_json(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = sync(config, "--json", *args, capsys=capsys)
    summary: dict[str, Any] = json.loads(out)["stores"][0]
    summary["exit_code"] = code
    summary["stderr"] = err
    return summary


def deleted_ids(engine: Engine, table: Any = orders) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(select(table.c.wc_id).where(table.c.deleted_at.is_not(None))).scalars()
        )


def live_customers(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(customers.c.wc_id).where(customers.c.deleted_at.is_(None))
            ).scalars()
        )


def store_customers(store: SampleStore) -> set[int]:
    return {c.id for c in store.data.customers()}


def on_listing(
    store: SampleStore,
    path_end: str,
    action: Callable[[], None],
    *,
    offset: str | None = None,
    nth: int | None = None,
) -> threading.Event:
    """Run ``action`` (once) when the store is asked for the listing page at ``offset``, or
    for its ``nth`` listing page (1 = the first)."""
    done = threading.Event()
    lock = threading.Lock()
    seen = iter(range(1, 1_000_000))

    def hook(path: str, query: dict[str, str]) -> None:
        if not path.endswith(path_end) or query.get("per_page") != "100" or "include" in query:
            return
        with lock:
            count = next(seen)
            if done.is_set() or (offset is not None and query.get("offset") != offset):
                return
            if nth is not None and count != nth:
                return
            done.set()
        action()

    store.on_request = hook
    return done


# --------------------------------------------------------------------------- deletion on proof


def test_a_short_page_in_a_full_scan_marks_nothing_and_reads_on(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """One record missing from page 3 (WooCommerce could not read it, or a plugin trimmed
    the answer) while X-WP-Total still counts it."""
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    late = store.create_order()  # after the short page: the scan must still read it
    store.add_fault(Fault("drop_record", path="/orders", query=LISTING, after=2))
    summary = sync_json(config, "--full", "--concurrency", "1", capsys=capsys)
    assert summary["exit_code"] == 1 and summary["outcome"] == "failed"
    assert "short page: 99 of 100 records at offset 198" in summary["error"]
    assert "nothing was marked deleted" in summary["error"]
    assert deleted_ids(engine) == set()
    assert mirror(engine) == store_truth(store)  # `late` included
    assert late in mirror(engine)
    with engine.connect() as conn:
        last = conn.execute(select(sync_runs).order_by(sync_runs.c.id.desc())).mappings().first()
    assert last is not None and last["outcome"] == "failed" and "short page" in last["error"]
    # The next complete scan proves the deletion that happened meanwhile, and only that one.
    victim = sorted(store_truth(store))[30]
    store.delete_order(victim)
    summary = sync_json(config, "--full", capsys=capsys)
    assert (summary["exit_code"], summary["deleted"]) == (0, 1), summary
    assert deleted_ids(engine) == {victim}
    assert mirror(engine) == store_truth(store)


def test_an_empty_first_page_against_its_total_marks_nothing(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    before = mirror(engine)
    store.add_fault(Fault("empty_page", path="/orders", query=LISTING))
    summary = sync_json(config, "--full", capsys=capsys)
    assert summary["exit_code"] == 1
    assert "first page of orders was empty although X-WP-Total says 450" in summary["error"]
    assert "Traceback" not in summary["stderr"]
    assert deleted_ids(engine) == set() and mirror(engine) == before
    # The fault passes: the next run resumes the scan and completes it.
    assert sync(config, "--quiet", "--full", capsys=capsys)[0] == 0
    assert mirror(engine) == store_truth(store)


def test_a_page_whose_ids_repeat_marks_nothing_and_skips_nothing(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_fault(Fault("repeat_ids", path="/orders", query=LISTING, after=1))
    summary = sync_json(config, "--concurrency", "1", capsys=capsys)  # the first, full, sync
    assert summary["exit_code"] == 1
    assert "ids repeat or go backwards in the page at offset 99" in summary["error"]
    assert mirror(engine) == store_truth(store)  # the rest of the page was read again
    assert deleted_ids(engine) == set()


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_a_deletion_between_pages_skips_and_blames_no_one(
    config: Path,
    store: SampleStore,
    engine: Engine,
    concurrency: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first sync of a store: nothing to fall back on, every live order must be read
    although a deletion shifts the later pages left while it pages."""
    ids = sorted(store_truth(store))
    victims = set(ids[10:13])  # on the first page, already read when they go

    def delete() -> None:
        for victim in victims:
            store.delete_order(victim)

    on_listing(store, "/orders", delete, offset="198")
    code, _, err = sync(config, "--quiet", "--concurrency", concurrency, capsys=capsys)
    assert code == 0, err
    store.on_request = None
    truth = store_truth(store)
    assert not victims & set(truth)
    assert {k: v for k, v in mirror(engine).items() if k not in victims} == truth  # no one skipped
    assert deleted_ids(engine) == set()
    # The next complete scan marks the deleted order, and no other.
    summary = sync_json(config, "--full", "--concurrency", concurrency, capsys=capsys)
    assert (summary["exit_code"], summary["deleted"]) == (0, 3), summary
    assert deleted_ids(engine) == victims
    assert mirror(engine) == truth


def test_a_deleted_customer_between_pages_skips_and_blames_no_one(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = sorted(store_customers(store))
    victims = {c.id for c in store.data.customers(role="customer") if c.id > accounts[5]}
    victims = set(sorted(victims)[:3])  # on the first page, already read when they go

    def delete() -> None:
        for victim in victims:
            store.delete_customer(victim)

    on_listing(store, "/customers", delete, offset="198")
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    store.on_request = None
    assert live_customers(engine) - victims == store_customers(store)
    assert deleted_ids(engine, customers) == set()
    summary = sync_json(config, "--full", capsys=capsys)
    assert (summary["exit_code"], summary["deleted"]) == (0, 3), summary
    assert deleted_ids(engine, customers) == victims
    assert live_customers(engine) == store_customers(store)
    assert mirror(engine) == store_truth(store)


def kill_sync_when(store: SampleStore, cfg: Path, path_end: str, nth: int, *args: str) -> None:
    """Start `sync ARGS` in a process and SIGKILL it when it asks for its ``nth`` listing
    page (so the pages before it are committed)."""
    proc = spawn_cli(cfg, "sync", "--quiet", "--concurrency", "1", *args)

    def kill() -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    killed = on_listing(store, path_end, kill, nth=nth)
    try:
        proc.communicate(timeout=120)
    finally:
        store.on_request = None
    assert killed.is_set() and proc.returncode == -signal.SIGKILL


def test_a_deletion_between_kill_and_resume_skips_and_blames_no_one(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 9's case: kill `sync --full` after 3 pages, delete an order already read, run
    `sync`: it must neither blame the order that moved into the gap nor skip it."""
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    created = store.create_order()
    kill_sync_when(store, config, "/orders", 4, "--full")  # after 3 pages
    ids = sorted(store_truth(store))
    victims = set(ids[5:8])
    for victim in victims:
        store.delete_order(victim)
    summary = sync_json(config, capsys=capsys)
    assert (summary["exit_code"], summary["deleted"], summary["resumed"]) == (0, 0, True)
    assert deleted_ids(engine) == set()
    truth = store_truth(store)
    assert created in truth
    assert {k: v for k, v in mirror(engine).items() if k not in victims} == truth
    summary = sync_json(config, "--full", capsys=capsys)
    assert (summary["exit_code"], summary["deleted"]) == (0, 3)
    assert deleted_ids(engine) == victims
    assert mirror(engine) == store_truth(store)


def test_a_first_full_scan_killed_then_resumed_after_a_deletion(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    kill_sync_when(store, config, "/orders", 4)
    victims = set(sorted(store_truth(store))[200:203])  # read before the kill
    for victim in victims:
        store.delete_order(victim)
    summary = sync_json(config, capsys=capsys)
    assert summary["exit_code"] == 0 and summary["resumed"]
    truth = store_truth(store)
    assert {k: v for k, v in mirror(engine).items() if k not in victims} == truth


# --------------------------------------------------------------------------- resume catch-up


def test_a_resumed_run_ends_with_the_changes_made_meanwhile_on_pages_already_read(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    ids = sorted(store_truth(store))
    store.advance_clock(3600)
    for order_id in ids[:250]:  # three pages for the next incremental run
        store.modify_order(order_id, status="completed")
    kill_sync_when(store, config, "/orders", 3)
    store.modify_order(ids[3], status="cancelled")  # on a page the killed run read
    summary = sync_json(config, capsys=capsys)
    assert summary["exit_code"] == 0 and summary["resumed"]
    assert mirror(engine) == store_truth(store)  # this run, not the next one


# --------------------------------------------------------------------------- transient faults


def test_a_fault_mix_in_one_run_is_retried_and_the_mirror_equals_the_store(
    db_url: str, engine: Engine
) -> None:
    """One answer in five is faulty: 500, 503, 429, an HTML login page with 200, JSON cut in
    half, a 3 s hang (longer than the client's read timeout here)."""
    kinds: list[Fault] = [
        Fault("status", status=500),
        Fault("status", status=503),
        Fault("status", status=429),
        Fault("html200"),
        Fault("truncated"),
        Fault("timeout", delay_s=3.0),
    ]
    with SampleStore(orders=3000, customers=500, seed=4) as shop:
        for n in range(8):  # answers 5, 10, … 40 of the run's 45–55
            kind = kinds[n % len(kinds)]
            shop.add_fault(
                Fault(kind.kind, status=kind.status, delay_s=kind.delay_s, after=5 * n + 4)
            )
        creds = StoreCredentials("mix", shop.url, shop.consumer_key, shop.consumer_secret)
        with WooClient(
            creds, timeout=(5.0, 1.0), backoff_base=0.01, backoff_cap=0.05, max_attempts=8
        ) as client:
            result = sync_store(engine, client, store="mix", url=shop.url, concurrency=4)
        assert shop.pending_faults == []  # every fault was met, and retried away
        assert result.count("orders") >= 3000
        assert mirror(engine, "mix") == store_truth(shop)
        with engine.connect() as conn:
            mirrored = conn.execute(select(func.count()).select_from(customers)).scalar()
        assert mirrored == len(store_customers(shop))


# --------------------------------------------------------------------------- store identity


def ledger_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(select(loyalty_ledger).order_by(loyalty_ledger.c.id))
        ]


def test_another_shop_behind_a_known_name_is_refused_and_repoint_starts_afresh(
    tmp_path: Path,
    db_url: str,
    store: SampleStore,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path / "config.toml", db_url, x=store)
    cfg = load_config(config)
    cfg.stores["x"].loyalty = {"starts_at": "2000-01-01"}
    save_config(config, cfg)
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    usd_orders = mirror(engine, "x")
    snapshot, ledger = mirror_snapshot(engine, "x"), ledger_rows(engine)
    assert ledger  # the program gave points: there is something to protect
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(sync_runs)).scalar()

    with SampleStore(orders=320, seed=12, currency="IRT") as toman:
        cfg = load_config(config)
        cfg.stores["x"].url = toman.url
        cfg.stores["x"].consumer_key = toman.consumer_key
        cfg.stores["x"].consumer_secret = toman.consumer_secret
        save_config(config, cfg)
        for args in ((), ("--full",)):
            code, _, err = sync(config, *args, capsys=capsys)
            assert code == 1
            assert "not the shop mirrored as 'x'" in err and "store repoint x" in err
            assert "Traceback" not in err
        # `store check` must not record the other shop's currency on the old mirror either
        assert run(["--config", str(config), "store", "check", "x"]) == 1
        assert "not the shop mirrored" in capsys.readouterr().err
        assert mirror_snapshot(engine, "x") == snapshot and ledger_rows(engine) == ledger
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(sync_runs)).scalar() == runs
            assert (
                conn.execute(select(stores.c.currency).where(stores.c.name == "x")).scalar()
                == "USD"
            )

        assert run(["--config", str(config), "store", "repoint", "x"]) == 2  # needs --yes
        capsys.readouterr()
        code = run(["--config", str(config), "store", "repoint", "x", "--url", toman.url, "--yes"])
        out = capsys.readouterr().out
        assert code == 0 and "x@archived-" in out
        archived = out.split("'")[3]
        assert sync(config, "--quiet", capsys=capsys)[0] == 0
        assert mirror(engine, "x") == store_truth(toman)
        assert mirror(engine, archived) == usd_orders  # nothing already stored was lost
        assert mirror_snapshot(engine, archived) == snapshot
        assert ledger_rows(engine)[: len(ledger)] == ledger  # append-only, untouched


# --------------------------------------------------------------------------- smaller items


def test_two_first_syncs_of_a_new_store_create_it_once(db_url: str, engine: Engine) -> None:
    """Two processes meet a new store at once: the other one creates the row between our
    look-up and our insert (the race of `sync` recording facts before taking the lock)."""
    facts = StoreFacts("USD", 2, "UTC", True, "8.2.2", True, True)
    raced = threading.Event()

    def other_process_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO STORES") and not raced.is_set():
            raced.set()
            other = open_database(db_url)
            with other.begin() as c:
                c.execute(
                    insert(stores).values(name="new", url="http://x", created_at=datetime.now(UTC))
                )
            other.dispose()

    event.listen(engine, "before_cursor_execute", other_process_first)
    try:
        store_id = remember_facts(engine, "new", "http://x", facts)
    finally:
        event.remove(engine, "before_cursor_execute", other_process_first)
    assert raced.is_set()
    with engine.connect() as conn:
        rows = conn.execute(
            select(stores.c.id, stores.c.currency).where(stores.c.name == "new")
        ).all()
    assert rows == [(store_id, "USD")]


def test_sync_all_goes_on_after_any_failure_and_json_always_prints(
    tmp_path: Path,
    db_url: str,
    store: SampleStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SampleStore(orders=60, seed=3) as other:
        config = write_config(tmp_path / "c.toml", db_url, a=store, b=other)
        import app._sync  # the per-store job moved there (issue 13's application layer)

        real = app._sync.after_sync

        def broken_for_a(engine: Engine, client: Any, name: str, *args: Any, **kw: Any) -> Any:
            if name == "a":
                raise KeyError("a bug in the loyalty program")
            return real(engine, client, name, *args, **kw)

        monkeypatch.setattr(app._sync, "after_sync", broken_for_a)
        code, out, err = sync(config, "--all", "--json", capsys=capsys)
        assert code == 1
        summaries = {s["store"]: s for s in json.loads(out)["stores"]}
        assert summaries["a"]["outcome"] == "failed"
        assert "unexpected KeyError" in summaries["a"]["error"]
        assert summaries["b"]["outcome"] == "ok" and summaries["b"]["orders"] == 60
        code, out, err = sync(config, "--all", capsys=capsys)
        assert code == 1 and "Traceback" not in err
        assert "error: store 'a': unexpected KeyError" in err and out.startswith("b: ")
        code = run(["--config", str(config), "--debug", "sync", "--all"])
        assert code == 1 and "Traceback" in capsys.readouterr().err
    code, out, _ = sync(config, "--store", "nosuchstore", "--json", capsys=capsys)
    assert code == 2 and "no store named 'nosuchstore'" in json.loads(out)["error"]


def test_an_incomplete_scan_leaves_no_stale_checkpoint_to_prove_deletions_later(
    config: Path, store: SampleStore, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kill after an anomaly: the resumed scan still remembers it cannot prove anything."""
    assert sync(config, "--quiet", capsys=capsys)[0] == 0
    store.add_fault(Fault("drop_record", path="/orders", query=LISTING, after=1))
    kill_sync_when(store, config, "/orders", 4, "--full")
    with engine.connect() as conn:
        reason = conn.execute(
            select(sync_checkpoints.c.incomplete).where(sync_checkpoints.c.resource == "orders")
        ).scalar()
    assert reason is not None and "short page" in reason
    store.delete_order(sorted(store_truth(store))[400])
    summary = sync_json(config, capsys=capsys)
    assert summary["exit_code"] == 1 and "short page" in summary["error"]
    assert deleted_ids(engine) == set()
