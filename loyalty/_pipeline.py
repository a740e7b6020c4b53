"""A big first run's rules in a second process: one computes, the other writes.

A direct first run (``Planner.direct``: an empty ledger, locked by this run's transaction)
spends about as long in Python — the rules and the hash chain over a million orders — as
the database spends taking in the 1.85 M entries, and in one process the two take turns
(pysqlite holds the GIL between rows, so a thread cannot overlap them either). A child
process (a fresh interpreter: SQLite must not cross a ``fork``) opens its own connection,
loads the accounts, streams the orders sorted by identity through the same rules and
``first_entries``, and sends the ledger rows in frames (``marshal``) on its standard
output; the parent writes each frame as it comes (SQLite ``executemany``; PostgreSQL one
``COPY``), on the other core.

Why the child reads what the parent would have read. SQLite: the parent holds the
database's write lock from the first statement of its transaction to its commit
(``reconcile._phase_one``), so no other process can commit meanwhile, and the parent itself
writes nothing the child reads (orders, accounts). PostgreSQL: the child reads the parent's
exported snapshot (``SET TRANSACTION SNAPSHOT``). Neither reads the ledger: it is empty, and
on PostgreSQL locked by the parent, which dropped its indexes. Crash safety is the
parent's: it writes every entry in its one transaction; a child that dies or sends
anything unexpected makes the parent raise, which rolls the whole run back; a parent that
dies leaves the child writing into a closed pipe, which ends it.
"""

from __future__ import annotations

import marshal
import pickle
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FRAME = struct.Struct("<Q")
#: Rows per frame.
ROWS_PER_FRAME = 5_000
#: The child's SQLite page cache, KiB (the sort of the orders spills its sorted runs to a
#: temporary file past it, which costs little: at 1 M orders 16 MiB against 128 MiB took the
#: child's peak RSS from 444 to 228 MiB at the same speed).
SORT_CACHE_KIB = 16_384

_BOOT = "import sys; sys.path[:0] = sys.argv[1:]; from loyalty._pipeline import child; child()"


@dataclass
class Job:
    """What the child needs: the database, the program, the run's instant, the chain start."""

    url: str
    program: Any
    now: datetime
    chain: tuple[int, str]
    #: PostgreSQL: the parent's exported snapshot (``pg_export_snapshot``), read through.
    snapshot: str | None = None


@dataclass
class Summary:
    """What the child counted, sent after the last rows."""

    identities: int = 0
    appended: int = 0
    keys_changed: int = 0
    points_by_kind: dict[str, int] = field(default_factory=dict)
    length: int = 0
    head: str = ""


class ChildFailed(RuntimeError):
    pass


def child() -> None:
    """The child's main: a pickled ``Job`` on standard input, frames on standard output."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from loyalty._facts import Facts, facts_stream
    from loyalty._planner import (
        ReconcileResult,
        first_entries,
        outcomes_of,
        sorted_orders,
        sorted_orders_query,
    )
    from loyalty._scratch import PG_WORK_MEM
    from loyalty.chain import Chain

    job: Job = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    program = job.program
    engine = create_engine(job.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            dialect = conn.dialect.name
            raw = conn.connection.driver_connection
            assert raw is not None
            rows: Any
            if dialect == "postgresql":
                # Exactly the rows the parent's transaction sees.
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{job.snapshot}'")
                conn.exec_driver_sql(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
                facts = Facts(conn, program, empty_ledger=True)
                compiled = sorted_orders_query(conn, program.store_id).compile(dialect=conn.dialect)
                # The driver's own server-side cursor: plain tuples.
                rows = raw.cursor(name="bz_orders")
                rows.itersize = ROWS_PER_FRAME
                rows.execute(str(compiled), compiled.construct_params())
            else:
                # The sort of the store's orders by identity (``SORT_CACHE_KIB``).
                conn.exec_driver_sql(f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
                facts = Facts(conn, program, empty_ledger=True)
                sql, params = sorted_orders(conn, program.store_id)
                cursor = raw.cursor()
                cursor.arraysize = ROWS_PER_FRAME
                rows = cursor.execute(sql, params)
            stats = ReconcileResult(program.store, "full")
            chain = Chain(program.store_id, *job.chain)
            outcomes = outcomes_of(facts, facts_stream(rows), job.now, None)
            batch: list[tuple[Any, ...]] = []
            for row in first_entries(outcomes, stats, chain, job.now, dialect, ledger=True):
                batch.append(row)
                if len(batch) >= ROWS_PER_FRAME:
                    _send(out, batch)
                    batch = []
            if batch:
                _send(out, batch)
            summary = Summary(
                stats.identities,
                stats.appended,
                stats.keys_changed,
                dict(stats.points_by_kind),
                chain.length,
                chain.head,
            )
            _send(out, ("end", pickle.dumps(summary)))
            out.flush()
            conn.rollback()
    except BrokenPipeError:
        # The parent is gone (killed, or failed and rolled back): nothing to tell.
        sys.stderr.close()
        raise SystemExit(1) from None
    finally:
        engine.dispose()


def _send(out: Any, value: Any) -> None:
    data = marshal.dumps(value)
    out.write(FRAME.pack(len(data)))
    out.write(data)


def _read_exactly(stream: Any, size: int) -> bytes:
    data: bytes | None = stream.read(size)
    if data is None or len(data) != size:
        raise ChildFailed("the rules process ended before it sent every entry")
    return data


class RulesProcess:
    """The parent's side: start the child, iterate over the rows it sends, then ``summary``."""

    def __init__(self, job: Job) -> None:
        self.summary: Summary | None = None
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, *sys.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdin is not None
        self._proc.stdin.write(pickle.dumps(job))
        self._proc.stdin.close()

    def rows(self) -> Iterator[tuple[Any, ...]]:
        stdout = self._proc.stdout
        assert stdout is not None
        while True:
            (size,) = FRAME.unpack(_read_exactly(stdout, FRAME.size))
            frame = marshal.loads(_read_exactly(stdout, size))
            if isinstance(frame, tuple) and frame and frame[0] == "end":
                summary = pickle.loads(frame[1])
                if not isinstance(summary, Summary):
                    raise ChildFailed("the rules process sent an unexpected summary")
                self.summary = summary
                break
            yield from frame
        if self._proc.wait() != 0:
            raise ChildFailed(f"the rules process failed (exit status {self._proc.returncode})")

    def close(self) -> None:
        """Stop the child if it still runs (the parent failed)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


__all__ = ["ChildFailed", "Job", "RulesProcess", "Summary", "child"]
