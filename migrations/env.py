"""Alembic environment: run on the connection ``connector._db.migrate`` hands over.

The revisions are the database's one schema (the mirror, the loyalty program, the
application's tables) written as plain Alembic operations: they import none of Bazgasht's
packages, and neither does this file. So opening the database (``connector.open_database``)
executes migration code only, never loyalty or app code. Whoever wants to compare the schema
with the code's tables (``tests/test_schema.py``) imports the packages that define them,
which register their tables on ``connector.metadata``, and passes that metadata in
``config.attributes["target_metadata"]``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `migrate()` runs migrations
    raise RuntimeError("run migrations through connector.open_database()")

context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
