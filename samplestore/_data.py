"""The sample store's contents: compact records, sorted indexes, queries and mutators.

A million orders must fit in memory comfortably, so an order is not an object but one
position ("row") across parallel ``array.array`` columns: about 90 bytes an order, plus its
line items at 2 bytes each. Everything a response shows (addresses, amounts, order keys) is
derived from these columns, the catalogue and the seed when a page is rendered.

Three sorted indexes of the listed (non-trashed) rows answer the queries a sync makes
without scanning: by id, by (date_created, id) and by (date_modified, id). Mutations keep
them sorted with ``bisect``; other filters scan once and the result is cached until the
next mutation (``version``).

All public methods take ``self.lock`` (re-entrant), so the HTTP threads and a test's mutator
calls see consistent data.
"""

from __future__ import annotations

import copy
import hashlib
import random
import threading
import unicodedata
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from samplestore._catalog import (
    ACCENTED,
    CURRENCIES,
    DE_CITIES,
    DE_STREETS,
    IR_CITIES,
    IR_STREETS,
    LATIN_FIRST,
    LATIN_LAST,
    PAYMENT_METHODS,
    PERSIAN_FIRST,
    PERSIAN_LAST,
    PRODUCTS,
    SHIPPING,
    US_CITIES,
    US_STREETS,
    USER_AGENTS,
    CurrencyInfo,
    PaymentMethod,
    Product,
)

# ----------------------------------------------------------------------------- statuses

STATUSES: tuple[str, ...] = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)
STATUS_CODE = {name: code for code, name in enumerate(STATUSES)}
PENDING, PROCESSING, ON_HOLD, COMPLETED, CANCELLED, REFUNDED, FAILED, DRAFT, TRASH = range(9)
#: Statuses that mean the customer paid (WooCommerce's ``wc_get_is_paid_statuses``).
PAID_STATUSES = frozenset({PROCESSING, COMPLETED, REFUNDED})

ROLE_CUSTOMER, ROLE_ADMIN = 0, 1
ROLES = ("customer", "administrator")

# Order flags (bit set).
FLAG_ADMIN_CREATED = 1  #: ``created_via: "admin"``


def _mix64(value: int) -> int:
    """splitmix64: a fast, well-spread, deterministic hash of an integer (not ``hash()``,
    which is salted per process for strings)."""
    z = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def mix(*values: int) -> int:
    """A 64-bit hash of a few integers, stable across processes."""
    h = 0
    for v in values:
        h = _mix64(h ^ (v & 0xFFFFFFFFFFFFFFFF))
    return h


def to_epoch(moment: datetime) -> int:
    """Whole seconds since the epoch; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# ----------------------------------------------------------------------------- names

#: Index 0 of both tables is the empty name (the administrator never filled one in).
FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("", ""),
    *LATIN_FIRST,
    *(first for first, _ in ACCENTED),
    *PERSIAN_FIRST,
)
LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("", ""),
    *LATIN_LAST,
    *(last for _, last in ACCENTED),
    *PERSIAN_LAST,
)
LATIN_FIRST_RANGE = range(1, 1 + len(LATIN_FIRST))
LATIN_LAST_RANGE = range(1, 1 + len(LATIN_LAST))
ACCENTED_FIRST_RANGE = range(LATIN_FIRST_RANGE.stop, LATIN_FIRST_RANGE.stop + len(ACCENTED))
ACCENTED_LAST_RANGE = range(LATIN_LAST_RANGE.stop, LATIN_LAST_RANGE.stop + len(ACCENTED))
PERSIAN_FIRST_RANGE = range(ACCENTED_FIRST_RANGE.stop, len(FIRST_NAMES))
PERSIAN_LAST_RANGE = range(ACCENTED_LAST_RANGE.stop, len(LAST_NAMES))

# MySQL's utf8mb4_unicode_ci sorts Persian by its alphabet, not by code point (پ after ب).
_PERSIAN_ALPHABET = "اآبپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
_COLLATE_MAP: dict[int, str | None] = {
    ord(c): chr(0xE000 + i) for i, c in enumerate(_PERSIAN_ALPHABET)
}
_COLLATE_MAP.update({ord("آ"): chr(0xE000), ord("ك"): _COLLATE_MAP[ord("ک")]})
_COLLATE_MAP.update({ord("ي"): _COLLATE_MAP[ord("ی")], 0x200C: None})


def collation_key(text: str) -> str:
    """A sort key close to MySQL's ``utf8mb4_unicode_ci``: accents and case ignored,
    Persian in alphabetical order after Latin."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return folded.casefold().translate(_COLLATE_MAP)


# ----------------------------------------------------------------------------- records


class Refund(NamedTuple):
    """One refund of an order. Amounts are in minor units, positive."""

    id: int
    created: int
    amount: int
    reason: str
    #: (line index within the order, quantity refunded): the refunded line items, if any.
    lines: tuple[tuple[int, int], ...]
    #: Whether the shipping line was refunded too (full refunds).
    shipping: bool
    #: First order-item id of the refund's own (negative) line items.
    item_id0: int
    #: First meta id of the ``_refunded_item_id`` metas of those items.
    meta_id0: int


@dataclass
class CouponRecord:
    """A coupon as WooCommerce stores it. Amounts are decimal strings in major units."""

    id: int
    code: str
    amount: Decimal
    discount_type: str
    description: str
    created: int
    modified: int
    expires: int | None = None
    individual_use: bool = False
    usage_limit: int | None = None
    usage_limit_per_user: int | None = None
    limit_usage_to_x_items: int | None = None
    free_shipping: bool = False
    product_ids: list[int] = field(default_factory=list)
    excluded_product_ids: list[int] = field(default_factory=list)
    product_categories: list[int] = field(default_factory=list)
    excluded_product_categories: list[int] = field(default_factory=list)
    exclude_sale_items: bool = False
    minimum_amount: Decimal = Decimal(0)
    maximum_amount: Decimal = Decimal(0)
    email_restrictions: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    meta_data: list[dict[str, Any]] = field(default_factory=list)
    #: "publish", "trash", or "deleted" (force-deleted: gone from the API, but kept so that
    #: orders which used it still render their coupon line).
    status: str = "publish"


class RefundView(NamedTuple):
    id: int
    amount: Decimal  #: positive
    created: datetime
    reason: str


