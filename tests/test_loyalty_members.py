"""Members of the loyalty program (SPEC §5): identities the current rules credit, whatever the
ledger's history — on SQLite or PostgreSQL (``BAZGASHT_TEST_POSTGRES``)."""

from __future__ import annotations

from sqlalchemy import Engine

from loyalty.analytics import MetricsRequest, compute_metrics
from loyalty.balances import summary
from loyalty.ledger import grant
from loyalty.reconcile import reconcile
from tests._loyalty import Mirror, balances, day


def members(engine: Engine, m: Mirror, now_days: float) -> tuple[int, int]:
    """(members by ``loyalty summary``, members by the analytics' loyalty figures)."""
    program = m.program(day(now_days))
    by_summary = summary(engine, program, day(now_days)).members
    report = compute_metrics(engine, m.store_id, MetricsRequest(as_of=day(now_days)))
    assert report.loyalty is not None
    return by_summary, report.loyalty.members


def test_members_are_who_the_rules_credit_now(engine: Engine) -> None:
    """Four buyers in 2025: account 5 (welcome, cashback), guest a@x (two orders: second
    purchase, cashback), guest b@x (cashback), guest c@x who later opens account 6 (her
    history moves to the account). Then ``starts_at`` moves to 2026 and a reconcile takes
    every rule's points back: only account 7, with a manual grant, is still a member."""
    m = Mirror(engine)
    m.customer(5, "e@x.com", day(0))
    m.order(1, created=day(1), customer=5, total="50.00")
    m.order(2, created=day(2), email="a@x.com")
    m.order(3, created=day(3), email="a@x.com")
    m.order(4, created=day(4), email="b@x.com")
    m.order(5, created=day(5), email="c@x.com", total="30.00")
    m.customer(7, "g@x.com", day(0))
    reconcile(engine, m.program(day(6)), day(6))
    m.customer(6, "c@x.com", day(7))  # the guest registers: her keys move to the account
    reconcile(engine, m.program(day(8)), day(8))
    assert "email:c@x.com" not in balances(engine, m.store_id)
    # customer 5, a@x, b@x, customer 6 (not email:c@x any more, though it has entries), 7
    assert members(engine, m, 9) == (5, 5)

    grant(engine, m.program(day(9)), "customer:7", 50, "thank you", day(9))
    later = {"starts_at": "2026-01-01T00:00:00Z"}
    reconcile(engine, m.program(day(10), **later), day(10))
    assert balances(engine, m.store_id) == {"customer:7": 50}
    program = m.program(day(11), **later)
    assert summary(engine, program, day(11)).members == 1
    report = compute_metrics(engine, m.store_id, MetricsRequest(as_of=day(11)))
    assert report.loyalty is not None and report.loyalty.members == 1
