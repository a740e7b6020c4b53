"""The mirror under a misbehaving store: free text as TEXT, offset checkpoints, store identity.

* Names, phones and line-item names become TEXT: a shopper may type a 201-character first
  name at checkout, and the mirror must store the real order exactly (``connector._models``
  caps free text at ``FREE_TEXT_MAX`` characters instead).
* Checkpoints remember the next *offset* and the last id read, instead of a page number, so
  a resumed scan can prove that a deletion in the meantime skipped nobody. Checkpoints of
  runs interrupted before this upgrade are dropped: the next run starts those scans again
  (always safe; it only costs requests).
* Stores remember their identity (WordPress' home address, an anchor order and its key).

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0005"
branch_labels = None
depends_on = None

#: (table, column, old width) of the free-text columns widened to TEXT.
_FREE_TEXT = (
    ("customers", "first_name", 200),
    ("customers", "last_name", 200),
    ("customers", "phone", 100),
    ("guests", "first_name", 200),
    ("guests", "last_name", 200),
    ("guests", "phone", 100),
    ("orders", "billing_first_name", 200),
    ("orders", "billing_last_name", 200),
    ("orders", "billing_phone", 100),
    ("order_line_items", "name", 400),
)


def upgrade() -> None:
    for table, column, width in _FREE_TEXT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=width), type_=sa.Text(), nullable=False
            )

    op.execute("DELETE FROM sync_checkpoints")
    with op.batch_alter_table("sync_checkpoints", schema=None) as batch_op:
        batch_op.drop_column("next_page")
        batch_op.add_column(sa.Column("next_offset", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("last_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("incomplete", sa.Text(), nullable=True))

    # Never rebuilt: on SQLite that would DROP the table every other table refers to.
    with op.batch_alter_table("stores", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("site_home", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("anchor_order_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("anchor_order_key", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("anchor_order_key")
        batch_op.drop_column("anchor_order_id")
        batch_op.drop_column("site_home")

    op.execute("DELETE FROM sync_checkpoints")
    with op.batch_alter_table("sync_checkpoints", schema=None) as batch_op:
        batch_op.drop_column("incomplete")
        batch_op.drop_column("last_id")
        batch_op.drop_column("next_offset")
        batch_op.add_column(sa.Column("next_page", sa.Integer(), nullable=False))

    # Longer values than the old widths would not fit: cut them (PostgreSQL refuses otherwise).
    for table, column, width in _FREE_TEXT:
        op.execute(sa.text(f"UPDATE {table} SET {column} = substr({column}, 1, {width})"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.Text(), type_=sa.String(length=width), nullable=False
            )
