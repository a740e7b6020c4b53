"""The sync engine against recorded real pages and hand-made malformed ones (``responses``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy import Engine, func, select

from connector._client import StoreCredentials, WooClient
from connector._schema import customers, guests, order_coupons, order_line_items, orders, quarantine
from connector._sync import sync_store
from tests.conftest import FIXTURES

BASE = "https://shop.test"
API = f"{BASE}/wp-json/wc/v3"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def fixture_body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["response"]["body"]


def recorded_orders() -> list[dict[str, Any]]:
    """The recorded real orders: two list pages plus the single-order fixtures."""
    found: dict[int, dict[str, Any]] = {}
    for name in ("usd-orders-page1", "usd-orders-page2"):
        for o in fixture_body(name):
            found[o["id"]] = o
    for name in (
        "usd-order-with-refunds",
        "usd-order-two-equal-refunds",
        "usd-order-guest",
        "usd-order-pre-registration-guest",
        "usd-order-deleted-customer",
        "usd-order-zero-total",
        "usd-order-coupon",
        "usd-order-full-refund",
        "usd-order-line-item-refund",
        "usd-order-emoji-note",
    ):
        o = fixture_body(name)
        found[o["id"]] = o
    return [found[k] for k in sorted(found)]


def _sort_id(record: Any) -> int:
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, int) else 0


class FakeStore:
    """Serves lists of raw records the way WooCommerce pages them (orderby=id asc)."""

    def __init__(self, order_list: list[dict[str, Any]], customer_list: list[dict[str, Any]]):
        self.orders = order_list
        self.customers = customer_list

    def _page(self, records: list[dict[str, Any]], request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        rows = sorted(records, key=_sort_id)
        if query.get("order") == "desc":
            rows.reverse()
        if "include" in query:
            wanted = {int(i) for i in query["include"].split(",")}
            rows = [r for r in rows if _sort_id(r) in wanted]
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers = {
            "X-WP-Total": str(len(rows) if chunk else 0),
            "X-WP-TotalPages": str(-(-len(rows) // per_page) if chunk else 0),
            "Date": "Mon, 23 Nov 2026 12:00:00 GMT",
        }
        return 200, headers, json.dumps(chunk)

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add_callback(
            responses.GET,
            f"{API}/orders",
            callback=lambda r: self._page(self.orders, r),
            content_type="application/json; charset=UTF-8",
        )
        mock.add_callback(
            responses.GET,
            f"{API}/customers",
            callback=lambda r: self._page(self.customers, r),
            content_type="application/json; charset=UTF-8",
        )


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


def client() -> WooClient:
    creds = StoreCredentials(
        name="shop", url=BASE, consumer_key="ck_test", consumer_secret="cs_" + "e" * 40
    )
    return WooClient(creds, sleep=lambda s: None)


def run_sync(engine: Engine, **kwargs: Any) -> Any:
    with client() as c:
        return sync_store(engine, c, store="shop", url=BASE, now=lambda: NOW, **kwargs)


def test_recorded_real_orders_are_mirrored_exactly(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    records = recorded_orders()
    FakeStore(records, fixture_body("usd-customers-role-all-page1")).install(mock)
    result = run_sync(engine, concurrency=1)
    assert result.count("orders") == len(records)
    with engine.connect() as conn:
        row = conn.execute(select(orders).where(orders.c.wc_id == 789)).mappings().one()
        two_equal = conn.execute(
            select(orders.c.refunded_total).where(orders.c.wc_id == 292)
        ).scalar()
        deleted_customer = conn.execute(
            select(orders.c.customer_id).where(orders.c.wc_id == 575)
        ).scalar()
        coupons = conn.execute(select(order_coupons)).mappings().all()
        items = conn.execute(select(func.count()).select_from(order_line_items)).scalar()
        guest_emails = set(conn.execute(select(guests.c.email)).scalars())
        accounts = conn.execute(select(customers.c.wc_id, customers.c.role)).all()
    raw = next(o for o in records if o["id"] == 789)
    assert row["total"] == Decimal(raw["total"])
    assert row["refunded_total"] == -sum(Decimal(r["total"]) for r in raw["refunds"])
    assert row["created_at"] == datetime.fromisoformat(raw["date_created_gmt"]).replace(tzinfo=UTC)
    assert two_equal == Decimal("42.12")  # two refunds of 21.06: keyed by id, both count
    assert deleted_customer == 0
    assert {c["order_id"] for c in coupons} >= {42}
    assert items == sum(len(o["line_items"]) for o in records)
    assert all(e == e.strip().lower() for e in guest_emails)
    assert (1, "administrator") in accounts  # role=all


MALFORMED = {
    "missing id": lambda o: o.pop("id"),
    "non-numeric total": lambda o: o.update(total="12,50"),
    "float total": lambda o: o.update(total=12.5),
    "unknown status": lambda o: o.update(status="Completed!!"),
    "absurd date": lambda o: o.update(date_created_gmt="1970-01-01T00:00:00"),
    "future date": lambda o: o.update(date_modified_gmt="2099-01-01T00:00:00"),
    "negative total": lambda o: o.update(total="-5.00"),
    "not an object": lambda o: None,
}


def test_malformed_records_are_quarantined_and_the_rest_stored(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    good = recorded_orders()
    bad: list[Any] = []
    for n, (reason, spoil) in enumerate(MALFORMED.items()):
        record = copy.deepcopy(good[n])
        record["id"] = 90_000 + n
        if reason == "not an object":
            bad.append("just a string")
            continue
        spoil(record)
        bad.append(record)
    FakeStore(good + bad, []).install(mock)
    result = run_sync(engine, concurrency=2)
    assert result.count("orders") == len(good)
    assert result.quarantined == len(MALFORMED)
    with engine.connect() as conn:
        held = conn.execute(select(quarantine)).mappings().all()
        stored = set(conn.execute(select(orders.c.wc_id)).scalars())
    assert stored == {o["id"] for o in good}
    errors = " | ".join(h["error"] for h in held)
    for expected in ("id", "decimal", "status", "absurd date", "negative", "total"):
        assert expected in errors
    assert all(h["payload"] for h in held)
    # A second run finds the same bad records: still one quarantine row each.
    run_sync(engine, full=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar() == len(MALFORMED)


def test_a_fixed_record_leaves_quarantine(engine: Engine, mock: responses.RequestsMock) -> None:
    records = recorded_orders()[:5]
    broken = copy.deepcopy(records[0])
    broken["total"] = "n/a"
    store = FakeStore([broken, *records[1:]], [])
    store.install(mock)
    run_sync(engine)
    store.orders[:] = records
    run_sync(engine, full=True)
    with engine.connect() as conn:
        resolved = conn.execute(select(quarantine.c.resolved_at)).scalar()
        total = conn.execute(
            select(orders.c.total).where(orders.c.wc_id == records[0]["id"])
        ).scalar()
    assert resolved is not None
    assert total == Decimal(records[0]["total"])


def test_running_twice_changes_nothing(engine: Engine, mock: responses.RequestsMock) -> None:
    FakeStore(recorded_orders(), fixture_body("usd-customers-role-all-page1")).install(mock)
    run_sync(engine)
    with engine.connect() as conn:
        first = [tuple(r) for r in conn.execute(select(orders).order_by(orders.c.wc_id))]
    run_sync(engine)
    run_sync(engine, full=True)
    with engine.connect() as conn:
        again = [tuple(r)[:-1] for r in conn.execute(select(orders).order_by(orders.c.wc_id))]
    assert [r[:-1] for r in first] == again  # all but the full-scan mark


def test_repeated_page_stops_instead_of_looping(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    page = [dict(o, id=1000 + i) for i, o in enumerate(recorded_orders()[:1] * 100)]
    mock.add(
        responses.GET,
        f"{API}/orders",
        json=page,
        headers={"X-WP-Total": "100000", "X-WP-TotalPages": "1000"},
    )
    from connector import InvalidResponseError

    with pytest.raises(InvalidResponseError, match="repeats"):
        run_sync(engine, concurrency=1)
