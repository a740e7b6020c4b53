"""Reading a listing by offset with an overlap (``connector._listing``): no row that stays on
the store is ever skipped, whatever is deleted or added while the pages are read, and the
answers that contradict the store's own totals are reported."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector._client import Page
from connector._errors import IncompleteScan
from connector._listing import FIRST_STEP_BACK, Position, read_listing

NOW = datetime(2026, 11, 23, tzinfo=UTC)


class Shifting:
    """A listing of ids (ascending, or descending for ``order=desc``) that calls ``before``
    with the request number before answering each page: it may change ``ids`` there."""

    store = "shop"

    def __init__(self, ids: list[int], before: Callable[[int, list[int]], None] | None = None):
        self.ids = sorted(ids)
        self.before = before
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.drop: set[int] = set()  # records the store "cannot read": left out of pages
        self.totals = True

    def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
        with self.lock:
            self.calls.append(dict(params))
            if self.before is not None:
                self.before(len(self.calls), self.ids)
            rows = self.ids[::-1] if params.get("order") == "desc" else list(self.ids)
            offset, per_page = int(params.get("offset", 0)), int(params["per_page"])
            chunk = [{"id": i} for i in rows[offset : offset + per_page] if i not in self.drop]
            total = (len(rows) if chunk else 0) if self.totals else None
            return Page(chunk, total, None, NOW)


def read_all(source: Shifting, **kwargs: Any) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    anomalies: list[str] = []
    for batch in read_listing(source, "orders", {"orderby": "id"}, Position(0, None), **kwargs):
        ids.extend(r["id"] for r in batch.records)
        if batch.anomaly:
            anomalies.append(batch.anomaly)
    return ids, anomalies


def test_a_quiet_listing_is_read_once_with_one_row_of_overlap() -> None:
    source = Shifting(list(range(1, 451)))
    ids, anomalies = read_all(source)
    assert ids == list(range(1, 451)) and anomalies == []
    assert [c["offset"] for c in source.calls] == [0, 99, 198, 297, 396]


def test_a_listing_of_exactly_one_page_ends_with_the_overlap_row() -> None:
    source = Shifting(list(range(1, 101)))
    assert read_all(source) == (list(range(1, 101)), [])
    assert [c["offset"] for c in source.calls] == [0, 99]


@pytest.mark.parametrize("deleted", [1, 2, 9, 10, 11, 40, 150])
def test_deletions_before_the_next_page_make_it_step_back_not_skip(deleted: int) -> None:
    def delete(call: int, ids: list[int]) -> None:
        if call == 3:  # before the third page: rows already read disappear
            del ids[5 : 5 + deleted]

    source = Shifting(list(range(1, 501)), delete)
    ids, anomalies = read_all(source)
    assert set(range(1, 501)) - set(range(6, 6 + deleted)) <= set(ids)
    assert anomalies == []
    assert len(ids) == len(set(ids))  # the overlap repeats nothing either


def test_a_step_back_starts_small_and_doubles() -> None:
    def delete(call: int, ids: list[int]) -> None:
        if call == 2:
            del ids[0:25]

    source = Shifting(list(range(1, 301)), delete)
    read_all(source)
    offsets = [c["offset"] for c in source.calls]
    assert offsets[:4] == [0, 99, 99 - FIRST_STEP_BACK, 99 - 3 * FIRST_STEP_BACK]


def test_a_short_page_before_the_end_is_reported_and_read_past() -> None:
    source = Shifting(list(range(1, 301)))
    source.drop = {150}  # WooCommerce cannot read this one
    ids, anomalies = read_all(source)
    assert ids == [i for i in range(1, 301) if i != 150]
    assert anomalies and "short page: 99 of 100 records at offset 99" in anomalies[0]


def test_a_listing_ending_short_of_its_total_is_reported() -> None:
    source = Shifting(list(range(1, 51)))
    source.drop = {50}
    ids, anomalies = read_all(source)
    assert ids == list(range(1, 50))
    assert anomalies == [
        "a short page: 49 of 100 records at offset 0 while X-WP-Total says 50",
        "the listing ended after 49 records while X-WP-Total says 50",
    ]


def test_no_total_means_no_proof() -> None:
    source = Shifting(list(range(1, 51)))
    source.totals = False
    assert read_all(source)[1] == [
        "the store sent no X-WP-Total, so the scan cannot prove it saw everything"
    ]


def test_ids_out_of_order_are_reported() -> None:
    class Unordered(Shifting):
        def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
            page = super().get_page(path, params)
            return Page(page.items[::-1], page.total, None, NOW)

    assert "ids repeat or go backwards" in read_all(Unordered(list(range(1, 20))))[1][0]


def test_an_empty_first_page_against_its_total_stops() -> None:
    class Empty(Shifting):
        def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
            return Page([], 1500, 15, NOW)

    with pytest.raises(IncompleteScan, match="empty although X-WP-Total says 1500"):
        read_all(Empty([]))


def test_a_listing_that_never_finds_its_place_gives_up() -> None:
    class Hopeless(Shifting):
        def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
            first = 1000 + int(params["offset"]) * 1000  # always after what was read
            return Page([{"id": first + i} for i in range(100)], 10**6, None, NOW)

    with pytest.raises(IncompleteScan, match="kept shifting"):
        read_all(Hopeless([]))


def test_a_store_ignoring_offset_is_not_read_forever() -> None:
    class Stuck(Shifting):
        def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
            self.calls.append(dict(params))
            return Page([{"id": i} for i in range(1, 101)], 10**6, None, NOW)

    source = Stuck([])
    with pytest.raises(IncompleteScan, match="ignore `offset`"):
        read_all(source)
    assert len(source.calls) == 7


def test_a_page_repeating_the_last_one_after_massive_deletions_is_fine() -> None:
    """The rows of the previous page, now at offset 0: not a broken cache."""

    def delete(call: int, ids: list[int]) -> None:
        if call == 3:
            del ids[:99]

    source = Shifting(list(range(1, 401)), delete)
    ids, anomalies = read_all(source)
    assert set(range(100, 401)) <= set(ids) and anomalies == []


def test_descending_listings_step_back_too() -> None:
    def delete(call: int, ids: list[int]) -> None:
        if call == 2:
            del ids[-30:-10]  # among the newest, already read

    source = Shifting(list(range(1, 301)), delete)
    found: list[int] = []
    batches = read_listing(source, "c", {"order": "desc"}, Position(0, None), descending=True)
    for batch in batches:
        found.extend(r["id"] for r in batch.records)
    assert set(range(1, 271)) <= set(found)
    assert found == sorted(found, reverse=True)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 650),
    changes=st.lists(
        st.tuples(
            st.integers(1, 12),  # before which request
            st.sampled_from(["delete", "append", "restore"]),
            st.integers(0, 10_000),  # where
            st.integers(1, 60),  # how many
        ),
        max_size=6,
    ),
    concurrency=st.sampled_from([1, 3]),
)
def test_no_row_that_stays_is_ever_skipped(
    size: int, changes: list[tuple[int, str, int, int]], concurrency: int
) -> None:
    """Deletions anywhere, new rows at the end, old rows coming back in the middle, at any
    moment, even between pages fetched concurrently: every row present from the start to
    the end of the scan is read, and rows that came and went may or may not be."""
    original = list(range(2, 2 * size + 2, 2))
    removed: set[int] = set()

    def mutate(call: int, ids: list[int]) -> None:
        for when, what, where, count in changes:
            if when != call:
                continue
            if what == "delete" and ids:
                start = where % len(ids)
                removed.update(ids[start : start + count])
                del ids[start : start + count]
            elif what == "append":
                top = ids[-1] if ids else 0
                ids.extend(range(top + 2, top + 2 + 2 * count, 2))
            elif what == "restore":  # odd ids, between existing ones
                start = where % 1300 | 1
                ids.extend(i for i in range(start, start + 2 * count, 2) if i not in ids)
                ids.sort()

    source = Shifting(original, mutate)
    ids, anomalies = read_all(source, concurrency=concurrency)
    assert set(original) - removed <= set(ids)
    assert anomalies == []


def test_a_full_page_without_any_usable_id_is_kept_for_the_quarantine_then_stops() -> None:
    class Garbage(Shifting):
        def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
            return Page([{"id": "x"}] * 100, 100, 1, NOW)

    batches = read_listing(Garbage([]), "orders", {}, Position(0, None))
    first = next(batches)
    assert len(first.records) == 100 and "no record with a usable id" in (first.anomaly or "")
    with pytest.raises(IncompleteScan, match="cannot page on"):
        next(batches)
