"""The webhook receiver against WooCommerce 8.2.2's recorded deliveries, byte for byte:
signatures, pings, duplicates, and bad input refused with a reason and nothing stored."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from app import MAX_BODY_BYTES, webhook_signature
from app._schema import webhook_deliveries
from server import create_app
from tests._server import (
    FIXTURE_SECRET,
    HOOKS,
    deliver,
    recorded,
    registry_of,
    store_config,
    write_server_config,
)

SIGNED = sorted(
    p.stem
    for p in HOOKS.glob("*.json")
    if json.loads(p.read_text(encoding="utf-8")).get("signature_valid") is True
)
PINGS = ["ping", "ping-failed", "ping-repeat-after-failed-ping"]


@pytest.fixture
def client(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    config = write_server_config(
        tmp_path / "config.toml",
        db_url,
        usd=store_config("http://127.0.0.1:9", webhook_secret=FIXTURE_SECRET),
        nohooks=store_config("http://127.0.0.1:9"),
    )
    registry = registry_of(config)
    with TestClient(create_app(registry, run_worker=False)) as test_client:
        yield test_client
    registry.close()


def _inbox(client: TestClient) -> list[dict[str, object]]:
    engine = client.app.state.registry.inbox()  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(webhook_deliveries))]


def test_the_recording_holds_every_kind_of_delivery() -> None:
    topics = {json.loads((HOOKS / f"{n}.json").read_text())["request"]["headers"]
              ["X-WC-Webhook-Topic"] for n in SIGNED}  # fmt: skip
    assert topics == {
        "order.created", "order.updated", "order.deleted", "order.restored",
        "customer.created", "customer.updated", "coupon.created", "coupon.updated",
    }  # fmt: skip


@pytest.mark.parametrize("name", SIGNED)
def test_every_recorded_delivery_is_stored_byte_for_byte_once(
    client: TestClient, name: str
) -> None:
    headers, body = recorded(name)
    answer = deliver(client, "usd", name)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"
    again = deliver(client, "usd", name)  # WooCommerce's redelivery, or a replay
    assert again.status_code == 200 and again.json() == {
        "status": "duplicate",
        "delivery": answer.json()["delivery"],
    }
    (row,) = _inbox(client)
    assert row["body"].encode("utf-8") == body  # type: ignore[union-attr]
    assert row["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert row["topic"] == headers["X-WC-Webhook-Topic"]
    assert row["webhook_id"] == int(headers["X-WC-Webhook-ID"])
    assert row["delivery_id"] == headers["X-WC-Webhook-Delivery-ID"]
    assert row["resource_id"] == json.loads(body)["id"]
    assert row["status"] == "pending"


def test_a_coalesced_update_and_same_second_deliveries_are_kept_apart(
    client: TestClient,
) -> None:
    """failure-1 and failure-2 share a Delivery-ID (same webhook, same second) but are two
    bodies: both are stored. The coalesced update is one delivery for two changes."""
    for name in ("coupon.updated-failure-1", "coupon.updated-failure-2",
                 "coupon.updated-coalesced"):  # fmt: skip
        assert deliver(client, "usd", name).json()["status"] == "accepted"
    rows = _inbox(client)
    assert len(rows) == 3
    assert rows[0]["delivery_id"] == rows[1]["delivery_id"]


def test_created_and_updated_with_identical_bodies_are_two_deliveries(
    client: TestClient,
) -> None:
    """order.created (webhook 1) and order.updated-on-create (webhook 2) carry the same
    bytes; both are stored (applying the second changes nothing, see test_webhook_apply)."""
    assert recorded("order.created")[1] == recorded("order.updated-on-create")[1]
    deliver(client, "usd", "order.created")
    deliver(client, "usd", "order.updated-on-create")
    assert [r["webhook_id"] for r in _inbox(client)] == [1, 2]


@pytest.mark.parametrize("name", PINGS)
def test_pings_are_answered_200_and_not_stored(client: TestClient, name: str) -> None:
    answer = deliver(client, "usd", name)
    assert answer.status_code == 200
    assert answer.json()["status"] == "pong"
    assert _inbox(client) == []


@pytest.mark.parametrize(
    ("store", "replace", "status", "code"),
    [
        ("nosuch", {}, 404, "unknown_store"),
        ("nohooks", {}, 404, "webhooks_not_set_up"),
        ("usd", {"X-WC-Webhook-Signature": ""}, 401, "missing_signature"),
        ("usd", {"X-WC-Webhook-Signature": "AAAA" + "A" * 40}, 401, "bad_signature"),
        ("usd", {"body": recorded("order.created")[1] + b" "}, 401, "bad_signature"),
        ("usd", {"X-WC-Webhook-Topic": ""}, 400, "bad_headers"),
        ("usd", {"X-WC-Webhook-ID": "one"}, 400, "bad_headers"),
        ("usd", {"X-WC-Webhook-Delivery-ID": "not an id!"}, 400, "bad_headers"),
    ],
    ids=[
        "unknown store",
        "no secret",
        "no signature",
        "wrong signature",
        "body changed",
        "no topic",
        "webhook id not a number",
        "delivery id not an id",
    ],
)
def test_bad_deliveries_are_refused_with_a_reason_and_nothing_is_stored(
    client: TestClient, store: str, replace: dict[str, object], status: int, code: str
) -> None:
    answer = deliver(client, store, "order.created", **replace)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]
    assert _inbox(client) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<html>not json</html>", "not_json"),
        (b'["a", "list"]', "not_json"),
        (b'{"no_id": true}', "bad_payload"),
        (b'{"id": "1624"}', "bad_payload"),
        (b"\xff\xfe{}", "not_json"),
    ],
)
def test_a_signed_body_that_is_not_a_record_is_refused(
    client: TestClient, body: bytes, code: str
) -> None:
    """Signed with the right secret (so only the body is wrong)."""
    answer = deliver(
        client, "usd", "order.updated", body=body,
        **{"X-WC-Webhook-Signature": webhook_signature(FIXTURE_SECRET, body)},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code
    assert _inbox(client) == []


def test_a_body_too_large_is_refused_before_it_is_read_whole(client: TestClient) -> None:
    body = b'{"id": 1, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    signed = {"X-WC-Webhook-Signature": webhook_signature(FIXTURE_SECRET, body)}
    answer = deliver(client, "usd", "order.updated", body=body, **signed)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    headers, _ = recorded("order.updated")
    headers.update(signed)
    streamed = client.post("/webhooks/woocommerce/usd", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert _inbox(client) == []


def test_an_unknown_topic_is_stored_and_later_skipped(client: TestClient) -> None:
    body = b'{"action":"woocommerce_something","arg":7}'
    answer = deliver(
        client, "usd", "order.updated", body=body,
        **{"X-WC-Webhook-Signature": webhook_signature(FIXTURE_SECRET, body),
           "X-WC-Webhook-Topic": "action.woocommerce_something"},
    )  # fmt: skip
    assert answer.status_code == 200
    assert _inbox(client)[0]["resource_id"] is None


def test_wrong_methods_and_paths_answer_json(client: TestClient) -> None:
    assert client.get("/webhooks/woocommerce/usd").json()["error"]["code"] == ("method_not_allowed")
    assert client.post("/webhooks/other/usd").status_code == 404


def test_the_secret_is_never_logged_nor_answered(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = [
        deliver(client, "usd", "order.created"),
        deliver(client, "usd", "order.created", **{"X-WC-Webhook-Signature": "nope"}),
        deliver(client, "usd", "ping"),
        deliver(client, "nohooks", "order.created"),
    ]
    assert any("refused a delivery" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert FIXTURE_SECRET not in record.getMessage()
    for answer in answers:
        assert FIXTURE_SECRET not in answer.text
    engine = client.app.state.registry.inbox()  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar()
    assert stored == 1
