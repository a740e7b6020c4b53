"""Campaigns end to end over real HTTP against the sample store: a run SIGKILLed after some
coupons were made, then re-run, leaves exactly one coupon per audience customer."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector import open_database
from connector._client import StoreCredentials, WooClient
from loyalty.campaigns._schema import campaign_members
from samplestore import SampleStore
from tests._crashing_cli import CRASH_AFTER, CRASH_AT
from tests._helpers import run_cli_subprocess, write_config

pytestmark = pytest.mark.slow


@pytest.fixture
def store() -> Iterator[SampleStore]:
    with SampleStore(orders=250, seed=5) as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, store: SampleStore) -> Path:
    path = write_config(tmp_path / "config.toml", db_url, shop=store)
    done = run_cli_subprocess(path, "sync")
    assert done.returncode == 0, done.stderr
    return path


def campaign_coupons(store: SampleStore) -> list[dict[str, Any]]:
    creds = StoreCredentials("shop", store.url, store.consumer_key, store.consumer_secret)
    found: list[dict[str, Any]] = []
    with WooClient(creds) as client:
        page = 1
        while True:
            batch = client.get("coupons", {"per_page": 100, "page": page})
            if not batch:
                break
            found.extend(c for c in batch if c["code"].startswith("cmp-"))
            page += 1
    return found


def member_rows(db_url: str) -> list[dict[str, Any]]:
    engine = open_database(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(campaign_members).order_by(campaign_members.c.id))
            return [dict(r) for r in rows.mappings()]
    finally:
        engine.dispose()


CREATE = ("campaign", "create", "winback", "--audience", "inactive:90d", "--amount", "5")


@pytest.mark.parametrize("step", ["before_coupon", "after_coupon", "before_issued"])
def test_a_run_killed_midway_then_rerun_leaves_one_coupon_per_customer(
    config: Path, store: SampleStore, db_url: str, step: str
) -> None:
    dry = run_cli_subprocess(config, *CREATE, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    audience = json.loads(dry.stdout)["would_get_coupon"]
    assert audience >= 10
    assert member_rows(db_url) == [] and campaign_coupons(store) == []  # dry run: nothing

    killed = run_cli_subprocess(
        config, *CREATE, env={CRASH_AT: step, CRASH_AFTER: "4"}, module="tests._crashing_cli"
    )
    assert killed.returncode == -signal.SIGKILL
    rows = member_rows(db_url)
    assert len(rows) == audience  # all recorded (pending) before the first coupon
    assert sum(r["status"] == "issued" for r in rows) == 4
    made = len(campaign_coupons(store))
    assert made == (4 if step == "before_coupon" else 5)

    done = run_cli_subprocess(config, "campaign", "run", "winback", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["enrolled"] == 0
    rows = member_rows(db_url)
    assert [r["status"] for r in rows] == ["issued"] * audience
    coupons = campaign_coupons(store)
    assert sorted(c["code"] for c in coupons) == sorted(r["code"] for r in rows)
    by_code = {c["code"]: c for c in coupons}
    for r in rows:
        coupon = by_code[r["code"]]
        assert coupon["id"] == r["coupon_id"]
        assert coupon["email_restrictions"] == [r["email"]]
        assert coupon["usage_limit"] == 1 and coupon["discount_type"] == "fixed_cart"

    # a second run on an unchanged audience creates nothing
    again = run_cli_subprocess(config, "campaign", "run", "winback", "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["enrolled"], result["issued"]) == (0, 0)
    assert len(campaign_coupons(store)) == audience


def test_cli_pause_list_export_report(config: Path, store: SampleStore) -> None:
    done = run_cli_subprocess(
        config, "campaign", "create", "w", "--audience", "segment:hibernating",
        "--discount", "20%", "--holdout", "10%", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)["issued"]
    assert run_cli_subprocess(config, "campaign", "pause", "w").stdout.strip() == "w: paused"
    listed = json.loads(run_cli_subprocess(config, "campaign", "list", "--json").stdout)
    assert [c["status"] for c in listed["campaigns"]] == ["paused"]
    paused = json.loads(run_cli_subprocess(config, "campaign", "run", "w", "--json").stdout)
    assert paused["enrolled"] == 0 and paused["status"] == "paused"
    assert run_cli_subprocess(config, "campaign", "resume", "w").stdout.strip() == "w: active"
    export = run_cli_subprocess(config, "campaign", "export", "w", "--format", "csv")
    assert export.returncode == 0, export.stderr
    lines = export.stdout.removeprefix("\ufeff").splitlines()
    assert lines[0] == "email,first_name,phone,code,amount,expires,message"
    assert len(lines) == 1 + issued
    report = run_cli_subprocess(config, "campaign", "report", "w", "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["issued"] == issued
    bad = run_cli_subprocess(config, "campaign", "create", "z", "--audience", "inactive:90d")
    assert bad.returncode != 0 and "--discount" in bad.stderr
