"""The campaign's coupons as rows for whoever sends the messages (Bazgasht sends nothing).

Each issued coupon becomes a row: e-mail, first name, phone, code, amount, expiry (the
store's local date) and a message rendered from a template. Templates are ``str.format``
strings with the fields ``{first_name}``, ``{code}``, ``{amount}``, ``{expires}``,
``{campaign}`` and ``{email}``; ``en`` and ``fa`` (Persian) are shipped. Amounts are in the
store's currency format: ``15%``, ``5.00 USD``, ``150,000 تومان`` (zero decimals for toman
and rial; Persian templates name those currencies in Persian).

In Persian (``fa``) the *message* is written as a Persian reader expects it: the expiry as a
Jalali date with the month's name (``۲۱ فروردین ۱۴۰۵``) and every number in Persian digits
(``۱۵۰٬۰۰۰ تومان``, ``۱۵٪``); the code stays as the store knows it. The ``amount`` and
``expires`` columns stay machine-readable (Latin digits, ISO date) for the sending tool.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from connector import ConfigError, format_money
from loyalty.analytics.language import jalali_date, persian_digits
from loyalty.analytics.queries import StoreInfo, store_info
from loyalty.campaigns.audiences import contacts
from loyalty.campaigns.issue import Campaign, members

TEMPLATES: dict[str, str] = {
    "en": (
        "Hi {first_name}, we saved something for you: {amount} off your next order with "
        "code {code}, valid until {expires}."
    ),
    "fa": (
        "{first_name} عزیز، هدیه‌ای برایتان کنار گذاشته‌ایم: {amount} تخفیف برای خرید بعدی "
        "با کد {code}، معتبر تا {expires}."
    ),
}
FIELDS = frozenset({"first_name", "code", "amount", "expires", "campaign", "email"})
PERSIAN_CURRENCY = {"IRT": "تومان", "IRR": "ریال"}
COLUMNS = ("email", "first_name", "phone", "code", "amount", "expires", "message")


def check_template(template: str) -> str:
    """The template if every ``{field}`` in it is known; a ConfigError otherwise."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"--message: {exc} (write a literal brace as {{{{ or }}}})") from None
    unknown = names - FIELDS
    if unknown:
        raise ConfigError(
            f"--message: unknown field(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(sorted(FIELDS))}"
        )
    return template


def amount_text(campaign: Campaign, store: StoreInfo, language: str = "en") -> str:
    """``15%`` or the fixed amount in the store's currency format."""
    if campaign.discount_type == "percent":
        return f"{campaign.amount.normalize():f}%"
    currency = store.currency
    if language == "fa":
        currency = PERSIAN_CURRENCY.get(currency.upper(), currency)
    return format_money(campaign.amount, currency, store.decimals)


@dataclass(frozen=True)
class ExportRow:
    email: str
    first_name: str
    phone: str
    code: str
    amount: str
    expires: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in COLUMNS}


def export_rows(
    engine: Engine, campaign: Campaign, template: str, language: str = "en"
) -> list[ExportRow]:
    """One row per issued coupon of the campaign, in the order they were made."""
    check_template(template)
    issued = members(engine, campaign, "issued")
    with engine.connect() as conn:
        store = store_info(conn, campaign.store_id)
        who = contacts(conn, campaign.store_id, [m.identity for m in issued])
    amount = amount_text(campaign, store, language)
    rows = []
    for m in issued:
        assert m.code is not None
        contact = who.get(m.identity)
        first = contact.first_name if contact else ""
        phone = contact.phone if contact else ""
        local_day = m.expires_at.astimezone(store.zone).date()
        expires = local_day.isoformat()
        persian = language == "fa"
        message = template.format(
            first_name=first,
            code=m.code,
            amount=persian_digits(amount) if persian else amount,
            expires=jalali_date(local_day) if persian else expires,
            campaign=campaign.name,
            email=m.email,
        )
        rows.append(ExportRow(m.email, first, phone, m.code, amount, expires, message))
    return rows


__all__ = ["COLUMNS", "TEMPLATES", "ExportRow", "amount_text", "check_template", "export_rows"]
