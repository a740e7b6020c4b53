"""A campaign's percentage leaves the money column.

``campaigns.amount`` (Money: BIGINT units of 10⁻⁴) held either the fixed amount off or, for a
``percent`` campaign, the percentage — a rate in a money column, which every reader had to
tell apart by ``discount_type``. The percentage now has its own column, ``percent`` (the same
exact BIGINT units of 10⁻⁴, of percentage points), and a percent campaign's ``amount`` is 0.
``amount`` stays NOT NULL: making it nullable would rebuild the table on SQLite, which
``campaign_members`` refers to (see 0004). The units carry over as they are.

Revision ID: 0011_campaign_percent
Revises: 0010_settings
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_campaign_percent"
down_revision = "0010_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("percent", sa.BigInteger(), nullable=True))
    op.execute("UPDATE campaigns SET percent = amount, amount = 0 WHERE discount_type = 'percent'")


def downgrade() -> None:
    op.execute("UPDATE campaigns SET amount = percent WHERE discount_type = 'percent'")
    # Native on PostgreSQL and SQLite ≥ 3.35; a batch rebuild would copy a referenced table.
    op.execute("ALTER TABLE campaigns DROP COLUMN percent")
