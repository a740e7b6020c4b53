"""A deterministic, realistic two-year history of a shop: ``generate_store``.

The shape follows the recorded fixture stores (see ``docs/sample-store.md``):

* accounts sign up over the two years before ``now``; about a fifth of the buyers are
  guests; about one account in nine never orders;
* about half the buyers buy once, and a long tail buys often (the most loyal dozens of
  times), those who arrived early having had more time to;
* orders grow over time and peak in November/December (Nowruz and Yalda in the Persian
  shop), with a daily rhythm;
* statuses in the fixture proportions, recent orders still ``processing``; full refunds
  flip an order to ``refunded``; partial refunds on ~3 % of orders, some twice;
* coupons on some orders; guests who register later (their earlier guest order keeps
  ``customer_id`` 0); a couple of guests typing their e-mail in another case; accounts
  with a billing e-mail unlike the account's; a few deleted accounts whose orders were
  rewritten to ``customer_id`` 0; timestamp ties (bulk actions) in ``date_modified``.

Everything comes from one ``random.Random(seed)``: the same arguments give the same store.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect_right
from datetime import UTC, datetime
from decimal import Decimal

from samplestore._catalog import (
    CUSTOMER_NOTES,
    FIRST_POST_ID_AFTER_CATALOGUE,
    REFUND_REASONS_FULL,
    REFUND_REASONS_PARTIAL,
    SEED_COUPONS,
    Flavour,
)
from samplestore._data import (
    ACCENTED_FIRST_RANGE,
    ACCENTED_LAST_RANGE,
    CANCELLED,
    COMPLETED,
    FAILED,
    FIRST_NAMES,
    FLAG_ADMIN_CREATED,
    LAST_NAMES,
    LATIN_FIRST_RANGE,
    LATIN_LAST_RANGE,
    ON_HOLD,
    PAID_STATUSES,
    PENDING,
    PERSIAN_FIRST_RANGE,
    PERSIAN_LAST_RANGE,
    PROCESSING,
    REFUNDED,
    ROLE_ADMIN,
    CouponRecord,
    StoreData,
    make_email,
    spread,
    to_epoch,
)

DAY = 86_400
HISTORY_DAYS = 730
#: Mean orders per buyer (the fixture store: 1 500 orders, 327 buyers).
ORDERS_PER_BUYER = 4.6
GUEST_SHARE = 0.2  #: of buyers
NEVER_ORDERED_SHARE = 0.11  #: of accounts
RECENT_SHARE = 0.03  #: newest orders, still mostly in progress

# (status, weight): older orders have settled, the newest are still in progress.
_SETTLED = (
    (COMPLETED, 907),
    (CANCELLED, 41),
    (FAILED, 25),
    (REFUNDED, 13),
    (ON_HOLD, 7),
    (PENDING, 7),
)
_RECENT = (
    (PROCESSING, 650),
    (COMPLETED, 200),
    (PENDING, 70),
    (ON_HOLD, 50),
    (FAILED, 20),
    (CANCELLED, 10),
)
_HOURS = (3, 2, 1.5, 1, 1, 1.5, 3, 6, 9, 11, 12, 12, 13, 12, 11, 11, 12, 13, 14, 15, 15, 13, 9, 5)


class _Timeline:
    """Maps u ∈ [0, 1) to an instant of the history so that uniform u give the shop's
    order rhythm: growth, seasons, holidays, hours of the day. ``unwarp`` inverts it."""

    def __init__(self, start: int, end: int, flavour: Flavour) -> None:
        self.start, self.end = start, end
        days = max(1, math.ceil((end - start) / DAY))
        weights = []
        for d in range(days):
            date = datetime.fromtimestamp(start + d * DAY, UTC)
            # Mild growth: repeat purchases already pile up towards the end of the history.
            weights.append((0.8 + 0.4 * d / days) * _season(date, flavour))
        self.weights = weights
        self.cum = [0.0]
        for w in weights:
            self.cum.append(self.cum[-1] + w)
        self.hcum = [0.0]
        for w in _HOURS:
            self.hcum.append(self.hcum[-1] + w)

    def warp(self, u: float) -> int:
        target = u * self.cum[-1]
        d = min(bisect_right(self.cum, target) - 1, len(self.weights) - 1)
        day_frac = (target - self.cum[d]) / self.weights[d]
        h_target = day_frac * self.hcum[-1]
        h = min(bisect_right(self.hcum, h_target) - 1, 23)
        hour_frac = (h_target - self.hcum[h]) / _HOURS[h]
        moment = self.start + d * DAY + h * 3600 + int(hour_frac * 3600)
        return min(moment, self.end - 1)

    def unwarp(self, moment: int) -> float:
        offset = min(max(moment - self.start, 0), len(self.weights) * DAY - 1)
        d, second = divmod(offset, DAY)
        h, in_hour = divmod(second, 3600)
        day_frac = (self.hcum[h] + _HOURS[h] * in_hour / 3600) / self.hcum[-1]
        return min((self.cum[d] + self.weights[d] * day_frac) / self.cum[-1], 0.999999)


def _season(date: datetime, flavour: Flavour) -> float:
    """Relative daily demand: Black Friday and Christmas, or Nowruz and Yalda."""
    if flavour == "persian":
        factor = (0.95, 1.2, 1.5, 0.8, 0.9, 0.9, 0.85, 0.9, 0.95, 1.0, 1.05, 1.25)[date.month - 1]
        if date.month == 3 and date.day < 20:
            factor *= 1.4  # shopping for Nowruz
        if (date.month == 3 and date.day >= 21) or (date.month == 4 and date.day <= 2):
            factor *= 0.5  # the Nowruz holidays
        if date.month == 12 and 15 <= date.day <= 21:
            factor *= 1.5  # Yalda
        return factor
    factor = (0.8, 0.8, 0.9, 0.9, 0.95, 0.9, 0.85, 0.9, 0.95, 1.0, 1.5, 1.7)[date.month - 1]
    if (date.month == 11 and date.day >= 24) or (date.month == 12 and date.day <= 2):
        factor *= 1.6  # Black Friday to Cyber Monday
    if date.month == 12 and 18 <= date.day <= 23:
        factor *= 1.3
    if date.weekday() >= 5:
        factor *= 0.85
    return factor


def _sizes(orders: int, customers: int | None) -> tuple[int, int, int]:
    """(registered buyers, guest buyers, accounts)."""
    if orders <= 0:
        return 0, 0, max(customers or 0, 0)
    if customers is None:
        buyers = min(orders, max(1, round(orders / ORDERS_PER_BUYER)))
        registered = round(buyers * (1 - GUEST_SHARE))
        guests = buyers - registered
        accounts = round(registered / (1 - NEVER_ORDERED_SHARE))
        return registered, guests, accounts
    accounts = max(customers, 0)
    registered = min(round(accounts * (1 - NEVER_ORDERED_SHARE)), orders)
    if accounts and not registered:
        registered = min(accounts, orders)
    guests = round(registered * GUEST_SHARE / (1 - GUEST_SHARE))
    if not registered:
        guests = max(1, round(orders / ORDERS_PER_BUYER))
    if registered + guests > orders:
        registered = min(registered, round(orders * (1 - GUEST_SHARE)))
        guests = min(guests, orders - registered)
    if registered + guests == 0:
        guests = 1
    return registered, guests, accounts


def _name(rng: random.Random, flavour: Flavour) -> tuple[int, int]:
    """(first, last) name indexes: 85 % Persian in the Persian shop, 15 % elsewhere, and a
    few accented Latin names."""
    roll = rng.random()
    if roll < (0.85 if flavour == "persian" else 0.15):
        return rng.choice(PERSIAN_FIRST_RANGE), rng.choice(PERSIAN_LAST_RANGE)
    if roll > 0.985:
        k = rng.randrange(len(ACCENTED_FIRST_RANGE))
        return ACCENTED_FIRST_RANGE[k], ACCENTED_LAST_RANGE[k]
    return rng.choice(LATIN_FIRST_RANGE), rng.choice(LATIN_LAST_RANGE)


def _case_variant(email: str) -> str:
    """The same address as a guest might type it: ``Sofia_thompson23@EXAMPLE.ORG``."""
    local, _, domain = email.partition("@")
    return f"{local[:1].upper()}{local[1:]}@{domain.upper()}"


def generate_store(
    *, orders: int, customers: int | None, seed: int, currency: str, now: datetime
) -> StoreData:
    """A shop's history of ``orders`` orders over the two years before ``now``.

    ``customers`` is the number of accounts (None: about one per 5 orders, as in the
    fixture store). ``currency``: USD, EUR (2 decimals), IRT or IRR (0 decimals).
    Deterministic: the same arguments give the same store.
    """
    rng = random.Random(seed)
    data = StoreData(seed=seed, currency=currency.upper(), generated_at=to_epoch(now))
    flavour = data.currency.flavour
    end = data.generated_at - 60  # everything happened before now
    start = end - HISTORY_DAYS * DAY
    timeline = _Timeline(start, end, flavour)
    n_registered, n_guests, n_accounts = _sizes(orders, customers)

    # ---- the catalogue's coupons, created before any order (post ids follow products)
    data.next_post_id = FIRST_POST_ID_AFTER_CATALOGUE[flavour]
    coupon_created = start - 10 * DAY
    seeds = SEED_COUPONS[flavour]
    coupon_ids = []
    for seed_coupon in seeds:
        seed_amount = Decimal(seed_coupon.amount)
        if seed_coupon.discount_type != "percent":
            seed_amount = data.to_decimal(int(seed_amount * data.currency.minor_per_base))
        record = CouponRecord(
            id=data.next_post_id,
            code=seed_coupon.code,
            amount=seed_amount,
            discount_type=seed_coupon.discount_type,
            description=seed_coupon.description,
            created=coupon_created,
            modified=coupon_created,
            free_shipping=seed_coupon.free_shipping,
            individual_use=seed_coupon.individual_use,
        )
        data.coupons[record.id] = record
        coupon_ids.append(record.id)
        data.next_post_id += 1

    # ---- people: the administrator, accounts, guests
    taken: set[str] = set()
    admin_email = f"admin@store-{data.currency.code.lower()}.test"
    data.add_person(0, 0, admin_email)
    taken.add(admin_email)
    data.append_customer(
        person=0, created=start - 45 * DAY, modified=0, username="admin", role=ROLE_ADMIN
    )

    def new_person() -> int:
        first, last = _name(rng, flavour)
        email = make_email(rng, FIRST_NAMES[first][1], LAST_NAMES[last][1], taken)
        return data.add_person(first, last, email)

    signups = sorted(timeline.warp(rng.random()) for _ in range(n_accounts))
    account_person = [new_person() for _ in range(n_accounts)]
    usernames: set[str] = {"admin"}
    account_rows = []
    for signup, person in zip(signups, account_person, strict=True):
        username = data.p_email[person].split("@")[0]
        base, k = username, 2
        while username in usernames:
            username, k = f"{base}{k}", k + 1
        usernames.add(username)
        # Modification times are set once the account's orders are known.
        data.append_customer(person=person, created=signup, modified=signup, username=username)
        account_rows.append(len(data.c_id) - 1)

    # ---- buyers: who, since when, and how many orders each
    registered_rows = sorted(rng.sample(account_rows, k=min(n_registered, len(account_rows))))
    # buyer i: (account row or -1, person, first order instant)
    buyer_row: list[int] = []
    buyer_person: list[int] = []
    buyer_first: list[int] = []
    for crow in registered_rows:
        signup = data.c_created[crow]
        if rng.random() < 0.6:  # registered at checkout
            first = signup + rng.randint(30, 600)
        else:
            first = signup + int(rng.expovariate(1 / (20 * DAY)))
        buyer_row.append(crow)
        buyer_person.append(data.c_person[crow])
        buyer_first.append(min(first, end - 1))
    for _ in range(n_guests):
        buyer_row.append(-1)
        buyer_person.append(new_person())
        buyer_first.append(timeline.warp(rng.random()))
    n_buyers = len(buyer_row)

    counts = [1] * n_buyers
    extra = orders - n_buyers
    if extra > 0:
        span = [(end - t) / (end - start) for t in buyer_first]
        # Half buy once; the others' appetite is heavy-tailed (capped: dozens, not
        # thousands, of orders) and grows with the time they have had.
        weights = [
            0.0 if rng.random() < 0.5 else min(rng.paretovariate(1.3), 15.0) * s for s in span
        ]
        total_weight = sum(weights)
        if total_weight <= 0:
            weights, total_weight = [1.0] * n_buyers, float(n_buyers)
        shares = [extra * w / total_weight for w in weights]
        floors = [int(s) for s in shares]
        left = extra - sum(floors)
        by_remainder = sorted(range(n_buyers), key=lambda i: floors[i] - shares[i])
        for i in by_remainder[:left]:
            floors[i] += 1
        counts = [1 + f for f in floors]

    # ---- special cases the connector must handle
    pre_registered: set[int] = set()  # buyers whose first order was a guest order
    candidates = [
        i
        for i in range(n_buyers)
        if buyer_row[i] >= 0 and counts[i] >= 2 and data.c_created[buyer_row[i]] - start > 7 * DAY
    ]
    for i in rng.sample(candidates, k=min(len(candidates), max(1, round(n_registered * 0.03)))):
        pre_registered.add(i)
    guests_with_repeat = [i for i in range(n_buyers) if buyer_row[i] < 0 and counts[i] >= 2]
    case_variants = set(
        rng.sample(guests_with_repeat, k=min(len(guests_with_repeat), max(2, n_guests // 150)))
    )
    alt_billing: dict[int, str] = {}
    registered_buyers = [i for i in range(n_buyers) if buyer_row[i] >= 0]
    for i in rng.sample(
        registered_buyers, k=min(len(registered_buyers), max(1, round(n_registered * 0.01)))
    ):
        person = buyer_person[i]
        alt_billing[i] = make_email(
            rng, FIRST_NAMES[data.p_first[person]][1], LAST_NAMES[data.p_last[person]][1], taken
        )

    # ---- every order's instant
    # Arrays, not lists: a million orders' worth of these is transient but large.
    e_time = array("q")
    e_buyer = array("i")
    e_guest = array("b")  # 1: a registered buyer's order placed as a guest, before signing up
    for i in range(n_buyers):
        first = buyer_first[i]
        u_first = timeline.unwarp(first)
        k = counts[i]
        if i in pre_registered:
            signup = data.c_created[buyer_row[i]]
            back = rng.randint(DAY, min(90 * DAY, signup - start - 1))
            e_time.append(signup - back)
            e_buyer.append(i)
            e_guest.append(1)
            k -= 1
        if k > 0:
            e_time.append(first)
            e_buyer.append(i)
            e_guest.append(0)
        for _ in range(k - 1):
            e_time.append(max(first, timeline.warp(u_first + (1 - u_first) * rng.random())))
            e_buyer.append(i)
            e_guest.append(0)
    order_of = sorted(range(len(e_time)), key=e_time.__getitem__)
    recent_from = e_time[order_of[int(len(order_of) * (1 - RECENT_SHARE))]] if order_of else end

    # ---- deleted accounts: after their last order, in the last month
    last_order = [0] * n_buyers
    for j in order_of:
        last_order[e_buyer[j]] = e_time[j]
    deleted: dict[int, int] = {}  # buyer → deletion instant
    deletable = [
        i
        for i in registered_buyers
        if i not in pre_registered and last_order[i] < end - 2 * DAY and buyer_row[i] >= 0
    ]
    n_deleted = max(1 if n_registered >= 30 else 0, round(n_registered * 0.003))
    for i in rng.sample(deletable, k=min(len(deletable), n_deleted)):
        earliest = max(last_order[i] + 3600, end - 30 * DAY)
        deleted[i] = rng.randint(earliest, end - 3600)

    # ---- the orders, in creation order
    products = data.products
    product_cum: list[float] = []
    running = 0.0
    for product in products:
        running += product.weight
        product_cum.append(running)
    payments = data.payment_methods
    payment_cum: list[float] = []
    running = 0.0
    for method in payments:
        running += method.weight
        payment_cum.append(running)
    bacs = next((k for k, m in enumerate(payments) if m.id == "bacs"), 0)
    cod = next((k for k, m in enumerate(payments) if m.id == "cod"), -1)
    settled_cum = _cumulate(_SETTLED)
    recent_cum = _cumulate(_RECENT)
    notes = CUSTOMER_NOTES[flavour]
    coupons_by_audience: dict[str, list[CouponRecord]] = {}
    for seed_coupon, cid in zip(seeds, coupon_ids, strict=True):
        coupons_by_audience.setdefault(seed_coupon.audience, []).append(data.coupons[cid])
    coupon_odds = {"first": 0.08, "any": 0.02, "repeat": 0.015, "gift": 0.0008}
    seen = [0] * n_buyers
    cap = end - 1
    previous_created = start
    random_ = rng.random

    for j in order_of:
        i = e_buyer[j]
        created = e_time[j]
        registered = buyer_row[i] >= 0 and not e_guest[j]
        crow = buyer_row[i]
        # Same-second orders happen (imports, bursts): the trap of ordering by date.
        if random_() < 0.005 and previous_created >= (
            data.c_created[crow] if registered else start
        ):
            created = previous_created
        previous_created = created
        seen[i] += 1
        ordinal = seen[i]

        status = (
            _pick(recent_cum, random_())
            if created >= recent_from
            else _pick(settled_cum, random_())
        )
        n_lines = 1 + _pick(((0, 45), (1, 75), (2, 90), (3, 100)), random_() * 100)
        picked: list[int] = []
        while len(picked) < n_lines:
            p = bisect_right(product_cum, random_() * product_cum[-1])
            p = min(p, len(products) - 1)
            if p not in picked:
                picked.append(p)
        lines = [(p, 1 + _pick(((0, 0.75), (1, 0.93), (2, 1.0)), random_())) for p in picked]
        subtotal = sum(data.prices[p] * q for p, q in lines)

        coupon: CouponRecord | None = None
        for audience, odds in coupon_odds.items():
            if audience == "first" and ordinal != 1:
                continue
            if audience == "repeat" and ordinal < 3:
                continue
            if audience in coupons_by_audience and random_() < odds:
                coupon = coupons_by_audience[audience][0]
                break
        discount = 0
        if coupon is not None:
            discount = data.coupon_discount(coupon, subtotal)
            if coupon.discount_type == "fixed_cart" and discount >= subtotal:
                coupon, discount = None, 0  # WooCommerce's minimum spend would refuse it
        items = subtotal - discount
        free_shipping = (coupon is not None and coupon.free_shipping) or (
            items >= data.free_shipping_from
        )
        total = items + (0 if free_shipping else data.flat_shipping)

        if total == 0:
            payment = -1
        elif status == ON_HOLD:
            payment = bacs
        else:
            payment = min(bisect_right(payment_cum, random_() * payment_cum[-1]), len(payments) - 1)

        # ---- when things happened
        paid = completed = 0
        refund_plan: list[tuple[int, int, tuple[tuple[int, int], ...], bool, str]] = []
        if status in PAID_STATUSES:
            if payment == bacs:
                paid = created + rng.randint(3600, 3 * DAY)
            else:
                paid = created + rng.randint(5, 240)
            if status != PROCESSING:
                completed = paid + rng.randint(DAY // 3, 5 * DAY)
                if random_() < 0.3:  # completed in a bulk action: shared timestamps
                    completed -= completed % 900
                    completed = max(completed, paid)
                if payment == cod:
                    paid = completed  # cash is paid on delivery
            if completed > cap:
                status, completed = PROCESSING, 0
            paid = min(paid, cap)
        if status == COMPLETED and total > 0 and created < recent_from and random_() < 0.034:
            refund_plan = _partial_refunds(rng, data, lines, discount, total, completed, cap)
        if status == REFUNDED:
            when = completed + rng.randint(DAY, 20 * DAY)
            if when > cap or total == 0:
                status = COMPLETED
            else:
                reason = rng.choice(REFUND_REASONS_FULL)
                all_lines = tuple((k, q) for k, (_, q) in enumerate(lines))
                refund_plan = [(when, total, all_lines, True, reason)]

        if refund_plan:
            modified = refund_plan[-1][0] + rng.randint(0, 600)
        elif status == COMPLETED:
            modified = completed if completed % 900 == 0 else completed + rng.randint(0, 1800)
        elif status == PROCESSING:
            modified = paid + rng.randint(60, 1800)
        elif status == PENDING:
            modified = created + rng.randint(0, 1200)
        elif status == ON_HOLD:
            modified = created + rng.randint(1, 120)
        elif status == CANCELLED:
            modified = created + rng.randint(3600, 3 * DAY)
        else:  # failed
            modified = created + rng.randint(10, 300)
        modified = max(min(modified, cap), created, paid, completed)

        customer_id = data.c_id[crow] if registered else 0
        if registered and i in deleted:
            customer_id = 0
            modified = max(modified, deleted[i])
        row = data.append_order(
            status=status,
            customer=customer_id,
            person=buyer_person[i],
            created=created,
            modified=modified,
            paid=paid,
            completed=completed,
            lines=lines,
            coupon=coupon.id if coupon is not None else 0,
            discount=discount,
            free_shipping=free_shipping,
            payment=payment,
            flags=FLAG_ADMIN_CREATED if random_() < 0.03 else 0,
        )
        for when, amount, refunded_lines, shipping, reason in refund_plan:
            data.add_refund(
                row,
                created=when,
                amount=amount,
                reason=reason,
                lines=refunded_lines,
                shipping=shipping,
            )
        if random_() < 0.02:
            data.notes[row] = rng.choice(notes)
        if i in alt_billing and registered:
            data.billing_email[row] = alt_billing[i]
        if i in case_variants and ordinal == 2:
            data.billing_email[row] = _case_variant(data.p_email[buyer_person[i]])
        if coupon is not None and status not in (PENDING, CANCELLED, FAILED):
            coupon.used_by.append(
                str(customer_id) if customer_id else data.p_email[buyer_person[i]]
            )
        if registered:
            if paid:
                data.c_paying[crow] = 1
            # WooCommerce saves the customer's details at checkout: last_update moves.
            data.c_modified[crow] = max(data.c_modified[crow], min(created + 5, cap))

    # ---- accounts: last touched, deleted
    for crow in account_rows:
        if data.c_modified[crow] == data.c_created[crow]:
            data.c_modified[crow] = min(data.c_created[crow] + rng.randint(30, 900), cap)
    for i in deleted:
        data.c_deleted[buyer_row[i]] = 1
    data.rebuild_indexes()
    return data


def _cumulate(table: tuple[tuple[int, int], ...]) -> tuple[tuple[int, float], ...]:
    total = sum(w for _, w in table)
    running = 0.0
    out = []
    for value, weight in table:
        running += weight / total
        out.append((value, running))
    return tuple(out)


def _pick(cumulative: tuple[tuple[int, float], ...], roll: float) -> int:
    for value, bound in cumulative:
        if roll < bound:
            return value
    return cumulative[-1][0]


def _partial_refunds(
    rng: random.Random,
    data: StoreData,
    lines: list[tuple[int, int]],
    discount: int,
    total: int,
    completed: int,
    cap: int,
) -> list[tuple[int, int, tuple[tuple[int, int], ...], bool, str]]:
    """One or two partial refunds after completion: a returned item or an amount."""
    plans: list[tuple[int, int, tuple[tuple[int, int], ...], bool, str]] = []
    when = completed + rng.randint(DAY, 25 * DAY)
    left = total
    for n in range(2 if rng.random() < 0.15 else 1):
        if when > cap:
            break
        reason = rng.choice(REFUND_REASONS_PARTIAL)
        amount = 0
        refunded_lines: tuple[tuple[int, int], ...] = ()
        if rng.random() < 0.4 and (len(lines) > 1 or lines[0][1] > 1):
            k = rng.randrange(len(lines))
            subtotals = [data.prices[p] * q for p, q in lines]
            line_total = subtotals[k] - spread(discount, subtotals)[k]
            amount = line_total // lines[k][1]
            refunded_lines = ((k, 1),)
        if not 0 < amount < left:
            refunded_lines = ()
            if n == 1 and rng.random() < 0.3 and plans[0][1] < left:
                amount = plans[0][1]  # two refunds of the same amount: key refunds by id
            else:
                amount = max(1, int(left * rng.uniform(0.1, 0.5)))
        if not 0 < amount < left:
            break
        plans.append((when, amount, refunded_lines, False, reason))
        left -= amount
        when += rng.randint(DAY, 10 * DAY)
    return plans
