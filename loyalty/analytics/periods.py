"""Calendar periods in a store's timezone: pure date arithmetic, no database.

A period is half-open, ``[start, end)``, between two *local midnights* of the store's timezone,
turned into UTC instants (what the mirror stores). Months are Gregorian or Jalali (the Persian
solar calendar, via ``jdatetime``); quarters are three such months and years twelve, so a
Jalali year starts at Nowruz (1 Farvardin).

A month is represented by the Gregorian ``date`` of its first day, whatever the calendar: the
calendar decides where months start and what they are called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jdatetime

JALALI_MONTHS = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip
GREGORIAN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
#: Years below this are read as Jalali (1403-01-01), above as Gregorian (2024-03-20).
_JALALI_YEAR_LIMIT = 1700


class Calendar(StrEnum):
    GREGORIAN = "gregorian"
    JALALI = "jalali"


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.value]


@dataclass(frozen=True)
class Period:
    """``[start, end)`` as aware UTC instants, with the local days it spans and a name.

    ``key`` sorts and identifies it in machine output (``2024-03``, ``1403-Q1``, ``2024``);
    ``label`` is for people (``March 2024``, ``Farvardin 1403``).
    """

    start: datetime
    end: datetime
    first_day: date
    end_day: date  # local day *after* the last one (exclusive)
    key: str
    label: str
    cut: bool = False  # ends early, at *as of*: the period so far

    def clipped(self, until: datetime) -> Period:
        """The part of the period before ``until`` (the *as of* instant)."""
        if self.end <= until:
            return self
        end = max(self.start, until)
        return Period(self.start, end, self.first_day, self.end_day, self.key, self.label, True)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)


def store_zone(name: str | None) -> ZoneInfo:
    """The store's timezone; UTC when the store never told us. ``ValueError`` if unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) at which ``day`` begins in ``zone``.

    Where summer time starts at midnight, 00:00 does not exist; the day then begins at the
    jump, which is what ``fold=0`` resolves to.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


# --- months in either calendar -------------------------------------------------------------


def month_start(day: date, calendar: Calendar) -> date:
    """First day of the calendar month that contains ``day``."""
    if calendar is Calendar.GREGORIAN:
        return day.replace(day=1)
    j = jdatetime.date.fromgregorian(date=day)
    return _jalali_first(j.year, j.month)


def add_months(first_day: date, months: int, calendar: Calendar) -> date:
    """First day of the month ``months`` after the month starting on ``first_day``."""
    year, month = _year_month(first_day, calendar)
    index = year * 12 + (month - 1) + months
    year, month = divmod(index, 12)
    if calendar is Calendar.GREGORIAN:
        return date(year, month + 1, 1)
    return _jalali_first(year, month + 1)


def months_between(first: date, later: date, calendar: Calendar) -> int:
    """How many months from the month of ``first`` to the month of ``later``."""
    y1, m1 = _year_month(month_start(first, calendar), calendar)
    y2, m2 = _year_month(month_start(later, calendar), calendar)
    return (y2 - y1) * 12 + (m2 - m1)


def _year_month(first_day: date, calendar: Calendar) -> tuple[int, int]:
    if calendar is Calendar.GREGORIAN:
        return first_day.year, first_day.month
    j = jdatetime.date.fromgregorian(date=first_day)
    return int(j.year), int(j.month)


def _jalali_first(year: int, month: int) -> date:
    gregorian: date = jdatetime.date(year, month, 1).togregorian()
    return gregorian


def unit_start(day: date, kind: PeriodKind, calendar: Calendar) -> date:
    """First day of the month, quarter or year (of ``calendar``) containing ``day``."""
    first = month_start(day, calendar)
    _, month = _year_month(first, calendar)
    back = (month - 1) % kind.months
    return add_months(first, -back, calendar)


def unit_key_label(first_day: date, kind: PeriodKind, calendar: Calendar) -> tuple[str, str]:
    year, month = _year_month(first_day, calendar)
    if kind is PeriodKind.YEAR:
        return f"{year}", f"{year}"
    if kind is PeriodKind.QUARTER:
        quarter = (month - 1) // 3 + 1
        return f"{year}-Q{quarter}", f"{year} Q{quarter}"
    names = JALALI_MONTHS if calendar is Calendar.JALALI else GREGORIAN_MONTHS
    return f"{year}-{month:02d}", f"{names[month - 1]} {year}"


