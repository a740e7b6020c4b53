"""Ledger tamper evidence (a hash chain per store) and the per-currency program defaults.

* ``loyalty_ledger.chain_seq`` / ``chain_hash``: each entry's position in its store's chain
  and SHA-256 of its content chained to the previous position (``loyalty.chain``). Existing
  entries are chained here, in id order (the order they were written), per store; a UNIQUE
  index on ``(store_id, chain_seq)`` keeps the chain from forking.
* ``loyalty_ledger_heads``: per store, the chain's length and last hash.
* ``loyalty_programs.defaults``: the per-currency default amounts a program was created with.
  Programs that exist already were created with the amounts of the time — 100 / 200 / 500
  whatever the currency — and keep them (so upgrading changes no ledger's desired points).
* SQLite: a trigger refuses an ``INSERT`` that would replace an entry (``INSERT OR REPLACE``
  deletes the old row without firing the DELETE trigger). The UPDATE / DELETE triggers of
  0002 are recreated (SQLite's table rebuild drops them).

Revision ID: 0005
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The amounts every program had before per-currency defaults (SPEC §4's table).
LEGACY_DEFAULTS = json.dumps(
    {"min_redeem_points": 500, "second_purchase_points": 200, "welcome_points": 100},
    sort_keys=True,
)
GENESIS = "0" * 64
BATCH = 5_000

_CONTENT = (
    "key", "seq", "identity", "points", "kind", "reason", "order_id", "redemption_id",
    "coupon_code", "effective_at", "created_at",
)  # fmt: skip
_SQLITE_TRIGGERS = {
    "loyalty_ledger_no_update": "BEFORE UPDATE ON loyalty_ledger BEGIN SELECT RAISE(ABORT, "
    "'loyalty_ledger is append-only: UPDATE refused (append a correcting entry)'); END",
    "loyalty_ledger_no_delete": "BEFORE DELETE ON loyalty_ledger BEGIN SELECT RAISE(ABORT, "
    "'loyalty_ledger is append-only: DELETE refused (append a correcting entry)'); END",
    # INSERT OR REPLACE would delete the entry it collides with, without the DELETE trigger.
    "loyalty_ledger_no_replace": "BEFORE INSERT ON loyalty_ledger WHEN "
    "EXISTS (SELECT 1 FROM loyalty_ledger WHERE id = NEW.id) "
    "OR EXISTS (SELECT 1 FROM loyalty_ledger WHERE store_id = NEW.store_id "
    "AND key = NEW.key AND seq = NEW.seq) "
    "OR EXISTS (SELECT 1 FROM loyalty_ledger WHERE store_id = NEW.store_id "
    "AND chain_seq = NEW.chain_seq) "
    "BEGIN SELECT RAISE(ABORT, 'loyalty_ledger is append-only: an INSERT may not replace "
    "an entry'); END",
}


def _instant(value: Any) -> str:
    """As ``loyalty.chain._instant``: aware UTC with microseconds (naive values are UTC)."""
    if isinstance(value, str):  # pragma: no cover - a driver that did not parse it
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return str(value.isoformat(timespec="microseconds"))


def _text(value: str | None) -> str:
    return "-" if value is None else f"{len(value)}:{value}"


def _number(value: Any) -> str:
    return "-" if value is None else str(int(value))


def _entry_hash(previous: str, store_id: int, chain_seq: int, row: Any) -> str:
    """``loyalty.chain.entry_hash``, frozen here as of this revision (a test holds the two to
    each other: a migrated ledger verifies)."""
    content = "|".join(
        [
            str(store_id),
            str(chain_seq),
            _text(row.key),
            str(int(row.seq)),
            _text(row.identity),
            str(int(row.points)),
            _text(row.kind),
            _text(row.reason),
            _number(row.order_id),
            _number(row.redemption_id),
            _text(row.coupon_code),
            _instant(row.effective_at),
            _instant(row.created_at),
        ]
    )
    data = f"{previous}\n{content}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _ledger() -> sa.TableClause:
    """The ledger's columns before this revision (instants typed, so SQLite's text comes back
    parsed)."""
    instants = {"effective_at", "created_at"}
    return sa.table(
        "loyalty_ledger",
        *(
            sa.column(name, sa.DateTime()) if name in instants else sa.column(name)
            for name in ("id", "store_id", *_CONTENT)
        ),
    )


def _backfill(conn: sa.Connection) -> None:
    """Chain every store's existing entries in id order; record each store's head."""
    led = _ledger()
    scratch = sa.table(
        "bz_chain_backfill",
        sa.column("id", sa.Integer()),
        sa.column("chain_seq", sa.BigInteger()),
        sa.column("chain_hash", sa.String()),
    )
    conn.execute(
        sa.text(
            "CREATE TEMPORARY TABLE bz_chain_backfill "
            "(id INTEGER PRIMARY KEY, chain_seq BIGINT NOT NULL, chain_hash VARCHAR(64) NOT NULL)"
        )
    )
    heads: list[dict[str, Any]] = []
    store_ids = [r[0] for r in conn.execute(sa.select(led.c.store_id).distinct())]
    now = datetime.now(UTC).replace(tzinfo=None)
    for store_id in sorted(store_ids):
        position, head, batch = 0, GENESIS, []
        rows = conn.execute(
            sa.select(led.c.id, *(led.c[c] for c in _CONTENT))
            .where(led.c.store_id == store_id)
            .order_by(led.c.id),
            execution_options={"yield_per": BATCH},
        )
        for row in rows:
            position += 1
            head = _entry_hash(head, store_id, position, row)
            batch.append({"id": row.id, "chain_seq": position, "chain_hash": head})
            if len(batch) >= BATCH:
                conn.execute(sa.insert(scratch), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(scratch), batch)
        heads.append({"store_id": store_id, "length": position, "head": head, "updated_at": now})
    for column in ("chain_seq", "chain_hash"):
        conn.execute(
            sa.text(
                f"UPDATE loyalty_ledger SET {column} = (SELECT b.{column} "
                "FROM bz_chain_backfill AS b WHERE b.id = loyalty_ledger.id)"
            )
        )
    conn.execute(sa.text("DROP TABLE bz_chain_backfill"))
    if heads:
        op.bulk_insert(_heads_table(), heads)


def _heads_table() -> sa.TableClause:
    return sa.table(
        "loyalty_ledger_heads",
        sa.column("store_id", sa.Integer()),
        sa.column("length", sa.BigInteger()),
        sa.column("head", sa.String()),
        sa.column("updated_at", sa.DateTime()),
    )


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    op.create_table(
        "loyalty_ledger_heads",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_loyalty_ledger_heads_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_loyalty_ledger_heads")),
    )
    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("defaults", sa.Text(), nullable=True))
    op.execute(
        sa.text("UPDATE loyalty_programs SET defaults = :legacy").bindparams(legacy=LEGACY_DEFAULTS)
    )

    # The append-only triggers refuse the backfill's UPDATE: off for its duration.
    if postgres:
        op.execute("ALTER TABLE loyalty_ledger DISABLE TRIGGER loyalty_ledger_no_change")
    else:
        for name in ("loyalty_ledger_no_update", "loyalty_ledger_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    _backfill(conn)
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.alter_column("chain_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("chain_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("uq_loyalty_ledger_chain", ["store_id", "chain_seq"], unique=True)
    if postgres:
        op.execute("ALTER TABLE loyalty_ledger ENABLE TRIGGER loyalty_ledger_no_change")
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    if not postgres:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.drop_index("uq_loyalty_ledger_chain")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")
    if not postgres:
        for name in ("loyalty_ledger_no_update", "loyalty_ledger_no_delete"):
            op.execute(f"CREATE TRIGGER {name} {_SQLITE_TRIGGERS[name]}")
    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        batch_op.drop_column("defaults")
    op.drop_table("loyalty_ledger_heads")
