"""The sync's writers put each value in its stored form themselves (money units, instants,
booleans) and hand plain tuples to the driver, skipping the columns' bind processors
(docs/sync.md, "Speed"). The mirror must be byte for byte what SQLAlchemy's own path — the
columns' processors, as the writers used before — stores: this compares the two, raw, on
the database under test (SQLite, or PostgreSQL with BAZGASHT_TEST_POSTGRES)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert

from connector._models import Customer, Order
from connector._schema import customers, guests, order_coupons, order_line_items, orders
from connector._sync import ensure_store, write_customers, write_orders

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "woocommerce"
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def _body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["response"]["body"]


def _orders() -> list[Order]:
    raw: list[dict[str, Any]] = []
    for name in ("usd-orders-page1", "usd-orders-page2", "irt-orders-page1"):
        raw.extend(_body(name))
    for name in ("usd-order-with-refunds", "usd-order-coupon", "usd-order-guest"):
        raw.append(_body(name))
    # Odd but valid values, each where the fast forms could differ from the processors.
    base = _body("usd-order-coupon")
    odd = []
    for n, changes in enumerate(
        [
            {"total": "1.230000", "total_tax": 7, "shipping_total": "0", "discount_total": "-0"},
            {"total": "99999999999999.9999", "date_paid_gmt": None, "date_completed_gmt": ""},
            {"date_created_gmt": "2024-02-29T23:59:59.123456", "date_modified_gmt": "2025-01-01"},
            {"date_created_gmt": "2024-06-01T10:00:00+03:30", "number": ""},
            {"customer_id": 0, "billing": {"email": "  Mixed.Case@Example.COM ", "phone": "۰۹۱۲"}},
        ]
    ):
        record = copy.deepcopy(base)
        record.update(changes)
        record["id"] = 900_000 + n
        odd.append(record)
    coupons = copy.deepcopy(base)
    coupons["id"] = 900_100
    coupons["coupon_lines"] = [
        {"id": 1, "code": "SAVE", "discount": "1.5"},
        {"id": 2, "code": "save", "discount": "2.0001"},
        {"id": 3, "code": "Other", "discount": "0"},
    ]
    odd.append(coupons)
    models = [Order.model_validate(r, context={"now": NOW}) for r in raw + odd]
    assert len({o.id for o in models}) > 10
    return models


def _customers() -> list[Customer]:
    raw = list(_body("usd-customers-role-all-page1")) + list(_body("irt-customers-page1"))
    extra = copy.deepcopy(raw[0])
    extra.update(id=910_000, date_modified_gmt=None, is_paying_customer=True)
    return [Customer.model_validate(r, context={"now": NOW}) for r in [*raw, extra]]


def _reference(conn: Connection, store_id: int, batch: list[Order], people: list[Customer]) -> None:
    """The rows as the writers built them before, stored through SQLAlchemy's own
    executemany: each value through its column's bind processor."""
    by_id = {o.id: o for o in batch}
    conn.execute(
        insert(orders),
        [
            {
                "store_id": store_id,
                "wc_id": o.id,
                "number": o.number or str(o.id),
                "status": o.status,
                "currency": o.currency,
                "created_at": o.date_created_gmt,
                "modified_at": o.date_modified_gmt,
                "paid_at": o.date_paid_gmt,
                "completed_at": o.date_completed_gmt,
                "total": o.total,
                "total_tax": o.total_tax,
                "shipping_total": o.shipping_total,
                "discount_total": o.discount_total,
                "refunded_total": o.refunded_total,
                "customer_id": o.customer_id,
                "billing_email": o.billing_email,
                "billing_first_name": o.billing.first_name,
                "billing_last_name": o.billing.last_name,
                "billing_phone": o.billing.phone,
                "coupon_codes": ",".join(sorted({c.code.lower() for c in o.coupon_lines})),
                "deleted_at": None,
                "seen_scan": "scan",
            }
            for o in by_id.values()
        ],
    )
    items = {
        (o.id, li.id): {
            "store_id": store_id,
            "wc_id": li.id,
            "order_id": o.id,
            "product_id": li.product_id,
            "variation_id": li.variation_id,
            "name": li.name,
            "quantity": li.quantity,
            "subtotal": li.subtotal,
            "total": li.total,
        }
        for o in by_id.values()
        for li in o.line_items
    }
    conn.execute(insert(order_line_items), list(items.values()))
    coupon_rows: dict[tuple[int, str], dict[str, Any]] = {}
    for o in by_id.values():
        for c in o.coupon_lines:
            row = coupon_rows.setdefault(
                (o.id, c.code.lower()),
                {"store_id": store_id, "order_id": o.id, "code": c.code.lower(), "discount": 0},
            )
            row["discount"] += c.discount
    conn.execute(insert(order_coupons), list(coupon_rows.values()))
    latest: dict[str, Order] = {}
    for o in by_id.values():
        if o.customer_id == 0 and o.billing_email:
            seen = latest.get(o.billing_email)
            if seen is None or (o.date_created_gmt, o.id) > (seen.date_created_gmt, seen.id):
                latest[o.billing_email] = o
    conn.execute(
        insert(guests),
        [
            {
                "store_id": store_id,
                "email": email,
                "first_name": o.billing.first_name,
                "last_name": o.billing.last_name,
                "phone": o.billing.phone,
                "latest_order_created_at": o.date_created_gmt,
                "latest_order_id": o.id,
            }
            for email, o in latest.items()
        ],
    )
    conn.execute(
        insert(customers),
        [
            {
                "store_id": store_id,
                "wc_id": c.id,
                "email": c.email_normalized,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "phone": c.billing.phone,
                "role": c.role,
                "created_at": c.date_created_gmt,
                "modified_at": c.date_modified_gmt,
                "is_paying_customer": c.is_paying_customer,
                "deleted_at": None,
                "seen_scan": "scan",
            }
            for c in {c.id: c for c in people}.values()
        ],
    )


