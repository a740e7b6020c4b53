"""How numbers are shown: money in the store's currency, rates as percentages, "—" for none.

Pure functions shared by the terminal tables, the CSV/JSON output and the HTML report. They
take exact values — ``int``, ``Decimal`` or ``Fraction`` (the money metrics are exact
fractions, see ``formulas``) — and this is where they are rounded, once: **half up** (away
from zero) to the places shown (``round_half_up``).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

NONE_SHOWN = "—"

#: An exact number: what the formulas produce and these functions round.
Number = Decimal | Fraction | int


def round_half_up(value: Number, places: int) -> Decimal:
    """``value`` rounded half up (away from zero) to ``places`` decimals, exactly.

    The value is taken as the exact rational it is (a ``Decimal`` or ``Fraction`` never goes
    through a 28-digit division first), so this is the only rounding a shown number gets.
    """
    exact = Fraction(value) * Fraction(10) ** places
    whole, rest = divmod(abs(exact.numerator), exact.denominator)
    if 2 * rest >= exact.denominator:
        whole += 1
    sign = "-" if exact < 0 and whole else ""
    return Decimal(f"{sign}{whole}E{-places}")


def quantize_money(amount: Number, decimals: int) -> Decimal:
    """Round half up to the currency's decimals (0 for rial and toman)."""
    return round_half_up(amount, decimals)


def format_money(amount: Number | None, currency: str, decimals: int) -> str:
    """``1,234.56 USD``, ``935,000 IRT``; "—" when undefined."""
    if amount is None:
        return NONE_SHOWN
    number = f"{quantize_money(amount, decimals):,.{decimals}f}"
    return f"{number} {currency}".strip()


def money_json(amount: Number | None, decimals: int) -> str | None:
    """A decimal string with the currency's decimals, for machines (``null`` when undefined)."""
    if amount is None:
        return None
    return f"{quantize_money(amount, decimals):.{decimals}f}"


def price_json(price: Decimal, decimals: int) -> str:
    """A unit price (a point's value) for machines: at least the currency's decimals, more
    when the price has them (``"0.01"``, ``"1.00"``, ``"0.005"``; ``"1"`` for toman)."""
    places = max(decimals, -price.normalize().as_tuple().exponent)  # type: ignore[operator]
    return f"{price:.{places}f}"


def format_percent(rate: Number | None, places: int = 1) -> str:
    """A fraction as a percentage: ``Decimal("0.2345")`` → ``23.5 %``."""
    if rate is None:
        return NONE_SHOWN
    value = round_half_up(Fraction(rate) * 100, places)
    return f"{value:,.{places}f} %"


def format_number(value: Number | None, places: int = 2) -> str:
    if value is None:
        return NONE_SHOWN
    if isinstance(value, int):
        return f"{value:,}"
    return f"{round_half_up(value, places):,.{places}f}"


def rate_json(rate: Number | None, places: int = 6) -> float | None:
    """A rate for JSON: a number (fraction, not percent) rounded to ``places`` decimals."""
    if rate is None:
        return None
    return float(round_half_up(rate, places))


def points_difference_json(now: Number, before: Number) -> float:
    """The difference of two rates in **percentage points** (0.25 → 0.30 is 5.0), for JSON
    keys ending in ``_pp``; 4 decimals."""
    return float(round_half_up((Fraction(now) - Fraction(before)) * 100, 4))


__all__ = [
    "NONE_SHOWN",
    "Number",
    "format_money",
    "format_number",
    "format_percent",
    "money_json",
    "points_difference_json",
    "price_json",
    "quantize_money",
    "rate_json",
    "round_half_up",
]
