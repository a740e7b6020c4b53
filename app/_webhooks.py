"""WooCommerce webhooks: receiving deliveries into the inbox, applying them, installing them.

Receiving (what the HTTP endpoint calls, in this order): the store must be configured with a
webhook secret; a ping (form body ``webhook_id=N``, no signature) is answered and not stored;
anything else must carry a valid ``X-WC-Webhook-Signature`` over the raw body, the webhook
headers and a JSON object body; then it is inserted into ``webhook_deliveries`` and committed
— only then may the endpoint answer 200. A delivery seen twice (same webhook, same body
bytes) is stored once. See tests/fixtures/woocommerce/webhooks/README.md for WooCommerce's
ways: bodies built at delivery time, coalesced updates, created+updated pairs with
identical bodies, ``order.deleted`` meaning "moved to the trash", no retries.

Where the inbox lives (``open_inbox``): on PostgreSQL, in the mirror's database, and each
delivery's outcome commits with the mirror rows it wrote. On SQLite, in a file of its own
beside the mirror's (``bazgasht.sqlite`` → ``bazgasht.inbox.sqlite``): SQLite has one write
lock per file, and a receipt (an INSERT and a commit synced to disk) must never wait for the
applier's mirror writes, or the acknowledgement's p99 passes 50 ms whenever the applier
works. The price is that an outcome commits just *after* the mirror rows: a crash between the
two leaves a delivery pending that was applied, and the next round applies it again, which
changes nothing (a record as old as the mirror's row is confirmed with the store, and the
loyalty run is idempotent).

Applying (``apply_deliveries``, one store at a time, under the store's *sync* lock so a
delivery and a cron ``sync`` of the same store never write the mirror at once):

1. the pending deliveries of the store, oldest first; several of one order or customer keep
   only the newest (by ``date_modified_gmt``);
2. a delivery older than the mirror's row changes nothing (a late delivery of an earlier
   state); one exactly as old is checked with the store (``GET orders/<id>``) unless its
   very bytes were applied before — the same second can hold two states;
3. ``order.deleted`` is confirmed with the store first: gone (404) or in the trash → marked
   deleted in the mirror, as ``sync --full`` would; otherwise the store's current record;
4. the records go through the sync engine's own writer (``connector.write_records``: the same
   validation, upsert and quarantine as a sync page);
5. after the lock: the store's loyalty program runs (``after_sync``: pending redemptions,
   used coupons, reconciliation) and the changed customers' states are pushed.

A delivery that cannot be applied yet (the store unreachable for a confirmation, the store
never synced) waits and is retried with a growing delay; after ``MAX_ATTEMPTS`` it is marked
``failed`` — the cron ``sync`` sweeps up whatever a webhook missed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, Table, delete, event, func, or_, select, text, update
from sqlalchemy.schema import CreateIndex, CreateTable

from app._push import PushResult, push_states
from app._schema import webhook_deliveries
from app._signing import webhook_signature_valid
from connector import (
    BazgashtError,
    ConfigError,
    Customer,
    LockHeld,
    NotFoundError,
    Order,
    create_db_engine,
    customers,
    dialect_insert,
    mark_deleted,
    orders,
    sqlite_path,
    store_lock,
    stores,
    write_records,
)
from loyalty import ProgramRun, after_sync
from loyalty.stored import stored_program

log = logging.getLogger("bazgasht.webhooks")

#: The topics Bazgasht subscribes to: what the mirror and the ledger are made of. Coupons
#: need none (a used coupon shows in its order); a deleted account is swept by ``sync --full``.
TOPICS = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "customer.created",
    "customer.updated",
)
#: A delivery's body is the resource's REST representation; a big order is some hundred KB.
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Deliveries applied per store and round (one reconciliation, one push).
BATCH = 100
#: Records per mirror transaction. On SQLite a transaction holds the database's one write
#: lock, which the receiver needs for every delivery it acknowledges: short ones keep its
#: waits short.
WRITE_CHUNK = 20
MAX_ATTEMPTS = 20
FIRST_RETRY = timedelta(seconds=5)
LAST_RETRY = timedelta(hours=1)
#: Applied, skipped and failed deliveries are kept this long, for the record.
KEEP = timedelta(days=14)
#: The path under which ``bazgasht serve`` receives a store's deliveries.
DELIVERY_PATH = "/webhooks/woocommerce/{store}"

_TOPIC = re.compile(r"[a-z0-9_]{1,32}\.[a-z0-9_.-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_DELIVERY_ID = re.compile(r"[0-9A-Za-z_-]{0,64}")
_PING = re.compile(rb"webhook_id=([0-9]{1,19})")
#: Resource of a topic → the mirror's resource and table.
_MIRRORED: dict[str, tuple[str, Table, type[BaseModel]]] = {
    "order": ("orders", orders, Order),
    "customer": ("customers", customers, Customer),
}


# --------------------------------------------------------------------------- receiving


class DeliveryRefused(BazgashtError):
    """A request the webhook endpoint refuses (4xx): nothing was stored."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Delivery:
    """A verified delivery, ready for the inbox."""

    store: str
    webhook_id: int
    topic: str
    delivery_id: str
    resource_id: int | None
    body: bytes

    @property
    def body_sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def ping_of(headers: Mapping[str, str], body: bytes) -> int | None:
    """The webhook id of a ping (``webhook_id=N``, form-encoded, unsigned), else None."""
    if headers.get("x-wc-webhook-signature"):
        return None
    found = _PING.fullmatch(body.strip())
    return int(found.group(1)) if found else None


