"""Pydantic models of the WooCommerce resources Bazgasht reads and writes.

They parse once, at the boundary: money becomes ``Decimal`` (never ``float``), dates become
aware UTC datetimes taken from the ``*_gmt`` fields, e-mails are normalized. A payload that
fails here is quarantined by the sync, not stored half-understood.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

ZERO = Decimal(0)

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

#: Amounts at or beyond this are not believable for one order (10^14 rial is ~ all of Iran's M2).
MAX_AMOUNT = Decimal(10) ** 14
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


def _parse_money(value: Any) -> Decimal:
    """WooCommerce's decimal strings ("162.00", "935000", "5"); integers are fine too."""
    if isinstance(value, bool | float):
        raise ValueError("money must be a decimal string, not a binary float")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL_STRING.match(value.strip()):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex already vouched for it
            raise ValueError(f"not a decimal amount: {value!r}") from exc
        if abs(amount) >= MAX_AMOUNT:
            raise ValueError(f"absurd amount: {value!r}")
        return amount
    raise ValueError(f"not a decimal amount: {value!r}")


def _parse_gmt_any(value: Any) -> datetime | None:
    """A ``*_gmt`` field ("2025-06-13T20:08:53", no offset) as an aware UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed < EARLIEST_DATE or parsed > LATEST_DATE:
        raise ValueError(f"absurd date: {value!r}")
    return parsed


def _parse_gmt(value: Any, info: ValidationInfo) -> datetime | None:
    """A ``*_gmt`` instant that has happened: not later than now (``context["now"]``) + 2 days."""
    parsed = _parse_gmt_any(value)
    now = (info.context or {}).get("now") or datetime.now(UTC)
    if parsed is not None and parsed > now + timedelta(days=2):
        raise ValueError(f"absurd date: {value!r}")
    return parsed


Money = Annotated[Decimal, BeforeValidator(_parse_money)]
UtcDatetime = Annotated[datetime, BeforeValidator(_parse_gmt)]
OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(_parse_gmt)]
#: An instant that may lie in the future (a coupon's expiry): only the sanity bounds apply.
OptionalFutureUtcDatetime = Annotated[datetime | None, BeforeValidator(_parse_gmt_any)]


class _Resource(BaseModel):
    # WooCommerce sends far more than we keep; unknown fields are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Address(_Resource):
    first_name: str = ""
    last_name: str = ""
    email: str | None = ""
    phone: str = ""


class LineItem(_Resource):
    id: int
    product_id: int = 0
    variation_id: int = 0
    name: str = ""
    quantity: int
    subtotal: Money
    # ``price`` is a JSON number in WooCommerce's answer: never read money from it.
    total: Money


class CouponLine(_Resource):
    id: int
    code: str
    discount: Money  # unpadded ("5" where discount_total is "5.00"): exact all the same


class RefundRef(_Resource):
    """A refund as embedded in an order: ``total`` arrives negative."""

    id: int
    reason: str = ""
    total: Money


class Order(_Resource):
    id: int = Field(gt=0)
    number: str = ""
    status: str
    currency: str
    date_created_gmt: UtcDatetime
    date_modified_gmt: UtcDatetime
    date_paid_gmt: OptionalUtcDatetime = None
    date_completed_gmt: OptionalUtcDatetime = None
    total: Money
    total_tax: Money = ZERO
    shipping_total: Money = ZERO
    discount_total: Money = ZERO
    customer_id: int = Field(ge=0)
    billing: Address = Address()
    line_items: list[LineItem] = []
    coupon_lines: list[CouponLine] = []
    refunds: list[RefundRef] = []

    @field_validator("status")
    @classmethod
    def _known_status_shape(cls, value: str) -> str:
        if not _STATUS_SLUG.match(value):
            raise ValueError(f"unknown order status: {value!r}")
        return value

    @field_validator("total")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(f"negative order total: {value}")
        return value

    @property
    def refunded_total(self) -> Decimal:
        """The sum of the refunds, as a positive amount (they arrive negative)."""
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


class Customer(_Resource):
    id: int = Field(gt=0)
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    role: str = "customer"
    username: str = ""
    date_created_gmt: UtcDatetime
    date_modified_gmt: OptionalUtcDatetime = None
    is_paying_customer: bool = False
    billing: Address = Address()

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
    "ZERO",
    "Address",
    "Coupon",
    "CouponLine",
    "Customer",
    "D",
    "LineItem",
    "Order",
    "Refund",
    "RefundRef",
    "normalize_email",
]
