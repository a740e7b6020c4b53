"""The mirror's change log for loyalty reconciliation (cost in proportion to the change).

* ``loyalty_changes`` (store, subject, wc_id, stamp): subject ``o`` an order, ``c`` a customer
  account. Triggers on ``orders`` and ``customers`` note every row inserted, deleted, or
  updated in a column the loyalty rules read; a note already there gets ``stamp + 1``.
  Whoever writes the mirror (the sync, the webhooks applier, a test, a hand-made UPDATE) is
  noted, and the sync's code does not change.
* PostgreSQL: statement-level triggers with transition tables (one INSERT … SELECT per
  statement, not one per row: a first sync of a million orders pays a few seconds).
  SQLite: row triggers with an upsert.
* Reconciliation deletes the notes it has seen (same stamp) when it commits. Changes made
  before this migration were never noted: every program is marked for one full
  reconciliation (its fingerprint cleared).
* Caution for later migrations: SQLite's table rebuild (``batch_alter_table`` that recreates
  ``orders`` or ``customers``) drops these triggers; recreate them with ``create_triggers``.
  Reconciliation checks that they exist and compares the whole mirror when they do not.

Revision ID: 0008_ledger
Revises: 0007
Create Date: 2026-12-05 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ledger"
down_revision = "0007"
branch_labels = None
depends_on = None

#: The columns of each mirror table that the loyalty rules read.
WATCHED = {
    "orders": (
        "o",
        (
            "store_id", "wc_id", "status", "created_at", "completed_at", "paid_at", "total",
            "refunded_total", "shipping_total", "total_tax", "customer_id", "billing_email",
            "deleted_at",
        ),
    ),
    "customers": ("c", ("store_id", "wc_id", "email", "role", "created_at", "deleted_at")),
}  # fmt: skip
#: Trigger names, also what reconciliation checks for.
TRIGGERS = tuple(
    f"loyalty_changes_{table}_{event}"
    for table in WATCHED
    for event in ("insert", "update", "delete")
)
_NOTE = (
    "INSERT INTO loyalty_changes (store_id, subject, wc_id, stamp) {rows} "
    "ON CONFLICT (store_id, subject, wc_id) DO UPDATE SET stamp = loyalty_changes.stamp + 1"
)


def create_triggers(dialect: str) -> None:
    for table, (subject, columns) in WATCHED.items():
        changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns)
        if dialect == "postgresql":
            bodies = {
                "insert": ("REFERENCING NEW TABLE AS n", "SELECT n.store_id, '{s}', n.wc_id, 1 "
                           "FROM n"),
                "delete": ("REFERENCING OLD TABLE AS o", "SELECT o.store_id, '{s}', o.wc_id, 1 "
                           "FROM o"),
                "update": (
                    "REFERENCING OLD TABLE AS o NEW TABLE AS n",
                    "SELECT n.store_id, '{s}', n.wc_id, 1 FROM n JOIN o "
                    f"ON o.store_id = n.store_id AND o.wc_id = n.wc_id WHERE {changed}",
                ),
            }  # fmt: skip
            for event, (referencing, rows) in bodies.items():
                name = f"loyalty_changes_{table}_{event}"
                note = _NOTE.format(rows=rows.format(s=subject))
                op.execute(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN {note}; RETURN NULL; END $$"
                )
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {referencing} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
                )
        else:
            differs = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
            for event, row, when in (
                ("insert", "NEW", ""),
                ("delete", "OLD", ""),
                ("update", "NEW", f"WHEN {differs} "),
            ):
                note = _NOTE.format(rows=f"VALUES ({row}.store_id, '{subject}', {row}.wc_id, 1)")
                op.execute(
                    f"CREATE TRIGGER loyalty_changes_{table}_{event} AFTER {event.upper()} "
                    f"ON {table} FOR EACH ROW {when}BEGIN {note}; END"
                )


def drop_triggers(dialect: str) -> None:
    for table in WATCHED:
        for event in ("insert", "update", "delete"):
            name = f"loyalty_changes_{table}_{event}"
            if dialect == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "loyalty_changes",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subject", sa.String(length=1), nullable=False),
        sa.Column("wc_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "subject", "wc_id", name=op.f("pk_loyalty_changes")),
    )
    create_triggers(op.get_context().dialect.name)
    op.execute("UPDATE loyalty_programs SET fingerprint = NULL")


def downgrade() -> None:
    drop_triggers(op.get_context().dialect.name)
    op.drop_table("loyalty_changes")