def check_delivery(store: str, secret: str, headers: Mapping[str, str], body: bytes) -> Delivery:
    """A delivery whose signature, headers and body are what WooCommerce sends; otherwise
    ``DeliveryRefused`` with the reason. ``headers``: names lower-cased."""
    signature = headers.get("x-wc-webhook-signature")
    if not signature:
        raise DeliveryRefused(401, "missing_signature", "no X-WC-Webhook-Signature header")
    if not webhook_signature_valid(secret, body, signature):
        raise DeliveryRefused(
            401,
            "bad_signature",
            "the signature does not match the body with this store's webhook secret",
        )
    topic = headers.get("x-wc-webhook-topic", "").strip()
    webhook_id = headers.get("x-wc-webhook-id", "").strip()
    delivery_id = headers.get("x-wc-webhook-delivery-id", "").strip()
    if not _TOPIC.fullmatch(topic):
        raise DeliveryRefused(400, "bad_headers", "no usable X-WC-Webhook-Topic header")
    if not _DIGITS.fullmatch(webhook_id):
        raise DeliveryRefused(400, "bad_headers", "no usable X-WC-Webhook-ID header")
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise DeliveryRefused(400, "bad_headers", "X-WC-Webhook-Delivery-ID is not an id")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DeliveryRefused(400, "not_json", "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise DeliveryRefused(400, "not_json", "the body is not a JSON object")
    resource_id = payload.get("id")
    if not isinstance(resource_id, int) or isinstance(resource_id, bool) or resource_id < 1:
        if topic.split(".", 1)[0] in _MIRRORED:
            raise DeliveryRefused(400, "bad_payload", f"a {topic} body without a usable id")
        resource_id = None
    return Delivery(store, int(webhook_id), topic, delivery_id, resource_id, body)


def _full_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    # Copying the write-ahead log into the database (a checkpoint) is done by the commit that
    # crosses the threshold, and takes tens of milliseconds: leave it to the applier's
    # commits (default threshold, 1 000 pages) unless the log grows ten times that.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


#: ``PRAGMA user_version`` of an SQLite inbox file: the shape of ``webhook_deliveries`` in it.
INBOX_VERSION = 1


def open_inbox(engine: Engine) -> Engine:
    """The database of the webhook inbox, for the mirror's ``engine`` (module docstring):
    ``engine`` itself on PostgreSQL; on SQLite an engine on a private file of its own beside
    the mirror's, made on first use. Its table has the shape migration 0007 gives the one in
    the mirror's database (which then stays empty); the file is versioned by its
    ``user_version``, since it holds nothing that outlives ``KEEP`` but pending deliveries."""
    path = sqlite_path(engine)
    if path is None:
        return engine
    inbox = create_db_engine(f"sqlite:///{path.with_name(f'{path.stem}.inbox{path.suffix}')}")
    w = webhook_deliveries
    with inbox.begin() as conn:
        version = int(conn.execute(text("PRAGMA user_version")).scalar_one())
        if version not in (0, INBOX_VERSION):
            raise ConfigError(
                f"the webhook inbox {inbox.url.database} was made by another version of "
                f"Bazgasht (version {version}, this one reads {INBOX_VERSION})."
            )
        conn.execute(CreateTable(w, if_not_exists=True))
        for index in sorted(w.indexes, key=lambda i: str(i.name)):
            conn.execute(CreateIndex(index, if_not_exists=True))
        conn.execute(text(f"PRAGMA user_version = {INBOX_VERSION}"))
    return inbox


def durable_receipts(engine: Engine) -> Engine:
    """Make every commit of ``engine`` durable against a power cut too, as an acknowledged
    delivery must be: SQLite's write-ahead log is then synced at each commit (Bazgasht's
    default, ``synchronous=NORMAL``, survives a crashed or killed process, not a power cut).
    PostgreSQL's commits are durable already."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _full_sync)
        engine.dispose()  # connections opened before the listener get it too
    return engine


def record_delivery(inbox: Engine, delivery: Delivery, now: datetime) -> tuple[int, bool]:
    """Insert the delivery into the inbox and commit; returns (its row id, whether it is
    new). A delivery already there (same store, webhook and body bytes) is not stored twice.
    When this returns, the delivery survives a crash: the endpoint may answer 200."""
    row = {
        "store": delivery.store,
        "webhook_id": delivery.webhook_id,
        "topic": delivery.topic,
        "resource_id": delivery.resource_id,
        "delivery_id": delivery.delivery_id,
        "body_sha256": delivery.body_sha256,
        "body": delivery.body.decode("utf-8"),
        "received_at": now,
        "status": "pending",
        "attempts": 0,
    }
    with inbox.connect() as conn:
        return _insert(conn, delivery, row)


def _insert(conn: Connection, delivery: Delivery, row: Mapping[str, Any]) -> tuple[int, bool]:
    w = webhook_deliveries
    with conn.begin():
        upsert = dialect_insert(conn.dialect.name)
        inserted = conn.execute(
            upsert(w)
            .values(row)
            .on_conflict_do_nothing(index_elements=["store", "webhook_id", "body_sha256"])
            .returning(w.c.id)
        ).scalar()
        if inserted is not None:
            return int(inserted), True
        found = conn.execute(
            select(w.c.id).where(
                w.c.store == delivery.store,
                w.c.webhook_id == delivery.webhook_id,
                w.c.body_sha256 == delivery.body_sha256,
            )
        ).scalar_one()
        return int(found), False


# --------------------------------------------------------------------------- applying


class RecordApi(Protocol):
    """What applying needs of a store client (``connector.WooClient`` provides it)."""

    store: str

    def get(self, path: str, params: Any = None) -> Any: ...

    def post(self, path: str, json: Any) -> Any: ...

    def put(self, path: str, json: Any) -> Any: ...

    def get_page(self, path: str, params: Any) -> Any: ...

    def site_info(self) -> dict[str, Any]: ...


@dataclass
class ApplyResult:
    """What one round of applying a store's deliveries did."""

    store: str
    deliveries: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    #: Deliveries left pending for a later round (store unreachable, never synced…).
    waiting: int = 0
    #: The store's sync lock was held (a sync is running): nothing was done this round.
    busy: bool = False
    records: dict[str, int] = field(default_factory=dict)
    deleted: int = 0
    quarantined: int = 0
    program: ProgramRun | None = None
    push: PushResult | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "deliveries": self.deliveries,
            "applied": self.applied,
            "skipped": self.skipped,
            "failed": self.failed,
            "waiting": self.waiting,
            "busy": self.busy,
            "records": dict(self.records),
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "loyalty": None if self.program is None else self.program.as_dict(),
            "push": None if self.push is None else self.push.as_dict(),
            "problems": list(self.problems),
        }


