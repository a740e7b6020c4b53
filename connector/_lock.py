"""One sync per store at a time, across processes and hosts.

PostgreSQL: a session advisory lock, held on a dedicated connection for the whole run; the
server drops it when the connection dies, so a killed run never leaves a stale lock.
SQLite: an ``flock`` on a file beside the database; the kernel drops it when the process dies.
(An SQLite database is one machine's file, so "across hosts" does not arise there.)

The holder says who it is — ``host (pid N)`` — so a run that finds a store busy can say on
which host: PostgreSQL keeps it as the lock connection's ``application_name`` (visible with
the lock in ``pg_locks`` / ``pg_stat_activity``), SQLite in the lock file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from connector._db import lock_key, open_private, sqlite_path
from connector._errors import LockHeld

#: Names this machine in sync runs, locks and the settings' history instead of its host
#: name (containers get random ones).
ENV_HOST_NAME = "BAZGASHT_HOST_NAME"
#: Prefix of the lock connection's ``application_name`` (PostgreSQL).
_APP_NAME = "bazgasht "


def host_name(environ: Mapping[str, str] | None = None) -> str:
    """This machine as Bazgasht's records name it: ``BAZGASHT_HOST_NAME``, else its host name."""
    env = os.environ if environ is None else environ
    found = env.get(ENV_HOST_NAME) or os.environ.get(ENV_HOST_NAME) or socket.gethostname()
    return found[:200]


def lock_holder() -> str:
    """Who holds a lock taken by this process: ``host (pid N)``."""
    return f"{host_name()} (pid {os.getpid()})"


def _held(store: str, purpose: str, holder: str | None) -> LockHeld:
    where = f" on {holder}" if holder else ""
    return LockHeld(
        f"store {store!r} is being synced by another run{where} right now; skipped this one "
        "(it is safe to run sync from cron: the next run picks up where that one ends).",
        holder=holder,
    )


def _pg_holder(conn: Connection, key: int) -> str | None:
    """The ``application_name`` of the session holding advisory lock ``key``."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    found = conn.execute(
        text(
            "SELECT a.application_name FROM pg_locks AS l "
            "JOIN pg_stat_activity AS a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid::bigint = :high AND l.objid::bigint = :low LIMIT 1"
        ),
        {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
    ).scalar()
    name = str(found or "")
    return name.removeprefix(_APP_NAME) or None if name.startswith(_APP_NAME) else None


@contextmanager
def store_lock(engine: Engine, store: str, purpose: str = "sync") -> Iterator[None]:
    """Hold the store's lock for the block, or raise ``LockHeld`` at once if it is taken
    (its ``holder`` says by whom, when that can be known)."""
    path = sqlite_path(engine)
    if engine.dialect.name == "postgresql":
        key = lock_key(purpose, store)
        with engine.connect() as conn:
            conn.execute(
                select(func.set_config("application_name", _APP_NAME + lock_holder(), False))
            )
            try:
                if not conn.execute(select(func.pg_try_advisory_lock(key))).scalar():
                    raise _held(store, purpose, _pg_holder(conn, key))
                try:
                    yield
                finally:
                    conn.execute(select(func.pg_advisory_unlock(key)))
            finally:
                with suppress(DBAPIError):  # a dead connection: the server forgot it anyway
                    conn.execute(text("RESET application_name"))
                    conn.commit()
    elif path is not None:
        digest = hashlib.sha256(f"{purpose}\x1f{store}".encode()).hexdigest()[:16]
        lock_path = path.with_name(f"{path.name}.{purpose}-{digest}.lock")
        with open_private(lock_path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                raise _held(store, purpose, handle.read(300).strip() or None) from None
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(lock_holder())
                handle.flush()
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:  # an in-memory database belongs to one process: nothing to guard against
        yield
