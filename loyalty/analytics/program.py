"""Loyalty program figures (SPEC §5) from the append-only ledger, when the store has one.

Members are the identities with at least one ledger entry. Points: *issued* is the net of
``earn``, ``reversal`` and ``manual`` entries, *redeemed* the net of ``redemption`` and
``redemption_release``, *expired* the ``expiry`` entries, *outstanding* the sum of the
positive balances (a negative balance — cashback spent, then the order refunded — owes the
store nothing back, so it does not lower the liability). Entries count when they took effect
before *as of*. The members' and non-members' repeat purchase rates are over the trailing
12 months, among the customers of that window.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, Table, case, func, inspect, literal, select

from loyalty.analytics.formulas import ratio
from loyalty.analytics.queries import CountedOrders, Range

#: Ledger kinds that grant points (reversals undo earnings and count against them).
ISSUE_KINDS = ("earn", "reversal", "manual")
REDEEM_KINDS = ("redemption", "redemption_release")
EXPIRE_KINDS = ("expiry",)


@dataclass(frozen=True)
class LoyaltyFigures:
    members: int
    points_issued: int
    points_redeemed: int
    points_expired: int
    points_outstanding: int
    point_value: Decimal
    liability: Decimal
    redemption_rate: Decimal | None
    member_customers: int  # customers of the trailing 12 months who are members
    member_repeat_rate: Decimal | None
    non_member_customers: int
    non_member_repeat_rate: Decimal | None


def find_ledger(conn: Connection) -> Table | None:
    """The ledger table when the database has it (migration 0002 and later), else ``None``."""
    try:
        from loyalty._schema import loyalty_ledger
    except ImportError:  # pragma: no cover - only before the loyalty package has its schema
        return None
    if not inspect(conn).has_table(loyalty_ledger.name):
        return None
    return loyalty_ledger


def loyalty_figures(
    counted: CountedOrders,
    ledger: Table,
    *,
    point_value: Decimal,
    window: Range,
) -> LoyaltyFigures:
    """The program's figures for the store of ``counted``, as of its *as of*."""
    conn = counted.conn
    entries = (
        ledger.select()
        .where(ledger.c.store_id == counted.store_id, ledger.c.effective_at < counted.as_of)
        .subquery("entries")
    )

    def points_of(kinds: tuple[str, ...]) -> ColumnElement[int]:
        return func.coalesce(
            func.sum(case((entries.c.kind.in_(kinds), entries.c.points), else_=0)), 0
        )

    totals = conn.execute(
        select(
            func.count(func.distinct(entries.c.identity)),
            points_of(ISSUE_KINDS),
            points_of(REDEEM_KINDS),
            points_of(EXPIRE_KINDS),
        )
    ).one()
    balances = (
        select(entries.c.identity, func.sum(entries.c.points).label("balance"))
        .group_by(entries.c.identity)
        .subquery("balances")
    )
    outstanding = int(
        conn.execute(
            select(func.coalesce(func.sum(balances.c.balance), 0)).where(balances.c.balance > 0)
        ).scalar_one()
    )
    members, issued, redeemed, expired = (int(v) for v in totals)
    redeemed, expired = -redeemed, -expired

    t = counted.table
    start, end = window
    # One row per customer of the window: their first order in it, and whether another
    # followed in the window.
    customers = select(t.c.ident, case((t.c.next_x < end, 1), else_=0).label("again")).where(
        t.c.x >= start, t.c.x < end, t.c.prev_x < start
    )
    flag: ColumnElement[int]
    if members:
        in_ledger = t.c.ident.in_(select(entries.c.identity).distinct().scalar_subquery())
        flag = case((in_ledger, literal(1)), else_=literal(0))
    else:  # nobody has points yet: everyone is a non-member, no need to look them up
        flag = literal(0)
    flagged = customers.add_columns(flag.label("member")).subquery("flagged")
    rows = conn.execute(
        select(flagged.c.member, func.count(), func.sum(flagged.c.again)).group_by(flagged.c.member)
    ).all()
    split = {int(m): (int(c), int(r)) for m, c, r in rows}
    member_customers, member_repeat = split.get(1, (0, 0))
    other_customers, other_repeat = split.get(0, (0, 0))
    return LoyaltyFigures(
        members=members,
        points_issued=issued,
        points_redeemed=redeemed,
        points_expired=expired,
        points_outstanding=outstanding,
        point_value=point_value,
        liability=outstanding * point_value,
        redemption_rate=ratio(redeemed, issued) if issued > 0 else None,
        member_customers=member_customers,
        member_repeat_rate=ratio(member_repeat, member_customers),
        non_member_customers=other_customers,
        non_member_repeat_rate=ratio(other_repeat, other_customers),
    )


def figures_if_ledger(
    counted: CountedOrders, *, point_value: Decimal, window: Range
) -> LoyaltyFigures | None:
    """``loyalty_figures`` when the database has a ledger, else ``None``."""
    ledger = find_ledger(counted.conn)
    if ledger is None:
        return None
    return loyalty_figures(counted, ledger, point_value=point_value, window=window)


__all__ = ["LoyaltyFigures", "figures_if_ledger", "find_ledger", "loyalty_figures"]
