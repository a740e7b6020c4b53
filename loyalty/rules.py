"""The program's rules as pure functions: mirror facts in, the points each key should hold out.

Nothing here touches a database, a network or a clock: ``now`` is an argument. The services
(``reconcile``, ``verify``, ``redeem``) load facts, call these, and write what they return.

Keys (SPEC §4), per store:

* ``welcome:<store>:customer:<id>`` — an account's welcome points;
* ``second:<store>:<identity>`` — the second-purchase reward;
* ``cashback:<store>:<order id>`` — an order's cashback;
* ``expiry:<store>:<lot key>`` — what expired of one lot (a credit key above, or a manual
  credit), negative;
* ``redeem:<store>:<redemption id>`` and ``manual:<store>:<token>`` — facts, not derived: a
  redemption's debit (and its release) and a manual grant. Rules never change their amounts;
  they only say which identity owns them now.

Amounts: money arrives as integer units of 10⁻⁴ (``connector._schema.Money``); points are
``int``. There is one rounding function, ``floor_points``: floor, i.e. a customer never gets a
fraction of a point, and every computation is exact (integers, no binary floats).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from itertools import groupby
from typing import NamedTuple

from connector.money import UNITS, to_units, units_text
from loyalty.identity import account_email_map, identity_of
from loyalty.settings import Program

WELCOME = "welcome"
SECOND = "second"
CASHBACK = "cashback"
EXPIRY = "expiry"
REDEEM = "redeem"
MANUAL = "manual"
#: Families whose amounts the rules compute from the mirror.
DERIVED = frozenset({WELCOME, SECOND, CASHBACK, EXPIRY})
#: Families that are lots (credits that can expire) when positive.
LOT_FAMILIES = frozenset({WELCOME, SECOND, CASHBACK, MANUAL})

KINDS = ("earn", "reversal", "redemption", "redemption_release", "expiry", "transfer", "manual")


# --------------------------------------------------------------------------- keys


def welcome_key(store: str, identity: str) -> str:
    return f"{WELCOME}:{store}:{identity}"


def second_key(store: str, identity: str) -> str:
    return f"{SECOND}:{store}:{identity}"


def cashback_key(store: str, order_id: int) -> str:
    return f"{CASHBACK}:{store}:{order_id}"


def expiry_key(store: str, lot_key: str) -> str:
    return f"{EXPIRY}:{store}:{lot_key}"


def redeem_key(store: str, redemption_id: int) -> str:
    return f"{REDEEM}:{store}:{redemption_id}"


def manual_key(store: str, token: str) -> str:
    return f"{MANUAL}:{store}:{token}"


def family(key: str) -> str:
    return key.split(":", 1)[0]


def key_subject(key: str) -> str:
    """What a key is about, after ``<family>:<store>:`` — an identity, an order id or a lot key."""
    return key.split(":", 2)[2]


# --------------------------------------------------------------------------- time and amounts


def add_months(instant: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the last day when the month is shorter)."""
    years, month0 = divmod(instant.month - 1 + months, 12)
    year = instant.year + years
    if instant.day <= 28:
        return instant.replace(year=year, month=month0 + 1)
    day = min(instant.day, calendar.monthrange(year, month0 + 1)[1])
    return instant.replace(year=year, month=month0 + 1, day=day)


def floor_points(numerator: int, denominator: int) -> int:
    """THE rounding of the program: points are the floor of an exact fraction."""
    return numerator // denominator


@dataclass(frozen=True, slots=True)
class CashbackRate:
    """``percent / 100 / point_value`` per money unit, as an exact fraction."""

    numerator: int
    denominator: int

    @classmethod
    def of(cls, percent: Decimal, point_value: Decimal) -> CashbackRate:
        rate = Fraction(percent) / 100 / Fraction(point_value) / UNITS
        return cls(rate.numerator, rate.denominator)

    def points(self, base_units: int) -> int:
        return floor_points(base_units * self.numerator, self.denominator)

    def points_pro_rata(self, part_units: int, scale_num: int, scale_den: int) -> int:
        """floor(part × scale_num / scale_den × rate), exactly."""
        return floor_points(part_units * scale_num * self.numerator, scale_den * self.denominator)


