"""Who a campaign targets: audiences as SQL over the mirror plus pure selection rules.

Audience kinds (``parse_audience``):

* ``segment:<name>`` — an RFM segment as of now (``segment:at_risk``, ``segment:cant_lose``,
  ``segment:hibernating`` …: the segment's name lower-cased, spaces as ``_``, no apostrophe);
* ``first-order-followup`` (or ``first-order-followup:7-30d``) — customers whose only
  counted order was created 7–30 days ago;
* ``inactive:90d`` — customers whose last counted order is at least 90 days old;
* ``points-expiring:30d`` — loyalty members with points that expire within 30 days.

Every audience is a set of identities (SPEC §4, ``loyalty.identity``); only identities with
an e-mail address can get a coupon (it is restricted to that e-mail), so the others are left
out and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, Connection, Engine, func, select, type_coerce

from connector import ConfigError, customers, from_units, guests, orders
from loyalty._db import joined, split_sum
from loyalty.analytics import DEFAULT_STATUSES, SEGMENTS, open_analysis, rfm_members
from loyalty.balances import expiring
from loyalty.identity import order_identities
from loyalty.settings import Program


def segment_slug(name: str) -> str:
    """``"Can't lose"`` → ``cant_lose``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")


SEGMENT_SLUGS: dict[str, str] = {segment_slug(name): name for name in SEGMENTS}


@dataclass(frozen=True)
class Audience:
    kind: str  # segment | first-order-followup | inactive | points-expiring
    segment: str | None = None  # the RFM segment's name (kind "segment")
    min_days: int = 0
    max_days: int = 0

    @property
    def spec(self) -> str:
        if self.kind == "segment":
            return f"segment:{segment_slug(self.segment or '')}"
        if self.kind == "first-order-followup":
            return f"first-order-followup:{self.min_days}-{self.max_days}d"
        return f"{self.kind}:{self.min_days}d"


def _days(text: str, what: str) -> int:
    found = re.fullmatch(r"(\d+)d?", text.strip().lower())
    if not found or not 0 < int(found.group(1)) <= 3650:
        raise ConfigError(f"audience {what}: {text!r} is not a number of days such as 30d")
    return int(found.group(1))


def parse_audience(text: str) -> Audience:
    kind, _, arg = text.strip().lower().partition(":")
    if kind == "segment":
        if arg not in SEGMENT_SLUGS:
            known = ", ".join(f"segment:{s}" for s in SEGMENT_SLUGS)
            raise ConfigError(f"unknown segment {arg!r}; known: {known}")
        return Audience("segment", segment=SEGMENT_SLUGS[arg])
    if kind == "first-order-followup":
        low, high = 7, 30
        if arg:
            found = re.fullmatch(r"(\d+)-(\d+)d?", arg)
            if not found or not 0 <= int(found.group(1)) < int(found.group(2)) <= 3650:
                raise ConfigError(
                    f"first-order-followup:{arg}: give the age of the first order as e.g. 7-30d"
                )
            low, high = int(found.group(1)), int(found.group(2))
        return Audience(kind, min_days=low, max_days=high)
    if kind in ("inactive", "points-expiring"):
        if not arg:
            raise ConfigError(f"{kind} needs a number of days, e.g. {kind}:90d")
        return Audience(kind, min_days=_days(arg, kind))
    raise ConfigError(
        f"unknown audience {text!r}; use segment:NAME, first-order-followup, inactive:90d "
        "or points-expiring:30d"
    )


@dataclass(frozen=True)
class History:
    """An identity's counted orders, as the audience rules need them."""

    identity: str
    orders: int
    first_order_at: datetime
    last_order_at: datetime
    revenue: Decimal

    @property
    def average_order(self) -> Decimal:
        return self.revenue / self.orders if self.orders else Decimal(0)


# ---------------------------------------------------------------- pure selection rules


def first_order_followup(
    histories: Iterable[History], now: datetime, min_days: int, max_days: int
) -> list[str]:
    """Identities with exactly one counted order, created in ``[now − max, now − min]``."""
    low, high = now - timedelta(days=max_days), now - timedelta(days=min_days)
    return sorted(
        h.identity for h in histories if h.orders == 1 and low <= h.first_order_at <= high
    )


