"""Opening the database: engine settings per backend, and migrations applied on first use."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from connector._errors import ConfigError

log = logging.getLogger("bazgasht.connector")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: The SQLite database holds customers' e-mails, names and phones: only its owner may read it.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
#: Files SQLite keeps beside the database (write-ahead log, shared memory, rollback journal).
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
#: Key of the PostgreSQL advisory lock that serializes migrations across processes and hosts.
_MIGRATION_LOCK_KEY = 0x6261_7A67  # "bazg"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def display_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets `metrics` read while `sync` writes; busy_timeout makes writers queue, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_private(path: Path) -> IO[str]:
    """Open (create) a file beside the database for appending, readable by its owner only."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    return os.fdopen(fd, "a+")


def _tighten(path: Path, mode: int) -> bool:
    """Take group and other permissions off ``path``; True if there were any. A file of
    another user (a shared setup) cannot be changed by us: say so, and go on."""
    current = stat.S_IMODE(path.stat().st_mode)
    if not current & 0o077:
        return False
    try:
        os.chmod(path, current & mode)
    except PermissionError:
        log.warning(
            "%s can be read by other users and is not ours to change (chmod %o it as its "
            "owner): it holds customers' e-mails, names and phones",
            path,
            mode,
        )
        return False
    return True


def secure_sqlite_files(database: Path, *, own_folder: bool = False) -> list[Path]:
    """Make an SQLite database private: a missing folder is created 0700, the database file
    0600 before SQLite first opens it (SQLite gives its -wal/-shm files the database's mode).
    An existing install is tightened: the database, its sidecar and lock files lose group and
    other permissions, and so does the folder when it is Bazgasht's own (``own_folder``: the
    default data folder; a folder the owner chose, such as /srv, is left as it is).
    Returns what was tightened."""
    folder = database.parent
    tightened: list[Path] = []
    if not folder.exists():
        folder.mkdir(parents=True, mode=PRIVATE_FOLDER)
        os.chmod(folder, PRIVATE_FOLDER)  # mkdir's mode is filtered by the umask
    elif own_folder and _tighten(folder, PRIVATE_FOLDER):
        tightened.append(folder)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    files = [database, *(Path(f"{database}{s}") for s in SQLITE_SIDECARS)]
    files += sorted(folder.glob(f"{database.name}.*lock"))
    tightened += [f for f in files if f.exists() and _tighten(f, PRIVATE_FILE)]
    return tightened


def create_db_engine(url: str, *, own_folder: bool = False) -> Engine:
    """An engine for ``url`` with the settings Bazgasht relies on; does not migrate.

    An SQLite file is made private first (``secure_sqlite_files``); what had to be tightened
    is logged once — the next run finds it private already."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database URL is not valid: {display_url(url)}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            database = Path(parsed.database).expanduser()
            try:
                tightened = secure_sqlite_files(database, own_folder=own_folder)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the database {database}: {exc.strerror}. Check "
                    "`database_url` in the config (or BAZGASHT_DATABASE_URL)."
                ) from exc
            if tightened:
                log.warning(
                    "made the database private (it holds customers' e-mails, names and "
                    "phones): other users can no longer read %s",
                    ", ".join(str(p) for p in tightened),
                )
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ConfigError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///PATH or "
        "postgresql://USER@HOST/DB"
    )


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(str(database) + ".migrate.lock")
    with open_private(lock_path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _head_revision() -> str:
    """The newest revision of ``migrations/versions``, read cheaply (``_declared_head``) or,
    when the scripts say something that reading cannot follow, by Alembic itself."""
    return _declared_head(MIGRATIONS_DIR / "versions") or _alembic_head()


_REVISION_LINE = re.compile(
    r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|"[^"\n]*"|'[^'\n]*')\s*(?:\#.*)?$""",
    re.MULTILINE,
)


def _declared_head(versions: Path) -> str | None:
    """The head revision from the ``revision = "…"`` / ``down_revision = "…"`` lines of the
    migration scripts: the one revision no script names as its parent. Opening Alembic's
    ``ScriptDirectory`` imports every script (and Alembic itself), a tenth of a second or
    more at every start of every command; this reads a dozen small files. ``None`` (ask
    Alembic) when a script is unusual: no such pair of lines, a merge (a tuple of parents),
    a branch, a cycle."""
    parents: dict[str, str | None] = {}
    for script in versions.glob("*.py"):
        if script.name == "__init__.py":
            continue
        found = dict(
            (name, None if value == "None" else value[1:-1])
            for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8"))
        )
        if set(found) != {"revision", "down_revision"} or not found["revision"]:
            return None
        revision = found["revision"]
        if revision is None or revision in parents:
            return None
        parents[revision] = found["down_revision"]
    children = {parent for parent in parents.values() if parent is not None}
    heads = [revision for revision in parents if revision not in children]
    roots = [revision for revision, parent in parents.items() if parent is None]
    if len(heads) != 1 or len(roots) != 1 or not children <= set(parents):
        return None
    # One chain from the head down to the root, through every script.
    seen = 0
    at: str | None = heads[0]
    while at is not None and seen <= len(parents):
        seen, at = seen + 1, parents[at]
    return heads[0] if seen == len(parents) else None


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe from concurrent processes)."""
    if _current_revision(engine) == _head_revision():
        return
    from alembic import command  # only now: importing Alembic takes a tenth of a second

    cfg = _alembic_config()
    with _sqlite_migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str, *, own_folder: bool = False) -> Engine:
    """Create the engine and migrate; a clear ``ConfigError`` if the database is unreachable.
    ``own_folder``: the SQLite file's folder is Bazgasht's own (see ``secure_sqlite_files``)."""
    engine = create_db_engine(url, own_folder=own_folder)
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError(
            f"cannot open the database {display_url(url)}: {reason}. Check `database_url` in "
            "the config (or BAZGASHT_DATABASE_URL)."
        ) from exc
    return engine


def dialect_insert(dialect: str) -> Any:
    """The INSERT construct of ``dialect`` (its name) that knows ``ON CONFLICT``: PostgreSQL's
    or SQLite's. Imported on first use: a SQLite run never loads SQLAlchemy's PostgreSQL
    dialect (with asyncio: ~25 ms of every command's start)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return Path(os.path.abspath(database))
    return None