@dataclass
class _Pending:
    id: int
    topic: str
    resource_id: int | None
    body_sha256: str
    body: str
    attempts: int

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1]


@dataclass
class _Verdict:
    status: str  # applied | skipped | failed | pending
    outcome: str


def pending_stores(inbox: Engine, now: datetime) -> list[str]:
    """Stores with deliveries due to be applied."""
    w = webhook_deliveries
    with inbox.connect() as conn:
        return list(
            conn.execute(
                select(w.c.store)
                .where(
                    w.c.status == "pending",
                    or_(w.c.next_attempt_at.is_(None), w.c.next_attempt_at <= now),
                )
                .distinct()
                .order_by(w.c.store)
            ).scalars()
        )


def _due(inbox: Engine, store: str, now: datetime, limit: int) -> list[_Pending]:
    w = webhook_deliveries
    with inbox.connect() as conn:
        rows = conn.execute(
            select(w.c.id, w.c.topic, w.c.resource_id, w.c.body_sha256, w.c.body, w.c.attempts)
            .where(
                w.c.store == store,
                w.c.status == "pending",
                or_(w.c.next_attempt_at.is_(None), w.c.next_attempt_at <= now),
            )
            .order_by(w.c.id)
            .limit(limit)
        ).all()
    return [_Pending(*row) for row in rows]


