"""Retention analytics, the pure parts: calendars and periods, formulas, budget, formatting, RFM
scoring. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from connector import format_money, money_json
from loyalty.analytics import periods as P
from loyalty.analytics.budget import BANDS, YOUNG_STORE, advise, band_for
from loyalty.analytics.formatting import format_percent, rate_json
from loyalty.analytics.formulas import (
    PeriodCounts,
    clv,
    crr,
    lifetime_years,
    period_metrics,
    ratio,
)
from loyalty.analytics.metrics import plan_periods
from loyalty.analytics.periods import Calendar, PeriodKind
from loyalty.analytics.present import format_change, signed
from loyalty.analytics.rfm import SEGMENT_GRID, SEGMENTS, quintile_score, segment_of

TEHRAN = ZoneInfo("Asia/Tehran")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- calendars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "calendar", "first", "label"),
    [
        # Nowruz 1403 is 20 March 2024: the 19th is still Esfand 1402.
        (date(2024, 3, 19), Calendar.JALALI, date(2024, 2, 20), "Esfand 1402"),
        (date(2024, 3, 20), Calendar.JALALI, date(2024, 3, 20), "Farvardin 1403"),
        (date(2024, 4, 19), Calendar.JALALI, date(2024, 3, 20), "Farvardin 1403"),  # 31 days
        (date(2024, 4, 20), Calendar.JALALI, date(2024, 4, 20), "Ordibehesht 1403"),
        (date(2024, 2, 29), Calendar.GREGORIAN, date(2024, 2, 1), "February 2024"),
    ],
)
def test_months_of_both_calendars(day: date, calendar: Calendar, first: date, label: str) -> None:
    period = P.unit_period(day, PeriodKind.MONTH, calendar, ZoneInfo("UTC"))
    assert period.first_day == first
    assert period.label == label


def test_jalali_quarters_and_years_start_at_nowruz() -> None:
    year = P.unit_period(date(2024, 8, 1), PeriodKind.YEAR, Calendar.JALALI, TEHRAN)
    assert (year.first_day, year.end_day, year.key) == (
        date(2024, 3, 20),
        date(2025, 3, 21),
        "1403",
    )
    quarter = P.unit_period(date(2024, 8, 1), PeriodKind.QUARTER, Calendar.JALALI, TEHRAN)
    # Summer 1403: Tir, Mordad, Shahrivar (22 June – 22 September 2024).
    assert (quarter.first_day, quarter.end_day, quarter.key) == (
        date(2024, 6, 21),
        date(2024, 9, 22),
        "1403-Q2",
    )


def test_a_period_runs_between_local_midnights() -> None:
    """Tehran is UTC+03:30: 1 March 2024 begins at 29 Feb 20:30 UTC."""
    march = P.unit_period(date(2024, 3, 5), PeriodKind.MONTH, Calendar.GREGORIAN, TEHRAN)
    assert march.start == utc("2024-02-29T20:30:00")
    assert march.end == utc("2024-03-31T20:30:00")


def test_summer_time_changes_the_utc_hour_of_midnight() -> None:
    """New York: 1 March is EST (05:00 UTC), 1 April EDT (04:00 UTC); March has 743 hours."""
    march = P.unit_period(date(2024, 3, 5), PeriodKind.MONTH, Calendar.GREGORIAN, NEW_YORK)
    assert march.start == utc("2024-03-01T05:00:00")
    assert march.end == utc("2024-04-01T04:00:00")
    assert march.end - march.start == timedelta(hours=31 * 24 - 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-20", date(2024, 3, 20)),
        ("1403-01-01", date(2024, 3, 20)),
        (" 1402-12-29 ", date(2024, 3, 19)),
    ],
)
def test_days_are_read_gregorian_or_jalali_by_the_year(text: str, expected: date) -> None:
    assert P.parse_day(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "yesterday", "1403-13-01", "2024/03/01"])
def test_bad_days_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        P.parse_day(text)


def test_as_of_is_a_day_s_local_midnight_or_a_time() -> None:
    assert P.parse_instant("2024-03-01", TEHRAN) == utc("2024-02-29T20:30:00")
    assert P.parse_instant("2024-03-01T08:00:00", TEHRAN) == utc("2024-03-01T04:30:00")
    assert P.parse_instant("2024-03-01T08:00:00+00:00", TEHRAN) == utc("2024-03-01T08:00:00")


def test_unknown_timezone_is_an_error() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        P.store_zone("Mars/Olympus")
    assert P.store_zone(None) == ZoneInfo("UTC")


# --- which periods a report covers --------------------------------------------------------------


def test_default_period_is_the_last_complete_month() -> None:
    plan = plan_periods(as_of=utc("2024-04-15T09:00:00"), zone=ZoneInfo("UTC"))
    assert (plan.current.label, plan.previous.label) == ("March 2024", "February 2024")
    assert [p.key for p in plan.trend][-1] == "2024-03"
    assert len(plan.trend) == 12


def test_as_of_at_a_month_s_first_instant_reports_the_month_before() -> None:
    plan = plan_periods(as_of=utc("2024-04-01T00:00:00"), zone=ZoneInfo("UTC"))
    assert plan.current.label == "March 2024"


def test_trend_starts_no_earlier_than_the_first_order() -> None:
    plan = plan_periods(
        as_of=utc("2024-04-15T09:00:00"),
        zone=ZoneInfo("UTC"),
        first_order_at=utc("2024-01-20T00:00:00"),
    )
    assert [p.key for p in plan.trend] == ["2024-01", "2024-02", "2024-03"]


def test_a_whole_jalali_year_is_compared_with_the_year_before() -> None:
    plan = plan_periods(
        as_of=utc("2025-06-01T00:00:00"),
        zone=TEHRAN,
        kind=PeriodKind.YEAR,
        calendar=Calendar.JALALI,
        first_day=P.parse_day("1403-01-01"),
        last_day=P.parse_day("1403-12-30"),
    )
    assert (plan.current.label, plan.previous.label) == ("1403", "1402")
    assert plan.previous.first_day == date(2023, 3, 21)


def test_a_range_of_days_is_compared_with_as_many_days_before() -> None:
    plan = plan_periods(
        as_of=utc("2024-06-01T00:00:00"),
        zone=ZoneInfo("UTC"),
        first_day=date(2024, 3, 5),
        last_day=date(2024, 3, 14),
    )
    assert (plan.current.first_day, plan.current.end_day) == (date(2024, 3, 5), date(2024, 3, 15))
    assert (plan.previous.first_day, plan.previous.end_day) == (date(2024, 2, 24), date(2024, 3, 5))


def test_to_before_from_is_refused() -> None:
    from connector import ConfigError

    with pytest.raises(ConfigError, match="before --from"):
        plan_periods(
            as_of=utc("2024-06-01T00:00:00"),
            zone=ZoneInfo("UTC"),
            first_day=date(2024, 3, 5),
            last_day=date(2024, 3, 1),
        )


# --- formulas ----------------------------------------------------------------------------------


def counts(**kw: object) -> PeriodCounts:
    base = dict(
        orders=0,
        revenue=Decimal(0),
        customers=0,
        repeat_customers=0,
        new_customers=0,
        returning_customers=0,
        active_start=0,
        active_end=0,
        churned=0,
        accounts_eligible=0,
        accounts_activated=0,
    )
    base.update(kw)
    return PeriodCounts(**base)  # type: ignore[arg-type]


def test_a_period_without_orders_has_no_rates() -> None:
    """Every ratio over zero customers, orders or S is None ("—"), never a division error."""
    m = period_metrics(counts(), arpu_by_month=(), clv=None, acquisition_spend=Decimal(100))
    assert m.orders == 0 and m.revenue == 0
    for name in (
        "repeat_purchase_rate",
        "purchase_frequency",
        "aov",
        "customer_value",
        "returning_customer_rate",
        "crr",
        "churn_rate",
        "activation_rate",
        "cac",
        "cost_per_returning_customer",
    ):
        assert getattr(m, name) is None, name


def test_period_metrics_arithmetic() -> None:
    """6 orders, 200.00 revenue, 4 customers of whom 2 repeat, 3 new, 1 returning; S=2, E=4,
    1 churned; 3 eligible accounts, 1 activated. Spend 300 / 50.

    frequency 6/4 = 1.5; AOV 200/6; customer value 1.5 × 200/6 = 50; CRR (4−3)/2 = 0.5;
    churn 1/2; CAC 300/3 = 100; cost per returning customer 50/1 = 50.
    """
    c = counts(
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
    m = period_metrics(
        c,
        arpu_by_month=(),
        clv=None,
        acquisition_spend=Decimal(300),
        retention_spend=Decimal(50),
    )
    assert m.repeat_purchase_rate == Decimal("0.5")
    assert m.purchase_frequency == Decimal("1.5")
    assert m.aov == Fraction(100, 3)  # exact; rounded only when shown
    assert m.customer_value == 50
    assert m.returning_customer_rate == Decimal("0.25")
    assert (m.crr, m.churn_rate) == (Decimal("0.5"), Decimal("0.5"))
    assert m.activation_rate == Decimal(1) / 3
    assert (m.cac, m.cost_per_returning_customer) == (Decimal(100), Decimal(50))


@pytest.mark.parametrize(
    ("e", "n", "s", "expected"),
    [
        (4, 3, 2, Decimal("0.5")),
        (10, 0, 10, Decimal(1)),
        (5, 1, 0, None),  # S = 0: no CRR
        (12, 0, 10, Decimal("1.2")),  # lapsed customers who came back: above 100 %, as defined
    ],
)
def test_crr(e: int, n: int, s: int, expected: Decimal | None) -> None:
    assert crr(e, n, s) == expected


@pytest.mark.parametrize(
    ("churn", "years"),
    [
        (None, None),
        (Decimal(0), Decimal(10)),  # nobody left: the cap
        (Decimal("0.05"), Decimal(10)),  # 1/0.05 = 20, capped
        (Decimal("0.1"), Decimal(10)),
        (Decimal("0.25"), Decimal(4)),
        (Decimal(1), Decimal(1)),
    ],
)
def test_lifetime_is_one_over_churn_capped_at_ten(
    churn: Decimal | None, years: Decimal | None
) -> None:
    assert lifetime_years(churn) == years


def test_clv_of_a_window() -> None:
    """7 orders, 300.00, 4 customers; S = 1 who churned (churn 1, lifetime 1 year):
    CLV = 300/7 × 7/4 × 1 = 75."""
    window = counts(orders=7, revenue=Decimal(300), customers=4, active_start=1, churned=1)
    assert clv(window) == 75
    assert clv(counts(orders=7, revenue=Decimal(300), customers=4)) is None  # S = 0


def test_ratio() -> None:
    assert ratio(1, 4) == Decimal("0.25")
    assert ratio(1, 0) is None
    assert ratio(Decimal(0), 3) == 0


# --- budget advice -----------------------------------------------------------------------------

AS_OF = utc("2025-01-01T00:00:00")
OLD = AS_OF - timedelta(days=800)


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        ("0", "0–20 %"),
        ("0.1999", "0–20 %"),
        ("0.2", "20–40 %"),  # half-open: 20 % exactly is in 20–40 %
        ("0.3999", "20–40 %"),
        ("0.4", "40–70 %"),
        ("0.7", "70 %+"),
        ("1", "70 %+"),
    ],
)
def test_budget_bands_are_half_open(rate: str, band: str) -> None:
    assert band_for(Decimal(rate)).name == band
    advice = advise(Decimal(rate), OLD, AS_OF)
    assert advice.band.name == band and not advice.young
    assert "over the last 12 months" in advice.reason


def test_budget_table_matches_the_spec() -> None:
    assert [(b.acquisition, b.retention) for b in BANDS] == [
        ((80, 90), (10, 20)),
        ((60, 70), (30, 40)),
        ((30, 50), (50, 70)),
        ((20, 20), (80, 80)),
    ]
    assert (YOUNG_STORE.acquisition, YOUNG_STORE.retention) == ((90, 100), (0, 10))


@pytest.mark.parametrize(
    ("first_order", "young"),
    [
        (AS_OF - timedelta(days=364, hours=23), True),
        (AS_OF - timedelta(days=365), False),  # exactly 365 days: no longer young
        (None, True),  # no order at all
    ],
)
def test_a_store_younger_than_a_year_gets_the_last_row(
    first_order: datetime | None, young: bool
) -> None:
    advice = advise(Decimal("0.8"), first_order, AS_OF)
    assert advice.young is young
    assert (advice.band is YOUNG_STORE) is young


def test_the_owner_s_split_is_judged_against_the_band() -> None:
    advice = advise(
        Decimal("0.25"), OLD, AS_OF, acquisition_spend=Decimal(900), retention_spend=Decimal(100)
    )
    assert advice.acquisition_share == Decimal("0.9")
    assert advice.split_note is not None and "more on acquisition than advised" in advice.split_note


# --- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "decimals", "shown"),
    [
        ("1234567.891", "USD", 2, "1,234,567.89 USD"),
        ("0.005", "EUR", 2, "0.01 EUR"),  # half up
        ("935000", "IRT", 0, "935,000 IRT"),
        ("935000.5", "IRR", 0, "935,001 IRR"),
        ("-12.5", "USD", 2, "-12.50 USD"),
    ],
)
def test_money_in_the_store_s_currency(
    amount: str, currency: str, decimals: int, shown: str
) -> None:
    assert format_money(Decimal(amount), currency, decimals) == shown


def test_undefined_values_show_a_dash_and_are_null_in_json() -> None:
    assert format_money(None, "USD", 2) == "—"
    assert format_percent(None) == "—"
    assert money_json(None, 2) is None
    assert rate_json(None) is None
    assert money_json(Decimal("3.333333"), 2) == "3.33"
    assert money_json(Decimal("935000"), 0) == "935000"
    assert format_percent(Decimal("0.2345")) == "23.5 %"


def test_changes_have_a_sign_and_no_negative_zero() -> None:
    assert signed("-0.0") == "0.0"
    assert signed("3") == "+3"
    assert signed("-3") == "-3"


# --- RFM ---------------------------------------------------------------------------------------


def test_every_r_f_pair_has_a_segment_and_every_segment_is_used() -> None:
    assert len(SEGMENT_GRID) == 25
    assert set(SEGMENT_GRID.values()) == set(SEGMENTS)
    assert len(SEGMENTS) == 11
    assert segment_of(5, 5) == "Champions"
    assert segment_of(5, 1) == "New"
    assert segment_of(1, 1) == "Lost"
    assert segment_of(1, 5) == "Can't lose"


@pytest.mark.parametrize(
    ("ranks", "scores"),
    [
        ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
        # 7 of 10 customers ordered once (tied at rank 1): all score 1, the rest 4 and 5.
        ([1, 1, 1, 1, 1, 1, 1, 8, 8, 10], [1, 1, 1, 1, 1, 1, 1, 4, 4, 5]),
        ([1, 1, 1], [1, 1, 1]),  # everyone equal
    ],
)
def test_quintile_scores_from_ranks(ranks: list[int], scores: list[int]) -> None:
    assert [quintile_score(r, len(ranks)) for r in ranks] == scores


def test_format_change_of_rates_is_in_points() -> None:
    from loyalty.analytics.queries import StoreInfo

    store = StoreInfo(1, "s", "USD", 2, "UTC", ZoneInfo("UTC"))
    assert format_change(Decimal("0.25"), Decimal("0.2"), "rate", store) == "+5.0 pp"
    assert format_change(120, 100, "count", store) == "+20 (+20.0 %)"
    assert format_change(Decimal(5), Decimal(0), "money", store) == "+5.00"
    assert format_change(None, 100, "count", store) == "—"
