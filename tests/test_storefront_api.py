"""The storefront API as docs/storefront-api.md writes it: the plugin's signing vectors
accepted byte for byte, each 401 in the contract's order, replays refused through any worker,
the answers' fields, and redemptions through the exactly-once coupon path — idempotent by
request id, with the 422 codes — against the sample store over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from starlette.testclient import TestClient

from app import Registry, StoreConfig, sync_one
from connector._schema import customers, orders
from loyalty import grant, load_program
from loyalty._schema import loyalty_redemptions
from samplestore import Fault, SampleStore
from server import create_app
from tests._server import (
    STOREFRONT_SECRET,
    new_request_id,
    registry_of,
    signed_headers,
    store_config,
    storefront_call,
    write_server_config,
)
from tests.test_signing import VECTORS

OTHER_SECRET = next(v["secret"] for v in VECTORS["vectors"] if v["name"] == "another secret")
SHOP = "/storefront/v1/stores/shop"


# --------------------------------------------------------------------------- the vectors


def _vector_client(tmp_path: Path, db_url: str, now: datetime) -> tuple[TestClient, Registry]:
    keys = {"storefront_secret": STOREFRONT_SECRET, "storefront_previous_secret": OTHER_SECRET}
    config = write_server_config(
        tmp_path / "config.toml",
        db_url,
        **{
            "myshop": store_config("http://127.0.0.1:9", **keys),
            "my.shop_fa-1": store_config("http://127.0.0.1:9", **keys),
        },
    )
    registry = registry_of(config)
    return TestClient(create_app(registry, run_worker=False, now=lambda: now)), registry


def _send_vector(client: TestClient, vector: dict[str, Any], **change: Any) -> Any:
    fields = {**vector, **change}
    query = fields["canonical_query"]
    url = fields["path"] + (f"?{query}" if query else "")
    headers = dict(vector["headers"])
    headers["X-Bazgasht-Timestamp"] = str(fields["timestamp"])
    headers["X-Bazgasht-Nonce"] = fields["nonce"]
    body = fields["body"].encode("utf-8")
    if body:
        headers["Content-Type"] = "application/json"
    return client.request(fields["method"], url, content=body or None, headers=headers)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_the_server_accepts_every_vector_of_the_plugin(
    vector: dict[str, Any], tmp_path: Path, db_url: str
) -> None:
    """Signed exactly as the plugin signs (its test file), at the vector's moment: past the
    five checks (these stores have no data yet, so the answer is 503 or a 4xx of the
    request's own, never a 401)."""
    now = datetime.fromtimestamp(vector["timestamp"], UTC)
    client, registry = _vector_client(tmp_path, db_url, now)
    with client:
        answer = _send_vector(client, vector)
        assert answer.status_code != 401, answer.text
        assert answer.status_code in (503, 404, 400), answer.text
        replay = _send_vector(client, vector)
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "replayed_nonce"
    registry.close()


@pytest.mark.parametrize(
    "case",
    [t for t in VECTORS["tampered"] if t["field"] not in ("method", "secret")],
    ids=lambda t: f"{t['base']}: {t['field']}",
)
def test_the_server_refuses_every_tampered_request(
    case: dict[str, Any], tmp_path: Path, db_url: str
) -> None:
    base = next(v for v in VECTORS["vectors"] if v["name"] == case["base"])
    field = {"canonical_query": "canonical_query"}.get(case["field"], case["field"])
    now = datetime.fromtimestamp(base["timestamp"], UTC)
    client, registry = _vector_client(tmp_path, db_url, now)
    with client:
        answer = _send_vector(client, base, **{field: case["value"]})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "bad_signature"
    registry.close()


# --------------------------------------------------------------------------- a real store


@dataclass
class Shop:
    store: SampleStore
    registry: Registry
    engine: Engine
    client: TestClient
    rich: int  #: a customer with points to spend

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return storefront_call(self.client, method, SHOP + path, **kwargs)

    def redeem(self, customer: int, points: Any, request_id: str | None = None,
               **extra: Any) -> Any:  # fmt: skip
        body = {"points": points, "request_id": request_id or new_request_id(), **extra}
        return self.call("POST", f"/customers/{customer}/redemptions", json_body=body)

    def coupons_on_store(self, code: str) -> int:
        return sum(
            1 for c in self.store.data.coupons.values() if c.code == code and c.status == "publish"
        )


@pytest.fixture
def shop(tmp_path: Path, db_url: str) -> Iterator[Shop]:
    with SampleStore(orders=160, customers=40, seed=5, deliver_webhooks=False) as store:
        config = write_server_config(
            tmp_path / "config.toml",
            db_url,
            shop=StoreConfig(
                url=store.url,
                consumer_key=store.consumer_key,
                consumer_secret=store.consumer_secret,
                storefront_secret=STOREFRONT_SECRET,
                loyalty={"starts_at": "2000-01-01T00:00:00+00:00"},
            ),
        )
        registry = registry_of(config)
        sync_one(registry, "shop")
        engine = registry.engine()
        program = load_program(engine, "shop", registry.store("shop").loyalty, datetime.now(UTC))
        rich = _richest(engine, program.store_id)
        with TestClient(create_app(registry, run_worker=False)) as client:
            yield Shop(store, registry, engine, client, rich)
        registry.close()


def _richest(engine: Engine, store_id: int) -> int:
    from loyalty._schema import loyalty_ledger as led

    with engine.connect() as conn:
        identity = conn.execute(
            select(led.c.identity)
            .where(led.c.store_id == store_id, led.c.identity.like("customer:%"))
            .group_by(led.c.identity)
            .order_by(func.sum(led.c.points).desc())
            .limit(1)
        ).scalar_one()
    return int(identity.split(":")[1])


def test_program_answers_the_resolved_settings(shop: Shop) -> None:
    answer = shop.call("GET", "/program")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {
        "store": "shop",
        "currency": "USD",
        "decimals": 2,
        "point_value": "0.01",
        "cashback_percent": "2",
        "cashback_base": "paid",
        "cashback_from_order": 1,
        "welcome_points": 100,
        "second_purchase_points": 200,
        "min_redeem_points": 500,
        "coupon_valid_days": 90,
        "pending_days": 0,
    }


def test_a_customer_answer_has_every_field_as_the_contract_types_it(shop: Shop) -> None:
    answer = shop.call("GET", f"/customers/{shop.rich}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer_id"] == shop.rich
    assert isinstance(body["balance"], int) and body["balance"] >= 500
    assert body["spendable"] == body["balance"] - body["pending"]
    assert body["value"] == str((Decimal(body["spendable"]) / 100).quantize(Decimal("0.01")))
    assert body["currency"] == "USD" and body["min_redeem_points"] == 500
    assert body["can_redeem"] is True and body["expiring"] is None and body["coupons"] == []
    assert body["updated_at"].endswith("Z") and len(body["updated_at"]) == 20
    assert not any(isinstance(v, float) for v in body.values())  # no JSON floats, ever


@pytest.mark.parametrize("who", ["999999", "1", "0", "abc"])
def test_unknown_staff_and_malformed_customers_are_404(shop: Shop, who: str) -> None:
    """999999 never existed; 1 is the shop's administrator (staff are not customers)."""
    for path in (f"/customers/{who}", f"/customers/{who}/history"):
        answer = shop.call("GET", path)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "unknown_customer"


def test_history_is_newest_first_with_sources_and_a_bounded_limit(shop: Shop) -> None:
    full = shop.call("GET", f"/customers/{shop.rich}/history").json()["entries"]
    assert 1 <= len(full) <= 20
    assert [e["at"] for e in full] == sorted((e["at"] for e in full), reverse=True)
    assert {e["source"] for e in full} <= {"welcome", "second_purchase", "cashback"}
    assert all(e["kind"] == "earn" for e in full)
    two = shop.call("GET", f"/customers/{shop.rich}/history", params=[("limit", "2")])
    assert two.json()["entries"] == full[:2]
    for bad in ("0", "101", "abc", ""):
        answer = shop.call("GET", f"/customers/{shop.rich}/history", params=[("limit", bad)])
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


# --------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Bazgasht-Timestamp": "1" * 13},
        {"X-Bazgasht-Nonce": "0123456789ABCDEF0123456789ABCDEF"},
        {"X-Bazgasht-Signature": "sha256=" + "0" * 64},
    ],
    ids=["none", "13-digit timestamp", "upper-case nonce", "not v1"],
)
def test_missing_or_malformed_headers_are_missing_auth(shop: Shop, headers: dict[str, str]) -> None:
    sent = signed_headers(STOREFRONT_SECRET, "GET", f"{SHOP}/program")
    sent = {**sent, **headers} if headers else {}
    answer = shop.client.get(f"{SHOP}/program", headers=sent)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "missing_auth"


