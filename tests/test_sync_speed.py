"""What the sync does for speed must not change what it does (docs/sync.md, "Speed"): the
collector's thresholds and SQLite's ``temp_store`` come back after a run, a request gives its
slot back once the store has answered (its body read after), and a listing asks for nothing
past its total, nor again for the page the identity check read."""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from connector._client import StoreCredentials, WooClient
from connector._listing import ReadPage, page_query
from connector._sync import _CollectorThresholds, _page_transaction, sync_store
from samplestore import SampleStore
from tests.test_listing import Shifting, read_all

# --------------------------------------------------------------------------- the collector


def test_thresholds_are_raised_while_any_run_lasts_and_restored_after_the_last() -> None:
    before = gc.get_threshold()
    raised = _CollectorThresholds((50_000, 60, 70))
    first, second = raised(), raised()
    first.__enter__()
    assert gc.get_threshold() == (50_000, 60, 70)
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (50_000, 60, 70)  # the other run still goes on
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), raised():
        raise RuntimeError("a failed run")
    assert gc.get_threshold() == before


@pytest.fixture
def store() -> Iterator[SampleStore]:
    with SampleStore(orders=250, customers=40, seed=3) as s:
        yield s


def _client(store: SampleStore) -> WooClient:
    return WooClient(StoreCredentials("shop", store.url, store.consumer_key, store.consumer_secret))


def test_a_sync_raises_the_thresholds_while_it_runs_and_gives_them_back(
    engine: Engine, store: SampleStore
) -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    store.on_request = lambda path, query: seen.append(gc.get_threshold())
    with _client(store) as client:
        sync_store(engine, client, store="shop", url=store.url)
    assert seen and all(t[0] >= 20_000 for t in seen), seen
    assert gc.get_threshold() == before


# --------------------------------------------------------------------------- temp_store


def _temp_store(conn: Any) -> int:
    return int(conn.exec_driver_sql("PRAGMA temp_store").scalar())


def test_a_page_keeps_sqlite_statement_journals_in_memory_and_the_pool_gets_the_default_back(
    engine: Engine,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("temp_store is SQLite's")
    with _page_transaction(engine) as conn:
        assert _temp_store(conn) == 2  # MEMORY
        assert conn.in_transaction()
    with pytest.raises(ZeroDivisionError), _page_transaction(engine) as conn:
        1 / 0  # noqa: B018 - a page that fails
    # Every connection the pool hands out again has the default (0): metrics' sorts and a
    # first reconcile's index builds still spill to disk.
    held = [engine.connect() for _ in range(3)]
    try:
        assert [_temp_store(c) for c in held] == [0, 0, 0]
    finally:
        for c in held:
            c.close()


# --------------------------------------------------------------------------- the slot


class _SlowBody:
    """An HTTP server on loopback answering every request with its headers at once and its
    body only when ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            body = b'[{"id": 1}]'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nX-WP-Total: 1\r\n\r\n" % len(body)
            )
            self.release.wait(10)
            conn.sendall(body)

    def close(self) -> None:
        self.release.set()
        self.sock.close()
        self.thread.join(5)


def test_a_request_gives_its_slot_back_when_the_store_has_answered() -> None:
    server = _SlowBody()
    creds = StoreCredentials("shop", server.url, "ck_test", "cs_test")
    answers: list[Any] = []
    try:
        with WooClient(creds, max_attempts=1) as client, client.paced(2):
            pacer = client._pacer
            assert pacer is not None
            reader = threading.Thread(target=lambda: answers.append(client.get_page("orders", {})))
            reader.start()
            # The headers are in, the body is not: the store's work is done, the slot is free.
            for _ in range(200):
                if pacer.in_flight == 0 and reader.is_alive():
                    break
                threading.Event().wait(0.01)
            assert pacer.in_flight == 0 and reader.is_alive()
            server.release.set()
            reader.join(10)
    finally:
        server.close()
    assert [page.items for page in answers] == [[{"id": 1}]]


# --------------------------------------------------------------------------- predictions


def test_a_listing_asks_for_no_page_past_its_total() -> None:
    source = Shifting(list(range(1, 451)))
    ids, anomalies = read_all(source, concurrency=8)
    assert ids == list(range(1, 451)) and anomalies == []
    # 450 rows: pages at 0, 99, …, 396; nothing at 495 and beyond.
    assert sorted(int(c["offset"]) for c in source.calls) == [0, 99, 198, 297, 396]


def test_a_page_read_before_the_listing_is_not_asked_for_again() -> None:
    source = Shifting(list(range(1, 451)))
    query = page_query({"orderby": "id"}, 0)
    first = source.get_page("orders", query)
    source.calls.clear()
    preread = ReadPage("orders", query, first)
    ids, _ = read_all(source, concurrency=4, preread=preread)
    assert ids == list(range(1, 451))
    # The pages after it were asked for at once (up to the total), the first one not again.
    assert sorted(int(c["offset"]) for c in source.calls) == [99, 198, 297, 396]
    # A page of another query (or another listing) is not taken for this one's.
    for other in (
        ReadPage("orders", {**query, "status": "any"}, first),
        ReadPage("x", query, first),
    ):
        source.calls.clear()
        assert read_all(source, concurrency=4, preread=other)[0] == list(range(1, 451))
        assert 0 in [int(c["offset"]) for c in source.calls]


def test_a_first_sync_reads_the_first_page_of_orders_once(
    engine: Engine, store: SampleStore
) -> None:
    """The identity check of first contact reads the orders listing's first page; the sync
    takes it from there (and asks for nothing past the 250 orders)."""
    offsets: list[str] = []

    def hook(path: str, query: dict[str, Any]) -> None:
        if path.endswith("/orders"):
            offsets.append(str(query.get("offset")))

    store.on_request = hook
    with _client(store) as client:
        result = sync_store(engine, client, store="shop", url=store.url, concurrency=4)
    assert result.count("orders") == 250
    assert sorted(offsets, key=int) == ["0", "99", "198"], offsets
    # A later full scan (the identity known: one look-up of the anchor order) reads it itself.
    offsets.clear()
    with _client(store) as client:
        sync_store(engine, client, store="shop", url=store.url, concurrency=4, full=True)
    assert sorted(offsets, key=int) == ["0", "99", "198"], offsets
