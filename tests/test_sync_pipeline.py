"""The sync's pipeline: the listing read ahead of the writer (``read_ahead``) and the pacing
of the requests to a store (``Pacer``): same batches in the same order, errors where they
belong, and a store that is overloaded or slows down gets fewer requests at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from connector._client import Pacer
from connector._errors import IncompleteScan
from connector._listing import Batch, Position, read_ahead


def _batches(count: int, fail: bool = False) -> Generator[Batch, None, None]:
    for n in range(count):
        yield Batch([{"id": n}], None, Position(n, n), None, last=n == count - 1)
    if fail:
        raise IncompleteScan("the listing broke")


def test_read_ahead_keeps_the_order_and_every_batch() -> None:
    got = [b.records[0]["id"] for b in read_ahead(_batches(50), 3)]
    assert got == list(range(50))


def test_read_ahead_raises_the_listing_error_after_the_batches_before_it() -> None:
    seen: list[int] = []
    with pytest.raises(IncompleteScan, match="broke"):
        for batch in read_ahead(_batches(5, fail=True), 2):
            seen.append(batch.records[0]["id"])
    assert seen == [0, 1, 2, 3, 4]


def test_closing_read_ahead_stops_the_reader() -> None:
    produced: list[int] = []

    def endless() -> Generator[Batch, None, None]:
        n = 0
        while True:
            produced.append(n)
            yield Batch([], None, Position(n, n), None, last=False)
            n += 1

    ahead = read_ahead(endless(), 2)
    next(ahead)
    ahead.close()
    stopped_at = len(produced)
    time.sleep(0.05)
    assert len(produced) == stopped_at <= 5  # bounded by the hand-off, then nothing more


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_pacer_halves_on_overload_once_per_cooldown_and_grows_back_by_one_per_window() -> None:
    clock = Clock()
    pacer = Pacer(8, cooldown=1.0, now=clock)
    for _ in range(3):  # a burst of 429s from one overload: halved once
        pacer.release("orders", pacer.acquire(), overloaded=True)
    assert int(pacer.limit) == 4
    clock.t = 2.0
    pacer.release("orders", pacer.acquire(), overloaded=True)
    assert int(pacer.limit) == 2
    for _ in range(5):  # + 1/limit per good answer: about one per window (2 → 3 → ~4)
        pacer.release("orders", pacer.acquire())
    assert 3.5 < pacer.limit < 4
    for _ in range(100):
        pacer.release("orders", pacer.acquire())
    assert pacer.limit == 8  # never above the ceiling


def test_pacer_backs_off_when_answers_slow_down_per_path() -> None:
    clock = Clock()
    pacer = Pacer(4, slack=0.25, now=clock)

    def request(path: str, seconds: float) -> None:
        started = pacer.acquire()
        clock.t += seconds
        pacer.release(path, started)

    request("orders", 0.1)
    request("customers", 0.01)
    request("orders", 0.3)  # slower, but within 2 × 0.1 + 0.25: the usual jitter
    assert pacer.limit == 4
    request("orders", 0.6)  # more than twice the quickest, and by more than the slack
    assert int(pacer.limit) == 2


def test_pacer_never_lets_more_requests_in_flight_than_its_limit() -> None:
    pacer = Pacer(3)
    most = 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal most
        started = pacer.acquire()
        with lock:
            most = max(most, pacer.in_flight)
        time.sleep(0.01)
        pacer.release("orders", started)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 3 and pacer.in_flight == 0


def test_the_fast_sqlite_instant_writes_what_sqlalchemy_would() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import create_engine

    from connector._schema import orders
    from connector._sync import _sqlite_instant, _stored_as_iso_text

    dialect = create_engine("sqlite://").dialect
    column_type = orders.c.created_at.type
    assert _stored_as_iso_text(column_type, dialect)
    generic = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert generic is not None
    tehran = timezone(timedelta(hours=3, minutes=30))
    for value in [
        None,
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2024, 12, 6, 15, 5, 57, 1, tzinfo=UTC),
        datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=tehran),
    ]:
        assert _sqlite_instant(value) == generic(value)
    with pytest.raises(ValueError, match="naive"):
        _sqlite_instant(datetime(2024, 1, 1))
