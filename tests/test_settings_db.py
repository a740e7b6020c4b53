"""The program's settings are data in the database (issue 12, item 6): versioned with when,
by whom and how; every host derives the ledger from them, never from its own config file; a
change shows its effect before it applies and needs --yes (or a yes on a terminal); the
config file's settings are imported once, with the same preview."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, delete, func, select

from app import Registry, apply_change, load_config, plan_change, save_config
from cli.main import run
from connector import ENV_HOST_NAME
from loyalty import reconcile, summary
from loyalty._schema import loyalty_ledger, loyalty_settings
from loyalty.stored import SettingsChanged, stored_program
from tests._helpers import write_config
from tests._loyalty import Mirror, balances, day, entry_count

NOW = day(800)


@pytest.fixture
def shop(engine: Engine) -> Mirror:
    """Two customers with orders over two years (old lots expire under expiry_months)."""
    m = Mirror(engine)
    m.customer(7, "sofia@example.com", day(0))
    m.customer(8, "omid@example.com", day(10))
    m.order(1, created=day(1), customer=7, total="500.00")
    m.order(2, created=day(20), customer=7, total="100.00")
    m.order(3, created=day(30), customer=8, total="250.00")
    m.order(4, created=day(700), customer=8, total="50.00")
    return m


def config_with(tmp_path: Path, db_url: str, name: str = "config.toml", **loyalty: object) -> Path:
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    path = write_config(tmp_path / name, db_url, shop=fake)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01", **loyalty}
    save_config(path, cfg)
    return path


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--config", str(config), "loyalty", "--now", NOW.isoformat(), *args])
    out, err = capsys.readouterr()
    return code, out, err


def versions(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                loyalty_settings.c.version, loyalty_settings.c.source, loyalty_settings.c.settings
            ).order_by(loyalty_settings.c.version)
        ).all()
    return [(int(v), s, t) for v, s, t in rows]


def test_first_run_imports_the_config_then_the_file_is_ignored_and_said_so(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, db_url, cashback_percent=3)
    code, out, err = cli(config, capsys, "reconcile", "--offline")
    assert code == 0, err
    assert [(v, s) for v, s, _ in versions(engine)] == [(1, "toml-import")]
    held = balances(engine, shop.store_id)
    # the file now says 10 %: ignored (no point moves), and the run says so with the way out
    cfg = load_config(config)
    cfg.stores["shop"].loyalty["cashback_percent"] = 10
    cfg.stores["shop"].loyalty["welcome_points"] = 50
    save_config(config, cfg)
    code, out, err = cli(config, capsys, "reconcile", "--offline")
    assert code == 0, err
    assert "0 ledger entries" in out and balances(engine, shop.store_id) == held
    assert "cashback_percent = 10 (in force: 3), welcome_points = 50 (in force: 100)" in err
    assert "loyalty settings import --store shop" in err
    code, out, _ = cli(config, capsys, "settings", "--format", "json")
    data = json.loads(out)
    assert data["settings"]["cashback_percent"] == 3  # typed as every JSON output
    assert data["settings"]["guests_earn"] is True and data["settings"]["welcome_points"] == 100
    assert data["version"] == 1
    assert data["history"][0]["source"] == "toml-import"
    assert "@" in data["history"][0]["changed_by"]
    assert data["ignored_config"] == {
        "cashback_percent": {"config": 10, "database": 3},
        "welcome_points": {"config": 50, "database": 100},
    }


def test_two_hosts_with_different_files_derive_one_ledger(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    host_a = config_with(tmp_path, db_url, "a.toml", cashback_percent=2)
    host_b = config_with(tmp_path, db_url, "b.toml", cashback_percent=5, expiry_months=12)
    assert cli(host_a, capsys, "reconcile", "--offline")[0] == 0
    settled = entry_count(engine, shop.store_id)
    for _ in range(2):  # before, each host's run reversed the other's entries
        for config in (host_b, host_a):
            code, _out, err = cli(config, capsys, "reconcile", "--offline")
            assert code == 0, err
    assert entry_count(engine, shop.store_id) == settled


def test_a_change_that_takes_points_back_is_never_silent(
    tmp_path: Path,
    db_url: str,
    engine: Engine,
    shop: Mirror,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = config_with(tmp_path, db_url)
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    held = balances(engine, shop.store_id)
    entries = entry_count(engine, shop.store_id)
    # no terminal, no --yes: the preview, then exit 2 and nothing written
    code, out, err = cli(config, capsys, "settings", "set", "expiry_months", "12")
    assert code == 2
    assert "expiry_months: none → 12" in out
    assert "points taken back" in out and "of which expired" in out
    assert "Warning: this takes back" in out
    assert "nothing was changed" in err and "--yes" in err
    assert entry_count(engine, shop.store_id) == entries and len(versions(engine)) == 1
    # the JSON preview (--dry-run) is what --yes then does
    code, out, err = cli(
        config, capsys, "settings", "set", "expiry_months", "12", "--dry-run", "--format", "json"
    )
    assert code == 0, err
    plan = json.loads(out)
    effect = plan["effect"]
    assert plan["applied"] is False and effect["points_expired"] > 0
    assert effect["points_taken_back"] == effect["points_expired"]
    assert effect["customers_losing"] == 2
    monkeypatch.setenv(ENV_HOST_NAME, "office-pc")
    code, out, err = cli(config, capsys, "settings", "set", "expiry_months", "12", "--yes")
    assert code == 0, err
    assert "Applied: settings version 2" in out and "@office-pc" in out
    after = balances(engine, shop.store_id)
    lost = sum(held.values()) - sum(after.values())
    assert lost == effect["points_expired"]
    registry = Registry(config, environ={}, config_explicit=True)
    program = stored_program(engine, "shop", NOW, config=None)
    assert program.expiry_months == 12 and program.settings_version == 2
    assert str(summary(engine, program, NOW).liability) == effect["liability_after"]
    registry.close()
    code, out, _ = cli(config, capsys, "settings", "--format", "json")
    history = json.loads(out)["history"]
    assert history[1]["source"] == "cli" and history[1]["changed_by"].endswith("@office-pc")
    assert history[1]["changes"] == {"expiry_months": {"from": None, "to": 12}}
    # the table shows who changed what
    code, out, _ = cli(config, capsys, "settings")
    assert "v2" in out and "@office-pc" in out


def test_values_are_validated(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, db_url)
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    for args, words in (
        (("cashback_percent", "500"), "cashback_percent"),
        (("cashback_percent", "-1"), "cashback_percent"),
        (("expiry_month", "12"), "Did you mean 'expiry_months'?"),
        (("guests_earn", "maybe"), "give true or false"),
        (("starts_at", "yesterday"), "not a date"),
        (("cashback_base", "total"), "cashback_base"),
    ):
        code, out, err = cli(config, capsys, "settings", "set", *args, "--yes")
        assert code == 2, (args, out, err)
        assert words in err, err
    assert len(versions(engine)) == 1


def test_a_setting_that_moves_no_point_says_so(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, db_url)
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    code, out, err = cli(config, capsys, "settings", "set", "min_redeem_points", "900", "--yes")
    assert code == 0, err
    assert "No customer's points change" in out
    code, out, err = cli(config, capsys, "settings", "set", "min_redeem_points", "900", "--yes")
    assert code == 0 and "nothing to change" in out
    code, out, err = cli(config, capsys, "settings", "set", "min_redeem_points", "default", "--yes")
    assert code == 0, err
    assert [v for v, *_ in versions(engine)] == [1, 2, 3]
    assert json.loads(versions(engine)[-1][2]) == {"starts_at": "2000-01-01T00:00:00"}


def test_a_plan_made_against_an_older_version_is_refused(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, db_url)
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    registry = Registry(config, environ={}, config_explicit=True)
    first = plan_change(registry, "shop", "welcome_points", "150", NOW)
    second = plan_change(registry, "shop", "welcome_points", "300", NOW)
    apply_change(registry, second, NOW)
    with pytest.raises(SettingsChanged, match="changed by another process meanwhile"):
        apply_change(registry, first, NOW)
    registry.close()
    assert [v for v, *_ in versions(engine)] == [1, 2]


def _pre_upgrade(engine: Engine, shop: Mirror, **settings: object) -> None:
    """A program reconciled under ``settings`` before settings were stored (migration
    0010_settings)."""
    from loyalty.program import load_program

    reconcile(engine, load_program(engine, "shop", dict(settings), NOW), NOW)
    with engine.begin() as conn:
        conn.execute(delete(loyalty_settings))


def test_after_the_upgrade_the_settings_the_ledger_follows_are_adopted(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    _pre_upgrade(engine, shop, starts_at="2000-01-01", cashback_percent=4)
    config = config_with(tmp_path, db_url, cashback_percent=4)
    entries = entry_count(engine, shop.store_id)
    code, _out, err = cli(config, capsys, "reconcile", "--offline")
    assert code == 0, err
    assert entry_count(engine, shop.store_id) == entries  # adopting moved nothing
    assert [s for _, s, _ in versions(engine)] == ["toml-import"]


def test_after_the_upgrade_a_file_the_ledger_does_not_follow_waits_for_the_import(
    tmp_path: Path, db_url: str, engine: Engine, shop: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    _pre_upgrade(engine, shop, starts_at="2000-01-01", cashback_percent=4)
    # the file was edited before the upgrade: adding expiry must not happen silently
    config = config_with(tmp_path, db_url, cashback_percent=4, expiry_months=12)
    entries = entry_count(engine, shop.store_id)
    code, out, err = cli(config, capsys, "reconcile", "--offline")
    assert code == 2
    assert "loyalty settings import --store shop" in err
    code, out, err = cli(config, capsys, "balance", "7")
    assert code == 2 and "nothing was reconciled" in err.lower()
    code, out, err = cli(config, capsys, "settings")
    assert code == 0 and "not stored yet" not in out.lower()
    assert "settings import" in err
    code, out, err = cli(config, capsys, "settings", "import")
    assert code == 2 and "(not stored yet)" in out and "of which expired" in out
    assert entry_count(engine, shop.store_id) == entries and versions(engine) == []
    code, out, err = cli(config, capsys, "settings", "import", "--yes")
    assert code == 0, err
    assert [s for _, s, _ in versions(engine)] == ["toml-import"]
    with engine.connect() as conn:
        expired = conn.execute(
            select(func.count()).where(loyalty_ledger.c.kind == "expiry")
        ).scalar_one()
    assert expired > 0
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0


def test_on_a_terminal_the_change_is_asked_for(
    tmp_path: Path,
    db_url: str,
    engine: Engine,
    shop: Mirror,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cli.settings as settings_cli

    config = config_with(tmp_path, db_url)
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    monkeypatch.setattr(settings_cli.sys.stdin, "isatty", lambda: True)
    asked: list[str] = []
    answers = iter([False, True])

    def confirm(text: str, default: bool = False) -> bool:
        asked.append(text)
        return next(answers)

    monkeypatch.setattr(settings_cli.typer, "confirm", confirm)
    code, out, _ = cli(config, capsys, "settings", "set", "cashback_percent", "3")
    assert code == 1 and "Nothing changed" in out and "points added" in out
    assert len(versions(engine)) == 1
    code, out, err = cli(config, capsys, "settings", "set", "cashback_percent", "3")
    assert code == 0, err
    assert asked == ["Apply this change?"] * 2 and "Applied: settings version 2" in out