def test_a_store_without_the_storefront_is_an_unknown_store(shop: Shop) -> None:
    path = "/storefront/v1/stores/nosuch/program"
    answer = storefront_call(shop.client, "GET", path)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unknown_store"


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_301_seconds_off_either_way_is_stale(shop: Shop, offset: int) -> None:
    now = int(datetime.now(UTC).timestamp())
    answer = shop.call("GET", "/program", timestamp=now + offset)
    error = answer.json()["error"]
    assert answer.status_code == 401 and error["code"] == "stale_timestamp"
    assert abs(error["server_time"] - now) <= 5


@pytest.mark.parametrize("offset", [-295, 295])
def test_a_timestamp_within_300_seconds_is_accepted(shop: Shop, offset: int) -> None:
    now = int(datetime.now(UTC).timestamp())
    assert shop.call("GET", "/program", timestamp=now + offset).status_code == 200


def test_a_wrong_secret_is_a_bad_signature_and_burns_no_nonce(shop: Shop) -> None:
    nonce = "ab" * 16
    answer = shop.call("GET", "/program", secret="x" * 64, nonce=nonce)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "bad_signature"
    assert shop.call("GET", "/program", nonce=nonce).status_code == 200


def test_a_replay_is_refused_by_every_worker(shop: Shop) -> None:
    headers = signed_headers(STOREFRONT_SECRET, "GET", f"{SHOP}/program")
    assert shop.client.get(f"{SHOP}/program", headers=headers).status_code == 200
    again = shop.client.get(f"{SHOP}/program", headers=headers)
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed_nonce"
    # Another worker process: its own application, the same database.
    other = registry_of(shop.registry.config_path)
    with TestClient(create_app(other, run_worker=False)) as second:
        replay = second.get(f"{SHOP}/program", headers=headers)
    other.close()
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed_nonce"


