"""Random coupon codes: drop the salts from which codes could be derived.

Coupon codes used to be a hash of a per-program (redemptions) or per-campaign salt and the
row's id, so anyone who could read the database could compute the next code before it was
issued. Codes are now random (``loyalty.codes``) and stored with their redemption or campaign
member before the coupon is created; nothing in the database derives them, so the salts go.
Rows keep the codes they already have: a pending redemption's retry still looks its stored
code up on the store.

Native ``ALTER TABLE … DROP COLUMN`` (SQLite ≥ 3.35, PostgreSQL): a batch rebuild of
``campaigns`` would drop a table that ``campaign_members`` references.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import secrets
import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

_SALTED = (("loyalty_programs", "store_id"), ("campaigns", "id"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(
            f"SQLite {sqlite3.sqlite_version} cannot drop a column; Bazgasht needs SQLite 3.35 "
            "or newer (or use PostgreSQL)."
        )
    for table, _key in _SALTED:
        op.drop_column(table, "salt")


def downgrade() -> None:
    # The old code derives new codes from a salt per row: give each row a fresh random one.
    # The column stays nullable (making it NOT NULL would need a table rebuild on SQLite);
    # the old code always writes it.
    bind = op.get_bind()
    for table, key in _SALTED:
        op.add_column(table, sa.Column("salt", sa.String(length=32), nullable=True))
        rows = sa.table(table, sa.column(key), sa.column("salt"))
        for (row_key,) in bind.execute(sa.select(rows.c[key])).all():
            bind.execute(
                sa.update(rows).where(rows.c[key] == row_key).values(salt=secrets.token_hex(16))
            )
