"""The sync engine against recorded real pages and hand-made malformed ones (``responses``)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy import Engine, func, select, update

from connector._client import StoreCredentials, WooClient
from connector._schema import (
    customers,
    guests,
    order_coupons,
    order_line_items,
    orders,
    quarantine,
    stores,
    sync_checkpoints,
    sync_cursors,
    sync_runs,
)
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
        #: Ids left out of listings (and their totals) but found by include=, like an order
        #: in a status the listing does not show.
        self.hidden: set[int] = set()
        #: Answer include= look-ups as if the parameter did not exist (a broken plugin).
        self.ignore_include = False
        self.home = BASE

    def _page(self, records: list[dict[str, Any]], request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        offset = int(query["offset"]) if query.get("offset") else (page - 1) * per_page
        rows = sorted(records, key=_sort_id)
        if query.get("order") == "desc":
            rows.reverse()
        if "include" in query and not self.ignore_include:
            wanted = {int(i) for i in query["include"].split(",")}
            rows = [r for r in rows if _sort_id(r) in wanted]
        else:
            rows = [r for r in rows if _sort_id(r) not in self.hidden]
        chunk = rows[offset : offset + per_page]
        headers = {
            "X-WP-Total": str(len(rows) if chunk else 0),
            "X-WP-TotalPages": str(-(-len(rows) // per_page) if chunk else 0),
            "Date": "Mon, 23 Nov 2026 12:00:00 GMT",
        }
        return 200, headers, json.dumps(chunk)

    def _order(self, request: Any) -> tuple[int, dict[str, str], str]:
        wanted = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        for record in self.orders:
            if _sort_id(record) == wanted:
                return 200, {}, json.dumps(record)
        error = {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID."}
        return 404, {}, json.dumps({**error, "data": {"status": 404}})

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add_callback(
            responses.GET,
            f"{API}/orders",
            callback=lambda r: self._page(self.orders, r),
            content_type="application/json; charset=UTF-8",
        )
        mock.add_callback(
            responses.GET,
            re.compile(rf"{re.escape(API)}/orders/\d+"),
            callback=self._order,
            content_type="application/json; charset=UTF-8",
        )
        mock.add_callback(
            responses.GET,
            f"{API}/customers",
            callback=lambda r: self._page(self.customers, r),
            content_type="application/json; charset=UTF-8",
        )
        mock.add_callback(
            responses.GET,
            f"{BASE}/wp-json/",
            callback=lambda r: (200, {}, json.dumps({"home": self.home, "url": self.home})),
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
    from connector import IncompleteScan

    with pytest.raises(IncompleteScan, match="repeats rows already read"):
        run_sync(engine, concurrency=1)


# --------------------------------------------------------------------------- deletion proof


def deleted(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        query = select(orders.c.wc_id).where(orders.c.deleted_at.is_not(None))
        return set(conn.execute(query).scalars())


def test_a_row_the_listing_missed_is_looked_up_written_and_not_blamed(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    records = recorded_orders()
    store = FakeStore(records, [])
    store.install(mock)
    run_sync(engine)
    missed = records[3]
    missed["status"] = "on-hold"
    store.hidden = {missed["id"]}
    result = run_sync(engine, full=True)
    assert result.deleted == 0 and deleted(engine) == set()
    with engine.connect() as conn:
        status = conn.execute(select(orders.c.status).where(orders.c.wc_id == missed["id"]))
        assert status.scalar() == "on-hold"  # written from the look-up


def test_a_row_the_look_up_does_not_find_is_marked_deleted(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    records = recorded_orders()
    store = FakeStore(records, [])
    store.install(mock)
    run_sync(engine)
    gone = store.orders.pop(7)
    result = run_sync(engine, full=True)
    assert result.deleted == 1 and deleted(engine) == {gone["id"]}
    # A later incremental run that reads it again (restored from the trash) un-marks it.
    store.orders.append(gone)
    run_sync(engine, full=True)
    assert deleted(engine) == set()


def test_a_store_ignoring_include_proves_nothing(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    from connector import IncompleteScan

    store = FakeStore(recorded_orders(), [])
    store.install(mock)
    run_sync(engine)
    store.orders.pop(7)
    store.ignore_include = True
    with pytest.raises(IncompleteScan, match="ignores include"):
        run_sync(engine, full=True)
    assert deleted(engine) == set()


# --------------------------------------------------------------------------- bad records


def orders_numbered(count: int) -> list[dict[str, Any]]:
    base = fixture_body("usd-order-coupon")
    found = []
    for n in range(count):
        record = copy.deepcopy(base)
        record["id"] = 5000 + n
        record["order_key"] = f"wc_order_{n}"
        found.append(record)
    return found


def test_a_bad_record_does_not_hold_up_its_page_or_the_checkpoint(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    """Issue 9: one order with a NUL in its name made the page fail for ever."""
    records = orders_numbered(250)
    records[120]["billing"]["first_name"] = "Ali\x00"
    records[121]["billing"]["first_name"] = "Z" * 201  # any shopper can type that
    records[122]["line_items"][0]["quantity"] = 2**31
    FakeStore(records, []).install(mock)
    result = run_sync(engine, concurrency=1)
    assert (result.count("orders"), result.quarantined) == (248, 2)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_checkpoints)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(sync_cursors)).scalar() == 2
        name = conn.execute(
            select(orders.c.billing_first_name).where(orders.c.wc_id == 5121)
        ).scalar()
        held = {r.wc_id: r for r in conn.execute(select(quarantine))}
    assert name == "Z" * 201
    assert set(held) == {"5120", "5122"}
    assert "NUL" in held["5120"].error and "less than or equal to 2147483647" in held["5122"].error
    assert json.loads(held["5120"].payload)["billing"]["first_name"] == "Ali\x00"


def test_a_record_the_database_still_refuses_is_quarantined_with_its_reason(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    """Validation should leave the database nothing to refuse; if it still does, the page
    is written record by record and only the offending one is held."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_5007() RETURNS trigger AS $$ BEGIN "
                "IF NEW.wc_id = 5007 THEN RAISE EXCEPTION 'order 5007 refused' "
                "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_5007 BEFORE INSERT ON orders "
                "FOR EACH ROW EXECUTE FUNCTION refuse_5007()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_5007 BEFORE INSERT ON orders WHEN NEW.wc_id = 5007 "
                "BEGIN SELECT RAISE(ABORT, 'order 5007 refused'); END"
            )
    FakeStore(orders_numbered(20), []).install(mock)
    result = run_sync(engine)
    assert (result.count("orders"), result.quarantined) == (19, 1)
    with engine.connect() as conn:
        held = conn.execute(select(quarantine)).mappings().one()
        stored = set(conn.execute(select(orders.c.wc_id)).scalars())
        items = set(conn.execute(select(order_line_items.c.order_id)).scalars())
    assert held["wc_id"] == "5007" and "database refused it" in held["error"]
    assert "order 5007 refused" in held["error"]
    assert stored == items == {5000 + n for n in range(20)} - {5007}


