"""Tamper evidence: the ledger's hash chain, and ``loyalty verify`` reporting tampering as
tampering (issue 9) — pure checks of the chain, then real ledgers edited behind Bazgasht's
back on SQLite or PostgreSQL (``BAZGASHT_TEST_POSTGRES``), and the migration that chains an
existing ledger."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from app import load_config, save_config
from cli._options import EXIT_TAMPERED
from cli.main import run
from connector._db import _alembic_config
from loyalty._schema import loyalty_ledger, loyalty_ledger_heads, loyalty_programs
from loyalty.chain import CHAIN_COLUMNS, GENESIS, Chain, check_chain, entry_hash
from loyalty.ledger import append, grant
from loyalty.reconcile import reconcile
from loyalty.redeem import reserve
from loyalty.rules import NewEntry
from loyalty.verify import verify
from tests._helpers import write_config
from tests._loyalty import Mirror, day

T = datetime(2026, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------- the chain, pure


def chained(n: int, store_id: int = 1) -> list[SimpleNamespace]:
    """``n`` entries as the ledger would hold them, correctly chained."""
    chain = Chain(store_id, 0, GENESIS)
    rows = []
    for i in range(1, n + 1):
        content = dict(
            key=f"cashback:s:{i}", seq=1, identity=f"email:{i}@x", points=10 * i, kind="earn",
            reason=f"order {i}", order_id=i, redemption_id=None, coupon_code=None,
            effective_at=T + timedelta(hours=i), created_at=T + timedelta(days=1),
        )  # fmt: skip
        position, digest = chain.link(*content.values())
        rows.append(SimpleNamespace(id=100 + i, chain_seq=position, chain_hash=digest, **content))
    return rows


def head_of(rows: list[SimpleNamespace]) -> tuple[int, str]:
    return rows[-1].chain_seq, rows[-1].chain_hash


def kinds(found: list[Any]) -> list[tuple[str, tuple[int, ...]]]:
    return [(t.kind, t.entry_ids) for t in found]


def test_an_untouched_chain_checks_out() -> None:
    rows = chained(5)
    assert check_chain(1, rows, head_of(rows)) == ([], 5, rows[-1].chain_hash)
    assert check_chain(1, [], None) == ([], 0, GENESIS)
    assert check_chain(2, rows, head_of(rows))[0], "the store is part of what is hashed"


def _edit(rows: list[SimpleNamespace]) -> None:
    rows[2].points = 999_999  # entry 103 changed in place


def _edit_and_rehash(rows: list[SimpleNamespace]) -> None:
    r = rows[2]
    r.points = 999_999
    r.chain_hash = entry_hash(
        rows[1].chain_hash, 1, 3, r.key, r.seq, r.identity, r.points, r.kind, r.reason,
        r.order_id, r.redemption_id, r.coupon_code, r.effective_at, r.created_at,
    )  # fmt: skip


def _insert_copy(rows: list[SimpleNamespace]) -> None:
    rows.insert(3, SimpleNamespace(**{**vars(rows[2]), "id": 999, "points": 1}))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_edit, [("altered", (103, 102))]),
        (_edit_and_rehash, [("altered", (104, 103))]),  # the next link breaks
        (lambda rows: rows.pop(2), [("missing", (102, 104))]),
        (lambda rows: rows.pop(), [("truncated", (104,))]),
        (lambda rows: rows.pop(0), [("missing", (102,))]),
        (_insert_copy, [("inserted", (103, 999))]),
        (
            lambda rows: rows.append(SimpleNamespace(**{**vars(chained(6)[5]), "id": 106})),
            [("appended", (106,))],
        ),
        (
            lambda rows: setattr(rows[-1], "chain_hash", "f" * 64),
            [("altered", (105, 104)), ("head", (105,))],
        ),
        (
            lambda rows: setattr(rows[1], "chain_seq", None),
            [("unchained", (102,)), ("missing", (101, 103))],
        ),
    ],
    ids=[
        "edited", "edited-and-rehashed", "deleted", "deleted-last", "deleted-first", "inserted",
        "appended", "last-hash-rewritten", "unchained",
    ],
)  # fmt: skip
def test_tampering_is_found_and_named(
    tamper: Callable[[list[SimpleNamespace]], Any], expected: list[Any]
) -> None:
    rows = chained(5)
    head = head_of(rows)
    tamper(rows)
    found, _, _ = check_chain(1, rows, head)
    assert kinds(found) == expected
    assert all(t.detail for t in found)


def test_a_rewritten_head_record_is_found() -> None:
    rows = chained(3)
    assert kinds(check_chain(1, rows, (3, "0" * 64))[0]) == [("head", (103,))]
    assert kinds(check_chain(1, rows, None)[0]) == [("head", ())]


# --------------------------------------------------------------------------- real ledgers


def ledger(engine: Engine) -> Mirror:
    """A store whose ledger has earnings, a second-purchase reward, a grant, a redemption."""
    m = Mirror(engine)
    m.customer(5, "c@x.com", day(0))
    m.order(1, created=day(1), customer=5, total="50.00")
    m.order(2, created=day(2), customer=5, total="20.00")
    m.order(3, created=day(3), email="g@x.com", total="30.00")
    program = m.program(day(4), min_redeem_points=100)
    reconcile(engine, program, day(4))
    grant(engine, program, "email:g@x.com", 25, "sorry", day(5))
    reserve(engine, program, "customer:5", 300, day(6))
    m.order(4, created=day(7), email="g@x.com", total="10.00")
    reconcile(engine, m.program(day(8)), day(8))
    return m


def ids(engine: Engine, store_id: int) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(loyalty_ledger.c.id)
                .where(loyalty_ledger.c.store_id == store_id)
                .order_by(loyalty_ledger.c.chain_seq)
            ).scalars()
        )


def untrigger(engine: Engine) -> None:
    """What someone with write access to the database does first."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE loyalty_ledger DISABLE TRIGGER USER"))
        else:
            for name in ("no_update", "no_delete", "no_replace"):
                conn.execute(text(f"DROP TRIGGER loyalty_ledger_{name}"))