def _retry_delay(attempts: int) -> timedelta:
    delay: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(LAST_RETRY, delay)


def _settle(
    conn: Connection, verdicts: Mapping[int, _Verdict], attempts: Mapping[int, int], now: datetime
) -> None:
    """Write each delivery's outcome; one still pending gets its next attempt's time."""
    w = webhook_deliveries
    for row_id, verdict in verdicts.items():
        values: dict[str, Any] = {"outcome": verdict.outcome[:2000]}
        tries = attempts[row_id] + 1
        if verdict.status == "pending":
            if tries >= MAX_ATTEMPTS:
                values |= {"status": "failed", "attempts": tries, "applied_at": now}
                log.warning(
                    "webhook delivery %s gave up after %d attempts: %s (the next sync sweeps "
                    "it up)",
                    row_id,
                    tries,
                    verdict.outcome,
                )
            else:
                values |= {"attempts": tries, "next_attempt_at": now + _retry_delay(tries)}
        else:
            values |= {
                "status": verdict.status,
                "attempts": tries,
                "applied_at": now,
                "next_attempt_at": None,
            }
        conn.execute(update(w).where(w.c.id == row_id, w.c.status == "pending").values(values))


def _modified(model: Any) -> datetime | None:
    value = getattr(model, "date_modified_gmt", None)
    return value if isinstance(value, datetime) else None


def _applied_before(inbox: Engine, store: str, resource: str, wc_id: int, digest: str) -> bool:
    """Whether these exact bytes of this record were applied by an earlier delivery."""
    w = webhook_deliveries
    with inbox.connect() as conn:
        return (
            conn.execute(
                select(w.c.id)
                .where(
                    w.c.store == store,
                    w.c.topic.like(f"{resource}.%"),
                    w.c.resource_id == wc_id,
                    w.c.body_sha256 == digest,
                    w.c.status == "applied",
                )
                .limit(1)
            ).first()
            is not None
        )


class _Plan:
    """What one batch of one resource (orders or customers) will do to the mirror."""

    def __init__(self) -> None:
        self.write: dict[int, tuple[Any, list[int]]] = {}  # wc id → (raw record, deliveries)
        self.invalid: list[tuple[Any, int]] = []  # records that fail validation → quarantine
        self.gone: dict[int, list[int]] = {}  # wc id → deliveries that proved it gone
        self.trashed: set[int] = set()  # written (status trash) and marked deleted


def _confirm(client: RecordApi, resource: str, wc_id: int) -> tuple[str, Any]:
    """Ask the store for the record: ("gone", None) or ("record", raw)."""
    path = f"{_MIRRORED[resource][0]}/{wc_id}"
    try:
        raw = client.get(path, {"context": "view"}) if resource == "order" else client.get(path)
    except NotFoundError:
        return "gone", None
    if not isinstance(raw, dict):
        raise BazgashtError(f"the store answered {path} without a JSON object")
    return "record", raw


