"""Coupons on a WooCommerce store, made exactly once.

Rewards reach the shop as coupons: loyalty redemptions and campaign members both. Each coupon
Bazgasht makes has a code chosen (and stored) before it is created, and carries a marker in
its meta data that says what it was made for. ``ensure_coupon`` is the one way to make one:

1. look the code up (``GET coupons?code=``): a coupon an earlier attempt made is found, not
   made again;
2. otherwise create it (``POST coupons``); WooCommerce's ``400
   woocommerce_rest_coupon_code_already_exists`` (an earlier attempt whose answer was lost)
   is looked up the same way;
3. check the marker: a coupon with this code made for something else is a ``CouponConflict``.

Failures are the client's errors (``TransientError``, ``InvalidResponseError`` — try again
later; ``BadRequestError``, ``NotFoundError``, other ``StoreError`` — the store refuses) or
``CouponConflict`` (permanent). The caller records what it decided; this module holds no
state and does no retries of its own beyond the client's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from connector._errors import BadRequestError, BazgashtError, InvalidResponseError, NotFoundError
from connector._models import Coupon

#: The meta key of a loyalty redemption's coupon: ``store:redemption id:code``.
REDEMPTION_META_KEY = "_bazgasht_redemption_id"
#: The meta key of a campaign member's coupon: ``store:campaign id:member id:code``.
CAMPAIGN_META_KEY = "_bazgasht_campaign_member"
#: WooCommerce's error code for a coupon code that is taken.
ALREADY_EXISTS = "woocommerce_rest_coupon_code_already_exists"
_COUPONS = "coupons"


class CouponApi(Protocol):
    """What coupons need of a store client (``connector.WooClient`` provides it)."""

    store: str

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any: ...

    def post(self, path: str, json: Mapping[str, Any]) -> Any: ...


class CouponConflict(BazgashtError):
    """The coupon cannot be made, and retrying will not change that: its code is taken by a
    coupon made for something else, or the store says it exists but does not list it."""


@dataclass(frozen=True)
class CouponSpec:
    """A single-use coupon for one customer's e-mail address.

    ``amount`` is the text WooCommerce is sent (``connector.money_text`` for money, the
    percent for ``percent`` coupons). ``expires`` is store-local and naive: WooCommerce 8.2
    ignores ``date_expires_gmt`` on write (see the fixtures README). ``marker`` is stored
    under ``meta_key`` and says what the coupon was made for."""

    code: str
    discount_type: str  # fixed_cart | percent
    amount: str
    email: str
    expires: datetime
    description: str
    meta_key: str
    marker: str
    minimum_amount: str | None = None

    def payload(self) -> dict[str, Any]:
        """The ``POST coupons`` body."""
        payload: dict[str, Any] = {
            "code": self.code,
            "discount_type": self.discount_type,
            "amount": self.amount,
            "individual_use": False,
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "email_restrictions": [self.email],
            "date_expires": self.expires.isoformat(timespec="seconds"),
            "description": self.description,
            "meta_data": [{"key": self.meta_key, "value": self.marker}],
        }
        if self.minimum_amount is not None:
            payload["minimum_amount"] = self.minimum_amount
        return payload


def find_coupon(client: CouponApi, code: str) -> Coupon | None:
    """The store's coupon with this code, if any (``GET coupons?code=``)."""
    found = client.get(_COUPONS, {"code": code})
    if not isinstance(found, list):
        raise InvalidResponseError(
            "expected a list of coupons", store=client.store, url=_COUPONS, status=200
        )
    for item in found:
        coupon = Coupon.model_validate(item)
        if coupon.code.lower() == code.lower():
            return coupon
    return None


def get_coupon(client: CouponApi, coupon_id: int) -> Coupon | None:
    """The store's coupon with this id; ``None`` when it was deleted."""
    try:
        return Coupon.model_validate(client.get(f"{_COUPONS}/{coupon_id}"))
    except NotFoundError:
        return None


def ensure_coupon(client: CouponApi, spec: CouponSpec) -> Coupon:
    """The coupon ``spec`` describes, found or created: never two for one code (see above)."""
    coupon = find_coupon(client, spec.code)
    if coupon is None:
        try:
            coupon = Coupon.model_validate(client.post(_COUPONS, spec.payload()))
        except BadRequestError as exc:
            if exc.code != ALREADY_EXISTS:
                raise
            # Created by an earlier attempt whose answer we never saw: it is ours.
            coupon = find_coupon(client, spec.code)
            if coupon is None:
                raise CouponConflict(
                    f"the store says coupon {spec.code} exists but does not list it"
                ) from exc
    marker = coupon.meta(spec.meta_key)
    if marker is not None and str(marker) != spec.marker:
        raise CouponConflict(
            f"the store already has a coupon {spec.code} made for something else ({marker!r})"
        )
    return coupon


__all__ = [
    "ALREADY_EXISTS",
    "CAMPAIGN_META_KEY",
    "REDEMPTION_META_KEY",
    "CouponApi",
    "CouponConflict",
    "CouponSpec",
    "ensure_coupon",
    "find_coupon",
    "get_coupon",
]