def test_a_clean_ledger_verifies(engine: Engine) -> None:
    m = ledger(engine)
    report = verify(engine, m.program(day(9)), day(9))
    assert report.ok and not report.tampered, report.as_dict()
    assert report.chain_length == report.entries == len(ids(engine, m.store_id)) > 5
    with engine.connect() as conn:
        head = conn.execute(select(loyalty_ledger_heads)).one()
    assert (head.length, head.head) == (report.chain_length, report.chain_head)


def test_insert_or_replace_is_refused_on_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    m = ledger(engine)
    first = ids(engine, m.store_id)[0]
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT OR REPLACE INTO loyalty_ledger SELECT id, store_id, key, seq, identity, "
                "99999, kind, reason, order_id, redemption_id, coupon_code, effective_at, "
                "created_at, chain_seq, chain_hash FROM loyalty_ledger WHERE id = :id"
            ),
            {"id": first},
        )


def _rewrite_in_place(engine: Engine, entry: int) -> None:
    """Issue 9's attack: the entry rewritten with more points (SQLite: INSERT OR REPLACE,
    which bypassed the triggers; PostgreSQL: an UPDATE once the triggers are off)."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            sql = (
                "INSERT OR REPLACE INTO loyalty_ledger SELECT id, store_id, key, seq, identity, "
                "points + 5000, kind, reason, order_id, redemption_id, coupon_code, "
                "effective_at, created_at, chain_seq, chain_hash FROM loyalty_ledger "
                "WHERE id = :id"
            )
        else:
            sql = "UPDATE loyalty_ledger SET points = points + 5000 WHERE id = :id"
        conn.execute(text(sql), {"id": entry})


def _rewrite_with_hash(engine: Engine, entry: int) -> None:
    """A careful attacker: the entry and its own hash rewritten (the next link breaks)."""
    with engine.begin() as conn:
        row = conn.execute(
            select(*(loyalty_ledger.c[c] for c in CHAIN_COLUMNS), loyalty_ledger.c.store_id).where(
                loyalty_ledger.c.id == entry
            )
        ).one()
        before = conn.execute(
            select(loyalty_ledger.c.chain_hash).where(
                loyalty_ledger.c.store_id == row.store_id,
                loyalty_ledger.c.chain_seq == row.chain_seq - 1,
            )
        ).scalar_one()
        forged = entry_hash(
            before, row.store_id, row.chain_seq, row.key, row.seq, row.identity,
            row.points + 5000, row.kind, row.reason, row.order_id, row.redemption_id,
            row.coupon_code, row.effective_at, row.created_at,
        )  # fmt: skip
        conn.execute(
            text(
                "UPDATE loyalty_ledger SET points = points + 5000, chain_hash = :h WHERE id = :id"
            ),
            {"h": forged, "id": entry},
        )


def _delete(engine: Engine, entry: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM loyalty_ledger WHERE id = :id"), {"id": entry})


def _insert_in_the_middle(engine: Engine, entry: int) -> None:
    """A credit slipped in at an existing position (the UNIQUE index dropped first), with a
    hash computed as if it belonged there."""
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_loyalty_ledger_chain"))
        row = (
            conn.execute(select(loyalty_ledger).where(loyalty_ledger.c.id == entry))
            .mappings()
            .one()
        )
        before = conn.execute(
            select(loyalty_ledger.c.chain_hash).where(
                loyalty_ledger.c.store_id == row["store_id"],
                loyalty_ledger.c.chain_seq == row["chain_seq"] - 1,
            )
        ).scalar_one()
        forged = {
            **row, "key": "manual:shop:forged", "seq": 1, "points": 5000, "kind": "manual",
            "reason": "gift",
        }  # fmt: skip
        del forged["id"]
        forged["chain_hash"] = entry_hash(
            before, *(forged[c] for c in ("store_id", "chain_seq", "key", "seq", "identity",
            "points", "kind", "reason", "order_id", "redemption_id", "coupon_code",
            "effective_at", "created_at")),
        )  # fmt: skip
        conn.execute(loyalty_ledger.insert().values(**forged))


@pytest.mark.parametrize(
    ("tamper", "which", "kind", "named"),
    [
        (_rewrite_in_place, 3, "altered", 3),
        (_rewrite_with_hash, 3, "altered", 4),  # found at the next link, which names both
        (_delete, 3, "missing", 4),
        (_delete, -1, "truncated", -2),
        (_insert_in_the_middle, 3, "inserted", 3),
    ],
    ids=["rewritten", "rewritten-and-rehashed", "deleted", "deleted-last", "inserted"],
)
def test_verify_reports_tampering_as_tampering(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[Engine, int], None],
    which: int,
    kind: str,
    named: int,
) -> None:
    m = ledger(engine)
    entries = ids(engine, m.store_id)
    untrigger(engine)
    tamper(engine, entries[which])
    report = verify(engine, m.program(day(9)), day(9))
    assert report.tampered and not report.ok
    assert [t.kind for t in report.tampering] == [kind]
    assert entries[named] in report.tampering[0].entry_ids

    # Through the command line: its own section, its own exit code, its own JSON key.
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    config = write_config(tmp_path / "config.toml", db_url, shop=fake)
    cfg = load_config(config)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01"}
    save_config(config, cfg)
    base = ["--config", str(config), "loyalty", "--now", day(9).isoformat(), "verify"]
    capsys.readouterr()
    assert run(base) == EXIT_TAMPERED == 4
    out = capsys.readouterr().out
    assert "TAMPERING" in out and str(entries[named]) in out
    assert run([*base, "--format", "json"]) == 4
    data = json.loads(capsys.readouterr().out)
    assert data["tampered"] is True and data["ok"] is False
    assert [t["kind"] for t in data["tampering"]] == [kind]


def test_concurrent_appenders_never_fork_the_chain(engine: Engine) -> None:
    """Four writers appending at once *without* the ledger lock (a bug, or a foreign tool):
    the head's row lock makes them take turns; every append lands, the chain stays whole."""
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@x.com")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for k in range(5):
                with engine.begin() as conn:
                    entry = NewEntry(f"manual:shop:{n}-{k}", 1, "email:a@x.com", 1, "manual",
                                     "test", day(2))  # fmt: skip
                    append(conn, m.store_id, [entry], day(2))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        rows = conn.execute(
            select(*(loyalty_ledger.c[c] for c in CHAIN_COLUMNS))
            .where(loyalty_ledger.c.store_id == m.store_id)
            .order_by(loyalty_ledger.c.chain_seq)
        ).all()
        head = conn.execute(
            select(loyalty_ledger_heads.c.length, loyalty_ledger_heads.c.head)
        ).one()
    assert [r.chain_seq for r in rows] == list(range(1, 21))
    assert check_chain(m.store_id, rows, (head[0], head[1]))[0] == []