def _classify(
    engine: Engine,
    inbox: Engine,
    client: RecordApi,
    store: str,
    store_id: int,
    rows: Sequence[_Pending],
    now: datetime,
) -> tuple[dict[str, _Plan], dict[int, _Verdict]]:
    """Decide, for each delivery, what it does to the mirror (see the module docstring)."""
    verdicts: dict[int, _Verdict] = {}
    plans = {name: _Plan() for name in _MIRRORED}
    groups: dict[tuple[str, int], list[tuple[_Pending, Any, datetime | None]]] = {}
    for row in rows:
        if row.resource not in _MIRRORED or row.resource_id is None:
            verdicts[row.id] = _Verdict("skipped", f"{row.topic}: not a topic Bazgasht uses")
            continue
        raw: Any = None
        when: datetime | None = None
        if row.event != "deleted":
            raw = json.loads(row.body)
            try:
                model = _MIRRORED[row.resource][2].model_validate(raw, context={"now": now})
            except ValidationError:
                plans[row.resource].invalid.append((raw, row.id))  # the writer quarantines it
                continue
            when = _modified(model)
        groups.setdefault((row.resource, row.resource_id), []).append((row, raw, when))

    chosen: dict[tuple[str, int], tuple[_Pending, Any, datetime | None, bool]] = {}
    for key, items in groups.items():
        # One delivery per record: the newest state. A deletion among them, or two other
        # states of the same second, are for the store to settle.
        ask = any(row.event == "deleted" for row, _, _ in items)
        row, raw, when = max(
            items, key=lambda i: (i[2] or datetime.min.replace(tzinfo=now.tzinfo), i[0].id)
        )
        ask = ask or len({r.body_sha256 for r, _, w in items if w == when}) > 1
        if ask:
            row = max(items, key=lambda i: i[0].id)[0]
        for other, _, _ in items:
            if other.id != row.id:
                verdicts[other.id] = _Verdict("skipped", f"superseded by delivery {row.id}")
        chosen[key] = (row, raw, when, ask)

    mirrored: dict[tuple[str, int], datetime | None] = {}
    for resource, (_, table, _) in _MIRRORED.items():
        ids = [wc_id for (res, wc_id) in chosen if res == resource]
        with engine.connect() as conn:
            for start in range(0, len(ids), 500):
                for wc_id, modified_at in conn.execute(
                    select(table.c.wc_id, table.c.modified_at).where(
                        table.c.store_id == store_id, table.c.wc_id.in_(ids[start : start + 500])
                    )
                ):
                    mirrored[(resource, int(wc_id))] = modified_at

    for (resource, wc_id), (row, raw, when, ask) in chosen.items():
        plan = plans[resource]
        if not ask:
            if (resource, wc_id) not in mirrored:
                plan.write[wc_id] = (raw, [row.id])
                continue
            known = mirrored[(resource, wc_id)]
            if when is not None and known is not None and when < known:
                verdicts[row.id] = _Verdict(
                    "skipped",
                    f"older than the mirror's {resource} {wc_id} "
                    f"({when.isoformat()} < {known.isoformat()})",
                )
                continue
            if when is not None and known is not None and when > known:
                plan.write[wc_id] = (raw, [row.id])
                continue
            if _applied_before(inbox, store, resource, wc_id, row.body_sha256):
                verdicts[row.id] = _Verdict("skipped", "the same bytes were applied before")
                continue
        # A deletion, or as old as the mirror's row with other bytes: the store decides.
        try:
            answer, record = _confirm(client, resource, wc_id)
        except BazgashtError as exc:
            verdicts[row.id] = _Verdict("pending", f"waiting for the store: {exc}")
            continue
        if answer == "gone":
            plan.gone[wc_id] = [row.id]
            continue
        plan.write[wc_id] = (record, [row.id])
        if record.get("status") == "trash":
            plan.trashed.add(wc_id)
    return plans, verdicts


