"""Histories through the real ledger (SQLite, or PostgreSQL with BAZGASHT_TEST_POSTGRES):
the mirror changes, ``reconcile`` appends the differences, balances come out right."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from loyalty._schema import loyalty_ledger
from loyalty.ledger import grant
from loyalty.reconcile import reconcile
from loyalty.redeem import RedeemError, availability, reserve
from loyalty.verify import verify
from tests._loyalty import Mirror, balances, day, entry_count, holdings


def test_a_single_order(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="32.68", refunded="3.49")
    result = reconcile(engine, m.program(day(2)), day(2))
    assert result.appended == 1
    assert holdings(engine, m.store_id) == {("cashback:shop:1", "email:a@x.com"): 58}


def test_two_orders_give_the_second_purchase_reward_once(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(5, "c@x.com", day(0))
    m.order(1, created=day(1), customer=5, total="10.00")
    m.order(2, created=day(2), customer=5, total="20.00")
    p = m.program(day(3))
    reconcile(engine, p, day(3))
    assert balances(engine, m.store_id) == {"customer:5": 100 + 20 + 40 + 200}
    count = entry_count(engine, m.store_id)
    assert reconcile(engine, p, day(4)).appended == 0
    assert reconcile(engine, p, day(4), full=True).appended == 0
    assert entry_count(engine, m.store_id) == count


def test_second_order_refunded_moves_the_reward_to_the_third(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com")
    m.order(2, created=day(2), email="a@x.com")
    p = m.program(day(3))
    reconcile(engine, p, day(3))
    assert holdings(engine, m.store_id)[("second:shop:email:a@x.com", "email:a@x.com")] == 200
    m.change_order(2, status="refunded", refunded_total="10.00")
    reconcile(engine, p, day(4))
    assert balances(engine, m.store_id) == {"email:a@x.com": 20}  # the reward went with it
    m.order(3, created=day(5), email="a@x.com")
    reconcile(engine, p, day(6))
    held = holdings(engine, m.store_id)
    assert held[("second:shop:email:a@x.com", "email:a@x.com")] == 200
    assert ("cashback:shop:2", "email:a@x.com") not in held
    with engine.connect() as conn:
        second = conn.execute(
            select(loyalty_ledger.c.order_id, loyalty_ledger.c.kind)
            .where(loyalty_ledger.c.key == "second:shop:email:a@x.com")
            .order_by(loyalty_ledger.c.seq)
        ).all()
    assert [tuple(r) for r in second] == [(2, "earn"), (2, "reversal"), (3, "earn")]


def test_partial_refund_reverses_cashback_in_proportion(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="32.68")
    p = m.program(day(2))
    reconcile(engine, p, day(2))
    assert balances(engine, m.store_id) == {"email:a@x.com": 65}  # floor(65.36)
    m.change_order(1, refunded_total="3.49")
    result = reconcile(engine, p, day(3))
    assert result.points_by_kind == {"reversal": -7}
    assert balances(engine, m.store_id) == {"email:a@x.com": 58}  # floor(58.38)


def test_cancel_uncancel_cancel(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="50.00")
    p = m.program(day(2))
    kinds = []
    for n, status in enumerate(["completed", "cancelled", "completed", "cancelled"]):
        m.change_order(1, status=status)
        kinds += [k for k, v in reconcile(engine, p, day(2 + n)).points_by_kind.items() if v]
    assert kinds == ["earn", "reversal", "earn", "reversal"]
    assert balances(engine, m.store_id) == {}
    assert entry_count(engine, m.store_id) == 4


def test_failed_then_completed(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", status="failed", total="50.00")
    p = m.program(day(2))
    assert reconcile(engine, p, day(2)).appended == 0
    m.change_order(1, status="completed", completed_at=day(3))
    reconcile(engine, p, day(4))
    assert balances(engine, m.store_id) == {"email:a@x.com": 100}


def test_completed_set_again_awards_nothing_twice(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="50.00")
    p = m.program(day(2))
    reconcile(engine, p, day(2))
    for n in range(2):
        m.change_order(1, status="completed", modified=day(3 + n), completed_at=day(3 + n))
        reconcile(engine, p, day(3 + n))
    assert entry_count(engine, m.store_id) == 1
    assert balances(engine, m.store_id) == {"email:a@x.com": 100}


def test_guest_who_registers_later(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="sofia@x.com", total="10.00")
    m.order(2, created=day(2), email="Sofia@X.com", total="20.00")
    p = m.program(day(3), starts_at=day(0).isoformat())
    reconcile(engine, p, day(3))
    assert balances(engine, m.store_id) == {"email:sofia@x.com": 20 + 40 + 200}
    grant(engine, p, "email:sofia@x.com", -60, "a test debit", day(3))
    m.customer(9, "sofia@x.com", day(10))  # registers: welcome now, history moves
    result = reconcile(engine, p, day(11))
    assert result.points_by_kind["transfer"] == 0
    assert balances(engine, m.store_id) == {"customer:9": 20 + 40 + 200 - 60 + 100}
    with engine.connect() as conn:
        kinds = (
            conn.execute(
                select(loyalty_ledger.c.kind).where(
                    loyalty_ledger.c.identity == "email:sofia@x.com"
                )
            )
            .scalars()
            .all()
        )
    assert "transfer" in kinds  # a recorded move, not an edit
    assert verify(engine, p, day(11)).ok


def test_deleted_account_turns_into_an_email_identity(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(4, "leaving@x.com", day(0))
    m.order(1, created=day(1), customer=4, email="leaving@x.com", total="10.00")
    p = m.program(day(2))
    reconcile(engine, p, day(2))
    assert balances(engine, m.store_id) == {"customer:4": 120}
    # WooCommerce rewrites the orders to guest orders; a full sync marks the account deleted
    m.customer(4, "leaving@x.com", day(0), deleted=day(5))
    m.change_order(1, customer_id=0)
    reconcile(engine, p, day(6))
    assert balances(engine, m.store_id) == {"email:leaving@x.com": 20}
    assert verify(engine, p, day(6)).ok


def test_an_order_before_starts_at_counts_as_the_first(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="10.00")
    m.order(2, created=day(20), email="a@x.com", total="10.00")
    p = m.program(day(21), starts_at=day(10).isoformat())
    reconcile(engine, p, day(21))
    assert holdings(engine, m.store_id) == {
        ("cashback:shop:2", "email:a@x.com"): 20,
        ("second:shop:email:a@x.com", "email:a@x.com"): 200,
    }


def test_moving_starts_at_earlier_backfills_history(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="10.00")
    m.order(2, created=day(20), email="a@x.com", total="10.00")
    reconcile(engine, m.program(day(21), starts_at=day(15).isoformat()), day(21))
    assert balances(engine, m.store_id) == {"email:a@x.com": 220}
    earlier = m.program(day(22), starts_at=day(0).isoformat())
    result = reconcile(engine, earlier, day(22))  # a settings change: recomputed in full
    assert result.mode == "full"
    assert result.points_by_kind == {"earn": 20}
    assert balances(engine, m.store_id) == {"email:a@x.com": 240}


def test_zero_decimal_currency(engine: Engine) -> None:
    m = Mirror(engine, currency="IRT", decimals=0)
    m.order(1, created=day(1), email="a@x.com", total="935000")
    p = m.program(day(2))
    assert p.point_value == 1
    reconcile(engine, p, day(2))
    assert balances(engine, m.store_id) == {"email:a@x.com": 18700}
    assert p.amount_of(500) == 500


def test_expiry_takes_the_oldest_lot_first(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "a@x.com", day(0))
    m.order(1, created=day(0), customer=1, total="50.00")  # 100 points at day 0
    p = m.program(day(1), expiry_months=12, welcome_points=0, second_purchase_points=0)
    reconcile(engine, p, day(1))
    m.order(2, created=day(200), customer=1, total="50.00")  # 100 more at day 200
    reconcile(engine, p, day(201))
    grant(engine, p, "customer:1", -150, "spent at the counter", day(300))
    reconcile(engine, p, day(380))  # lot 1 was spent in full: nothing expires at day 365
    assert balances(engine, m.store_id) == {"customer:1": 50}
    reconcile(engine, p, day(600))  # 50 left of lot 2 expire at day 200 + 12 months
    assert balances(engine, m.store_id) == {}
    assert holdings(engine, m.store_id)[("expiry:shop:cashback:shop:2", "customer:1")] == -50
    assert reconcile(engine, p, day(700)).appended == 0


def test_inactivity_expiry(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(0), email="a@x.com", total="50.00")
    p = m.program(day(1), inactivity_expiry_months=6)
    reconcile(engine, p, day(1))
    reconcile(engine, p, day(150))
    assert balances(engine, m.store_id) == {"email:a@x.com": 100}
    reconcile(engine, p, day(200))  # no earning order since day 0: all of it expires
    assert balances(engine, m.store_id) == {}
    m.order(2, created=day(250), email="a@x.com", total="50.00")
    reconcile(engine, p, day(251))
    assert balances(engine, m.store_id) == {"email:a@x.com": 100 + 200}


def test_pending_points_become_available(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "a@x.com", day(0))
    m.order(1, created=day(1), customer=1, total="500.00")
    p = m.program(day(2), pending_days=14)
    reconcile(engine, p, day(2))
    with engine.connect() as conn:
        now = availability(conn, p, "customer:1", day(5))
        later = availability(conn, p, "customer:1", day(16))
    assert (now.balance, now.pending, now.available) == (1100, 1000, 100)
    assert (later.pending, later.available) == (0, 1100)
    with pytest.raises(RedeemError, match="pending"):
        reserve(engine, p, "customer:1", 600, day(5))
    assert reserve(engine, p, "customer:1", 600, day(16)).status == "pending"


def test_spent_cashback_then_refund_blocks_redemption(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "a@x.com", day(0))
    m.order(1, created=day(1), customer=1, total="400.00")
    p = m.program(day(2), welcome_points=0)
    reconcile(engine, p, day(2))
    reserve(engine, p, "customer:1", 800, day(3))
    m.change_order(1, status="refunded", refunded_total="400.00")
    reconcile(engine, p, day(4))
    assert balances(engine, m.store_id) == {"customer:1": -800}  # recorded and shown
    m.order(2, created=day(5), customer=1, total="300.00")  # 600 + 200 second purchase
    reconcile(engine, p, day(6))
    with pytest.raises(RedeemError, match="negative balance"):
        reserve(engine, p, "customer:1", 500, day(6))
    assert verify(engine, p, day(6)).ok


def test_reassigned_order_moves_its_points(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "one@x.com", day(0))
    m.customer(2, "two@x.com", day(0))
    m.order(1, created=day(1), customer=1, total="50.00")
    m.order(2, created=day(2), customer=1, total="50.00")
    p = m.program(day(3), welcome_points=0)
    reconcile(engine, p, day(3))
    assert balances(engine, m.store_id) == {"customer:1": 400}
    m.change_order(2, customer_id=2)
    reconcile(engine, p, day(4))
    assert balances(engine, m.store_id) == {"customer:1": 100, "customer:2": 100}
    assert verify(engine, p, day(4)).ok


def test_reconciling_twice_appends_nothing(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "a@x.com", day(0))
    for i in range(1, 30):
        m.order(
            i,
            created=day(i),
            customer=1 if i % 3 else 0,
            email="" if i % 3 else f"g{i % 4}@x.com",
            total=f"{i * 3}.50",
            status="completed" if i % 5 else "cancelled",
        )
    p = m.program(day(40), expiry_months=1)
    first = reconcile(engine, p, day(40))
    assert first.appended > 0
    for full in (False, True):
        assert reconcile(engine, p, day(40), full=full).appended == 0
    assert verify(engine, p, day(40)).ok


def test_verify_lists_every_difference(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="50.00")
    m.order(2, created=day(2), email="a@x.com", total="50.00")
    p = m.program(day(3))
    report = verify(engine, p, day(3))
    assert not report.ok
    assert {(d.key, d.recorded, d.expected) for d in report.differences} == {
        ("cashback:shop:1", 0, 100),
        ("cashback:shop:2", 0, 100),
        ("second:shop:email:a@x.com", 0, 200),
    }
    reconcile(engine, p, day(3))
    assert verify(engine, p, day(3)).ok
    m.change_order(2, status="cancelled")
    report = verify(engine, p, day(4))
    assert {(d.key, d.recorded, d.expected) for d in report.differences} == {
        ("cashback:shop:2", 100, 0),
        ("second:shop:email:a@x.com", 200, 0),
    }


def test_the_ledger_refuses_update_and_delete(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com", total="50.00")
    reconcile(engine, m.program(day(2)), day(2))
    for sql in ("UPDATE loyalty_ledger SET points = 1", "DELETE FROM loyalty_ledger"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert entry_count(engine, m.store_id) == 1


def test_reconcile_after_a_grant_recomputes_expiry_of_that_customer(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(0), email="a@x.com", total="50.00")
    p = m.program(day(1), expiry_months=1)
    reconcile(engine, p, day(1))
    grant(engine, p, "email:a@x.com", 30, "goodwill", day(2))
    reconcile(engine, p, day(100))
    assert balances(engine, m.store_id) == {}
    assert reconcile(engine, p, day(100) + timedelta(hours=1)).appended == 0
