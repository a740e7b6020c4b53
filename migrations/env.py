"""Alembic environment: run on the connection ``connector._db.migrate`` hands over."""

from __future__ import annotations

from alembic import context

import app._schema  # noqa: F401  # registers the application's tables too
import loyalty._schema  # noqa: F401  # registers the loyalty tables on the same metadata
from connector._schema import metadata
from loyalty.analytics import _schema as _analytics_tables  # noqa: F401  # and these
from loyalty.campaigns import _schema as _campaign_tables  # noqa: F401  # registers them too

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `migrate()` runs migrations
    raise RuntimeError("run migrations through connector.open_database()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