def _raw(conn: Connection, store_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every mirrored row of the store as the driver reads it back (on SQLite with each
    value's storage class too), without the store id."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for table in (orders, order_line_items, order_coupons, guests, customers):
        names = [c.name for c in table.columns if c.name != "store_id"]
        shown = [f'"{n}"' for n in names]
        if conn.dialect.name == "sqlite":
            shown += [f'typeof("{n}")' for n in names]
        keys = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
        rows = conn.exec_driver_sql(
            f'SELECT {", ".join(shown)} FROM "{table.name}" WHERE store_id = {mark} '
            f"ORDER BY {keys}",
            (store_id,),
        ).all()
        found[table.name] = [tuple(row) for row in rows]
    return found


def test_the_writers_store_exactly_what_the_column_processors_would(engine: Engine) -> None:
    batch, people = _orders(), _customers()
    with engine.begin() as conn:
        fast = ensure_store(conn, "fast", "", NOW)
        reference = ensure_store(conn, "reference", "", NOW)
        write_orders(conn, fast, batch, "scan")
        write_customers(conn, fast, people, "scan")
        _reference(conn, reference, batch, people)
    with engine.connect() as conn:
        mine, theirs = _raw(conn, fast), _raw(conn, reference)
    assert all(mine[name] for name in ("orders", "order_line_items", "order_coupons", "guests"))
    assert mine == theirs
    stored = {row[0]: row for row in mine["orders"]}
    assert stored[900_000][8] == 12_300  # "1.230000" → units of 10^-4
    assert stored[900_001][8] == 999_999_999_999_999_999


def test_an_incremental_write_leaves_seen_scan_and_upserts_the_same_row(engine: Engine) -> None:
    batch = _orders()
    with engine.begin() as conn:
        store = ensure_store(conn, "s", "", NOW)
        write_orders(conn, store, batch, "scan")
        first = _raw(conn, store)
        write_orders(conn, store, batch, None)  # an incremental run: no scan mark
        assert _raw(conn, store) == first
