"""The analytics' kept counted orders (``analytics_orders``) stay exact as the mirror changes.

The triggers of migration ``0009_metrics`` log every change to an order and every change to
an account e-mail; the next analysis recomputes the identities they touch. After each kind
of change the facts updated bit by bit must equal facts built from scratch — and so must
every metric.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, insert, select, update

from connector._schema import customers, orders
from loyalty.analytics import MetricsRequest, compute_metrics, report_json
from loyalty.analytics._schema import analytics_changes, analytics_orders, analytics_state
from loyalty.analytics.facts import refresh_facts
from loyalty.analytics.queries import DEFAULT_STATUSES
from tests.test_analytics import Shop, generated_shop, utc

AS_OF = utc("2025-01-01T00:00:00")


def _facts(conn: Connection, store_id: int) -> list[tuple[Any, ...]]:
    t = analytics_orders
    return [
        tuple(row)
        for row in conn.execute(
            select(t.c.order_id, t.c.ident, t.c.x, t.c.rev_hi, t.c.rev_lo)
            .where(t.c.store_id == store_id)
            .order_by(t.c.order_id)
        )
    ]


def _neighbours(conn: Connection, store_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Per identity, the (x, prev_x, next_x) of its orders (ties in x may swap order ids)."""
    t = analytics_orders
    found: dict[str, list[tuple[Any, ...]]] = {}
    for ident, x, prev_x, next_x in conn.execute(
        select(t.c.ident, t.c.x, t.c.prev_x, t.c.next_x).where(t.c.store_id == store_id)
    ):
        found.setdefault(ident, []).append((x, prev_x, next_x))
    return {ident: sorted(rows) for ident, rows in found.items()}


def _refreshed_and_rebuilt(engine: Engine, store_id: int) -> None:
    """Refresh from the log, then compare with a build from scratch."""
    with engine.connect() as conn:
        done = refresh_facts(conn, store_id, DEFAULT_STATUSES)
        assert done == "incremental"
        assert conn.execute(select(analytics_changes.c.id)).first() is None
        kept, kept_neighbours = _facts(conn, store_id), _neighbours(conn, store_id)
        json_kept = report_json(compute_metrics(engine, store_id, MetricsRequest(as_of=AS_OF)))
        conn.execute(delete(analytics_state).where(analytics_state.c.store_id == store_id))
        conn.commit()
        assert refresh_facts(conn, store_id, DEFAULT_STATUSES) == "rebuilt"
        assert _facts(conn, store_id) == kept
        assert _neighbours(conn, store_id) == kept_neighbours
    json_rebuilt = report_json(compute_metrics(engine, store_id, MetricsRequest(as_of=AS_OF)))
    assert json_kept == json_rebuilt


def _first_guest_order(conn: Connection, shop: Shop) -> tuple[int, str]:
    row = conn.execute(
        select(orders.c.wc_id, orders.c.billing_email)
        .where(
            orders.c.store_id == shop.id,
            orders.c.customer_id == 0,
            orders.c.billing_email != "",
            orders.c.status == "completed",
        )
        .order_by(orders.c.wc_id)
        .limit(1)
    ).one()
    return int(row.wc_id), str(row.billing_email)


def _an_account(conn: Connection, shop: Shop) -> tuple[int, str]:
    row = conn.execute(
        select(customers.c.wc_id, customers.c.email)
        .where(customers.c.store_id == shop.id)
        .order_by(customers.c.wc_id)
        .limit(1)
    ).one()
    return int(row.wc_id), str(row.email)


def _cancel_an_order(conn: Connection, shop: Shop) -> None:
    conn.execute(
        update(orders)
        .where(orders.c.store_id == shop.id, orders.c.wc_id == _first_guest_order(conn, shop)[0])
        .values(status="cancelled")
    )


def _refund_in_part(conn: Connection, shop: Shop) -> None:
    conn.execute(
        update(orders)
        .where(orders.c.store_id == shop.id, orders.c.status == "completed")
        .where(orders.c.wc_id % 7 == 0)
        .values(refunded_total=Decimal("1.25"))
    )


def _guest_registers(conn: Connection, shop: Shop) -> None:
    _, email = _first_guest_order(conn, shop)
    conn.execute(
        insert(customers).values(
            store_id=shop.id, wc_id=9001, email=email, first_name="", last_name="", phone="",
            role="customer", created_at=AS_OF - timedelta(days=30), is_paying_customer=True,
        )
    )  # fmt: skip