def _apply_plans(
    engine: Engine,
    inbox: Engine,
    client: RecordApi,
    store_id: int,
    plans: Mapping[str, _Plan],
    verdicts: dict[int, _Verdict],
    attempts: Mapping[int, int],
    result: ApplyResult,
    now: Callable[[], datetime],
) -> None:
    """Write each resource's records through the sync engine's writer, ``WRITE_CHUNK`` at a
    time; deletion marks commit in the chunk's transaction, and so does the outcome of the
    deliveries behind the chunk where the inbox shares the mirror's database (a crash never
    leaves a delivery applied but still pending); with an inbox of its own (SQLite) the
    outcome commits right after (module docstring)."""
    shared = inbox is engine
    for resource, plan in plans.items():
        name = _MIRRORED[resource][0]
        items: list[tuple[Any, int | None, list[int]]] = [
            (raw, wc_id, row_ids) for wc_id, (raw, row_ids) in plan.write.items()
        ] + [(raw, None, [row_id]) for raw, row_id in plan.invalid]
        chunks = [items[i : i + WRITE_CHUNK] for i in range(0, len(items), WRITE_CHUNK)]
        if plan.gone and not chunks:
            chunks = [[]]
        for number, chunk in enumerate(chunks):
            gone = plan.gone if number == 0 else {}  # with the first chunk
            settled: dict[int, _Verdict] = {}

            def then(
                conn: Connection,
                written: list[int],
                chunk: list[tuple[Any, int | None, list[int]]] = chunk,
                gone: Mapping[int, list[int]] = gone,
                settled: dict[int, _Verdict] = settled,
                name: str = name,
                resource: str = resource,
                trashed: set[int] = plan.trashed,
            ) -> None:
                done = set(written)
                in_trash = [wc_id for _, wc_id, _ in chunk if wc_id in trashed]
                result.deleted += mark_deleted(conn, store_id, name, [*gone, *in_trash], now())
                for _raw, wc_id, row_ids in chunk:
                    if wc_id is None:
                        verdict = _Verdict("skipped", "the record failed validation: quarantined")
                    elif wc_id not in done:
                        verdict = _Verdict("skipped", f"{resource} {wc_id} refused: quarantined")
                    elif wc_id in trashed:
                        verdict = _Verdict("applied", f"{resource} {wc_id} in the trash")
                    else:
                        verdict = _Verdict("applied", f"{resource} {wc_id} written")
                    settled.update(dict.fromkeys(row_ids, verdict))
                for wc_id, row_ids in gone.items():
                    marked = _Verdict("applied", f"{resource} {wc_id} marked deleted")
                    settled.update(dict.fromkeys(row_ids, marked))
                if shared:
                    _settle(conn, settled, attempts, now())

            records = [raw for raw, _, _ in chunk]
            written = write_records(engine, client, store_id, name, records, now=now, then=then)
            if not shared:
                with inbox.begin() as conn:
                    _settle(conn, settled, attempts, now())
            result.records[name] = result.records.get(name, 0) + written.records
            result.quarantined += written.quarantined
            verdicts.update(settled)


def _store_ready(engine: Engine, store: str) -> int | None:
    """The store's id once a sync has learnt its facts (currency, timezone), else None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(stores.c.id, stores.c.currency).where(stores.c.name == store)
        ).first()
    return None if row is None or row.currency is None else int(row.id)


def apply_deliveries(
    engine: Engine,
    client: RecordApi,
    store: str,
    settings: dict[str, Any] | None,
    *,
    now: Callable[[], datetime],
    push: bool = False,
    limit: int = BATCH,
    inbox: Engine | None = None,
) -> ApplyResult:
    """Apply the store's due deliveries (see the module docstring) from ``inbox`` (default:
    the mirror's database, ``engine``); ``push``: then write the changed customers' states to
    the store. Store errors of the loyalty run and the push end up in ``problems``;
    ``ConfigError`` for invalid loyalty settings."""
    inbox = engine if inbox is None else inbox
    result = ApplyResult(store)
    rows = _due(inbox, store, now(), limit)
    result.deliveries = len(rows)
    if not rows:
        return result
    attempts = {row.id: row.attempts for row in rows}
    store_id = _store_ready(engine, store)
    if store_id is None:
        waiting = {r.id: _Verdict("pending", "waiting for the store's first sync") for r in rows}
        with inbox.begin() as conn:
            _settle(conn, waiting, attempts, now())
        result.waiting = len(rows)
        return result
    try:
        with store_lock(engine, store):
            plans, verdicts = _classify(engine, inbox, client, store, store_id, rows, now())
            _apply_plans(engine, inbox, client, store_id, plans, verdicts, attempts, result, now)
            with inbox.begin() as conn:  # what changed nothing, or has to wait
                _settle(conn, verdicts, attempts, now())
    except LockHeld:
        result.busy = True  # a sync is writing the mirror: the next round applies them
        return result
    for verdict in verdicts.values():
        if verdict.status == "applied":
            result.applied += 1
        elif verdict.status == "skipped":
            result.skipped += 1
        else:
            result.waiting += 1
    if result.applied:
        result.program = after_sync(engine, client, store, store_id, settings, now())
        result.problems += result.program.problems
        if push:
            program = stored_program(engine, store, now(), config=settings, create=False)
            try:
                result.push = push_states(engine, client, program, now())
            except LockHeld as exc:
                result.problems.append(str(exc))
            else:
                if result.push.problem:
                    result.problems.append(result.push.problem)
    return result


def give_up_unknown(inbox: Engine, configured: Sequence[str], now: datetime) -> int:
    """Pending deliveries of stores no longer in the config can never be applied."""
    w = webhook_deliveries
    with inbox.begin() as conn:
        return int(
            conn.execute(
                update(w)
                .where(w.c.status == "pending", w.c.store.not_in(list(configured)))
                .values(status="failed", applied_at=now, outcome="the store is not configured")
            ).rowcount
        )


def prune_inbox(inbox: Engine, now: datetime, keep: timedelta = KEEP) -> int:
    """Forget deliveries settled longer than ``keep`` ago; pending ones always stay."""
    w = webhook_deliveries
    with inbox.begin() as conn:
        return int(
            conn.execute(
                delete(w).where(w.c.status != "pending", w.c.applied_at < now - keep)
            ).rowcount
        )


def inbox_counts(inbox: Engine, store: str | None = None) -> dict[str, int]:
    """Deliveries by status (of one store, or all)."""
    w = webhook_deliveries
    query = select(w.c.status, func.count()).group_by(w.c.status)
    if store is not None:
        query = query.where(w.c.store == store)
    with inbox.connect() as conn:
        return {status: int(n) for status, n in conn.execute(query).all()}


# --------------------------------------------------------------------------- on the store


@dataclass(frozen=True)
class Webhook:
    """One webhook as WooCommerce's REST API shows it."""

    id: int
    name: str
    topic: str
    status: str  # active | paused | disabled (disabled: WooCommerce gave up after failures)
    delivery_url: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "topic": self.topic,
            "status": self.status,
            "delivery_url": self.delivery_url,
        }