class OrderView(NamedTuple):
    """An order as tests want to check it: exact amounts, aware UTC instants."""

    id: int
    status: str
    customer_id: int
    billing_email: str
    first_name: str
    last_name: str
    created: datetime
    modified: datetime
    paid: datetime | None
    completed: datetime | None
    total: Decimal
    discount: Decimal
    shipping: Decimal
    coupon_code: str | None
    refunds: tuple[RefundView, ...]
    line_items: tuple[tuple[int, int, int], ...]  #: (product_id, variation_id, quantity)

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))


class CustomerView(NamedTuple):
    id: int
    email: str
    first_name: str
    last_name: str
    username: str
    role: str
    created: datetime
    modified: datetime | None
    is_paying_customer: bool


class PersonCard(NamedTuple):
    """Everything an address block shows, derived from a person's index and the seed."""

    first_name: str
    last_name: str
    email: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    phone: str
    ip: str
    user_agent: str


class OrderAmounts(NamedTuple):
    """Minor units. ``lines`` are (subtotal, total after the coupon) per line item."""

    lines: tuple[tuple[int, int], ...]
    discount: int
    shipping: int
    total: int


# ----------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class OrderQuery:
    """The filters of ``GET /orders`` after validation. Instants are epoch seconds UTC;
    WooCommerce's date filters are strict (``after`` means ``>``)."""

    statuses: frozenset[int] | None = None  #: None: "any" (all but trash)
    customer: int | None = None
    include: tuple[int, ...] | None = None
    exclude: frozenset[int] = frozenset()
    created_after: int | None = None
    created_before: int | None = None
    modified_after: int | None = None
    modified_before: int | None = None
    orderby: str = "date"  #: date | id | modified | include | title | slug
    desc: bool = True


@dataclass(frozen=True)
class CustomerQuery:
    role: str | None = "customer"  #: None: every role
    include: tuple[int, ...] | None = None
    exclude: frozenset[int] = frozenset()
    email: str | None = None
    search: str | None = None
    orderby: str = "name"  #: id | registered_date | name | include
    desc: bool = False


class _Seq:
    """A window ``[lo, hi)`` of a sorted sequence of rows, possibly read backwards."""

    __slots__ = ("base", "desc", "hi", "lo")

    def __init__(self, base: Sequence[int], lo: int, hi: int, desc: bool) -> None:
        self.base, self.lo, self.hi, self.desc = base, lo, max(lo, hi), desc

    def __len__(self) -> int:
        return self.hi - self.lo

    def at(self, position: int) -> int:
        return self.base[self.hi - 1 - position] if self.desc else self.base[self.lo + position]

    def page(
        self, offset: int, limit: int, tie_key: Callable[[int], int] | None = None
    ) -> list[int]:
        """Rows ``offset .. offset+limit``. With ``tie_key``, rows sharing that key are
        reordered per page (like MySQL's ``ORDER BY date LIMIT``), so a row of a tie group
        at a page edge may show on two pages or on none."""
        n = len(self)
        end = min(n, offset + limit)
        if offset >= end:
            return []
        if tie_key is None:
            return [self.at(p) for p in range(offset, end)]
        start, stop = offset, end
        while start > 0 and tie_key(self.at(start - 1)) == tie_key(self.at(offset)):
            start -= 1
        while stop < n and tie_key(self.at(stop)) == tie_key(self.at(end - 1)):
            stop += 1
        window = [self.at(p) for p in range(start, stop)]
        sign = -1 if self.desc else 1
        window.sort(key=lambda r: (sign * tie_key(r), mix(r, offset)))
        return window[offset - start : end - start]


# ----------------------------------------------------------------------------- the store


