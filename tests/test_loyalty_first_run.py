"""A store's first reconciliation (the fast path of an empty ledger: entries appended before
the ledger's indexes are built) writes exactly what the plain path wrote, and a kill in the
middle of it leaves the ledger as it was.

``GOLDEN`` was computed by the code before the fast path (commit 98ce685) on the same
generated store: every entry's fields and the chain's last hash (which covers every field of
every entry, ``created_at`` included). The same value on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bench.bench_loyalty import NOW, SETTINGS, STORE, build_template
from loyalty import _planner
from loyalty.program import load_program
from loyalty.reconcile import reconcile
from loyalty.verify import verify

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 3_000
#: (entries, digest of the entries, the chain's head) written by the code before.
GOLDEN = (
    5540,
    "eaf6fecc974a641cf413940a17e85657bf72c23ce6355e3eeb307030387fc41f",
    "943c86a6e4b626d157b3cab1e39baabd3a256240c43d18c8444607b9c3576d3e",
)


def ledger_digest(engine: Engine) -> tuple[int, str, str]:
    digest = hashlib.sha256()
    count = 0
    with engine.connect() as conn:
        for row in conn.execute(
            text(
                "SELECT key, seq, identity, points, kind, reason, order_id, redemption_id, "
                "coupon_code, effective_at, chain_seq, chain_hash FROM loyalty_ledger "
                "ORDER BY chain_seq"
            )
        ):
            *fields, at, chain_seq, chain_hash = row
            # (to the second: SQLite's text and PostgreSQL's datetime alike)
            second = str(at)[:19].replace("T", " ")
            digest.update(repr((*fields, second, int(chain_seq), chain_hash)).encode())
            count += 1
        head = conn.execute(text("SELECT head FROM loyalty_ledger_heads")).scalar()
    return count, digest.hexdigest(), str(head)


#: The tables a first run rebuilds the indexes (and PostgreSQL foreign keys) of.
REBUILT = ("loyalty_ledger", "loyalty_order_facts", "loyalty_account_facts")


def schema_of_ledger(engine: Engine) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    with engine.connect() as conn:
        for table in REBUILT:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(
                    text(
                        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t "
                        "ORDER BY type, name"
                    ),
                    {"t": table},
                )
            else:
                # (not the internal triggers of a foreign key: named after their oid, new
                # with the key; the key itself is compared)
                rows = conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = :t UNION ALL "
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = CAST(:t AS regclass) UNION ALL "
                        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                        "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal ORDER BY 1"
                    ),
                    {"t": table},
                )
            out.extend((table, *(str(v) for v in r)) for r in rows)
    return out


@pytest.mark.parametrize("second_process", [False, True], ids=["one process", "two processes"])
def test_a_first_run_writes_what_the_code_before_wrote(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, second_process: bool
) -> None:
    """Also with the rules in a second process (a big store's first run)."""
    if second_process:
        monkeypatch.setattr(_planner, "SECOND_PROCESS_MIN_ORDERS", 1)
        monkeypatch.setattr(_planner, "SECOND_PROCESS_DIALECTS", {"sqlite", "postgresql"})
    build_template(db_url, ORDERS)
    schema = schema_of_ledger(engine)
    program = load_program(engine, STORE, SETTINGS, NOW)
    result = reconcile(engine, program, NOW, full=True)
    assert ledger_digest(engine) == GOLDEN
    assert result.appended == GOLDEN[0]
    assert schema_of_ledger(engine) == schema  # indexes, constraints, triggers back
    assert verify(engine, program, NOW).ok
    # Nothing left to do, by either path.
    assert reconcile(engine, program, NOW).appended == 0
    assert reconcile(engine, program, NOW, full=True).appended == 0


KILLER = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from bench.bench_loyalty import NOW, SETTINGS, STORE
from connector import open_database
from loyalty import _planner
from loyalty.program import load_program
from loyalty.reconcile import reconcile

@event.listens_for(Engine, "before_cursor_execute")
def _kill(conn, cursor, statement, params, context, executemany):
    if sys.argv[2] in " ".join(statement.upper().split()):
        os.kill(os.getpid(), signal.SIGKILL)

_planner.SECOND_PROCESS_MIN_ORDERS = int(sys.argv[3])
_planner.SECOND_PROCESS_DIALECTS = {"sqlite", "postgresql"}
engine = open_database(sys.argv[1])
reconcile(engine, load_program(engine, STORE, SETTINGS, NOW), NOW, full=True)
"""


def test_a_first_run_killed_while_it_builds_the_indexes_leaves_the_ledger_as_it_was(
    db_url: str, engine: Engine
) -> None:
    build_template(db_url, ORDERS)
    program = load_program(engine, STORE, SETTINGS, NOW)
    schema = schema_of_ledger(engine)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Killed after the entries went in, as an index (PostgreSQL: also the unique constraint)
    # is built again, and as the chain's head is recorded: the kill proves that statement
    # ran. The entries go straight into the ledger, in the transaction that locked it
    # empty: SQLite is also killed in the middle of writing them. With the rules in this
    # process and in a second one (``SECOND_PROCESS_MIN_ORDERS`` 1: it then outlives the
    # killed parent only until its next write into the closed pipe).
    points = [
        ("CREATE INDEX IX_LOYALTY_LEDGER_", 1),
        ("UPDATE LOYALTY_LEDGER_HEADS", 1),
        ("UPDATE LOYALTY_LEDGER_HEADS", 10**9),
    ]
    if engine.dialect.name == "postgresql":
        points.append(("ADD CONSTRAINT", 1))
    else:
        points += [('INSERT INTO "LOYALTY_LEDGER"', 1), ('INSERT INTO "LOYALTY_LEDGER"', 10**9)]
    for point, second_process_from in points:
        done = subprocess.run(
            [sys.executable, "-c", KILLER, db_url, point, str(second_process_from)],
            env=env,
            cwd=ROOT,
            timeout=300,
        )
        assert done.returncode == -signal.SIGKILL
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM loyalty_ledger")).scalar() == 0
        assert schema_of_ledger(engine) == schema
    result = reconcile(engine, program, NOW, full=True)
    assert result.appended == GOLDEN[0]
    assert ledger_digest(engine) == GOLDEN
    assert schema_of_ledger(engine) == schema


def test_two_first_runs_cannot_both_take_the_empty_ledger(engine: Engine) -> None:
    """PostgreSQL: a first run's look at the empty ledger holds until its commit, so a second
    store's first run waits instead of also seeing it empty (both would then deadlock on
    dropping the indexes). SQLite has one writer at a time: nothing to show there."""
    from sqlalchemy.exc import OperationalError

    from loyalty._scratch import ledger_is_empty

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite writes one transaction at a time")
    with engine.connect() as first, engine.connect() as second:
        with first.begin():
            assert ledger_is_empty(first)
            with second.begin():
                second.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
                with pytest.raises(OperationalError, match="lock timeout"):
                    ledger_is_empty(second)
        with second.begin():
            assert ledger_is_empty(second)  # the first ended without appending


def test_a_first_run_whose_rules_process_fails_writes_nothing(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules in a second process: a child that dies before its last frame makes the run
    fail and roll back (the entries already written with it); the next run works."""
    from loyalty import _pipeline

    build_template(db_url, ORDERS)
    program = load_program(engine, STORE, SETTINGS, NOW)
    schema = schema_of_ledger(engine)
    monkeypatch.setattr(_planner, "SECOND_PROCESS_MIN_ORDERS", 1)
    monkeypatch.setattr(_planner, "SECOND_PROCESS_DIALECTS", {"sqlite", "postgresql"})
    # The real child, cut off before its summary: every entry sent, then exit status 3.
    cut = (
        "import os, sys; sys.path[:0] = sys.argv[1:]; from loyalty import _pipeline; "
        "sent = [0]; send = _pipeline._send\n"
        "def _send(out, value):\n"
        "    sent[0] += 1\n"
        "    if sent[0] > 2: out.flush(); os._exit(3)\n"
        "    send(out, value)\n"
        "_pipeline._send = _send; _pipeline.child()"
    )
    monkeypatch.setattr(_pipeline, "_BOOT", cut)
    with pytest.raises(_pipeline.ChildFailed):
        reconcile(engine, program, NOW, full=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM loyalty_ledger")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM loyalty_order_facts")).scalar() == 0
    assert schema_of_ledger(engine) == schema
    monkeypatch.undo()
    assert reconcile(engine, program, NOW, full=True).appended == GOLDEN[0]
    assert ledger_digest(engine) == GOLDEN
