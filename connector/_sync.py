"""The sync engine: mirrors a store's orders and customers, incrementally and crash-safely.

Streams *declare* what to read (path, fixed query, model, writer); one engine pages through
them. The guarantees, and why they hold:

* **Nothing lost while the store changes under us.** Pages are read ``orderby=id&order=asc``.
  A new order gets a higher id and lands after every page already read; an order modified
  during the run keeps its place (or, in an incremental run, newly enters the filtered set,
  which shifts later pages right: a duplicate, never a gap). Anything that changed after the
  run began is read again by the next run, because the next cursor is the store's clock at
  the start of this run, minus an overlap. (A *deletion* during a run can shift a row past us;
  ``sync --full`` reconciles the complete id set, see docs/sync.md.)
* **Nothing counted twice.** Every write is an upsert keyed by (store, WooCommerce id); child
  rows (line items, coupon lines) are replaced with their order.
* **A killed run resumes.** A page's rows and the checkpoint saying "next page is n+1" commit
  in one transaction; the next run continues from the checkpoint with the same query and,
  when done, commits the cursor of the *original* start. A run that is killed anywhere
  therefore ends in the same mirror as one that was not.
* **Bad records don't stop the sync.** A record that fails validation is quarantined with its
  raw payload and the reason; the rest of the page is stored.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector._errors import BadRequestError, InvalidResponseError
from connector._lock import store_lock
from connector._models import Customer, Order
from connector._schema import (
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

log = logging.getLogger("bazgasht.sync")

PER_PAGE = 100
#: The next incremental run re-reads this much before the last run's start: covers orders
#: whose database transaction committed a little after their modification time.
CURSOR_OVERLAP = timedelta(minutes=5)


class PageSource(Protocol):
    """What the engine needs of an HTTP client (``connector.WooClient`` provides it)."""

    store: str

    def get_page(self, path: str, params: Mapping[str, str | int]) -> Any: ...


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


#: Rows per multi-row INSERT: one statement per chunk is several times faster on PostgreSQL
#: than a row-by-row executemany, and keeps SQLite under its bound-variable limit.
ROWS_PER_STATEMENT = 500


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start : start + ROWS_PER_STATEMENT]


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(insert(table).values(chunk))


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, for SQLite and PostgreSQL alike.

    ``rows`` must not repeat a key (PostgreSQL refuses to update a row twice in one statement).
    """
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for chunk in _chunks(rows):
        stmt = dialect_insert(table).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            # Only the columns given: a writer may leave bookkeeping (``seen_scan``) untouched.
            set_={name: stmt.excluded[name] for name in chunk[0] if name not in keys},
        )
        conn.execute(stmt)


def _seen(scan: str | None) -> dict[str, str]:
    """The full-scan mark; incremental writes leave the column as it was."""
    return {"seen_scan": scan} if scan is not None else {}