# --------------------------------------------------------------------------- the migration


def test_the_migration_chains_an_existing_ledger(engine: Engine) -> None:
    """A database at 0006 (the revision before this one) with two stores' ledgers
    (interleaved ids) and an IRT program: upgrading chains each store's entries in the order
    they were written, records each head, and the IRT program keeps the amounts it was
    created with (100 / 200 / 500)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    usd = Mirror(engine, "usd")
    irt = Mirror(engine, "irt", currency="IRT", decimals=0, timezone="Asia/Tehran")
    at = "2025-01-02 03:04:05.123456"
    with engine.begin() as conn:
        for n, (store, points) in enumerate([(usd, 100), (irt, 100), (usd, 58), (irt, 18700),
                                             (usd, -20), (irt, 200)]):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO loyalty_ledger (store_id, key, seq, identity, points, kind, "
                    "reason, order_id, redemption_id, coupon_code, effective_at, created_at) "
                    "VALUES (:s, :k, 1, :i, :p, 'earn', 'r', NULL, NULL, NULL, :at, :at)"
                ),
                {"s": store.store_id, "k": f"cashback:x:{n}", "i": f"email:{n}@x",
                 "p": points, "at": at},
            )  # fmt: skip
        conn.execute(
            text("INSERT INTO loyalty_programs (store_id, created_at) VALUES (:s, :at)"),
            {"s": irt.store_id, "at": at},
        )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    for store in (usd, irt):
        with engine.connect() as conn:
            rows = conn.execute(
                select(*(loyalty_ledger.c[c] for c in CHAIN_COLUMNS))
                .where(loyalty_ledger.c.store_id == store.store_id)
                .order_by(loyalty_ledger.c.chain_seq)
            ).all()
            head = conn.execute(
                select(loyalty_ledger_heads.c.length, loyalty_ledger_heads.c.head).where(
                    loyalty_ledger_heads.c.store_id == store.store_id
                )
            ).one()
        assert [r.chain_seq for r in rows] == [1, 2, 3]
        assert [r.id for r in rows] == sorted(r.id for r in rows)  # in the order written
        assert check_chain(store.store_id, rows, (head[0], head[1])) == ([], 3, head[1])
    with engine.connect() as conn:
        kept = conn.execute(select(loyalty_programs.c.defaults)).scalar_one()
    assert json.loads(kept) == {
        "welcome_points": 100, "second_purchase_points": 200, "min_redeem_points": 500,
    }  # fmt: skip
    program = irt.program(datetime(2026, 1, 1, tzinfo=UTC))
    assert (program.welcome_points, program.min_redeem_points) == (100, 500)
    assert program.sources["welcome_points"] == "kept default"
    # and the chain goes on from the recorded head
    grant(engine, program, "email:1@x", 5, "after the upgrade", datetime(2026, 1, 2, tzinfo=UTC))
    report = verify(engine, program, datetime(2026, 1, 3, tzinfo=UTC))
    assert not report.tampered and report.chain_length == 4
