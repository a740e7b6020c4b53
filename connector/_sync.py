"""The sync engine: mirrors a store's orders and customers, incrementally and crash-safely.

Streams *declare* what to read (path, fixed query, model, writer); one engine pages through
them. The guarantees, and why they hold (docs/sync.md says it for shop owners):

* **No row skipped while the store changes under us.** Listings are read by id
  (``connector._listing``), each page overlapping the previous one by a row: a deletion that
  shifts rows left is noticed and the reader steps back. A new order gets a higher id and lands
  after every page already read; an order modified during an incremental run newly enters the
  filtered set, which shifts later pages right: a duplicate, never a gap. Anything that changed
  after the run began is read again by the next run, because the next cursor is the store's
  clock at the start of this run, minus an overlap.
* **Deletion only on proof.** A full scan marks a row deleted only when the scan was complete
  (no anomaly: pages agree with ``X-WP-Total``, ids in order) *and* an ``include=`` look-up
  confirms the row is gone; a row the look-up finds alive is written instead. An incomplete
  scan marks nothing and the run fails (``IncompleteScan``) after storing all it read.
* **Nothing counted twice.** Every write is an upsert keyed by (store, WooCommerce id); child
  rows (line items, coupon lines) are replaced with their order.
* **A killed run resumes.** A page's rows and the checkpoint (next offset, last id read) commit
  in one transaction; the next run continues from the checkpoint with the same query and,
  when done, catches up on what changed since the killed run began, so the mirror equals the
  store as after an uninterrupted run.
* **A bad record is the record's problem.** Records are validated to the limits of both
  databases (``connector._models``); one that fails, or that the database still refuses (the
  page is then written record by record, in savepoints), is quarantined with its raw payload
  and the reason. The rest of the page is stored and the checkpoint moves.
* **The right shop.** Before anything is written, the store's identity is checked
  (``connector._identity``): another shop behind a known name is refused.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import logging
import operator
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from connector._db import dialect_insert
from connector._errors import BadRequestError, IncompleteScan
from connector._identity import ORDERS_BY_ID, StoreApi, record_identity, verify_identity
from connector._listing import (
    PER_PAGE,
    PageSource,
    Position,
    ReadPage,
    read_ahead,
    read_listing,
    usable_id,
)
from connector._lock import host_name, store_lock
from connector._models import ZERO, Customer, Order, describe_error, storable
from connector._schema import (
    UTCDateTime,
    customers,
    guests,
    order_coupons,
    order_line_items,
    orders,
    quarantine,
    stores,
    sync_checkpoints,
    sync_cursors,
    sync_runs,
)
from connector.money import MONEY_SCALE, UNITS

log = logging.getLogger("bazgasht.sync")

#: The next incremental run re-reads this much before the last run's start: covers orders
#: whose database transaction committed a little after their modification time.
CURSOR_OVERLAP = timedelta(minutes=5)
#: How much of a reason (a validation error, the database's message) the quarantine keeps.
REASON_LIMIT = 2000


# --------------------------------------------------------------------------- declarations


Writer = Callable[[Connection, int, Sequence[Any], str | None], None]


@dataclass(frozen=True)
class Stream:
    """One endpoint to mirror: what to ask for and where the rows go."""

    resource: str
    path: str
    params: Mapping[str, str]
    model: type[BaseModel]
    table: Table
    write: Writer
    #: Supports ``modified_after`` (incremental by modification time).
    incremental: bool
    #: What an ``include=`` look-up needs to find any record the listing shows.
    lookup_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    #: The bind names, in the statement's order.
    names: tuple[str, ...]
    #: Reorders a row given in the writer's column order into ``names``' (None: the same).
    reorder: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None

    def params(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        if self.reorder is not None:
            rows = [self.reorder(row) for row in rows]
        if self.positional:
            return rows
        return [dict(zip(self.names, row, strict=True)) for row in rows]


@functools.lru_cache(maxsize=256)  # per engine's dialect: a few entries in a run
def _compiled(dialect: Dialect, stmt: Any, keys: tuple[str, ...]) -> _Compiled:
    """``stmt`` compiled once for rows of the columns ``keys`` (in that order)."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    names = tuple(compiled.positiontup if compiled.positional else compiled.binds)
    if set(names) != set(keys) or len(names) != len(keys):  # pragma: no cover - SQLAlchemy's
        raise RuntimeError(f"unexpected binds {names} for the columns {keys}")
    reorder = None if names == keys else operator.itemgetter(*(keys.index(n) for n in names))
    return _Compiled(compiled.string, compiled.positional, names, reorder)


# ---- stored forms
#
# The writers put each value in the form the driver stores, once, straight from the
# validated model: money as BIGINT units of 10^-4 (``connector.money``), instants as the
# column's stored form, booleans as the dialect keeps them. They are exactly what the
# columns' own bind processors (``connector._schema``: ``Money``, ``UTCDateTime``) make of
# the same values — tests/test_sync_stored.py compares the two mirrors — at a fraction of
# the cost of a processor chain per value.

_UNITS = Decimal(UNITS)


def _units(amount: Decimal) -> int:
    """``to_units`` of a validated amount (at most ``MONEY_SCALE`` decimals, below 10^14)."""
    units = amount * _UNITS
    whole = int(units)
    if whole != units:  # never for a validated amount: kept exact all the same
        raise ValueError(f"{amount} has more than {MONEY_SCALE} decimals")
    return whole


#: How SQLAlchemy stores a DATETIME on SQLite unless told otherwise.
_SQLITE_DATETIME = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


def _stored_as_iso_text(column_type: Any, dialect: Dialect) -> bool:
    """An instant (``UTCDateTime``) that SQLite stores in SQLAlchemy's default text form,
    which ``_sqlite_instant`` writes at a fraction of the cost of its generic processor."""
    if dialect.name != "sqlite" or not isinstance(column_type, UTCDateTime):
        return False
    impl = column_type.impl_instance.dialect_impl(dialect)
    return getattr(impl, "_storage_format", None) == _SQLITE_DATETIME


