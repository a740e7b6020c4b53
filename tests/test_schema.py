"""The migrations create exactly the schema the code queries with, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from connector import to_units
from connector._schema import metadata, orders, stores


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_money_and_instants_round_trip_exactly(engine: Engine) -> None:
    created = datetime(2026, 3, 20, 23, 59, 59, 999999, tzinfo=UTC)
    with engine.begin() as conn:
        store_id = conn.execute(
            insert(stores).values(name="s", url="http://x", created_at=created)
        ).inserted_primary_key[0]
        amounts = dict(
            total=Decimal("32.68"),
            total_tax=Decimal("0.0001"),
            shipping_total=Decimal("935000"),
            discount_total=Decimal("0"),
            refunded_total=Decimal("3.49"),
        )
        conn.execute(
            insert(orders).values(
                store_id=store_id,
                wc_id=1,
                number="1",
                status="completed",
                currency="USD",
                created_at=created,
                modified_at=created,
                customer_id=0,
                billing_email="",
                billing_first_name="",
                billing_last_name="",
                billing_phone="",
                coupon_codes="",
                **amounts,
            )
        )
        row = conn.execute(select(orders)).mappings().one()
    assert row["created_at"] == created
    for key, value in amounts.items():
        assert row[key] == value


def test_money_refuses_to_round_silently() -> None:
    with pytest.raises(ValueError):
        to_units(Decimal("0.00001"))
