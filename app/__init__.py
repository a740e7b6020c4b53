"""The application layer: the use cases every entry point calls, with the config file and
the store registry beside them.

Entry points (``cli``, ``server``) parse their input, call these, and render the result; the
use cases call ``loyalty`` and ``connector``. What lives here:

* the config file (``Config``, ``StoreConfig``, ``load_config``, ``save_config`` …) and the
  store registry (``Registry``: the stores, their secrets, the database);
* the loyalty program's settings, stored in the database: a store's program in force
  (``program_for``), showing the settings and their history (``settings_view``), changing
  or importing them with a preview of the effect first (``plan_change``, ``plan_import``,
  ``apply_change``);
* syncing a store (``sync_one``) and pushing customers' loyalty states to WooCommerce
  (``push_states``, ``push_store``);
* WooCommerce webhooks: receiving deliveries into the durable inbox (``check_delivery``,
  ``record_delivery``), applying them (``apply_deliveries``), installing them on the store
  and reporting their state (``install_webhooks``, ``webhook_report``);
* the storefront API of the WordPress plugin (``authenticate``, ``program_answer``,
  ``customer_answer``, ``history_answer``, ``reserve_points``, ``issue_coupon``);
* the signatures of both (``app._signing``), pure functions.

See docs/architecture.md for the layers and what each may import.
"""

import app._schema  # noqa: F401  # registers the application's tables on the one metadata
from app._config import (
    APP_NAME,
    ENV_CONFIG,
    ENV_DATABASE_URL,
    SECRET_PURPOSES,
    STORE_NAME_PATTERN,
    Config,
    StoreConfig,
    config_path,
    database_url,
    default_config_path,
    default_database_url,
    load_config,
    save_config,
    shop_address,
    validation_message,
)
from app._push import BATCH_LIMIT, PushResult, push_states
from app._registry import Registry
from app._settings import (
    AppliedChange,
    SettingsChange,
    SettingsView,
    actor_of,
    apply_change,
    ignored_config,
    plan_change,
    plan_import,
    program_for,
    settings_view,
)
from app._signing import (
    canonical_query,
    request_signature,
    request_signature_valid,
    webhook_signature,
    webhook_signature_valid,
)
from app._state import CustomerState, customer_state, instant_text, money_text
from app._storefront import (
    SignedRequest,
    StorefrontRefused,
    authenticate,
    current_redemption,
    customer_answer,
    forget_nonces,
    history_answer,
    history_limit,
    issue_coupon,
    program_answer,
    program_of,
    redemption_answer,
    redemption_request,
    reserve_points,
)
from app._sync import (
    Progress,
    Round,
    StoreRun,
    SyncedThisRound,
    push_enabled,
    push_store,
    start_round,
    sync_one,
)
from app._webhooks import (
    MAX_BODY_BYTES,
    TOPICS,
    ApplyResult,
    Delivery,
    DeliveryRefused,
    Webhook,
    WebhookReport,
    apply_deliveries,
    check_delivery,
    delivery_url,
    delivery_warnings,
    durable_receipts,
    give_up_unknown,
    inbox_counts,
    install_webhooks,
    pending_stores,
    ping_of,
    prune_inbox,
    reactivate_webhooks,
    record_delivery,
    webhook_report,
)
from connector import BazgashtError, ConfigError, LockHeld, StoreError, WooClient

__all__ = [
    "APP_NAME",
    "BATCH_LIMIT",
    "ENV_CONFIG",
    "ENV_DATABASE_URL",
    "MAX_BODY_BYTES",
    "SECRET_PURPOSES",
    "STORE_NAME_PATTERN",
    "TOPICS",
    "AppliedChange",
    "ApplyResult",
    "BazgashtError",
    "Config",
    "ConfigError",
    "CustomerState",
    "Delivery",
    "DeliveryRefused",
    "LockHeld",
    "Progress",
    "PushResult",
    "Registry",
    "Round",
    "SettingsChange",
    "SettingsView",
    "SignedRequest",
    "StoreConfig",
    "StoreError",
    "StoreRun",
    "StorefrontRefused",
    "SyncedThisRound",
    "Webhook",
    "WebhookReport",
    "WooClient",
    "actor_of",
    "apply_change",
    "apply_deliveries",
    "authenticate",
    "canonical_query",
    "check_delivery",
    "config_path",
    "current_redemption",
    "customer_answer",
    "customer_state",
    "database_url",
    "default_config_path",
    "default_database_url",
    "delivery_url",
    "delivery_warnings",
    "durable_receipts",
    "forget_nonces",
    "give_up_unknown",
    "history_answer",
    "history_limit",
    "ignored_config",
    "inbox_counts",
    "install_webhooks",
    "instant_text",
    "issue_coupon",
    "load_config",
    "money_text",
    "pending_stores",
    "ping_of",
    "plan_change",
    "plan_import",
    "program_answer",
    "program_for",
    "program_of",
    "prune_inbox",
    "push_enabled",
    "push_states",
    "push_store",
    "reactivate_webhooks",
    "record_delivery",
    "redemption_answer",
    "redemption_request",
    "request_signature",
    "request_signature_valid",
    "reserve_points",
    "save_config",
    "settings_view",
    "shop_address",
    "start_round",
    "sync_one",
    "validation_message",
    "webhook_report",
    "webhook_signature",
    "webhook_signature_valid",
]
