"""The push: customers' loyalty states written to WooCommerce customer meta through
``customers/batch`` — only those that changed, at most 100 per request, per-item errors
handled, idempotent — over real HTTP against the sample store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app import Registry, StoreConfig, customer_state, push_states, sync_one
from connector import WooClient
from loyalty import Program, load_program, reconcile
from loyalty.redeem import redeem
from samplestore import Fault, SampleStore
from tests._server import registry_of, write_server_config

BATCH_PATH = "/wp-json/wc/v3/customers/batch"


@dataclass
class Pushing:
    store: SampleStore
    registry: Registry
    engine: Engine
    client: WooClient
    batches: list[str] = field(default_factory=list)

    def program(self, now: datetime | None = None) -> Program:
        return load_program(
            self.engine, "shop", self.registry.store("shop").loyalty, now or datetime.now(UTC)
        )

    def push(self, now: datetime | None = None, **options: Any) -> Any:
        now = now or datetime.now(UTC)
        return push_states(self.engine, self.client, self.program(now), now, **options)

    def meta(self, customer_id: int) -> Any:
        body = self.client.get(f"customers/{customer_id}")
        found = [m["value"] for m in body["meta_data"] if m["key"] == "bazgasht_loyalty"]
        return found[0] if found else None


def _shop(tmp_path: Path, db_url: str, **options: Any) -> Iterator[Pushing]:
    loyalty = {"starts_at": "2000-01-01T00:00:00+00:00", **options.pop("loyalty", {})}
    with SampleStore(seed=3, deliver_webhooks=False, **options) as store:
        config = write_server_config(
            tmp_path / "config.toml",
            db_url,
            shop=StoreConfig(
                url=store.url,
                consumer_key=store.consumer_key,
                consumer_secret=store.consumer_secret,
                loyalty=loyalty,
            ),
        )
        registry = registry_of(config)
        sync_one(registry, "shop")  # no storefront secret yet: the sync pushes nothing
        batches: list[str] = []
        store.on_request = lambda path, query: batches.append(path) if path == BATCH_PATH else None
        with registry.client("shop", sleep=lambda _: None) as client:  # retries at once
            yield Pushing(store, registry, registry.engine(), client, batches)
        registry.close()


@pytest.fixture
def shop(tmp_path: Path, db_url: str) -> Iterator[Pushing]:
    yield from _shop(tmp_path, db_url, orders=150, customers=40)


def test_the_first_push_writes_every_member_and_the_second_nothing(shop: Pushing) -> None:
    assert shop.batches == []  # the store has no storefront: the sync pushed nothing
    first = shop.push()
    assert first.problem is None and first.errors == []
    assert first.pushed == first.considered > 10 and first.requests == len(shop.batches) == 1
    now = datetime.now(UTC)
    program = shop.program(now)
    for customer_id in (2, 3, 4):
        state = customer_state(shop.engine, program, customer_id, now)
        if state is None:
            continue
        meta = shop.meta(customer_id)
        assert isinstance(meta, dict)  # a JSON object, not a string holding JSON
        expected = state.meta_json()
        assert {k: v for k, v in meta.items() if k != "updated_at"} == {
            k: v for k, v in expected.items() if k != "updated_at"
        }
        assert meta["v"] == 1
    second = shop.push()
    assert (second.pushed, second.considered, second.requests) == (0, 0, 0)
    forced = shop.push(force=True)  # everyone looked at again; nothing changed: rewritten all
    assert forced.pushed == first.pushed


def test_only_the_customers_whose_state_changed_are_pushed(shop: Pushing) -> None:
    shop.push()
    customer_id = next(c.id for c in shop.store.data.customers(role="customer"))
    order_id = shop.store.create_order(customer_id=customer_id, status="completed")
    sync_one(shop.registry, "shop")
    result = shop.push()
    assert (result.pushed, result.considered) == (1, 1)
    assert shop.meta(customer_id)["balance"] > 0
    assert order_id > 0


def test_a_hundred_customers_per_request(tmp_path: Path, db_url: str) -> None:
    for shop in _shop(tmp_path, db_url, orders=900, customers=260):
        result = shop.push()
        assert result.pushed > 200
        assert result.requests == len(shop.batches) == -(-result.pushed // 100)


def test_an_account_gone_from_the_store_is_reported_and_not_retried(shop: Pushing) -> None:
    gone = next(c.id for c in shop.store.data.customers(role="customer"))
    shop.store.delete_customer(gone)  # the mirror still has it until the next sync
    first = shop.push()
    assert [c for c, _ in first.errors] == [gone]
    assert first.errors[0][1].startswith("woocommerce_rest_invalid_id:")
    assert first.pushed == first.considered - 1
    assert shop.push().errors == []  # not tried again while its state is the same


def test_a_failed_request_leaves_the_customers_for_the_next_push(shop: Pushing) -> None:
    shop.store.add_fault(Fault("status", status=500, path="/customers/batch", times=10))
    failed = shop.push()
    assert failed.pushed == 0 and failed.problem and "stopped" in failed.problem
    shop.store.clear_faults()
    retried = shop.push()
    assert retried.problem is None and retried.pushed == failed.considered


class Answers:
    """A store client whose batch answer refuses chosen customers with chosen codes."""

    store = "shop"

    def __init__(self, refuse: Mapping[int, str]) -> None:
        self.refuse = dict(refuse)
        self.sent: list[list[int]] = []

    def post(self, path: str, json: Mapping[str, Any]) -> Any:
        assert path == "customers/batch"
        ids = [item["id"] for item in json["update"]]
        self.sent.append(ids)
        return {
            "update": [
                {"id": i, "error": {"code": self.refuse[i], "message": "no", "data": {}}}
                if i in self.refuse
                else {"id": i, "meta_data": []}
                for i in ids
            ]
        }


def test_other_item_errors_are_retried_by_the_next_push(shop: Pushing) -> None:
    now = datetime.now(UTC)
    program = shop.program(now)
    everyone = push_states(shop.engine, Answers({}), program, now)
    some = sorted(i for i in range(1, 200) if customer_state(shop.engine, program, i, now))[:2]
    shop_client = Answers(
        {some[0]: "woocommerce_rest_cannot_edit", some[1]: "woocommerce_rest_invalid_id"}
    )
    forced = push_states(shop.engine, shop_client, program, now, force=True)
    assert len(forced.errors) == 2 and forced.pushed == everyone.pushed - 2
    again = Answers({})
    push_states(shop.engine, again, program, now)
    assert again.sent == [[some[0]]]  # the refused edit, not the account that is gone


def test_points_that_mature_are_pushed_without_a_ledger_entry(tmp_path: Path, db_url: str) -> None:
    for shop in _shop(tmp_path, db_url, orders=150, customers=40, loyalty={"pending_days": 14}):
        # A new customer: the generated ones may have cashback maturing any day, which would
        # make the next day's push a matter of the time the test runs at.
        customer_id = shop.store.create_customer()
        shop.store.create_order(customer_id=customer_id, status="completed")
        sync_one(shop.registry, "shop")
        now = datetime.now(UTC)
        shop.push(now)
        before = shop.meta(customer_id)
        shop.push(now + timedelta(days=1))
        assert shop.meta(customer_id) == before  # their cashback is still pending
        result = shop.push(now + timedelta(days=15))
        assert result.pushed >= 1  # nothing was appended: the pending cashback matured
        after = shop.meta(customer_id)
        assert after["spendable"] > before["spendable"] and after["balance"] == before["balance"]


def test_a_coupon_used_on_the_store_leaves_the_pushed_state(shop: Pushing) -> None:
    now = datetime.now(UTC)
    program = shop.program(now)
    rich = max(
        (s for i in range(1, 200) if (s := customer_state(shop.engine, program, i, now))),
        key=lambda s: s.spendable,
    )
    redemption = redeem(shop.engine, shop.client, program, rich.identity, 500, now)
    assert redemption.status == "issued"
    shop.push(now)
    assert [c["code"] for c in shop.meta(rich.customer_id)["coupons"]] == [redemption.code]
    shop.store.create_order(customer_id=rich.customer_id, coupon=redemption.code)
    sync_one(shop.registry, "shop")  # the order carries the code: the coupon is used
    reconcile(shop.engine, program, now)
    shop.push(now)
    assert shop.meta(rich.customer_id)["coupons"] == []


def test_the_recorded_batch_answer_of_woocommerce_8_2_2(engine: Engine) -> None:
    """WooCommerce's own answer (tests/fixtures/woocommerce/e2e/customers-batch-meta.json):
    the customer back with the meta, and an error item for an id the store does not have."""
    import json as jsonlib

    import responses

    from connector import StoreCredentials
    from tests._loyalty import Mirror
    from tests.conftest import FIXTURES

    fixture = jsonlib.loads((FIXTURES / "e2e" / "customers-batch-meta.json").read_text())
    raw = (FIXTURES / "e2e" / "raw" / "customers-batch-meta.body").read_bytes()
    mirror = Mirror(engine, "e2e")
    mirror.customer(2, "sara@shop.test", created=datetime(2026, 1, 1, tzinfo=UTC))
    mirror.customer(999999, "gone@shop.test", created=datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime(2026, 12, 5, 14, 40, tzinfo=UTC)
    program = load_program(engine, "e2e", {"starts_at": "2025-01-01T00:00:00+00:00"}, now)
    reconcile(engine, program, now)  # welcome points for both accounts
    creds = StoreCredentials("e2e", "http://127.0.0.1:8083", "ck_" + "1" * 40, "cs_" + "2" * 40)
    with responses.RequestsMock() as rsps, WooClient(creds) as client:
        rsps.add(
            responses.POST,
            fixture["request"]["url"],
            body=raw,
            status=200,
            content_type=fixture["response"]["headers"]["Content-Type"],
        )
        result = push_states(engine, client, program, now)
        sent = jsonlib.loads(rsps.calls[0].request.body)
    assert [item["id"] for item in sent["update"]] == [2, 999999]
    assert sent["update"][0]["meta_data"][0]["key"] == "bazgasht_loyalty"
    assert isinstance(sent["update"][0]["meta_data"][0]["value"], dict)
    assert result.pushed == 1 and result.requests == 1
    assert result.errors == [(999999, "woocommerce_rest_invalid_id: Invalid resource ID.")]
