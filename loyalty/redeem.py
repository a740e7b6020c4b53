"""Redemption: points become a WooCommerce coupon, exactly once.

The steps, and what a crash at each leaves behind:

1. **Reserve** (one transaction, under the store's ledger lock): check the balance, insert the
   redemption (``pending``) and append its debit. A crash before the commit leaves nothing; a
   crash after leaves a pending redemption whose points are already debited.
2. **Issue**: look the coupon up by its code (``GET coupons?code=``); create it if missing
   (``POST coupons``). The code is random (``loyalty.codes``: nobody can guess it) and stored
   with the redemption in step 1, so a retry finds the coupon an earlier attempt made instead
   of making a second one; the store's "already exists" answer is
   looked up the same way.
3. **Mark issued.**

Every run (``after_sync``, ``loyalty redeem``, ``loyalty reconcile``) first finishes the
pending redemptions of the store (``finish_pending``). A failure that retrying cannot fix (the
store refuses the coupon: 4xx other than "already exists", after the client's retries)
releases the points with a ``redemption_release`` entry. Transient failures leave the
redemption pending for the next run. So: never two coupons for one redemption, never a
coupon without its debit.

Step 2 is ``connector.ensure_coupon``, shared with campaigns. The kill tests stop the process
between the steps from outside (``tests/_crashing_cli.py``): no test hook lives here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from connector import (
    REDEMPTION_META_KEY,
    BadRequestError,
    BazgashtError,
    CouponApi,
    CouponConflict,
    CouponSpec,
    InvalidResponseError,
    NotFoundError,
    StoreError,
    TransientError,
    customers,
    ensure_coupon,
    find_coupon,
    get_coupon,
    money_text,
    order_coupons,
    orders,
)
from loyalty._db import ledger_lock
from loyalty._schema import loyalty_ledger, loyalty_redemptions
from loyalty.codes import REDEMPTION_PREFIX, new_code
from loyalty.ledger import append, last_seq
from loyalty.rules import NewEntry, pending_points, redeem_key
from loyalty.settings import MAX_POINTS, Program

log = logging.getLogger("bazgasht.loyalty")

#: An issued coupon counts as expired unused this long after its expiry (orders placed at the
#: last minute need a sync or two to reach the mirror).
EXPIRY_GRACE = timedelta(days=1)
#: Order statuses in which an order does not hold its coupon (WooCommerce gives it back).
RELEASING_STATUSES = frozenset({"cancelled", "failed", "trash", "checkout-draft"})

STATUSES = ("pending", "issued", "used", "expired", "released")


class RedeemError(BazgashtError):
    """A redemption that cannot be made (not enough points, below the minimum, no e-mail).

    ``code`` says which rule refused it, for machines (the storefront API's 422 codes):
    ``below_minimum``, ``insufficient_balance``, ``negative_balance``, ``invalid_points``,
    ``no_email``."""

    exit_code = 1

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class RequestIdConflict(RedeemError):
    """A request id already names another redemption (other points or another customer)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="request_id_conflict")


