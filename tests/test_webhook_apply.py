"""Applying recorded deliveries to the mirror and the ledger: through the sync engine's own
writer, idempotent, never older than the mirror, deletions confirmed with the store, and
coordinated with a sync of the same store through its lock.

The inbox is where the server keeps it (``app.open_inbox``): on SQLite a file of its own
beside the mirror's, on PostgreSQL the mirror's database — so each suite tests its mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import Engine, func, select

from app import (
    apply_deliveries,
    check_delivery,
    open_inbox,
    record_delivery,
    webhook_signature,
)
from app._schema import webhook_deliveries
from connector import StoreCredentials, StoreFacts, WooClient, remember_facts, store_lock
from connector._schema import customers, orders, quarantine
from loyalty._schema import loyalty_ledger
from tests._server import FIXTURE_SECRET, recorded
from tests.conftest import FIXTURES

STORE = "usd"
URL = "http://store.test"
ORDER_URL = f"{URL}/wp-json/wc/v3/orders/1624"
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
SETTINGS = {"starts_at": "2026-01-01T00:00:00+00:00"}
FACTS = StoreFacts(
    currency="USD",
    decimals=2,
    timezone="UTC",
    timezone_known=True,
    wc_version="8.2.2",
    supports_modified_after=True,
    hpos=True,
)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[WooClient]:
    creds = StoreCredentials(STORE, URL, "ck_" + "1" * 40, "cs_" + "2" * 40)
    with WooClient(creds, sleep=lambda _: None, max_attempts=1) as woo:
        yield woo


_INBOXES: dict[int, Engine] = {}


@pytest.fixture(autouse=True)
def own_inbox(engine: Engine) -> Iterator[Engine]:
    inbox = _INBOXES[id(engine)] = open_inbox(engine)
    yield inbox
    del _INBOXES[id(engine)]
    if inbox is not engine:
        inbox.dispose()


def inbox_of(engine: Engine) -> Engine:
    return _INBOXES[id(engine)]


@pytest.fixture
def synced(engine: Engine) -> Engine:
    """The store as a first sync leaves it: its row and facts."""
    remember_facts(engine, STORE, URL, FACTS)
    return engine


def receive(engine: Engine, name: str, *, webhook_id: int | None = None,
            body: bytes | None = None) -> bool:  # fmt: skip
    """Check and store a recorded delivery as the endpoint does; True if it was new."""
    headers, raw = recorded(name)
    lowered = {k.lower(): v for k, v in headers.items()}
    if webhook_id is not None:
        lowered["x-wc-webhook-id"] = str(webhook_id)
    if body is not None:
        raw = body
        lowered["x-wc-webhook-signature"] = webhook_signature(FIXTURE_SECRET, raw)
    delivery = check_delivery(STORE, FIXTURE_SECRET, lowered, raw)
    return record_delivery(inbox_of(engine), delivery, NOW)[1]


def apply(engine: Engine, client: WooClient, now: datetime = NOW) -> Any:
    return apply_deliveries(
        engine, client, STORE, SETTINGS, now=lambda: now, inbox=inbox_of(engine)
    )


def answer_with(rsps: responses.RequestsMock, name: str, **changes: Any) -> None:
    """GET orders/1624 answers the order as a recorded delivery carried it (the webhook body
    is the REST representation, README), with ``changes``."""
    body = json.loads(recorded(name)[1])
    body.update(changes)
    rsps.add(responses.GET, ORDER_URL, json=body)


def order(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(orders).where(orders.c.wc_id == 1624)).mappings().one())


def cashback(engine: Engine) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(func.coalesce(func.sum(loyalty_ledger.c.points), 0)).where(
                loyalty_ledger.c.key == f"cashback:{STORE}:1624"
            )
        ).scalar_one()
    return int(found)


def ledger_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    loyalty_ledger.c.key, loyalty_ledger.c.seq, loyalty_ledger.c.points
                ).order_by(loyalty_ledger.c.id)
            )
        ]


def statuses(engine: Engine) -> list[tuple[int, str]]:
    w = webhook_deliveries
    with inbox_of(engine).connect() as conn:
        return [tuple(r) for r in conn.execute(select(w.c.id, w.c.status).order_by(w.c.id))]  # type: ignore[misc]


def test_one_at_a_time_every_recorded_order_delivery_lands_once(
    synced: Engine, client: WooClient, rsps: responses.RequestsMock
) -> None:
    engine = synced
    receive(engine, "order.created")
    assert apply(engine, client).applied == 1
    assert order(engine)["status"] == "processing" and cashback(engine) == 0

    # order.updated-on-create: webhook 2, the very same bytes: changes nothing, asks nobody.
    receive(engine, "order.updated-on-create")
    result = apply(engine, client)
    assert (result.applied, result.skipped, len(rsps.calls)) == (0, 1, 0)

    # Completed in the same second as created: as old as the mirror's row, other bytes —
    # the store says which state is current.
    answer_with(rsps, "order.updated")
    receive(engine, "order.updated")
    assert apply(engine, client).applied == 1
    assert len(rsps.calls) == 1
    assert order(engine)["status"] == "completed"
    assert cashback(engine) == 100  # floor(50.44 × 2 % / 0.01)

    receive(engine, "order.updated-refund")  # newer: written without asking
    assert apply(engine, client).applied == 1
    assert len(rsps.calls) == 1
    assert order(engine)["refunded_total"] == pytest.approx(10)
    assert cashback(engine) == 80  # (50.44 − 10.00) × 2 %

    # A late delivery of an older state (another webhook, created's bytes): changes nothing.
    receive(engine, "order.created", webhook_id=9)
    result = apply(engine, client)
    assert (result.applied, result.skipped) == (0, 1)
    assert order(engine)["status"] == "completed" and cashback(engine) == 80

    # Trashed: the store confirms (404 here, as for a deleted order), the cashback reverses.
    rsps.replace(responses.GET, ORDER_URL, json=_recorded_404(), status=404)
    receive(engine, "order.deleted")
    assert apply(engine, client).applied == 1
    assert order(engine)["deleted_at"] is not None
    assert cashback(engine) == 0

    receive(engine, "order.restored")  # newer than the mirror's row: back, and earning
    assert apply(engine, client).applied == 1
    assert order(engine)["deleted_at"] is None
    assert cashback(engine) == 80
    assert [points for key, _, points in ledger_rows(engine) if "1624" in key] == [
        100, -20, -80, 80,
    ]  # fmt: skip
    assert all(status in ("applied", "skipped") for _, status in statuses(engine))


def _recorded_404() -> Any:
    return json.loads((FIXTURES / "usd-error-404-order.json").read_text())["response"]["body"]


def test_a_batch_keeps_the_newest_state_and_asks_about_a_same_second_conflict(
    synced: Engine, client: WooClient, rsps: responses.RequestsMock
) -> None:
    engine = synced
    for name in ("order.created", "order.updated-on-create", "order.updated"):
        receive(engine, name)
    answer_with(rsps, "order.updated")
    result = apply(engine, client)
    assert (result.applied, result.skipped) == (1, 2)
    assert len(rsps.calls) == 1  # created and updated share the second: asked once
    assert order(engine)["status"] == "completed" and cashback(engine) == 100
    for name in ("order.updated-refund", "order.deleted", "order.restored"):
        receive(engine, name)
    rsps.replace(responses.GET, ORDER_URL, json=json.loads(recorded("order.restored")[1]))
    result = apply(engine, client)
    # trashed then restored in one batch: the store's current record wins
    assert (result.applied, result.skipped) == (1, 2)
    assert order(engine)["deleted_at"] is None and cashback(engine) == 80


def test_the_same_deliveries_again_change_nothing(
    synced: Engine, client: WooClient, rsps: responses.RequestsMock
) -> None:
    engine = synced
    answer_with(rsps, "order.updated-refund")
    names = ["order.created", "order.updated", "order.updated-refund",
             "customer.created", "customer.updated"]  # fmt: skip
    for name in names:
        receive(engine, name)
    apply(engine, client)
    before = (order(engine), ledger_rows(engine))
    assert not any(receive(engine, name) for name in names)  # duplicates: not stored
    for number, name in enumerate(names, start=100):  # the same bytes from other webhooks
        assert receive(engine, name, webhook_id=number)
    result = apply(engine, client)
    assert result.applied == 0 and result.skipped == len(names)
    assert (order(engine), ledger_rows(engine)) == before


def test_customer_deliveries_upsert_the_account(synced: Engine, client: WooClient) -> None:
    engine = synced
    receive(engine, "customer.created")
    receive(engine, "customer.updated-on-create")
    receive(engine, "customer.updated")
    result = apply(engine, client)
    assert result.applied == 1 and result.skipped == 2
    updated = json.loads(recorded("customer.updated")[1])
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.wc_id == 302)).mappings().one()
    assert (row["first_name"], row["phone"]) == (
        updated["first_name"], updated["billing"]["phone"],
    )  # fmt: skip
    assert row["email"] == "webhook.fixture@example.com"


def test_topics_bazgasht_does_not_use_are_skipped(synced: Engine, client: WooClient) -> None:
    engine = synced
    receive(engine, "coupon.created")
    receive(engine, "coupon.updated")
    result = apply(engine, client)
    assert (result.applied, result.skipped) == (0, 2)
    assert result.program is None  # nothing changed: no reconciliation


def test_a_record_that_fails_validation_goes_to_the_quarantine(
    synced: Engine, client: WooClient
) -> None:
    engine = synced
    body = json.loads(recorded("order.updated")[1])
    body["total"] = "-50.44"
    raw = json.dumps(body).encode()
    receive(engine, "order.updated", body=raw)
    result = apply(engine, client)
    assert result.skipped == 1 and result.quarantined == 1
    with engine.connect() as conn:
        row = conn.execute(select(quarantine)).mappings().one()
        assert conn.execute(select(func.count()).select_from(orders)).scalar() == 0
    assert (row["resource"], row["wc_id"]) == ("orders", "1624")
    assert "total" in row["error"]


def test_a_store_busy_with_a_sync_keeps_its_deliveries_until_the_sync_ends(
    synced: Engine, client: WooClient
) -> None:
    engine = synced
    receive(engine, "order.created")
    with store_lock(engine, STORE):  # what a running sync holds
        result = apply(engine, client)
        assert result.busy and result.applied == 0
        assert statuses(engine) == [(1, "pending")]
    assert apply(engine, client).applied == 1


def test_a_store_never_synced_waits_for_its_first_sync(engine: Engine, client: WooClient) -> None:
    receive(engine, "order.created")
    result = apply(engine, client)
    assert result.waiting == 1 and statuses(engine) == [(1, "pending")]
    remember_facts(engine, STORE, URL, FACTS)
    assert apply(engine, client, NOW + timedelta(minutes=1)).applied == 1


def test_an_unreachable_store_is_retried_with_a_growing_delay_then_given_up(
    synced: Engine, client: WooClient, rsps: responses.RequestsMock
) -> None:
    engine = synced
    receive(engine, "order.created")
    apply(engine, client)
    receive(engine, "order.deleted")  # to confirm, the store must answer: it does not
    now = NOW
    delays = []
    for _ in range(30):
        result = apply(engine, client, now)
        if result.deliveries == 0:
            break
        w = webhook_deliveries
        with inbox_of(engine).connect() as conn:
            row = conn.execute(select(w).where(w.c.topic == "order.deleted")).mappings().one()
        if row["status"] == "failed":
            break
        delays.append(row["next_attempt_at"] - now)
        assert apply(engine, client, now).deliveries == 0  # not due before its time
        now = row["next_attempt_at"]
    assert row["status"] == "failed" and "waiting for the store" in row["outcome"]
    assert delays[0] == timedelta(seconds=5) and delays[1] == timedelta(seconds=10)
    assert max(delays) == timedelta(hours=1)
    assert order(engine)["deleted_at"] is None  # nothing was assumed


def test_on_sqlite_a_receipt_never_waits_for_the_mirrors_write_lock(
    synced: Engine, client: WooClient
) -> None:
    """The applier may hold the mirror's one write lock; the inbox is another file."""
    engine = synced
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database: the inbox shares it")
    assert inbox_of(engine).url.database != engine.url.database
    with engine.connect() as writer:
        writer.exec_driver_sql("BEGIN IMMEDIATE")  # the mirror's write lock, held
        with inbox_of(engine).connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout = 0")  # waiting would fail at once
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the inbox's write lock is free
            conn.exec_driver_sql("ROLLBACK")
            conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
        assert receive(engine, "order.created")
        writer.exec_driver_sql("ROLLBACK")
    assert apply(engine, client).applied == 1 and statuses(engine) == [(1, "applied")]


def test_a_crash_between_the_mirror_and_the_outcome_reapplies_harmlessly(
    synced: Engine, client: WooClient, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an inbox of its own, an outcome commits just after the mirror rows: a crash
    between them leaves the delivery pending, and applying it again changes nothing."""
    import app._webhooks as webhooks

    engine = synced
    receive(engine, "order.updated-on-create")
    if inbox_of(engine) is engine:
        pytest.skip("on PostgreSQL the outcome commits with the mirror rows")
    real_settle = webhooks._settle
    monkeypatch.setattr(webhooks, "_settle", lambda *a, **k: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        apply(engine, client)
    monkeypatch.setattr(webhooks, "_settle", real_settle)
    assert statuses(engine) == [(1, "pending")]
    first = order(engine)
    answer_with(rsps, "order.updated-on-create")  # as old as the mirror: the store is asked
    result = apply(engine, client)
    assert result.applied == 1 and statuses(engine) == [(1, "applied")]
    assert order(engine) == first
    assert cashback(engine) == 0