def unit_period(day: date, kind: PeriodKind, calendar: Calendar, zone: ZoneInfo) -> Period:
    """The month / quarter / year containing the local ``day``."""
    first = unit_start(day, kind, calendar)
    end = add_months(first, kind.months, calendar)
    key, label = unit_key_label(first, kind, calendar)
    return Period(local_midnight(first, zone), local_midnight(end, zone), first, end, key, label)


def shift(
    period: Period, units: int, kind: PeriodKind, calendar: Calendar, zone: ZoneInfo
) -> Period:
    """The unit period ``units`` before (negative) or after the unit period ``period``."""
    return unit_period(
        add_months(period.first_day, units * kind.months, calendar), kind, calendar, zone
    )


def units_covering(
    first_day: date, end_day: date, kind: PeriodKind, calendar: Calendar, zone: ZoneInfo
) -> list[Period]:
    """The unit periods overlapping the local days ``[first_day, end_day)``, in order."""
    periods: list[Period] = []
    day = first_day
    while day < end_day:
        period = unit_period(day, kind, calendar, zone)
        periods.append(period)
        day = period.end_day
    return periods


def day_range(first_day: date, end_day: date, calendar: Calendar, zone: ZoneInfo) -> Period:
    """An arbitrary range of local days ``[first_day, end_day)`` as a period."""
    last = end_day - timedelta(days=1)
    label = f"{format_day(first_day, calendar)} – {format_day(last, calendar)}"
    key = f"{first_day.isoformat()}/{end_day.isoformat()}"
    return Period(
        local_midnight(first_day, zone),
        local_midnight(end_day, zone),
        first_day,
        end_day,
        key,
        label,
    )


def is_unit_aligned(first_day: date, end_day: date, kind: PeriodKind, calendar: Calendar) -> bool:
    """Whether ``[first_day, end_day)`` is a whole number of months / quarters / years."""
    return unit_start(first_day, kind, calendar) == first_day and (
        unit_start(end_day, kind, calendar) == end_day
    )


def count_units(first_day: date, end_day: date, kind: PeriodKind, calendar: Calendar) -> int:
    return months_between(first_day, end_day, calendar) // kind.months


# --- reading and writing days --------------------------------------------------------------


def parse_day(text: str) -> date:
    """``YYYY-MM-DD``: Gregorian, or Jalali when the year is below 1700 (``1403-01-01``).

    Returns the Gregorian date. ``ValueError`` with a readable message otherwise.
    """
    try:
        year_s, month_s, day_s = text.strip().split("-")
        year, month, day = int(year_s), int(month_s), int(day_s)
        if year < _JALALI_YEAR_LIMIT:
            gregorian: date = jdatetime.date(year, month, day).togregorian()
            return gregorian
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2024-03-20 or Jalali 1403-01-01"
        ) from None


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """An *as of* instant: a day (its local midnight) or an ISO time (naive = store time)."""
    text = text.strip()
    if len(text) <= 10:
        return local_midnight(parse_day(text), zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or time: use YYYY-MM-DD or 2024-03-20T08:00:00+03:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def format_day(day: date, calendar: Calendar) -> str:
    if calendar is Calendar.GREGORIAN:
        return day.isoformat()
    j = jdatetime.date.fromgregorian(date=day)
    return f"{int(j.year):04d}-{int(j.month):02d}-{int(j.day):02d}"


__all__ = [
    "GREGORIAN_MONTHS",
    "JALALI_MONTHS",
    "Calendar",
    "Period",
    "PeriodKind",
    "add_months",
    "count_units",
    "day_range",
    "format_day",
    "is_unit_aligned",
    "local_day",
    "local_midnight",
    "month_start",
    "months_between",
    "parse_day",
    "parse_instant",
    "shift",
    "store_zone",
    "unit_key_label",
    "unit_period",
    "unit_start",
    "units_covering",
]
