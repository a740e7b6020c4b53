"""A campaign's percentage has its own column (migration 0011): not money in ``amount``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text

from connector import from_units, to_units
from connector._db import _alembic_config
from loyalty.campaigns import CampaignSpec, create_campaign, get_campaign, list_campaigns
from loyalty.campaigns._schema import campaigns
from tests._loyalty import Mirror

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
REVISION = "0011_campaign_percent"


def test_a_percentage_is_stored_apart_from_money(engine: Engine) -> None:
    shop = Mirror(engine)
    create_campaign(
        engine, shop.store_id, CampaignSpec("pct", "inactive:90d", "percent", Decimal("12.5")), NOW
    )
    create_campaign(
        engine,
        shop.store_id,
        CampaignSpec("off", "inactive:90d", "fixed_cart", Decimal("7.25")),
        NOW,
    )
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(campaigns))}
    assert (rows["pct"].amount, rows["pct"].percent) == (Decimal(0), Decimal("12.5"))
    assert (rows["off"].amount, rows["off"].percent) == (Decimal("7.25"), None)
    # Read back, each campaign offers what it was made with.
    assert get_campaign(engine, shop.store_id, "pct").amount == Decimal("12.5")
    offers = {c.name: (c.discount_type, c.amount) for c in list_campaigns(engine, shop.store_id)}
    assert offers == {"pct": ("percent", Decimal("12.5")), "off": ("fixed_cart", Decimal("7.25"))}


def test_the_migration_moves_existing_percentages_and_back(engine: Engine) -> None:
    cfg = _alembic_config()
    before = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, str(before))
    shop = Mirror(engine)
    with engine.begin() as conn:
        for name, kind, amount in (("pct", "percent", "12.5"), ("off", "fixed_cart", "7.25")):
            conn.execute(
                text(
                    "INSERT INTO campaigns (store_id, name, audience, discount_type, amount, "
                    "valid_days, holdout_percent, status, created_at) "
                    "VALUES (:s, :n, 'inactive:90d', :k, :a, 30, 0, 'active', :at)"
                ),
                {"s": shop.store_id, "n": name, "k": kind, "a": to_units(amount),
                 "at": "2026-12-05 12:00:00"},
            )  # fmt: skip
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    offers = {c.name: (c.discount_type, c.amount) for c in list_campaigns(engine, shop.store_id)}
    assert offers == {"pct": ("percent", Decimal("12.5")), "off": ("fixed_cart", Decimal("7.25"))}
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT name, amount FROM campaigns")).all())
    assert stored == {"pct": 0, "off": to_units("7.25")}

    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, str(before))
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT name, amount FROM campaigns")).all())
    assert {k: from_units(v) for k, v in stored.items()} == {
        "pct": Decimal("12.5"),
        "off": Decimal("7.25"),
    }
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
