"""Imports point one way (SPEC §2, docs/architecture.md): the entry points (cli, server) →
app → loyalty → connector; samplestore stands apart. A package reaches another only through
its public names — never a private (``_x``) module — and each package's exported names are
pinned here, so a change to an interface is a deliberate one."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "connector": {"loyalty", "app", "server", "cli", "samplestore"},
    "loyalty": {"app", "server", "cli", "samplestore"},
    "app": {"server", "cli", "samplestore"},
    "server": {"cli", "loyalty", "connector", "samplestore"},
    # The sample store is a WooCommerce of its own: it shares no code with the product.
    "samplestore": {"connector", "loyalty", "app", "server", "cli"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert offenders == {}


PACKAGES = ("connector", "loyalty", "app", "server", "cli", "samplestore", "migrations")


def foreign_private_imports(path: Path, package: str) -> set[str]:
    """Private modules (``x._y``, ``from x import _y``) of packages other than ``package``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            foreign = parts[0] in PACKAGES and parts[0] != package
            if foreign and any(part.startswith("_") for part in parts[1:]):
                found.add(name)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_imports_another_packages_private_modules(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(foreign_private_imports(path, package))
        for path in (ROOT / package).rglob("*.py")
        if foreign_private_imports(path, package)
    }
    assert offenders == {}


