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

from typing import TYPE_CHECKING

from connector._db import (
    create_db_engine,
    dialect_insert,
    display_url,
    lock_key,
    open_database,
    sqlite_path,
)
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
from connector._lazy import lazy_exports
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

#: The names imported on first use, by the module that provides them.
_LAZY: dict[str, tuple[str, ...]] = {
    "connector._check": (
        "StoreCheck",
        "StoreFacts",
        "check_store",
    ),
    "connector._client": (
        "Page",
        "StoreCredentials",
        "WooClient",
    ),
    "connector._facts": (
        "StoreRow",
        "remember_facts",
        "store_row",
    ),
    "connector._identity": (
        "archive_store",
        "verify_identity",
    ),
    "connector._lock": (
        "ENV_HOST_NAME",
        "host_name",
        "store_lock",
    ),
    "connector._models": (
        "CORE_ORDER_STATUSES",
        "Coupon",
        "Customer",
        "Order",
        "normalize_email",
    ),
    "connector._sync": (
        "SyncResult",
        "mark_deleted",
        "sync_store",
        "write_records",
    ),
    "connector.coupons": (
        "ALREADY_EXISTS",
        "CAMPAIGN_META_KEY",
        "REDEMPTION_META_KEY",
        "CouponApi",
        "CouponConflict",
        "CouponSpec",
        "ensure_coupon",
        "find_coupon",
        "get_coupon",
    ),
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
    "dialect_insert",
    "display_url",
    "ensure_coupon",
    "find_coupon",
    "format_money",
    "from_units",
    "get_coupon",
    "guests",
    "host_name",
    "lazy_exports",
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


__getattr__ = lazy_exports(__name__, _LAZY)
