"""Per-currency defaults of comparable value (issue 10 item 15): the table, the owner's
settings winning, ``loyalty settings`` saying which is which, and an existing program keeping
the defaults it was created with (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, select

from app import load_config, save_config
from cli.main import run
from loyalty import settings as settings_module
from loyalty._schema import loyalty_programs
from loyalty.reconcile import reconcile
from loyalty.settings import Program, currency_defaults, parse_settings, resolve
from tests._helpers import write_config
from tests._loyalty import Mirror, balances, day, holdings


@pytest.mark.parametrize(
    ("currency", "decimals", "welcome", "second", "minimum"),
    [
        ("USD", 2, 100, 200, 500),  # SPEC §4: 1, 2 and 5 dollars at 0.01 a point
        ("EUR", None, 100, 200, 500),
        ("IRT", 0, 100_000, 200_000, 500_000),  # ≈ 1, 2, 5 dollars in toman
        ("IRR", 0, 1_000_000, 2_000_000, 5_000_000),
        ("irr", None, 1_000_000, 2_000_000, 5_000_000),  # decimals unknown: the currency's
        ("JPY", 0, 200, 400, 1_000),
        ("KRW", 0, 1_000, 2_000, 5_000),
        ("IRT", 2, 10_000_000, 20_000_000, 50_000_000),  # a toman store showing decimals
        ("XYZ", 0, 100, 200, 500),  # unknown: the SPEC's amounts
        (None, None, 100, 200, 500),
    ],
)
def test_the_table(
    currency: str | None, decimals: int | None, welcome: int, second: int, minimum: int
) -> None:
    assert currency_defaults(currency, decimals) == {
        "welcome_points": welcome,
        "second_purchase_points": second,
        "min_redeem_points": minimum,
    }


def _program(currency: str, recorded: dict[str, int] | None = None, **raw: int) -> Program:
    return resolve(
        parse_settings("s", raw),
        store="s",
        store_id=1,
        currency=currency,
        decimals=0,
        timezone="Asia/Tehran",
        program_created_at=day(0),
        recorded_defaults=recorded,
    )


def test_the_owner_wins_then_the_recorded_defaults_then_the_table() -> None:
    fresh = _program("IRT")
    assert fresh.welcome_points == 100_000
    assert fresh.sources["welcome_points"] == "currency default"
    kept = _program("IRT", {"welcome_points": 100, "second_purchase_points": 200,
                            "min_redeem_points": 500})  # fmt: skip
    assert (kept.welcome_points, kept.min_redeem_points) == (100, 500)
    assert kept.sources["welcome_points"] == "kept default"
    assert "today's: 100,000" in kept.source_text("welcome_points")
    owner = _program("IRT", {"welcome_points": 100}, welcome_points=5_000)
    assert owner.welcome_points == 5_000
    assert owner.sources["welcome_points"] == "config"
    # a point is still the currency's smallest unit: 18 700 points for a 935 000 order
    assert fresh.point_value == 1


def test_a_program_keeps_the_defaults_it_was_created_with(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A toman store's program starts with 100 000 welcome points. Should the table change
    (a new release, a currency's value moving), the existing program and its ledger keep
    theirs: nothing is appended. A program created after gets the new amounts."""
    m = Mirror(engine, "toman", currency="IRT", decimals=0, timezone="Asia/Tehran")
    m.customer(1, "a@x.com", day(0))
    m.order(1, created=day(1), customer=1, total="935000")
    program = m.program(day(2))
    reconcile(engine, program, day(2))
    assert balances(engine, m.store_id) == {"customer:1": 100_000 + 18_700}
    with engine.connect() as conn:
        recorded = conn.execute(select(loyalty_programs.c.defaults)).scalar_one()
    assert json.loads(recorded)["welcome_points"] == 100_000

    monkeypatch.setitem(settings_module.POINTS_PER_CENT, "IRT", 2_000)
    later = m.program(day(3))
    assert later.welcome_points == 100_000
    assert later.sources["welcome_points"] == "kept default"
    assert later.rules_fingerprint() == program.rules_fingerprint()
    assert reconcile(engine, later, day(3), full=True).appended == 0
    other = Mirror(engine, "toman2", currency="IRT", decimals=0, timezone="Asia/Tehran")
    other.customer(1, "b@x.com", day(0))
    fresh = other.program(day(3))
    assert fresh.welcome_points == 200_000
    reconcile(engine, fresh, day(3))
    assert holdings(engine, other.store_id) == {
        ("welcome:toman2:customer:1", "customer:1"): 200_000
    }


def test_loyalty_settings_marks_defaults_and_the_owners_values(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Mirror(engine, "toman", currency="IRT", decimals=0, timezone="Asia/Tehran")
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    config = write_config(tmp_path / "config.toml", db_url, toman=fake)
    cfg = load_config(config)
    cfg.stores["toman"].loyalty = {"second_purchase_points": 150_000}
    save_config(config, cfg)
    base = ["--config", str(config), "loyalty", "settings", "--store", "toman"]
    capsys.readouterr()
    assert run([*base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["welcome_points"] == 100_000  # a JSON number (issue 10 item 13)
    assert data["sources"]["welcome_points"] == "currency default"
    assert data["settings"]["second_purchase_points"] == 150_000
    assert data["sources"]["second_purchase_points"] == "config"
    assert data["sources"]["cashback_percent"] == "default"
    assert run(base) == 0
    out = capsys.readouterr().out
    assert "default for IRT" in out and "set by you" in out
