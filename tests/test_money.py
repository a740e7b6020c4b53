"""connector.money is the one home of money rules (issue 12): the stored scale, the
conversions, the currency decimals and how amounts are shown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector import ZERO_DECIMAL_CURRENCIES, currency_decimals, from_units, to_units
from connector.money import money_text, units_text


def test_the_zero_decimal_currencies_are_iso_4217s_and_the_rial_and_toman() -> None:
    iso_4217_minor_unit_0 = {
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
        "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
    }  # fmt: skip
    assert iso_4217_minor_unit_0 | {"IRR", "IRT"} == ZERO_DECIMAL_CURRENCIES


@pytest.mark.parametrize(("currency", "decimals"), [("PYG", 0), ("irt", 0), ("USD", 2), (None, 2)])
def test_currency_decimals(currency: str | None, decimals: int) -> None:
    assert currency_decimals(currency) == decimals


def test_units_round_trip_and_refuse_a_fifth_decimal() -> None:
    assert to_units(Decimal("32.68")) == 326_800
    assert from_units(326_800) == Decimal("32.68")
    with pytest.raises(ValueError, match="more than 4 decimals"):
        to_units(Decimal("0.00001"))


@pytest.mark.parametrize(
    ("units", "decimals", "shown"),
    [(326_800, 2, "32.68"), (-34_900, 2, "-3.49"), (9_350_000_000, 0, "935000"), (5, 3, "0.000")],
)
def test_units_text_cuts(units: int, decimals: int, shown: str) -> None:
    assert units_text(units, decimals) == shown


def test_money_text_cuts_never_rounds_up() -> None:
    assert money_text(Decimal("12.4"), 2) == "12.40"
    assert money_text(Decimal("5.559"), 2) == "5.55"