def cashback_points(base: Decimal, percent: Decimal, point_value: Decimal) -> int:
    """floor(base × percent / 100 / point_value), exact: 29.19 at 2 % and 0.01 → 58."""
    return CashbackRate.of(percent, point_value).points(to_units(base))


# --------------------------------------------------------------------------- facts


class OrderFacts(NamedTuple):
    """What the rules need of one order; money in units of 10⁻⁴. A named tuple, not a
    dataclass: a full run makes one per order (a frozen dataclass costs several times more)."""

    order_id: int
    customer_id: int
    billing_email: str  # normalized
    status: str
    created_at: datetime
    completed_at: datetime | None
    paid_at: datetime | None
    total: int
    refunded: int
    shipping: int = 0
    tax: int = 0
    deleted: bool = False

    @property
    def net(self) -> int:
        return self.total - self.refunded

    @property
    def earned_at(self) -> datetime:
        """When the order earned: its completion (else payment, else creation)."""
        return self.completed_at or self.paid_at or self.created_at


@dataclass(frozen=True, slots=True)
class AccountFacts:
    customer_id: int
    email: str  # normalized
    role: str
    created_at: datetime
    deleted: bool = False

    @property
    def identity(self) -> str:
        return f"customer:{self.customer_id}"

    @property
    def is_member(self) -> bool:
        """A customer account that exists: staff accounts and deleted ones are not."""
        return self.role == "customer" and not self.deleted


@dataclass(frozen=True, slots=True)
class Movement:
    """The net of a non-derived key (a redemption, a manual grant) as its owner sees it."""

    key: str
    points: int
    at: datetime


class Desired(NamedTuple):
    """What one key should hold, and on which identity (a named tuple: one per entry)."""

    key: str
    identity: str
    points: int
    effective_at: datetime
    order_id: int | None = None
    reason: str = ""


class Lot(NamedTuple):
    """A credit's remainder after debits and expiry, and when it will expire (a named tuple:
    a full run makes one per credit still open)."""

    key: str
    remaining: int
    earned_at: datetime
    expires_at: datetime | None


@dataclass
class Outcome:
    """Everything the rules say about one identity."""

    identity: str
    desired: list[Desired] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    #: With inactivity expiry: when the whole balance expires unless an earning order comes.
    inactive_at: datetime | None = None
    #: Creation times of earning orders and the account (inactivity is measured from these).
    activity: list[datetime] = field(default_factory=list)


def is_earning(order: OrderFacts, program: Program) -> bool:
    """SPEC §4: status in ``earn_statuses``, order not deleted, total − refunds > 0."""
    return order.status in program.earn_statuses and not order.deleted and order.net > 0


def may_earn(identity: str, program: Program) -> bool:
    """Registered customers earn; guests (e-mail identities) when ``guests_earn``; a guest
    order without any e-mail has nobody to credit."""
    if identity.startswith("customer:"):
        return True
    if identity.startswith("email:"):
        return program.guests_earn
    return False


def order_cashback(order: OrderFacts, program: Program, rate: CashbackRate) -> int:
    """The cashback of an earning order, per ``cashback_base``."""
    if program.cashback_base == "items":
        # Items only (no shipping, no tax), reduced in proportion to what was refunded.
        items = max(0, order.total - order.shipping - order.tax)
        return rate.points_pro_rata(items, order.net, order.total)
    return rate.points(order.net)


def pending_points(
    held: Iterable[tuple[str, int, datetime]], program: Program, now: datetime
) -> int:
    """Cashback still inside its return window (``pending_days`` after the order completed):
    shown, not spendable. ``held`` are (key, points held, when they took effect)."""
    if not program.pending_days:
        return 0
    cutoff = now - program.pending
    return sum(p for k, p, at in held if p > 0 and at > cutoff and family(k) == CASHBACK)


# --------------------------------------------------------------------------- one identity


