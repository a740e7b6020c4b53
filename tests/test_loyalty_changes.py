"""The mirror's change log (migration 0008): an incremental reconciliation recomputes what
the notes name, consumes them, and never loses a change written while it runs."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text

from connector._schema import orders
from loyalty._schema import loyalty_changes
from loyalty._scope import CHANGE_TRIGGERS
from loyalty.reconcile import change_log_ready, preview, reconcile
from tests._loyalty import Mirror, balances, day, entry_count

reconcile_module = importlib.import_module("loyalty.reconcile")


def notes(engine: Engine, store_id: int) -> dict[tuple[str, int], int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                loyalty_changes.c.subject, loyalty_changes.c.wc_id, loyalty_changes.c.stamp
            ).where(loyalty_changes.c.store_id == store_id)
        )
        return {(s, int(w)): int(n) for s, w, n in rows}


def test_writes_to_the_mirror_are_noted_and_consumed(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(5, "c@x.com", day(0))
    m.order(1, created=day(1), customer=5, total="10.00")
    m.order(2, created=day(1), email="g@x.com", total="10.00")
    assert notes(engine, m.store_id) == {("c", 5): 1, ("o", 1): 1, ("o", 2): 1}
    p = m.program(day(2))
    reconcile(engine, p, day(2))
    assert notes(engine, m.store_id) == {}
    m.change_order(1, billing_phone="+1 555")  # not a rule input: no note
    assert notes(engine, m.store_id) == {}
    m.change_order(2, status="cancelled")
    m.change_order(2, refunded_total="1.00")
    assert notes(engine, m.store_id) == {("o", 2): 2}
    result = reconcile(engine, p, day(3))
    assert result.mode == "incremental" and result.identities == 1
    assert balances(engine, m.store_id) == {"customer:5": 100 + 20}
    assert notes(engine, m.store_id) == {}
    assert reconcile(engine, p, day(4)).appended == 0


def test_an_order_removed_from_the_mirror_takes_its_points_back(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="g@x.com", total="10.00")
    m.order(2, created=day(2), email="g@x.com", total="10.00")
    p = m.program(day(3))
    reconcile(engine, p, day(3))
    assert balances(engine, m.store_id) == {"email:g@x.com": 20 + 20 + 200}
    with engine.begin() as conn:
        conn.execute(delete(orders).where(orders.c.wc_id == 2))
    result = reconcile(engine, p, day(4))
    assert result.mode == "incremental"
    assert balances(engine, m.store_id) == {"email:g@x.com": 20}
    assert reconcile(engine, p, day(5), full=True).appended == 0


def test_a_change_written_while_a_run_plans_is_kept_for_the_next(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="g@x.com", total="10.00")
    p = m.program(day(2))
    reconcile(engine, p, day(2))
    m.change_order(1, refunded_total="5.00")
    real = reconcile_module._commit_phase

    def meanwhile(*args: Any, **kwargs: Any) -> None:
        m.change_order(1, status="cancelled")  # after this run's snapshot, before its commit
        monkeypatch.setattr(reconcile_module, "_commit_phase", real)
        real(*args, **kwargs)

    monkeypatch.setattr(reconcile_module, "_commit_phase", meanwhile)
    reconcile(engine, p, day(3))
    assert balances(engine, m.store_id) == {"email:g@x.com": 10}  # what the run saw
    assert notes(engine, m.store_id) == {("o", 1): 2}
    reconcile(engine, p, day(4))
    assert balances(engine, m.store_id) == {}
    assert notes(engine, m.store_id) == {}


def test_without_the_triggers_every_run_compares_the_whole_mirror(engine: Engine) -> None:
    m = Mirror(engine)
    m.order(1, created=day(1), email="g@x.com", total="10.00")
    p = m.program(day(2))
    reconcile(engine, p, day(2))
    with engine.begin() as conn:
        for name in CHANGE_TRIGGERS:
            table = "orders" if "_orders_" in name else "customers"
            on = f" ON {table}" if conn.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TRIGGER {name}{on}"))
        assert not change_log_ready(conn)
    m.change_order(1, status="cancelled")
    result = reconcile(engine, p, day(3))
    assert result.mode == "incremental"
    assert balances(engine, m.store_id) == {}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(loyalty_changes)).scalar() == 0


def test_preview_says_what_reconcile_would_do_and_writes_nothing(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(5, "c@x.com", day(0))
    m.order(1, created=day(1), customer=5, total="10.00")
    m.order(2, created=day(2), customer=5, total="20.00")
    m.order(3, created=day(3), email="g@x.com", total="50.00")
    p = m.program(day(4))
    first = preview(engine, p, day(4))
    assert entry_count(engine, m.store_id) == 0
    assert notes(engine, m.store_id) != {}  # a preview consumes no change note
    assert (first.mode, first.entries, first.identities_touched) == ("full", 5, 2)
    assert first.points_added == 100 + 20 + 40 + 200 + 100
    assert (first.points_taken_back, first.outstanding_before) == (0, 0)
    assert first.outstanding_after == 460
    assert (first.identities_gaining, first.identities_losing, first.identities_negative) == (
        2, 0, 0,
    )  # fmt: skip
    assert first.liability_after == Decimal("4.60")
    done = reconcile(engine, p, day(4))
    assert (done.appended, done.points_by_kind) == (first.entries, first.points_by_kind)
    # New settings, previewed: the cashback halves, the second-purchase reward goes.
    m.change_order(3, status="cancelled")
    stricter = m.program(day(5), cashback_percent=1, second_purchase_points=0)
    ahead = preview(engine, stricter, day(5), examples=1)
    assert ahead.mode == "full"
    assert ahead.points_added == 0
    assert ahead.points_taken_back == 10 + 20 + 200 + 100
    assert (ahead.outstanding_before, ahead.outstanding_after) == (460, 130)
    assert (ahead.liability_before, ahead.liability_after) == (Decimal("4.60"), Decimal("1.30"))
    assert ahead.as_dict()["liability_after"] == "1.30"
    # Per customer (what the settings preview shows): both lose, nobody below zero; the most
    # changed one named with its balance before and after.
    assert (ahead.identities_gaining, ahead.identities_losing, ahead.identities_negative) == (
        0, 2, 0,
    )  # fmt: skip
    [(_identity, before, after)] = ahead.examples
    assert before - after == 10 + 20 + 200
    assert ahead.as_dict()["examples"][0]["points_after"] == after
    assert entry_count(engine, m.store_id) == done.appended
    assert reconcile(engine, stricter, day(5)).points_by_kind == ahead.points_by_kind
