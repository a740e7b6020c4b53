"""Campaigns: create, run (again and again, from cron), pause/resume, and their coupons,
each made exactly once per (campaign, customer).

A run, and what a crash at each step leaves behind:

1. **Finish** the members an earlier run left ``pending`` (step 3 for each).
2. **Enroll** (one transaction): the audience's identities that are not members yet become
   members — ``pending`` with their coupon code, or ``holdout`` (control group, no coupon).
   UNIQUE(campaign_id, identity) makes a member once, ever: a customer who leaves the
   audience and enters it again gets no second coupon from the same campaign. A crash before
   the commit leaves nothing; after it, pending members whose coupons the next run makes.
3. **Issue** each pending member: look the coupon up by its code (``GET coupons?code=``),
   create it if missing (``POST coupons``; the store's "already exists"
   answer is looked up the same way), then mark the member ``issued``. The code is random
   (``loyalty.codes``: ``cmp-xxxx-xxxx-xxxx-xxxx``, nobody can guess it) and stored with the
   member in step 2, so a retry finds the coupon an earlier attempt made instead of making a
   second. A refusal that retrying cannot fix marks the member ``failed``; transient
   failures leave it pending.

A paused campaign enrolls nobody; its pending members are still finished (their coupons may
already be on the store).

Step 3 is ``connector.ensure_coupon``, shared with redemptions. The kill tests stop the
process between the steps from outside (``tests/_crashing_cli.py``): no test hook lives here.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, RowMapping, insert, select, update

from connector import (
    CAMPAIGN_META_KEY,
    BadRequestError,
    BazgashtError,
    ConfigError,
    Coupon,
    CouponApi,
    CouponConflict,
    CouponSpec,
    InvalidResponseError,
    LockHeld,
    NotFoundError,
    StoreError,
    TransientError,
    ensure_coupon,
    money_text,
    store_lock,
)
from loyalty.analytics.queries import StoreInfo, store_info
from loyalty.campaigns._schema import campaign_members, campaigns
from loyalty.campaigns.audiences import (
    Audience,
    contacts,
    histories,
    parse_audience,
    select_audience,
)
from loyalty.codes import CAMPAIGN_PREFIX, new_code
from loyalty.settings import Program

log = logging.getLogger("bazgasht.campaigns")

DISCOUNT_TYPES = ("percent", "fixed_cart")
MAX_HOLDOUT = 90


class CampaignError(BazgashtError):
    """A campaign that cannot be made or found (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    audience: str
    discount_type: str  # percent | fixed_cart
    amount: Decimal  # the percent, or the fixed amount
    valid_days: int = 30
    min_spend: Decimal | None = None
    holdout_percent: int = 0

    def check(self) -> Audience:
        if not self.name.strip() or len(self.name) > 100:
            raise ConfigError("a campaign needs a name of 1–100 characters")
        if self.discount_type not in DISCOUNT_TYPES:
            raise ConfigError(f"discount type must be one of {DISCOUNT_TYPES}")
        if self.amount <= 0 or (self.discount_type == "percent" and self.amount > 100):
            raise ConfigError(f"the discount {self.amount} is not a usable amount")
        if not 1 <= self.valid_days <= 3650:
            raise ConfigError("--valid-days must be between 1 and 3650")
        if self.min_spend is not None and self.min_spend < 0:
            raise ConfigError("--min-spend cannot be negative")
        if not 0 <= self.holdout_percent <= MAX_HOLDOUT:
            raise ConfigError(f"--holdout must be between 0% and {MAX_HOLDOUT}%")
        return parse_audience(self.audience)


@dataclass(frozen=True)
class Campaign:
    id: int
    store_id: int
    name: str
    audience: str
    discount_type: str
    amount: Decimal
    valid_days: int
    min_spend: Decimal | None
    holdout_percent: int
    status: str
    created_at: datetime
    last_run_at: datetime | None

    def as_dict(self, decimals: int) -> dict[str, Any]:
        """JSON-ready. Money with the currency's ``decimals``; a percent discount is a number
        under ``percent`` (``amount`` is then null), a fixed one money under ``amount``."""
        percent = self.discount_type == "percent"
        return {
            "name": self.name,
            "audience": self.audience,
            "discount_type": self.discount_type,
            "amount": None if percent else money_text(self.amount, decimals),
            "percent": float(self.amount) if percent else None,
            "valid_days": self.valid_days,
            "min_spend": None if self.min_spend is None else money_text(self.min_spend, decimals),
            "holdout_percent": self.holdout_percent,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
        }


@dataclass(frozen=True)
class Member:
    id: int
    campaign_id: int
    identity: str
    email: str
    holdout: bool
    status: str
    code: str | None
    coupon_id: int | None
    joined_at: datetime
    expires_at: datetime
    issued_at: datetime | None
    attempts: int
    last_error: str | None


@dataclass
class RunResult:
    campaign: str
    status: str
    audience: int = 0
    no_email: int = 0
    enrolled: int = 0
    holdout: int = 0
    issued: int = 0
    pending: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "status": self.status,
            "audience": self.audience,
            "no_email": self.no_email,
            "enrolled": self.enrolled,
            "holdout": self.holdout,
            "issued": self.issued,
            "pending": self.pending,
            "failed": self.failed,
            "problems": self.problems,
        }

    def one_line(self) -> str:
        return (
            f"{self.campaign}: {self.enrolled} new in the audience of {self.audience} "
            f"({self.holdout} held out), {self.issued} coupons issued, {self.pending} pending, "
            f"{self.failed} failed"
        )