# What each package offers (its ``__init__``'s ``__all__``). ``cli`` is an entry point: its
# interface is the command line (docs/cli.md), pinned by tests/test_cli_grammar.py.
EXPORTS = {
    "connector": [
        "ALREADY_EXISTS",
        "AuthError",
        "BadRequestError",
        "BazgashtError",
        "CAMPAIGN_META_KEY",
        "CORE_ORDER_STATUSES",
        "ConfigError",
        "Coupon",
        "CouponApi",
        "CouponConflict",
        "CouponSpec",
        "Customer",
        "ENV_HOST_NAME",
        "IncompleteScan",
        "InvalidResponseError",
        "LockHeld",
        "MONEY_SCALE",
        "Money",
        "NetworkError",
        "NotFoundError",
        "Order",
        "Page",
        "REDEMPTION_META_KEY",
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
        "ZERO_DECIMAL_CURRENCIES",
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
    ],
    "loyalty": [
        "Availability",
        "BalanceReport",
        "CouponCheck",
        "DemoTour",
        "Difference",
        "Entry",
        "ExpiringRow",
        "LedgerConflict",
        "Program",
        "ProgramRun",
        "ProgramSettings",
        "ReconcileResult",
        "RedeemError",
        "Redemption",
        "Summary",
        "Tampering",
        "TopRow",
        "VerifyReport",
        "after_sync",
        "balance_report",
        "check_coupons",
        "demo_tour",
        "expiring",
        "finish_pending",
        "grant",
        "history",
        "load_program",
        "loyalty_ledger",
        "loyalty_redemptions",
        "parse_settings",
        "reconcile",
        "redeem",
        "resolve_customer",
        "run_program",
        "summary",
        "top",
        "verify",
    ],
    "loyalty.analytics": [
        "ACTIVE_DAYS",
        "Analysis",
        "BudgetAdvice",
        "Calendar",
        "Cohort",
        "CohortTable",
        "DEFAULT_STATUSES",
        "LoyaltyFigures",
        "MetricsReport",
        "MetricsRequest",
        "Period",
        "PeriodCounts",
        "PeriodKind",
        "PeriodMetrics",
        "PeriodResult",
        "RfmMember",
        "RfmSummary",
        "SEGMENTS",
        "SEGMENT_GRID",
        "StoreInfo",
        "advise",
        "cohort_table",
        "cohorts_json",
        "compute_metrics",
        "headline_rows",
        "metrics_report",
        "open_analysis",
        "plan_periods",
        "report_html",
        "report_json",
        "rfm_json",
        "rfm_members",
        "rfm_summary",
        "write_report",
    ],
    "loyalty.campaigns": [
        "Audience",
        "Campaign",
        "CampaignError",
        "CampaignResults",
        "CampaignSpec",
        "ExportRow",
        "Member",
        "Preview",
        "RunResult",
        "TEMPLATES",
        "campaign_results",
        "create_campaign",
        "export_rows",
        "get_campaign",
        "list_campaigns",
        "members",
        "parse_audience",
        "preview",
        "run_campaign",
        "select_audience",
        "set_status",
    ],
    "app": [
        "APP_NAME",
        "AnalysisTarget",
        "AppliedChange",
        "ApplyResult",
        "BATCH_LIMIT",
        "BadOption",
        "BazgashtError",
        "Config",
        "ConfigError",
        "CustomerState",
        "DEMO_LOYALTY",
        "DEMO_STORE",
        "Delivery",
        "DeliveryRefused",
        "DemoCampaign",
        "ENV_CONFIG",
        "ENV_DATABASE_URL",
        "Granted",
        "LockHeld",
        "MAX_BODY_BYTES",
        "MirrorOverview",
        "Progress",
        "PushResult",
        "RESERVED_NAMES",
        "Redeemed",
        "Registry",
        "Repointed",
        "Round",
        "SECRET_PURPOSES",
        "STORE_NAME_PATTERN",
        "SettingsChange",
        "SettingsView",
        "SignedRequest",
        "StoreConfig",
        "StoreError",
        "StoreOutcome",
        "StoreRun",
        "StorefrontRefused",
        "SyncedThisRound",
        "TOPICS",
        "Webhook",
        "WebhookReport",
        "WooClient",
        "actor_of",
        "add_store",
        "analysis_target",
        "apply_change",
        "apply_deliveries",
        "audience_program",
        "authenticate",
        "campaign_export",
        "campaign_report",
        "canonical_query",
        "check_and_remember",
        "check_delivery",
        "check_store_now",
        "checked_key",
        "checked_secret",
        "checked_secret_env",
        "config_path",
        "create_and_run",
        "current_redemption",
        "customer_answer",
        "customer_balance",
        "customer_history",
        "customer_identity",
        "customer_state",
        "database_url",
        "default_config_path",
        "default_database_url",
        "delivery_url",
        "delivery_warnings",
        "demo_campaign_preview",
        "demo_database_url",
        "demo_report",
        "durable_receipts",
        "expiring_points",
        "forget_nonces",
        "give_up_unknown",
        "grant_points",
        "history_answer",
        "history_limit",
        "ignored_config",
        "inbox_counts",
        "install_webhooks",
        "instant_text",
        "issue_coupon",
        "load_config",
        "loyalty_tour",
        "mirror_overview",
        "money_text",
        "new_store_address",
        "open_inbox",
        "orders_before_program",
        "pending_stores",
        "ping_of",
        "plan_change",
        "plan_import",
        "preview_campaign",
        "program_answer",
        "program_for",
        "program_of",
        "program_summary",
        "prune_inbox",
        "push_enabled",
        "push_states",
        "push_store",
        "reactivate_webhooks",
        "reconcile_store",
        "record_delivery",
        "redeem_points",
        "redemption_answer",
        "redemption_request",
        "remove_store",
        "repoint_store",
        "request_signature",
        "request_signature_valid",
        "reserve_points",
        "round_exit_code",
        "run_again",
        "save_config",
        "set_campaign_status",
        "settings_view",
        "shop_address",
        "start_round",
        "store_campaigns",
        "store_cohorts",
        "store_facts",
        "store_metrics",
        "store_program",
        "store_redemptions",
        "store_ref",
        "store_report_html",
        "store_rfm",
        "store_rows",
        "sync_one",
        "sync_status",
        "sync_stores",
        "top_balances",
        "validation_message",
        "verify_store",
        "webhook_report",
        "webhook_signature",
        "webhook_signature_valid",
        "write_demo_config",
    ],
    "server": [
        "ISSUE_WAIT_SECONDS",
        "InboxWorker",
        "MAX_STOREFRONT_BODY",
        "Server",
        "app_from_environment",
        "create_app",
        "serve",
    ],
    "samplestore": [
        "CustomerView",
        "DeliveryLog",
        "Fault",
        "OrderView",
        "RefundView",
        "SampleStore",
        "StoreData",
        "generate_store",
        "serve_forever",
    ],
}


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_each_package_exports_exactly_its_pinned_names(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert sorted(exported) == EXPORTS[package]
    assert len(set(exported)) == len(exported)
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("package", ["app", "connector", "loyalty"])
def test_the_lazy_names_are_the_names_mypy_sees(package: str) -> None:
    """A lazy package names each lazily imported name twice: in ``_LAZY`` (what runs) and
    under ``TYPE_CHECKING`` (what mypy checks). Both say the same, module for module."""
    source = Path(importlib.import_module(package).__file__ or "").read_text("utf-8")
    checked: dict[str, set[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                checked.setdefault(imp.module, set()).update(a.name for a in imp.names)
    lazy = importlib.import_module(package)._LAZY
    assert {module: set(names) for module, names in lazy.items()} == checked
