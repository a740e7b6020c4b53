"""The program's settings in the database, and the host of each sync run.

* ``loyalty_settings``: the loyalty program's settings per store, one row per version
  (``loyalty.stored``). Programs that exist get no row here: the first run after the upgrade
  adopts the settings their ledger already follows (the config file's, or the defaults) —
  or, when the ledger follows neither, waits for ``bazgasht loyalty settings import``, which
  shows what importing would change before it applies (docs/loyalty.md).
* ``sync_runs.host``: the machine that ran the sync (NULL for the runs before).

Revision ID: 0010_settings
Revises: 0009_metrics
Create Date: 2026-12-05 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_settings"
down_revision = "0009_metrics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loyalty_settings",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("changed_by", sa.String(length=300), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "source IN ('default', 'toml-import', 'cli')", name=op.f("ck_loyalty_settings_source")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_settings_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "version", name=op.f("pk_loyalty_settings")),
    )
    op.add_column("sync_runs", sa.Column("host", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.drop_column("host")
    op.drop_table("loyalty_settings")
