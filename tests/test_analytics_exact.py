"""Money in the analytics is exact: one rounding at the end, and sums that do not overflow.

On SQLite or PostgreSQL (``BAZGASHT_TEST_POSTGRES``), through the metrics engine, RFM, the
campaign audiences and the loyalty reports.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from connector import money_json
from loyalty.analytics import SEGMENTS, open_analysis, report_json, rfm_members, rfm_summary
from loyalty.analytics.formatting import round_half_up
from loyalty.analytics.formulas import PeriodCounts, clv, period_metrics
from loyalty.analytics.periods import parse_day
from loyalty.balances import summary
from loyalty.campaigns.audiences import histories
from loyalty.ledger import append
from loyalty.program import load_program
from loyalty.rules import NewEntry
from tests.test_analytics import Shop, utc

#: The largest order total WooCommerce allows in a 2-decimal store that our mirror stores.
HUGE = "99999999999999.99"


def q1_2025(**kw: int | Decimal) -> PeriodCounts:
    """Issue 10 item 16: an IRT quarter with 38 125 000 of revenue, 21 orders, 16 customers."""
    values: dict[str, int | Decimal] = dict(
        orders=21,
        revenue=Decimal(38_125_000),
        customers=16,
        repeat_customers=5,
        new_customers=16,
        returning_customers=0,
        active_start=0,
        active_end=16,
        churned=0,
        accounts_eligible=0,
        accounts_activated=0,
    )
    values.update(kw)
    return PeriodCounts(**values)  # type: ignore[arg-type]


def test_customer_value_is_revenue_over_customers_rounded_once() -> None:
    """38 125 000 ÷ 16 = 2 382 812.5 exactly → 2 382 813 (half up, at the end). Frequency ×
    AOV = 21/16 × 1 815 476.190476… (cut to 28 digits) gave 2 382 812.4999… → 2 382 812."""
    m = period_metrics(q1_2025(), arpu_by_month=(), clv=None)
    assert m.customer_value == Fraction(38_125_000, 16) == Decimal("2382812.5")
    assert money_json(m.customer_value, 0) == "2382813"
    assert m.aov == Fraction(38_125_000, 21)  # exact; rounded only when shown
    assert money_json(m.aov, 0) == "1815476"


def test_clv_is_an_exact_fraction() -> None:
    """S = 3, one churned: lifetime 3 years; CLV = 38 125 000 ÷ 16 × 3 = 7 148 437.5 exactly
    → 7 148 438. The old AOV × frequency × lifetime gave 7 148 437.4999… → 7 148 437."""
    value = clv(q1_2025(active_start=3, churned=1))
    assert value == Fraction(7_148_437_5, 10)
    assert money_json(value, 0) == "7148438"
    assert clv(q1_2025(active_start=30, churned=1)) == Fraction(38_125_000, 16) * 10  # capped


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Fraction(5, 2), 0, "3"),
        (Fraction(-5, 2), 0, "-3"),  # half away from zero
        (Decimal("0.125"), 2, "0.13"),
        (Decimal("-0.004"), 2, "0.00"),  # no "-0.00"
        (Fraction(1, 3), 4, "0.3333"),
        (Fraction(2, 3), 0, "1"),
        (7, 2, "7.00"),
    ],
)
def test_the_one_rounding_is_half_up(
    value: Fraction | Decimal | int, places: int, shown: str
) -> None:
    assert f"{round_half_up(value, places):.{places}f}" == shown


def test_an_irt_quarter_end_to_end(engine: Engine) -> None:
    """The same quarter through the database: 16 customers, five of them with two orders:
    16 × 1 500 000 + 5 × 2 825 000 = 38 125 000."""
    shop = Shop(engine, name="irt", currency="IRT", decimals=0, timezone="Asia/Tehran")
    for n in range(16):
        shop.order("2025-01-10T10:00:00", "1500000", email=f"c{n}@x")
    for n in range(5):
        shop.order("2025-02-10T10:00:00", "2825000", email=f"c{n}@x")
    report = shop.metrics(
        "2025-06-01T00:00:00", first_day=parse_day("2025-01-01"), last_day=parse_day("2025-03-31")
    )
    m = report.current.metrics
    assert (m.orders, m.customers, m.revenue) == (21, 16, Decimal(38_125_000))
    data = report_json(report)["metrics"]
    assert data["customer_value"] == "2382813"
    assert data["revenue"] == "38125000"


def test_huge_orders_sum_exactly(engine: Engine) -> None:
    """Ten orders of 99 999 999 999 999.99 (10¹⁹ units of 10⁻⁴: past SQLite's 2⁶³ integer
    SUM, which raised; past PostgreSQL's BIGINT for a customer's RFM total) by one customer,
    and one small order by another, in March 2024."""
    shop = Shop(engine)
    for day in range(10):
        shop.order(f"2024-03-{day + 1:02d}T12:00:00", HUGE, customer=1, email="big@x")
    shop.order("2024-03-20T12:00:00", "10.00", email="small@x")
    total = Decimal(HUGE) * 10 + 10
    report = shop.metrics(
        "2024-06-01T00:00:00", first_day=parse_day("2024-03-01"), last_day=parse_day("2024-03-31")
    )
    m = report.current.metrics
    assert m.revenue == total == Decimal("1000000000000009.90")
    data = report_json(report)
    assert data["metrics"]["revenue"] == "1000000000000009.90"
    assert data["metrics"]["aov"] == "90909090909091.81"  # 1 000 000 000 000 009.90 / 11
    assert data["last_12_months"]["metrics"]["revenue"] == "1000000000000009.90"
    with open_analysis(engine, shop.id, as_of=utc("2024-06-01T00:00:00")) as analysis:
        rfm = rfm_summary(analysis.counted)
        spent = {
            member.identity: member.total_spent
            for name in SEGMENTS
            for member in rfm_members(analysis.counted, name)
        }
    assert rfm.revenue == total
    assert spent == {"customer:1": Decimal(HUGE) * 10, "email:small@x": Decimal(10)}
    best = max(rfm.segments, key=lambda s: s.revenue)
    assert best.revenue == Decimal(HUGE) * 10  # the big spender ranks first on M, exactly
    with engine.connect() as conn:
        found = histories(conn, shop.id, utc("2024-06-01T00:00:00"))
    assert found["customer:1"].revenue == Decimal(HUGE) * 10


def test_huge_point_totals_sum_exactly(engine: Engine) -> None:
    """Three balances of 4 × 10¹⁸ points: the store's outstanding points (1.2 × 10¹⁹) are past
    2⁶³; the summary, its liability and the analytics' loyalty figures stay exact."""
    shop = Shop(engine)
    shop.order("2024-03-01T12:00:00", "10.00", customer=1, email="a@x")
    at = utc("2024-03-02T00:00:00")
    with engine.begin() as conn:
        append(
            conn,
            shop.id,
            [
                NewEntry(f"manual:shop:{n}", 1, f"email:{n}@x", 4 * 10**18, "manual", "test", at)
                for n in range(3)
            ],
            at,
        )
    program = load_program(engine, "shop", {}, at + timedelta(days=1))
    s = summary(engine, program, at + timedelta(days=1))
    assert (s.outstanding, s.issued, s.members) == (12 * 10**18, 12 * 10**18, 3)
    assert s.liability == Decimal(12 * 10**16)
    assert s.as_dict()["liability"] == "120000000000000000.00"
    report = shop.metrics("2024-06-01T00:00:00")
    assert report.loyalty is not None
    assert report.loyalty.points_outstanding == 12 * 10**18
    assert report.loyalty.points_issued == 12 * 10**18


@pytest.mark.parametrize(
    ("as_of", "months"),
    [
        # 365 days before 15 June 2024 is 16 June 2023: July 2023 … May 2024 are whole.
        ("2024-06-15T00:00:00", [f"2023-{m:02d}" for m in range(7, 13)]
         + [f"2024-{m:02d}" for m in range(1, 6)]),
        # 365 days before 1 June 2025 is 1 June 2024: June 2024 … May 2025, twelve months.
        ("2025-06-01T00:00:00", [f"2024-{m:02d}" for m in range(6, 13)]
         + [f"2025-{m:02d}" for m in range(1, 6)]),
    ],
)  # fmt: skip
def test_arpu_of_the_last_12_months_lists_the_whole_months_inside(
    engine: Engine, as_of: str, months: list[str]
) -> None:
    shop = Shop(engine)
    shop.order("2023-01-05T12:00:00", "10.00", email="a@x")
    report_data = report_json(shop.metrics(as_of))
    listed = [m["month"] for m in report_data["last_12_months"]["metrics"]["arpu_by_month"]]
    assert listed == months
