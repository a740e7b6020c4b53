"""The SQL side of the analytics: every count of SPEC §5 as a few aggregate queries.

All analytics of one invocation share one connection and the store's *counted orders*
(status counted, not deleted, created before *as of*): the rows of ``analytics_orders``
(``facts``: kept between runs, brought up to date from the triggers' change log), or for
non-default statuses a temporary table filled once by a single ``INSERT … SELECT``. Each row
has the identity of SPEC §4 (``order_identities``) and the creation times of the identity's
previous and next counted orders (window functions ``LAG``/``LEAD``; a far-away sentinel
when there is none). With those
two columns every per-period count is a condition on one row, so a batch of periods costs one
index range scan per period:

* the identity's first order in ``[a, b)`` is the row in it whose previous order is before
  ``a`` — one per customer of the period; when its next order is before ``b`` too, the
  customer ordered at least twice (repeat customer); a row without any previous order is the
  identity's first ever — a new customer;
* an identity is *active at t* (a counted order in ``[t − D, t)``) when its last order before
  ``t`` — the row with ``x < t <= next`` — is on or after ``t − D``;
* an identity of S(a) is *churned* by ``b`` when its last order before ``b`` is before
  ``b − D``, and that order (or, when it falls inside the period, an earlier one) is in
  ``[a − D, a)``.

Periods are passed as rows of a small derived table joined on ``x``, so the database walks
the ``x`` index once per period instead of the whole table. Money stays in integer units
(``connector._schema.Money``) until ``from_units``; each order's revenue is kept split in
two (``rev_hi × 2³² + rev_lo``, ``loyalty._db.split_parts``) so that every sum of it is exact
past 2⁶³ units, on SQLite too, at the cost of one more column to add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    FromClause,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from connector import (
    CORE_ORDER_STATUSES,
    ConfigError,
    UTCDateTime,
    currency_decimals,
    customers,
    orders,
    store_row,
)
from loyalty._db import joined
from loyalty.analytics._schema import analytics_orders
from loyalty.analytics.facts import (
    FACT_COLUMNS,
    NEVER_AFTER,
    NEVER_BEFORE,
    counted_rows,
    refresh_facts,
    statuses_key,
)
from loyalty.analytics.periods import store_zone

#: Statuses whose orders count (SPEC §5); commands take others with ``--statuses``.
DEFAULT_STATUSES = ("processing", "completed")
ACTIVE_DAYS = 365
ACTIVATION_DAYS = 60
_TEMP_NAME = "bz_counted_orders"
#: Aggregates per statement (SQLite allows 500 selects in one compound statement).
_UNION_MAX = 200

Range = tuple[datetime, datetime]


# --- small dialect-specific SQL pieces -----------------------------------------------------


class plus_days(FunctionElement[datetime]):
    """``timestamp + n days`` for a stored ``UTCDateTime``, exact on both backends."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_days"

    def __init__(self, column: ColumnElement[datetime], days: int) -> None:
        self.days = int(days)
        super().__init__(column)


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element: plus_days, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff'; datetime() drops the microseconds, so
    # they are put back (whole days never change them).
    return f"(datetime({column}, '+{element.days} days') || substr({column}, 20))"