class StoreData:
    """The live contents of one sample store. Build it with ``generate_store``.

    Instants are epoch seconds (UTC), money is integer minor units of ``currency``.
    The attributes are the storage; read through the methods, which lock.
    """

    def __init__(self, *, seed: int, currency: str, generated_at: int) -> None:
        if currency not in CURRENCIES:
            raise ValueError(f"unknown currency {currency!r}: use one of {sorted(CURRENCIES)}")
        self.seed = seed
        self.currency: CurrencyInfo = CURRENCIES[currency]
        #: The ``now`` the history was generated for.
        self.generated_at = generated_at
        self.lock = threading.RLock()
        #: Bumped by every mutation; query caches are keyed on it.
        self.version = 0
        flavour = self.currency.flavour
        self.products: tuple[Product, ...] = PRODUCTS[flavour]
        self.prices = [int(Decimal(p.price) * self.currency.minor_per_base) for p in self.products]
        self.payment_methods: tuple[PaymentMethod, ...] = PAYMENT_METHODS[flavour]
        ship = SHIPPING[flavour]
        self.flat_shipping = int(Decimal(ship.flat_amount) * self.currency.minor_per_base)
        self.free_shipping_from = int(Decimal(ship.free_from) * self.currency.minor_per_base)

        # People (billing identities), shared by accounts and guests.
        self.p_first = array("H")
        self.p_last = array("H")
        self.p_email: list[str] = []
        #: Names given to mutators that the tables lack; index = table size + position.
        self.extra_first: list[str] = []
        self.extra_last: list[str] = []

        # Orders, one row each, in id order.
        self.o_id = array("i")  # post ids stay below 2^31
        self.o_status = array("B")
        self.o_customer = array("i")
        self.o_person = array("i")
        self.o_created = array("q")
        self.o_modified = array("q")
        self.o_paid = array("q")  # 0: not paid
        self.o_completed = array("q")  # 0: not completed
        self.o_item0 = array("i")  # first order-item id (line items, shipping, coupon)
        self.o_line0 = array("i")  # first line in the l_* columns
        self.o_nlines = array("B")
        self.o_coupon = array("i")  # coupon id, 0: none
        self.o_discount = array("q")
        self.o_free_ship = array("B")
        self.o_payment = array("b")  # index into payment_methods, -1: none (nothing to pay)
        self.o_flags = array("B")
        self.l_product = array("B")  # index into products
        self.l_qty = array("B")
        self.refunds: dict[int, list[Refund]] = {}  # row → refunds, oldest first
        self.notes: dict[int, str] = {}  # row → customer_note
        self.purged: set[int] = set()  # rows deleted for good (DELETE ?force=true)
        self.billing_email: dict[int, str] = {}  # row → billing e-mail unlike the person's

        # Accounts (WordPress users), one row each, in id order.
        self.c_id = array("i")
        self.c_person = array("i")
        self.c_created = array("q")
        self.c_modified = array("q")  # 0: never (null)
        self.c_role = array("B")
        self.c_paying = array("B")
        self.c_deleted = array("B")
        self.c_username: list[str] = []

        self.coupons: dict[int, CouponRecord] = {}
        #: Account row → its meta (``[{"id", "key", "value"}]``), as written through the API.
        self.c_meta: dict[int, list[dict[str, Any]]] = {}
        #: Order row → its status before it went to the trash (WordPress' _wp_trash_meta_status).
        self.trashed_from: dict[int, int] = {}
        #: Told ``(resource, event, id)`` of each change, under the lock (webhooks queue it).
        self.listener: Callable[[str, str, int], None] | None = None

        self.next_post_id = 1  # orders, refunds and coupons share WordPress' post ids
        self.next_item_id = 1
        self.next_meta_id = 100
        self.next_user_id = 1

        # Indexes of listed (non-trash) order rows.
        self.by_id = array("i")
        self.by_created = array("i")
        self.by_modified = array("i")
        self._cache: dict[object, tuple[int, object]] = {}

    # ------------------------------------------------------------------ building

    def add_person(self, first: int, last: int, email: str) -> int:
        self.p_first.append(first)
        self.p_last.append(last)
        self.p_email.append(email)
        return len(self.p_email) - 1

    def rebuild_indexes(self) -> None:
        """Sort the indexes from scratch (after generation or a bulk change)."""
        with self.lock:
            listed = [r for r in range(len(self.o_id)) if self.o_status[r] != TRASH]
            created, modified = self.o_created, self.o_modified
            # Python's sort is stable and rows are in id order, so ties stay in id order.
            self.by_id = array("i", listed)
            self.by_created = array("i", sorted(listed, key=created.__getitem__))
            self.by_modified = array("i", sorted(listed, key=modified.__getitem__))
            self._touch()

    def _touch(self) -> None:
        self.version += 1
        self._cache.clear()

    def copy(self) -> StoreData:
        """An independent deep copy (generate once, then give each test its own)."""
        with self.lock:
            state = {k: v for k, v in vars(self).items() if k not in ("lock", "_cache", "listener")}
            clone = StoreData.__new__(StoreData)
            vars(clone).update(copy.deepcopy(state))
            clone.lock = threading.RLock()
            clone._cache = {}
            clone.listener = None
            return clone

    def emit(self, resource: str, event: str, object_id: int) -> None:
        """Tell the listener (the store's webhooks) about a change."""
        if self.listener is not None:
            self.listener(resource, event, object_id)

    # ------------------------------------------------------------------ people

    def first_name(self, person: int) -> str:
        index = self.p_first[person]
        if index < len(FIRST_NAMES):
            return FIRST_NAMES[index][0]
        return self.extra_first[index - len(FIRST_NAMES)]

    def last_name(self, person: int) -> str:
        index = self.p_last[person]
        if index < len(LAST_NAMES):
            return LAST_NAMES[index][0]
        return self.extra_last[index - len(LAST_NAMES)]

    def card(self, person: int) -> PersonCard:
        """The full address block of a person (deterministic from the seed)."""
        first = self.first_name(person)
        last = self.last_name(person)
        email = self.p_email[person]
        if person == 0:  # the administrator: WordPress' empty profile
            return PersonCard(first, last, email, "", "", "", "", "", "", "", "", "", "")
        h = mix(self.seed, 7919, person)
        number = 100 + (h >> 8) % 9800
        if self.currency.flavour == "persian":
            city, state, prefix = IR_CITIES[h % len(IR_CITIES)]
            street = IR_STREETS[(h >> 22) % len(IR_STREETS)]
            address_1 = f"{street}، پلاک {(h >> 8) % 300 + 1}"
            address_2 = ""
            postcode = f"{prefix}{(h >> 30) % 100_000_000:08d}"
            country, phone = "IR", f"0912{(h >> 36) % 10_000_000:07d}"
        elif self.currency.code == "EUR":
            city, state, postcode = DE_CITIES[h % len(DE_CITIES)]
            address_1 = f"{DE_STREETS[(h >> 22) % len(DE_STREETS)]} {(h >> 8) % 120 + 1}"
            address_2 = ""
            country, phone = "DE", f"+49 30 {(h >> 36) % 10_000_000:07d}"
        else:
            city, state, postcode = US_CITIES[h % len(US_CITIES)]
            address_1 = f"{number} {US_STREETS[(h >> 22) % len(US_STREETS)]}"
            address_2 = f"Apt {(h >> 33) % 40 + 1}" if (h >> 30) % 7 == 0 else ""
            country = "US"
            phone = f"(555) 01{(h >> 36) % 100:02d}-{(h >> 43) % 10_000:04d}"
        return PersonCard(
            first,
            last,
            email,
            "",
            address_1,
            address_2,
            city,
            state,
            postcode,
            country,
            phone,
            f"127.0.0.{(h >> 50) % 254 + 1}",
            USER_AGENTS[(h >> 20) % len(USER_AGENTS)],
        )

    # ------------------------------------------------------------------ amounts

    def format_money(self, minor: int, dp: int | None = None) -> str:
        """A decimal string like WooCommerce's: "162.00", "935000", "-21.06"."""
        decimals = self.currency.decimals
        if dp is None or dp == decimals:
            if decimals == 0:
                return str(minor)
            sign = "-" if minor < 0 else ""
            whole, frac = divmod(abs(minor), 10**decimals)
            return f"{sign}{whole}.{frac:0{decimals}d}"
        value = (Decimal(minor).scaleb(-decimals)).quantize(
            Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP
        )
        return f"{value:f}"

    def to_decimal(self, minor: int) -> Decimal:
        return Decimal(minor).scaleb(-self.currency.decimals)

    def to_minor(self, amount: Decimal | int | str) -> int:
        """Minor units of an amount in major units; refuses more decimals than the currency."""
        value = Decimal(amount).scaleb(self.currency.decimals)
        if value != value.to_integral_value():
            raise ValueError(
                f"{amount} has more decimals than {self.currency.code} ({self.currency.decimals})"
            )
        return int(value)

    def amounts(self, row: int) -> OrderAmounts:
        """Line subtotals and totals, discount, shipping and total of an order."""
        start = self.o_line0[row]
        subtotals = [
            self.prices[self.l_product[start + i]] * self.l_qty[start + i]
            for i in range(self.o_nlines[row])
        ]
        discount = self.o_discount[row]
        shares = spread(discount, subtotals)
        lines = tuple((s, s - d) for s, d in zip(subtotals, shares, strict=True))
        items = sum(subtotals) - discount
        shipping = 0 if self.o_free_ship[row] else self.flat_shipping
        return OrderAmounts(lines, discount, shipping, items + shipping)

    def refund_line_amount(self, row: int, line: int, qty: int) -> int:
        """What refunding ``qty`` of a line item gives back (its discounted unit price)."""
        total = self.amounts(row).lines[line][1]
        ordered = self.l_qty[self.o_line0[row] + line]
        return (total * qty) // ordered

    # ------------------------------------------------------------------ lookups

    def order_row(self, order_id: int) -> int | None:
        """The row of an order id (trashed ones included), None when there is none."""
        ids = self.o_id
        i = bisect_left(ids, order_id)
        return i if i < len(ids) and ids[i] == order_id else None

    def customer_row(self, customer_id: int, *, deleted: bool = False) -> int | None:
        ids = self.c_id
        i = bisect_left(ids, customer_id)
        if i < len(ids) and ids[i] == customer_id and (deleted or not self.c_deleted[i]):
            return i
        return None

    def coupon_by_code(self, code: str) -> CouponRecord | None:
        """A published coupon by code, case-insensitively (MySQL's collation)."""
        wanted = code.strip().lower()
        with self.lock:
            for coupon in self.coupons.values():
                if coupon.status == "publish" and coupon.code.lower() == wanted:
                    return coupon
        return None

    # ------------------------------------------------------------------ order queries

    def _cached(self, key: object, build: Callable[[], object]) -> object:
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        value = build()
        if len(self._cache) > 32:  # a handful of live queries is all a sync makes
            self._cache.clear()
        self._cache[key] = (self.version, value)
        return value

    def _created_key(self, row: int) -> tuple[int, int]:
        return (self.o_created[row], self.o_id[row])

    def _modified_key(self, row: int) -> tuple[int, int]:
        return (self.o_modified[row], self.o_id[row])

    def _order_matches(self, row: int, q: OrderQuery) -> bool:
        status = self.o_status[row]
        if q.statuses is None:
            if status == TRASH:
                return False
        elif status not in q.statuses:
            return False
        if q.customer is not None and self.o_customer[row] != q.customer:
            return False
        oid = self.o_id[row]
        if q.include is not None and oid not in q.include:
            return False
        if oid in q.exclude:
            return False
        created, modified = self.o_created[row], self.o_modified[row]
        if q.created_after is not None and not created > q.created_after:
            return False
        if q.created_before is not None and not created < q.created_before:
            return False
        if q.modified_after is not None and not modified > q.modified_after:
            return False
        return q.modified_before is None or modified < q.modified_before

    def _order_seq(self, q: OrderQuery) -> _Seq:
        def build() -> _Seq:
            if q.orderby == "include" and q.include is not None:
                seen: set[int] = set()
                rows = []
                for oid in q.include:
                    row = self.order_row(oid)
                    if row is not None and row not in seen and self._order_matches(row, q):
                        seen.add(row)
                        rows.append(row)
                # ``order`` still applies to ``orderby=include`` (post__in order, reversed).
                return _Seq(rows, 0, len(rows), q.desc)
            base: Sequence[int]
            key: Callable[[int], tuple[int, int]]
            if q.orderby == "id":
                base, key = self.by_id, lambda r: (self.o_id[r], 0)
            elif q.orderby == "modified":
                base, key = self.by_modified, self._modified_key
            else:  # date, title (WooCommerce titles orders by date), slug
                base, key = self.by_created, self._created_key
            if q.statuses is not None and TRASH in q.statuses:
                # Trash is not indexed: sort all rows (rare: only an explicit status=trash).
                base = sorted(range(len(self.o_id)), key=key)
            lo, hi = 0, len(base)
            after, before = None, None
            if q.orderby == "modified":
                after, before = q.modified_after, q.modified_before
            elif q.orderby not in ("id", "include"):
                after, before = q.created_after, q.created_before
            if after is not None:
                lo = bisect_right(base, (after, 1 << 62), key=key)
            if before is not None:
                hi = bisect_left(base, (before, -1), key=key)
            # Anything the window does not already guarantee is checked row by row.
            residual = (
                (q.statuses is not None)
                or q.customer is not None
                or q.include is not None
                or bool(q.exclude)
                or (q.orderby != "modified" and (q.modified_after or q.modified_before))
                or (
                    q.orderby in ("id", "modified")
                    and (q.created_after is not None or q.created_before is not None)
                )
            )
            if residual:
                rows = [base[i] for i in range(lo, hi) if self._order_matches(base[i], q)]
                return _Seq(rows, 0, len(rows), q.desc)
            return _Seq(base, lo, hi, q.desc)

        seq = self._cached(("orders", q), build)
        assert isinstance(seq, _Seq)
        return seq

    def select_orders(
        self, q: OrderQuery, offset: int, limit: int, *, unstable_ties: bool = False
    ) -> tuple[int, list[int]]:
        """(total matching, rows of the page). Call with ``self.lock`` held to render the
        rows consistently."""
        with self.lock:
            seq = self._order_seq(q)
            tie: Callable[[int], int] | None = None
            if unstable_ties and q.orderby in ("date", "title", "slug"):
                tie = self.o_created.__getitem__
            elif unstable_ties and q.orderby == "modified":
                tie = self.o_modified.__getitem__
            return len(seq), seq.page(offset, limit, tie)

    # ------------------------------------------------------------------ customer queries

    def display_name(self, crow: int) -> str:
        person = self.c_person[crow]
        first = self.first_name(person)
        last = self.last_name(person)
        return f"{first} {last}".strip() or self.c_username[crow]

    def select_customers(self, q: CustomerQuery, offset: int, limit: int) -> tuple[int, list[int]]:
        with self.lock:

            def build() -> list[int]:
                role = None if q.role is None else ROLES.index(q.role) if q.role in ROLES else -1
                email = q.email.lower() if q.email else None
                search = q.search.strip("*").lower() if q.search else None
                rows = []
                for r in range(len(self.c_id)):
                    if self.c_deleted[r] or (role is not None and self.c_role[r] != role):
                        continue
                    cid = self.c_id[r]
                    if q.include is not None and cid not in q.include:
                        continue
                    if cid in q.exclude:
                        continue
                    if email is not None and self.p_email[self.c_person[r]].lower() != email:
                        continue
                    if search is not None and not any(
                        search in text.lower()
                        for text in (
                            self.p_email[self.c_person[r]],
                            self.c_username[r],
                            self.display_name(r),
                        )
                    ):
                        continue
                    rows.append(r)
                if q.orderby == "include" and q.include is not None:
                    position = {cid: i for i, cid in enumerate(q.include)}
                    rows.sort(key=lambda r: position[self.c_id[r]])
                elif q.orderby == "registered_date":
                    rows.sort(key=lambda r: (self.c_created[r], self.c_id[r]))
                elif q.orderby == "name":
                    rows.sort(key=lambda r: (collation_key(self.display_name(r)), self.c_id[r]))
                if q.desc:
                    rows.reverse()
                return rows

            rows = self._cached(("customers", q), build)
            assert isinstance(rows, list)
            return len(rows), rows[offset : offset + limit]

    def select_coupons(
        self,
        *,
        code: str | None,
        include: tuple[int, ...] | None,
        exclude: frozenset[int],
        orderby: str,
        desc: bool,
        offset: int,
        limit: int,
    ) -> tuple[int, list[CouponRecord]]:
        with self.lock:
            found = [
                c
                for c in self.coupons.values()
                if c.status == "publish"
                and (code is None or c.code.lower() == code.strip().lower())
                and (include is None or c.id in include)
                and c.id not in exclude
            ]
            if orderby == "id":
                found.sort(key=lambda c: c.id)
            elif orderby == "modified":
                found.sort(key=lambda c: (c.modified, c.id))
            elif orderby == "include" and include is not None:
                found.sort(key=lambda c: include.index(c.id))
            elif orderby in ("title", "slug"):
                found.sort(key=lambda c: (c.code, c.id))
            else:
                found.sort(key=lambda c: (c.created, c.id))
            if desc:
                found.reverse()
            return len(found), found[offset : offset + limit]

    # ------------------------------------------------------------------ views

    def _order_view(self, row: int) -> OrderView:
        amounts = self.amounts(row)
        person = self.o_person[row]
        coupon = self.coupons.get(self.o_coupon[row]) if self.o_coupon[row] else None
        start = self.o_line0[row]
        return OrderView(
            id=self.o_id[row],
            status=STATUSES[self.o_status[row]],
            customer_id=self.o_customer[row],
            billing_email=self.billing_email.get(row, self.p_email[person]),
            first_name=self.first_name(person),
            last_name=self.last_name(person),
            created=from_epoch(self.o_created[row]),
            modified=from_epoch(self.o_modified[row]),
            paid=from_epoch(self.o_paid[row]) if self.o_paid[row] else None,
            completed=from_epoch(self.o_completed[row]) if self.o_completed[row] else None,
            total=self.to_decimal(amounts.total),
            discount=self.to_decimal(amounts.discount),
            shipping=self.to_decimal(amounts.shipping),
            coupon_code=coupon.code if coupon else None,
            refunds=tuple(
                RefundView(r.id, self.to_decimal(r.amount), from_epoch(r.created), r.reason)
                for r in self.refunds.get(row, ())
            ),
            line_items=tuple(
                (
                    self.products[self.l_product[start + i]].product_id,
                    self.products[self.l_product[start + i]].variation_id,
                    self.l_qty[start + i],
                )
                for i in range(self.o_nlines[row])
            ),
        )

    def order(self, order_id: int) -> OrderView:
        """One order (trashed ones too); KeyError when there is none."""
        with self.lock:
            row = self.order_row(order_id)
            if row is None:
                raise KeyError(order_id)
            return self._order_view(row)

    def orders(self, *, include_trash: bool = False) -> Iterator[OrderView]:
        """Every order in id order (a snapshot taken under the lock)."""
        with self.lock:
            rows = range(len(self.o_id)) if include_trash else list(self.by_id)
            views = [self._order_view(r) for r in rows]
        return iter(views)

    @property
    def order_count(self) -> int:
        """Orders the API lists (trash excluded)."""
        return len(self.by_id)

    def _customer_view(self, crow: int) -> CustomerView:
        person = self.c_person[crow]
        return CustomerView(
            id=self.c_id[crow],
            email=self.p_email[person],
            first_name=self.first_name(person),
            last_name=self.last_name(person),
            username=self.c_username[crow],
            role=ROLES[self.c_role[crow]],
            created=from_epoch(self.c_created[crow]),
            modified=from_epoch(self.c_modified[crow]) if self.c_modified[crow] else None,
            is_paying_customer=bool(self.c_paying[crow]),
        )

    def customer(self, customer_id: int) -> CustomerView:
        with self.lock:
            row = self.customer_row(customer_id)
            if row is None:
                raise KeyError(customer_id)
            return self._customer_view(row)

    def customers(self, *, role: str | None = None) -> Iterator[CustomerView]:
        """Every existing account in id order; ``role="customer"`` leaves out staff."""
        with self.lock:
            views = [
                self._customer_view(r)
                for r in range(len(self.c_id))
                if not self.c_deleted[r] and (role is None or ROLES[self.c_role[r]] == role)
            ]
        return iter(views)

    # ------------------------------------------------------------------ index upkeep

    def _index_remove(self, row: int) -> None:
        for index, key in (
            (self.by_id, lambda r: self.o_id[r]),
            (self.by_created, self._created_key),
            (self.by_modified, self._modified_key),
        ):
            i = bisect_left(index, key(row), key=key)
            if i < len(index) and index[i] == row:
                del index[i]

    def _index_add(self, row: int) -> None:
        insort(self.by_id, row, key=lambda r: self.o_id[r])
        insort(self.by_created, row, key=self._created_key)
        insort(self.by_modified, row, key=self._modified_key)

    def set_modified(self, row: int, when: int) -> None:
        """Move an order's ``date_modified`` (keeps the modified index sorted)."""
        listed = self.o_status[row] != TRASH
        if listed:
            i = bisect_left(self.by_modified, self._modified_key(row), key=self._modified_key)
            if i < len(self.by_modified) and self.by_modified[i] == row:
                del self.by_modified[i]
        self.o_modified[row] = when
        if listed:
            insort(self.by_modified, row, key=self._modified_key)
        self._touch()

    def set_status(self, row: int, status: int) -> None:
        was_listed = self.o_status[row] != TRASH
        if was_listed and status == TRASH:
            self._index_remove(row)
        self.o_status[row] = status
        if not was_listed and status != TRASH:
            self._index_add(row)
        self._touch()

    # ------------------------------------------------------------------ mutations

    def _mutation_rng(self, what: str) -> random.Random:
        # Deterministic for a seed and a sequence of mutations; never the global random.
        return random.Random(f"{self.seed}:{what}:{self.next_post_id}:{self.next_user_id}")

    def append_order(
        self,
        *,
        status: int,
        customer: int,
        person: int,
        created: int,
        modified: int,
        paid: int,
        completed: int,
        lines: Sequence[tuple[int, int]],
        coupon: int,
        discount: int,
        free_shipping: bool,
        payment: int,
        flags: int = 0,
        order_id: int | None = None,
    ) -> int:
        """Add an order row (ids increase); returns the row. Indexes are not touched."""
        oid = self.next_post_id if order_id is None else order_id
        self.next_post_id = max(self.next_post_id, oid + 1)
        self.o_id.append(oid)
        self.o_status.append(status)
        self.o_customer.append(customer)
        self.o_person.append(person)
        self.o_created.append(created)
        self.o_modified.append(modified)
        self.o_paid.append(paid)
        self.o_completed.append(completed)
        self.o_item0.append(self.next_item_id)
        self.next_item_id += len(lines) + 1 + (1 if coupon else 0)
        self.o_line0.append(len(self.l_product))
        self.o_nlines.append(len(lines))
        for product, qty in lines:
            self.l_product.append(product)
            self.l_qty.append(qty)
        self.o_coupon.append(coupon)
        self.o_discount.append(discount)
        self.o_free_ship.append(1 if free_shipping else 0)
        self.o_payment.append(payment)
        self.o_flags.append(flags)
        return len(self.o_id) - 1

    def add_refund(
        self,
        row: int,
        *,
        created: int,
        amount: int,
        reason: str,
        lines: tuple[tuple[int, int], ...] = (),
        shipping: bool = False,
    ) -> Refund:
        """Record a refund (ids from the shared post counter). No status change here."""
        n_items = len(lines) + (1 if shipping else 0)
        refund = Refund(
            id=self.next_post_id,
            created=created,
            amount=amount,
            reason=reason,
            lines=lines,
            shipping=shipping,
            item_id0=self.next_item_id,
            meta_id0=self.next_meta_id,
        )
        self.next_post_id += 1
        self.next_item_id += n_items
        self.next_meta_id += n_items
        self.refunds.setdefault(row, []).append(refund)
        return refund

    def refunded(self, row: int) -> int:
        return sum(r.amount for r in self.refunds.get(row, ()))

    def new_person(self, rng: random.Random, *, email: str | None = None) -> int:
        """A person with a random name (Persian for the Persian shop, mostly Latin otherwise)."""
        persian_share = 0.85 if self.currency.flavour == "persian" else 0.15
        if rng.random() < persian_share:
            first, last = rng.choice(PERSIAN_FIRST_RANGE), rng.choice(PERSIAN_LAST_RANGE)
        else:
            first, last = rng.choice(LATIN_FIRST_RANGE), rng.choice(LATIN_LAST_RANGE)
        if email is None:
            email = make_email(rng, FIRST_NAMES[first][1], LAST_NAMES[last][1], set(self.p_email))
        return self.add_person(first, last, email)

    def create_order(self, at: int, **overrides: Any) -> int:
        """A new order with the next id, by default a paid checkout (``processing``).

        Overrides: ``customer_id`` (0: a guest), ``email``, ``first_name``, ``last_name``,
        ``status``, ``line_items`` (``[{"product_id", "variation_id"?, "quantity"}]`` or
        ``[(product_id, quantity)]``), ``coupon`` (a code), ``payment_method``,
        ``customer_note``, ``date_created`` (datetime).
        """
        allowed = {
            "customer_id",
            "email",
            "first_name",
            "last_name",
            "status",
            "line_items",
            "coupon",
            "payment_method",
            "customer_note",
            "date_created",
        }
        unknown = set(overrides) - allowed
        if unknown:
            raise TypeError(f"create_order() got unexpected overrides: {sorted(unknown)}")
        with self.lock:
            rng = self._mutation_rng("order")
            status = STATUS_CODE[str(overrides.get("status", "processing"))]
            if status == TRASH:
                raise ValueError("create an order, then delete_order() it")
            created = to_epoch(overrides["date_created"]) if "date_created" in overrides else at
            customer = overrides.get("customer_id")
            if customer is None:
                accounts = [
                    r
                    for r in range(len(self.c_id))
                    if not self.c_deleted[r] and self.c_role[r] == ROLE_CUSTOMER
                ]
                customer = self.c_id[rng.choice(accounts)] if accounts and rng.random() < 0.7 else 0
            customer = int(customer)
            if customer:
                crow = self.customer_row(customer)
                if crow is None:
                    raise KeyError(f"no customer {customer}")
                person = self.c_person[crow]
            else:
                email = overrides.get("email")
                person = self.new_person(rng, email=str(email) if email else None)
            if "first_name" in overrides or "last_name" in overrides:
                first = self._name_index(overrides.get("first_name"), person, True)
                last = self._name_index(overrides.get("last_name"), person, False)
                person = self.add_person(first, last, self.p_email[person])
            lines = self._lines_from(overrides.get("line_items"), rng)
            coupon_id, discount, free_ship_coupon = 0, 0, False
            subtotal = sum(self.prices[p] * q for p, q in lines)
            if overrides.get("coupon"):
                found = self.coupon_by_code(str(overrides["coupon"]))
                if found is None:
                    raise KeyError(f"no coupon {overrides['coupon']!r}")
                coupon_id, discount = found.id, self.coupon_discount(found, subtotal)
                free_ship_coupon = found.free_shipping
                found.used_by.append(str(customer) if customer else self.p_email[person])
            total_items = subtotal - discount
            payment = self._payment_index(overrides.get("payment_method"), rng)
            if total_items == 0 and free_ship_coupon:
                payment = -1  # nothing to pay: WooCommerce records no payment method
            paid = created if status in PAID_STATUSES else 0
            completed = created if status in (COMPLETED, REFUNDED) else 0
            row = self.append_order(
                status=status,
                customer=customer,
                person=person,
                created=created,
                modified=max(created, at),
                paid=paid,
                completed=completed,
                lines=lines,
                coupon=coupon_id,
                discount=discount,
                free_shipping=free_ship_coupon or total_items >= self.free_shipping_from,
                payment=payment,
            )
            if "email" in overrides and customer:
                self.billing_email[row] = str(overrides["email"])
            if overrides.get("customer_note"):
                self.notes[row] = str(overrides["customer_note"])
            if customer and paid:
                crow = self.customer_row(customer)
                assert crow is not None
                self.c_paying[crow] = 1
            if status != TRASH:
                self._index_add(row)
            self._touch()
            # Creating an order (checkout or REST) fires order.created and order.updated.
            self.emit("order", "created", self.o_id[row])
            self.emit("order", "updated", self.o_id[row])
            return self.o_id[row]

    def _name_index(self, name: object, person: int, first: bool) -> int:
        """The table index of a first or last name, adding it to this store's extras."""
        if name is None:
            return self.p_first[person] if first else self.p_last[person]
        table, extra = (FIRST_NAMES, self.extra_first) if first else (LAST_NAMES, self.extra_last)
        for i, (written, _) in enumerate(table):
            if written == name:
                return i
        if str(name) not in extra:
            extra.append(str(name))
        return len(table) + extra.index(str(name))

    def _lines_from(self, spec: object, rng: random.Random) -> list[tuple[int, int]]:
        if spec is None:
            count = rng.choice((1, 1, 2, 2, 3))
            picks = rng.sample(range(len(self.products)), k=min(count, len(self.products)))
            return [(p, rng.choice((1, 1, 1, 2))) for p in picks]
        if not isinstance(spec, list | tuple) or not spec:
            raise ValueError("line_items must be a non-empty list")
        lines = []
        for item in spec:
            if isinstance(item, dict):
                pid, vid = int(item["product_id"]), int(item.get("variation_id", 0))
                qty = int(item.get("quantity", 1))
            else:
                pid, qty = int(item[0]), int(item[1])
                vid = -1
            index = next(
                (
                    i
                    for i, p in enumerate(self.products)
                    if p.product_id == pid and vid in (-1, p.variation_id)
                ),
                None,
            )
            if index is None:
                raise ValueError(f"no product {pid} in the sample store's catalogue")
            if not 1 <= qty <= 255:
                raise ValueError(f"quantity out of range: {qty}")
            lines.append((index, qty))
        return lines

    def _payment_index(self, method: object, rng: random.Random) -> int:
        if method is None:
            return rng.choices(
                range(len(self.payment_methods)), [m.weight for m in self.payment_methods]
            )[0]
        if method == "":
            return -1
        for i, m in enumerate(self.payment_methods):
            if m.id == method:
                return i
        raise ValueError(f"unknown payment method {method!r}")

    def coupon_discount(self, coupon: CouponRecord, subtotal: int) -> int:
        """The discount a coupon gives on an items subtotal (minor units)."""
        if coupon.discount_type == "percent":
            value = Decimal(subtotal) * coupon.amount / 100
            return min(subtotal, int(value.to_integral_value(rounding=ROUND_HALF_UP)))
        return min(subtotal, self.to_minor(coupon.amount))

    def modify_order(self, at: int, order_id: int, **changes: Any) -> None:
        """Change an order and bump its ``date_modified``.

        Changes: ``status``, ``refund`` (an amount: a new refund; refunding the rest flips
        the status to ``refunded``), ``refund_reason``, ``customer_id``, ``email`` (billing),
        ``customer_note``, ``date_modified`` (datetime: use it instead of now).
        """
        allowed = {
            "status",
            "refund",
            "refund_reason",
            "customer_id",
            "email",
            "customer_note",
            "date_modified",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"modify_order() got unexpected changes: {sorted(unknown)}")
        with self.lock:
            row = self.order_row(order_id)
            if row is None:
                raise KeyError(f"no order {order_id}")
            when = to_epoch(changes["date_modified"]) if "date_modified" in changes else at
            if "customer_id" in changes:
                customer = int(changes["customer_id"])
                if customer and self.customer_row(customer) is None:
                    raise KeyError(f"no customer {customer}")
                self.o_customer[row] = customer
            if "email" in changes:
                self.billing_email[row] = str(changes["email"])
            if "customer_note" in changes:
                self.notes[row] = str(changes["customer_note"])
            if changes.get("refund") is not None:
                amount = self.to_minor(changes["refund"])
                remaining = self.amounts(row).total - self.refunded(row)
                if not 0 < amount <= remaining:
                    raise ValueError(
                        f"refund of {changes['refund']} on order {order_id}: "
                        f"must be above 0 and at most the {self.format_money(remaining)} left"
                    )
                self.add_refund(
                    row, created=when, amount=amount, reason=str(changes.get("refund_reason", ""))
                )
                if amount == remaining:
                    self.set_status(row, REFUNDED)
            if "status" in changes:
                status = STATUS_CODE.get(str(changes["status"]))
                if status is None:
                    raise ValueError(f"unknown status {changes['status']!r}")
                if status in PAID_STATUSES and not self.o_paid[row]:
                    self.o_paid[row] = when
                if status in (COMPLETED, REFUNDED) and not self.o_completed[row]:
                    self.o_completed[row] = when
                if status == REFUNDED:
                    # WooCommerce refunds what is left when an order is marked refunded.
                    remaining = self.amounts(row).total - self.refunded(row)
                    if remaining > 0:
                        self.add_refund(row, created=when, amount=remaining, reason="")
                self.set_status(row, status)
                customer = self.o_customer[row]
                crow = self.customer_row(customer) if customer else None
                if crow is not None and status in PAID_STATUSES:
                    self.c_paying[crow] = 1
            self.set_modified(row, when)
            self.emit("order", "updated", order_id)

    def delete_order(self, at: int, order_id: int, *, quiet: bool = False) -> None:
        """Move an order to the trash (``DELETE /orders/<id>`` without ``force``); fires
        ``order.deleted`` unless ``quiet`` (a permanent delete sends nothing)."""
        with self.lock:
            row = self.order_row(order_id)
            if row is None:
                raise KeyError(f"no order {order_id}")
            if self.o_status[row] != TRASH:
                self.trashed_from[row] = self.o_status[row]
            self.set_status(row, TRASH)
            self.o_modified[row] = at
            if not quiet:
                self.emit("order", "deleted", order_id)

    def restore_order(self, at: int, order_id: int) -> None:
        """Take an order out of the trash, back to its status before (``WC_Order::untrash``);
        fires ``order.restored`` only."""
        with self.lock:
            row = self.order_row(order_id)
            if row is None or self.o_status[row] != TRASH:
                raise KeyError(f"no order {order_id} in the trash")
            self.set_status(row, self.trashed_from.pop(row, STATUS_CODE["pending"]))
            self.set_modified(row, max(at, self.o_modified[row]))
            self.emit("order", "restored", order_id)

    def create_customer(self, at: int, **overrides: Any) -> int:
        """A new account (role customer). Overrides: ``email``, ``first_name``,
        ``last_name``, ``username``, ``date_created`` (datetime). Earlier guest orders with
        the same e-mail stay guest orders, as in WooCommerce."""
        allowed = {"email", "first_name", "last_name", "username", "date_created"}
        unknown = set(overrides) - allowed
        if unknown:
            raise TypeError(f"create_customer() got unexpected overrides: {sorted(unknown)}")
        with self.lock:
            rng = self._mutation_rng("customer")
            email = overrides.get("email")
            if email is not None:
                taken = {
                    self.p_email[self.c_person[r]].lower()
                    for r in range(len(self.c_id))
                    if not self.c_deleted[r]
                }
                if str(email).lower() in taken:
                    raise ValueError(f"an account with e-mail {email!r} exists")
            person = self.new_person(rng, email=str(email) if email is not None else None)
            if "first_name" in overrides or "last_name" in overrides:
                first = self._name_index(overrides.get("first_name"), person, True)
                last = self._name_index(overrides.get("last_name"), person, False)
                self.p_first[person], self.p_last[person] = first, last
            created = to_epoch(overrides["date_created"]) if "date_created" in overrides else at
            username = str(overrides.get("username") or self.p_email[person].split("@")[0])
            cid = self.append_customer(
                person=person, created=created, modified=created, username=username
            )
            self._touch()
            self.emit("customer", "created", cid)
            self.emit("customer", "updated", cid)
            return cid

    def append_customer(
        self,
        *,
        person: int,
        created: int,
        modified: int,
        username: str,
        role: int = ROLE_CUSTOMER,
        paying: bool = False,
    ) -> int:
        cid = self.next_user_id
        self.next_user_id += 1
        self.c_id.append(cid)
        self.c_person.append(person)
        self.c_created.append(created)
        self.c_modified.append(modified)
        self.c_role.append(role)
        self.c_paying.append(1 if paying else 0)
        self.c_deleted.append(0)
        self.c_username.append(username)
        return cid

    def modify_customer(self, at: int, customer_id: int, **changes: Any) -> None:
        """Change an account's ``email``, ``first_name`` or ``last_name``; past orders keep
        the billing details they were placed with."""
        unknown = set(changes) - {"email", "first_name", "last_name"}
        if unknown:
            raise TypeError(f"modify_customer() got unexpected changes: {sorted(unknown)}")
        with self.lock:
            crow = self.customer_row(customer_id)
            if crow is None:
                raise KeyError(f"no customer {customer_id}")
            old = self.c_person[crow]
            first = self._name_index(changes.get("first_name"), old, True)
            last = self._name_index(changes.get("last_name"), old, False)
            email = str(changes.get("email", self.p_email[old]))
            self.c_person[crow] = self.add_person(first, last, email)
            self.c_modified[crow] = at
            self._touch()
            self.emit("customer", "updated", customer_id)

    def update_customer_meta(self, at: int, customer_id: int, meta: list[Any]) -> None:
        """Write meta through the REST API (``meta_data`` of ``PUT customers/<id>`` or of a
        batch update): an item with a known ``id`` or ``key`` replaces that value
        (``WC_Data::update_meta_data``), another one is added. Bumps ``date_modified``."""
        with self.lock:
            crow = self.customer_row(customer_id)
            if crow is None:
                raise KeyError(f"no customer {customer_id}")
            stored = self.c_meta.setdefault(crow, [])
            for item in meta:
                if not isinstance(item, dict) or "key" not in item:
                    continue
                existing = next(
                    (
                        m
                        for m in stored
                        if ("id" in item and m["id"] == item["id"]) or m["key"] == item["key"]
                    ),
                    None,
                )
                if existing is not None:
                    existing["value"] = copy.deepcopy(item.get("value"))
                else:
                    stored.append(
                        {
                            "id": self.next_meta_id,
                            "key": str(item["key"]),
                            "value": copy.deepcopy(item.get("value")),
                        }
                    )
                    self.next_meta_id += 1
            self.c_modified[crow] = max(at, self.c_modified[crow])
            self._touch()
            self.emit("customer", "updated", customer_id)

    def delete_customer(self, at: int, customer_id: int) -> None:
        """Delete an account: WooCommerce rewrites its orders to ``customer_id`` 0 and
        bumps their ``date_modified``."""
        with self.lock:
            crow = self.customer_row(customer_id)
            if crow is None:
                raise KeyError(f"no customer {customer_id}")
            if self.c_role[crow] != ROLE_CUSTOMER:
                raise ValueError("only accounts with role customer can be deleted here")
            self.c_deleted[crow] = 1
            for row in [r for r, c in enumerate(self.o_customer) if c == customer_id]:
                self.o_customer[row] = 0
                self.set_modified(row, max(at, self.o_modified[row]))
            self._touch()
            self.emit("customer", "deleted", customer_id)