@dataclass(frozen=True)
class Redemption:
    id: int
    store_id: int
    identity: str
    email: str
    points: int
    amount: Decimal
    code: str
    status: str
    coupon_id: int | None
    created_at: datetime
    expires_at: datetime
    issued_at: datetime | None
    used_at: datetime | None
    used_order_id: int | None
    closed_at: datetime | None
    attempts: int
    last_error: str | None
    request_id: str | None = None

    def as_dict(self, decimals: int) -> dict[str, Any]:
        """JSON-ready; the amount with the currency's ``decimals`` ("10.00", "935000")."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "identity": self.identity,
            "email": self.email,
            "points": self.points,
            "amount": f"{self.amount:.{decimals}f}",
            "code": self.code,
            "status": self.status,
            "coupon_id": self.coupon_id,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "issued_at": iso(self.issued_at),
            "used_at": iso(self.used_at),
            "used_order_id": self.used_order_id,
            "closed_at": iso(self.closed_at),
            "attempts": self.attempts,
            "last_error": self.last_error,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class Availability:
    """An identity's points: ``balance`` = all entries; ``pending`` = cashback still inside its
    return window; ``available`` = what may be redeemed now."""

    balance: int
    pending: int

    @property
    def available(self) -> int:
        return self.balance - self.pending


def availability(conn: Connection, program: Program, identity: str, now: datetime) -> Availability:
    led = loyalty_ledger
    rows = conn.execute(
        select(led.c.key, func.sum(led.c.points), func.max(led.c.effective_at))
        .where(led.c.store_id == program.store_id, led.c.identity == identity)
        .group_by(led.c.key)
    ).all()
    balance = sum(int(points) for _, points, _ in rows)
    pending = pending_points(((k, int(p), at) for k, p, at in rows), program, now)
    return Availability(balance, min(pending, max(balance, 0)))


def email_of(conn: Connection, program: Program, identity: str) -> str:
    """The e-mail a coupon for this identity is restricted to."""
    kind, _, rest = identity.partition(":")
    if kind == "email":
        return rest
    if kind == "customer" and rest.isdigit():
        email = conn.execute(
            select(customers.c.email).where(
                customers.c.store_id == program.store_id, customers.c.wc_id == int(rest)
            )
        ).scalar()
        if email:
            return str(email)
        latest = conn.execute(
            select(orders.c.billing_email)
            .where(
                orders.c.store_id == program.store_id,
                orders.c.customer_id == int(rest),
                orders.c.billing_email != "",
            )
            .order_by(orders.c.created_at.desc())
            .limit(1)
        ).scalar()
        if latest:
            return str(latest)
    raise RedeemError(
        f"{identity} has no e-mail address to restrict a coupon to; a reward coupon cannot "
        "be issued.",
        code="no_email",
    )


def _row(conn: Connection, redemption_id: int) -> Redemption:
    row = conn.execute(
        select(loyalty_redemptions).where(loyalty_redemptions.c.id == redemption_id)
    ).one()
    return Redemption(**row._mapping)


def get_redemption(engine: Engine, redemption_id: int) -> Redemption:
    with engine.connect() as conn:
        return _row(conn, redemption_id)


def redemptions(
    engine: Engine, program: Program, status: str | None = None, identity: str | None = None
) -> list[Redemption]:
    red = loyalty_redemptions
    query = select(red).where(red.c.store_id == program.store_id).order_by(red.c.id)
    if status:
        query = query.where(red.c.status == status)
    if identity:
        query = query.where(red.c.identity == identity)
    with engine.connect() as conn:
        return [Redemption(**r._mapping) for r in conn.execute(query)]


def reserve(
    engine: Engine,
    program: Program,
    identity: str,
    points: int,
    now: datetime,
    *,
    request_id: str | None = None,
) -> Redemption:
    """Step 1: check and debit, in one transaction under the ledger lock.

    With ``request_id`` (the storefront's idempotency key) a redemption already made for it
    is returned as it stands instead of a second one — unless it was for other points or
    another identity: ``RequestIdConflict``. The look-up runs under the lock, so two
    concurrent copies of one request make one redemption."""
    if points < 1 or points > MAX_POINTS:
        raise RedeemError(f"{points} points is not a believable redemption.", code="invalid_points")
    if request_id is not None:
        with engine.connect() as conn:
            earlier = _by_request(conn, program, request_id)
        if earlier is not None:
            return _same_request(earlier, identity, points)
    if points < program.min_redeem_points:
        raise RedeemError(
            f"{points} points is below the program's minimum of {program.min_redeem_points} "
            "for a redemption (min_redeem_points).",
            code="below_minimum",
        )
    amount = program.amount_of(points)
    if amount <= 0:
        raise RedeemError(
            f"{points} points are worth nothing at {program.point_value} per point.",
            code="invalid_points",
        )
    with ledger_lock(engine, program.store), engine.begin() as conn:
        if request_id is not None:
            earlier = _by_request(conn, program, request_id)
            if earlier is not None:
                return _same_request(earlier, identity, points)
        have = availability(conn, program, identity, now)
        if have.balance < 0:
            raise RedeemError(
                f"{identity} has a negative balance ({have.balance} points: points already "
                "spent were taken back by a refund); no redemption until it is positive again.",
                code="negative_balance",
            )
        if points > have.available:
            pending = f", {have.pending} of them still pending" if have.pending else ""
            raise RedeemError(
                f"{identity} has {have.available} points available ({have.balance} in "
                f"total{pending}); cannot redeem {points}.",
                code="insufficient_balance",
            )
        email = email_of(conn, program, identity)
        # Random, and stored before the coupon exists: the retry looks this code up.
        code = new_code(REDEMPTION_PREFIX)
        redemption_id = int(
            conn.execute(  # type: ignore[index]
                insert(loyalty_redemptions).values(
                    store_id=program.store_id,
                    identity=identity,
                    email=email,
                    points=points,
                    amount=amount,
                    code=code,
                    status="pending",
                    created_at=now,
                    expires_at=now + timedelta(days=program.coupon_valid_days),
                    attempts=0,
                    request_id=request_id,
                )
            ).inserted_primary_key[0]
        )
        key = redeem_key(program.store, redemption_id)
        entry = NewEntry(
            key,
            1,
            identity,
            -points,
            "redemption",
            f"redeemed for coupon {code} ({amount} {program.currency})".replace(" )", ")"),
            now,
        )
        append(conn, program.store_id, [entry], now, redemption_id=redemption_id, coupon_code=code)
        return _row(conn, redemption_id)


def _by_request(conn: Connection, program: Program, request_id: str) -> Redemption | None:
    """The store's redemption made for this request id, whoever it was for."""
    red = loyalty_redemptions
    row = conn.execute(
        select(red)
        .where(red.c.store_id == program.store_id, red.c.request_id == request_id)
        .order_by(red.c.id)
        .limit(1)
    ).first()
    return None if row is None else Redemption(**row._mapping)


def _same_request(earlier: Redemption, identity: str, points: int) -> Redemption:
    """The earlier redemption of a repeated request, if it asked for the same thing."""
    if earlier.identity != identity or earlier.points != points:
        raise RequestIdConflict(
            f"request id {earlier.request_id} was already used for redemption {earlier.id} "
            "with other points or for another customer."
        )
    return earlier


def coupon_spec(program: Program, r: Redemption) -> CouponSpec:
    """The coupon as SPEC §4 describes it (``fixed_cart``, single use, for the customer's
    e-mail, expiring ``coupon_valid_days`` after the redemption, store-local)."""
    return CouponSpec(
        code=r.code,
        discount_type="fixed_cart",
        amount=money_text(r.amount, program.decimals),
        email=r.email,
        expires=r.expires_at.astimezone(program.tz).replace(tzinfo=None),
        description=f"Loyalty reward: {r.points} points (Bazgasht redemption {r.id})",
        meta_key=REDEMPTION_META_KEY,
        marker=f"{program.store}:{r.id}:{r.code}",
    )


def issue(
    engine: Engine, client: CouponApi, program: Program, redemption_id: int, now: datetime
) -> Redemption:
    """Steps 2 and 3 for one pending redemption; returns it as it now stands.

    One process at a time issues a store's coupons (its ``coupons`` lock): the code lookup
    and the creation must not interleave with another process doing the same."""
    with ledger_lock(engine, program.store, purpose="coupons"):
        return _issue(engine, client, program, redemption_id, now)


def _issue(
    engine: Engine, client: CouponApi, program: Program, redemption_id: int, now: datetime
) -> Redemption:
    r = get_redemption(engine, redemption_id)
    if r.status != "pending":
        return r
    try:
        coupon = ensure_coupon(client, coupon_spec(program, r))
    except (TransientError, InvalidResponseError, ValidationError) as exc:
        _note_attempt(engine, r, _describe(exc))
        log.warning("redemption %s: coupon not issued yet (%s); the next run retries", r.id, exc)
        return get_redemption(engine, r.id)
    except (CouponConflict, BadRequestError, NotFoundError, StoreError) as exc:
        return release(
            engine, program, r.id, f"the store refused the coupon: {_describe(exc)}", now
        )
    with engine.begin() as conn:
        conn.execute(
            update(loyalty_redemptions)
            .where(loyalty_redemptions.c.id == r.id, loyalty_redemptions.c.status == "pending")
            .values(
                status="issued",
                coupon_id=coupon.id,
                issued_at=now,
                attempts=loyalty_redemptions.c.attempts + 1,
                last_error=None,
            )
        )
    return get_redemption(engine, r.id)


def _describe(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__


def _note_attempt(engine: Engine, r: Redemption, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(loyalty_redemptions)
            .where(loyalty_redemptions.c.id == r.id)
            .values(attempts=loyalty_redemptions.c.attempts + 1, last_error=error)
        )


def release(
    engine: Engine,
    program: Program,
    redemption_id: int,
    why: str,
    now: datetime,
    *,
    status: str = "released",
    expected: tuple[str, ...] = ("pending",),
) -> Redemption:
    """Give a redemption's points back (``redemption_release``) and close it."""
    key = redeem_key(program.store, redemption_id)
    with ledger_lock(engine, program.store), engine.begin() as conn:
        r = _row(conn, redemption_id)
        if r.status not in expected:
            return r
        led = loyalty_ledger
        held = conn.execute(
            select(led.c.identity, func.sum(led.c.points))
            .where(led.c.store_id == program.store_id, led.c.key == key)
            .group_by(led.c.identity)
        ).all()
        holder = next((i for i, p in held if p), r.identity)
        seq = last_seq(conn, program.store_id, key) + 1
        entry = NewEntry(key, seq, holder, r.points, "redemption_release", why, now)
        append(conn, program.store_id, [entry], now, redemption_id=r.id, coupon_code=r.code)
        conn.execute(
            update(loyalty_redemptions)
            .where(loyalty_redemptions.c.id == r.id)
            .values(status=status, closed_at=now, last_error=why[:2000])
        )
        return _row(conn, r.id)


def redeem(
    engine: Engine,
    client: CouponApi,
    program: Program,
    identity: str,
    points: int,
    now: datetime,
) -> Redemption:
    """Reserve and issue; the redemption may come back ``pending`` (the store was
    unreachable: the next run finishes it) or ``released`` (the store refused it)."""
    r = reserve(engine, program, identity, points, now)
    return issue(engine, client, program, r.id, now)


def finish_pending(
    engine: Engine, client: CouponApi, program: Program, now: datetime
) -> list[Redemption]:
    """Issue every redemption a crash or an unreachable store left pending."""
    return [
        issue(engine, client, program, r.id, now) for r in redemptions(engine, program, "pending")
    ]


@dataclass
class CouponCheck:
    used: int = 0
    unused_again: int = 0
    expired: int = 0
    refunded_points: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "used": self.used,
            "unused_again": self.unused_again,
            "expired": self.expired,
            "refunded_points": self.refunded_points,
        }


def check_coupons(
    engine: Engine,
    client: CouponApi | None,
    program: Program,
    now: datetime,
    *,
    on_error: Callable[[Exception], None] | None = None,
) -> CouponCheck:
    """Notice issued coupons that were used (an order in the mirror carries the code) or that
    expired unused (confirmed on the store: ``usage_count`` 0); expired ones give their points
    back when ``refund_expired_coupons`` is on."""
    result = CouponCheck()
    red = loyalty_redemptions
    with engine.begin() as conn:
        use = (
            select(
                red.c.id,
                red.c.status,
                func.min(orders.c.wc_id).label("order_id"),
                func.min(orders.c.created_at).label("used_at"),
            )
            .select_from(
                red.outerjoin(
                    order_coupons,
                    and_(
                        order_coupons.c.store_id == red.c.store_id,
                        order_coupons.c.code == red.c.code,
                    ),
                ).outerjoin(
                    orders,
                    and_(
                        orders.c.store_id == order_coupons.c.store_id,
                        orders.c.wc_id == order_coupons.c.order_id,
                        orders.c.deleted_at.is_(None),
                        orders.c.status.not_in(sorted(RELEASING_STATUSES)),
                    ),
                )
            )
            .where(red.c.store_id == program.store_id, red.c.status.in_(["issued", "used"]))
            .group_by(red.c.id, red.c.status)
        )
        for rid, status, order_id, used_at in conn.execute(use).all():
            if order_id is not None and status == "issued":
                conn.execute(
                    update(red)
                    .where(red.c.id == rid)
                    .values(status="used", used_at=used_at, used_order_id=order_id)
                )
                result.used += 1
            elif order_id is None and status == "used":
                conn.execute(
                    update(red)
                    .where(red.c.id == rid)
                    .values(status="issued", used_at=None, used_order_id=None)
                )
                result.unused_again += 1
    if client is None:
        return result
    for r in redemptions(engine, program, "issued"):
        if r.expires_at + EXPIRY_GRACE > now:
            continue
        try:
            if r.coupon_id is not None:
                coupon = get_coupon(client, r.coupon_id)
            else:
                coupon = find_coupon(client, r.code)
        except (StoreError, ValidationError) as exc:
            if on_error is None:
                raise
            on_error(exc)
            return result
        if coupon is not None and coupon.usage_count > 0:
            with engine.begin() as conn:
                conn.execute(update(red).where(red.c.id == r.id).values(status="used"))
            result.used += 1
            continue
        why = "coupon expired unused" if coupon is not None else "coupon was deleted on the store"
        if program.refund_expired_coupons:
            release(
                engine,
                program,
                r.id,
                f"{why}: points given back",
                now,
                status="expired",
                expected=("issued",),
            )
            result.refunded_points += r.points
        else:
            with engine.begin() as conn:
                conn.execute(
                    update(red)
                    .where(red.c.id == r.id, red.c.status == "issued")
                    .values(status="expired", closed_at=now, last_error=why)
                )
        result.expired += 1
    return result


__all__ = [
    "Availability",
    "CouponCheck",
    "RedeemError",
    "Redemption",
    "RequestIdConflict",
    "availability",
    "check_coupons",
    "coupon_spec",
    "email_of",
    "finish_pending",
    "issue",
    "redeem",
    "redemptions",
    "release",
    "reserve",
]
