"""Property: whatever a store sends for one record, the sync engine neither fails nor loses
the records around it. Every payload is stored exactly, or quarantined with its payload.

Generated payloads are recorded real orders and customers with a few fields replaced by any
JSON value (huge and negative numbers, floats, nested lists and objects, NUL characters,
lone surrogates, 10 000-character text) or removed. They go through the real engine and the
real database (SQLite, or PostgreSQL with ``BAZGASHT_TEST_POSTGRES``); only the HTTP client
is a fake that pages a list the way WooCommerce does.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from connector._client import Page
from connector._errors import NotFoundError
from connector._listing import usable_id
from connector._schema import customers, order_coupons, order_line_items, orders, quarantine, stores
from connector._sync import sync_store
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def fixture_body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["response"]["body"]


#: A recorded order with line items, refunds and (from another recording) a coupon line.
BASE_ORDER = {
    **fixture_body("usd-order-with-refunds"),
    "coupon_lines": fixture_body("usd-order-coupon")["coupon_lines"],
}
BASE_CUSTOMER = fixture_body("usd-customer-single")

Path = tuple[str | int, ...]

ODD_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(categories=["Cs", "Cc", "Zs", "So"]), max_size=8),  # lone surrogates
    st.integers(min_value=0, max_value=12_000).map(lambda n: "é" * n),
    st.sampled_from(
        [
            "",
            "\x00",
            "Ali\x00",
            "\ud800",
            "Zahra\udfff",
            "İstanbul" * 30,  # 240 characters, 270 once lower-cased
            "A" * 201,
            "9" * 150,
            "x" * 2000,
            "x" * 2001,
            "y" * 10_000,
            "  MiXeD@Example.COM ",
        ]
    ),
)
MONEY_TEXT = st.one_of(
    st.integers(0, 6)
    .flatmap(
        lambda places: st.decimals(
            min_value=-(10**15), max_value=10**15, places=places, allow_nan=False
        )
    )
    .map(str),
    st.sampled_from(
        ["12.5", "-50.00", "50.00", "1.23456", "1.230000", "99999999999999.99", "1e5", "NaN"]
    ),
)
DATE_TEXT = st.one_of(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.isoformat(timespec="seconds")
    ),
    st.sampled_from(["2025-06-13T20:08:53", "1970-01-01T00:00:00", "2025-13-01T00:00:00"]),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**14]),
    st.floats(allow_nan=False, allow_infinity=False),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
#: What each field is, so that values near its limits are tried often.
TEXT, MONEY, DATE, NUMBER, OTHER = ODD_TEXT, MONEY_TEXT, DATE_TEXT, NUMBERS, JSON_VALUES
ORDER_FIELDS: dict[Path, st.SearchStrategy[Any]] = {
    ("id",): NUMBER,
    ("number",): TEXT,
    ("status",): st.one_of(TEXT, st.sampled_from(["processing", "my-custom-status-x"])),
    ("currency",): st.one_of(TEXT, st.sampled_from(["USD", "IRT", "TOOLONGCURRENCY"])),
    ("date_created_gmt",): DATE,
    ("date_modified_gmt",): DATE,
    ("date_paid_gmt",): DATE,
    ("total",): MONEY,
    ("total_tax",): MONEY,
    ("shipping_total",): MONEY,
    ("discount_total",): MONEY,
    ("customer_id",): NUMBER,
    ("billing",): OTHER,
    ("billing", "first_name"): TEXT,
    ("billing", "last_name"): TEXT,
    ("billing", "email"): TEXT,
    ("billing", "phone"): TEXT,
    ("line_items",): OTHER,
    ("line_items", 0, "id"): NUMBER,
    ("line_items", 0, "name"): TEXT,
    ("line_items", 0, "quantity"): NUMBER,
    ("line_items", 0, "product_id"): NUMBER,
    ("line_items", 0, "variation_id"): NUMBER,
    ("line_items", 0, "subtotal"): MONEY,
    ("line_items", 1, "total"): MONEY,
    ("coupon_lines",): OTHER,
    ("coupon_lines", 0, "code"): TEXT,
    ("coupon_lines", 0, "discount"): MONEY,
    ("refunds",): OTHER,
    ("refunds", 0, "total"): MONEY,
    ("refunds", 1, "id"): NUMBER,
    ("customer_note",): TEXT,  # not stored: anything goes
}
CUSTOMER_FIELDS: dict[Path, st.SearchStrategy[Any]] = {
    ("id",): NUMBER,
    ("email",): TEXT,
    ("first_name",): TEXT,
    ("last_name",): TEXT,
    ("role",): st.one_of(TEXT, st.just("customer")),
    ("username",): TEXT,
    ("date_created_gmt",): DATE,
    ("date_modified_gmt",): DATE,
    ("is_paying_customer",): OTHER,
    ("billing",): OTHER,
    ("billing", "phone"): TEXT,
    ("billing", "email"): TEXT,
    ("avatar_url",): TEXT,
}
REMOVED = object()


def changed(base: dict[str, Any], changes: list[tuple[Path, Any]]) -> dict[str, Any]:
    """``base`` with each (path, value) set, or removed for ``REMOVED``."""
    record = copy.deepcopy(base)
    for path, value in changes:
        target: Any = record
        for step in path[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                target = None
                break
        key = path[-1]
        if isinstance(target, dict) or (isinstance(target, list) and key in (0, 1)):
            try:
                if value is REMOVED:
                    del target[key]
                else:
                    target[key] = value
            except (KeyError, IndexError):
                pass
    return record


def spoil(
    base: dict[str, Any], fields: dict[Path, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with 1–3 fields given a value of their kind, any JSON value, or removed."""
    change = st.sampled_from(sorted(fields, key=repr)).flatmap(
        lambda path: st.tuples(
            st.just(path), st.one_of(fields[path], fields[path], JSON_VALUES, st.just(REMOVED))
        )
    )
    return st.lists(change, min_size=1, max_size=3).map(lambda c: changed(base, c))