@compiles(plus_days)
def _plus_days_default(element: plus_days, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"({column} + INTERVAL '{element.days} days')"


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since 1970 of a stored ``UTCDateTime`` (fractions dropped)."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds)
def _epoch_default(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(EPOCH FROM date_trunc('second', {column})) AS BIGINT)"


class full_scan(FunctionElement[Any]):
    """The column, marked so SQLite reads the table in order rather than through an index.

    Filling the temporary table reads (nearly) every order of the store; SQLite would pick the
    ``(store_id, created_at)`` index and jump around the table, about ten times slower.
    """

    inherit_cache = True
    name = "full_scan"

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.type = column.type
        super().__init__(column)


@compiles(full_scan, "sqlite")
def _full_scan_sqlite(element: full_scan, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(full_scan)
def _full_scan_default(element: full_scan, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


class binary_collation(FunctionElement[str]):  # an SQL function, named like one
    """A string compared byte-wise: ``COLLATE "C"`` on PostgreSQL (SQLite's default)."""

    type = String()
    inherit_cache = True
    name = "binary_collation"


@compiles(binary_collation, "postgresql")
def _binary_pg(element: binary_collation, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


@compiles(binary_collation)
def _binary_default(element: binary_collation, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


def rows_table(
    name: str, rows: Sequence[Sequence[Any]], columns: Sequence[tuple[str, Any]]
) -> FromClause:
    """A small derived table of literal rows (``SELECT … UNION ALL SELECT …``).

    ``VALUES`` with column names is not portable to SQLite, a union of one-row selects is.
    """
    assert rows, "at least one row"
    selects = [
        select(
            *(
                literal(value, type_).label(col)
                for value, (col, type_) in zip(row, columns, strict=True)
            )
        )
        for row in rows
    ]
    if len(selects) == 1:
        return selects[0].subquery(name)
    return union_all(*selects).subquery(name)


# --- the store -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreInfo:
    """What the analytics need to know about a store: money and calendar."""

    id: int
    name: str
    currency: str
    decimals: int
    timezone: str
    zone: ZoneInfo


def store_info(conn: Connection, store_id: int) -> StoreInfo:
    """The analytics' view of ``connector.store_row``: the currency upper-cased, the decimals
    and the zone filled in."""
    row = store_row(conn, store_id=store_id)
    if row is None:
        raise ConfigError(f"no store with id {store_id} in the database: run `bazgasht sync`.")
    currency = (row.currency or "").upper()
    decimals = row.decimals
    if decimals is None:
        decimals = currency_decimals(currency)
    try:
        zone = store_zone(row.timezone)
    except ValueError as exc:
        raise ConfigError(
            f"store {row.name!r}: {exc}; run `bazgasht store check {row.name}` to learn it again."
        ) from None
    return StoreInfo(store_id, row.name, currency, int(decimals), row.timezone or "UTC", zone)


# --- the counted orders --------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """Counts of one period ``[a, b)``."""

    orders: int
    revenue_units: int
    customers: int
    repeat_customers: int
    new_customers: int


@contextmanager
def counted_orders(
    conn: Connection,
    store_id: int,
    *,
    as_of: datetime,
    statuses: Sequence[str] = DEFAULT_STATUSES,
) -> Iterator[CountedOrders]:
    """The store's counted orders before ``as_of``, ready to be asked.

    With the default statuses they are the store's rows of ``analytics_orders``, brought up
    to date first (``facts.refresh_facts``: nothing to do, the identities the change log
    names, or a full build); with other statuses a temporary table filled the same way and
    dropped afterwards.
    """
    postgres = conn.dialect.name == "postgresql"
    ident_type = String(400, collation="C") if postgres else String(400)
    temp: Table | None = None
    if statuses_key(statuses) == statuses_key(DEFAULT_STATUSES):
        refresh_facts(conn, store_id, statuses)
        facts = analytics_orders

        def source(name: str) -> FromClause:
            return (
                select(
                    facts.c.ident, facts.c.x, facts.c.rev_hi, facts.c.rev_lo,
                    facts.c.prev_x, facts.c.next_x,
                )
                # Not an index bound for SQLite: each query's own (earlier) bound is.
                .where(facts.c.store_id == store_id, full_scan(facts.c.x) < as_of)
                .subquery(name)
            )  # fmt: skip
    else:
        temp = _fill_temp(conn, store_id, as_of=as_of, statuses=statuses)
        table = temp

        def source(name: str) -> FromClause:
            return table.alias(name)

    if postgres:
        # Many range scans: no JIT (its compile time exceeds these queries' run time on row
        # estimates it cannot get right), and memory for the per-customer sorts.
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SET LOCAL jit = off"))
    counted = CountedOrders(conn, store_id, source, as_of, ident_type=ident_type, temp=temp)
    try:
        yield counted
    except BaseException:
        conn.rollback()  # PostgreSQL: a failed statement poisons the transaction
        counted.drop()  # SQLite ran the CREATEs outside it
        raise
    counted.drop()


def _fill_temp(
    conn: Connection, store_id: int, *, as_of: datetime, statuses: Sequence[str]
) -> Table:
    """A temporary table of the counted orders of non-default ``statuses`` before ``as_of``."""
    table = _temp_table(conn.dialect.name)
    table.drop(conn, checkfirst=True)
    table.create(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
    fill = counted_rows(store_id, statuses, before=as_of)
    conn.execute(insert(table).from_select(FACT_COLUMNS, fill))
    for index in _temp_indexes(table):
        index.create(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {_TEMP_NAME}"))  # autovacuum never analyzes temp tables
    return table


def _temp_table(dialect: str) -> Table:
    # Identities compare byte-wise: PostgreSQL's locale collations are several times slower
    # to sort and index, and nothing here needs a human order.
    ident_type = String(400, collation="C") if dialect == "postgresql" else String(400)
    return Table(
        _TEMP_NAME,
        MetaData(),
        # The columns of ``analytics_orders`` (``facts.counted_rows`` fills both).
        Column("store_id", Integer, nullable=False),
        Column("order_id", BigInteger, nullable=False),
        Column("ident", ident_type, nullable=False),
        Column("x", UTCDateTime, nullable=False),  # created_at
        # Money units, total − refunded, as rev_hi × 2³² + rev_lo (sums exact past 2⁶³).
        Column("rev_hi", BigInteger, nullable=False),
        Column("rev_lo", BigInteger, nullable=False),
        # The identity's previous and next counted order; a sentinel when there is none,
        # so every condition is a plain comparison the planner can use.
        Column("prev_x", UTCDateTime, nullable=False),
        Column("next_x", UTCDateTime, nullable=False),
        prefixes=["TEMPORARY"],
    )


def _temp_indexes(table: Table) -> list[Index]:
    return [
        # Period scans read only the index: it holds every column they look at.
        Index(
            f"ix_{_TEMP_NAME}_x",
            table.c.x,
            table.c.prev_x,
            table.c.next_x,
            table.c.rev_hi,
            table.c.rev_lo,
            table.c.ident,
        ),
        # Per-customer questions (RFM, activation, churn's look-back) read this one only.
        Index(f"ix_{_TEMP_NAME}_ident", table.c.ident, table.c.x, table.c.rev_hi, table.c.rev_lo),
        # *Active at* counts orders whose next order falls between two instants.
        Index(f"ix_{_TEMP_NAME}_next", table.c.next_x, table.c.x),
    ]


class CountedOrders:
    """Aggregates over the counted orders of one store, one connection, one *as of*."""

    def __init__(
        self,
        conn: Connection,
        store_id: int,
        source: Callable[[str], FromClause],
        as_of: datetime,
        *,
        ident_type: Any = None,
        temp: Table | None = None,
    ) -> None:
        self.conn = conn
        self.store_id = store_id
        self.as_of = as_of
        #: The type of ``ident`` for derived tables (byte-wise collation on PostgreSQL).
        self.ident_type = ident_type if ident_type is not None else String(400)
        self._source = source
        #: The counted orders (``ident, x, rev_hi, rev_lo, prev_x, next_x``).
        self.table = source("counted")
        self._temp = temp
        self._derived: dict[str, Table] = {}

    def rows(self, name: str) -> FromClause:
        """The counted orders once more, under another name (for self-joins)."""
        return self._source(name)

    def derived_table(self, name: str) -> Table | None:
        """The temporary table ``derived(name, …)`` filled, if it did already."""
        return self._derived.get(name)

    def derived(self, name: str, columns: Sequence[Column[Any]], query: Select[Any]) -> Table:
        """A temporary table filled once from ``query`` (e.g. RFM scores), dropped with this."""
        if name in self._derived:
            return self._derived[name]
        table = Table(f"bz_{name}", MetaData(), *columns, prefixes=["TEMPORARY"])
        table.drop(self.conn, checkfirst=True)
        table.create(self.conn)
        self.conn.execute(insert(table).from_select([c.name for c in columns], query))
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text(f"ANALYZE {table.name}"))
        self._derived[name] = table
        return table

    def drop(self) -> None:
        temps = [*self._derived.values(), *([self._temp] if self._temp is not None else [])]
        for table in temps:
            table.drop(self.conn, checkfirst=True)
        self._derived.clear()
        self._temp = None

    def first_order_at(self) -> datetime | None:
        """When the store's first counted order was created."""
        found: datetime | None = self.conn.execute(select(func.min(self.table.c.x))).scalar()
        return found

    def activity(self, ranges: Sequence[Range]) -> list[Activity]:
        """Orders, revenue, customers, repeat and new customers of each ``[a, b)``.

        The ranges overlap (a month, the year around it, a window of CLV…): the orders are
        read once, in the pieces the ranges' bounds cut the time into. Orders, revenue and
        new customers of a range are the sums of its pieces'; its customers (rows with
        ``prev_x < a``) and repeat customers (also ``next_x < b``) depend on the range's own
        bounds, so each piece counts those for every range that holds it, in one pass."""
        if not ranges:
            return []
        t = self.table
        bounds = sorted({moment for span in ranges for moment in span})
        holding = {
            (a, b): [i for i, (start, end) in enumerate(ranges) if start <= a and b <= end]
            for a, b in pairwise(bounds)
        }
        pieces = [piece for piece, held in holding.items() if held]
        slots = max(len(holding[piece]) for piece in pieces)

        def counts(a: datetime, b: datetime) -> Select[Any]:
            columns: list[Any] = [
                func.count(),
                func.coalesce(func.sum(t.c.rev_hi), 0),
                func.coalesce(func.sum(t.c.rev_lo), 0),
                func.sum(case((t.c.prev_x == NEVER_BEFORE, 1), else_=0)),
            ]
            for slot in range(slots):
                if slot >= len(holding[(a, b)]):
                    columns += [literal(0, Integer), literal(0, Integer)]
                    continue
                start, end = ranges[holding[(a, b)][slot]]
                # The identity's first order in the range, followed by another one in it.
                columns += [
                    func.sum(case((t.c.prev_x < start, 1), else_=0)),
                    func.sum(case((and_(t.c.prev_x < start, t.c.next_x < end), 1), else_=0)),
                ]
            return select(*columns).where(t.c.x >= a, t.c.x < b)

        found = self._each([counts(a, b) for a, b in pieces])
        totals = [[0, 0, 0, 0, 0] for _ in ranges]  # orders, revenue, customers, repeat, new
        for number, piece in enumerate(pieces):
            n, hi, lo, new, *per_range = found[number]
            for slot, i in enumerate(holding[piece]):
                total = totals[i]
                total[0] += int(n)
                total[1] += joined(hi, lo)
                total[2] += int(per_range[2 * slot] or 0)
                total[3] += int(per_range[2 * slot + 1] or 0)
                total[4] += int(new or 0)
        return [Activity(*total) for total in totals]

    def active_at(self, instants: Sequence[datetime], active_days: int) -> list[int]:
        """Identities with a counted order in ``[t − active_days, t)``, for each ``t``.

        An identity is active at ``t`` when its last order before ``t`` — the row with
        ``x < t <= next_x`` — is on or after ``t − D``. Counting that for every ``t`` would
        read a whole window (a year) of orders per instant; instead the instants are
        sorted, the first one (and any more than ``D`` after the one before it) is counted
        so, and each next one from the one before, reading only the orders between them:

            A(tⱼ) = A(tⱼ₋₁) + #{x ∈ [tⱼ₋₁, tⱼ), next_x ≥ tⱼ}                 (new witnesses)
                            − #{x ∈ [tⱼ₋₁ − D, tⱼ − D), next_x ≥ tⱼ₋₁}       (fell out of D)
                            − #{next_x ∈ [tⱼ₋₁, tⱼ), x ∈ [tⱼ − D, tⱼ₋₁)}     (ordered again)

        (the last term reads ``ix_analytics_orders_next``).
        """
        if not instants:
            return []
        days = timedelta(days=active_days)
        ordered = sorted(set(instants))
        bases = [0] + [j for j in range(1, len(ordered)) if ordered[j] - ordered[j - 1] > days]
        steps = [j for j in range(1, len(ordered)) if j not in set(bases)]
        found = dict(
            zip(bases, self._active_directly([ordered[j] for j in bases], days), strict=True)
        )
        if steps:
            t = self.table
            entered = self._count_each(
                {
                    j: and_(t.c.x >= ordered[j - 1], t.c.x < ordered[j], t.c.next_x >= ordered[j])
                    for j in steps
                }
            )
            fell_out = self._count_each(
                {
                    j: and_(
                        t.c.x >= ordered[j - 1] - days,
                        t.c.x < ordered[j] - days,
                        t.c.next_x >= ordered[j - 1],
                    )
                    for j in steps
                }
            )
            again = self._count_each(
                {
                    j: and_(
                        t.c.next_x >= ordered[j - 1],
                        t.c.next_x < ordered[j],
                        t.c.x >= ordered[j] - days,
                        t.c.x < ordered[j - 1],
                    )
                    for j in steps
                }
            )
            for j in range(1, len(ordered)):
                if j not in found:
                    found[j] = (
                        found[j - 1] + entered.get(j, 0) - fell_out.get(j, 0) - again.get(j, 0)
                    )
        at = {moment: found[j] for j, moment in enumerate(ordered)}
        return [at[moment] for moment in instants]

    def _each(self, queries: Sequence[Select[Any]]) -> dict[int, tuple[Any, ...]]:
        """The one row of each aggregate query (no ``GROUP BY``), by its position.

        The queries go to the database as one ``UNION ALL`` (a few, for very many): each an
        index range scan feeding its own aggregate. A join of the ranges with the rows,
        grouped by range, makes SQLite sort every row read by its range first (a temporary
        B-tree as big as the scans): two to three times the cost of the scans themselves."""
        found: dict[int, tuple[Any, ...]] = {}
        numbered = [
            query.add_columns(literal(idx, Integer).label("idx"))
            for idx, query in enumerate(queries)
        ]
        for first in range(0, len(numbered), _UNION_MAX):
            chunk = numbered[first : first + _UNION_MAX]
            statement = chunk[0] if len(chunk) == 1 else union_all(*chunk)
            for *values, idx in self.conn.execute(statement):
                found[int(idx)] = tuple(values)
        return found

    def _count_each(self, conditions: Mapping[int, ColumnElement[bool]]) -> dict[int, int]:
        """How many counted orders meet each condition, by its key."""
        keys = list(conditions)
        rows = self._each([select(func.count()).where(conditions[key]) for key in keys])
        return {key: int(rows[i][0]) for i, key in enumerate(keys)}

    def _active_directly(self, instants: Sequence[datetime], days: timedelta) -> list[int]:
        t = self.table
        found = self._count_each(
            {
                i: and_(t.c.x >= at - days, t.c.x < at, t.c.next_x >= at)
                for i, at in enumerate(instants)
            }
        )
        return [found[i] for i in range(len(instants))]

    def churned(self, ranges: Sequence[Range], active_days: int) -> list[int]:
        """Of the identities active at ``a``, those not active at ``b``, for each ``[a, b)``."""
        if not ranges:
            return []
        t = self.table
        days = timedelta(days=active_days)
        earlier = self.rows("earlier")

        def churned_of(a: datetime, b: datetime) -> ColumnElement[bool]:
            # Only when the period is longer than the active window can the last order
            # before b fall inside the period; then S membership needs an earlier order in
            # [a − D, a).
            active_at_start = or_(
                t.c.x < a,
                exists().where(
                    earlier.c.ident == t.c.ident,
                    earlier.c.x >= a - days,
                    earlier.c.x < a,
                ),
            )
            return and_(t.c.x >= a - days, t.c.x < b - days, t.c.next_x >= b, active_at_start)

        found = self._count_each({i: churned_of(a, b) for i, (a, b) in enumerate(ranges)})
        return [found[i] for i in range(len(ranges))]

    def activation(
        self, ranges: Sequence[Range], days: int = ACTIVATION_DAYS
    ) -> list[tuple[int, int]]:
        """(eligible, activated) accounts created in each ``[a, b)``.

        Eligible: a customer account (role ``customer``, not deleted) created in the range
        and at least ``days`` before *as of*; activated: it has a counted order in
        ``[created, created + days)``. Both counts add up over disjoint pieces, so the
        ranges are cut into the pieces between their bounds and each account is looked at
        once, in one pass over the accounts (a piece found by a binary ``CASE`` on
        ``created_at``).
        """
        if not ranges:
            return []
        bounds = sorted({moment for span in ranges for moment in span})
        t = self.table
        account_identity = literal("customer:") + cast(customers.c.wc_id, String)
        created = customers.c.created_at
        piece = _bucket(created, bounds, 0, len(bounds) - 2).label("piece")
        eligible = (
            customers.c.store_id == self.store_id,
            created >= bounds[0],
            created < bounds[-1],
            created <= self.as_of - timedelta(days=days),
            customers.c.role == "customer",
            customers.c.deleted_at.is_(None),
        )
        if self.conn.dialect.name == "postgresql":
            # The account's first order on or after its creation (the one row with
            # ``x >= created > prev_x``), joined: one hash join, not a look-up per account
            # (0.6 s instead of 1.1 s at 310 000 accounts). Activated: that order is within
            # the days.
            after = self.rows("first_after")
            joined_first = customers.outerjoin(
                after,
                and_(
                    after.c.ident == account_identity,
                    after.c.x >= created,
                    after.c.prev_x < created,
                    after.c.x < plus_days(created, days),
                ),
            )
            accounts_query = (
                select(piece, case((after.c.x.is_not(None), 1), else_=0).label("activated"))
                .select_from(joined_first)
                .where(*eligible)
            )
        else:
            ordered = exists().where(
                t.c.ident == account_identity,
                t.c.x >= created,
                t.c.x < plus_days(created, days),
            )
            # A fence (``LIMIT -1 OFFSET 0``): SQLite would otherwise merge this into the
            # grouping and sort every account with its look-up still to do, a third slower.
            accounts_query = (
                select(piece, case((ordered, 1), else_=0).label("activated"))
                .where(*eligible)
                .offset(0)
            )
        accounts = accounts_query.subquery("accounts")
        rows = self.conn.execute(
            select(accounts.c.piece, func.count(), func.sum(accounts.c.activated)).group_by(
                accounts.c.piece
            )
        ).all()
        pieces = {int(idx): (int(n), int(k or 0)) for idx, n, k in rows}
        result = []
        for a, b in ranges:
            first, last = bounds.index(a), bounds.index(b)
            found = [pieces.get(i, (0, 0)) for i in range(first, last)]
            result.append((sum(n for n, _ in found), sum(k for _, k in found)))
        return result


def _bucket(column: ColumnElement[Any], bounds: Sequence[datetime], lo: int, hi: int) -> Any:
    """The index ``i`` of the piece ``[bounds[i], bounds[i + 1])`` holding ``column``, for
    pieces ``lo … hi``, by a binary search of nested ``CASE``s (log₂ comparisons a row)."""
    if lo >= hi:
        return literal(lo, Integer)
    mid = (lo + hi + 1) // 2
    return case(
        (column < bounds[mid], _bucket(column, bounds, lo, mid - 1)),
        else_=_bucket(column, bounds, mid, hi),
    )


def known_statuses(conn: Connection, store_id: int) -> frozenset[str]:
    """The order statuses a ``--statuses`` list may name: WooCommerce's own, and whatever
    status (a plugin's) the store's orders have."""
    seen = conn.execute(
        select(orders.c.status).where(orders.c.store_id == store_id).distinct()
    ).scalars()
    return CORE_ORDER_STATUSES | frozenset(seen)


__all__ = [
    "ACTIVATION_DAYS",
    "ACTIVE_DAYS",
    "DEFAULT_STATUSES",
    "NEVER_AFTER",
    "NEVER_BEFORE",
    "Activity",
    "CountedOrders",
    "StoreInfo",
    "counted_orders",
    "epoch_seconds",
    "known_statuses",
    "plus_days",
    "rows_table",
    "store_info",
]
