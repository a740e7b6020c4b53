"""The analytics' counted orders, kept between runs, and the change log that keeps them exact.

* ``analytics_orders``: one row per counted order of a store (identity, creation time,
  revenue split in two, the identity's previous and next counted order), with three covering
  indexes; ``ident`` compares byte-wise (``COLLATE "C"``) on PostgreSQL.
* ``analytics_changes``: written by triggers on ``orders`` (any change to a column the
  identity, the counting or the revenue depends on) and ``customers`` (e-mail, role,
  deletion: which account claims which guest orders), only for stores whose facts are built
  (``analytics_state``), so a first sync of a new store logs nothing.
* ``analytics_state``: per store, the facts are built (and for which statuses).

A later migration that rebuilds ``orders`` or ``customers`` (SQLite batch mode copies the
table) must create these triggers again; without them the kept facts would go stale.

Revision ID: 0009_metrics
Revises: 0008_ledger
Create Date: 2026-12-05 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_metrics"
down_revision = "0008_ledger"
branch_labels = None
depends_on = None

_ORDER_COLUMNS = (
    "store_id",
    "wc_id",
    "status",
    "created_at",
    "total",
    "refunded_total",
    "customer_id",
    "billing_email",
    "deleted_at",
)
_CUSTOMER_COLUMNS = ("store_id", "wc_id", "email", "role", "deleted_at")


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def _built(row: str) -> str:
    return f"EXISTS (SELECT 1 FROM analytics_state s WHERE s.store_id = {row}.store_id)"


_PG_FUNCTIONS = f"""
CREATE FUNCTION analytics_log_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND {_built("OLD")} THEN
    INSERT INTO analytics_changes (store_id, order_id) VALUES (OLD.store_id, OLD.wc_id);
  END IF;
  IF TG_OP <> 'DELETE' AND {_built("NEW")} THEN
    INSERT INTO analytics_changes (store_id, order_id) VALUES (NEW.store_id, NEW.wc_id);
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION analytics_log_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND {_built("OLD")} THEN
    INSERT INTO analytics_changes (store_id, email) VALUES (OLD.store_id, OLD.email);
  END IF;
  IF TG_OP <> 'DELETE' AND {_built("NEW")} THEN
    INSERT INTO analytics_changes (store_id, email) VALUES (NEW.store_id, NEW.email);
  END IF;
  RETURN NULL;
END $$;
"""

_TRIGGERS = (
    # name, table, event, logged column, columns that matter
    ("analytics_orders_insert", "orders", "INSERT", "wc_id", _ORDER_COLUMNS),
    ("analytics_orders_update", "orders", "UPDATE", "wc_id", _ORDER_COLUMNS),
    ("analytics_orders_delete", "orders", "DELETE", "wc_id", _ORDER_COLUMNS),
    ("analytics_customers_insert", "customers", "INSERT", "email", _CUSTOMER_COLUMNS),
    ("analytics_customers_update", "customers", "UPDATE", "email", _CUSTOMER_COLUMNS),
    ("analytics_customers_delete", "customers", "DELETE", "email", _CUSTOMER_COLUMNS),
)


def _sqlite_trigger(name: str, table: str, event: str, logged: str, cols: tuple[str, ...]) -> str:
    target = "order_id" if logged == "wc_id" else "email"
    rows = {"INSERT": ("NEW",), "DELETE": ("OLD",), "UPDATE": ("OLD", "NEW")}[event]
    when = " OR ".join(_built(row) for row in rows)
    if event == "UPDATE":
        when = f"({_changed(cols, 'IS NOT')}) AND ({when})"
    body = " ".join(
        f"INSERT INTO analytics_changes (store_id, {target}) "
        f"SELECT {row}.store_id, {row}.{logged} WHERE {_built(row)};"
        for row in rows
    )
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} WHEN {when} BEGIN {body} END"


def upgrade() -> None:
    op.create_table(
        "analytics_state",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("statuses", sa.String(length=400), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_analytics_state")),
    )
    postgres = op.get_context().dialect.name == "postgresql"
    op.create_table(
        "analytics_orders",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "ident",
            sa.String(length=400, collation="C" if postgres else None),
            nullable=False,
        ),
        sa.Column("x", sa.DateTime(), nullable=False),
        sa.Column("rev_hi", sa.BigInteger(), nullable=False),
        sa.Column("rev_lo", sa.BigInteger(), nullable=False),
        sa.Column("prev_x", sa.DateTime(), nullable=False),
        sa.Column("next_x", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "order_id", name=op.f("pk_analytics_orders")),
    )
    op.create_index(
        "ix_analytics_orders_x",
        "analytics_orders",
        ["store_id", "x", "prev_x", "next_x", "rev_hi", "rev_lo", "ident"],
    )
    op.create_index(
        "ix_analytics_orders_ident",
        "analytics_orders",
        ["store_id", "ident", "x", "rev_hi", "rev_lo"],
    )
    op.create_index("ix_analytics_orders_next", "analytics_orders", ["store_id", "next_x", "x"])
    op.create_table(
        "analytics_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_changes")),
    )
    op.create_index("ix_analytics_changes_store_id", "analytics_changes", ["store_id"])
    if postgres:
        op.execute(_PG_FUNCTIONS)
        for name, table, event, logged, cols in _TRIGGERS:
            function = "analytics_log_order" if logged == "wc_id" else "analytics_log_customer"
            when = f"WHEN ({_changed(cols, 'IS DISTINCT FROM')}) " if event == "UPDATE" else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when}"
                f"EXECUTE FUNCTION {function}()"
            )
    else:
        for trigger in _TRIGGERS:
            op.execute(_sqlite_trigger(*trigger))


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for name, table, *_ in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS analytics_log_order()")
        op.execute("DROP FUNCTION IF EXISTS analytics_log_customer()")
    op.drop_index("ix_analytics_changes_store_id", table_name="analytics_changes")
    op.drop_table("analytics_changes")
    op.drop_index("ix_analytics_orders_next", table_name="analytics_orders")
    op.drop_index("ix_analytics_orders_ident", table_name="analytics_orders")
    op.drop_index("ix_analytics_orders_x", table_name="analytics_orders")
    op.drop_table("analytics_orders")
    op.drop_table("analytics_state")
