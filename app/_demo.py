"""The demo's use cases (``bazgasht demo``): set up a store registry of its own for the sample
store, check it, and the questions the tour asks of the mirror and of a campaign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from app._config import Config, StoreConfig, save_config
from app._registry import Registry
from connector import (
    StoreFacts,
    WooClient,
    check_store,
    customers,
    guests,
    orders,
    quarantine,
    remember_facts,
)
from loyalty import DemoTour, demo_tour
from loyalty.analytics import write_report
from loyalty.analytics.queries import StoreInfo, store_info
from loyalty.campaigns import CampaignSpec, Preview, preview

DEMO_STORE = "demo"
#: The sample history is the past: let all of it earn points.
DEMO_LOYALTY: dict[str, Any] = {"starts_at": "2000-01-01T00:00:00+00:00"}


def write_demo_config(folder: Path, url: str, consumer_key: str, consumer_secret: str) -> Path:
    """A config of the demo's own in ``folder``: its SQLite database there, the sample store
    as its one store. Returns the config's path."""
    config_path = folder / "config.toml"
    save_config(
        config_path,
        Config(
            database_url=demo_database_url(folder),
            stores={
                DEMO_STORE: StoreConfig(
                    url=url,
                    consumer_key=consumer_key,
                    consumer_secret=consumer_secret,
                    loyalty=DEMO_LOYALTY,
                )
            },
        ),
    )
    return config_path


def demo_database_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'demo.sqlite'}"


def check_and_remember(registry: Registry, name: str) -> StoreFacts | None:
    """Check the store and remember what it told about itself; its facts, if it told any."""
    creds = registry.store(name).credentials(name, registry.environ)
    with WooClient(creds) as client:
        report = check_store(client)
    if report.facts is not None:
        remember_facts(registry.engine(), name, creds.url, report.facts)
    return report.facts


@dataclass(frozen=True)
class MirrorOverview:
    """What the mirror holds: orders by status (status, count, net revenue as summed), the
    registered accounts, the guests and the quarantined records."""

    by_status: list[tuple[str, int, Any]]
    accounts: int
    guests: int
    quarantined: int


def mirror_overview(engine: Engine) -> MirrorOverview:
    with engine.connect() as conn:
        by_status = conn.execute(
            select(
                orders.c.status, func.count(), func.sum(orders.c.total - orders.c.refunded_total)
            )
            .group_by(orders.c.status)
            .order_by(func.count().desc())
        ).all()
        accounts = conn.execute(select(func.count()).select_from(customers)).scalar()
        guest_count = conn.execute(select(func.count()).select_from(guests)).scalar()
        held = conn.execute(select(func.count()).select_from(quarantine)).scalar()
    return MirrorOverview(
        [(row[0], row[1], row[2]) for row in by_status],
        int(accounts or 0),
        int(guest_count or 0),
        int(held or 0),
    )


def loyalty_tour(registry: Registry, now: datetime) -> DemoTour:
    """The loyalty part of the demo: reconcile, the top balances, one redemption."""
    with registry.client(DEMO_STORE) as client:
        return demo_tour(registry.engine(), client, DEMO_STORE, DEMO_LOYALTY, now)


def demo_report(registry: Registry, store_id: int, path: Path, now: datetime) -> Path:
    """The HTML report of the demo store, written to ``path``."""
    return write_report(registry.engine(), store_id, path, now)


@dataclass(frozen=True)
class DemoCampaign:
    spec: CampaignSpec
    preview: Preview
    store: StoreInfo


def demo_campaign_preview(engine: Engine, store_id: int, now: datetime) -> DemoCampaign:
    """The dry run of a win-back campaign: 15 % off for the customers at risk."""
    spec = CampaignSpec(
        name="win-back", audience="segment:at_risk", discount_type="percent", amount=Decimal(15)
    )
    found = preview(engine, store_id, spec, now)
    with engine.connect() as conn:
        info = store_info(conn, store_id)
    return DemoCampaign(spec, found, info)