def identity_outcome(
    identity: str,
    orders: Sequence[OrderFacts],
    account: AccountFacts | None,
    program: Program,
    now: datetime,
    movements: Sequence[Movement] = (),
    rate: CashbackRate | None = None,
) -> Outcome:
    """The desired keys of one identity. ``orders`` are its orders in creation order
    (``created_at``, then id); ``movements`` the non-derived keys it owns (for expiry)."""
    rate = rate or CashbackRate.of(program.cashback_percent, program.point_value)
    store = program.store
    out = Outcome(identity)
    # (``is_earning`` inline: this runs for every order of a full run)
    earn_statuses = program.earn_statuses
    earning = [
        o for o in orders if o.status in earn_statuses and not o.deleted and o.total > o.refunded
    ]
    lots: list[tuple[str, int, datetime]] = []
    starts_at = program.starts_at

    if account is not None:
        out.activity.append(account.created_at)
        if (
            account.is_member
            and account.identity == identity
            and program.welcome_points > 0
            and account.created_at >= starts_at
        ):
            key = welcome_key(store, identity)
            out.desired.append(
                Desired(
                    key,
                    identity,
                    program.welcome_points,
                    account.created_at,
                    None,
                    f"welcome: account created {account.created_at:%Y-%m-%d}",
                )
            )
            lots.append((key, program.welcome_points, account.created_at))

    if may_earn(identity, program):
        if (
            len(earning) >= 2
            and program.second_purchase_points > 0
            and earning[1].created_at >= starts_at
        ):
            second = earning[1]
            key = second_key(store, identity)
            out.desired.append(
                Desired(
                    key,
                    identity,
                    program.second_purchase_points,
                    second.earned_at,
                    second.order_id,
                    f"second purchase: order {second.order_id}",
                )
            )
            lots.append((key, program.second_purchase_points, second.earned_at))
        from_order, decimals = program.cashback_from_order, program.decimals
        percent = f"{program.cashback_percent}% cashback on order"
        on_net = program.cashback_base != "items"
        numerator, denominator = rate.numerator, rate.denominator
        desired, add = out.desired.append, lots.append
        for ordinal, order in enumerate(earning, start=1):
            if ordinal < from_order or order.created_at < starts_at:
                continue
            order_id, total, refunded_units = order.order_id, order.total, order.refunded
            if on_net:  # ``order_cashback``, inline
                points = (total - refunded_units) * numerator // denominator
            else:
                points = order_cashback(order, program, rate)
            if points <= 0:
                continue
            key = f"{CASHBACK}:{store}:{order_id}"  # cashback_key
            refunded = (
                f", {units_text(refunded_units, decimals)} refunded" if refunded_units else ""
            )
            earned = order.completed_at or order.paid_at or order.created_at
            desired(
                Desired(
                    key,
                    identity,
                    points,
                    earned,
                    order_id,
                    f"{percent} {order_id} ({units_text(total, decimals)}{refunded})",
                )
            )
            add((key, points, earned))

    out.activity.extend(o.created_at for o in earning)
    debits: list[tuple[str, int, datetime]] = []
    for move in movements:
        if move.points > 0 and family(move.key) in LOT_FAMILIES:
            lots.append((move.key, move.points, move.at))
        elif move.points < 0:
            debits.append((move.key, -move.points, move.at))
    inactivity = program.inactivity_expiry_months is not None
    if program.expiry_months is None and not inactivity:
        return out
    expired, remaining, inactive_at = simulate_expiry(
        lots, debits, out.activity, program.expiry_months, program.inactivity_expiry_months, now
    )
    out.lots = remaining
    out.inactive_at = inactive_at
    earned_at = {key: earned for key, _, earned in lots} if inactivity else {}
    for lot_key, (points, at) in sorted(expired.items()):
        # Without the inactivity rule, every expiry is by age.
        by_age = program.expiry_months is not None and (
            not inactivity or add_months(earned_at[lot_key], program.expiry_months) == at
        )
        why = (
            f"{program.expiry_months} months after they were earned"
            if by_age
            else f"no earning order for {program.inactivity_expiry_months} months"
        )
        out.desired.append(
            Desired(
                expiry_key(store, lot_key),
                identity,
                -points,
                at,
                None,
                f"expired: {points} points of {lot_key} ({why})",
            )
        )
    return out


