"""The program's rules as pure functions: one table row of SPEC §4 per test, no database.

Each case is a small history (accounts, orders) and the points each key should hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector import to_units
from loyalty.identity import account_email_map
from loyalty.rules import (
    AccountFacts,
    Desired,
    Holding,
    KeyState,
    Movement,
    OrderFacts,
    add_months,
    cashback_points,
    desired_by_key,
    desired_points,
    owner_of,
    pending_points,
    plan,
    simulate_expiry,
)
from loyalty.settings import Program, ProgramSettings, resolve

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def program(currency: str = "USD", decimals: int = 2, **settings: Any) -> Program:
    settings.setdefault("starts_at", datetime(2000, 1, 1, tzinfo=UTC))
    return resolve(
        ProgramSettings(**settings),
        store="s",
        store_id=1,
        currency=currency,
        decimals=decimals,
        timezone="UTC",
        program_created_at=T0,
    )


def order(
    oid: int,
    created: float,
    *,
    customer: int = 0,
    email: str = "",
    status: str = "completed",
    total: str = "10.00",
    refunded: str = "0",
    shipping: str = "0",
    tax: str = "0",
    deleted: bool = False,
) -> OrderFacts:
    return OrderFacts(
        order_id=oid,
        customer_id=customer,
        billing_email=email,
        status=status,
        created_at=day(created),
        completed_at=day(created) if status == "completed" else None,
        paid_at=None,
        total=to_units(total),
        refunded=to_units(refunded),
        shipping=to_units(shipping),
        tax=to_units(tax),
        deleted=deleted,
    )


def account(
    cid: int, email: str, created: float, role: str = "customer", deleted: bool = False
) -> AccountFacts:
    return AccountFacts(cid, email, role, day(created), deleted)


def points(
    orders: list[OrderFacts],
    accounts: list[AccountFacts] = (),  # type: ignore[assignment]
    prog: Program | None = None,
    now: datetime = NOW,
    movements: list[tuple[str, Movement]] = (),  # type: ignore[assignment]
) -> dict[str, tuple[str, int]]:
    """key → (identity, points) the rules want."""
    outcomes = desired_points(orders, accounts, prog or program(), now, movements)
    return {k: (d.identity, d.points) for k, d in desired_by_key(outcomes.values()).items()}


# --------------------------------------------------------------------------- the table


def test_cashback_worked_example_usd() -> None:
    # SPEC §4: floor((32.68 − 3.49) × 2 / 100 / 0.01) = floor(58.38) = 58
    assert cashback_points(Decimal("32.68") - Decimal("3.49"), Decimal(2), Decimal("0.01")) == 58
    got = points([order(1, 0, email="a@x", total="32.68", refunded="3.49")])
    assert got == {"cashback:s:1": ("email:a@x", 58)}


def test_cashback_worked_example_toman() -> None:
    # SPEC §4: floor(935000 × 0.02 / 1) = 18700; zero-decimal default point value is 1
    prog = program("IRT", 0)
    assert prog.point_value == Decimal(1)
    got = points([order(1, 0, email="a@x", total="935000")], prog=prog)
    assert got == {"cashback:s:1": ("email:a@x", 18700)}


@dataclass
class Case:
    """One row of the SPEC table: settings, a history, the wanted keys."""

    name: str
    settings: dict[str, Any]
    orders: list[OrderFacts]
    want: dict[str, tuple[str, int]]
    accounts: list[AccountFacts] = field(default_factory=list)
    now: datetime = NOW


CASES = [
    Case(
        "starts_at: only events on/after it earn; earlier orders still count as ordinals",
        {"starts_at": day(10)},
        [order(1, 5, email="a@x"), order(2, 20, email="a@x")],
        {"cashback:s:2": ("email:a@x", 20), "second:s:email:a@x": ("email:a@x", 200)},
    ),
    Case(
        "starts_at: a 2nd earning order before it never gets the reward",
        {"starts_at": day(10)},
        [order(1, 1, email="a@x"), order(2, 2, email="a@x"), order(3, 20, email="a@x")],
        {"cashback:s:3": ("email:a@x", 20)},
    ),
    Case(
        "starts_at: welcome compares the account's creation",
        {"starts_at": day(10)},
        [],
        {"welcome:s:customer:2": ("customer:2", 100)},
        [account(1, "old@x", 5), account(2, "new@x", 15)],
    ),
    Case(
        "point_value: 0.05 per point gives a fifth of the points",
        {"point_value": "0.05"},
        [order(1, 0, email="a@x", total="100.00")],
        {"cashback:s:1": ("email:a@x", 40)},
    ),
    Case(
        "welcome_points: accounts only, not staff, not deleted accounts, not guests",
        {"welcome_points": 150},
        [order(1, 0, email="guest@x")],
        {"welcome:s:customer:1": ("customer:1", 150), "cashback:s:1": ("email:guest@x", 20)},
        [
            account(1, "c@x", 0),
            account(2, "admin@x", 0, role="administrator"),
            account(3, "gone@x", 0, deleted=True),
        ],
    ),
    Case(
        "second_purchase_points: on the 2nd earning order, once",
        {"second_purchase_points": 300, "cashback_percent": 0},
        [order(i, i, customer=7) for i in range(1, 5)],
        {"second:s:customer:7": ("customer:7", 300)},
    ),
    Case(
        "second purchase: a failed order is not an earning order",
        {"cashback_percent": 0},
        [order(1, 1, customer=7), order(2, 2, customer=7, status="failed")],
        {},
    ),
    Case(
        "cashback_percent: 5 %",
        {"cashback_percent": 5},
        [order(1, 0, email="a@x", total="19.99")],
        {"cashback:s:1": ("email:a@x", 99)},
    ),
    Case(
        "cashback_percent: 0 % earns no cashback",
        {"cashback_percent": 0},
        [order(1, 0, email="a@x")],
        {},
    ),
    Case(
        "cashback_from_order: 2 = from the second earning order on",
        {"cashback_from_order": 2},
        [order(1, 1, email="a@x"), order(2, 2, email="a@x"), order(3, 3, email="a@x")],
        {
            "cashback:s:2": ("email:a@x", 20),
            "cashback:s:3": ("email:a@x", 20),
            "second:s:email:a@x": ("email:a@x", 200),
        },
    ),
    Case(
        "cashback_base paid: total − refunds",
        {"cashback_base": "paid"},
        [order(1, 0, email="a@x", total="110.00", shipping="10.00", tax="0", refunded="55.00")],
        {"cashback:s:1": ("email:a@x", 110)},
    ),
    Case(
        "cashback_base items: without shipping and tax, reduced pro rata by refunds",
        {"cashback_base": "items"},
        # items 80 of 100; half refunded → base 40 → 80 points
        [order(1, 0, email="a@x", total="100.00", shipping="10.00", tax="10.00", refunded="50.00")],
        {"cashback:s:1": ("email:a@x", 80)},
    ),
    Case(
        "earn_statuses: processing orders earn when listed",
        {"earn_statuses": ["processing", "completed"]},
        [order(1, 0, email="a@x", status="processing"), order(2, 1, email="a@x", status="on-hold")],
        {"cashback:s:1": ("email:a@x", 20)},
    ),
    Case(
        "guests_earn false: e-mail identities earn nothing; a claimed guest order does",
        {"guests_earn": False},
        [order(1, 0, email="guest@x"), order(2, 1, email="member@x"), order(3, 2, customer=5)],
        {
            "welcome:s:customer:5": ("customer:5", 100),
            "cashback:s:2": ("customer:5", 20),
            "cashback:s:3": ("customer:5", 20),
            "second:s:customer:5": ("customer:5", 200),
        },
        [account(5, "member@x", 3)],
    ),
    Case(
        "earning order: net paid must be > 0 (a 0.00 order or a full refund earns nothing)",
        {},
        [order(1, 0, email="a@x", total="0.00"), order(2, 1, email="a@x", refunded="10.00")],
        {},
    ),
    Case(
        "deleted orders do not earn",
        {},
        [order(1, 0, email="a@x", deleted=True)],
        {},
    ),
    Case(
        "a guest order without an e-mail has nobody to credit",
        {},
        [order(1, 0), order(2, 1)],
        {},
    ),
    Case(
        "identity: registered orders join by customer id, never by billing e-mail",
        {},
        [order(1, 0, customer=5, email="other@x"), order(2, 1, email="other@x")],
        {
            "cashback:s:1": ("customer:5", 20),
            "cashback:s:2": ("email:other@x", 20),
            "welcome:s:customer:5": ("customer:5", 100),
        },
        [account(5, "me@x", 0)],
    ),
    Case(
        "expiry_months: a lot expires that long after it was earned",
        {"expiry_months": 12},
        [order(1, 0, email="a@x", total="50.00")],
        {"cashback:s:1": ("email:a@x", 100), "expiry:s:cashback:s:1": ("email:a@x", -100)},
        now=day(400),
    ),
    Case(
        "inactivity_expiry_months: everything expires after no earning order that long",
        {"inactivity_expiry_months": 6},
        [order(1, 0, email="a@x"), order(2, 10, email="a@x")],
        {
            "cashback:s:1": ("email:a@x", 20),
            "cashback:s:2": ("email:a@x", 20),
            "second:s:email:a@x": ("email:a@x", 200),
            "expiry:s:cashback:s:1": ("email:a@x", -20),
            "expiry:s:cashback:s:2": ("email:a@x", -20),
            "expiry:s:second:s:email:a@x": ("email:a@x", -200),
        },
        now=day(200),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_spec_table(case: Case) -> None:
    prog = program(**case.settings)
    assert points(case.orders, case.accounts, prog, case.now) == case.want


def test_pending_days_keep_fresh_cashback_unspendable() -> None:
    prog = program(pending_days=14)
    held = [
        ("cashback:s:1", 100, day(0)),
        ("cashback:s:2", 50, day(10)),
        ("welcome:s:x", 100, day(0)),
    ]
    assert pending_points(held, prog, day(12)) == 150
    assert pending_points(held, prog, day(20)) == 50
    assert pending_points(held, prog, day(30)) == 0
    assert pending_points(held, program(), day(1)) == 0


def test_redemption_limits_are_settings() -> None:
    prog = program(min_redeem_points=1000, coupon_valid_days=30)
    assert (prog.min_redeem_points, prog.coupon_valid_days) == (1000, 30)
    assert prog.amount_of(1234) == Decimal("12.34")
    assert program("IRT", 0).amount_of(1234) == Decimal(1234)


# --------------------------------------------------------------------------- details


def test_floor_is_the_one_rounding() -> None:
    assert cashback_points(Decimal("0.49"), Decimal(2), Decimal("0.01")) == 0
    assert cashback_points(Decimal("0.50"), Decimal(2), Decimal("0.01")) == 1
    # exact: no binary float, no 28-digit Decimal rounding up to the next integer
    assert cashback_points(Decimal("49.99"), Decimal("2"), Decimal("0.01")) == 99
    assert cashback_points(Decimal("0.0003"), Decimal("100"), Decimal("0.0003")) == 1


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(datetime(2025, 1, 31, tzinfo=UTC), 1) == datetime(2025, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2024, 12, 15, tzinfo=UTC), 14) == datetime(2026, 2, 15, tzinfo=UTC)
    assert add_months(datetime(2025, 3, 31, tzinfo=UTC), -1) == datetime(2025, 2, 28, tzinfo=UTC)


def test_expiry_consumes_the_oldest_lot_first() -> None:
    lots = [("a", 100, day(0)), ("b", 100, day(200))]
    debits = [("spend", 150, day(300))]
    expired, left, _ = simulate_expiry(lots, debits, [], 12, None, day(600))
    # a: spent in full before it expired; b: 50 spent, 50 expire at day 200 + 12 months
    assert expired == {"b": (50, add_months(day(200), 12))}
    assert left == []


def test_a_deficit_is_paid_by_the_next_lot_before_anything_expires() -> None:
    lots = [("a", 100, day(0)), ("b", 300, day(100))]
    debits = [("spend", 250, day(50))]  # 150 more than there is
    expired, _, _ = simulate_expiry(lots, debits, [], 12, None, day(500))
    assert expired == {"b": (150, add_months(day(100), 12))}


def test_inactivity_resets_with_each_earning_order() -> None:
    lots = [("a", 100, day(0)), ("b", 100, day(150)), ("c", 100, day(400))]
    activity = [day(0), day(150), day(400)]
    expired, left, inactive_at = simulate_expiry(lots, [], activity, None, 6, day(420))
    # 0 → 150: within 6 months; 150 → 400: more than 6 months: a and b expire
    assert expired == {"a": (100, add_months(day(150), 6)), "b": (100, add_months(day(150), 6))}
    assert [lot.key for lot in left] == ["c"]
    assert inactive_at == add_months(day(400), 6)


def test_manual_grants_are_lots_and_debits() -> None:
    prog = program(expiry_months=12, welcome_points=0)
    moves = [
        ("customer:1", Movement("manual:s:g1", 500, day(0))),
        ("customer:1", Movement("manual:s:g2", -200, day(10))),
    ]
    got = points([], [account(1, "a@x", 0)], prog, day(400), moves)
    assert got == {"expiry:s:manual:s:g1": ("customer:1", -300)}


def test_guest_to_customer_owner_and_identity_twins() -> None:
    accounts = {1: account(1, "a@x", 10), 2: account(2, "b@x", 0, deleted=True)}
    claims = account_email_map(
        (a.customer_id, a.email, a.role, a.deleted) for a in accounts.values()
    )
    assert claims == {"a@x": 1}
    assert owner_of("email:a@x", accounts, claims) == "customer:1"
    assert owner_of("email:z@x", accounts, claims) == "email:z@x"
    # a deleted account's balance belongs to its e-mail identity now
    assert owner_of("customer:2", accounts, claims) == "email:b@x"
    assert owner_of("order:9", accounts, claims) == "order:9"


def test_guest_who_registers_later_earns_as_the_customer() -> None:
    orders = [order(1, 0, email="a@x"), order(2, 5, email="a@x")]
    before = points(orders)
    assert before["second:s:email:a@x"] == ("email:a@x", 200)
    after = points(orders, [account(9, "A@x".lower(), 30)])
    assert after == {
        "cashback:s:1": ("customer:9", 20),
        "cashback:s:2": ("customer:9", 20),
        "second:s:customer:9": ("customer:9", 200),
        "welcome:s:customer:9": ("customer:9", 100),
    }


# --------------------------------------------------------------------------- plan


def state(key: str, *holders: tuple[str, int], last: int | None = None) -> KeyState:
    hs = tuple(Holding(i, p) for i, p in holders)
    return KeyState(
        key, hs, last if last is not None else len(hs), day(0), holders[0][0] if holders else None
    )


def test_plan_appends_only_differences() -> None:
    want = {"cashback:s:1": Desired("cashback:s:1", "email:a@x", 58, day(0), 1, "2% cashback")}
    assert plan(want, {"cashback:s:1": state("cashback:s:1", ("email:a@x", 58))}, NOW, str) == []
    [e] = plan(want, {"cashback:s:1": state("cashback:s:1", ("email:a@x", 65))}, NOW, str)
    assert (e.identity, e.points, e.kind, e.seq) == ("email:a@x", -7, "reversal", 2)
    [e] = plan(want, {}, NOW, str)
    assert (e.points, e.kind, e.seq) == (58, "earn", 1)


def test_plan_moves_a_key_to_its_new_identity_as_a_transfer() -> None:
    want = {"cashback:s:1": Desired("cashback:s:1", "customer:9", 58, day(0), 1, "")}
    entries = plan(want, {"cashback:s:1": state("cashback:s:1", ("email:a@x", 58))}, NOW, str)
    assert [(e.identity, e.points, e.kind, e.seq) for e in entries] == [
        ("email:a@x", -58, "transfer", 2),
        ("customer:9", 58, "transfer", 3),
    ]


def test_plan_takes_back_a_key_nobody_should_hold() -> None:
    [e] = plan(
        {}, {"second:s:email:a@x": state("second:s:email:a@x", ("email:a@x", 200))}, NOW, str
    )
    assert (e.identity, e.points, e.kind) == ("email:a@x", -200, "reversal")


def test_plan_moves_a_redemption_to_the_owner_never_changes_it() -> None:
    debit = state("redeem:s:4", ("email:a@x", -500))
    entries = plan({}, {"redeem:s:4": debit}, NOW, lambda i: "customer:9")
    assert [(e.identity, e.points, e.kind) for e in entries] == [
        ("email:a@x", 500, "transfer"),
        ("customer:9", -500, "transfer"),
    ]
    assert plan({}, {"redeem:s:4": debit}, NOW, lambda i: i) == []
