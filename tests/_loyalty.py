"""Helpers of the loyalty tests: a mirror filled directly (no HTTP), and ledger snapshots."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector._schema import customers, orders, stores
from loyalty._schema import loyalty_ledger
from loyalty.program import load_program
from loyalty.settings import Program

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    """An instant ``n`` days after 2025-01-01 UTC."""
    return T0 + timedelta(days=n)


class Mirror:
    """A store's mirror written straight into the tables, as a sync would leave it."""

    def __init__(
        self,
        engine: Engine,
        store: str = "shop",
        *,
        currency: str = "USD",
        decimals: int = 2,
        timezone: str = "UTC",
    ) -> None:
        self.engine = engine
        self.store = store
        with engine.begin() as conn:
            found = conn.execute(select(stores.c.id).where(stores.c.name == store)).scalar()
            if found is None:
                found = conn.execute(  # type: ignore[index]
                    stores.insert().values(
                        name=store,
                        url="http://127.0.0.1:1",
                        currency=currency,
                        decimals=decimals,
                        timezone=timezone,
                        created_at=T0,
                    )
                ).inserted_primary_key[0]
        self.store_id = int(found)

    def _upsert(self, table: Any, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            dialect_insert = (
                postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            )
            stmt = dialect_insert(table).values(**row)
            keys = [c.name for c in table.primary_key.columns]
            stmt = stmt.on_conflict_do_update(
                index_elements=keys, set_={k: v for k, v in row.items() if k not in keys}
            )
            conn.execute(stmt)

    def customer(
        self,
        wc_id: int,
        email: str,
        created: datetime,
        *,
        role: str = "customer",
        deleted: datetime | None = None,
    ) -> None:
        self._upsert(
            customers,
            {
                "store_id": self.store_id,
                "wc_id": wc_id,
                "email": email.strip().lower(),
                "first_name": "Test",
                "last_name": f"Customer{wc_id}",
                "phone": "",
                "role": role,
                "created_at": created,
                "modified_at": created,
                "is_paying_customer": False,
                "deleted_at": deleted,
            },
        )

    def order(
        self,
        wc_id: int,
        *,
        created: datetime,
        customer: int = 0,
        email: str = "",
        status: str = "completed",
        total: str = "10.00",
        refunded: str = "0",
        shipping: str = "0",
        tax: str = "0",
        completed: datetime | None = None,
        deleted: datetime | None = None,
    ) -> None:
        self._upsert(
            orders,
            {
                "store_id": self.store_id,
                "wc_id": wc_id,
                "number": str(wc_id),
                "status": status,
                "currency": "USD",
                "created_at": created,
                "modified_at": created,
                "paid_at": None,
                "completed_at": completed
                if completed is not None
                else (created if status == "completed" else None),
                "total": Decimal(total),
                "total_tax": Decimal(tax),
                "shipping_total": Decimal(shipping),
                "discount_total": Decimal(0),
                "refunded_total": Decimal(refunded),
                "customer_id": customer,
                "billing_email": email.strip().lower(),
                "billing_first_name": "",
                "billing_last_name": "",
                "billing_phone": "",
                "coupon_codes": "",
                "deleted_at": deleted,
            },
        )

    def change_order(self, wc_id: int, modified: datetime | None = None, **values: Any) -> None:
        with self.engine.begin() as conn:
            if modified is not None:
                values["modified_at"] = modified
            for money in ("refunded_total", "total", "shipping_total", "total_tax"):
                if money in values:
                    values[money] = Decimal(values[money])
            conn.execute(
                update(orders)
                .where(orders.c.store_id == self.store_id, orders.c.wc_id == wc_id)
                .values(**values)
            )

    def program(self, now: datetime, **settings: Any) -> Program:
        settings.setdefault("starts_at", "2000-01-01T00:00:00Z")
        return load_program(self.engine, self.store, settings, now)


def holdings(engine: Engine, store_id: int) -> dict[tuple[str, str], int]:
    """(key, identity) → points held, non-zero only: the ledger's meaning, not its history."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                loyalty_ledger.c.key, loyalty_ledger.c.identity, func.sum(loyalty_ledger.c.points)
            )
            .where(loyalty_ledger.c.store_id == store_id)
            .group_by(loyalty_ledger.c.key, loyalty_ledger.c.identity)
        ).all()
    return {(k, i): int(p) for k, i, p in rows if p}


def balances(engine: Engine, store_id: int) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for (_key, identity), points in holdings(engine, store_id).items():
        out[identity] += points
    return {i: p for i, p in out.items() if p}


def entry_count(engine: Engine, store_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(loyalty_ledger.c.store_id == store_id)
            ).scalar_one()
        )
