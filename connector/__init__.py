"""Talking to WooCommerce and mirroring its data.

Offers the HTTP client (``WooClient``), the resource models, the local mirror schema (its
tables, the shared ``metadata``, the ``Money`` and ``UTCDateTime`` column types) and
``open_database``, the sync engine (``sync_store``; ``write_records`` and ``mark_deleted``
for records that arrive outside a listing, such as webhook deliveries), the per-store lock
(``store_lock``), the store check and its facts (``remember_facts`` writes them on the
store's row, ``store_row`` reads it back), the error hierarchy; money
(``connector.money``: the stored scale, conversions, currency decimals, formatting); and
coupons made exactly once (``connector.coupons``: ``ensure_coupon``).
"""

import importlib
from typing import TYPE_CHECKING, Any

from connector._db import create_db_engine, display_url, lock_key, open_database, sqlite_path
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
from connector._schema import (
    Money,
    UTCDateTime,
    customers,
    guests,
    metadata,
    order_coupons,
    order_line_items,
    orders,
    quarantine,
    stores,
    sync_checkpoints,
    sync_cursors,
    sync_runs,
)
from connector.money import (
    MONEY_SCALE,
    ZERO_DECIMAL_CURRENCIES,
    currency_decimals,
    format_money,
    from_units,
    money_json,
    money_text,
    price_json,
    to_units,
)

if TYPE_CHECKING:
    from connector._check import StoreCheck, StoreFacts, check_store
    from connector._client import Page, StoreCredentials, WooClient
    from connector._facts import StoreRow, remember_facts, store_row
    from connector._identity import archive_store, verify_identity
    from connector._lock import ENV_HOST_NAME, host_name, store_lock
    from connector._models import CORE_ORDER_STATUSES, Coupon, Customer, Order, normalize_email
    from connector._sync import SyncResult, mark_deleted, sync_store, write_records
    from connector.coupons import (
        ALREADY_EXISTS,
        CAMPAIGN_META_KEY,
        REDEMPTION_META_KEY,
        CouponApi,
        CouponConflict,
        CouponSpec,
        ensure_coupon,
        find_coupon,
        get_coupon,
    )

_LAZY = {
    "StoreCheck": "connector._check",
    "StoreFacts": "connector._check",
    "check_store": "connector._check",
    "Page": "connector._client",
    "StoreCredentials": "connector._client",
    "WooClient": "connector._client",
    "StoreRow": "connector._facts",
    "remember_facts": "connector._facts",
    "store_row": "connector._facts",
    "archive_store": "connector._identity",
    "verify_identity": "connector._identity",
    "ENV_HOST_NAME": "connector._lock",
    "host_name": "connector._lock",
    "store_lock": "connector._lock",
    "CORE_ORDER_STATUSES": "connector._models",
    "Coupon": "connector._models",
    "Customer": "connector._models",
    "Order": "connector._models",
    "normalize_email": "connector._models",
    "SyncResult": "connector._sync",
    "mark_deleted": "connector._sync",
    "sync_store": "connector._sync",
    "write_records": "connector._sync",
    "ALREADY_EXISTS": "connector.coupons",
    "CAMPAIGN_META_KEY": "connector.coupons",
    "REDEMPTION_META_KEY": "connector.coupons",
    "CouponApi": "connector.coupons",
    "CouponConflict": "connector.coupons",
    "CouponSpec": "connector.coupons",
    "ensure_coupon": "connector.coupons",
    "find_coupon": "connector.coupons",
    "get_coupon": "connector.coupons",
}

__all__ = [
    "ALREADY_EXISTS",
    "CAMPAIGN_META_KEY",
    "CORE_ORDER_STATUSES",
    "ENV_HOST_NAME",
    "MONEY_SCALE",
    "REDEMPTION_META_KEY",
    "ZERO_DECIMAL_CURRENCIES",
    "AuthError",
    "BadRequestError",
    "BazgashtError",
    "ConfigError",
    "Coupon",
    "CouponApi",
    "CouponConflict",
    "CouponSpec",
    "Customer",
    "IncompleteScan",
    "InvalidResponseError",
    "LockHeld",
    "Money",
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
    "StoreRow",
    "SyncResult",
    "TransientError",
    "UTCDateTime",
    "WooClient",
    "archive_store",
    "check_store",
    "create_db_engine",
    "currency_decimals",
    "customers",
    "display_url",
    "ensure_coupon",
    "find_coupon",
    "format_money",
    "from_units",
    "get_coupon",
    "guests",
    "host_name",
    "lock_key",
    "mark_deleted",
    "metadata",
    "money_json",
    "money_text",
    "normalize_email",
    "open_database",
    "order_coupons",
    "order_line_items",
    "orders",
    "price_json",
    "quarantine",
    "redact_url",
    "remember_facts",
    "sqlite_path",
    "store_lock",
    "store_row",
    "stores",
    "sync_checkpoints",
    "sync_cursors",
    "sync_runs",
    "sync_store",
    "to_units",
    "verify_identity",
    "write_records",
]


def __getattr__(name: str) -> Any:
    """The names of the modules not every command needs, imported on first use (PEP 562): a
    command's start-up pays only for what it uses (``bazgasht metrics`` needs no HTTP
    client)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
