"""A store's loyalty program settings (SPEC §4 table): parsed, validated, then resolved.

``ProgramSettings`` is what the shop owner writes in ``[stores.NAME.loyalty]`` of the config
file; every field is optional. ``resolve()`` turns it into a ``Program``: concrete values for
one store, with the defaults that depend on the store (the point value follows the currency's
decimals, ``starts_at`` is the moment the program was created, the welcome, second-purchase
and minimum-redemption points follow the currency — ``currency_defaults``) filled in.

The per-currency point amounts are **recorded when a program is created** (in
``loyalty_programs.defaults``) and a program keeps them: a later change of this table (or of
a store's currency) never changes the points an existing ledger should hold. An owner's
explicit setting always wins. docs/loyalty.md has the table and its reasoning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connector import ConfigError, currency_decimals

#: No sane program credits more than this in one entry (also bounds a typo like 1e12).
MAX_POINTS = 10**12


def default_point_value(decimals: int) -> Decimal:
    """One point is worth the currency's smallest unit: 0.01 (2 decimals), 1 (0 decimals)."""
    return Decimal(1).scaleb(-decimals)


#: The point amounts that follow the currency (SPEC §4: "defaults of comparable value").
CURRENCY_AMOUNTS = ("welcome_points", "second_purchase_points", "min_redeem_points")
#: The SPEC's amounts, for a currency whose point (0.01) is about a US cent.
BASE_AMOUNTS = {"welcome_points": 100, "second_purchase_points": 200, "min_redeem_points": 500}
#: Points of the smallest unit worth about one US cent, for currencies without minor units
#: (mid-2026 rates, rounded to 1-2-5 steps: a default only needs the right order of
#: magnitude). A currency not listed keeps the SPEC's amounts (scale 1).
POINTS_PER_CENT = {
    "IRT": 1_000,  # toman: ≈ 110 000 to the US dollar
    "IRR": 10_000,  # rial: ten to the toman
    "JPY": 2,  # ≈ 150 yen to the dollar
    "KRW": 10,  # ≈ 1 400 won
    "VND": 200,  # ≈ 26 000 dong
    "CLP": 10,  # ≈ 950 pesos
    "ISK": 1,  # ≈ 140 krónur
    "UGX": 50,  # ≈ 3 700 shillings
    "PYG": 100,  # ≈ 7 800 guaraní
    "XAF": 5,  # ≈ 600 CFA francs
    "XOF": 5,
    "XPF": 1,  # ≈ 110 CFP francs
    "KMF": 5,  # ≈ 450 Comorian francs
}


def currency_defaults(currency: str | None, decimals: int | None) -> dict[str, int]:
    """Welcome, second-purchase and minimum-redemption points of comparable value in
    ``currency``: the SPEC's 100 / 200 / 500 (1, 2 and 5 US dollars at a point of 0.01) times
    the points a US cent is worth (``POINTS_PER_CENT``, for a point of 1 — times 10^decimals
    when the store shows decimals anyway, its point being 10^-decimals)."""
    code = (currency or "").upper()
    places = decimals if decimals is not None else currency_decimals(code)
    scale = POINTS_PER_CENT[code] * 10**places if code in POINTS_PER_CENT else 1
    return {name: min(points * scale, MAX_POINTS) for name, points in BASE_AMOUNTS.items()}