#: The cases the issue names, always tried (on top of the generated ones).
NAMED_ORDER_CASES = [
    [(("billing", "email"), "\ud800\udc00")],  # arrives as one character, U+10000
    [(("billing", "first_name"), "A" * 201)],
    [(("billing", "phone"), "9" * 150)],
    [(("billing", "last_name"), "Ali\x00")],
    [(("billing", "first_name"), "Zahra\udfff")],
    [(("line_items", 0, "name"), "y" * 10_000)],
    [(("line_items", 0, "product_id"), 2**63)],
    [(("customer_id",), -(2**63) - 1)],
    [(("total",), "1.23456")],
    [(("total",), "1.230000")],
    [(("line_items", 0, "quantity"), -1)],
    [(("line_items", 0, "quantity"), 2**31)],
    [(("refunds", 0, "total"), "50.00")],
    [(("coupon_lines", 0, "code"), "İstanbul" * 30)],
]
NAMED_CUSTOMER_CASES = [
    [(("first_name",), "A" * 201)],
    [(("billing", "phone"), "9" * 150)],
    [(("last_name",), "\x00")],
    [(("email",), "\ud800@example.com")],
    [(("email",), "a" * 400 + "@example.com")],
    [(("id",), 2**63)],
]


class ListStore:
    """A store that pages lists of raw records like WooCommerce (by id, offset, include)."""

    def __init__(self, name: str, order_list: list[Any], customer_list: list[Any]) -> None:
        self.store = name
        self._lists = {"orders": _by_id(order_list), "customers": _by_id(customer_list)}

    def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
        rows = self._lists[path]
        if "include" in params:
            wanted = {int(i) for i in str(params["include"]).split(",")}
            rows = [r for r in rows if usable_id(r) in wanted]
        if params.get("order") == "desc":
            rows = rows[::-1]
        offset, per_page = int(params.get("offset", 0)), int(params["per_page"])
        chunk = copy.deepcopy(rows[offset : offset + per_page])
        return Page(chunk, len(rows) if chunk else 0, 1 if chunk else 0, NOW)

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        wanted = int(path.rsplit("/", 1)[1])
        for record in self._lists["orders"]:
            if usable_id(record) == wanted:
                return copy.deepcopy(record)
        raise NotFoundError(
            "Invalid ID.", store=self.store, url=path, status=404, code="invalid_id"
        )

    def site_info(self) -> dict[str, Any]:
        return {"home": f"https://{self.store}.example"}


def _by_id(records: list[Any]) -> list[Any]:
    """Sorted by id as WooCommerce's ORDER BY id would; a record without a usable id keeps
    its place after the record before it."""
    keyed, last = [], 0
    for record in records:
        last = usable_id(record) or last
        keyed.append((last, record))
    return [record for _, record in sorted(keyed, key=lambda pair: pair[0])]