def _sqlite_instant(value: datetime | None) -> str | None:
    """``UTCDateTime`` then SQLite's DATETIME bind processors in one step: the same text
    (``isoformat`` pads the year to 4 digits, like ``%04d``)."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # every validated instant: "YYYY-MM-DD HH:MM:SS.ffffff+00:00"
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError("naive datetime given where an instant is needed")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _naive_instant(value: datetime | None) -> datetime | None:
    """``UTCDateTime``'s bind processor where the driver takes a naive datetime (psycopg)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given where an instant is needed")
    return (
        value.replace(tzinfo=None)
        if value.tzinfo is UTC
        else value.astimezone(UTC).replace(tzinfo=None)
    )


@dataclass(frozen=True)
class _Forms:
    """The stored forms of one dialect's instants and booleans."""

    instant: Callable[[datetime | None], Any]
    boolean: Callable[[bool], Any]


@functools.lru_cache(maxsize=16)
def _forms(dialect: Dialect) -> _Forms:
    instant_type: Any = orders.c.created_at.type
    if _stored_as_iso_text(instant_type, dialect):
        instant: Callable[[datetime | None], Any] = _sqlite_instant
    elif instant_type.impl_instance.dialect_impl(dialect).bind_processor(dialect) is None:
        instant = _naive_instant  # the DATETIME itself takes the naive value as it is
    else:  # pragma: no cover - another driver: its own processor chain, per value
        instant = instant_type.dialect_impl(dialect).bind_processor(dialect)
    # SQLite keeps booleans as 0 / 1 (SQLAlchemy's non-native Boolean); PostgreSQL as bool.
    boolean: Callable[[bool], Any] = bool if dialect.supports_native_boolean else int
    return _Forms(instant, boolean)


def _executemany(
    conn: Connection,
    stmt: Any,
    names: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    copy: tuple[Table, str] | None = None,
) -> None:
    """Run ``stmt`` (built once, see below) for every row with the driver's executemany.

    ``rows`` are tuples of the columns ``names``, already in their stored forms (above): no
    bind processor runs. The statement is compiled once per dialect and set of columns and
    runs on the page's own connection and transaction. SQLAlchemy's own executemany would
    run a dozen calls per row around it; a multi-row ``VALUES`` built per page, as once, was
    compiled afresh for every page — then most of the sync's CPU (docs/sync.md, "Speed")."""
    if not rows:
        return
    plan = _compiled(conn.dialect, stmt, names)
    if copy is not None and conn.dialect.driver == "psycopg":
        _copy_in(conn, plan, *copy, rows)
    else:
        conn.exec_driver_sql(plan.sql, plan.params(rows))


def _copy_in(
    conn: Connection, plan: _Compiled, table: Table, conflict: str, rows: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: ``COPY`` the rows into a session-private staging table shaped like
    ``table``, then move them with one ``INSERT … SELECT … {conflict}`` (the same
    ``ON CONFLICT`` clause as the statement it replaces). One round trip per table and page
    instead of one statement per row; the staging table is emptied by the move itself (and,
    should anything fail, by the rollback of the page's savepoint)."""
    stage = f'"bazgasht_stage_{table.name}"'
    columns = ", ".join(f'"{name}"' for name in plan.names)
    driver: Any = conn.connection.dbapi_connection  # a psycopg (3) connection
    reorder = plan.reorder
    with driver.cursor() as cursor:
        cursor.execute(f'CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE "{table.name}")')
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row if reorder is None else reorder(row))
    conn.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {stage} RETURNING {columns}) "
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM moved {conflict}'
    )


def _on_conflict(keys: Sequence[str], columns: Sequence[str], where: str = "") -> str:
    """The ``ON CONFLICT (keys) DO UPDATE SET`` clause of an upsert of ``columns``."""
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in keys)
    keyed = ", ".join(f'"{k}"' for k in keys)
    return f"ON CONFLICT ({keyed}) DO UPDATE SET {updates}{where}"


@functools.cache
def _insert_statement(table: Table) -> Any:
    return insert(table)


