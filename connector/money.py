"""Money: how amounts are stored, which decimals a currency has, and how amounts are shown.

The one home of these rules (docs/architecture.md, "Money"):

* **Storage.** The mirror and the ledger keep an amount as an integer count of 10⁻⁴ of the
  currency unit (``MONEY_SCALE`` = 4, ``UNITS`` per unit) in a BIGINT, so sums in SQL are
  exact on SQLite too. ``to_units`` and ``from_units`` convert; ``from_units`` also turns an
  SQL ``SUM`` back into an amount.
* **Decimals.** A store's own setting wins; when it is unknown, ``currency_decimals`` answers
  from ISO 4217: 0 for the currencies without minor units (``ZERO_DECIMAL_CURRENCIES``), 2
  otherwise. The rial and the toman are shown without decimals by every WooCommerce shop that
  uses them, so they are in the list too (ISO 4217 gives the rial 2; IRT is WooCommerce's).
* **Showing.** ``format_money`` (people: ``1,234.56 USD``) and ``money_json`` (machines) round
  half up, once, to the currency's decimals; ``money_text`` cuts instead (never rounds up: what
  a coupon or a customer's balance is worth); ``price_json`` shows a unit price with the
  places it has. ``units_text`` shows stored units without leaving integers (the rules' fast
  path for ledger reasons).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

#: Decimal places of the stored unit: amounts are kept as integer counts of 10^-MONEY_SCALE.
MONEY_SCALE = 4
#: Stored units per currency unit.
UNITS = 10**MONEY_SCALE
_FACTOR = Decimal(UNITS)

#: ISO 4217 currencies whose minor unit is 0, and the Iranian rial and toman (see above).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
        "IRR",
        "IRT",
    }
)

#: What is shown where a value is undefined (a rate over zero customers, say).
NONE_SHOWN = "—"

#: An exact number: ``int``, ``Decimal`` or ``Fraction`` (never ``float``).
Number = Decimal | Fraction | int


def currency_decimals(currency: str | None) -> int:
    """The currency's decimals when the store has not told us: 0 for JPY, IRR, IRT…, else 2."""
    return 0 if (currency or "").strip().upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_units(amount: Decimal | str | int) -> int:
    """An amount as integer units of 10⁻⁴; ``ValueError`` when it has more decimals."""
    units = Decimal(amount) * _FACTOR
    if units != units.to_integral_value():
        raise ValueError(f"{amount} has more than {MONEY_SCALE} decimals")
    return int(units)


def from_units(units: int | Decimal) -> Decimal:
    """Turn a stored (or SQL-summed) unit count back into an amount."""
    return Decimal(int(units)) / _FACTOR


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


def money_text(amount: Decimal, decimals: int) -> str:
    """``amount`` with exactly ``decimals`` places, cut (never rounded up): "12.40", "935000".
    What WooCommerce is sent (coupon amounts) and what a customer is told they hold."""
    return format(amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN), "f")


def price_json(price: Decimal, decimals: int) -> str:
    """A unit price (a point's value) for machines: at least the currency's decimals, more
    when the price has them (``"0.01"``, ``"1.00"``, ``"0.005"``; ``"1"`` for toman)."""
    places = max(decimals, -price.normalize().as_tuple().exponent)  # type: ignore[operator]
    return f"{price:.{places}f}"


def units_text(units: int, decimals: int) -> str:
    """Stored units as the store shows money ("32.68", "935000"), cut; integers only (fast)."""
    whole, part = divmod(abs(units), UNITS)
    sign = "-" if units < 0 else ""
    if decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{f'{part:0{MONEY_SCALE}d}'.ljust(decimals, '0')[:decimals]}"


__all__ = [
    "MONEY_SCALE",
    "NONE_SHOWN",
    "UNITS",
    "ZERO_DECIMAL_CURRENCIES",
    "Number",
    "currency_decimals",
    "format_money",
    "from_units",
    "money_json",
    "money_text",
    "price_json",
    "quantize_money",
    "round_half_up",
    "to_units",
    "units_text",
]
