"""The words of the HTML report, in English or Persian (``report --lang fa``).

A ``Language`` turns what the report shows into text: labels, periods and dates, and numbers
already formatted by ``formatting`` (so both languages show the *same* numbers — Persian only
changes the digits and separators, ۱۲٬۳۴۵٫۶۷, and names the toman and the rial). Persian is
right-to-left, uses Persian digits throughout and Jalali dates (``jdatetime``) for every
single date; months follow the report's calendar (Jalali by default with ``--lang fa``).

Pure: no database, no HTML (the report escapes whatever comes out of here).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

import jdatetime

from loyalty.analytics.budget import BudgetAdvice
from loyalty.analytics.formatting import format_percent
from loyalty.analytics.periods import GREGORIAN_MONTHS, JALALI_MONTHS, Calendar, Period

#: ASCII digits and separators → Persian digits, Arabic thousands/decimal separators and %.
_TO_PERSIAN = str.maketrans("0123456789,.%", "۰۱۲۳۴۵۶۷۸۹٬٫٪")
JALALI_MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
GREGORIAN_MONTHS_FA = (
    "ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن",
    "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر",
)  # fmt: skip
JALALI_SEASONS_FA = ("بهار", "تابستان", "پاییز", "زمستان")
CURRENCY_FA = {"IRT": "تومان", "IRR": "ریال"}
STATUS_FA = {
    "completed": "تکمیل‌شده",
    "processing": "در حال انجام",
    "on-hold": "در انتظار بررسی",
    "pending": "در انتظار پرداخت",
}


def persian_digits(text: str) -> str:
    """Digits, ``,`` ``.`` and ``%`` of a formatted number in their Persian forms."""
    return text.translate(_TO_PERSIAN)


class Language:
    """English: the report as it always was."""

    code = "en"
    direction = "ltr"
    comma = ", "

    #: Fixed texts of the report, by key.
    TEXT: ClassVar[Mapping[str, str]] = {
        "title": "Retention report",
        "headline": "Headline metrics",
        "budget": "Budget advice",
        "trends": "Monthly trends",
        "cohorts": "Cohort retention",
        "rfm": "Customer segments (RFM)",
        "loyalty": "Loyalty program",
        "metric": "Metric",
        "change": "Change",
        "month": "Month",
        "orders": "Orders",
        "customers": "Customers",
        "new": "New",
        "repeat": "Repeat rate",
        "aov": "AOV",
        "revenue": "Revenue",
        "clv": "CLV",
        "repeat_purchase_rate": "Repeat purchase rate",
        "segment": "Segment",
        "share": "Share",
        "revenue_share": "Revenue share",
        "what_to_do": "What to do",
        "figure": "Figure",
        "value": "Value",
        "acquisition": "acquisition",
        "retention": "retention",
        "why": "Why",
        "no_orders": "No orders yet.",
        "no_cohorts": "No cohorts yet.",
        "no_ledger": "The loyalty program has no ledger in this database yet.",
        "cohort_note": "Each row is the customers whose first order fell in that month; each "
        "column the share of them who ordered again k months later (month 0 is 100 %).",
        "export_note": "Export a segment for a campaign:",
        "chart_orders": "Orders per month",
        "chart_customers": "Customers per month (new in green)",
        "chart_repeat": "Repeat purchase rate (%)",
        "chart_aov": "Average order value ({currency})",
        "heatmap_title": "Share of each month's new customers ordering k months later (%)",
        "heatmap_x": "months since the first order",
        "segments_title": "Customers per segment (with their share of revenue)",
        "of_revenue": "{share} of revenue",
        "alt_cohorts": "Cohort retention heatmap",
        "alt_segments": "RFM segment sizes",
        "so_far": " (so far)",
        "last_12": "last 12 months",
    }
    #: Loyalty rows of the report, by ``LoyaltyFigures`` field.
    LOYALTY: ClassVar[Mapping[str, str]] = {
        "members": "Members",
        "points_issued": "Points issued",
        "points_redeemed": "Points redeemed",
        "points_expired": "Points expired",
        "points_outstanding": "Points outstanding",
        "liability": "Liability",
        "redemption_rate": "Redemption rate",
        "member_repeat_rate": "Repeat rate of members (12 months)",
        "non_member_repeat_rate": "Repeat rate of non-members (12 months)",
    }

    def text(self, key: str, **values: str) -> str:
        return self.TEXT[key].format(**values)

    def number(self, shown: str) -> str:
        """A number (or amount, change, percentage) as ``formatting`` wrote it."""
        return shown

    def currency(self, code: str) -> str:
        return code

    def amount(self, shown: str, currency: str) -> str:
        """``format_money``'s ``1,234.50 USD`` in this language."""
        return shown

    def metric(self, key: str, label: str) -> str:
        return label

    def segment(self, name: str) -> str:
        return name

    def advice(self, name: str, text: str) -> str:
        return text

    def status(self, name: str) -> str:
        return name

    def period(self, period: Period, calendar: Calendar) -> str:
        return period.label + (self.text("so_far") if period.cut else "")

    def tick(self, period: Period, calendar: Calendar) -> str:
        """A month on a chart's axis."""
        return period.key

    def moment(self, instant: datetime, zone: ZoneInfo) -> str:
        return f"{instant.astimezone(zone):%Y-%m-%d %H:%M}"

    def meta(self, as_of: str, zone: str, current: str, previous: str, currency: str,
             statuses: str) -> str:  # fmt: skip
        return (
            f"As of {as_of} ({zone}) · {current} compared with {previous} · {currency} · "
            f"counted statuses: {statuses}"
        )

    def footer(self, generated: str) -> str:
        return (
            "Definitions: docs/metrics.md of Bazgasht. Rates whose denominator is zero are "
            f"shown as —. Generated {generated}."
        )

    def span(self, bounds: tuple[int, int]) -> str:
        low, high = bounds
        return f"{low} %" if low == high else f"{low}–{high} %"

    def budget_reason(self, advice: BudgetAdvice) -> str:
        return advice.reason

    def split_note(self, advice: BudgetAdvice) -> str | None:
        return advice.split_note


