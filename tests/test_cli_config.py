"""The config file and the commands that manage it: init, store add/list/remove."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pytest

from app import load_config
from cli.main import run
from connector import ConfigError

SECRET = "cs_" + "a1" * 20  # made up in the test; never a real key
KEY = "ck_" + "b2" * 20


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cfg(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(f'database_url = "{db_url}"\n')
    return path


def test_init_creates_a_private_config_and_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "config.toml"
    monkeypatch.setenv("BAZGASHT_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    code, out, err = cli(["--config", str(path), "init"], capsys)
    assert code == 0, err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / "db.sqlite").exists()
    assert "store add" in out


def test_store_add_reads_the_secret_from_stdin_and_keeps_it_private(
    cfg: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    code, out, err = cli(
        [
            "--config",
            str(cfg),
            "store",
            "add",
            "shop",
            "--url",
            "https://shop.example/",
            "--key",
            KEY,
            "--secret-stdin",
        ],
        capsys,
    )
    assert code == 0, err
    assert SECRET not in out + err
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    config = load_config(cfg)
    assert config.stores["shop"].url == "https://shop.example"
    assert config.stores["shop"].consumer_secret == SECRET
    code, out, err = cli(["--config", str(cfg), "store", "list"], capsys)
    assert code == 0 and "shop" in out
    assert SECRET not in out and "b2" * 20 not in out  # the key is masked too


def test_store_add_with_an_env_secret_writes_no_secret(
    cfg: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_SECRET", SECRET)
    code, _, err = cli(
        [
            "--config",
            str(cfg),
            "store",
            "add",
            "shop",
            "--url",
            "https://shop.example",
            "--key",
            KEY,
            "--secret-env",
            "SHOP_SECRET",
        ],
        capsys,
    )
    assert code == 0, err
    text = cfg.read_text()
    assert "SHOP_SECRET" in text and "consumer_secret =" not in text


def test_a_missing_env_secret_is_a_config_error(
    cfg: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_SECRET", SECRET)  # set where the store is added…
    cli(
        [
            "--config",
            str(cfg),
            "store",
            "add",
            "shop",
            "--url",
            "https://shop.example",
            "--key",
            KEY,
            "--secret-env",
            "SHOP_SECRET",
        ],
        capsys,
    )
    monkeypatch.delenv("SHOP_SECRET")  # …but not where it runs
    code, _, err = cli(["--config", str(cfg), "sync"], capsys)
    assert code == 2
    assert "SHOP_SECRET" in err and "Traceback" not in err


def test_the_secret_is_never_an_argument(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(
        [
            "--config",
            str(cfg),
            "store",
            "add",
            "shop",
            "--url",
            "https://x.example",
            "--key",
            KEY,
            "--secret",
            SECRET,
        ],
        capsys,
    )
    assert code == 2
    assert "No such option" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("database_url = [unclosed", "not valid TOML"),
        ('[stores.shop]\nurl = "ftp://x"\nconsumer_key = "k"\n', "https://"),
        ('[stores.shop]\nurl = "https://x"\n', "consumer_key"),
        ("surprise = 1\n", "surprise"),
    ],
)
def test_a_broken_config_is_a_clear_error(
    tmp_path: Path, content: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content)
    os.chmod(path, 0o600)
    code, _, err = cli(["--config", str(path), "sync"], capsys)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    code, _, err = cli(["--config", str(path), "--debug", "sync"], capsys)
    assert code == 2 and "Traceback" in err  # --debug shows it


def test_an_inline_secret_in_a_readable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[stores.shop]\nurl = "https://x"\nconsumer_key = "k"\nconsumer_secret = "{SECRET}"\n'
    )
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600") as err:
        load_config(path)
    assert SECRET not in str(err.value)


def test_unknown_store_and_reserved_names(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["--config", str(cfg), "sync", "--store", "nope"], capsys)
    assert code == 2 and "no store named 'nope'" in err
    code, _, err = cli(
        [
            "--config",
            str(cfg),
            "store",
            "add",
            "status",
            "--url",
            "https://x",
            "--key",
            "k",
            "--secret-env",
            "X",
        ],
        capsys,
    )
    assert code == 2 and "cannot be a store name" in err


def test_sync_with_no_store_points_to_the_demo(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(["--config", str(cfg), "sync"], capsys)
    assert code == 2 and "bazgasht demo" in err


def test_an_unreachable_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('database_url = "postgresql://nobody@127.0.0.1:1/none"\n')
    code, _, err = cli(["--config", str(path), "sync", "status"], capsys)
    assert code == 2
    assert "cannot open the database" in err and "Traceback" not in err
