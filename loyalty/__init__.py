"""The loyalty program (SPEC §4) and retention analytics (``loyalty.analytics``) over the mirror.

The program: settings per store (``ProgramSettings``, resolved to a ``Program``), pure rules
(``loyalty.rules``), the append-only ledger (``loyalty.ledger``), reconciliation
(``reconcile``), redemption as WooCommerce coupons (``redeem``), the audit (``verify``) and
the owner's reports (``loyalty.balances``). ``after_sync`` is what every ``sync`` runs at the
end of a store. The ledger is a hash chain per store (``loyalty.chain``): ``verify`` reports
entries changed, deleted or inserted outside Bazgasht as ``Tampering``. See docs/loyalty.md.
"""

from loyalty._schema import loyalty_ledger, loyalty_redemptions
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
from loyalty.service import DemoTour, ProgramRun, after_sync, demo_tour, run_program
from loyalty.settings import Program, ProgramSettings, parse_settings
from loyalty.verify import Difference, VerifyReport, verify

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