def write_orders(conn: Connection, store_id: int, batch: Sequence[Any], scan: str | None) -> None:
    by_id: dict[int, Order] = {o.id: o for o in batch}  # a page may repeat an order: last wins
    ids = list(by_id)
    rows = [
        {
            "store_id": store_id,
            "wc_id": o.id,
            "number": o.number or str(o.id),
            "status": o.status,
            "currency": o.currency,
            "created_at": o.date_created_gmt,
            "modified_at": o.date_modified_gmt,
            "paid_at": o.date_paid_gmt,
            "completed_at": o.date_completed_gmt,
            "total": o.total,
            "total_tax": o.total_tax,
            "shipping_total": o.shipping_total,
            "discount_total": o.discount_total,
            "refunded_total": o.refunded_total,
            "customer_id": o.customer_id,
            "billing_email": o.billing_email,
            "billing_first_name": o.billing.first_name,
            "billing_last_name": o.billing.last_name,
            "billing_phone": o.billing.phone,
            "coupon_codes": ",".join(sorted({c.code.lower() for c in o.coupon_lines})),
            "deleted_at": None,
            **_seen(scan),
        }
        for o in by_id.values()
    ]
    _upsert(conn, orders, rows, ["store_id", "wc_id"])
    for child in (order_line_items, order_coupons):
        conn.execute(delete(child).where(child.c.store_id == store_id, child.c.order_id.in_(ids)))
    items = {
        (o.id, li.id): {
            "store_id": store_id,
            "wc_id": li.id,
            "order_id": o.id,
            "product_id": li.product_id,
            "variation_id": li.variation_id,
            "name": li.name,
            "quantity": li.quantity,
            "subtotal": li.subtotal,
            "total": li.total,
        }
        for o in by_id.values()
        for li in o.line_items
    }
    _insert(conn, order_line_items, list(items.values()))
    coupon_rows: dict[tuple[int, str], dict[str, Any]] = {}
    for o in by_id.values():
        for c in o.coupon_lines:
            row = coupon_rows.setdefault(
                (o.id, c.code.lower()),
                {"store_id": store_id, "order_id": o.id, "code": c.code.lower(), "discount": 0},
            )
            row["discount"] += c.discount
    _insert(conn, order_coupons, list(coupon_rows.values()))
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
    rows = [
        {
            "store_id": store_id,
            "email": email,
            "first_name": o.billing.first_name,
            "last_name": o.billing.last_name,
            "phone": o.billing.phone,
            "latest_order_created_at": o.date_created_gmt,
            "latest_order_id": o.id,
        }
        for email, o in latest.items()
    ]
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for chunk in _chunks(rows):
        stmt = dialect_insert(guests).values(chunk)
        newer = or_(
            stmt.excluded.latest_order_created_at > guests.c.latest_order_created_at,
            and_(
                stmt.excluded.latest_order_created_at == guests.c.latest_order_created_at,
                stmt.excluded.latest_order_id >= guests.c.latest_order_id,
            ),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["store_id", "email"],
            set_={
                c.name: stmt.excluded[c.name]
                for c in guests.columns
                if c.name not in ("store_id", "email")
            },
            where=newer,
        )
        conn.execute(stmt)


def write_customers(
    conn: Connection, store_id: int, batch: Sequence[Any], scan: str | None
) -> None:
    by_id: dict[int, Customer] = {c.id: c for c in batch}
    rows = [
        {
            "store_id": store_id,
            "wc_id": c.id,
            "email": c.email_normalized,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "phone": c.billing.phone,
            "role": c.role,
            "created_at": c.date_created_gmt,
            "modified_at": c.date_modified_gmt,
            "is_paying_customer": c.is_paying_customer,
            "deleted_at": None,
            **_seen(scan),
        }
        for c in by_id.values()
    ]
    _upsert(conn, customers, rows, ["store_id", "wc_id"])


