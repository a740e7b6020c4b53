"""How numbers are shown: money in the store's currency, rates as percentages, "—" for none.

Pure functions shared by the terminal tables, the CSV/JSON output and the HTML report.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NONE_SHOWN = "—"


def quantize_money(amount: Decimal, decimals: int) -> Decimal:
    """Round half up to the currency's decimals (0 for rial and toman)."""
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | None, currency: str, decimals: int) -> str:
    """``1,234.56 USD``, ``935,000 IRT``; "—" when undefined."""
    if amount is None:
        return NONE_SHOWN
    number = f"{quantize_money(amount, decimals):,.{decimals}f}"
    return f"{number} {currency}".strip()


def money_json(amount: Decimal | None, decimals: int) -> str | None:
    """A decimal string with the currency's decimals, for machines (``null`` when undefined)."""
    if amount is None:
        return None
    return f"{quantize_money(amount, decimals):.{decimals}f}"


def format_percent(rate: Decimal | None, places: int = 1) -> str:
    """A fraction as a percentage: ``Decimal("0.2345")`` → ``23.5 %``."""
    if rate is None:
        return NONE_SHOWN
    value = (rate * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{value:,.{places}f} %"


def format_number(value: Decimal | int | None, places: int = 2) -> str:
    if value is None:
        return NONE_SHOWN
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def rate_json(rate: Decimal | None, places: int = 6) -> float | None:
    """A rate for JSON: a number (fraction, not percent) rounded to ``places`` decimals."""
    if rate is None:
        return None
    return float(rate.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


__all__ = [
    "NONE_SHOWN",
    "format_money",
    "format_number",
    "format_percent",
    "money_json",
    "quantize_money",
    "rate_json",
]
