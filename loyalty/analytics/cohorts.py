"""Cohorts (SPEC §5): customers grouped by the month of their first counted order.

Cell (cohort, k) is the share of the cohort with a counted order in month cohort + k; month 0
is 100 % by construction (everyone ordered in their first month). Months follow the store's
timezone and the chosen calendar; the last month is the one containing *as of*, counted to
date. The customers come from ``percustomer.customer_groups``: one grouped pass per customer,
shared with RFM, giving each customer's first month and the months they ordered in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalty.analytics import periods as P
from loyalty.analytics.formulas import ratio
from loyalty.analytics.percustomer import customer_groups
from loyalty.analytics.periods import Calendar, PeriodKind
from loyalty.analytics.queries import CountedOrders


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
    # One grouped pass per customer (shared with RFM): each customer whose first order is in
    # the span, with the set of its months they ordered in.
    groups = customer_groups(counted, [(m.start, m.end) for m in span])
    cells: dict[tuple[int, int], int] = {}
    for (cohort, months_in), n in groups.cohorts.items():
        for ordered in months_in:
            cells[(cohort, ordered)] = cells.get((cohort, ordered), 0) + n
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