# ---------------------------------------------------------------- pure parts


def in_holdout(store_id: int, campaign: str, identity: str, percent: int) -> bool:
    """Whether an identity falls in the campaign's hold-out group: a stable hash of the
    campaign and the identity, so a dry run shows the same split the real run makes."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{store_id}:{campaign}:{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def coupon_spec(store: StoreInfo, campaign: Campaign, member: Member) -> CouponSpec:
    """The member's coupon: single use, for the member's e-mail, store-local expiry."""
    assert member.code is not None
    return CouponSpec(
        code=member.code,
        discount_type=campaign.discount_type,
        amount=(
            f"{campaign.amount:.2f}"
            if campaign.discount_type == "percent"
            else money_text(campaign.amount, store.decimals)
        ),
        email=member.email,
        expires=member.expires_at.astimezone(store.zone).replace(tzinfo=None),
        description=f"Campaign {campaign.name} (Bazgasht member {member.id})",
        meta_key=CAMPAIGN_META_KEY,
        marker=f"{store.name}:{campaign.id}:{member.id}:{member.code}",
        minimum_amount=(
            None if campaign.min_spend is None else money_text(campaign.min_spend, store.decimals)
        ),
    )


# ---------------------------------------------------------------- rows


def _campaign(conn: Connection, store_id: int, name: str) -> Campaign:
    row = conn.execute(
        select(campaigns).where(campaigns.c.store_id == store_id, campaigns.c.name == name)
    ).first()
    if row is None:
        raise CampaignError(f"no campaign named {name!r} (see `bazgasht campaign list`)")
    return _from_row(row._mapping)


def _from_row(row: RowMapping) -> Campaign:
    """A campaign as its row holds it: a percentage in ``percent``, money in ``amount``."""
    values = dict(row)
    percent = values.pop("percent")
    if values["discount_type"] == "percent":
        values["amount"] = percent
    return Campaign(**values)


def get_campaign(engine: Engine, store_id: int, name: str) -> Campaign:
    with engine.connect() as conn:
        return _campaign(conn, store_id, name)


def list_campaigns(engine: Engine, store_id: int) -> list[Campaign]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(campaigns).where(campaigns.c.store_id == store_id).order_by(campaigns.c.id)
        )
        return [_from_row(r._mapping) for r in rows]


def members(engine: Engine, campaign: Campaign, status: str | None = None) -> list[Member]:
    query = (
        select(campaign_members)
        .where(campaign_members.c.campaign_id == campaign.id)
        .order_by(campaign_members.c.id)
    )
    if status:
        query = query.where(campaign_members.c.status == status)
    with engine.connect() as conn:
        return [Member(**r._mapping) for r in conn.execute(query)]


def _member(engine: Engine, member_id: int) -> Member:
    with engine.connect() as conn:
        row = conn.execute(select(campaign_members).where(campaign_members.c.id == member_id)).one()
    return Member(**row._mapping)


def set_status(engine: Engine, store_id: int, name: str, status: str) -> Campaign:
    """Pause (``paused``) or resume (``active``) a campaign."""
    with engine.begin() as conn:
        found = _campaign(conn, store_id, name)
        conn.execute(update(campaigns).where(campaigns.c.id == found.id).values(status=status))
        return _campaign(conn, store_id, name)


def create_campaign(engine: Engine, store_id: int, spec: CampaignSpec, now: datetime) -> Campaign:
    spec.check()
    with engine.begin() as conn:
        exists = conn.execute(
            select(campaigns.c.id).where(
                campaigns.c.store_id == store_id, campaigns.c.name == spec.name
            )
        ).first()
        if exists is not None:
            raise CampaignError(
                f"a campaign named {spec.name!r} exists already; run it again with "
                f"`bazgasht campaign run {spec.name}`"
            )
        conn.execute(
            insert(campaigns).values(
                store_id=store_id,
                name=spec.name,
                audience=parse_audience(spec.audience).spec,
                discount_type=spec.discount_type,
                amount=Decimal(0) if spec.discount_type == "percent" else spec.amount,
                percent=spec.amount if spec.discount_type == "percent" else None,
                valid_days=spec.valid_days,
                min_spend=spec.min_spend,
                holdout_percent=spec.holdout_percent,
                status="active",
                created_at=now,
            )
        )
        return _campaign(conn, store_id, spec.name)


# ---------------------------------------------------------------- dry run


@dataclass(frozen=True)
class Preview:
    """What a campaign would do now, creating nothing."""

    audience: int
    no_email: int
    already_members: int
    would_get_coupon: int
    holdout: int
    sample: list[str]  # e-mail addresses
    max_cost: Decimal | None  # fixed amounts: the most it can cost; percent: unbounded
    estimated_cost: Decimal  # percent: discount × each customer's average order

    def as_dict(self, decimals: int) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "no_email": self.no_email,
            "already_members": self.already_members,
            "would_get_coupon": self.would_get_coupon,
            "holdout": self.holdout,
            "sample": self.sample,
            "max_cost": None if self.max_cost is None else money_text(self.max_cost, decimals),
            "estimated_cost": money_text(self.estimated_cost, decimals),
        }


def preview(
    engine: Engine,
    store_id: int,
    spec: CampaignSpec,
    now: datetime,
    *,
    program: Program | None = None,
    sample_size: int = 5,
) -> Preview:
    audience = spec.check()
    identities = select_audience(engine, store_id, audience, now, program=program)
    with engine.connect() as conn:
        known = contacts(conn, store_id, identities)
        already: set[str] = set()
        row = conn.execute(
            select(campaigns.c.id).where(
                campaigns.c.store_id == store_id, campaigns.c.name == spec.name
            )
        ).first()
        if row is not None:
            already = set(
                conn.execute(
                    select(campaign_members.c.identity).where(
                        campaign_members.c.campaign_id == row[0]
                    )
                ).scalars()
            )
        history = histories(conn, store_id, now)
        decimals = store_info(conn, store_id).decimals
    new = [i for i in identities if i in known and i not in already]
    held = [i for i in new if in_holdout(store_id, spec.name, i, spec.holdout_percent)]
    held_set = set(held)
    getting = [i for i in new if i not in held_set]
    if spec.discount_type == "fixed_cart":
        max_cost: Decimal | None = spec.amount * len(getting)
        estimated = spec.amount * len(getting)
    else:
        max_cost = None
        estimated = sum(
            (history[i].average_order * spec.amount / 100 for i in getting if i in history),
            Decimal(0),
        )
    quantum = Decimal(1).scaleb(-decimals)
    if max_cost is not None:
        max_cost = max_cost.quantize(quantum)
    return Preview(
        audience=len(identities),
        no_email=len(identities) - len(known),
        already_members=len([i for i in identities if i in already]),
        would_get_coupon=len(getting),
        holdout=len(held),
        sample=[known[i].email for i in getting[:sample_size]],
        max_cost=max_cost,
        estimated_cost=estimated.quantize(quantum),
    )


# ---------------------------------------------------------------- run


def enroll(
    engine: Engine, campaign: Campaign, identities: list[str], now: datetime
) -> tuple[int, int, int]:
    """Step 2: record the audience's new identities as members, in one transaction.
    Returns (audience with e-mail, enrolled, held out)."""
    with engine.begin() as conn:
        known = contacts(conn, campaign.store_id, identities)
        already = set(
            conn.execute(
                select(campaign_members.c.identity).where(
                    campaign_members.c.campaign_id == campaign.id
                )
            ).scalars()
        )
        enrolled = held = 0
        expires = now + timedelta(days=campaign.valid_days)
        for ident in identities:
            if ident not in known or ident in already:
                continue
            holdout = in_holdout(campaign.store_id, campaign.name, ident, campaign.holdout_percent)
            conn.execute(
                insert(campaign_members).values(
                    campaign_id=campaign.id,
                    identity=ident,
                    email=known[ident].email,
                    holdout=holdout,
                    status="holdout" if holdout else "pending",
                    # Random, and stored before the coupon exists: the retry looks it up.
                    code=None if holdout else new_code(CAMPAIGN_PREFIX),
                    joined_at=now,
                    expires_at=expires,
                    attempts=0,
                )
            )
            held += 1 if holdout else 0
            enrolled += 1
    return len(known), enrolled, held


def issue_member(
    engine: Engine,
    client: CouponApi,
    store: StoreInfo,
    campaign: Campaign,
    member_id: int,
    now: datetime,
) -> Member:
    """Step 3 for one pending member; returns it as it now stands."""
    m = _member(engine, member_id)
    if m.status != "pending":
        return m
    error: str | None = None
    status = "pending"
    coupon: Coupon | None = None
    try:
        coupon = ensure_coupon(client, coupon_spec(store, campaign, m))
    except (TransientError, InvalidResponseError, ValidationError) as exc:
        error = _describe(exc)
        log.warning("campaign member %s: coupon not issued yet (%s)", m.id, exc)
    except (CouponConflict, BadRequestError, NotFoundError, StoreError) as exc:
        error, status = f"the store refused the coupon: {_describe(exc)}", "failed"
    with engine.begin() as conn:
        values: dict[str, Any] = {"attempts": campaign_members.c.attempts + 1}
        if coupon is not None:
            values.update(status="issued", coupon_id=coupon.id, issued_at=now, last_error=None)
        else:
            values.update(status=status, last_error=(error or "")[:2000])
        conn.execute(
            update(campaign_members)
            .where(campaign_members.c.id == m.id, campaign_members.c.status == "pending")
            .values(**values)
        )
    return _member(engine, m.id)


def _describe(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__


def run_campaign(
    engine: Engine,
    client: CouponApi,
    store_id: int,
    name: str,
    now: datetime,
    *,
    program: Program | None = None,
) -> RunResult:
    """Finish pending members, enroll the audience's newcomers (unless paused), issue.

    One run per campaign at a time (across processes and hosts): a second one raises
    ``LockHeld`` at once; the next cron run picks up whatever is left."""
    campaign = get_campaign(engine, store_id, name)
    with ExitStack() as stack:
        try:
            stack.enter_context(store_lock(engine, f"{store_id}:{campaign.id}", purpose="campaign"))
        except LockHeld:
            raise LockHeld(
                f"campaign {name!r} is being run by another process right now; skipped this "
                "run (the next one continues where that one ends)."
            ) from None
        return _run_locked(engine, client, campaign, now, program)
    raise AssertionError("unreachable")  # pragma: no cover


def _run_locked(
    engine: Engine,
    client: CouponApi,
    campaign: Campaign,
    now: datetime,
    program: Program | None,
) -> RunResult:
    store_id = campaign.store_id
    with engine.connect() as conn:
        store = store_info(conn, store_id)
    result = RunResult(campaign.name, campaign.status)
    if campaign.status == "active":
        identities = select_audience(
            engine, store_id, parse_audience(campaign.audience), now, program=program
        )
        result.audience = len(identities)
        with_email, result.enrolled, result.holdout = enroll(engine, campaign, identities, now)
        result.no_email = len(identities) - with_email
    for m in members(engine, campaign, "pending"):
        done = issue_member(engine, client, store, campaign, m.id, now)
        if done.status == "issued":
            result.issued += 1
        elif done.status == "failed":
            result.failed += 1
            result.problems.append(f"{done.email}: {done.last_error}")
        else:
            result.pending += 1
    with engine.begin() as conn:
        conn.execute(update(campaigns).where(campaigns.c.id == campaign.id).values(last_run_at=now))
    return result


__all__ = [
    "Campaign",
    "CampaignError",
    "CampaignSpec",
    "Member",
    "Preview",
    "RunResult",
    "coupon_spec",
    "create_campaign",
    "enroll",
    "get_campaign",
    "in_holdout",
    "issue_member",
    "list_campaigns",
    "members",
    "preview",
    "run_campaign",
    "set_status",
]
