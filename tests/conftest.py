"""Shared fixtures.

The suite runs on SQLite by default. Set ``BAZGASHT_TEST_POSTGRES`` to a PostgreSQL server URL
(e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) to run the same tests on PostgreSQL:
every test then gets a database of its own, cloned from a migrated template and dropped after.
If that server cannot be reached the run fails at once; it never falls back to SQLite.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from connector import open_database
from connector._db import normalize_url

#: Real WooCommerce responses and webhook deliveries, copied into the repository from the
#: shared recordings (see tests/fixtures/woocommerce/README.md): a clone needs nothing beside it.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "woocommerce"
PG_SERVER = os.environ.get("BAZGASHT_TEST_POSTGRES", "").strip()


def pytest_report_header() -> str:
    return f"bazgasht database backend: {'postgresql' if PG_SERVER else 'sqlite'}"


def _pg_admin() -> Engine:
    return create_engine(normalize_url(PG_SERVER), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_SERVER:
        admin = _pg_admin()
        name = f"bazgasht_tpl_{uuid.uuid4().hex[:10]}"
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # fail loudly: a PG run must not silently test nothing
            pytest.exit(f"BAZGASHT_TEST_POSTGRES is set but PostgreSQL is unusable: {exc}", 3)
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        open_database(url).dispose()
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        open_database(f"sqlite:///{path}").dispose()
        yield str(path)


@pytest.fixture
def db_url(_db_template: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, migrated, empty database for this test alone."""
    if PG_SERVER:
        admin = _pg_admin()
        name = f"bazgasht_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_db_template}"'))
        yield PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "bazgasht.sqlite"
        shutil.copyfile(_db_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()