def test_the_previous_secret_works_until_the_rotation_ends(shop: Shop) -> None:
    store = shop.registry.store("shop")
    store.storefront_previous_secret = STOREFRONT_SECRET
    store.storefront_secret = OTHER_SECRET
    assert shop.call("GET", "/program").status_code == 200  # signed with the previous one
    assert shop.call("GET", "/program", secret=OTHER_SECRET).status_code == 200
    store.storefront_previous_secret = None
    answer = shop.call("GET", "/program")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "bad_signature"


# --------------------------------------------------------------------------- redemptions


def test_a_redemption_makes_one_coupon_and_a_retry_returns_it(shop: Shop) -> None:
    request_id = new_request_id()
    first = shop.redeem(shop.rich, 600, request_id, amount="999.00")  # the browser's amount…
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "issued" and body["points"] == 600
    assert body["amount"] == "6.00" and body["currency"] == "USD"  # …is never used
    assert body["expires_at"].endswith("Z")
    assert shop.coupons_on_store(body["code"]) == 1
    coupon = next(c for c in shop.store.data.coupons.values() if c.code == body["code"])
    assert str(coupon.amount) == "6.00" and coupon.usage_limit == 1
    again = shop.redeem(shop.rich, 600, request_id)
    assert again.status_code == 201 and again.json() == body
    assert shop.coupons_on_store(body["code"]) == 1
    with shop.engine.connect() as conn:
        made = conn.execute(select(func.count()).select_from(loyalty_redemptions)).scalar()
    assert made == 1
    state = shop.call("GET", f"/customers/{shop.rich}").json()
    assert [c["code"] for c in state["coupons"]] == [body["code"]]
    history = shop.call("GET", f"/customers/{shop.rich}/history").json()["entries"]
    assert history[0]["kind"] == "redemption" and history[0]["points"] == -600
    assert history[0]["source"] == "redemption" and history[0]["coupon_code"] == body["code"]