def delivery_url(server_url: str, store: str) -> str:
    """Where WooCommerce delivers this store's webhooks: ``server_url`` is the address at
    which ``bazgasht serve`` is reachable from the store (``https://loyalty.example.com``,
    or with the prefix a proxy mounts it under); a full delivery URL for this store is
    accepted as it is. HTTPS, except on the store's own machine (loopback)."""
    value = server_url.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--url: {value!r} is not a web address; give where `bazgasht serve` is reachable "
            "from the store, e.g. https://loyalty.example.com"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("--url: give the address alone: no login, ?query or #fragment")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(
            "--url: webhook deliveries carry customers' names and addresses: use https:// "
            "(http:// only when the store and Bazgasht share a machine: 127.0.0.1)"
        )
    ours = DELIVERY_PATH.format(store=store)
    if parts.path.endswith(ours):
        return value
    if "/webhooks/woocommerce/" in parts.path:
        raise ConfigError(
            f"--url: {value} delivers to another store's address; this store's is …{ours}"
        )
    return value + ours


#: Ports ``wp_safe_remote_request`` delivers to (WordPress's ``http_allowed_safe_ports``).
SAFE_PORTS = (80, 443, 8080)


def delivery_warnings(url: str, shop_url: str) -> list[str]:
    """What would make WooCommerce refuse to deliver to ``url`` ("A valid URL was not
    provided" in its webhook log, a failure counted each time): WordPress's
    ``wp_safe_remote_request`` sends only to ports 80, 443 and 8080 (or the shop's own port
    on the shop's own host), and never to a private or loopback address of another host."""
    parts, shop = urlsplit(url), urlsplit(shop_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    same_host = (parts.hostname or "").lower() == (shop.hostname or "").lower()
    shop_port = shop.port or (443 if shop.scheme == "https" else 80)
    found = []
    if port not in SAFE_PORTS and not (same_host and port == shop_port):
        found.append(
            f"WooCommerce delivers webhooks to ports 80, 443 and 8080 only (WordPress's "
            f"wp_safe_remote_request), not {port}: give the address of your reverse proxy "
            "(https://…, port 443), or allow the port on the shop with the "
            "http_allowed_safe_ports filter."
        )
    try:
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        address = None
    if address is not None and not same_host and (address.is_private or address.is_loopback):
        found.append(
            f"WordPress refuses to deliver to the private address {address} of another host: "
            "give a public name, e.g. that of your reverse proxy."
        )
    return found


def is_ours(webhook: Webhook, store: str) -> bool:
    """A webhook delivering to this store's address of a Bazgasht server."""
    return (
        urlsplit(webhook.delivery_url).path.rstrip("/").endswith(DELIVERY_PATH.format(store=store))
    )


def store_webhooks(client: RecordApi) -> list[Webhook]:
    """Every webhook of the store (all statuses)."""
    found: list[Webhook] = []
    page_number = 1
    while True:
        page = client.get_page("webhooks", {"per_page": 100, "page": page_number})
        for item in page.items:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                found.append(
                    Webhook(
                        id=int(item["id"]),
                        name=str(item.get("name") or ""),
                        topic=str(item.get("topic") or ""),
                        status=str(item.get("status") or ""),
                        delivery_url=str(item.get("delivery_url") or ""),
                    )
                )
        if len(page.items) < 100:
            return found
        page_number += 1


@dataclass
class WebhookReport:
    """This store's webhooks, topic by topic: what ``webhooks install`` / ``status`` show."""

    store: str
    webhooks: list[Webhook]
    #: What was done per topic by install or reactivate: created, updated, reactivated.
    actions: dict[str, str] = field(default_factory=dict)

    def by_topic(self) -> dict[str, list[Webhook]]:
        found: dict[str, list[Webhook]] = {topic: [] for topic in TOPICS}
        for hook in self.webhooks:
            found.setdefault(hook.topic, []).append(hook)
        return found

    @property
    def missing(self) -> list[str]:
        return [topic for topic, hooks in self.by_topic().items() if not hooks]

    @property
    def inactive(self) -> list[Webhook]:
        return [hook for hook in self.webhooks if hook.status != "active"]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.inactive

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "ok": self.ok,
            "topics": [
                {
                    "topic": topic,
                    "webhooks": [hook.as_dict() for hook in hooks],
                    "action": self.actions.get(topic),
                }
                for topic, hooks in self.by_topic().items()
            ],
            "missing": self.missing,
        }