def _utc(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _money(value: Any) -> Decimal:
    return Decimal(value.strip() if isinstance(value, str) else value)


def expected_order(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[Any, Any], dict[str, Any]]:
    """The rows a mirrored order must have: what the store sent, read independently."""
    billing = raw.get("billing", {})
    row = {
        "number": raw.get("number") or str(raw["id"]),
        "status": raw["status"],
        "currency": raw["currency"],
        "created_at": _utc(raw["date_created_gmt"]),
        "modified_at": _utc(raw["date_modified_gmt"]),
        "paid_at": _utc(raw.get("date_paid_gmt")),
        "total": _money(raw["total"]),
        "total_tax": _money(raw.get("total_tax", 0)),
        "shipping_total": _money(raw.get("shipping_total", 0)),
        "discount_total": _money(raw.get("discount_total", 0)),
        "refunded_total": -sum((_money(r["total"]) for r in raw.get("refunds", [])), Decimal(0)),
        "customer_id": raw["customer_id"],
        "billing_email": (billing.get("email") or "").strip().lower(),
        "billing_first_name": billing.get("first_name", ""),
        "billing_last_name": billing.get("last_name", ""),
        "billing_phone": billing.get("phone", ""),
    }
    items = {
        li["id"]: (
            li.get("product_id", 0),
            li.get("variation_id", 0),
            li.get("name", ""),
            li["quantity"],
            _money(li["subtotal"]),
            _money(li["total"]),
        )
        for li in raw.get("line_items", [])
    }
    coupons: dict[str, Decimal] = {}
    for line in raw.get("coupon_lines", []):
        code = line["code"].lower()
        coupons[code] = coupons.get(code, Decimal(0)) + _money(line["discount"])
    return row, items, coupons


def expected_customer(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "email": raw.get("email", "").strip().lower(),
        "first_name": raw.get("first_name", ""),
        "last_name": raw.get("last_name", ""),
        "phone": raw.get("billing", {}).get("phone", ""),
        "role": raw.get("role", "customer"),
        "created_at": _utc(raw["date_created_gmt"]),
        "modified_at": _utc(raw.get("date_modified_gmt")),
        "is_paying_customer": raw.get("is_paying_customer", False),
    }


_stores = itertools.count()


def check_stored_or_quarantined(
    engine: Engine, store: str, resource: str, records: list[Any], must_store: list[Any]
) -> None:
    with engine.connect() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == store)).scalar_one()
        held = {
            row.wc_id: row
            for row in conn.execute(
                select(quarantine).where(
                    quarantine.c.store_id == store_id,
                    quarantine.c.resource == resource,
                    quarantine.c.resolved_at.is_(None),
                )
            )
        }
        table = orders if resource == "orders" else customers
        stored = {
            row.wc_id: row._mapping
            for row in conn.execute(select(table).where(table.c.store_id == store_id))
        }
        items = conn.execute(
            select(order_line_items).where(order_line_items.c.store_id == store_id)
        ).all()
        coupon_rows = conn.execute(
            select(order_coupons).where(order_coupons.c.store_id == store_id)
        ).all()
    # Validation catches everything the databases would refuse: the fallback never fires.
    assert not any("database refused" in h.error for h in held.values())
    payloads = [json.loads(h.payload) for h in held.values()]
    for raw in records:
        wc_id = usable_id(raw)
        if raw in payloads:
            assert wc_id is None or wc_id not in stored, "quarantined and stored"
            assert raw not in must_store, "a valid record was quarantined"
            continue
        assert wc_id in stored, f"neither stored nor quarantined: {raw!r:.300}"
        row = stored[wc_id]
        if resource == "orders":
            want, want_items, want_coupons = expected_order(raw)
            assert {k: row[k] for k in want} == want
            assert {
                i.wc_id: (i.product_id, i.variation_id, i.name, i.quantity, i.subtotal, i.total)
                for i in items
                if i.order_id == wc_id
            } == want_items
            assert {c.code: c.discount for c in coupon_rows if c.order_id == wc_id} == want_coupons
        else:
            want = expected_customer(raw)
            assert {k: row[k] for k in want} == want


SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _neighbours(base: dict[str, Any], first: int) -> tuple[dict[str, Any], dict[str, Any]]:
    before, after = copy.deepcopy(base), copy.deepcopy(base)
    before["id"], after["id"] = first, first + 2
    if "order_key" in base:
        before["order_key"], after["order_key"] = f"wc_order_{first}", f"wc_order_{first + 2}"
    return before, after


def _with_named_cases(
    base: dict[str, Any], cases: list[list[tuple[Path, Any]]]
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for case in cases:
            test = example(odd=changed(base, case))(test)
        return test

    return decorate


@SETTINGS
@_with_named_cases(BASE_ORDER, NAMED_ORDER_CASES)
@given(odd=spoil(BASE_ORDER, ORDER_FIELDS))
def test_any_order_payload_is_stored_exactly_or_quarantined(
    engine: Engine, odd: dict[str, Any]
) -> None:
    odd = json.loads(json.dumps(odd))  # what a client can receive (a surrogate pair is joined)
    first = 10**9 + 3 * next(_stores)
    if "id" in odd and odd["id"] == BASE_ORDER["id"]:
        odd["id"] = first + 1
    assume(usable_id(odd) not in (first, first + 2))
    before, after = _neighbours(BASE_ORDER, first)
    name = f"prop-o{first}"
    sync_store(engine, ListStore(name, [before, odd, after], []), store=name, now=lambda: NOW)
    check_stored_or_quarantined(engine, name, "orders", [before, odd, after], [before, after])


@SETTINGS
@_with_named_cases(BASE_CUSTOMER, NAMED_CUSTOMER_CASES)
@given(odd=spoil(BASE_CUSTOMER, CUSTOMER_FIELDS))
def test_any_customer_payload_is_stored_exactly_or_quarantined(
    engine: Engine, odd: dict[str, Any]
) -> None:
    odd = json.loads(json.dumps(odd))  # what a client can receive (a surrogate pair is joined)
    first = 10**9 + 3 * next(_stores)
    if "id" in odd and odd["id"] == BASE_CUSTOMER["id"]:
        odd["id"] = first + 1
    assume(usable_id(odd) not in (first, first + 2))
    before, after = _neighbours(BASE_CUSTOMER, first)
    name = f"prop-c{first}"
    sync_store(engine, ListStore(name, [], [before, odd, after]), store=name, now=lambda: NOW)
    check_stored_or_quarantined(engine, name, "customers", [before, odd, after], [before, after])
