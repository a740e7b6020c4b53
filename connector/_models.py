"""Pydantic models of the WooCommerce resources Bazgasht reads and writes.

They parse once, at the boundary: money becomes ``Decimal`` (never ``float``), dates become
aware UTC datetimes taken from the ``*_gmt`` fields, e-mails are normalized. A payload that
fails here is quarantined by the sync, not stored half-understood.

The models the sync mirrors (``Order``, ``Customer`` and their parts) are *strict* (an id is
a JSON integer, a name a JSON string: nothing is coerced) and check every stored field against
the limits of both databases (``connector._schema``): integer ranges, text lengths, money with
at most ``MONEY_SCALE`` decimals, and text PostgreSQL can store (no NUL character, no lone
surrogate). So a record that validates can always be written, exactly as the store sent it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connector._schema import (
    BIGINT_MAX,
    COUPON_CODE_LENGTH,
    CURRENCY_LENGTH,
    EMAIL_LENGTH,
    FREE_TEXT_MAX,
    INTEGER_MAX,
    ORDER_NUMBER_LENGTH,
    ROLE_LENGTH,
)
from connector.money import MONEY_SCALE

ZERO = Decimal(0)
_NO_REFUND = -ZERO  # what the sum of no refunds was always given as: Decimal("-0")

#: WooCommerce's own order statuses. Plugins may add more (WordPress allows any post status
#: slug of up to 20 characters); those are accepted as-is and simply not counted by default.
CORE_ORDER_STATUSES = frozenset(
    {
        "pending",
        "processing",
        "on-hold",
        "completed",
        "cancelled",
        "refunded",
        "failed",
        "checkout-draft",
        "trash",
    }
)
_STATUS_SLUG = re.compile(r"^[a-z0-9_-]{1,20}$")
_DECIMAL_STRING = re.compile(r"^-?\d+(\.\d+)?$")
#: What WooCommerce sends (and all the checks below accept as they are): at most 14 digits
#: before the point and 4 after, no blanks. The fast path of ``_parse_money``.
_PLAIN_MONEY = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{1,4})?")

#: Amounts at or beyond this are not believable for one order (10^14 rial is ~ all of Iran's M2).
#: It also keeps every amount, in units of 10^-MONEY_SCALE, far inside a BIGINT.
MAX_AMOUNT = Decimal(10) ** 14
_MONEY_FACTOR = Decimal(10) ** MONEY_SCALE
#: WooCommerce did not exist before this; earlier dates are corruption, not history.
EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=UTC)
#: Expiry dates may lie in the future, but not in another century.
LATEST_DATE = datetime(2200, 1, 1, tzinfo=UTC)


def D(value: str | int | Decimal) -> Decimal:
    """The one constructor of money values: exact, from a string or an integer."""
    return Decimal(value)


def normalize_email(email: str | None) -> str:
    """The identity of an e-mail address: trimmed and lower-cased; '' when there is none."""
    return (email or "").strip().lower()


def _shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut short: error messages end up in logs and the quarantine."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Amounts already read (WooCommerce repeats "0.00", prices, shipping fees…): the same
#: ``Decimal`` without parsing again. Bounded; a ``Decimal`` is immutable, so sharing is safe.
_KNOWN_AMOUNTS: dict[str, Decimal] = {}
_KNOWN_AMOUNTS_LIMIT = 4096


def _parse_money(value: Any) -> Decimal:
    """WooCommerce's decimal strings ("162.00", "935000", "5"); integers are fine too."""
    if type(value) is str:
        known = _KNOWN_AMOUNTS.get(value)
        if known is not None:
            return known
        if _PLAIN_MONEY.fullmatch(value):
            amount = Decimal(value)  # below 10^14, at most 4 decimals: nothing left to check
            if len(_KNOWN_AMOUNTS) < _KNOWN_AMOUNTS_LIMIT:
                _KNOWN_AMOUNTS[value] = amount
            return amount
    if isinstance(value, bool | float):
        raise ValueError("money must be a decimal string, not a binary float")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str) and _DECIMAL_STRING.match(value.strip()):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex already vouched for it
            raise ValueError(f"not a decimal amount: {_shown(value)}") from exc
    else:
        raise ValueError(f"not a decimal amount: {_shown(value)}")
    if abs(amount) >= MAX_AMOUNT:
        raise ValueError(f"absurd amount: {_shown(value)}")
    if amount * _MONEY_FACTOR != (amount * _MONEY_FACTOR).to_integral_value():
        # "1.230000" is fine (it is 1.23); "1.23456" cannot be kept exactly.
        raise ValueError(f"more than {MONEY_SCALE} decimals: {_shown(value)}")
    return amount