def simulate_expiry(
    lots: Iterable[tuple[str, int, datetime]],
    debits: Iterable[tuple[str, int, datetime]],
    activity: Iterable[datetime],
    expiry_months: int | None,
    inactivity_months: int | None,
    now: datetime,
) -> tuple[dict[str, tuple[int, datetime]], list[Lot], datetime | None]:
    """Lots and debits on one timeline, oldest lot consumed first.

    Returns (lot key → (points expired, when), the lots' remainders, the inactivity
    deadline). A debit larger than the open lots leaves a deficit that the next lots pay
    first (a balance below zero is paid back before anything can expire)."""
    lot_list = sorted((e, k, p) for k, p, e in lots if p > 0)
    debit_list = sorted((at, k, p) for k, p, at in debits if p > 0)
    # (only the inactivity rule looks at the activity)
    times = sorted(set(activity)) if inactivity_months is not None else []
    inactive_at = (
        add_months(times[-1], inactivity_months) if (inactivity_months and times) else None
    )
    expiries_of = [add_months(e, expiry_months) if expiry_months else None for e, _, _ in lot_list]
    if not debit_list and inactivity_months is None:
        # Nothing spent, no inactivity rule (most customers): each lot expires whole, or not.
        expired_whole: dict[str, tuple[int, datetime]] = {}
        kept: list[Lot] = []
        for (earned, key, points), expires in zip(lot_list, expiries_of, strict=True):
            if expires is not None and expires <= now:
                expired_whole[key] = (points, expires)
            else:
                kept.append(Lot(key, points, earned, expires))
        return expired_whole, kept, inactive_at
    # Events: (time, order, payload). Order: lots come in, then debits, then expiries.
    events: list[tuple[datetime, int, str, int]] = []
    for i, (earned, _key, _points) in enumerate(lot_list):
        events.append((earned, 0, "lot", i))
        expires = expiries_of[i]
        if expires is not None and expires <= now:
            events.append((expires, 2, "age", i))
    for i, (at, _key, _points) in enumerate(debit_list):
        events.append((at, 1, "debit", i))
    if inactivity_months is not None:
        following_times: list[datetime | None] = [*times[1:], None] if times else []
        for current, following in zip(times, following_times, strict=True):
            deadline = add_months(current, inactivity_months)
            if deadline <= now and (following is None or following > deadline):
                events.append((deadline, 3, "inactive", 0))
    events.sort()  # by (time, order, index): the payload name follows from the order

    remaining = [0] * len(lot_list)
    open_lots: list[int] = []  # indexes into lot_list, oldest first
    deficit = 0
    expired: dict[str, tuple[int, datetime]] = {}
    for when, _order, what, index in events:
        if what == "lot":
            points = lot_list[index][2]
            paid = min(deficit, points)
            deficit -= paid
            remaining[index] = points - paid
            if remaining[index]:
                open_lots.append(index)
        elif what == "debit":
            need = debit_list[index][2]
            while need and open_lots:
                head = open_lots[0]
                take = min(need, remaining[head])
                remaining[head] -= take
                need -= take
                if remaining[head] == 0:
                    open_lots.pop(0)
            deficit += need
        elif what == "age":
            if remaining[index]:
                key = lot_list[index][1]
                expired[key] = (remaining[index], when)
                remaining[index] = 0
                open_lots.remove(index)
        else:  # inactivity: everything still open expires
            for head in open_lots:
                expired[lot_list[head][1]] = (remaining[head], when)
                remaining[head] = 0
            open_lots.clear()
    left = [
        Lot(
            key=lot_list[i][1],
            remaining=remaining[i],
            earned_at=lot_list[i][0],
            expires_at=expiries_of[i],
        )
        for i in open_lots
    ]
    return expired, left, inactive_at


# --------------------------------------------------------------------------- a whole store


