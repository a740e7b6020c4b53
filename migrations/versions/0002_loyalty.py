"""Loyalty program: the append-only ledger, redemptions, program state and rule-input facts.

On both databases a trigger refuses UPDATE and DELETE on ``loyalty_ledger`` (and, on
PostgreSQL, TRUNCATE): corrections are new entries, never edits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_KINDS = (
    "kind IN ('earn', 'reversal', 'redemption', 'redemption_release', 'expiry', 'transfer', "
    "'manual')"
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION loyalty_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'loyalty_ledger is append-only: % refused (append a correcting entry)', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "loyalty_programs",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(), nullable=True),
        sa.Column("last_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_programs_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_loyalty_programs")),
    )
    op.create_table(
        "loyalty_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=400), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("redemption_id", sa.Integer(), nullable=True),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("effective_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("points <> 0", name=op.f("ck_loyalty_ledger_points_not_zero")),
        sa.CheckConstraint(_KINDS, name=op.f("ck_loyalty_ledger_kind")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_ledger_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_ledger")),
        sa.UniqueConstraint("store_id", "key", "seq", name="uq_loyalty_ledger_key_seq"),
    )
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_loyalty_ledger_identity", ["store_id", "identity"], unique=False)
        batch_op.create_index(
            "ix_loyalty_ledger_effective", ["store_id", "effective_at"], unique=False
        )

    op.create_table(
        "loyalty_redemptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=400), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("coupon_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("used_order_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_redemptions_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_redemptions")),
        sa.UniqueConstraint("store_id", "code", name="uq_loyalty_redemptions_code"),
    )
    with op.batch_alter_table("loyalty_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_loyalty_redemptions_status", ["store_id", "status"], unique=False)

    op.create_table(
        "loyalty_order_facts",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("identity", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("refunded_total", sa.BigInteger(), nullable=False),
        sa.Column("shipping_total", sa.BigInteger(), nullable=False),
        sa.Column("total_tax", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_order_facts_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "order_id", name=op.f("pk_loyalty_order_facts")),
    )
    op.create_table(
        "loyalty_account_facts",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_account_facts_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "customer_id", name=op.f("pk_loyalty_account_facts")),
    )

    if op.get_context().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER loyalty_ledger_no_change BEFORE UPDATE OR DELETE ON loyalty_ledger "
            "FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only()"
        )
        op.execute(
            "CREATE TRIGGER loyalty_ledger_no_truncate BEFORE TRUNCATE ON loyalty_ledger "
            "FOR EACH STATEMENT EXECUTE FUNCTION loyalty_ledger_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER loyalty_ledger_no_{event.lower()} BEFORE {event} "
                "ON loyalty_ledger BEGIN SELECT RAISE(ABORT, 'loyalty_ledger is append-only: "
                f"{event} refused (append a correcting entry)'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS loyalty_ledger_no_truncate ON loyalty_ledger")
        op.execute("DROP TRIGGER IF EXISTS loyalty_ledger_no_change ON loyalty_ledger")
        op.execute("DROP FUNCTION IF EXISTS loyalty_ledger_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS loyalty_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS loyalty_ledger_no_delete")
    op.drop_table("loyalty_account_facts")
    op.drop_table("loyalty_order_facts")
    with op.batch_alter_table("loyalty_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_redemptions_status")
    op.drop_table("loyalty_redemptions")
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_ledger_effective")
        batch_op.drop_index("ix_loyalty_ledger_identity")
    op.drop_table("loyalty_ledger")
    op.drop_table("loyalty_programs")
