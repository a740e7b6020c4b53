"""Talking to WooCommerce and mirroring its data.

Offers the HTTP client (``WooClient``), the resource models, the local mirror schema and
``open_database``, the sync engine (``sync_store``; ``write_records`` and ``mark_deleted``
for records that arrive outside a listing, such as webhook deliveries), the per-store lock
(``store_lock``), the store check and its facts, and the error hierarchy.
"""

from connector._check import StoreCheck, StoreFacts, check_store
from connector._client import Page, StoreCredentials, WooClient
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
from connector._facts import remember_facts
from connector._identity import verify_identity
from connector._lock import ENV_HOST_NAME, host_name, store_lock
from connector._models import Coupon, Customer, Order, normalize_email
from connector._sync import SyncResult, mark_deleted, sync_store, write_records

__all__ = [
    "ENV_HOST_NAME",
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
    "Page",
    "RateLimitedError",
    "ServerError",
    "StoreCheck",
    "StoreCredentials",
    "StoreError",
    "StoreFacts",
    "StoreIdentityChanged",
    "SyncResult",
    "TransientError",
    "WooClient",
    "check_store",
    "display_url",
    "host_name",
    "mark_deleted",
    "normalize_email",
    "open_database",
    "redact_url",
    "remember_facts",
    "store_lock",
    "sync_store",
    "verify_identity",
    "write_records",
]