def owner_of(identity: str, accounts: Mapping[int, AccountFacts], claims: Mapping[str, int]) -> str:
    """Where an identity's balance belongs now.

    * ``email:x`` claimed by a customer account → that ``customer:<id>`` (the guest
      registered; SPEC §4: history and balance move to the customer);
    * ``customer:<id>`` whose account was deleted → the identity of the account's e-mail
      (WooCommerce turned their orders into guest orders);
    * anything else → itself."""
    kind, _, rest = identity.partition(":")
    if kind == "email":
        claimed = claims.get(rest)
        return f"customer:{claimed}" if claimed is not None else identity
    if kind == "customer" and rest.isdigit():
        account = accounts.get(int(rest))
        if account is not None and account.deleted and account.email:
            return owner_of(f"email:{account.email}", accounts, claims)
    return identity


def desired_points(
    orders: Iterable[OrderFacts],
    accounts: Iterable[AccountFacts],
    program: Program,
    now: datetime,
    movements: Iterable[tuple[str, Movement]] = (),
) -> dict[str, Outcome]:
    """The rules over a whole store, in memory: identity → its outcome.

    ``movements`` are (identity the key was written to, movement) for non-derived keys;
    they count for the identity that owns that one now."""
    account_list = list(accounts)
    by_id = {a.customer_id: a for a in account_list}
    claims = account_email_map((a.customer_id, a.email, a.role, a.deleted) for a in account_list)
    keyed = sorted(
        ((identity_of(o.order_id, o.customer_id, o.billing_email, claims), o) for o in orders),
        key=lambda pair: (pair[0], pair[1].created_at, pair[1].order_id),
    )
    moves: dict[str, list[Movement]] = {}
    for written_to, move in movements:
        moves.setdefault(owner_of(written_to, by_id, claims), []).append(move)
    rate = CashbackRate.of(program.cashback_percent, program.point_value)
    result: dict[str, Outcome] = {}
    for identity, group in groupby(keyed, key=lambda pair: pair[0]):
        account = _account_for(identity, by_id)
        result[identity] = identity_outcome(
            identity,
            [o for _, o in group],
            account,
            program,
            now,
            moves.get(identity, ()),
            rate,
        )
    for account in account_list:
        if account.identity not in result:
            result[account.identity] = identity_outcome(
                account.identity, [], account, program, now, moves.get(account.identity, ()), rate
            )
    for identity, identity_moves in moves.items():
        if identity not in result:
            result[identity] = identity_outcome(
                identity, [], _account_for(identity, by_id), program, now, identity_moves, rate
            )
    return result


def _account_for(identity: str, accounts: Mapping[int, AccountFacts]) -> AccountFacts | None:
    kind, _, rest = identity.partition(":")
    if kind == "customer" and rest.isdigit():
        return accounts.get(int(rest))
    return None


def desired_by_key(outcomes: Iterable[Outcome]) -> dict[str, Desired]:
    return {d.key: d for outcome in outcomes for d in outcome.desired}


# --------------------------------------------------------------------------- the difference


@dataclass(frozen=True, slots=True)
class Holding:
    """What the ledger holds of one key on one identity."""

    identity: str
    points: int


