"""Talking to WooCommerce and mirroring its data.

Offers the HTTP client (``WooClient``), the resource models, the local mirror schema and
``open_database``, the sync engine (``sync_store``) and the error hierarchy.
"""

from connector._db import display_url, open_database
from connector._errors import (
    AuthError,
    BadRequestError,
    BazgashtError,
    ConfigError,
    IncompleteScan,
    InvalidResponseError,
    LockHeld,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    StoreError,
    StoreIdentityChanged,
    TransientError,
    redact_url,
)
from connector._models import Coupon, Customer, Order, normalize_email

__all__ = [
    "AuthError",
    "BadRequestError",
    "BazgashtError",
    "ConfigError",
    "Coupon",
    "Customer",
    "IncompleteScan",
    "InvalidResponseError",
    "LockHeld",
    "NetworkError",
    "NotFoundError",
    "Order",
    "RateLimitedError",
    "ServerError",
    "StoreError",
    "StoreIdentityChanged",
    "TransientError",
    "display_url",
    "normalize_email",
    "open_database",
    "redact_url",
]
