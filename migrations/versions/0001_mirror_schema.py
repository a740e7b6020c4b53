"""Mirror schema: stores, customers, guests, orders and their items and coupons, sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:55:53.530243
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "stores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=True),
        sa.Column("decimals", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("wc_version", sa.String(length=32), nullable=True),
        sa.Column("supports_modified_after", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("name", name=op.f("uq_stores_name")),
    )
    op.create_table(
        "customers",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("wc_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=True),
        sa.Column("is_paying_customer", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("seen_scan", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_customers_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "wc_id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_store_id_customers_email"), ["store_id", "email"], unique=False
        )

    op.create_table(
        "guests",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=100), nullable=False),
        sa.Column("latest_order_created_at", sa.DateTime(), nullable=False),
        sa.Column("latest_order_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_guests_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "email", name=op.f("pk_guests")),
    )
    op.create_table(
        "order_coupons",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_order_coupons_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "order_id", "code", name=op.f("pk_order_coupons")),
    )
    with op.batch_alter_table("order_coupons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_coupons_store_id_order_coupons_code"),
            ["store_id", "code"],
            unique=False,
        )

    op.create_table(
        "order_line_items",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("wc_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("variation_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_order_line_items_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "order_id", "wc_id", name=op.f("pk_order_line_items")),
    )

    op.create_table(
        "orders",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("wc_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("total_tax", sa.BigInteger(), nullable=False),
        sa.Column("shipping_total", sa.BigInteger(), nullable=False),
        sa.Column("discount_total", sa.BigInteger(), nullable=False),
        sa.Column("refunded_total", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("billing_email", sa.String(length=320), nullable=False),
        sa.Column("billing_first_name", sa.String(length=200), nullable=False),
        sa.Column("billing_last_name", sa.String(length=200), nullable=False),
        sa.Column("billing_phone", sa.String(length=100), nullable=False),
        sa.Column("coupon_codes", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("seen_scan", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "wc_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_store_id_orders_billing_email"),
            ["store_id", "billing_email"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_orders_store_id_orders_created_at"),
            ["store_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_orders_store_id_orders_customer_id"),
            ["store_id", "customer_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_orders_store_id_orders_modified_at"),
            ["store_id", "modified_at"],
            unique=False,
        )

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("wc_id", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_quarantine_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint("store_id", "resource", "wc_id", name="uq_quarantine_record"),
    )
    op.create_table(
        "sync_checkpoints",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("scan_id", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("modified_after", sa.DateTime(), nullable=True),
        sa.Column("next_page", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_sync_checkpoints_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "resource", name=op.f("pk_sync_checkpoints")),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("modified_after", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_sync_cursors_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "resource", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("resumed", sa.Boolean(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_sync_runs_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_store_id_sync_runs_started_at"),
            ["store_id", "started_at"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_store_id_sync_runs_started_at"))

    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
    op.drop_table("sync_checkpoints")
    op.drop_table("quarantine")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_store_id_orders_modified_at"))
        batch_op.drop_index(batch_op.f("ix_orders_store_id_orders_customer_id"))
        batch_op.drop_index(batch_op.f("ix_orders_store_id_orders_created_at"))
        batch_op.drop_index(batch_op.f("ix_orders_store_id_orders_billing_email"))

    op.drop_table("orders")
    op.drop_table("order_line_items")
    with op.batch_alter_table("order_coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_coupons_store_id_order_coupons_code"))

    op.drop_table("order_coupons")
    op.drop_table("guests")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_store_id_customers_email"))

    op.drop_table("customers")
    op.drop_table("stores")