def _account_deleted(conn: Connection, shop: Shop) -> None:
    wc_id, _ = _an_account(conn, shop)
    conn.execute(
        update(customers)
        .where(customers.c.store_id == shop.id, customers.c.wc_id == wc_id)
        .values(deleted_at=AS_OF - timedelta(days=1))
    )
    # WooCommerce rewrites the orders of a deleted account to guest orders.
    conn.execute(
        update(orders)
        .where(orders.c.store_id == shop.id, orders.c.customer_id == wc_id)
        .values(customer_id=0)
    )


def _account_email_changes(conn: Connection, shop: Shop) -> None:
    wc_id, _ = _an_account(conn, shop)
    _, guest_email = _first_guest_order(conn, shop)
    conn.execute(
        update(customers)
        .where(customers.c.store_id == shop.id, customers.c.wc_id == wc_id)
        .values(email=guest_email)
    )


def _order_deleted_and_moved(conn: Connection, shop: Shop) -> None:
    wc_id, _ = _first_guest_order(conn, shop)
    conn.execute(
        update(orders)
        .where(orders.c.store_id == shop.id, orders.c.wc_id == wc_id)
        .values(deleted_at=AS_OF - timedelta(days=2))
    )
    conn.execute(delete(orders).where(orders.c.store_id == shop.id, orders.c.wc_id == wc_id + 1))
    conn.execute(
        update(orders)
        .where(orders.c.store_id == shop.id, orders.c.wc_id == wc_id + 2)
        .values(created_at=AS_OF - timedelta(days=400), billing_email="someone@else.example")
    )


def _new_orders(conn: Connection, shop: Shop) -> None:
    _, email = _first_guest_order(conn, shop)
    rows = [
        shop.order_row(90_000 + i, AS_OF - timedelta(days=3 * i), "10.00", email=email)
        for i in range(5)
    ]
    rows.append(shop.order_row(90_100, AS_OF - timedelta(days=40), "5.00"))  # no e-mail
    conn.execute(insert(orders), rows)


CHANGES: dict[str, Callable[[Connection, Shop], None]] = {
    "cancelled": _cancel_an_order,
    "refunded in part": _refund_in_part,
    "guest registers": _guest_registers,
    "account deleted": _account_deleted,
    "account e-mail changes": _account_email_changes,
    "order deleted, removed, moved": _order_deleted_and_moved,
    "new orders": _new_orders,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_facts_kept_up_to_date_equal_facts_built_from_scratch(engine: Engine, change: str) -> None:
    shop = generated_shop(engine, buyers=60)
    with engine.connect() as conn:
        assert refresh_facts(conn, shop.id, DEFAULT_STATUSES) == "rebuilt"
        assert refresh_facts(conn, shop.id, DEFAULT_STATUSES) == "current"
    with engine.begin() as conn:
        CHANGES[change](conn, shop)
    _refreshed_and_rebuilt(engine, shop.id)


def test_unrelated_writes_log_nothing(engine: Engine) -> None:
    """Columns the analytics never read (names, phones, modification times) are not logged,
    and nothing is logged for a store whose facts were never built."""
    shop = generated_shop(engine, buyers=10)
    with engine.begin() as conn:
        conn.execute(update(orders).values(billing_phone="+1", modified_at=AS_OF))
        assert conn.execute(select(analytics_changes.c.id)).first() is None
    with engine.connect() as conn:
        refresh_facts(conn, shop.id, DEFAULT_STATUSES)
    with engine.begin() as conn:
        conn.execute(update(orders).values(billing_first_name="X", modified_at=AS_OF))
        conn.execute(update(customers).values(first_name="Y", phone="+2"))
        assert conn.execute(select(analytics_changes.c.id)).first() is None


@pytest.mark.parametrize("active_days", [1, 30, 365])
def test_active_at_from_step_to_step_equals_counting_each_instant(
    engine: Engine, active_days: int
) -> None:
    """*Active at* is counted for the first instant and derived for each next one from the
    orders in between; it must equal counting every instant on its own."""
    import random

    from loyalty.analytics.queries import counted_orders

    shop = generated_shop(engine, buyers=80)
    rng = random.Random(active_days)
    start = utc("2023-01-01T00:00:00")
    instants = [start + timedelta(seconds=rng.randint(0, 800 * 86_400)) for _ in range(25)]
    instants += [utc("2024-03-01T00:00:00"), utc("2024-04-01T00:00:00"), instants[3]]
    with engine.connect() as conn, counted_orders(conn, shop.id, as_of=AS_OF) as counted:
        stepped = counted.active_at(instants, active_days)
        direct = counted._active_directly(instants, timedelta(days=active_days))
    assert stepped == direct
    assert max(stepped) > 0