class Persian(Language):
    """فارسی: right to left, Persian digits, Jalali dates, Persian names."""

    code = "fa"
    direction = "rtl"
    comma = "، "

    TEXT: ClassVar[Mapping[str, str]] = {
        "title": "گزارش بازگشت مشتری",
        "headline": "شاخص‌های اصلی",
        "budget": "پیشنهاد بودجه",
        "trends": "روند ماهانه",
        "cohorts": "ماندگاری گروه‌های مشتری (کوهورت)",
        "rfm": "بخش‌بندی مشتریان (RFM)",
        "loyalty": "باشگاه مشتریان",
        "metric": "شاخص",
        "change": "تغییر",
        "month": "ماه",
        "orders": "سفارش‌ها",
        "customers": "مشتریان",
        "new": "جدید",
        "repeat": "نرخ تکرار",
        "aov": "میانگین ارزش سفارش",
        "revenue": "درآمد",
        "clv": "ارزش طول عمر مشتری",
        "repeat_purchase_rate": "نرخ تکرار خرید",
        "segment": "بخش",
        "share": "سهم",
        "revenue_share": "سهم از درآمد",
        "what_to_do": "چه باید کرد",
        "figure": "شاخص",
        "value": "مقدار",
        "acquisition": "جذب مشتری",
        "retention": "نگهداشت مشتری",
        "why": "چرا",
        "no_orders": "هنوز سفارشی نیست.",
        "no_cohorts": "هنوز گروهی نیست.",
        "no_ledger": "باشگاه مشتریان هنوز در این پایگاه داده دفتری ندارد.",
        "cohort_note": "هر سطر مشتریانی است که نخستین خریدشان در آن ماه بوده؛ هر ستون سهمی "
        "از آنان که k ماه بعد دوباره خرید کرده‌اند (ماه ۰ همیشه ۱۰۰٪ است).",
        "export_note": "خروجی گرفتن از یک بخش برای کمپین:",
        "chart_orders": "سفارش‌ها در هر ماه",
        "chart_customers": "مشتریان در هر ماه (مشتریان جدید سبز)",
        "chart_repeat": "نرخ تکرار خرید (٪)",
        "chart_aov": "میانگین ارزش سفارش ({currency})",
        "heatmap_title": "سهم مشتریان جدید هر ماه که k ماه بعد دوباره خرید کردند (٪)",
        "heatmap_x": "ماه‌های پس از نخستین خرید",
        "segments_title": "مشتریان هر بخش (و سهمشان از درآمد)",
        "of_revenue": "{share} از درآمد",
        "alt_cohorts": "نقشهٔ حرارتی ماندگاری گروه‌ها",
        "alt_segments": "اندازهٔ بخش‌های RFM",
        "so_far": " (تا کنون)",
        "last_12": "۱۲ ماه گذشته",
    }
    LOYALTY: ClassVar[Mapping[str, str]] = {
        "members": "اعضا",
        "points_issued": "امتیازهای داده‌شده",
        "points_redeemed": "امتیازهای خرج‌شده",
        "points_expired": "امتیازهای منقضی‌شده",
        "points_outstanding": "امتیازهای مانده",
        "liability": "بدهی باشگاه (ارزش امتیازهای مانده)",
        "redemption_rate": "نرخ خرج کردن امتیاز",
        "member_repeat_rate": "نرخ تکرار خرید اعضا (۱۲ ماه)",
        "non_member_repeat_rate": "نرخ تکرار خرید غیراعضا (۱۲ ماه)",
    }
    METRICS: ClassVar[Mapping[str, str]] = {
        "orders": "سفارش‌ها",
        "customers": "مشتریان",
        "revenue": "درآمد",
        "repeat_purchase_rate": "نرخ تکرار خرید",
        "purchase_frequency": "فرکانس خرید",
        "aov": "میانگین ارزش سفارش",
        "customer_value": "ارزش مشتری",
        "returning_customer_rate": "نرخ مشتریان بازگشتی",
        "new_customers": "مشتریان جدید (N)",
        "active_start": "فعال در آغاز دوره (S)",
        "active_end": "فعال در پایان دوره (E)",
        "crr": "نرخ ماندگاری مشتری (CRR)",
        "churn_rate": "نرخ ریزش",
        "activation_rate": "نرخ فعال شدن اعضا در ۶۰ روز",
        "clv": "ارزش طول عمر مشتری (CLV)",
        "cac": "هزینهٔ جذب هر مشتری (CAC)",
        "cost_per_returning_customer": "هزینهٔ هر مشتری بازگشتی",
    }
    SEGMENTS: ClassVar[Mapping[str, str]] = {
        "Champions": "قهرمانان",
        "Loyal": "وفاداران",
        "Potential loyalist": "وفاداران بالقوه",
        "New": "مشتریان تازه",
        "Promising": "امیدوارکننده",
        "Need attention": "نیازمند توجه",
        "About to sleep": "در آستانهٔ خواب",
        "At risk": "در معرض خطر",
        "Can't lose": "نباید از دست بروند",
        "Hibernating": "در خواب",
        "Lost": "از دست رفته",
    }
    ADVICE: ClassVar[Mapping[str, str]] = {
        "Champions": "تازه و پرتکرار: پاداششان دهید و از آنان نظر بخواهید",
        "Loyal": "مرتب خرید می‌کنند: دسترسی زودهنگام و مزایای باشگاه",
        "Potential loyalist": "تازه با چند خرید: دلیلی برای خرید بعدی",
        "New": "نخستین خرید، به‌تازگی: یک سری پیام خوش‌آمد تا خرید دوم",
        "Promising": "یک خرید، نسبتاً تازه: تلنگری کوچک برای بازگشت",
        "Need attention": "در هر دو متوسط: پیشنهادی با زمان محدود",
        "About to sleep": "خرید کم و رو به دوری: یادآوری با دلیل",
        "At risk": "پرتکرار بودند اما مدت‌هاست نیامده‌اند: پیشنهاد شخصی برای بازگرداندن",
        "Can't lose": "بهترین‌ها بودند و ساکت شده‌اند: پیش از همه بازشان گردانید",
        "Hibernating": "خرید کم، مدت‌ها پیش: فقط یادآوری‌های کم‌هزینه",
        "Lost": "یک خرید، مدت‌ها پیش: ارزان‌ترین کانال‌ها، یا رهایشان کنید",
    }

    def number(self, shown: str) -> str:
        text = shown.replace(" %", "%").replace(" pp", " واحد درصد")
        return persian_digits(text)

    def currency(self, code: str) -> str:
        return CURRENCY_FA.get(code.upper(), code)

    def amount(self, shown: str, currency: str) -> str:
        number, _, code = shown.partition(" ")
        named = self.currency(code or currency) if code else ""
        return f"{self.number(number)} {named}".strip()

    def metric(self, key: str, label: str) -> str:
        return self.METRICS.get(key, label)

    def segment(self, name: str) -> str:
        return self.SEGMENTS.get(name, name)

    def advice(self, name: str, text: str) -> str:
        return self.ADVICE.get(name, text)

    def status(self, name: str) -> str:
        return STATUS_FA.get(name, name)

    def period(self, period: Period, calendar: Calendar) -> str:
        return self._period(period, calendar) + (self.text("so_far") if period.cut else "")

    def _period(self, period: Period, calendar: Calendar) -> str:
        key = period.key
        if key == "last-12-months":
            return self.text("last_12")
        if "/" in key:  # a range of days
            last = period.end_day - timedelta(days=1)
            return f"{jalali_date(period.first_day)} تا {jalali_date(last)}"
        year, _, part = key.partition("-")
        if not part:
            return persian_digits(year)
        if part.startswith("Q"):
            quarter = int(part[1:])
            if calendar is Calendar.JALALI:
                return f"{JALALI_SEASONS_FA[quarter - 1]} {persian_digits(year)}"
            return f"سه‌ماههٔ {persian_digits(str(quarter))} {persian_digits(year)}"
        names = JALALI_MONTHS_FA if calendar is Calendar.JALALI else GREGORIAN_MONTHS_FA
        return f"{names[int(part) - 1]} {persian_digits(year)}"

    def tick(self, period: Period, calendar: Calendar) -> str:
        return self._period(period, calendar)

    def moment(self, instant: datetime, zone: ZoneInfo) -> str:
        local = instant.astimezone(zone)
        return f"{jalali_date(local.date())}، ساعت {persian_digits(f'{local:%H:%M}')}"

    def meta(self, as_of: str, zone: str, current: str, previous: str, currency: str,
             statuses: str) -> str:  # fmt: skip
        return (
            f"تا {as_of} ({zone}) · {current} در مقایسه با {previous} · {currency} · "
            f"وضعیت‌های شمرده‌شده: {statuses}"
        )

    def footer(self, generated: str) -> str:
        return (
            "تعریف‌ها: docs/metrics.md در بازگشت. نرخی که مخرجش صفر است با «—» نشان داده "
            f"می‌شود. ساخته‌شده در {generated}."
        )

    def span(self, bounds: tuple[int, int]) -> str:
        low, high = bounds
        shown = f"{low}%" if low == high else f"{low}–{high}%"
        return persian_digits(shown)

    def budget_reason(self, advice: BudgetAdvice) -> str:
        split = (
            f"{self.span(advice.band.acquisition)} برای جذب، "
            f"{self.span(advice.band.retention)} برای نگهداشت"
        )
        if advice.young:
            if advice.store_age_days is None:
                return f"فروشگاه هنوز سفارش شمرده‌شده‌ای ندارد ← {split}"
            days = persian_digits(str(advice.store_age_days))
            return (
                f"نخستین سفارش فروشگاه {days} روز پیش بوده، کمتر از ۱۲ ماه ← {split}: "
                "اول مشتری جذب کنید، هنوز مشتری زیادی برای نگه‌داشتن نیست"
            )
        if advice.repeat_rate is None:
            return f"در ۱۲ ماه گذشته کسی سفارش نداده ← {split}"
        rate = self.number(format_percent(advice.repeat_rate))
        band = self.number(advice.band.name)
        return f"نرخ تکرار خرید {rate} در ۱۲ ماه گذشته (بازهٔ {band}) ← {split}"

    def split_note(self, advice: BudgetAdvice) -> str | None:
        share = advice.acquisition_share
        if share is None:
            return None
        yours = (
            f"تقسیم شما: {self.number(format_percent(share, 0))} جذب / "
            f"{self.number(format_percent(1 - share, 0))} نگهداشت"
        )
        low, high = advice.band.acquisition
        percent = share * 100
        if percent < low:
            return f"{yours}: کمتر از پیشنهاد برای جذب ({self.span(advice.band.acquisition)})"
        if percent > high:
            return f"{yours}: بیشتر از پیشنهاد برای جذب ({self.span(advice.band.acquisition)})"
        return f"{yours}: در محدودهٔ پیشنهاد"