def test_an_embedded_refund_with_a_positive_total_is_not_taken_as_negative(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    """Issue 9: refunded_total −50 would earn points on a 100.00 order."""
    records = orders_numbered(3)
    records[1]["refunds"] = [{"id": 9001, "reason": "", "total": "50.00"}]
    FakeStore(records, []).install(mock)
    result = run_sync(engine)
    assert result.quarantined == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.min(orders.c.refunded_total))).scalar() == 0
        assert conn.execute(select(quarantine.c.error)).scalar().startswith("refunds.0.total")


# --------------------------------------------------------------------------- store identity


def test_another_shop_behind_the_name_is_refused_before_anything_is_written(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    from connector import StoreIdentityChanged

    store = FakeStore(orders_numbered(5), [])
    store.install(mock)
    run_sync(engine)
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(sync_runs)).scalar()
    other = orders_numbered(8)
    for record in other:
        record["order_key"] += "-other"
    store.orders[:] = other
    with pytest.raises(StoreIdentityChanged, match="has another order key"):
        run_sync(engine, full=True)
    store.orders[:] = other[1:]  # the anchor order (5000) does not exist there at all
    store.home = "https://another.example"
    with pytest.raises(StoreIdentityChanged, match="is gone and the site's home address"):
        run_sync(engine, full=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_runs)).scalar() == runs
        assert set(conn.execute(select(orders.c.wc_id)).scalars()) == {5000 + n for n in range(5)}


def test_the_same_shop_whose_anchor_order_was_deleted_re_anchors(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    store = FakeStore(orders_numbered(5), [])
    store.install(mock)
    run_sync(engine)
    store.orders.pop(0)  # deleted for good: 404
    store.home = BASE.replace("https://", "http://www.")  # the same site
    result = run_sync(engine, full=True)
    assert result.deleted == 1
    with engine.connect() as conn:
        anchor = conn.execute(select(stores.c.anchor_order_id)).scalar()
    assert anchor == 5001


def test_a_store_mirrored_before_identities_is_checked_against_its_mirror(
    engine: Engine, mock: responses.RequestsMock
) -> None:
    from connector import StoreIdentityChanged

    store = FakeStore(orders_numbered(5), [])
    store.install(mock)
    run_sync(engine)
    with engine.begin() as conn:  # as before this version: no identity recorded
        conn.execute(update(stores).values(anchor_order_id=None, anchor_order_key=None))
    store.orders[0]["date_created_gmt"] = "2021-01-01T00:00:00"  # not the order we mirrored
    with pytest.raises(StoreIdentityChanged, match="created at another time"):
        run_sync(engine)
