"""Retention metrics over the mirror (SPEC §5) on small hand-computed histories.

Every test writes rows straight into ``stores`` / ``customers`` / ``orders`` and checks the
numbers the metrics engine computes from them, on SQLite or PostgreSQL (``BAZGASHT_TEST_POSTGRES``);
the arithmetic is in each test's docstring. The helpers here (``Shop``, ``generated_shop``) are
shared by ``test_analytics_outputs.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from connector import open_database
from connector._schema import customers, guests, orders, stores
from loyalty.analytics import (
    Calendar,
    MetricsRequest,
    PeriodKind,
    compute_metrics,
    report_json,
)
from loyalty.analytics.formulas import PeriodCounts
from loyalty.analytics.periods import parse_day


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Shop:
    """A store in the test database and a quick way to give it orders and accounts."""

    engine: Engine
    name: str = "shop"
    timezone: str | None = "UTC"
    currency: str = "USD"
    decimals: int = 2
    id: int = 0
    _next_order: int = field(default=1000, repr=False)

    def __post_init__(self) -> None:
        with self.engine.begin() as conn:
            self.id = conn.execute(
                insert(stores)
                .values(
                    name=self.name,
                    url=f"https://{self.name}.example",
                    currency=self.currency,
                    decimals=self.decimals,
                    timezone=self.timezone,
                    created_at=utc("2020-01-01T00:00:00"),
                )
                .returning(stores.c.id)
            ).scalar_one()

    def order(
        self,
        created: str | datetime,
        total: str,
        *,
        refunded: str = "0",
        status: str = "completed",
        customer: int = 0,
        email: str = "",
        deleted: bool = False,
    ) -> int:
        """One order; ``created`` is UTC unless it carries an offset."""
        self._next_order += 1
        when = created if isinstance(created, datetime) else utc(created)
        with self.engine.begin() as conn:
            row = self.order_row(
                self._next_order,
                when,
                total,
                refunded=refunded,
                status=status,
                customer=customer,
                email=email,
                deleted=deleted,
            )
            conn.execute(insert(orders), [row])
        return self._next_order

    def order_row(
        self,
        wc_id: int,
        when: datetime,
        total: str,
        *,
        refunded: str = "0",
        status: str = "completed",
        customer: int = 0,
        email: str = "",
        deleted: bool = False,
    ) -> dict[str, Any]:
        return {
            "store_id": self.id,
            "wc_id": wc_id,
            "number": str(wc_id),
            "status": status,
            "currency": self.currency,
            "created_at": when,
            "modified_at": when,
            "paid_at": None,
            "completed_at": None,
            "total": Decimal(total),
            "total_tax": Decimal(0),
            "shipping_total": Decimal(0),
            "discount_total": Decimal(0),
            "refunded_total": Decimal(refunded),
            "customer_id": customer,
            "billing_email": email,
            "billing_first_name": f"First{wc_id}",
            "billing_last_name": f"Last{wc_id}",
            "billing_phone": f"+1555{wc_id:07d}",
            "coupon_codes": "",
            "deleted_at": when + timedelta(days=1) if deleted else None,
        }

    def account(
        self, wc_id: int, email: str, created: str, *, role: str = "customer", deleted: bool = False
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(customers).values(
                    store_id=self.id,
                    wc_id=wc_id,
                    email=email,
                    first_name=f"Name{wc_id}",
                    last_name=f"Family{wc_id}",
                    phone=f"+98912{wc_id:07d}",
                    role=role,
                    created_at=utc(created),
                    is_paying_customer=False,
                    deleted_at=utc(created) + timedelta(days=1) if deleted else None,
                )
            )

    def guest(self, email: str, first: str, last: str, latest_order: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(guests).values(
                    store_id=self.id,
                    email=email,
                    first_name=first,
                    last_name=last,
                    phone="+1555000",
                    latest_order_created_at=utc("2024-01-01T00:00:00"),
                    latest_order_id=latest_order,
                )
            )

    def metrics(self, as_of: str, **kw: Any) -> Any:
        return compute_metrics(self.engine, self.id, MetricsRequest(as_of=utc(as_of), **kw))


def generated_shop(engine: Engine, *, seed: int = 3, buyers: int = 120, name: str = "gen") -> Shop:
    """A store with two years of realistic history: accounts, guests who register later,
    guests without e-mail, repeat buyers, cancelled / refunded / deleted orders."""
    rng = random.Random(seed)
    shop = Shop(engine, name=name, timezone="Europe/Berlin")
    start = utc("2023-01-01T00:00:00")
    rows: list[dict[str, Any]] = []
    wc_id = 5000
    for buyer in range(1, buyers + 1):
        first = start + timedelta(days=rng.uniform(0, 700), seconds=rng.randint(0, 86_399))
        email = f"buyer{buyer}@example.com" if rng.random() > 0.05 else ""
        customer = 0
        if email and rng.random() < 0.6:
            customer = buyer
            created = first - timedelta(days=rng.choice([0, 0, 3, -20]))  # some register later
            shop.account(buyer, email, created.isoformat())
        when = first
        while when < utc("2025-01-01T00:00:00"):
            wc_id += 1
            status = rng.choices(
                ["completed", "processing", "cancelled", "refunded", "pending"], [80, 8, 6, 3, 3]
            )[0]
            total = Decimal(rng.randint(500, 20_000)) / 100
            refunded = total if status == "refunded" else Decimal(0)
            if status == "completed" and rng.random() < 0.1:
                refunded = (total / 3).quantize(Decimal("0.01"))
            rows.append(
                shop.order_row(
                    wc_id,
                    when,
                    str(total),
                    refunded=str(refunded),
                    status=status,
                    customer=customer if customer and when >= first else 0,
                    email=email,
                    deleted=rng.random() < 0.02,
                )
            )
            if rng.random() < 0.45:
                break
            when += timedelta(days=rng.expovariate(1 / 60), seconds=rng.randint(0, 3600))
    with engine.begin() as conn:
        conn.execute(insert(orders), rows)
    return shop


# --- the reference history -----------------------------------------------------------------------


@pytest.fixture
def history(engine: Engine) -> Shop:
    """A USD store on UTC. The period under test is March 2024; as of 1 June 2024.

    * account 1 (a@x, 2023-06-01): orders 2023-06-10 100.00; 2024-03-05 50.00;
      2024-03-20 30.00 refunded 10.00; 2024-03-07 60.00 *deleted*.
    * guest b@x: 2024-03-10 40.00; 2024-03-25 99.00 *cancelled*; 2024-03-26 99.00 *pending*.
    * guest c@x, who opens account 2 on 2024-03-15: 2024-03-12 20.00 as a guest (it is
      account 2's order by e-mail), 2024-03-18 60.00 as customer 2.
    * a guest order without any e-mail: 2024-03-14 10.00.
    * account 3 (2022-01-01): 2023-01-15 70.00 and 2023-04-01 25.00, nothing since.
    * accounts created in March without a March order: 4 (2024-03-20, never orders),
      5 (2024-03-31, first order 2024-05-30 00:00 = exactly 60 days later), 6 (a shop manager),
      7 (deleted).
    """
    shop = Shop(engine)
    shop.account(1, "a@x", "2023-06-01T00:00:00")
    shop.account(2, "c@x", "2024-03-15T00:00:00")
    shop.account(3, "d@x", "2022-01-01T00:00:00")
    shop.account(4, "e@x", "2024-03-20T00:00:00")
    shop.account(5, "f@x", "2024-03-31T00:00:00")
    shop.account(6, "g@x", "2024-03-02T00:00:00", role="shop_manager")
    shop.account(7, "h@x", "2024-03-03T00:00:00", deleted=True)
    shop.order("2023-06-10T12:00:00", "100.00", customer=1, email="a@x")
    shop.order("2024-03-05T12:00:00", "50.00", customer=1, email="a@x")
    shop.order("2024-03-20T12:00:00", "30.00", refunded="10.00", customer=1, email="billing@x")
    shop.order("2024-03-07T12:00:00", "60.00", customer=1, email="a@x", deleted=True)
    shop.order("2024-03-10T12:00:00", "40.00", email="b@x")
    shop.order("2024-03-25T12:00:00", "99.00", email="b@x", status="cancelled")
    shop.order("2024-03-26T12:00:00", "99.00", email="b@x", status="pending")
    shop.order("2024-03-12T12:00:00", "20.00", email="c@x")
    shop.order("2024-03-18T12:00:00", "60.00", customer=2, email="c@x")
    shop.order("2024-03-14T12:00:00", "10.00")
    shop.order("2023-01-15T12:00:00", "70.00", customer=3, email="d@x")
    shop.order("2023-04-01T12:00:00", "25.00", customer=3, email="d@x")
    shop.order("2024-05-30T00:00:00", "15.00", customer=5, email="f@x")
    return shop


MARCH = {"first_day": date(2024, 3, 1), "last_day": date(2024, 3, 31)}


def test_every_metric_of_a_hand_computed_month(history: Shop) -> None:
    """March 2024.

    orders: a 03-05, 03-20; b 03-10; c 03-12, 03-18; no-e-mail 03-14 = 6 (the deleted,
    cancelled and pending orders do not count). Revenue 50 + (30 − 10) + 40 + 20 + 60 + 10 =
    200.00. Customers a, b, customer 2 (c's guest order merged by e-mail), the e-mail-less
    order = 4; a and customer 2 ordered twice: repeat rate 2/4. Frequency 6/4 = 1.5, AOV
    200/6 = 33.33, customer value 50. New (first order ever in March): b, 2, no-e-mail = 3;
    returning: a = 1 → 1/4.
    S = active at 1 March (an order in [2023-03-02, 2024-03-01), 2024 is a leap year): a
    (2023-06-10) and 3 (2023-04-01) = 2. E = active at 1 April ([2023-04-02, 2024-04-01)):
    a, b, 2, no-e-mail = 4 (3's order of 2023-04-01 is one day too old). CRR (4 − 3)/2 = 0.5;
    churn: 3 of S = 1/2.
    Activation (as of 1 June): accounts 2, 4, 5 created in March and ≥ 60 days ago (6 is
    staff, 7 deleted); 2 ordered on 03-18 (its 03-12 order predates the account), 4 never,
    5 on 05-30 00:00 = created + 60 days, outside [created, created + 60 d) → 1/3.
    ARPU March 200/4 = 50.
    CLV over [2023-04-02, 2024-04-01): 7 orders, 300.00, 4 customers; S of the window = 3
    (2023-01-15/04-01), churned → churn 1, lifetime 1: 300/7 × 7/4 × 1 = 75.00.
    CAC 300/3 = 100; cost per returning customer 60/1 = 60.
    """
    report = history.metrics(
        "2024-06-01T00:00:00",
        acquisition_spend=Decimal(300),
        retention_spend=Decimal(60),
        **MARCH,
    )
    assert report.current.period.label == "March 2024"
    assert report.current.counts == PeriodCounts(
        orders=6,
        revenue=Decimal("200.00"),
        customers=4,
        repeat_customers=2,
        new_customers=3,
        returning_customers=1,
        active_start=2,
        active_end=4,
        churned=1,
        accounts_eligible=3,
        accounts_activated=1,
    )
    m = report.current.metrics
    assert m.repeat_purchase_rate == Decimal("0.5")
    assert m.purchase_frequency == Decimal("1.5")
    assert m.aov == Fraction(100, 3)  # exact; rounded only when shown
    assert m.customer_value == 50
    assert m.returning_customer_rate == Decimal("0.25")
    assert (m.crr, m.churn_rate) == (Decimal("0.5"), Decimal("0.5"))
    assert m.activation_rate == Decimal(1) / 3
    assert m.arpu_by_month == (("2024-03", Decimal(50)),)
    assert m.clv == 75
    assert (m.cac, m.cost_per_returning_customer) == (Decimal(100), Decimal(60))


def test_the_previous_period_and_the_json_keys(history: Shop) -> None:
    """February 2024 had no order: zero counts and "null" rates. S = E = active at 1 Feb /
    1 Mar = a and 3 = 2 each; nobody churned in February (both still active on 1 March)."""
    report = history.metrics("2024-06-01T00:00:00", **MARCH)
    prev = report.previous
    assert prev.period.label == "February 2024"
    assert (prev.counts.orders, prev.counts.customers, prev.counts.revenue) == (0, 0, 0)
    assert (prev.counts.active_start, prev.counts.active_end, prev.counts.churned) == (2, 2, 0)
    data = report_json(report)
    assert list(data["metrics"]) == [
        "orders",
        "customers",
        "revenue",
        "repeat_purchase_rate",
        "purchase_frequency",
        "aov",
        "customer_value",
        "returning_customer_rate",
        "new_customers",
        "active_start",
        "active_end",
        "crr",
        "churn_rate",
        "activation_rate",
        "arpu_by_month",
        "clv",
        "cac",
        "cost_per_returning_customer",
    ]
    assert data["metrics"]["revenue"] == "200.00"
    assert data["metrics"]["aov"] == "33.33"
    assert data["metrics"]["crr"] == 0.5
    assert data["previous"]["metrics"]["repeat_purchase_rate"] is None
    assert data["previous"]["metrics"]["crr"] == 1.0  # (2 − 0) / 2
    assert data["previous"]["metrics"]["revenue"] == "0.00"
    assert data["change"]["orders"] == 6


def test_a_period_with_nobody_active_at_its_start_has_no_crr(history: Shop) -> None:
    """January 2023: 3's first order (2023-01-15) is the only one. S = active at
    2023-01-01 = nobody → CRR and churn undefined; N = 1, E = 1."""
    report = history.metrics(
        "2024-06-01T00:00:00", first_day=date(2023, 1, 1), last_day=date(2023, 1, 31)
    )
    counts = report.current.counts
    assert (counts.active_start, counts.active_end, counts.new_customers) == (0, 1, 1)
    assert report.current.metrics.crr is None
    assert report.current.metrics.churn_rate is None
    assert report_json(report)["metrics"]["crr"] is None


def test_an_empty_store_reports_dashes_and_the_young_store_advice(engine: Engine) -> None:
    shop = Shop(engine)
    report = shop.metrics("2024-06-01T00:00:00")
    assert report.current.counts == PeriodCounts.empty()
    assert report.current.metrics.aov is None
    assert report.trend and all(r.counts.orders == 0 for r in report.trend)
    assert report.budget.young and "no counted order yet" in report.budget.reason


def test_counted_statuses_are_configurable(history: Shop) -> None:
    """Counting cancelled orders too adds b's 99.00 order of 03-25: 7 orders, 299.00."""
    report = history.metrics(
        "2024-06-01T00:00:00", statuses=("completed", "processing", "cancelled"), **MARCH
    )
    assert (report.current.counts.orders, report.current.counts.revenue) == (7, Decimal("299.00"))
    assert report.current.counts.repeat_customers == 3  # b now ordered twice too


def test_orders_after_as_of_do_not_exist_for_the_report(history: Shop) -> None:
    """As of 15 March 10:00 the period "March" runs to then: a 03-05, b 03-10, c 03-12, the
    e-mail-less 03-14 = 4 orders, 120.00."""
    report = history.metrics("2024-03-15T10:00:00", **MARCH)
    assert report.current.period.cut
    assert (report.current.counts.orders, report.current.counts.revenue) == (4, Decimal("120.00"))


def test_budget_advice_from_the_trailing_twelve_months(history: Shop) -> None:
    """[2023-06-02, 2024-06-01): a (3 orders), b, 2 (2), no-e-mail, 5 (05-30) = 5 customers,
    2 repeat → 40 % → the 40–70 % row; first order 2023-01-15 is older than a year."""
    report = history.metrics("2024-06-01T00:00:00")
    assert report.last_12_months.counts.customers == 5
    assert report.budget.repeat_rate == Decimal("0.4")
    assert report.budget.band.name == "40–70 %"
    assert "repeat purchase rate 40.0 %" in report.budget.reason


def test_guests_merge_into_the_account_that_owns_their_e_mail(engine: Engine) -> None:
    """Guest orders of x@x (before and after the account existed) and the account's own order
    are one customer with three orders; y@x stays a guest; two e-mail-less orders are two
    customers. A staff account's e-mail does not claim guest orders."""
    shop = Shop(engine)
    shop.account(9, "x@x", "2024-03-10T00:00:00")
    shop.account(10, "y@x", "2024-03-10T00:00:00", role="administrator")
    shop.order("2024-03-02T00:00:00", "10", email="x@x")
    shop.order("2024-03-12T00:00:00", "10", email="x@x")
    shop.order("2024-03-13T00:00:00", "10", customer=9, email="other@x")
    shop.order("2024-03-14T00:00:00", "10", email="y@x")
    shop.order("2024-03-15T00:00:00", "10")
    shop.order("2024-03-16T00:00:00", "10")
    counts = shop.metrics("2024-04-01T00:00:00").current.counts
    assert (counts.orders, counts.customers, counts.repeat_customers) == (6, 4, 1)


@pytest.mark.parametrize(
    ("timezone", "last_of_feb", "first_of_march"),
    [
        # Tehran, UTC+03:30: 1 March 00:00 local is 29 February 20:30 UTC.
        ("Asia/Tehran", "2024-02-29T20:29:59", "2024-02-29T20:30:00"),
        # New York in winter, UTC−05:00: 1 March 00:00 local is 05:00 UTC.
        ("America/New_York", "2024-03-01T04:59:59", "2024-03-01T05:00:00"),
        ("UTC", "2024-02-29T23:59:59", "2024-03-01T00:00:00"),
    ],
)
def test_months_end_at_midnight_in_the_store_s_timezone(
    engine: Engine, timezone: str, last_of_feb: str, first_of_march: str
) -> None:
    shop = Shop(engine, timezone=timezone)
    shop.order(last_of_feb, "10.00", email="p@x")
    shop.order(first_of_march, "20.00", email="q@x")
    report = shop.metrics("2024-04-15T00:00:00")
    assert report.current.period.label == "March 2024"
    assert (report.current.counts.orders, report.current.counts.revenue) == (1, Decimal("20.00"))
    assert (report.previous.counts.orders, report.previous.counts.revenue) == (1, Decimal("10.00"))


def test_summer_time_month_end(engine: Engine) -> None:
    """New York is on summer time by 1 April: the month ends at 04:00 UTC, not 05:00."""
    shop = Shop(engine, timezone="America/New_York")
    shop.order("2024-04-01T03:59:59", "10.00", email="p@x")
    shop.order("2024-04-01T04:00:00", "20.00", email="q@x")
    report = shop.metrics("2024-05-15T00:00:00")
    assert report.current.period.label == "April 2024"
    assert report.current.counts.revenue == Decimal("20.00")
    assert report.previous.counts.revenue == Decimal("10.00")


def test_jalali_month_boundary(engine: Engine) -> None:
    """Nowruz 1403 began on 20 March 2024 00:00 Tehran time = 19 March 20:30 UTC: the order a
    second before is in Esfand 1402, the one at the instant in Farvardin 1403."""
    shop = Shop(engine, timezone="Asia/Tehran", currency="IRT", decimals=0)
    shop.order("2024-03-19T20:29:59", "935000", email="p@x")
    shop.order("2024-03-19T20:30:00", "1200000", email="q@x")
    report = shop.metrics(
        "2024-05-01T00:00:00",
        calendar=Calendar.JALALI,
        first_day=parse_day("1403-01-01"),
        last_day=parse_day("1403-01-31"),
    )
    assert report.current.period.label == "Farvardin 1403"
    assert report.previous.period.label == "Esfand 1402"
    assert report.current.counts.revenue == Decimal(1200000)
    assert report.previous.counts.revenue == Decimal(935000)
    data = report_json(report)
    assert data["metrics"]["revenue"] == "1200000"  # a zero-decimal currency
    assert data["metrics"]["arpu_by_month"] == [{"month": "1403-01", "arpu": "1200000"}]


def test_quarter_and_year_periods(history: Shop) -> None:
    """Q1 2024 = January–March: the 6 March orders; ARPU is shown per month."""
    report = history.metrics("2024-04-02T00:00:00", kind=PeriodKind.QUARTER)
    assert report.current.period.label == "2024 Q1"
    assert report.current.counts.orders == 6
    assert [month for month, _ in report.current.metrics.arpu_by_month] == [
        "2024-01",
        "2024-02",
        "2024-03",
    ]
    assert report.current.metrics.arpu_by_month[0][1] is None  # January: no customers
    year = history.metrics("2024-06-01T00:00:00", kind=PeriodKind.YEAR)
    assert year.current.period.label == "2023"
    assert year.current.counts.orders == 3  # 3's two orders and a's first


def test_crr_taken_literally_can_be_negative(history: Shop) -> None:
    """12–31 March with a 5-day active window. S = active at 03-12 ([03-07, 03-12)) = b
    (03-10). E = active at 04-01 ([03-27, 04-01)) = nobody (the 03-25/26 orders do not
    count), so b churned: 1 of 1. N = customer 2 (first order 03-12 12:00) and the
    e-mail-less order (03-14) = 2. CRR = (E − N)/S = (0 − 2)/1 = −2; a (03-20) and
    customer 2, who ordered inside the period but not in its last 5 days, were not in S and
    do not count as churned."""
    report = history.metrics(
        "2024-06-01T00:00:00",
        first_day=date(2024, 3, 12),
        last_day=date(2024, 3, 31),
        active_days=5,
    )
    counts = report.current.counts
    assert (counts.active_start, counts.active_end, counts.churned) == (1, 0, 1)
    assert counts.new_customers == 2
    assert report.current.metrics.crr == Decimal(-2)


def test_churn_counts_customers_who_ordered_early_in_a_long_period_then_stopped(
    engine: Engine,
) -> None:
    """D = 10 days, period 1–31 March. p: orders 02-25 (active at 03-01) and 03-05, then none
    → not active at 04-01 ([03-22, 04-01)): churned although it ordered in the period.
    q: 02-25 and 03-25 → still active. r: 03-05 only → not in S. S = 2, churned 1."""
    shop = Shop(engine)
    shop.order("2024-02-25T00:00:00", "1", email="p@x")
    shop.order("2024-03-05T00:00:00", "1", email="p@x")
    shop.order("2024-02-25T00:00:00", "1", email="q@x")
    shop.order("2024-03-25T00:00:00", "1", email="q@x")
    shop.order("2024-03-05T00:00:00", "1", email="r@x")
    counts = shop.metrics("2024-04-10T00:00:00", active_days=10).current.counts
    assert (counts.active_start, counts.active_end, counts.churned) == (2, 1, 1)


def test_a_completed_order_of_zero_counts_with_no_revenue(engine: Engine) -> None:
    shop = Shop(engine)
    shop.order("2024-03-05T00:00:00", "0.00", email="p@x")
    shop.order("2024-03-06T00:00:00", "10.00", refunded="10.00", email="p@x")  # fully refunded
    counts = shop.metrics("2024-04-01T00:00:00").current.counts
    assert (counts.orders, counts.revenue, counts.repeat_customers) == (2, Decimal(0), 1)


# --- the two databases agree ---------------------------------------------------------------------


def test_sqlite_and_the_configured_database_agree_exactly(engine: Engine, tmp_path: Path) -> None:
    """The same generated store on the test database (PostgreSQL when configured) and on a
    SQLite file gives the same JSON, digit for digit, for every period kind and calendar."""
    other = open_database(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    try:
        here, there = generated_shop(engine), generated_shop(other)
        for kind, calendar in [
            (PeriodKind.MONTH, Calendar.GREGORIAN),
            (PeriodKind.QUARTER, Calendar.JALALI),
            (PeriodKind.YEAR, Calendar.GREGORIAN),
        ]:
            results = [
                report_json(shop.metrics("2025-01-01T00:00:00", kind=kind, calendar=calendar))
                for shop in (here, there)
            ]
            assert results[0] == results[1]
            assert results[0]["metrics"]["orders"] > 0
    finally:
        other.dispose()


def test_generated_store_is_internally_consistent(engine: Engine) -> None:
    """Customers = new + returning; the trend's new customers sum to the customers whose first
    order falls in the trend; repeat ≤ customers ≤ orders."""
    shop = generated_shop(engine)
    report = shop.metrics("2025-01-01T00:00:00", trend_units=24)
    for result in (report.current, report.previous, *report.trend):
        c = result.counts
        assert c.customers == c.new_customers + c.returning_customers
        assert c.repeat_customers <= c.customers <= c.orders
        assert c.churned <= c.active_start
    everyone = shop.metrics("2025-01-01T00:00:00", first_day=date(2022, 1, 1))
    assert everyone.current.counts.new_customers == everyone.current.counts.customers
    assert sum(r.counts.new_customers for r in report.trend) == everyone.current.counts.customers


def test_two_orders_in_the_same_second(engine: Engine) -> None:
    """Orders of one customer created at the same instant are two orders of one customer,
    who is new and repeats; active and churn count them once."""
    shop = Shop(engine)
    shop.order("2024-03-05T10:00:00", "10.00", email="p@x")
    shop.order("2024-03-05T10:00:00", "15.00", email="p@x")
    shop.order("2023-05-05T10:00:00", "20.00", email="q@x")
    shop.order("2024-02-05T10:00:00", "5.00", email="q@x")
    shop.order("2024-02-05T10:00:00", "5.00", email="q@x")
    counts = shop.metrics("2024-04-01T00:00:00").current.counts
    assert (counts.orders, counts.revenue, counts.customers) == (2, Decimal("25.00"), 1)
    assert (counts.repeat_customers, counts.new_customers) == (1, 1)
    assert (counts.active_start, counts.active_end, counts.churned) == (1, 2, 0)