def _insert(
    conn: Connection, table: Table, names: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    _executemany(conn, _insert_statement(table), names, rows, copy=(table, ""))


@functools.cache
def _upsert_statement(
    dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    stmt = dialect_insert(dialect)(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        # Only the columns given: a writer may leave bookkeeping (``seen_scan``) untouched.
        set_={name: stmt.excluded[name] for name in columns if name not in keys},
    )


@functools.cache
def _conflict_clause(columns: tuple[str, ...], keys: tuple[str, ...], where: str = "") -> str:
    return _on_conflict(keys, columns, where)


def _upsert(
    conn: Connection,
    table: Table,
    names: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    keys: tuple[str, ...],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, for SQLite and PostgreSQL alike, as one
    executemany of a statement built (and compiled) once per set of columns.

    ``rows`` (tuples of ``names``, stored forms) must not repeat a key."""
    if rows:
        stmt = _upsert_statement(conn.dialect.name, table, names, keys)
        _executemany(conn, stmt, names, rows, copy=(table, _conflict_clause(names, keys)))


@functools.lru_cache(maxsize=64)
def _delete_children_sql(paramstyle: str, child: str, count: int) -> str:
    """``DELETE`` the rows of ``child`` that belong to ``count`` orders of one store: plain
    SQL with positional placeholders, built once per page size (an expanding bind parameter
    is re-rendered by SQLAlchemy for every page)."""
    mark = "?" if paramstyle in ("qmark", "numeric") else "%s"
    marks = ", ".join([mark] * count)
    return f'DELETE FROM "{child}" WHERE store_id = {mark} AND order_id IN ({marks})'


def _delete_children(conn: Connection, child: Table, store_id: int, ids: list[int]) -> None:
    sql = _delete_children_sql(conn.dialect.paramstyle, child.name, len(ids))
    conn.exec_driver_sql(sql, (store_id, *ids))


_ORDER_COLUMNS = (
    "store_id",
    "wc_id",
    "number",
    "status",
    "currency",
    "created_at",
    "modified_at",
    "paid_at",
    "completed_at",
    "total",
    "total_tax",
    "shipping_total",
    "discount_total",
    "refunded_total",
    "customer_id",
    "billing_email",
    "billing_first_name",
    "billing_last_name",
    "billing_phone",
    "coupon_codes",
    "deleted_at",
)
_LINE_ITEM_COLUMNS = (
    "store_id",
    "wc_id",
    "order_id",
    "product_id",
    "variation_id",
    "name",
    "quantity",
    "subtotal",
    "total",
)
_COUPON_COLUMNS = ("store_id", "order_id", "code", "discount")
_CUSTOMER_COLUMNS = (
    "store_id",
    "wc_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "role",
    "created_at",
    "modified_at",
    "is_paying_customer",
    "deleted_at",
)
_GUEST_COLUMNS = (
    "store_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "latest_order_created_at",
    "latest_order_id",
)
_KEYS = ("store_id", "wc_id")


def _seen(columns: tuple[str, ...], scan: str | None) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The full-scan mark (``seen_scan``); incremental writes leave the column as it was."""
    return ((*columns, "seen_scan"), (scan,)) if scan is not None else (columns, ())


def write_orders(conn: Connection, store_id: int, batch: Sequence[Any], scan: str | None) -> None:
    by_id: dict[int, Order] = {o.id: o for o in batch}  # a page may repeat an order: last wins
    ids = list(by_id)
    instant = _forms(conn.dialect).instant
    units = _units
    names, tail = _seen(_ORDER_COLUMNS, scan)
    rows = []
    items: dict[tuple[int, int], tuple[Any, ...]] = {}
    coupons: dict[tuple[int, str], Decimal] = {}
    for o in by_id.values():
        billing = o.billing
        codes = {c.code.lower() for c in o.coupon_lines} if o.coupon_lines else ()
        rows.append(
            (
                store_id,
                o.id,
                o.number or str(o.id),
                o.status,
                o.currency,
                instant(o.date_created_gmt),
                instant(o.date_modified_gmt),
                instant(o.date_paid_gmt),
                instant(o.date_completed_gmt),
                units(o.total),
                units(o.total_tax),
                units(o.shipping_total),
                units(o.discount_total),
                units(o.refunded_total) if o.refunds else 0,
                o.customer_id,
                o.billing_email,
                billing.first_name,
                billing.last_name,
                billing.phone,
                ",".join(sorted(codes)),
                None,
                *tail,
            )
        )
        for li in o.line_items:
            items[(o.id, li.id)] = (
                store_id,
                li.id,
                o.id,
                li.product_id,
                li.variation_id,
                li.name,
                li.quantity,
                units(li.subtotal),
                units(li.total),
            )
        for c in o.coupon_lines:
            key = (o.id, c.code.lower())
            coupons[key] = coupons.get(key, ZERO) + c.discount
    _upsert(conn, orders, names, rows, _KEYS)
    for child in (order_line_items, order_coupons):
        _delete_children(conn, child, store_id, ids)
    _insert(conn, order_line_items, _LINE_ITEM_COLUMNS, list(items.values()))
    _insert(
        conn,
        order_coupons,
        _COUPON_COLUMNS,
        [(store_id, order_id, code, units(total)) for (order_id, code), total in coupons.items()],
    )
    _write_guests(conn, store_id, by_id.values())


def _write_guests(conn: Connection, store_id: int, batch: Any) -> None:
    """Guests are e-mail identities; their details come from their latest order."""
    latest: dict[str, Order] = {}
    for o in batch:
        if o.customer_id == 0 and o.billing_email:
            seen = latest.get(o.billing_email)
            if seen is None or (o.date_created_gmt, o.id) > (seen.date_created_gmt, seen.id):
                latest[o.billing_email] = o
    if not latest:
        return
    instant = _forms(conn.dialect).instant
    rows = [
        (
            store_id,
            email,
            o.billing.first_name,
            o.billing.last_name,
            o.billing.phone,
            instant(o.date_created_gmt),
            o.id,
        )
        for email, o in latest.items()
    ]
    newer = (
        " WHERE EXCLUDED.latest_order_created_at > guests.latest_order_created_at"
        " OR (EXCLUDED.latest_order_created_at = guests.latest_order_created_at"
        " AND EXCLUDED.latest_order_id >= guests.latest_order_id)"
    )
    conflict = _conflict_clause(_GUEST_COLUMNS, ("store_id", "email"), newer)
    _executemany(
        conn, _guests_statement(conn.dialect.name), _GUEST_COLUMNS, rows, copy=(guests, conflict)
    )


@functools.cache
def _guests_statement(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(guests)
    newer = or_(
        stmt.excluded.latest_order_created_at > guests.c.latest_order_created_at,
        and_(
            stmt.excluded.latest_order_created_at == guests.c.latest_order_created_at,
            stmt.excluded.latest_order_id >= guests.c.latest_order_id,
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["store_id", "email"],
        set_={
            c.name: stmt.excluded[c.name]
            for c in guests.columns
            if c.name not in ("store_id", "email")
        },
        where=newer,
    )


def write_customers(
    conn: Connection, store_id: int, batch: Sequence[Any], scan: str | None
) -> None:
    by_id: dict[int, Customer] = {c.id: c for c in batch}
    forms = _forms(conn.dialect)
    instant, boolean = forms.instant, forms.boolean
    names, tail = _seen(_CUSTOMER_COLUMNS, scan)
    rows = [
        (
            store_id,
            c.id,
            c.email_normalized,
            c.first_name,
            c.last_name,
            c.billing.phone,
            c.role,
            instant(c.date_created_gmt),
            instant(c.date_modified_gmt),
            boolean(c.is_paying_customer),
            None,
            *tail,
        )
        for c in by_id.values()
    ]
    _upsert(conn, customers, names, rows, _KEYS)


ORDERS = Stream(
    resource="orders",
    path="orders",
    # The default status ("any") lists every order but trashed ones; an include= look-up with
    # the same default finds exactly what the listing shows, so a trashed order is "gone".
    params=ORDERS_BY_ID,
    model=Order,
    table=orders,
    write=write_orders,
    incremental=True,
)
CUSTOMERS = Stream(
    resource="customers",
    path="customers",
    # role=all: the default lists only role "customer" and would hide other buyers' accounts.
    params={"role": "all", "orderby": "id", "order": "asc"},
    model=Customer,
    table=customers,
    write=write_customers,
    incremental=False,
    lookup_params={"role": "all"},
)
STREAMS = (ORDERS, CUSTOMERS)


# --------------------------------------------------------------------------- results


@dataclass
class StreamResult:
    resource: str
    mode: str
    resumed: bool = False
    records: int = 0
    quarantined: int = 0
    deleted: int = 0
    pages: int = 0
    #: Why a full scan could not prove deletions (None: it could, or it was not a full scan).
    incomplete: str | None = None

    def add(self, other: StreamResult) -> None:
        """Count a catch-up pass of the same stream in."""
        self.records += other.records
        self.quarantined += other.quarantined
        self.deleted += other.deleted
        self.pages += other.pages


@dataclass
class SyncResult:
    store: str
    run_id: int
    requested_mode: str
    streams: list[StreamResult] = field(default_factory=list)
    requests: int = 0

    @property
    def mode(self) -> str:
        """How the orders were read: "full" on a first run even if not asked for."""
        return self.streams[0].mode if self.streams else self.requested_mode

    def count(self, resource: str) -> int:
        return sum(s.records for s in self.streams if s.resource == resource)

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.streams)

    @property
    def deleted(self) -> int:
        return sum(s.deleted for s in self.streams)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "run_id": self.run_id,
            "mode": self.mode,
            "orders": self.count("orders"),
            "customers": self.count("customers"),
            "quarantined": self.quarantined,
            "deleted": self.deleted,
            "requests": self.requests,
            "resumed": any(s.resumed for s in self.streams),
        }


#: Called after each committed page: (resource, pages done, pages expected or None).
ProgressCallback = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class _Plan:
    """How one stream is read in this run (kept in the checkpoint for a resume)."""

    mode: str  # "incremental" | "full" | "new"  (new: customers created since the last run)
    scan_id: str
    started_at: datetime | None
    modified_after: datetime | None
    position: Position
    resumed: bool
    #: Anomalies met so far in this full scan (kept across a resume).
    incomplete: str | None = None


def _fresh_plan(mode: str, modified_after: datetime | None) -> _Plan:
    return _Plan(mode, uuid.uuid4().hex, None, modified_after, Position(0, None), False)


# --------------------------------------------------------------------------- the engine


def ensure_store(conn: Connection, name: str, url: str, now: datetime) -> int:
    """The id of the store's row, creating it on first use.

    Race-free: two processes meeting a new store at once both get the one row (INSERT … ON
    CONFLICT DO NOTHING, then SELECT; on SQLite the INSERT also takes the write lock first).
    """
    upsert = dialect_insert(conn.dialect.name)
    conn.execute(
        upsert(stores)
        .values(name=name, url=url, created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    found = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar_one()
    if url:
        conn.execute(
            update(stores).where(stores.c.id == found, stores.c.url != url).values(url=url)
        )
    return int(found)


def _gmt_param(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class _Cancelled(Exception):
    """Another stream of the run failed: this one stops at its next page (what it
    committed stays, with its checkpoint)."""


def _note(known: str | None, anomaly: str | None) -> str | None:
    """Anomalies of one scan, each named once."""
    if anomaly is None or (known is not None and anomaly in known):
        return known
    return anomaly if known is None else f"{known}; {anomaly}"


class SyncEngine:
    """Runs the streams of one store. One instance per run; see ``sync_store``."""

    def __init__(
        self,
        engine: Engine,
        client: PageSource,
        *,
        store_id: int,
        full: bool,
        concurrency: int,
        now: Callable[[], datetime],
        progress: ProgressCallback | None,
        run_id: int | None,
        supports_modified_after: bool | None,
        preread: Sequence[ReadPage] = (),
    ) -> None:
        self.engine = engine
        self.client = client
        self.store_id = store_id
        self.full = full
        self.concurrency = max(1, concurrency)
        self.now = now
        self.progress = progress
        self.run_id = run_id
        self.supports_modified_after = supports_modified_after
        #: Pages read just before this run (the identity check's), by path: the first
        #: listing of that path in this run takes its page instead of asking again.
        self._preread = {page.path: page for page in preread}
        self._order_customer_ids: set[int] = set()
        #: Per resource: whether the store may have unresolved quarantine rows (None: not
        #: looked yet). Only this run writes them while it holds the store's lock, so a
        #: store with none skips the per-page "resolved" update.
        self._held: dict[str, bool] = {}
        # One writer at a time (the streams run in threads of their own); a failed stream
        # stops the others at their next page, and the customers' refresh waits for orders.
        self._write_lock = threading.Lock()
        self._cancel = threading.Event()
        self._orders_done = threading.Event()
        self._orders_done.set()  # cleared while run_all runs the orders beside the customers

    def run_all(self, streams: Sequence[Stream], into: list[StreamResult]) -> None:
        """Run the streams, appending their results to ``into`` in the streams' order: at the
        same time (``concurrency`` > 1: the client's ``Pacer`` keeps the requests of all of
        them within it) or one after the other. The first failure, in the streams' order, is
        raised after the others have stopped; a failed first stream (the orders) stops the
        others at their next page. The results of the streams that completed are in ``into``
        all the same."""
        if self.concurrency == 1 or len(streams) < 2:
            for stream in streams:
                into.append(self.run(stream))
            return
        if ORDERS in streams:
            self._orders_done.clear()
        outcome: dict[int, StreamResult | BaseException] = {}

        def work(index: int, stream: Stream) -> None:
            try:
                outcome[index] = self.run(stream)
            except BaseException as exc:
                outcome[index] = exc
                if index == 0:
                    self._cancel.set()  # before the orders count as done (below)
            finally:
                if stream is ORDERS:
                    self._orders_done.set()

        helpers = [
            threading.Thread(target=work, args=(i, s), name=f"bazgasht-{s.resource}")
            for i, s in enumerate(streams)
            if i > 0
        ]
        for helper in helpers:
            helper.start()
        try:
            work(0, streams[0])
        finally:
            for helper in helpers:
                while helper.is_alive():
                    try:
                        helper.join()
                    except BaseException:  # Ctrl-C: stop the others at their next page
                        self._cancel.set()
                        raise
        # As one after the other would: the results up to the first failure, then that one.
        for index in range(len(streams)):
            found = outcome[index]
            if isinstance(found, StreamResult):
                into.append(found)
                continue
            raise found  # (only a failed first stream cancels the others)

    # ---- planning

    def _plan(self, stream: Stream) -> _Plan:
        with self.engine.connect() as conn:
            checkpoint = (
                conn.execute(
                    select(sync_checkpoints).where(
                        sync_checkpoints.c.store_id == self.store_id,
                        sync_checkpoints.c.resource == stream.resource,
                    )
                )
                .mappings()
                .first()
            )
            cursor = conn.execute(
                select(sync_cursors.c.modified_after).where(
                    sync_cursors.c.store_id == self.store_id,
                    sync_cursors.c.resource == stream.resource,
                )
            ).first()
        wanted = self._mode(stream, cursor is not None)
        if checkpoint is not None and (
            checkpoint["mode"] == wanted or checkpoint["mode"] == "full"
        ):
            # Finish what a killed run started, with its query; a full scan in progress is
            # finished even when this run only asked for an incremental one.
            return _Plan(
                mode=checkpoint["mode"],
                scan_id=checkpoint["scan_id"],
                started_at=checkpoint["started_at"],
                modified_after=checkpoint["modified_after"],
                position=Position(checkpoint["next_offset"], checkpoint["last_id"]),
                resumed=True,
                incomplete=checkpoint["incomplete"],
            )
        return _fresh_plan(wanted, cursor[0] if (cursor is not None and wanted != "full") else None)

    def _mode(self, stream: Stream, has_cursor: bool) -> str:
        if self.full or not has_cursor:
            return "full"
        if stream.incremental:
            # Unknown (never checked): try it; a store that refuses the parameter falls back.
            return "full" if self.supports_modified_after is False else "incremental"
        return "new"

    def _params(self, stream: Stream, plan: _Plan) -> dict[str, str | int]:
        params: dict[str, str | int] = dict(stream.params)
        if plan.mode == "incremental" and plan.modified_after is not None:
            params["modified_after"] = _gmt_param(plan.modified_after)
            params["dates_are_gmt"] = "true"
        if plan.mode == "new":
            params["order"] = "desc"  # newest accounts first; stop at the first known one
        return params

    # ---- running

    def run(self, stream: Stream) -> StreamResult:
        plan = self._plan(stream)
        result = self._run_or_fall_back(stream, plan)
        if (
            plan.resumed
            and plan.started_at is not None
            and stream.incremental
            and self.supports_modified_after is not False
        ):
            # Pages read before the kill may have changed since: read again what changed
            # after the killed run began, so this run ends with the mirror equal to the store.
            catch_up = _fresh_plan("incremental", plan.started_at - CURSOR_OVERLAP)
            result.add(self._run_or_fall_back(stream, catch_up))
        return result

    def _run_or_fall_back(self, stream: Stream, plan: _Plan) -> StreamResult:
        try:
            return self._run(stream, plan)
        except BadRequestError as exc:
            if plan.mode == "incremental" and "modified_after" in str(exc):
                log.warning("store refused modified_after; falling back to a full scan")
                self._drop_checkpoint(stream)
                return self._run(stream, _fresh_plan("full", None))
            raise

    def _run(self, stream: Stream, plan: _Plan) -> StreamResult:
        result = StreamResult(stream.resource, plan.mode, resumed=plan.resumed)
        started_at = plan.started_at
        incomplete = plan.incomplete
        max_known_id = self._max_id(stream) if plan.mode == "new" else None
        listing = read_listing(
            self.client,
            stream.path,
            self._params(stream, plan),
            plan.position,
            descending=plan.mode == "new",
            # A "new" listing usually ends within its first page (at the first known
            # account): pages fetched ahead would be requests for nothing.
            concurrency=1 if plan.mode == "new" else self.concurrency,
            # (Taken once: a catch-up or a fallback later in the run asks afresh.)
            preread=self._preread.pop(stream.path, None),
        )
        # The pages after the one being written keep coming (but not past the known accounts
        # of a "new" listing, which usually ends on its first page).
        batches = (
            read_ahead(listing, self.concurrency)
            if self.concurrency > 1 and plan.mode != "new"
            else listing
        )
        with closing(batches):
            for batch in batches:
                if self._cancel.is_set():
                    raise _Cancelled
                if started_at is None:
                    # The store's clock when it answered the first page: the next cursor never
                    # passes it, so whatever changes from now on is read by the next run.
                    started_at = min(batch.page.server_date or self.now(), self.now())
                records = batch.records
                stop = batch.last
                if max_known_id is not None:
                    fresh = [r for r in records if (usable_id(r) or 0) > max_known_id]
                    stop = stop or len(fresh) < len(records)
                    records = fresh
                if batch.anomaly is not None:
                    # Only a full scan proves deletions; elsewhere an anomaly is worth a note.
                    log.warning(
                        "store %r: %s: %s",
                        self.client.store,
                        stream.resource,
                        batch.anomaly,
                    )
                    if plan.mode == "full":
                        incomplete = _note(incomplete, batch.anomaly)
                checkpoint = (plan, started_at, batch.after, incomplete)
                self._commit(
                    stream,
                    records,
                    plan.scan_id if plan.mode == "full" else None,
                    result,
                    checkpoint=checkpoint,
                )
                result.pages += 1
                if self.progress:
                    total = batch.page.total if result.pages == 1 else None
                    expected = None if total is None else 1 + max(0, total - 1) // (PER_PAGE - 1)
                    self.progress(stream.resource, result.pages, expected)
                if stop:
                    break
        started_at = started_at or self.now()
        if stream is CUSTOMERS and plan.mode == "new":
            self._orders_done.wait()
            if self._cancel.is_set():
                raise _Cancelled
            self._refresh_customers(stream, result)
        if plan.mode == "full":
            if incomplete is None:
                self._prove_deletions(stream, plan.scan_id, started_at, result)
            else:
                result.incomplete = incomplete
        self._finish(stream, started_at)
        return result

    def _commit(
        self,
        stream: Stream,
        records: list[Any],
        scan: str | None,
        result: StreamResult,
        *,
        checkpoint: tuple[_Plan, datetime, Position, str | None] | None = None,
        gone: Sequence[int] = (),
        then: Callable[[Connection, list[int]], None] | None = None,
    ) -> None:
        """Validate and store ``records`` in one transaction, with the checkpoint (if given),
        the deletion marks (``gone``) and ``then(conn, ids written)`` (if given): bad records
        go to the quarantine, never stop it."""
        now = self.now()
        valid: list[tuple[Any, BaseModel]] = []
        bad: list[tuple[Any, str]] = []
        for raw in records:
            try:
                valid.append((raw, stream.model.model_validate(raw, context={"now": now})))
            except ValidationError as exc:
                bad.append((raw, _describe(exc)))
            except Exception as exc:  # a validator tripped over an odd value: still the record's
                bad.append((raw, f"{type(exc).__name__}: {exc}"))
        with self._write_lock, _page_transaction(self.engine) as conn:
            refused = self._write(conn, stream, valid, scan)
            if refused:
                refused_ids = {id(raw) for raw, _ in refused}
                valid = [(raw, model) for raw, model in valid if id(raw) not in refused_ids]
                bad.extend(refused)
            self._quarantine(conn, stream, bad, now)
            self._resolve_quarantine(conn, stream, [model for _, model in valid], now)
            if gone:
                result.deleted += self._mark_deleted(conn, stream, scan, gone, now)
            if checkpoint is not None:
                self._save_checkpoint(conn, stream, *checkpoint, now)
            if then is not None:
                then(conn, [model.id for _, model in valid])  # type: ignore[attr-defined]
        if stream is ORDERS:
            self._order_customer_ids.update(
                o.customer_id for _, o in valid if isinstance(o, Order) and o.customer_id > 0
            )
        result.records += len(valid)
        result.quarantined += len(bad)

    def _write(
        self,
        conn: Connection,
        stream: Stream,
        valid: list[tuple[Any, BaseModel]],
        scan: str | None,
    ) -> list[tuple[Any, str]]:
        """Write the valid records; returns those the database still refused, with its reason.

        The whole batch first, in a savepoint; if the database refuses it, record by record,
        each in its own savepoint, so one offending record cannot take the others with it.
        """
        if not valid:
            return []
        try:
            with conn.begin_nested():
                stream.write(conn, self.store_id, [model for _, model in valid], scan)
        except Exception as exc:
            if not _record_fault(exc):
                raise
            log.warning(
                "store %r: the database refused a batch of %s (%s); writing record by record",
                self.client.store,
                stream.resource,
                _reason(exc),
            )
        else:
            return []
        refused: list[tuple[Any, str]] = []
        for raw, model in valid:
            try:
                with conn.begin_nested():
                    stream.write(conn, self.store_id, [model], scan)
            except Exception as exc:
                if not _record_fault(exc):
                    raise
                refused.append((raw, f"the database refused it: {_reason(exc)}"))
        return refused

    def _refresh_customers(self, stream: Stream, result: StreamResult) -> None:
        """Re-read the accounts behind this run's orders: catches changed e-mails and names."""
        ids = sorted(self._order_customer_ids)
        for start in range(0, len(ids), PER_PAGE):
            chunk = ids[start : start + PER_PAGE]
            page = self.client.get_page(
                stream.path,
                {
                    **stream.lookup_params,
                    "include": ",".join(map(str, chunk)),
                    "per_page": PER_PAGE,
                },
            )
            wanted = set(chunk)
            self._commit(stream, [r for r in page.items if usable_id(r) in wanted], None, result)

    def _prove_deletions(
        self, stream: Stream, scan: str, started_at: datetime, result: StreamResult
    ) -> None:
        """After a complete scan: rows it did not see (and that existed before it began) are
        looked up by id. Those the store still has are written (a shifted page skipped them);
        only those it does not have are marked deleted."""
        table = stream.table
        with self.engine.connect() as conn:
            unseen = list(
                conn.execute(
                    select(table.c.wc_id)
                    .where(
                        table.c.store_id == self.store_id,
                        table.c.deleted_at.is_(None),
                        or_(table.c.seen_scan.is_(None), table.c.seen_scan != scan),
                        table.c.created_at < started_at,
                    )
                    .order_by(table.c.wc_id)
                ).scalars()
            )
        for start in range(0, len(unseen), PER_PAGE):
            chunk = unseen[start : start + PER_PAGE]
            page = self.client.get_page(
                stream.path,
                {
                    **stream.lookup_params,
                    "include": ",".join(map(str, chunk)),
                    "per_page": PER_PAGE,
                },
            )
            wanted = set(chunk)
            found = [i for i in map(usable_id, page.items) if i is not None]
            if any(i not in wanted for i in found):
                raise IncompleteScan(
                    f"store {self.client.store!r}: the {stream.path} look-up by include= answered "
                    "records that were not asked for (the store or a plugin ignores include=), "
                    "so deletions cannot be proven; nothing was marked deleted"
                )
            alive = set(found)
            if alive:
                log.info(
                    "store %r: %d %s missed by the scan are still on the store: written",
                    self.client.store,
                    len(alive),
                    stream.resource,
                )
            self._commit(
                stream,
                [r for r in page.items if usable_id(r) in alive],
                scan,
                result,
                gone=[i for i in chunk if i not in alive],
            )

    def _finish(self, stream: Stream, started_at: datetime) -> None:
        now = self.now()
        with self._write_lock, self.engine.begin() as conn:
            values = {"modified_after": started_at - CURSOR_OVERLAP, "updated_at": now}
            if (
                conn.execute(
                    update(sync_cursors)
                    .where(
                        sync_cursors.c.store_id == self.store_id,
                        sync_cursors.c.resource == stream.resource,
                    )
                    .values(**values)
                ).rowcount
                == 0
            ):
                conn.execute(
                    insert(sync_cursors).values(
                        store_id=self.store_id, resource=stream.resource, **values
                    )
                )
            conn.execute(
                delete(sync_checkpoints).where(
                    sync_checkpoints.c.store_id == self.store_id,
                    sync_checkpoints.c.resource == stream.resource,
                )
            )

    def _mark_deleted(
        self, conn: Connection, stream: Stream, scan: str | None, ids: Sequence[int], now: datetime
    ) -> int:
        """The rows a look-up confirmed gone (and that no page of this scan wrote meanwhile)."""
        table = stream.table
        return int(
            conn.execute(
                update(table)
                .where(
                    table.c.store_id == self.store_id,
                    table.c.wc_id.in_(list(ids)),
                    table.c.deleted_at.is_(None),
                    or_(table.c.seen_scan.is_(None), table.c.seen_scan != scan),
                )
                .values(deleted_at=now)
            ).rowcount
        )

    # ---- bookkeeping

    def _max_id(self, stream: Stream) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.max(stream.table.c.wc_id)).where(
                    stream.table.c.store_id == self.store_id
                )
            ).scalar()
        return int(found or 0)

    def _save_checkpoint(
        self,
        conn: Connection,
        stream: Stream,
        plan: _Plan,
        started_at: datetime,
        after: Position,
        incomplete: str | None,
        now: datetime,
    ) -> None:
        values = {
            "run_id": self.run_id,
            "mode": plan.mode,
            "scan_id": plan.scan_id,
            "started_at": started_at,
            "modified_after": plan.modified_after,
            "next_offset": after.offset,
            "last_id": after.last_id,
            "incomplete": incomplete,
            "updated_at": now,
        }
        if (
            conn.execute(
                update(sync_checkpoints)
                .where(
                    sync_checkpoints.c.store_id == self.store_id,
                    sync_checkpoints.c.resource == stream.resource,
                )
                .values(**values)
            ).rowcount
            == 0
        ):
            conn.execute(
                insert(sync_checkpoints).values(
                    store_id=self.store_id, resource=stream.resource, **values
                )
            )

    def _drop_checkpoint(self, stream: Stream) -> None:
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                delete(sync_checkpoints).where(
                    sync_checkpoints.c.store_id == self.store_id,
                    sync_checkpoints.c.resource == stream.resource,
                )
            )

    def _quarantine(
        self,
        conn: Connection,
        stream: Stream,
        bad: list[tuple[Any, str]],
        now: datetime,
    ) -> None:
        if bad:
            self._held[stream.resource] = True
        for raw, error in bad:
            # ASCII JSON: NUL characters and lone surrogates become \\u escapes, so any
            # payload can be stored (and json.loads gives it back as received).
            payload = json.dumps(raw, ensure_ascii=True, sort_keys=True, default=str)
            wc_id = usable_id(raw)
            key = str(wc_id) if wc_id is not None else "sha256:" + _digest(payload)
            reason = _safe_text(error)
            log.warning("quarantined %s %s: %s", stream.resource, key, reason)
            values = {
                "error": reason,
                "payload": payload,
                "run_id": self.run_id,
                "last_seen_at": now,
                "resolved_at": None,
            }
            where = and_(
                quarantine.c.store_id == self.store_id,
                quarantine.c.resource == stream.resource,
                quarantine.c.wc_id == key,
            )
            if conn.execute(update(quarantine).where(where).values(**values)).rowcount == 0:
                conn.execute(
                    insert(quarantine).values(
                        store_id=self.store_id,
                        resource=stream.resource,
                        wc_id=key,
                        first_seen_at=now,
                        **values,
                    )
                )

    def _resolve_quarantine(
        self, conn: Connection, stream: Stream, valid: list[Any], now: datetime
    ) -> None:
        if not valid:
            return
        held = self._held.get(stream.resource)
        if held is None:
            held = (
                conn.execute(
                    select(quarantine.c.wc_id)
                    .where(
                        quarantine.c.store_id == self.store_id,
                        quarantine.c.resource == stream.resource,
                        quarantine.c.resolved_at.is_(None),
                    )
                    .limit(1)
                ).first()
                is not None
            )
            self._held[stream.resource] = held
        if not held:
            return
        conn.execute(
            update(quarantine)
            .where(
                quarantine.c.store_id == self.store_id,
                quarantine.c.resource == stream.resource,
                quarantine.c.resolved_at.is_(None),
                quarantine.c.wc_id.in_([str(v.id) for v in valid]),
            )
            .values(resolved_at=now)
        )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _safe_text(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` as something both databases store: no NUL, no lone surrogate, bounded."""
    cleaned = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    storable(cleaned)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _describe(exc: ValidationError) -> str:
    """A one-line reason: which fields, and what was wrong with them (no input echo)."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {describe_error(err)}")
    return "; ".join(parts)


def _record_fault(exc: BaseException) -> bool:
    """Whether the database (or its driver) refused a *value*: the record's problem, not the
    run's. A lost connection, a locked database or a full disk are the run's."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return False
        sqlstate = getattr(exc.orig, "sqlstate", None)
        # 22: data exception, 23: integrity, 54: a value over a limit (e.g. an index row).
        return isinstance(sqlstate, str) and sqlstate[:2] in ("22", "23", "54")
    if isinstance(exc, StatementError):
        return True  # a value our column types could not convert (raised before sending)
    sqlstate = getattr(exc, "sqlstate", None)  # the driver's own error (a COPY, in _copy_in)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in ("22", "23", "54")
    return isinstance(exc, ValueError | OverflowError | UnicodeError)


def _reason(exc: BaseException) -> str:
    """The database's one-line reason."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}".strip()


#: The streams by resource name, for records that arrive outside a listing.
STREAM_OF = {stream.resource: stream for stream in STREAMS}


def write_records(
    engine: Engine,
    client: StoreApi,
    store_id: int,
    resource: str,
    records: Sequence[Any],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    then: Callable[[Connection, list[int]], None] | None = None,
) -> StreamResult:
    """Store records that arrived outside a listing (webhook deliveries, ``resource``
    "orders" or "customers") exactly as a sync stores a page: the same model validates them,
    the same writer upserts them, a bad one goes to the quarantine. One transaction, in
    which ``then(conn, ids written)`` also runs (the caller's own bookkeeping).

    The caller holds the store's sync lock (``store_lock``) and has chosen which records to
    write (e.g. none older than the mirror's row): the writer upserts unconditionally."""
    stream = STREAM_OF[resource]
    runner = SyncEngine(
        engine,
        client,
        store_id=store_id,
        full=False,
        concurrency=1,
        now=now,
        progress=None,
        run_id=None,
        supports_modified_after=None,
    )
    result = StreamResult(resource, "webhook")
    runner._commit(stream, list(records), None, result, then=then)
    return result


def mark_deleted(
    conn: Connection, store_id: int, resource: str, ids: Sequence[int], now: datetime
) -> int:
    """Mark mirrored rows the store confirmed gone (trashed or deleted) as deleted, as a
    full sync does for rows its scan proved gone; returns how many changed. In the caller's
    transaction (e.g. ``write_records``'s ``then``)."""
    table = STREAM_OF[resource].table
    if not ids:
        return 0
    return int(
        conn.execute(
            update(table)
            .where(
                table.c.store_id == store_id,
                table.c.wc_id.in_(list(ids)),
                table.c.deleted_at.is_(None),
            )
            .values(deleted_at=now)
        ).rowcount
    )


def sync_store(
    engine: Engine,
    client: StoreApi,
    *,
    store: str,
    url: str = "",
    full: bool = False,
    concurrency: int = 4,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: ProgressCallback | None = None,
    supports_modified_after: bool | None = None,
) -> SyncResult:
    """Mirror one store (orders, then customers). Raises ``LockHeld`` if a run is under way,
    ``StoreIdentityChanged`` (writing nothing) if another shop answers behind the name, and
    ``IncompleteScan`` (after storing what it read) if a full scan could not prove deletions.

    On failure the run is recorded as failed, what was committed stays, and the next run
    resumes from the last checkpoint.
    """
    with store_lock(engine, store), _fewer_collections():
        identity = verify_identity(engine, client, store, listing_page=True)
        with engine.begin() as conn:
            store_id = ensure_store(conn, store, url, now())
            if identity is not None:
                record_identity(conn, store_id, identity)
            if supports_modified_after is None:
                supports_modified_after = conn.execute(
                    select(stores.c.supports_modified_after).where(stores.c.id == store_id)
                ).scalar()
            run_id = int(
                conn.execute(  # type: ignore[index]
                    insert(sync_runs).values(
                        store_id=store_id,
                        started_at=now(),
                        outcome="running",
                        host=host_name(),
                        mode="full" if full else "incremental",
                        resumed=False,
                        orders=0,
                        customers=0,
                        quarantined=0,
                        deleted=0,
                        requests=0,
                    )
                ).inserted_primary_key[0]
            )
        runner = SyncEngine(
            engine,
            client,
            store_id=store_id,
            full=full,
            concurrency=concurrency,
            now=now,
            progress=progress,
            run_id=run_id,
            supports_modified_after=supports_modified_after,
            # First contact read the orders listing's first page: not asked for again.
            preread=[identity.orders_page] if identity and identity.orders_page else (),
        )
        result = SyncResult(
            store=store, run_id=run_id, requested_mode="full" if full else "incremental"
        )
        requests_before = getattr(client, "requests_made", 0)
        error: BaseException | None = None
        try:
            with _paced(client, concurrency):
                runner.run_all(STREAMS, into=result.streams)
            unproven = [f"{s.resource}: {s.incomplete}" for s in result.streams if s.incomplete]
            if unproven:
                raise IncompleteScan(
                    f"store {store!r}: the full scan was incomplete ({'; '.join(unproven)}), "
                    "so nothing was marked deleted; everything read was stored. The next "
                    "`sync --full` tries again; if this persists, the store cannot read a "
                    "record, or a cache or plugin trims its answers."
                )
        except BaseException as exc:
            error = exc
            raise
        finally:
            result.requests = getattr(client, "requests_made", 0) - requests_before
            _record_run(engine, run_id, result, error, now())
        return result


class _CollectorThresholds:
    """Raised garbage-collector thresholds while at least one sync of the process runs.

    A sync allocates millions of short-lived objects (decoded pages, models, rows), nearly all
    freed by reference counting at once. With the default thresholds (700, 10, 10) the
    collector still walks every live object of the process again and again — 0.6 s of a
    4-second sync of 30 000 orders (docs/sync.md, "Speed"). A collection now waits for 20 000
    objects *more alive* than at the last one, so a reference cycle the run makes is still
    collected; memory stays bounded. The process's own thresholds are back when its last
    sync ends (the server runs several at once)."""

    def __init__(self, thresholds: tuple[int, int, int]) -> None:
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._runs = 0
        self._saved = gc.get_threshold()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._runs == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(*self.thresholds)
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0:
                    gc.set_threshold(*self._saved)


_fewer_collections = _CollectorThresholds((20_000, 50, 100))


@contextmanager
def _page_transaction(engine: Engine) -> Iterator[Connection]:
    """The transaction a page is written in (its rows, quarantine and checkpoint).

    On SQLite it takes the write lock at once (``BEGIN IMMEDIATE``: the savepoints of
    ``_write`` then nest in it; pysqlite would begin only at the first INSERT) and keeps its
    statement journals in memory (``temp_store = MEMORY``) for the page: every row of an
    upsert whose triggers write the change logs opens one, and beyond 64 KiB SQLite spills it
    to a temporary file — three quarters of the sync's system time, a quarter of its CPU
    (docs/sync.md, "Speed"). The setting is the connection's: it is put back before the
    connection returns to the pool, where a metrics query's sort or an index build must still
    spill to disk rather than grow in memory.
    """
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                yield conn
            return
        conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
        conn.commit()  # (SQLAlchemy began a transaction for the PRAGMA: nothing to commit)
        try:
            with conn.begin():
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        finally:
            try:
                conn.exec_driver_sql("PRAGMA temp_store = DEFAULT")
                conn.commit()
            except DBAPIError:  # the connection broke with the page: never pooled again
                conn.invalidate()


def _paced(client: StoreApi, concurrency: int) -> AbstractContextManager[object]:
    """The client's pacing (``WooClient.paced``) for the run, if it has any."""
    paced = getattr(client, "paced", None)
    return paced(concurrency) if paced is not None else nullcontext()


def _record_run(
    engine: Engine, run_id: int, result: SyncResult, error: BaseException | None, now: datetime
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id == run_id)
            .values(
                finished_at=now,
                outcome="success" if error is None else "failed",
                resumed=any(s.resumed for s in result.streams),
                orders=result.count("orders"),
                customers=result.count("customers"),
                quarantined=result.quarantined,
                deleted=result.deleted,
                requests=result.requests,
                error=None if error is None else _safe_text(str(error) or type(error).__name__),
            )
        )
