"""The migrations create exactly the schema the code queries with, on every backend."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

# The packages whose tables live in the one database register them on connector's metadata.
import app  # noqa: F401
import loyalty.campaigns  # noqa: F401
from connector import metadata, orders, stores, to_units

ROOT = Path(__file__).resolve().parent.parent


def test_opening_the_database_executes_no_loyalty_or_app_code(tmp_path: Path) -> None:
    """The connector migrates the database; its migrations import none of the layers above."""
    probe = (
        "import sys; from connector import open_database; "
        f"open_database('sqlite:///{tmp_path / 'probe.db'}').dispose(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'loyalty', 'app', 'cli'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]", done.stderr


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


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    """``migrate`` reads the head revision from the files without importing Alembic."""
    from connector._db import _alembic_head, _declared_head

    assert _declared_head() == _alembic_head()
