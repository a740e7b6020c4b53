"""RFM: every customer scored on Recency, Frequency and Monetary value, and named segments.

As of the report's *as of*, over the store's counted orders: R = whole days since the last
counted order (⌊(as of − last order) / 24 h⌋, times to the second), F = counted orders,
M = revenue (total − refunds). Each is scored 1–5 by quintile, all in SQL (window functions):

    score = 1 + ⌊5 × (rank − 1) / n⌋

where ``rank`` is the SQL ``RANK()`` of the customer from worst to best (oldest last order,
fewest orders, least spent first) and ``n`` the number of customers. Equal values share a
rank and therefore a score — no customer's score depends on the order rows happen to come
in — and the worst value always scores 1. So in a store where most customers ordered once,
every one-order customer has F = 1 and the repeat customers share F = 4–5 (a second order is
already the top of such a store), instead of one-order customers being spread at random over
F = 1–4 as ``NTILE`` would do.

Segments come from the R and F scores (``SEGMENT_GRID``, documented in docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)

from connector import UTCDateTime, customers, from_units, guests, orders
from loyalty._db import joined, normalized, split_sum
from loyalty.analytics.formulas import ratio
from loyalty.analytics.percustomer import customer_groups
from loyalty.analytics.queries import CountedOrders, epoch_seconds

SECONDS_PER_DAY = 86_400

#: (R score, F score) → segment. R = 5 bought most recently, F = 5 most often.
#:
#:        F=1              F=2                 F=3                 F=4         F=5
#:  R=5   New              Potential loyalist  Potential loyalist  Champions   Champions
#:  R=4   Promising        Potential loyalist  Potential loyalist  Loyal       Loyal
#:  R=3   About to sleep   About to sleep      Need attention      Loyal       Loyal
#:  R=2   Hibernating      Hibernating         At risk             At risk     Can't lose
#:  R=1   Lost             Lost                At risk             At risk     Can't lose
_ROWS = {
    5: ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose"),
    1: ("Lost", "Lost", "At risk", "At risk", "Can't lose"),
}
SEGMENT_GRID: dict[tuple[int, int], str] = {
    (r, f): name for r, names in _ROWS.items() for f, name in enumerate(names, start=1)
}
#: The segments, best first, with what to do about each.
SEGMENTS: dict[str, str] = {
    "Champions": "recent and frequent: reward them, ask for reviews",
    "Loyal": "buy regularly: early access, the program's perks",
    "Potential loyalist": "recent, a few orders: a reason for the next one",
    "New": "first order, recently: a welcome series to a second",
    "Promising": "one order, fairly recent: a small nudge to return",
    "Need attention": "average on both: a limited-time offer",
    "About to sleep": "few orders, slipping away: a reminder with a reason",
    "At risk": "ordered often, long ago: a personal win-back offer",
    "Can't lose": "were the best, gone quiet: win them back first",
    "Hibernating": "few orders, long ago: low-cost reminders only",
    "Lost": "one order, long ago: cheapest channels, or let go",
}


def segment_of(r_score: int, f_score: int) -> str:
    """The segment of an (R, F) pair of scores (each 1–5)."""
    return SEGMENT_GRID[(r_score, f_score)]


def quintile_score(rank: int, count: int) -> int:
    """``1 + ⌊5 (rank − 1) / n⌋``: the Python twin of the SQL score (for tests and docs)."""
    return 1 + (5 * (rank - 1)) // count


@dataclass(frozen=True)
class SegmentSize:
    name: str
    customers: int
    revenue: Decimal
    customer_share: Decimal | None
    revenue_share: Decimal | None
    avg_days_since: Decimal | None
    avg_orders: Decimal | None
    advice: str


@dataclass(frozen=True)
class RfmSummary:
    as_of: datetime
    customers: int
    revenue: Decimal
    segments: tuple[SegmentSize, ...]  # every segment, best first, also the empty ones


@dataclass(frozen=True)
class RfmMember:
    """One customer of a segment, as the campaign export writes it."""

    identity: str
    email: str
    first_name: str
    last_name: str
    phone: str
    segment: str
    r_score: int
    f_score: int
    m_score: int
    days_since_last_order: int
    orders: int
    total_spent: Decimal
    last_order_at: datetime
    loyalty_balance: int | None  # None when the store has no loyalty ledger


def scored(counted: CountedOrders) -> Table:
    """``ident, last_x, f, m_hi, m_lo, r_days, r_score, f_score, m_score, segment`` per
    customer; M (revenue units) is ``m_hi × 2³² + m_lo`` with ``0 ≤ m_lo < 2³²`` (exact past
    2⁶³ units, and ordered correctly by ``(m_hi, m_lo)``; see ``loyalty._db.split_sum``).

    Computed once per analysis into a temporary table (summary and export both read it).
    """
    found = counted.derived_table("rfm")
    if found is not None:
        return found

    def columns() -> list[Column[Any]]:
        return [
            Column("ident", counted.ident_type, nullable=False),
            Column("last_x", UTCDateTime, nullable=False),
            Column("f", Integer, nullable=False),
            Column("m_hi", BigInteger, nullable=False),
            Column("m_lo", BigInteger, nullable=False),
            Column("r_days", Integer, nullable=False),
            Column("r_score", Integer, nullable=False),
            Column("f_score", Integer, nullable=False),
            Column("m_score", Integer, nullable=False),
            Column("segment", String(40), nullable=False),
        ]

    per = counted.derived("rfm_per", columns()[:6], _per_customer(counted))
    return counted.derived("rfm", columns(), _scoring(counted, per))


def _per_customer(counted: CountedOrders) -> Select[Any]:
    """``ident, last_x, f, m_hi, m_lo, r_days``: one row per customer."""
    t = counted.table
    as_of_seconds = int(counted.as_of.timestamp())
    m_hi, m_lo = normalized(func.sum(t.c.rev_hi), func.sum(t.c.rev_lo))
    per = (
        select(
            t.c.ident,
            func.max(t.c.x).label("last_x"),
            func.count().label("f"),
            m_hi.label("m_hi"),
            m_lo.label("m_lo"),
        )
        .group_by(t.c.ident)
        .subquery("per")
    )
    r_days = ((literal(as_of_seconds) - epoch_seconds(per.c.last_x)) // SECONDS_PER_DAY).label(
        "r_days"
    )
    return select(*per.c, r_days)


def _scoring(counted: CountedOrders, per: Table) -> Select[Any]:
    """The scores, ``1 + ⌊5 (rank − 1) / n⌋`` with ``rank`` the SQL ``RANK()``.

    ``rank − 1`` is the number of customers with a worse value. R (days) and F (orders)
    take few distinct values, so that number comes from their histograms (a running sum
    over a few hundred values, in a small keyed table) instead of sorting every customer;
    M is ranked directly.
    """
    n = counted.conn.execute(select(func.count()).select_from(per)).scalar_one()

    def score(worse: ColumnElement[Any]) -> ColumnElement[int]:
        return literal(1, Integer) + (literal(5, Integer) * worse) // literal(max(n, 1), Integer)

    def histogram_scores(value: Any, *, best_high: bool, name: str) -> Table:
        hist = select(value.label("v"), func.count().label("k")).group_by(value).subquery()
        order = hist.c.v if best_high else hist.c.v.desc()
        # A running sum (PostgreSQL: numeric) made an integer again, for integer division.
        worse = cast(func.sum(hist.c.k).over(order_by=order), BigInteger) - hist.c.k
        columns = [
            Column("v", Integer, primary_key=True, autoincrement=False),
            Column("score", Integer, nullable=False),
        ]
        return counted.derived(name, columns, select(hist.c.v, score(worse)))

    r = histogram_scores(per.c.r_days, best_high=False, name="rfm_r")
    f = histogram_scores(per.c.f, best_high=True, name="rfm_f")
    m_rank = func.rank().over(order_by=(per.c.m_hi, per.c.m_lo))
    scores = (
        select(
            *per.c,
            r.c.score.label("r_score"),
            f.c.score.label("f_score"),
            score(m_rank - 1).label("m_score"),
        )
        .select_from(per.join(r, r.c.v == per.c.r_days).join(f, f.c.v == per.c.f))
        .subquery("scores")
    )
    segment = case(
        *[
            (and_(scores.c.r_score == r_, scores.c.f_score == f_), literal(name))
            for (r_, f_), name in SEGMENT_GRID.items()
        ]
    )
    return select(*scores.c, segment.label("segment"))


def rfm_summary(counted: CountedOrders) -> RfmSummary:
    """Segment sizes with their share of customers and of revenue.

    A segment is a function of the R and F scores, and those of R's and F's histograms: so
    the summary needs only the customers grouped by (R, F) with their revenue
    (``percustomer.customer_groups``, one grouped pass shared with the cohorts), scored here
    by exactly the rule of ``scored`` (whose per-customer table the export reads)."""
    rf = customer_groups(counted).rf
    n = sum(k for k, _ in rf.values())
    by_r: dict[int, int] = {}
    by_f: dict[int, int] = {}
    for (r, f), (k, _) in rf.items():
        by_r[r] = by_r.get(r, 0) + k
        by_f[f] = by_f.get(f, 0) + k
    r_score = _histogram_scores(by_r, n, best_high=False)
    f_score = _histogram_scores(by_f, n, best_high=True)
    found: dict[str, tuple[int, int, int, int]] = {}
    for (r, f), (k, units) in rf.items():
        name = segment_of(r_score[r], f_score[f])
        seen = found.get(name, (0, 0, 0, 0))
        found[name] = (seen[0] + k, seen[1] + units, seen[2] + r * k, seen[3] + f * k)
    total_customers = sum(n for n, _, _, _ in found.values())
    total_units = sum(m for _, m, _, _ in found.values())
    segments = []
    for name, advice in SEGMENTS.items():
        n, units, days, f = found.get(name, (0, 0, 0, 0))
        segments.append(
            SegmentSize(
                name=name,
                customers=n,
                revenue=from_units(units),
                customer_share=ratio(n, total_customers),
                revenue_share=ratio(units, total_units),
                avg_days_since=ratio(days, n),
                avg_orders=ratio(f, n),
                advice=advice,
            )
        )
    return RfmSummary(counted.as_of, total_customers, from_units(total_units), tuple(segments))


def _histogram_scores(histogram: dict[int, int], n: int, *, best_high: bool) -> dict[int, int]:
    """value → ``1 + ⌊5 × worse / n⌋``, ``worse`` the customers with a worse value (the
    ``RANK() − 1`` of ``scored``)."""
    scores = {}
    worse = 0
    for value in sorted(histogram, reverse=not best_high):
        scores[value] = 1 + (5 * worse) // max(n, 1)
        worse += histogram[value]
    return scores


def rfm_members(counted: CountedOrders, segment: str, *, balances: bool = True) -> list[RfmMember]:
    """The customers of one segment, best customers (most spent) first, with contact details."""
    if segment not in SEGMENTS:
        raise KeyError(segment)
    s = scored(counted)
    rows = counted.conn.execute(
        select(
            s.c.ident,
            s.c.last_x,
            s.c.f,
            s.c.m_hi,
            s.c.m_lo,
            s.c.r_days,
            s.c.r_score,
            s.c.f_score,
            s.c.m_score,
        )
        .where(s.c.segment == segment)
        .order_by(s.c.m_hi.desc(), s.c.m_lo.desc(), s.c.ident)
    ).all()
    idents = [row.ident for row in rows]
    contacts = _contacts(counted, idents)
    loyalty = _balances(counted, idents) if balances else None
    members = []
    for row in rows:
        email, first, last, phone = contacts.get(row.ident, ("", "", "", ""))
        members.append(
            RfmMember(
                identity=row.ident,
                email=email,
                first_name=first,
                last_name=last,
                phone=phone,
                segment=segment,
                r_score=int(row.r_score),
                f_score=int(row.f_score),
                m_score=int(row.m_score),
                days_since_last_order=int(row.r_days),
                orders=int(row.f),
                total_spent=from_units(joined(row.m_hi, row.m_lo)),
                last_order_at=row.last_x,
                loyalty_balance=None if loyalty is None else loyalty.get(row.ident, 0),
            )
        )
    return members


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


Contact = tuple[str, str, str, str]


def _contacts(counted: CountedOrders, idents: Sequence[str]) -> dict[str, Contact]:
    """identity → (email, first name, last name, phone) from the account, guest or order."""
    conn, store_id = counted.conn, counted.store_id
    by_kind: dict[str, list[str]] = {"customer": [], "email": [], "order": []}
    for ident in idents:
        kind, _, key = ident.partition(":")
        by_kind.setdefault(kind, []).append(key)
    found: dict[str, Contact] = {}
    for chunk in _chunks(by_kind["customer"]):
        accounts = conn.execute(
            select(
                customers.c.wc_id,
                customers.c.email,
                customers.c.first_name,
                customers.c.last_name,
                customers.c.phone,
            ).where(
                customers.c.store_id == store_id,
                customers.c.wc_id.in_([int(k) for k in chunk]),
            )
        )
        for account in accounts:
            found[f"customer:{account.wc_id}"] = (
                account.email,
                account.first_name,
                account.last_name,
                account.phone,
            )
    for chunk in _chunks(by_kind["email"]):
        for guest in conn.execute(
            select(guests.c.email, guests.c.first_name, guests.c.last_name, guests.c.phone).where(
                guests.c.store_id == store_id, guests.c.email.in_(list(chunk))
            )
        ):
            found[f"email:{guest.email}"] = (
                guest.email,
                guest.first_name,
                guest.last_name,
                guest.phone,
            )
    for chunk in _chunks(by_kind["order"]):
        for row in conn.execute(
            select(
                orders.c.wc_id,
                orders.c.billing_first_name,
                orders.c.billing_last_name,
                orders.c.billing_phone,
            ).where(orders.c.store_id == store_id, orders.c.wc_id.in_([int(k) for k in chunk]))
        ):
            found[f"order:{row.wc_id}"] = (
                "",
                row.billing_first_name,
                row.billing_last_name,
                row.billing_phone,
            )
    # A guest without a row in `guests` (never synced that way) still has an e-mail.
    for key in by_kind["email"]:
        found.setdefault(f"email:{key}", (key, "", "", ""))
    return found


def _balances(counted: CountedOrders, idents: Sequence[str]) -> dict[str, int] | None:
    """identity → loyalty points balance, or ``None`` when the store has no ledger."""
    from loyalty.analytics.program_figures import find_ledger

    ledger = find_ledger(counted.conn)
    if ledger is None:
        return None
    found: dict[str, int] = {}
    for chunk in _chunks(idents):
        for ident, hi, lo in counted.conn.execute(
            select(ledger.c.identity, *split_sum(ledger.c.points, "points"))
            .where(
                ledger.c.store_id == counted.store_id,
                ledger.c.identity.in_(list(chunk)),
                ledger.c.effective_at < counted.as_of,
            )
            .group_by(ledger.c.identity)
        ):
            found[ident] = joined(hi, lo)
    return found


__all__ = [
    "SEGMENTS",
    "SEGMENT_GRID",
    "RfmMember",
    "RfmSummary",
    "SegmentSize",
    "quintile_score",
    "rfm_members",
    "rfm_summary",
    "scored",
    "segment_of",
]
