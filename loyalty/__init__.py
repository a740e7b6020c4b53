"""The loyalty program (SPEC §4) and retention analytics (``loyalty.analytics``) over the mirror.

The program: settings per store (``ProgramSettings``, resolved to a ``Program``), pure rules
(``loyalty.rules``), the append-only ledger (``loyalty.ledger``), reconciliation
(``reconcile``), redemption as WooCommerce coupons (``redeem``), the audit (``verify``) and
the owner's reports (``loyalty.balances``). ``after_sync`` is what every ``sync`` runs at the
end of a store. The ledger is a hash chain per store (``loyalty.chain``): ``verify`` reports
entries changed, deleted or inserted outside Bazgasht as ``Tampering``. See docs/loyalty.md.
"""

from typing import TYPE_CHECKING

from connector import lazy_exports
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

#: The names imported on first use, by the module that provides them.
_LAZY: dict[str, tuple[str, ...]] = {
    "loyalty.balances": (
        "BalanceReport",
        "ExpiringRow",
        "Summary",
        "TopRow",
        "balance_report",
        "expiring",
        "history",
        "resolve_customer",
        "summary",
        "top",
    ),
    "loyalty.chain": ("Tampering",),
    "loyalty.ledger": (
        "Entry",
        "LedgerConflict",
        "grant",
    ),
    "loyalty.program": ("load_program",),
    "loyalty.service": (
        "DemoTour",
        "ProgramRun",
        "after_sync",
        "demo_tour",
        "run_program",
    ),
    "loyalty.settings": (
        "Program",
        "ProgramSettings",
        "parse_settings",
    ),
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


__getattr__ = lazy_exports(__name__, _LAZY)
