"""Program settings: defaults that follow the currency, validation with clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from connector import ConfigError
from loyalty.identity import account_email_map, accounts_by_email
from loyalty.settings import ProgramSettings, parse_settings, resolve
from tests._loyalty import Mirror

CREATED = datetime(2026, 1, 1, 12, tzinfo=UTC)


def resolved(currency: str | None, decimals: int | None, **raw: Any) -> Any:
    return resolve(
        parse_settings("shop", raw),
        store="shop",
        store_id=1,
        currency=currency,
        decimals=decimals,
        timezone="Asia/Tehran",
        program_created_at=CREATED,
    )


def test_defaults_follow_the_currency() -> None:
    usd = resolved("USD", 2)
    assert (usd.point_value, usd.sources["point_value"]) == (Decimal("0.01"), "currency")
    assert (usd.welcome_points, usd.second_purchase_points, usd.cashback_percent) == (100, 200, 2)
    assert (usd.min_redeem_points, usd.coupon_valid_days, usd.pending_days) == (500, 90, 0)
    assert usd.expiry_months is None and usd.earn_statuses == frozenset({"completed"})
    assert resolved("IRT", 0).point_value == Decimal(1)
    # decimals not known yet: the currency decides
    assert resolved("IRR", None).point_value == Decimal(1)
    assert resolved("EUR", None).point_value == Decimal("0.01")


def test_starts_at_defaults_to_the_program_start_and_reads_local_time() -> None:
    assert resolved("USD", 2).starts_at == CREATED
    assert resolved("USD", 2).sources["starts_at"] == "program start"
    # a date or naive time is the store's local time (Tehran: UTC+3:30)
    assert resolved("USD", 2, starts_at=date(2026, 3, 21)).starts_at == datetime(
        2026, 3, 20, 20, 30, tzinfo=UTC
    )
    assert resolved("USD", 2, starts_at="2026-03-21T00:00:00Z").starts_at == datetime(
        2026, 3, 21, tzinfo=UTC
    )


def test_toml_floats_become_exact_decimals() -> None:
    s = ProgramSettings.model_validate({"cashback_percent": 2.5, "point_value": 0.01})
    assert (s.cashback_percent, s.point_value) == (Decimal("2.5"), Decimal("0.01"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"cashback_percent": -1},
            "loyalty.cashback_percent: Input should be greater than or equal to 0",
        ),
        (
            {"cashback_percent": 500},
            "loyalty.cashback_percent: Input should be less than or equal to 100",
        ),
        ({"point_value": 0}, "loyalty.point_value"),
        ({"welcome_points": -5}, "loyalty.welcome_points"),
        ({"cashback_base": "gross"}, "loyalty.cashback_base"),
        ({"earn_statuses": []}, "loyalty.earn_statuses"),
        ({"starts_at": "next tuesday"}, "loyalty.starts_at"),
        ({"expiry_month": 12}, "loyalty.expiry_month: Extra inputs are not permitted"),
        ({"min_redeem_points": 0}, "loyalty.min_redeem_points"),
    ],
)
def test_bad_settings_are_clear_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("shop", raw)
    assert message in str(caught.value)
    assert str(caught.value).startswith("store 'shop': the loyalty settings")


def test_earn_statuses_are_normalized() -> None:
    assert ProgramSettings.model_validate(
        {"earn_statuses": ["wc-Completed", "processing"]}
    ).earn_statuses == (
        "completed",
        "processing",
    )


def test_identity_rule_in_python_equals_the_sql(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(3, "a@x.com", CREATED)
    m.customer(2, "a@x.com", CREATED)
    m.customer(4, "staff@x.com", CREATED, role="shop_manager")
    m.customer(5, "gone@x.com", CREATED, deleted=CREATED)
    m.customer(6, "", CREATED)
    with engine.connect() as conn:
        sql = {row.email: row.wc_id for row in conn.execute(accounts_by_email(m.store_id))}
    python = account_email_map(
        [(3, "a@x.com", "customer", False), (2, "a@x.com", "customer", False),
         (4, "staff@x.com", "shop_manager", False), (5, "gone@x.com", "customer", True),
         (6, "", "customer", False)]
    )  # fmt: skip
    assert sql == python == {"a@x.com": 2}