def inactive(histories: Iterable[History], now: datetime, days: int) -> list[str]:
    """Identities whose last counted order is at least ``days`` old."""
    cutoff = now - timedelta(days=days)
    return sorted(h.identity for h in histories if h.last_order_at <= cutoff)


# ---------------------------------------------------------------- SQL over the mirror


def histories(
    conn: Connection, store_id: int, now: datetime, statuses: Sequence[str] = DEFAULT_STATUSES
) -> dict[str, History]:
    """Counted orders (status counted, not deleted, created before ``now``) per identity."""
    ids = order_identities(store_id).subquery("ids")
    rows = conn.execute(
        select(
            ids.c.identity,
            func.count(),
            func.min(orders.c.created_at),
            func.max(orders.c.created_at),
            *split_sum(
                type_coerce(orders.c.total, BigInteger)
                - type_coerce(orders.c.refunded_total, BigInteger),
                "revenue",
            ),
        )
        .select_from(orders.join(ids, ids.c.order_id == orders.c.wc_id))
        .where(
            orders.c.store_id == store_id,
            orders.c.deleted_at.is_(None),
            orders.c.status.in_(list(statuses)),
            orders.c.created_at < now,
        )
        .group_by(ids.c.identity)
    ).all()
    out: dict[str, History] = {}
    for ident, n, first, last, high, low in rows:
        out[ident] = History(ident, int(n), first, last, from_units(joined(high, low)))
    return out


@dataclass(frozen=True)
class Contact:
    identity: str
    email: str
    first_name: str
    last_name: str
    phone: str


def contacts(conn: Connection, store_id: int, identities: Sequence[str]) -> dict[str, Contact]:
    """identity → contact details from the account (customers) or the guest's latest order.
    Identities without an e-mail address are missing from the result."""
    ids = sorted({int(i.split(":", 1)[1]) for i in identities if i.startswith("customer:")})
    mails = sorted({i.split(":", 1)[1] for i in identities if i.startswith("email:")})
    found: dict[str, Contact] = {}
    for start in range(0, len(ids), 500):
        for row in conn.execute(
            select(
                customers.c.wc_id,
                customers.c.email,
                customers.c.first_name,
                customers.c.last_name,
                customers.c.phone,
            ).where(
                customers.c.store_id == store_id, customers.c.wc_id.in_(ids[start : start + 500])
            )
        ):
            if row.email:
                ident = f"customer:{row.wc_id}"
                found[ident] = Contact(ident, row.email, row.first_name, row.last_name, row.phone)
    for start in range(0, len(mails), 500):
        for guest in conn.execute(
            select(guests.c.email, guests.c.first_name, guests.c.last_name, guests.c.phone).where(
                guests.c.store_id == store_id, guests.c.email.in_(mails[start : start + 500])
            )
        ):
            ident = f"email:{guest.email}"
            found[ident] = Contact(
                ident, guest.email, guest.first_name, guest.last_name, guest.phone
            )
    for mail in mails:  # a guest the sync has not described still has its e-mail
        found.setdefault(f"email:{mail}", Contact(f"email:{mail}", mail, "", "", ""))
    return found


def select_audience(
    engine: Engine,
    store_id: int,
    audience: Audience,
    now: datetime,
    *,
    program: Program | None = None,
) -> list[str]:
    """The identities in the audience as of ``now`` (sorted; e-mail-less ones included)."""
    if audience.kind == "segment":
        assert audience.segment is not None
        with open_analysis(engine, store_id, as_of=now) as analysis:
            members = rfm_members(analysis.counted, audience.segment, balances=False)
        return sorted(m.identity for m in members)
    if audience.kind == "points-expiring":
        if program is None:
            raise ConfigError("points-expiring needs the store's loyalty program")
        rows = expiring(engine, program, now, timedelta(days=audience.min_days))
        return sorted({r.identity for r in rows if r.points > 0})
    with engine.connect() as conn:
        found = histories(conn, store_id, now).values()
    if audience.kind == "first-order-followup":
        return first_order_followup(found, now, audience.min_days, audience.max_days)
    return inactive(found, now, audience.min_days)


__all__ = [
    "SEGMENT_SLUGS",
    "Audience",
    "Contact",
    "History",
    "contacts",
    "first_order_followup",
    "histories",
    "inactive",
    "parse_audience",
    "segment_slug",
    "select_audience",
]
