"""Cohorts (SPEC §5): customers grouped by the month of their first counted order.

Cell (cohort, k) is the share of the cohort with a counted order in month cohort + k; month 0
is 100 % by construction (everyone ordered in their first month). Months follow the store's
timezone and the chosen calendar; the last month is the one containing *as of*, counted to
date. One SQL ``GROUP BY`` over (first month, month) pairs does the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, func, select

from connector import UTCDateTime
from loyalty.analytics import periods as P
from loyalty.analytics.formulas import ratio
from loyalty.analytics.periods import Calendar, PeriodKind
from loyalty.analytics.queries import NEVER_BEFORE, CountedOrders, full_scan, rows_table


@dataclass(frozen=True)
class Cohort:
    key: str  # 2024-03 / 1403-01
    label: str  # March 2024 / Farvardin 1403
    size: int  # customers whose first counted order ever is in this month
    #: Share of the cohort ordering in month 0, 1, 2, … up to the month of *as of*.
    retention: tuple[Decimal | None, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class CohortTable:
    calendar: Calendar
    cohorts: tuple[Cohort, ...]  # oldest first

    @property
    def width(self) -> int:
        return max((len(c.retention) for c in self.cohorts), default=0)


def cohort_table(
    counted: CountedOrders, zone: ZoneInfo, calendar: Calendar, months: int = 12
) -> CohortTable:
    """The last ``months`` monthly cohorts up to the month of *as of*."""
    as_of = counted.as_of
    last = P.unit_period(P.local_day(as_of, zone), PeriodKind.MONTH, calendar, zone)
    if last.start >= as_of:  # as of is exactly a month's first instant: that month is empty
        last = P.shift(last, -1, PeriodKind.MONTH, calendar, zone)
    first = P.shift(last, -(months - 1), PeriodKind.MONTH, calendar, zone)
    span = P.units_covering(first.first_day, last.end_day, PeriodKind.MONTH, calendar, zone)
    span = [m.clipped(as_of) for m in span]
    t = counted.table
    columns = [("idx", Integer()), ("a", UTCDateTime()), ("b", UTCDateTime())]
    rows_ = [(i, p.start, p.end) for i, p in enumerate(span)]
    first_month = rows_table("c", rows_, columns)
    in_month = rows_table("m", rows_, columns)
    # The cohort of each customer whose first order ever is in the span (a small set,
    # materialized once), and one row per customer and month they ordered in: their first
    # order of that month.
    cohort = (
        select(t.c.ident, first_month.c.idx.label("cohort"))
        .select_from(
            first_month.join(
                t,
                and_(
                    t.c.x >= first_month.c.a,
                    t.c.x < first_month.c.b,
                    t.c.prev_x == NEVER_BEFORE,
                ),
            )
        )
        .cte("cohort")
        .prefix_with("MATERIALIZED")
    )
    rows = counted.conn.execute(
        select(cohort.c.cohort, in_month.c.idx, func.count())
        .select_from(
            in_month.join(
                t, and_(t.c.x >= in_month.c.a, t.c.x < in_month.c.b, t.c.prev_x < in_month.c.a)
            )
            # Walk the months' orders and look each customer up in the (small) cohort set,
            # not the other way round: SQLite would probe the big table once per month.
            .join(cohort, cohort.c.ident == full_scan(t.c.ident))
        )
        .group_by(cohort.c.cohort, in_month.c.idx)
    ).all()
    cells = {(int(c), int(i)): int(n) for c, i, n in rows}
    cohorts = []
    for index, month in enumerate(span):
        size = cells.get((index, index), 0)
        counts = tuple(cells.get((index, j), 0) for j in range(index, len(span)))
        cohorts.append(
            Cohort(
                key=month.key,
                label=month.label,
                size=size,
                retention=tuple(ratio(n, size) for n in counts),
                counts=counts,
            )
        )
    return CohortTable(calendar, tuple(cohorts))


__all__ = ["Cohort", "CohortTable", "cohort_table"]
