"""``bazgasht loyalty …`` through the real command line (``cli.main.run``), on a mirror
written directly (the commands here do not need the store to be online)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from app import load_config, save_config
from cli.main import run
from tests._helpers import write_config
from tests._loyalty import Mirror, day

NOW = day(40).isoformat()


@pytest.fixture
def config(tmp_path: Path, db_url: str, engine: Engine) -> Path:
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    path = write_config(tmp_path / "config.toml", db_url, shop=fake)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01", "expiry_months": 2}
    save_config(path, cfg)
    m = Mirror(engine)
    m.customer(7, "sofia@example.com", day(0))
    m.order(1, created=day(1), customer=7, total="150.00")
    m.order(2, created=day(30), customer=7, total="50.00")
    m.order(3, created=day(2), email="guest@example.com", total="20.00")
    return path


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--config", str(config), "loyalty", "--now", NOW, *args])
    out, err = capsys.readouterr()
    return code, out, err


def as_json(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = cli(config, capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_settings_show_defaults_and_sources(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(config, capsys, "settings")
    assert code == 0
    assert "point_value" in out and "currency" in out and "0.01" in out
    shown = as_json(config, capsys, "settings")["settings"]
    assert shown["expiry_months"] == 2 and shown["welcome_points"] == 100  # JSON numbers


def test_bad_settings_exit_2_with_the_reason(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = load_config(config)
    cfg.stores["shop"].loyalty = {"cashback_percent": 500}
    save_config(config, cfg)
    code, _, err = cli(config, capsys, "summary")
    assert code == 2
    assert "loyalty.cashback_percent" in err and "100" in err
    assert "Traceback" not in err


def test_reconcile_balance_history_verify(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = cli(config, capsys, "verify")
    assert code == 1  # nothing reconciled yet: every key differs
    code, out, err = cli(config, capsys, "reconcile", "--offline")
    assert code == 0, err
    assert "ledger entries (full" in out
    assert cli(config, capsys, "verify")[0] == 0
    by_email = as_json(config, capsys, "balance", "Sofia@Example.com")
    by_id = as_json(config, capsys, "balance", "7")
    assert by_email == by_id
    assert by_id["balance"] == 100 + 300 + 100 + 200
    assert by_id["next_expiry"] is not None  # expiry_months = 2
    history = as_json(config, capsys, "history", "7")["entries"]
    assert {e["kind"] for e in history} == {"earn"}
    code, out, _ = cli(config, capsys, "history", "7")
    assert code == 0 and "second purchase" in out


def test_grant_needs_a_reason_and_can_debit(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(config, capsys, "reconcile", "--offline")
    code, _, err = cli(config, capsys, "grant", "7", "50")
    assert code == 2 and "reason" in err
    code, out, err = cli(config, capsys, "grant", "7", "-50", "--reason", "duplicate order")
    assert code == 0, err
    assert "Debited 50 points" in out
    code, out, _ = cli(config, capsys, "grant", "guest@example.com", "25", "--reason", "sorry")
    assert "balance now 65" in out
    history = as_json(config, capsys, "history", "7")["entries"]
    assert history[-1]["kind"] == "manual" and history[-1]["reason"] == "duplicate order"


def test_unknown_customer_is_a_clear_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(config, capsys, "balance", "nobody@example.com")
    assert code == 2 and "no customer with e-mail nobody@example.com" in err
    code, _, err = cli(config, capsys, "balance", "999")
    assert code == 2 and "no customer 999" in err


def test_top_summary_coupons(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(config, capsys, "reconcile", "--offline")
    top = as_json(config, capsys, "top", "--limit", "2")["top"]
    assert [t["identity"] for t in top] == ["customer:7", "email:guest@example.com"]
    assert top[0]["value"] == "7.00"
    s = as_json(config, capsys, "summary")
    assert (s["members"], s["points_outstanding"], s["liability"]) == (2, 740, "7.40")
    assert as_json(config, capsys, "coupons")["redemptions"] == []


def test_expiring_as_csv_for_a_campaign(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(config, capsys, "reconcile", "--offline")
    code, out, err = cli(config, capsys, "expiring", "--within", "30d", "--format", "csv")
    assert code == 0, err
    assert out.startswith("\ufeff")  # Excel reads the UTF-8 right
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    # bought on day 1 and 2, expiring 2 months later: inside [day 40, day 70)
    assert {r["email"]: int(r["points_expiring"]) for r in rows} == {
        "sofia@example.com": 100 + 300,
        "guest@example.com": 40,
    }
    code, _, err = cli(config, capsys, "expiring", "--within", "soon")
    assert code == 2 and "30d" in err