def _webhook_of(item: Any) -> Webhook:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise BazgashtError("the store answered a webhook request without the webhook")
    return Webhook(
        int(item["id"]),
        str(item.get("name") or ""),
        str(item.get("topic") or ""),
        str(item.get("status") or ""),
        str(item.get("delivery_url") or ""),
    )


def install_webhooks(client: RecordApi, store: str, url: str, secret: str) -> WebhookReport:
    """Make the store deliver every topic of ``TOPICS`` to ``url``, signed with ``secret``:
    a webhook of ours per topic is updated (address, secret, active), a missing one created.
    Idempotent. WooCommerce pings ``url`` when it creates one (``bazgasht serve`` must
    answer it for the webhook to start cleanly)."""
    existing = [hook for hook in store_webhooks(client) if is_ours(hook, store)]
    report = WebhookReport(store, [])
    for topic in TOPICS:
        mine = [hook for hook in existing if hook.topic == topic]
        body = {"delivery_url": url, "secret": secret, "status": "active"}
        if mine:
            hook = _webhook_of(client.put(f"webhooks/{mine[0].id}", body))
            report.actions[topic] = "updated"
            report.webhooks += [hook, *mine[1:]]
        else:
            created = client.post(
                "webhooks", {"name": f"Bazgasht {store} {topic}", "topic": topic, **body}
            )
            report.webhooks.append(_webhook_of(created))
            report.actions[topic] = "created"
    return report


def webhook_report(client: RecordApi, store: str) -> WebhookReport:
    """This store's Bazgasht webhooks on the store and their states."""
    return WebhookReport(store, [hook for hook in store_webhooks(client) if is_ours(hook, store)])


def reactivate_webhooks(client: RecordApi, report: WebhookReport) -> WebhookReport:
    """Set every paused or disabled webhook of ours active again. WooCommerce keeps its
    failure count: one more failed delivery disables it again until one succeeds."""
    hooks = []
    for hook in report.webhooks:
        if hook.status != "active":
            hook = _webhook_of(client.put(f"webhooks/{hook.id}", {"status": "active"}))
            report.actions[hook.topic] = "reactivated"
        hooks.append(hook)
    report.webhooks = hooks
    return report
