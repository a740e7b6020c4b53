"""The companion's server: the webhook inbox, storefront nonces and pushes, request ids.

* ``webhook_deliveries``: WooCommerce deliveries, committed before they are acknowledged.
* ``storefront_nonces``: nonces of signed storefront requests (a replay is refused).
* ``storefront_pushes`` / ``storefront_push_marks``: what was last pushed to WooCommerce's
  customer meta, so only changed customers are written again.
* ``loyalty_redemptions.request_id`` with a UNIQUE index on (store, identity, request id):
  the storefront's idempotency key. A new index, not a constraint, so SQLite needs no table
  rebuild; existing redemptions keep NULL (NULLs never collide).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.BigInteger(), nullable=True),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "store", "webhook_id", "body_sha256", name="uq_webhook_deliveries_body"
        ),
    )
    op.create_index("ix_webhook_deliveries_status", "webhook_deliveries", ["status", "store", "id"])
    op.create_table(
        "storefront_nonces",
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("store", "nonce", name=op.f("pk_storefront_nonces")),
    )
    op.create_index("ix_storefront_nonces_seen", "storefront_nonces", ["seen_at"])
    op.create_table(
        "storefront_pushes",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("open_coupons", sa.Boolean(), nullable=False),
        sa.Column("recheck_at", sa.DateTime(), nullable=True),
        sa.Column("pushed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_storefront_pushes_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "customer_id", name=op.f("pk_storefront_pushes")),
    )
    op.create_index("ix_storefront_pushes_recheck", "storefront_pushes", ["store_id", "recheck_at"])
    op.create_table(
        "storefront_push_marks",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("pushed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_storefront_push_marks_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_storefront_push_marks")),
    )
    # Native ADD COLUMN and CREATE INDEX: no batch rebuild of a table others reference.
    op.add_column(
        "loyalty_redemptions", sa.Column("request_id", sa.String(length=36), nullable=True)
    )
    op.create_index(
        "uq_loyalty_redemptions_request",
        "loyalty_redemptions",
        ["store_id", "identity", "request_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_loyalty_redemptions_request", table_name="loyalty_redemptions")
    op.drop_column("loyalty_redemptions", "request_id")
    op.drop_table("storefront_push_marks")
    op.drop_index("ix_storefront_pushes_recheck", table_name="storefront_pushes")
    op.drop_table("storefront_pushes")
    op.drop_index("ix_storefront_nonces_seen", table_name="storefront_nonces")
    op.drop_table("storefront_nonces")
    op.drop_index("ix_webhook_deliveries_status", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