def jalali_date(day: date) -> str:
    """``۱۴ آبان ۱۴۰۴``: a day in the Jalali calendar, Persian digits and month name."""
    j = jdatetime.date.fromgregorian(date=day)
    month = JALALI_MONTHS_FA[j.month - 1]
    return f"{persian_digits(str(j.day))} {month} {persian_digits(str(j.year))}"


def jalali_numeric(day: date) -> str:
    """``۱۴۰۴/۰۸/۱۴``: a Jalali date in Persian digits, for short texts (a message)."""
    j = jdatetime.date.fromgregorian(date=day)
    return persian_digits(f"{int(j.year):04d}/{int(j.month):02d}/{int(j.day):02d}")


ENGLISH = Language()
PERSIAN = Persian()
LANGUAGES = {"en": ENGLISH, "fa": PERSIAN}
#: Month names of the English report, for tests that check a Persian one has none of them.
TRANSLITERATED_MONTHS = JALALI_MONTHS + GREGORIAN_MONTHS


def language(code: str) -> Language:
    """The report's language by code: ``en`` or ``fa``."""
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ValueError(f"no report language {code!r}: use en or fa") from None


__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "PERSIAN",
    "TRANSLITERATED_MONTHS",
    "Language",
    "Persian",
    "jalali_date",
    "jalali_numeric",
    "language",
    "persian_digits",
]
