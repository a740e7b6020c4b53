"""One sync per store at a time, across processes and hosts.

PostgreSQL: a session advisory lock, held on a dedicated connection for the whole run; the
server drops it when the connection dies, so a killed run never leaves a stale lock.
SQLite: an ``flock`` on a file beside the database; the kernel drops it when the process dies.
(An SQLite database is one machine's file, so "across hosts" does not arise there.)
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select

from connector._db import lock_key, open_private, sqlite_path
from connector._errors import LockHeld


def _held(store: str) -> LockHeld:
    return LockHeld(
        f"store {store!r} is being synced by another run right now; skipped this one "
        "(it is safe to run sync from cron: the next run picks up where that one ends)."
    )


@contextmanager
def store_lock(engine: Engine, store: str, purpose: str = "sync") -> Iterator[None]:
    """Hold the store's lock for the block, or raise ``LockHeld`` at once if it is taken."""
    path = sqlite_path(engine)
    if engine.dialect.name == "postgresql":
        key = lock_key(purpose, store)
        with engine.connect() as conn:
            if not conn.execute(select(func.pg_try_advisory_lock(key))).scalar():
                raise _held(store)
            try:
                yield
            finally:
                conn.execute(select(func.pg_advisory_unlock(key)))
                conn.commit()
    elif path is not None:
        digest = hashlib.sha256(f"{purpose}\x1f{store}".encode()).hexdigest()[:16]
        lock_path = path.with_name(f"{path.name}.{purpose}-{digest}.lock")
        with open_private(lock_path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _held(store) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:  # an in-memory database belongs to one process: nothing to guard against
        yield
