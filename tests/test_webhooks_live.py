"""End to end over real HTTP on loopback: the sample store (a WooCommerce that delivers
webhooks as 8.2.2 does) → a real uvicorn running ``bazgasht serve``'s application → the
inbox → the mirror, the ledger and the pushed meta. With ``webhooks install`` and
``webhooks status`` through the CLI, WooCommerce disabling a failing webhook, and a cron
sync of the same store running at the same time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from app import Registry, StoreConfig, sync_one
from app._schema import webhook_deliveries
from cli.main import run
from connector import LockHeld, store_lock
from connector._schema import orders
from loyalty._schema import loyalty_ledger
from samplestore import SampleStore
from tests._server import (
    STOREFRONT_SECRET,
    LiveServer,
    live_server,
    registry_of,
    wait_for,
    write_server_config,
)

ORDERS_LIST = "/wp-json/wc/v3/orders"


@dataclass
class Live:
    store: SampleStore
    config: Path
    registry: Registry
    engine: Engine

    def cli(self, *args: str) -> int:
        return run(["--config", str(self.config), *args])

    def points(self, order_id: int) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.coalesce(func.sum(loyalty_ledger.c.points), 0)).where(
                    loyalty_ledger.c.key == f"cashback:shop:{order_id}"
                )
            ).scalar_one()
        return int(found)

    def mirrored(self, order_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(orders).where(orders.c.wc_id == order_id)).mappings().first()
        return None if row is None else dict(row)

    def meta(self, customer_id: int) -> Any:
        with self.registry.client("shop") as client:
            body = client.get(f"customers/{customer_id}")
        found = [m["value"] for m in body["meta_data"] if m["key"] == "bazgasht_loyalty"]
        return found[0] if found else None

    def inbox(self) -> dict[str, int]:
        w = webhook_deliveries
        with self.registry.inbox().connect() as conn:
            return dict(
                conn.execute(select(w.c.status, func.count()).group_by(w.c.status)).all()  # type: ignore[arg-type]
            )


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    with SampleStore(orders=150, customers=40, seed=11) as store:
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
        yield Live(store, config, registry, registry.engine())
        registry.close()


def _install(live: Live, server: LiveServer) -> None:
    assert live.cli("webhooks", "install", "--store", "shop", "--url", server.url) == 0
    assert live.store.webhooks is not None
    hooks = live.store.webhooks.hooks.values()
    assert sorted(h.topic for h in hooks) == sorted(
        ["order.created", "order.updated", "order.deleted", "order.restored",
         "customer.created", "customer.updated"]
    )  # fmt: skip
    pings = [e for e in live.store.webhooks.log if e.topic == "ping"]
    assert len(pings) == 6 and all(e.status == 200 for e in pings)
    assert not any(h.pending_delivery for h in hooks)


def test_an_order_completed_on_the_store_earns_points_and_shows_in_the_meta(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    with live_server(registry_of(live.config)) as server:
        _install(live, server)
        assert live.cli("webhooks", "status", "--store", "shop") == 0
        customer_id = next(c.id for c in live.store.data.customers(role="customer"))
        order_id = live.store.create_order(customer_id=customer_id)
        wait_for(lambda: live.mirrored(order_id))
        assert live.points(order_id) == 0  # processing: nothing earned yet
        live.store.modify_order(order_id, status="completed")
        wait_for(lambda: live.points(order_id) > 0)
        expected = int(live.store.data.order(order_id).total * 2)  # 2 % at 0.01 a point
        assert live.points(order_id) == expected
        wait_for(lambda: (live.meta(customer_id) or {}).get("balance", 0) >= expected)
        live.store.modify_order(order_id, refund=live.store.data.order(order_id).total)
        wait_for(lambda: live.points(order_id) == 0)  # refunded: taken back
        assert live.store.wait_for_webhooks()
        wait_for(lambda: set(live.inbox()) <= {"applied", "skipped"})
    # The same run again changes nothing: a full sync finds the mirror as the webhooks left it.
    before = live.mirrored(order_id)
    assert live.cli("sync", "--store", "shop", "--full", "--quiet") == 0
    after = live.mirrored(order_id)
    assert before is not None and after is not None
    assert {k: v for k, v in before.items() if k != "seen_scan"} == {
        k: v for k, v in after.items() if k != "seen_scan"
    }
    capsys.readouterr()


def test_a_webhook_woocommerce_disabled_is_shown_and_reactivated(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    with live_server(registry_of(live.config)) as server:
        _install(live, server)
    # The server is gone: every delivery fails; the 7th failure in a row disables the webhook.
    order_id = next(o.id for o in live.store.data.orders() if o.status == "processing")
    for _ in range(7):
        live.store.modify_order(order_id, customer_note="changed while Bazgasht was down")
        assert live.store.wait_for_webhooks()
    hooks = {h.topic: h for h in live.store.webhooks.hooks.values()}  # type: ignore[union-attr]
    assert hooks["order.updated"].status == "disabled"
    capsys.readouterr()
    assert live.cli("webhooks", "status", "--store", "shop") == 1
    shown = capsys.readouterr()
    assert "disabled" in shown.out and "--reactivate" in shown.err
    assert live.cli("webhooks", "status", "--store", "shop", "--reactivate") == 0
    assert hooks["order.updated"].status == "active"
    assert "reactivated" in capsys.readouterr().out
    # What the webhooks missed, the cron sync sweeps up.
    live.store.modify_order(order_id, status="completed")  # fails again: the server is down
    assert live.store.wait_for_webhooks()
    assert live.cli("sync", "--store", "shop", "--quiet") == 0
    assert live.points(order_id) > 0


def test_a_delivery_during_a_sync_of_the_same_store_waits_for_it(live: Live) -> None:
    """The sync holds the store's lock while it pages; a delivery that arrives meanwhile is
    acknowledged at once, applied when the sync is done, and neither overwrites the other
    with an older state: the mirror ends equal to the store."""
    proceed = threading.Event()
    paging = threading.Event()

    listings: list[str] = []

    def hold_page_two(path: str, query: dict[str, str]) -> None:
        if path == ORDERS_LIST and "include" not in query:
            listings.append(path)
            if len(listings) == 2:  # the sync's second page of orders
                paging.set()
                proceed.wait(30)

    with live_server(registry_of(live.config)) as server:
        _install(live, server)
        target = next(o.id for o in live.store.data.orders() if o.status == "processing")
        live.store.on_request = hold_page_two
        errors: list[BaseException] = []

        def sync() -> None:
            registry = registry_of(live.config)
            try:
                sync_one(registry, "shop", full=True, concurrency=1)
            except BaseException as exc:
                errors.append(exc)
            finally:
                registry.close()

        thread = threading.Thread(target=sync)
        thread.start()
        assert paging.wait(30)
        live.store.modify_order(target, status="completed")
        assert live.store.wait_for_webhooks()
        log = [e for e in live.store.webhooks.log if e.topic == "order.updated"]  # type: ignore[union-attr]
        assert log and log[-1].status == 200  # acknowledged while the sync runs
        wait_for(lambda: live.inbox().get("pending", 0) >= 1)
        # …and a second run of the same store would be refused.
        with pytest.raises(LockHeld), store_lock(live.engine, "shop"):
            pass
        proceed.set()
        thread.join(60)
        assert not errors
        live.store.on_request = None
        wait_for(lambda: live.inbox().get("pending", 0) == 0)
        wait_for(lambda: live.points(target) > 0)
    with live.engine.connect() as conn:
        mirror = {
            r.wc_id: (r.status, r.modified_at, r.refunded_total)
            for r in conn.execute(select(orders).where(orders.c.deleted_at.is_(None)))
        }
    store = {o.id: (o.status, o.modified, o.refunded) for o in live.store.data.orders()}
    assert mirror == store


def test_a_secret_saved_while_the_server_runs_is_used_without_a_restart(live: Live) -> None:
    """``webhooks install`` saves the webhook secret while the server runs (started without
    one): the pings and the first delivery find it — the server reads a changed config file
    again."""
    server_registry = registry_of(live.config)
    assert server_registry.store("shop").webhook_secret is None
    with live_server(server_registry) as server:
        _install(live, server)
        order_id = live.store.create_order(status="completed")
        wait_for(lambda: live.mirrored(order_id))
    assert server_registry.store("shop").webhook_secret is not None