def spread(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over lines in proportion to ``weights``, exactly (largest remainder),
    as WooCommerce spreads a cart discount over the line items."""
    total = sum(weights)
    if not amount or not total:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    left = amount - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: -(amount * weights[i] % total))
    for i in order[:left]:
        shares[i] += 1
    return shares


def make_email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    """A plausible, unused e-mail address from an ASCII first and last name."""
    first, last = first.replace("'", ""), last.replace("'", "")
    pattern = rng.randrange(6)
    number = rng.randrange(10, 100)
    local = (
        f"{first}.{last}",
        f"{first}_{last}{number}",
        f"{first}{last}",
        f"{first[:1]}{last}",
        f"{first}.{last}{number}",
        f"{first}_{last}",
    )[pattern]
    domain = rng.choice(("example.com", "example.net", "example.org", "mail.example.com"))
    email = f"{local}@{domain}"
    while email in taken:
        number += rng.randrange(1, 50)
        email = f"{first}.{last}{number}@{domain}"
    taken.add(email)
    return email


def gravatar(email: str) -> str:
    """WordPress' avatar URL of an e-mail address (``get_avatar_url`` defaults)."""
    digest = hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()
    return f"http://{int(digest[0], 16) % 3}.gravatar.com/avatar/{digest}?s=96&d=mm&r=g"