def _decimal(value: Any) -> Any:
    """TOML floats (2.5, 0.01) become the Decimal of their shortest repr, never binary noise."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    return value


class ProgramSettings(BaseModel):
    """The ``[stores.NAME.loyalty]`` table; unknown keys are errors (a typo is not ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_at: datetime | None = None
    point_value: Decimal | None = Field(default=None, gt=0, le=Decimal(10) ** 6)
    # The defaults of these two and of min_redeem_points follow the currency when not set
    # (``currency_defaults``, applied by ``resolve``).
    welcome_points: int = Field(default=100, ge=0, le=MAX_POINTS)
    second_purchase_points: int = Field(default=200, ge=0, le=MAX_POINTS)
    cashback_percent: Decimal = Field(default=Decimal(2), ge=0, le=100)
    cashback_from_order: int = Field(default=1, ge=1, le=1000)
    cashback_base: Literal["paid", "items"] = "paid"
    earn_statuses: tuple[str, ...] = ("completed",)
    guests_earn: bool = True
    pending_days: int = Field(default=0, ge=0, le=3650)
    expiry_months: int | None = Field(default=None, ge=1, le=1200)
    inactivity_expiry_months: int | None = Field(default=None, ge=1, le=1200)
    min_redeem_points: int = Field(default=500, ge=1, le=MAX_POINTS)
    coupon_valid_days: int = Field(default=90, ge=1, le=3650)
    #: A reward coupon that expires unused gives its points back (a `redemption_release`).
    refund_expired_coupons: bool = True

    @field_validator("point_value", "cashback_percent", mode="before")
    @classmethod
    def _exact_decimal(cls, value: Any) -> Any:
        return None if value is None else _decimal(value)

    @field_validator("starts_at", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        """A TOML date or date-time, or an ISO string. Naive values are kept naive here and
        read in the store's timezone by ``resolve()``."""
        if value is None or isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time())
        if isinstance(value, str):
            text = value.strip()
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"not a date or date-time: {value!r}") from None
        raise ValueError(f"not a date or date-time: {value!r}")

    @field_validator("earn_statuses", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            raise ValueError('must be a non-empty list of order statuses, e.g. ["completed"]')
        cleaned = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"not an order status: {item!r}")
            status = item.strip().lower()
            cleaned.append(status[3:] if status.startswith("wc-") else status)
        return tuple(sorted(set(cleaned)))


def parse_settings(store: str, raw: dict[str, Any] | None) -> ProgramSettings:
    """Validate a store's loyalty table; a ``ConfigError`` that says what to fix."""
    try:
        return ProgramSettings.model_validate(raw or {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"]) or "loyalty"
            got = error.get("input")
            shown = "" if isinstance(got, dict) else f" (got {got!r})"
            problems.append(f"loyalty.{where}: {error['msg']}{shown}")
        raise ConfigError(
            f"store {store!r}: the loyalty settings in the config file are not valid: "
            + "; ".join(problems)
            + ". See docs/loyalty.md for the settings and their ranges."
        ) from None


@dataclass(frozen=True)
class Program:
    """A store's program with every value concrete: what the rules and services work with."""

    store: str
    store_id: int
    currency: str
    decimals: int
    timezone: str
    starts_at: datetime
    point_value: Decimal
    welcome_points: int
    second_purchase_points: int
    cashback_percent: Decimal
    cashback_from_order: int
    cashback_base: str
    earn_statuses: frozenset[str]
    guests_earn: bool
    pending_days: int
    expiry_months: int | None
    inactivity_expiry_months: int | None
    min_redeem_points: int
    coupon_valid_days: int
    refund_expired_coupons: bool
    #: Where each value came from (``SOURCES``).
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    #: Today's per-currency defaults of the amounts (to show next to kept ones).
    currency_defaults: dict[str, int] = field(default_factory=dict, compare=False)
    #: The version of the stored settings this program was resolved from (``loyalty.stored``;
    #: None: resolved from settings given directly, or not stored yet).
    settings_version: int | None = field(default=None, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pending(self) -> timedelta:
        return timedelta(days=self.pending_days)

    def rules_fingerprint(self) -> str:
        """A digest of everything that changes which points each key should hold; when it
        changes, the next reconciliation recomputes every key, not only what changed."""
        relevant = {
            "starts_at": self.starts_at.isoformat(),
            "point_value": str(self.point_value),
            "welcome_points": self.welcome_points,
            "second_purchase_points": self.second_purchase_points,
            "cashback_percent": str(self.cashback_percent),
            "cashback_from_order": self.cashback_from_order,
            "cashback_base": self.cashback_base,
            "earn_statuses": sorted(self.earn_statuses),
            "guests_earn": self.guests_earn,
            "expiry_months": self.expiry_months,
            "inactivity_expiry_months": self.inactivity_expiry_months,
        }
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:32]

    def amount_of(self, points: int) -> Decimal:
        """The currency value of ``points``, cut (never rounded up) to the store's decimals."""
        exponent = Decimal(1).scaleb(-self.decimals)
        return (Decimal(points) * self.point_value).quantize(exponent, rounding="ROUND_DOWN")

    def source_text(self, name: str) -> str:
        """Where a value comes from, for people: set by the owner, or which default."""
        source = self.sources.get(name, "default")
        if source == "currency default":
            return f"default for {self.currency or 'this currency'}"
        if source == "kept default":
            today = self.currency_defaults.get(name)
            return SOURCES[source] + ("" if today is None else f" (today's: {today:,})")
        return SOURCES.get(source, source)

    def as_table(self) -> list[tuple[str, str, str]]:
        """(setting, value, source) rows for ``loyalty settings``."""

        def show(value: Any) -> str:
            if value is None:
                return "none"
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, frozenset):
                return ", ".join(sorted(value))
            if isinstance(value, datetime):
                return value.astimezone(self.tz).isoformat()
            return str(value)

        names = [
            "starts_at",
            "point_value",
            "welcome_points",
            "second_purchase_points",
            "cashback_percent",
            "cashback_from_order",
            "cashback_base",
            "earn_statuses",
            "guests_earn",
            "pending_days",
            "expiry_months",
            "inactivity_expiry_months",
            "min_redeem_points",
            "coupon_valid_days",
            "refund_expired_coupons",
        ]
        return [(n, show(getattr(self, n)), self.source_text(n)) for n in names]


#: ``Program.sources`` values, and how ``loyalty settings`` shows them.
SOURCES = {
    "config": "set by you",
    "default": "default",
    "currency": "default (currency unit)",
    "currency default": "default for the currency",
    "kept default": "default kept from the start",
    "program start": "default (program start)",
}


def _store_zone(store: str, name: str | None) -> str:
    if not name:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"store {store!r} reports the timezone {name!r}, which this system does not know; "
            "install tzdata or fix the store's timezone setting."
        ) from None
    return name