def test_a_request_id_used_for_other_points_or_another_customer_is_a_conflict(
    shop: Shop,
) -> None:
    request_id = new_request_id()
    assert shop.redeem(shop.rich, 500, request_id).status_code == 201
    other_points = shop.redeem(shop.rich, 700, request_id)
    assert other_points.status_code == 409
    assert other_points.json()["error"]["code"] == "request_id_conflict"
    with shop.engine.connect() as conn:
        someone = conn.execute(
            select(customers.c.wc_id).where(
                customers.c.role == "customer", customers.c.wc_id != shop.rich
            )
        ).scalar()
    other_customer = shop.redeem(int(someone), 500, request_id)
    assert other_customer.status_code == 409


@pytest.mark.parametrize(
    ("points", "status", "code"),
    [
        (499, 422, "below_minimum"),
        (10**9, 422, "insufficient_balance"),
        (0, 422, "invalid_points"),
        (-5, 422, "invalid_points"),
        (600.5, 422, "invalid_points"),
        (10**13, 422, "invalid_points"),
        ("600", 400, "bad_request"),
        (True, 400, "bad_request"),
        (None, 400, "bad_request"),
    ],
)
def test_the_rules_refuse_with_the_contracts_codes(
    shop: Shop, points: Any, status: int, code: str
) -> None:
    answer = shop.redeem(shop.rich, points)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    with shop.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(loyalty_redemptions)).scalar() == 0


def test_malformed_bodies_are_bad_requests(shop: Shop) -> None:
    path = f"{SHOP}/customers/{shop.rich}/redemptions"
    for body in (b"not json", b"[]", b'{"points": 600}', b'{"points": 600, "request_id": "X"}'):
        headers = signed_headers(STOREFRONT_SECRET, "POST", path, body=body)
        answer = shop.client.post(path, content=body, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_a_negative_balance_blocks_redemption(shop: Shop) -> None:
    program = load_program(shop.engine, "shop", {}, datetime.now(UTC), create=False)
    have = shop.call("GET", f"/customers/{shop.rich}").json()["balance"]
    grant(shop.engine, program, f"customer:{shop.rich}", -(have + 50), "test", datetime.now(UTC))
    answer = shop.redeem(shop.rich, 500)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "negative_balance"
    assert shop.call("GET", f"/customers/{shop.rich}").json()["can_redeem"] is False


def test_a_customer_without_an_email_cannot_redeem(shop: Shop) -> None:
    with shop.engine.begin() as conn:
        conn.execute(update(customers).where(customers.c.wc_id == shop.rich).values(email=""))
        conn.execute(
            update(orders).where(orders.c.customer_id == shop.rich).values(billing_email="")
        )
    assert shop.call("GET", f"/customers/{shop.rich}").json()["can_redeem"] is False
    answer = shop.redeem(shop.rich, 500)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "no_email"


def test_a_store_that_cannot_make_the_coupon_leaves_it_pending(shop: Shop) -> None:
    shop.store.add_fault(Fault("status", status=503, path="/coupons", times=20))
    request_id = new_request_id()
    answer = shop.redeem(shop.rich, 500, request_id)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"
    shop.store.clear_faults()
    again = shop.redeem(shop.rich, 500, request_id)  # the retry finishes it
    assert again.status_code == 201 and again.json()["code"] == answer.json()["code"]
    assert shop.coupons_on_store(answer.json()["code"]) == 1


def test_the_secret_never_appears_in_answers(shop: Shop) -> None:
    answers = [
        shop.call("GET", "/program"),
        shop.call("GET", "/program", secret="y" * 64),
        shop.redeem(shop.rich, 1),
    ]
    for answer in answers:
        assert STOREFRONT_SECRET not in answer.text