ORDERS = Stream(
    resource="orders",
    path="orders",
    params={"orderby": "id", "order": "asc"},
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
    next_page: int
    resumed: bool


# --------------------------------------------------------------------------- the engine


def ensure_store(conn: Connection, name: str, url: str, now: datetime) -> int:
    """The id of the store's row, creating it on first use."""
    found = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
    if found is not None:
        if url:
            conn.execute(update(stores).where(stores.c.id == found).values(url=url))
        return int(found)
    created = conn.execute(insert(stores).values(name=name, url=url, created_at=now))
    return int(created.inserted_primary_key[0])  # type: ignore[index]


def _gmt_param(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


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
        run_id: int,
        supports_modified_after: bool | None,
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
        self._order_customer_ids: set[int] = set()

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
                next_page=checkpoint["next_page"],
                resumed=True,
            )
        return _Plan(
            mode=wanted,
            scan_id=uuid.uuid4().hex,
            started_at=None,
            modified_after=cursor[0] if (cursor is not None and wanted != "full") else None,
            next_page=1,
            resumed=False,
        )

    def _mode(self, stream: Stream, has_cursor: bool) -> str:
        if self.full or not has_cursor:
            return "full"
        if stream.incremental:
            # Unknown (never checked): try it; a store that refuses the parameter falls back.
            return "full" if self.supports_modified_after is False else "incremental"
        return "new"

    def _params(self, stream: Stream, plan: _Plan) -> dict[str, str | int]:
        params: dict[str, str | int] = {**stream.params, "per_page": PER_PAGE}
        if plan.mode == "incremental" and plan.modified_after is not None:
            params["modified_after"] = _gmt_param(plan.modified_after)
            params["dates_are_gmt"] = "true"
        if plan.mode == "new":
            params["order"] = "desc"  # newest accounts first; stop at the first known one
        return params

    # ---- running

    def run(self, stream: Stream) -> StreamResult:
        plan = self._plan(stream)
        try:
            return self._run(stream, plan)
        except BadRequestError as exc:
            if plan.mode == "incremental" and "modified_after" in str(exc):
                log.warning("store refused modified_after; falling back to a full scan")
                self._drop_checkpoint(stream)
                full = _Plan("full", uuid.uuid4().hex, None, None, 1, False)
                return self._run(stream, full)
            raise

    def _run(self, stream: Stream, plan: _Plan) -> StreamResult:
        result = StreamResult(stream.resource, plan.mode, resumed=plan.resumed)
        params = self._params(stream, plan)
        started_at = plan.started_at
        max_known_id = self._max_id(stream) if plan.mode == "new" else None
        previous_ids: tuple[int | None, int | None] | None = None
        for number, page in self._pages(stream.path, params, plan.next_page):
            if started_at is None:
                # The store's clock when it answered the first page: the next cursor never
                # passes it, so whatever changes from now on is read by the next run.
                started_at = min(page.server_date or self.now(), self.now())
            items = page.items
            ids = (_raw_id(items[0]), _raw_id(items[-1])) if items else None
            if ids is not None and ids == previous_ids and len(items) == PER_PAGE:
                raise InvalidResponseError(
                    f"page {number} of {stream.path} repeats the previous page",
                    store=self.client.store,
                    url=stream.path,
                )
            previous_ids = ids
            stop = len(items) < PER_PAGE
            if max_known_id is not None:
                fresh = [i for i in items if (_raw_id(i) or 0) > max_known_id]
                stop = stop or len(fresh) < len(items)
                items = fresh
            self._commit_page(stream, plan, started_at, number, items, result)
            if self.progress:
                self.progress(stream.resource, number, page.total_pages if number == 1 else None)
            if stop:
                break
        if stream is CUSTOMERS and plan.mode == "new":
            self._refresh_customers(stream, plan, started_at, result)
        self._finish(stream, plan, started_at or self.now(), result)
        return result

    def _pages(
        self, path: str, params: Mapping[str, str | int], first: int
    ) -> Iterator[tuple[int, Any]]:
        """Pages ``first, first+1, …`` in order, fetching up to ``concurrency`` ahead.

        Runs until the consumer stops iterating (after a short page): pages fetched beyond
        the end are simply empty and discarded.
        """
        if self.concurrency == 1:
            number = first
            while True:
                yield number, self.client.get_page(path, {**params, "page": number})
                number += 1
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="bazgasht-page") as pool:
            window: dict[int, Future[Any]] = {}
            number = first
            # The first page alone: it tells whether there is a second at all.
            yield number, self.client.get_page(path, {**params, "page": number})
            number += 1
            try:
                while True:
                    for ahead in range(number, number + self.concurrency):
                        if ahead not in window:
                            window[ahead] = pool.submit(
                                self.client.get_page, path, {**params, "page": ahead}
                            )
                    page = window.pop(number).result()
                    yield number, page
                    number += 1
            finally:
                for pending in window.values():
                    pending.cancel()

    def _commit_page(
        self,
        stream: Stream,
        plan: _Plan,
        started_at: datetime,
        number: int,
        items: list[dict[str, Any]],
        result: StreamResult,
    ) -> None:
        now = self.now()
        valid: list[Any] = []
        bad: list[tuple[dict[str, Any], str]] = []
        for raw in items:
            try:
                valid.append(stream.model.model_validate(raw, context={"now": now}))
            except ValidationError as exc:
                bad.append((raw, _describe(exc)))
        scan = plan.scan_id if plan.mode == "full" else None
        with self.engine.begin() as conn:
            stream.write(conn, self.store_id, valid, scan)
            self._quarantine(conn, stream, bad, now)
            self._resolve_quarantine(conn, stream, valid, now)
            self._save_checkpoint(conn, stream, plan, started_at, number + 1, now)
        if stream is ORDERS:
            self._order_customer_ids.update(o.customer_id for o in valid if o.customer_id > 0)
        result.records += len(valid)
        result.quarantined += len(bad)
        result.pages += 1

    def _refresh_customers(
        self, stream: Stream, plan: _Plan, started_at: datetime | None, result: StreamResult
    ) -> None:
        """Re-read the accounts behind this run's orders: catches changed e-mails and names."""
        ids = sorted(self._order_customer_ids)
        for start in range(0, len(ids), PER_PAGE):
            chunk = ids[start : start + PER_PAGE]
            page = self.client.get_page(
                stream.path,
                {"role": "all", "include": ",".join(map(str, chunk)), "per_page": PER_PAGE},
            )
            self._commit_page(
                stream, plan, started_at or self.now(), plan.next_page, page.items, result
            )

    def _finish(
        self, stream: Stream, plan: _Plan, started_at: datetime, result: StreamResult
    ) -> None:
        now = self.now()
        with self.engine.begin() as conn:
            if plan.mode == "full":
                result.deleted = self._mark_deleted(conn, stream, plan.scan_id, started_at, now)
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
        self, conn: Connection, stream: Stream, scan: str, started_at: datetime, now: datetime
    ) -> int:
        """Rows the complete scan did not see (and that existed before it began) are gone."""
        table = stream.table
        return int(
            conn.execute(
                update(table)
                .where(
                    table.c.store_id == self.store_id,
                    table.c.deleted_at.is_(None),
                    or_(table.c.seen_scan.is_(None), table.c.seen_scan != scan),
                    table.c.created_at < started_at,
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
        next_page: int,
        now: datetime,
    ) -> None:
        values = {
            "run_id": self.run_id,
            "mode": plan.mode,
            "scan_id": plan.scan_id,
            "started_at": started_at,
            "modified_after": plan.modified_after,
            "next_page": next_page,
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
        with self.engine.begin() as conn:
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
        bad: list[tuple[dict[str, Any], str]],
        now: datetime,
    ) -> None:
        for raw, error in bad:
            payload = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
            wc_id = _raw_id(raw)
            key = str(wc_id) if wc_id is not None else "sha256:" + _digest(payload)
            log.warning("quarantined %s %s: %s", stream.resource, key, error)
            values = {
                "error": error,
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


def _raw_id(raw: Any) -> int | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(exc: ValidationError) -> str:
    """A one-line reason: which fields, and what was wrong with them (no input echo)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def sync_store(
    engine: Engine,
    client: PageSource,
    *,
    store: str,
    url: str = "",
    full: bool = False,
    concurrency: int = 4,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: ProgressCallback | None = None,
    supports_modified_after: bool | None = None,
) -> SyncResult:
    """Mirror one store (orders, then customers). Raises ``LockHeld`` if a run is under way.

    On failure the run is recorded as failed, what was committed stays, and the next run
    resumes from the last checkpoint.
    """
    with store_lock(engine, store):
        with engine.begin() as conn:
            store_id = ensure_store(conn, store, url, now())
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
        )
        result = SyncResult(
            store=store, run_id=run_id, requested_mode="full" if full else "incremental"
        )
        requests_before = getattr(client, "requests_made", 0)
        error: BaseException | None = None
        try:
            for stream in STREAMS:
                result.streams.append(runner.run(stream))
        except BaseException as exc:
            error = exc
            raise
        finally:
            result.requests = getattr(client, "requests_made", 0) - requests_before
            _record_run(engine, run_id, result, error, now())
        return result


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
                error=None if error is None else (str(error) or type(error).__name__),
            )
        )
