"""Loyalty program figures (SPEC §5) from the append-only ledger, when the store has one.

Members are the identities the program's current rules credit: a welcome, second-purchase or
cashback key holding positive points, or a manual grant or a redemption
(``loyalty.ledger.member_identities``) — not merely an entry in the ledger's history, so an
identity whose every credit a settings change took back is not a member. Points: *issued* is
the net of ``earn``, ``reversal`` and ``manual`` entries, *redeemed* the net of ``redemption`` and
``redemption_release``, *expired* the ``expiry`` entries, *outstanding* the sum of the
positive balances (a negative balance — cashback spent, then the order refunded — owes the
store nothing back, so it does not lower the liability). Entries count when they took effect
before *as of*. The members' and non-members' repeat purchase rates are over the trailing
12 months, among the customers of that window. Sums are exact (``loyalty._db.split_sum``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, case, func, inspect, literal, select

from loyalty._db import joined, split_sum
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
    window_customers: tuple[int, int] | None = None,
) -> LoyaltyFigures:
    """The program's figures for the store of ``counted``, as of its *as of*.

    ``window_customers``: the (customers, repeat customers) of ``window`` when the caller
    has them — with no members, the non-members are exactly those, no need to count again.
    """
    from loyalty.ledger import member_identities

    conn = counted.conn
    entries = (
        ledger.select()
        .where(ledger.c.store_id == counted.store_id, ledger.c.effective_at < counted.as_of)
        .subquery("entries")
    )

    def points_of(kinds: tuple[str, ...], name: str) -> tuple[ColumnElement[int], ...]:
        return split_sum(case((entries.c.kind.in_(kinds), entries.c.points), else_=0), name)

    totals = conn.execute(
        select(
            *points_of(ISSUE_KINDS, "issued"),
            *points_of(REDEEM_KINDS, "redeemed"),
            *points_of(EXPIRE_KINDS, "expired"),
        )
    ).one()
    issued = joined(totals[0], totals[1])
    redeemed = -joined(totals[2], totals[3])
    expired = -joined(totals[4], totals[5])
    balances = (
        select(entries.c.identity, func.sum(entries.c.points).label("balance"))
        .group_by(entries.c.identity)
        .subquery("balances")
    )
    outstanding = joined(
        *conn.execute(
            select(*split_sum(balances.c.balance, "balance")).where(balances.c.balance > 0)
        ).one()
    )
    member_query = member_identities(
        counted.store_id, before=counted.as_of, ledger=ledger
    ).subquery("members")
    members = int(conn.execute(select(func.count()).select_from(member_query)).scalar_one())

    split: dict[int, tuple[int, int]]
    if not members and window_customers is not None:
        split = {0: window_customers}
    else:
        split = _member_split(counted, member_query if members else None, window)
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


def _member_split(
    counted: CountedOrders, member_query: Any, window: Range
) -> dict[int, tuple[int, int]]:
    """member (1) / non-member (0) → (customers of ``window``, those who ordered again)."""
    t = counted.table
    start, end = window
    # One row per customer of the window: their first order in it, and whether another
    # followed in the window.
    customers = select(t.c.ident, case((t.c.next_x < end, 1), else_=0).label("again")).where(
        t.c.x >= start, t.c.x < end, t.c.prev_x < start
    )
    flag: ColumnElement[int]
    if member_query is not None:
        is_member = t.c.ident.in_(select(member_query.c.identity).scalar_subquery())
        flag = case((is_member, literal(1)), else_=literal(0))
    else:  # nobody has points yet: everyone is a non-member, no need to look them up
        flag = literal(0)
    flagged = customers.add_columns(flag.label("member")).subquery("flagged")
    rows = counted.conn.execute(
        select(flagged.c.member, func.count(), func.sum(flagged.c.again)).group_by(flagged.c.member)
    ).all()
    return {int(m): (int(c), int(r)) for m, c, r in rows}


def figures_if_ledger(
    counted: CountedOrders,
    *,
    point_value: Decimal,
    window: Range,
    window_customers: tuple[int, int] | None = None,
) -> LoyaltyFigures | None:
    """``loyalty_figures`` when the database has a ledger, else ``None``."""
    ledger = find_ledger(counted.conn)
    if ledger is None:
        return None
    return loyalty_figures(
        counted,
        ledger,
        point_value=point_value,
        window=window,
        window_customers=window_customers,
    )


__all__ = ["LoyaltyFigures", "figures_if_ledger", "find_ledger", "loyalty_figures"]