def resolve(
    settings: ProgramSettings,
    *,
    store: str,
    store_id: int,
    currency: str | None,
    decimals: int | None,
    timezone: str | None,
    program_created_at: datetime,
    recorded_defaults: dict[str, int] | None = None,
) -> Program:
    """Fill in the store-dependent defaults. Naive ``starts_at`` is store-local time.

    ``recorded_defaults``: the per-currency amounts recorded when the program was created
    (they win over today's ``currency_defaults``; the owner's settings win over both)."""
    given = settings.model_fields_set
    sources = {
        name: ("config" if name in given else "default") for name in type(settings).model_fields
    }
    zone = _store_zone(store, timezone)
    places = decimals if decimals is not None else currency_decimals(currency)
    if places < 0 or places > 8:
        raise ConfigError(f"store {store!r} reports {places} currency decimals; expected 0 to 8.")
    if settings.point_value is None:
        point_value = default_point_value(places)
        sources["point_value"] = "currency"
    else:
        point_value = settings.point_value
    today = currency_defaults(currency, places)
    amounts: dict[str, int] = {}
    for name in CURRENCY_AMOUNTS:
        if name in given:
            amounts[name] = getattr(settings, name)
            continue
        amounts[name] = today[name]
        if recorded_defaults is not None and name in recorded_defaults:
            amounts[name] = int(recorded_defaults[name])
        if amounts[name] != today[name]:
            sources[name] = "kept default"
        elif today[name] != BASE_AMOUNTS[name]:
            sources[name] = "currency default"
    if settings.starts_at is None:
        starts_at = program_created_at.astimezone(UTC)
        sources["starts_at"] = "program start"
    elif settings.starts_at.tzinfo is None:
        starts_at = settings.starts_at.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    else:
        starts_at = settings.starts_at.astimezone(UTC)
    return Program(
        store=store,
        store_id=store_id,
        currency=(currency or "").upper(),
        decimals=places,
        timezone=zone,
        starts_at=starts_at,
        point_value=point_value,
        welcome_points=amounts["welcome_points"],
        second_purchase_points=amounts["second_purchase_points"],
        cashback_percent=settings.cashback_percent,
        cashback_from_order=settings.cashback_from_order,
        cashback_base=settings.cashback_base,
        earn_statuses=frozenset(settings.earn_statuses),
        guests_earn=settings.guests_earn,
        pending_days=settings.pending_days,
        expiry_months=settings.expiry_months,
        inactivity_expiry_months=settings.inactivity_expiry_months,
        min_redeem_points=amounts["min_redeem_points"],
        coupon_valid_days=settings.coupon_valid_days,
        refund_expired_coupons=settings.refund_expired_coupons,
        sources=sources,
        currency_defaults=today,
    )


__all__ = [
    "BASE_AMOUNTS",
    "CURRENCY_AMOUNTS",
    "MAX_POINTS",
    "POINTS_PER_CENT",
    "SOURCES",
    "Program",
    "ProgramSettings",
    "currency_defaults",
    "default_point_value",
    "parse_settings",
    "resolve",
]
