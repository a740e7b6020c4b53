"""The loyalty program (SPEC §4) and retention analytics (``loyalty.analytics``) over the mirror.

The program: settings per store (``ProgramSettings``, resolved to a ``Program``), pure rules
(``loyalty.rules``), the append-only ledger (``loyalty.ledger``), reconciliation
(``reconcile``), redemption as WooCommerce coupons (``redeem``), the audit (``verify``) and
the owner's reports (``loyalty.balances``). ``after_sync`` is what every ``sync`` runs at the
end of a store. The ledger is a hash chain per store (``loyalty.chain``): ``verify`` reports
entries changed, deleted or inserted outside Bazgasht as ``Tampering``. See docs/loyalty.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

from loyalty._schema import loyalty_ledger, loyalty_redemptions

# Imported at once: each module has a function of its own name, which importing the module
# later would hide behind the module (``loyalty.reconcile`` must stay the function).
from loyalty.reconcile import ReconcileResult, reconcile
from loyalty.redeem import (
    Availability,
    CouponCheck,
    RedeemError,
    Redemption,
    check_coupons,
    finish_pending,
    redeem,
)
from loyalty.verify import Difference, VerifyReport, verify

if TYPE_CHECKING:
    from loyalty.balances import (
        BalanceReport,
        ExpiringRow,
        Summary,
        TopRow,
        balance_report,
        expiring,
        history,
        resolve_customer,
        summary,
        top,
    )
    from loyalty.chain import Tampering
    from loyalty.ledger import Entry, LedgerConflict, grant
    from loyalty.program import load_program
    from loyalty.service import DemoTour, ProgramRun, after_sync, demo_tour, run_program
    from loyalty.settings import Program, ProgramSettings, parse_settings

_LAZY = {
    "BalanceReport": "loyalty.balances",
    "ExpiringRow": "loyalty.balances",
    "Summary": "loyalty.balances",
    "TopRow": "loyalty.balances",
    "balance_report": "loyalty.balances",
    "expiring": "loyalty.balances",
    "history": "loyalty.balances",
    "resolve_customer": "loyalty.balances",
    "summary": "loyalty.balances",
    "top": "loyalty.balances",
    "Tampering": "loyalty.chain",
    "Entry": "loyalty.ledger",
    "LedgerConflict": "loyalty.ledger",
    "grant": "loyalty.ledger",
    "load_program": "loyalty.program",
    "DemoTour": "loyalty.service",
    "ProgramRun": "loyalty.service",
    "after_sync": "loyalty.service",
    "demo_tour": "loyalty.service",
    "run_program": "loyalty.service",
    "Program": "loyalty.settings",
    "ProgramSettings": "loyalty.settings",
    "parse_settings": "loyalty.settings",
}

__all__ = [
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