def _parse_gmt_any(value: Any) -> datetime | None:
    """A ``*_gmt`` field ("2025-06-13T20:08:53", no offset) as an aware UTC datetime."""
    if type(value) is str and len(value) == 19:
        # WooCommerce's form: parsed as UTC in one step (the same value as the general way
        # below, which an offset already in the text takes: "+00:00" after it is no date).
        try:
            parsed = datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
        else:
            if parsed < EARLIEST_DATE or parsed > LATEST_DATE:
                raise ValueError(f"absurd date: {_shown(value)}")
            return parsed
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {_shown(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a date: {_shown(value)}") from exc
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed < EARLIEST_DATE or parsed > LATEST_DATE:
        raise ValueError(f"absurd date: {_shown(value)}")
    return parsed


_TWO_DAYS = timedelta(days=2)


def _parse_gmt(value: Any, info: ValidationInfo) -> datetime | None:
    """A ``*_gmt`` instant that has happened: not later than now (``context["now"]``) + 2 days."""
    parsed = _parse_gmt_any(value)
    if parsed is not None:
        context = info.context
        now = (context.get("now") if context else None) or datetime.now(UTC)
        if parsed > now + _TWO_DAYS:
            raise ValueError(f"absurd date: {_shown(value)}")
    return parsed


def storable(text: str) -> str:
    """``text`` if both databases can store it exactly; raise ``ValueError`` otherwise."""
    if "\x00" in text:
        raise ValueError("text with a NUL character (PostgreSQL cannot store it)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text with a lone surrogate (not valid Unicode)") from None
    return text


#: What ``storable`` checks, as pydantic's compiled core checks it (no Python call per
#: string): no NUL character. A string with a lone surrogate fails any constrained string
#: of the core (``string_unicode``). ``describe_error`` words both as ``storable`` does.
NO_NUL = r"^[^\x00]*$"
_STORABLE_ERRORS = {
    "string_unicode": "Value error, text with a lone surrogate (not valid Unicode)",
    "string_pattern_mismatch": (
        "Value error, text with a NUL character (PostgreSQL cannot store it)"
    ),
}


def _at_most(limit: int) -> StringConstraints:
    """Storable text of at most ``limit`` characters (checked in pydantic's core)."""
    return StringConstraints(max_length=limit, pattern=NO_NUL)


def describe_error(error: Mapping[str, Any]) -> str:
    """One error of a ``ValidationError`` (``errors()``, with the input) as a reason: the
    core's checks of storable text are worded as ``storable`` words them; the input itself
    is not echoed (only its length)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        text = error.get("input")
        size = len(text) if isinstance(text, str) else "too many"
        return f"Value error, text of {size} characters (at most {ctx.get('max_length')} are kept)"
    if kind == "string_unicode" or (
        kind == "string_pattern_mismatch" and ctx.get("pattern") == NO_NUL
    ):
        return _STORABLE_ERRORS[kind]
    return str(error["msg"])


Money = Annotated[Decimal, BeforeValidator(_parse_money)]
UtcDatetime = Annotated[datetime, BeforeValidator(_parse_gmt)]
OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(_parse_gmt)]
#: An instant that may lie in the future (a coupon's expiry): only the sanity bounds apply.
OptionalFutureUtcDatetime = Annotated[datetime | None, BeforeValidator(_parse_gmt_any)]
#: Text a shopper typed (names, phones, line-item names): TEXT columns, capped.
FreeText = Annotated[str, _at_most(FREE_TEXT_MAX)]
#: Text that is not stored as such (it is normalized first, or only read), but must be sane.
StorableText = Annotated[str, StringConstraints(pattern=NO_NUL)]
#: A positive database id (BIGINT).
Id = Annotated[int, Field(gt=0, le=BIGINT_MAX)]
#: An id where 0 means "none" (a guest's customer id, a deleted product).
OptionalId = Annotated[int, Field(ge=0, le=BIGINT_MAX)]


class _Resource(BaseModel):
    # WooCommerce sends far more than we keep; unknown fields are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Mirrored(_Resource):
    """A resource the sync stores: strict types, nothing coerced (``"12"`` is not an id)."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class Address(_Mirrored):
    first_name: FreeText = ""
    last_name: FreeText = ""
    email: StorableText | None = ""
    phone: FreeText = ""


class LineItem(_Mirrored):
    id: Id
    product_id: OptionalId = 0
    variation_id: OptionalId = 0
    name: FreeText = ""
    #: Negative in a refund's line items (what was taken back).
    quantity: int = Field(ge=-INTEGER_MAX, le=INTEGER_MAX)
    subtotal: Money
    # ``price`` is a JSON number in WooCommerce's answer: never read money from it.
    total: Money


class OrderLineItem(LineItem):
    """A line of an order: what was sold, so never a negative quantity."""

    quantity: int = Field(ge=0, le=INTEGER_MAX)


class CouponLine(_Mirrored):
    id: Id
    code: StorableText
    discount: Money  # unpadded ("5" where discount_total is "5.00"): exact all the same


class RefundRef(_Mirrored):
    """A refund as embedded in an order: ``total`` arrives negative."""

    id: Id
    reason: str = ""
    total: Money

    @field_validator("total")
    @classmethod
    def _negative(cls, value: Decimal) -> Decimal:
        # Taken as it came, a positive refund would *raise* what the order counts for.
        if value > 0:
            raise ValueError(f"an embedded refund's total must be negative, got {value}")
        return value


class Order(_Mirrored):
    id: Id
    number: Annotated[str, _at_most(ORDER_NUMBER_LENGTH)] = ""
    status: str
    currency: Annotated[str, _at_most(CURRENCY_LENGTH)]
    date_created_gmt: UtcDatetime
    date_modified_gmt: UtcDatetime
    date_paid_gmt: OptionalUtcDatetime = None
    date_completed_gmt: OptionalUtcDatetime = None
    total: Money
    total_tax: Money = ZERO
    shipping_total: Money = ZERO
    discount_total: Money = ZERO
    customer_id: OptionalId
    billing: Address = Address()
    line_items: list[OrderLineItem] = []
    coupon_lines: list[CouponLine] = []
    refunds: list[RefundRef] = []

    @field_validator("status")
    @classmethod
    def _known_status_shape(cls, value: str) -> str:
        if not _STATUS_SLUG.match(value):
            raise ValueError(f"unknown order status: {_shown(value)}")
        return value

    @field_validator("total")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(f"negative order total: {value}")
        return value

    @model_validator(mode="after")
    def _fits_the_mirror(self) -> Self:
        """What the sync derives from the order must fit its columns too."""
        if len(self.billing_email) > EMAIL_LENGTH:
            raise ValueError(f"billing e-mail longer than {EMAIL_LENGTH} characters")
        if self.refunded_total >= MAX_AMOUNT:
            raise ValueError(f"absurd refunded total: {self.refunded_total}")
        discounts: dict[str, Decimal] = {}
        for line in self.coupon_lines:
            code = line.code.lower()
            if len(code) > COUPON_CODE_LENGTH:
                raise ValueError(f"coupon code of {len(code)} characters")
            discounts[code] = discounts.get(code, ZERO) + line.discount
            if abs(discounts[code]) >= MAX_AMOUNT:
                raise ValueError(f"absurd discount for coupon {_shown(code)}")
        return self

    @property
    def refunded_total(self) -> Decimal:
        """The sum of the refunds, as a positive amount (they arrive negative)."""
        if not self.refunds:
            return _NO_REFUND
        return -sum((r.total for r in self.refunds), ZERO)

    @property
    def billing_email(self) -> str:
        return normalize_email(self.billing.email)


class Refund(_Resource):
    """A refund as ``/orders/<id>/refunds`` lists it: ``amount`` arrives positive.

    Its ``line_items`` carry negative quantities and totals (what was taken back).
    """

    id: int = Field(gt=0)
    date_created_gmt: UtcDatetime
    amount: Money
    reason: str = ""
    refunded_by: int = 0
    refunded_payment: bool = False
    line_items: list[LineItem] = []

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(f"negative refund amount: {value}")
        return value


class Customer(_Mirrored):
    id: Id
    email: StorableText = ""
    first_name: FreeText = ""
    last_name: FreeText = ""
    role: Annotated[str, _at_most(ROLE_LENGTH)] = "customer"
    username: str = ""
    date_created_gmt: UtcDatetime
    date_modified_gmt: OptionalUtcDatetime = None
    is_paying_customer: bool = False
    billing: Address = Address()

    @model_validator(mode="after")
    def _fits_the_mirror(self) -> Self:
        if len(self.email_normalized) > EMAIL_LENGTH:
            raise ValueError(f"e-mail longer than {EMAIL_LENGTH} characters")
        return self

    @property
    def email_normalized(self) -> str:
        return normalize_email(self.email)


class Coupon(_Resource):
    id: int = Field(gt=0)
    code: str
    amount: Money
    discount_type: str
    date_created_gmt: OptionalUtcDatetime = None
    date_expires_gmt: OptionalFutureUtcDatetime = None
    date_expires: str | None = None
    usage_count: int = 0
    usage_limit: int | None = None
    email_restrictions: list[str] = []
    used_by: list[str] = []  # strings: user ids ("95") or guest e-mails
    meta_data: list[dict[str, Any]] = []

    def meta(self, key: str) -> Any:
        return next((m.get("value") for m in self.meta_data if m.get("key") == key), None)


__all__ = [
    "CORE_ORDER_STATUSES",
    "NO_NUL",
    "ZERO",
    "Address",
    "Coupon",
    "CouponLine",
    "Customer",
    "D",
    "LineItem",
    "Order",
    "OrderLineItem",
    "Refund",
    "RefundRef",
    "describe_error",
    "normalize_email",
    "storable",
]