@dataclass(frozen=True, slots=True)
class KeyState:
    """A key as recorded: its holders (non-zero), last sequence number and latest effective
    time; ``origin`` is the identity of its first entry (who a redemption or grant was for)."""

    key: str
    holdings: tuple[Holding, ...]
    last_seq: int
    effective_at: datetime | None
    origin: str | None = None
    #: The order its entries refer to (the latest one, for a second-purchase key).
    order_id: int | None = None

    @property
    def total(self) -> int:
        return sum(h.points for h in self.holdings)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry reconciliation appends."""

    key: str
    seq: int
    identity: str
    points: int
    kind: str
    reason: str
    effective_at: datetime
    order_id: int | None = None


def plan_key(
    key: str,
    desired: Desired | None,
    state: KeyState | None,
    now: datetime,
    owner: Callable[[str], str],
    explain: Callable[[str], str] = lambda key: "",
) -> list[NewEntry]:
    """The entries that bring one key from ``state`` to ``desired`` (empty when it is right).

    * derived key, desired non-zero: move every other holder's points to the desired
      identity (``transfer`` pairs), then append the difference (``earn``/``reversal``, or
      ``expiry`` for expiry keys);
    * derived key that should hold nothing: take back what each holder has;
    * non-derived key (redemption, grant): only moved, to the owner of its first identity.
    """
    holdings = [h for h in (state.holdings if state else ()) if h.points != 0]
    seq = state.last_seq if state else 0
    entries: list[NewEntry] = []
    fam = family(key)
    kept_time = (state.effective_at if state else None) or now

    def add(
        identity: str, points: int, kind: str, reason: str, at: datetime, order: int | None
    ) -> None:
        nonlocal seq
        seq += 1
        entries.append(NewEntry(key, seq, identity, points, kind, reason, at, order))

    def move(
        source: str, target: str, points: int, at: datetime, order: int | None, why: str
    ) -> None:
        add(source, -points, "transfer", f"moved to {target}: {why}", at, order)
        add(target, points, "transfer", f"moved from {source}: {why}", at, order)

    if fam not in DERIVED:
        if state is None or not holdings:
            return []
        target = owner(state.origin or holdings[0].identity)
        for h in holdings:
            if h.identity != target:
                move(
                    h.identity,
                    target,
                    h.points,
                    kept_time,
                    None,
                    f"{h.identity} now belongs to {target}",
                )
        return entries

    order_id = desired.order_id if desired else (state.order_id if state else None)
    order_id = order_id if order_id is not None else _order_of(key)
    if desired is None or desired.points == 0:
        why = explain(key) or "no longer due"
        for h in holdings:
            kind = "expiry" if fam == EXPIRY else "reversal"
            add(h.identity, -h.points, kind, f"{why}", kept_time, order_id)
        return entries

    target = desired.identity
    for h in holdings:
        if h.identity != target:
            move(
                h.identity,
                target,
                h.points,
                desired.effective_at,
                order_id,
                explain(key) or "the key's identity changed",
            )
    diff = desired.points - sum(h.points for h in holdings)
    if diff:
        if fam == EXPIRY:
            kind = "expiry"
            reason = (
                desired.reason
                if not holdings
                else f"{desired.reason} (was {-sum(h.points for h in holdings)})"
            )
        elif diff > 0 and not holdings:
            kind, reason = "earn", desired.reason
        else:
            kind = "earn" if diff > 0 else "reversal"
            before = sum(h.points for h in holdings)
            reason = f"{before} → {desired.points} points: {desired.reason}"
        add(target, diff, kind, reason, desired.effective_at, order_id)
    return entries


def _order_of(key: str) -> int | None:
    if family(key) == CASHBACK:
        subject = key_subject(key)
        return int(subject) if subject.isdigit() else None
    return None


def plan(
    desired: Mapping[str, Desired],
    recorded: Mapping[str, KeyState],
    now: datetime,
    owner: Callable[[str], str],
    explain: Callable[[str], str] = lambda key: "",
) -> list[NewEntry]:
    """``plan_key`` over every key either side knows (pure reconciliation)."""
    entries: list[NewEntry] = []
    for key in sorted(set(desired) | set(recorded)):
        entries.extend(plan_key(key, desired.get(key), recorded.get(key), now, owner, explain))
    return entries


__all__ = [
    "CASHBACK",
    "DERIVED",
    "EXPIRY",
    "KINDS",
    "MANUAL",
    "REDEEM",
    "SECOND",
    "WELCOME",
    "AccountFacts",
    "CashbackRate",
    "Desired",
    "Holding",
    "KeyState",
    "Lot",
    "Movement",
    "NewEntry",
    "OrderFacts",
    "Outcome",
    "add_months",
    "cashback_key",
    "cashback_points",
    "desired_by_key",
    "desired_points",
    "expiry_key",
    "family",
    "floor_points",
    "identity_outcome",
    "is_earning",
    "manual_key",
    "may_earn",
    "owner_of",
    "pending_points",
    "plan",
    "plan_key",
    "redeem_key",
    "second_key",
    "simulate_expiry",
    "welcome_key",
]
