"""How numbers are shown: rates as percentages, plain numbers, "—" for none (money is
``connector.money``).

Pure functions shared by the terminal tables, the CSV/JSON output and the HTML report. They
take exact values — ``int``, ``Decimal`` or ``Fraction`` (the money metrics are exact
fractions, see ``formulas``) — and this is where they are rounded, once: **half up** (away
from zero) to the places shown (``round_half_up``).
"""

from __future__ import annotations

from fractions import Fraction

from connector.money import NONE_SHOWN, Number, round_half_up


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
    "format_number",
    "format_percent",
    "points_difference_json",
    "rate_json",
    "round_half_up",
]
