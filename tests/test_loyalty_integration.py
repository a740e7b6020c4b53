"""The program end to end over real HTTP against the sample store: sync, reconcile, redeem —
and redemptions killed (SIGKILL) at each step, finished by the next run exactly once."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import load_config, save_config
from connector import open_database
from connector._client import StoreCredentials, WooClient
from loyalty._schema import loyalty_ledger, loyalty_redemptions
from samplestore import Fault, SampleStore
from tests._crashing_cli import CRASH_AT
from tests._helpers import run_cli_subprocess, write_config

pytestmark = pytest.mark.slow


@pytest.fixture
def store() -> Iterator[SampleStore]:
    with SampleStore(orders=250, seed=5) as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, store: SampleStore) -> Path:
    path = write_config(tmp_path / "config.toml", db_url, shop=store)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01"}
    save_config(path, cfg)
    done = run_cli_subprocess(path, "sync")
    assert done.returncode == 0, done.stderr
    done = run_cli_subprocess(path, "loyalty", "reconcile")
    assert done.returncode == 0, done.stderr
    return path


def cli(config: Path, *args: str, crash_at: str | None = None) -> Any:
    if crash_at is None:
        return run_cli_subprocess(config, *args)
    return run_cli_subprocess(config, *args, env={CRASH_AT: crash_at}, module="tests._crashing_cli")


def richest_customer(config: Path) -> str:
    done = cli(config, "loyalty", "top", "--limit", "50", "--json")
    assert done.returncode == 0, done.stderr
    for row in json.loads(done.stdout)["top"]:
        if row["identity"].startswith("customer:") and row["points"] >= 600:
            return str(row["identity"].split(":", 1)[1])
    raise AssertionError("no customer with 600 points in the sample store")


def coupons_on_store(store: SampleStore, code: str) -> list[dict[str, Any]]:
    creds = StoreCredentials("shop", store.url, store.consumer_key, store.consumer_secret)
    with WooClient(creds) as client:
        found = client.get("coupons", {"code": code, "per_page": 100})
    return [c for c in found if c["code"] == code]


def ledger_state(db_url: str) -> tuple[list[Any], list[Any]]:
    engine = open_database(db_url)
    try:
        with engine.connect() as conn:
            reds = conn.execute(select(loyalty_redemptions)).mappings().all()
            entries = conn.execute(
                select(
                    loyalty_ledger.c.redemption_id, loyalty_ledger.c.kind, loyalty_ledger.c.points
                ).where(loyalty_ledger.c.redemption_id.is_not(None))
            ).all()
    finally:
        engine.dispose()
    return [dict(r) for r in reds], [tuple(e) for e in entries]


def test_redeem_issues_a_real_coupon(config: Path, store: SampleStore, db_url: str) -> None:
    customer = richest_customer(config)
    done = cli(config, "loyalty", "redeem", customer, "500", "--json")
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    assert r["status"] == "issued"
    [coupon] = coupons_on_store(store, r["code"])
    assert coupon["discount_type"] == "fixed_cart"
    assert coupon["amount"] == "5.00"
    assert coupon["usage_limit"] == 1
    assert coupon["email_restrictions"] == [r["email"]]
    assert coupon["date_expires"] is not None
    verify = cli(config, "loyalty", "verify")
    assert verify.returncode == 0, verify.stdout


@pytest.mark.parametrize("step", ["before_coupon", "after_coupon", "before_issued"])
def test_a_redemption_killed_at_any_step_ends_with_one_coupon_and_one_debit(
    config: Path, store: SampleStore, db_url: str, step: str
) -> None:
    customer = richest_customer(config)
    killed = cli(config, "loyalty", "redeem", customer, "500", crash_at=step)
    assert killed.returncode == -signal.SIGKILL
    [red], entries = ledger_state(db_url)
    assert red["status"] == "pending"
    assert entries == [(red["id"], "redemption", -500)]  # the debit came first
    assert len(coupons_on_store(store, red["code"])) == (0 if step == "before_coupon" else 1)
    # the next run finishes it
    done = cli(config, "loyalty", "reconcile")
    assert done.returncode == 0, done.stderr
    [red], entries = ledger_state(db_url)
    assert red["status"] == "issued"
    assert entries == [(red["id"], "redemption", -500)]
    assert len(coupons_on_store(store, red["code"])) == 1
    # and a later run changes nothing
    assert cli(config, "loyalty", "reconcile").returncode == 0
    assert len(coupons_on_store(store, red["code"])) == 1
    assert ledger_state(db_url)[1] == entries
    assert cli(config, "loyalty", "verify").returncode == 0


def test_a_coupon_the_store_refuses_releases_the_points(
    config: Path, store: SampleStore, db_url: str
) -> None:
    customer = richest_customer(config)
    before = json.loads(cli(config, "loyalty", "balance", customer, "--json").stdout)
    # the lookup passes, the creation is refused with a 400 (a permanent failure)
    store.add_fault(Fault(kind="status", status=400, path="/coupons", after=1, times=1))
    done = cli(config, "loyalty", "redeem", customer, "500")
    assert done.returncode == 1
    [red], entries = ledger_state(db_url)
    assert red["status"] == "released"
    assert sorted(e[1:] for e in entries) == [("redemption", -500), ("redemption_release", 500)]
    after = json.loads(cli(config, "loyalty", "balance", customer, "--json").stdout)
    assert after["balance"] == before["balance"]
    assert coupons_on_store(store, red["code"]) == []


def test_demo_tour_shows_balances_and_makes_a_redemption(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from cli._context import stdout_console
    from cli.loyalty import print_demo_tour
    from loyalty import demo_tour

    with SampleStore(orders=300, seed=11) as demo:
        path = write_config(tmp_path / "demo.toml", db_url, demo=demo)
        cfg = load_config(path)  # as the demo writes it: the sample history earns
        cfg.stores["demo"].loyalty = {"starts_at": "2000-01-01T00:00:00+00:00"}
        save_config(path, cfg)
        assert run_cli_subprocess(path, "sync").returncode == 0
        engine = open_database(db_url)
        creds = StoreCredentials("demo", demo.url, demo.consumer_key, demo.consumer_secret)
        with WooClient(creds) as client:
            tour = demo_tour(engine, client, "demo", {}, datetime.now(UTC))
        engine.dispose()
        assert tour.top and tour.top[0].balance > 0  # the sync credited the history
        assert tour.redemption is not None and tour.redemption.status == "issued"
        assert len(coupons_on_store(demo, tour.redemption.code)) == 1
    print_demo_tour(stdout_console(), tour)
    assert "Top balances" in capsys.readouterr().out
