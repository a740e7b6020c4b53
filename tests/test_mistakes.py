"""Mistakes that used to pass silently (issue 10, item 12) now stop with a clear one-line
message and exit code 2, and change nothing: a typo in --statuses, an --as-of in the future,
a --config path that does not exist, a key that is not a key, an unset --secret-env, a URL
without https://; a pasted REST API address is cut back to the shop's (with a note)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app import load_config, shop_address
from cli.main import run
from tests._loyalty import Mirror, day

KEY = "ck_" + "0123456789" * 4
SECRET = "cs_" + "abcdef0123" * 4  # made up here


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_clear(code: int, err: str, *said: str) -> None:
    assert code == 2, err
    for words in said:
        assert words in err, (words, err)
    assert "Traceback" not in err and "validation error" not in err and "pydantic" not in err


@pytest.fixture
def shop_config(tmp_path: Path, db_url: str, engine: Engine) -> str:
    m = Mirror(engine)
    m.order(1, created=day(1), email="a@example.com", total="10.00")
    m.order(2, created=day(2), email="a@example.com", status="shipped", total="10.00")
    path = tmp_path / "config.toml"
    path.write_text(
        f'database_url = "{db_url}"\n\n[stores.shop]\n'
        'url = "https://shop.example"\nconsumer_key = "ck_x"\n'
    )
    return str(path)


@pytest.mark.parametrize("command", ["metrics", "cohorts", "rfm", "report"])
def test_a_status_typo_is_an_error_not_zeros(
    shop_config: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    code, _, err = cli(capsys, "--config", shop_config, command, "--statuses", "complete", *extra)
    assert_clear(code, err, "'complete' is not an order status", "did you mean 'completed'")
    assert not (tmp_path / "r.html").exists()
    # a plugin's status that the store's orders have is accepted, and so is the wc- prefix
    args = ["--config", shop_config, command, "--statuses", "wc-completed,shipped", *extra]
    code, _, err = cli(capsys, *args)
    assert code == 0, err


@pytest.mark.parametrize("command", ["metrics", "cohorts", "rfm", "report"])
def test_an_as_of_in_the_future_is_an_error(
    shop_config: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    extra = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    code, _, err = cli(capsys, "--config", shop_config, command, "--as-of", tomorrow, *extra)
    assert_clear(code, err, f"--as-of {tomorrow} is in the future")
    code, _, err = cli(capsys, "--config", shop_config, command, "--as-of", "2025-02-01", *extra)
    assert code == 0, err


def test_a_config_path_that_does_not_exist_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "typo.toml"
    for args in (["sync"], ["store", "list"], ["loyalty", "summary"], ["metrics"]):
        code, _, err = cli(capsys, "--config", str(missing), *args)
        assert_clear(code, err, f"the config file {missing} does not exist", "init")
    monkeypatch.setenv("BAZGASHT_CONFIG", str(missing))
    code, _, err = cli(capsys, "store", "list")
    assert_clear(code, err, "does not exist")
    assert not missing.exists()
    # init is how it comes to exist
    monkeypatch.setenv("BAZGASHT_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    code, _, err = cli(capsys, "init")
    assert code == 0, err
    code, out, err = cli(capsys, "store", "list")
    assert code == 0 and "No stores yet" in out


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("")
    os.chmod(path, 0o600)
    return path


def add(
    capsys: pytest.CaptureFixture[str], config: Path, *args: str, url: str = "https://shop.example"
) -> tuple[int, str, str]:
    return cli(capsys, "--config", str(config), "store", "add", "shop", "--url", url, *args)


def test_keys_and_secrets_that_are_not_keys_are_refused(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_SECRET", SECRET)
    code, out, err = add(capsys, config, "--key", "notakey", "--secret-env", "SHOP_SECRET")
    assert_clear(code, err, "--key: not a WooCommerce consumer key", "ck_")
    assert "notakey" not in out + err
    code, out, err = add(capsys, config, "--key", SECRET, "--secret-env", "SHOP_SECRET")
    assert_clear(code, err, "that is the consumer secret")
    assert SECRET not in out + err  # never echoed, not even when pasted in the wrong place
    monkeypatch.setenv("SHOP_SECRET", "hunter2")
    code, out, err = add(capsys, config, "--key", KEY, "--secret-env", "SHOP_SECRET")
    assert_clear(code, err, "is not a WooCommerce consumer secret")
    assert "hunter2" not in out + err
    assert config.read_text() == ""  # nothing was saved


def test_an_unset_secret_variable_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOP_SECRET", raising=False)
    code, _, err = add(capsys, config, "--key", KEY, "--secret-env", "SHOP_SECRET")
    assert_clear(code, err, "SHOP_SECRET is not set", "export SHOP_SECRET=")
    code, _, err = add(capsys, config, "--key", KEY, "--secret-env", "SHOP-SECRET")
    assert_clear(code, err, "not an environment variable name")
    assert config.read_text() == ""


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("shop.example", "must start with https:// — https://shop.example?"),
        ("ftp://shop.example", "must start with https://"),
        ("https://shop.example/?page=2", "no login, ?query or #fragment"),
        ("https://user:pw@shop.example", "no login"),
        ("https://", "no host name"),
    ],
)
def test_a_url_that_is_not_a_shop_address_is_explained(
    config: Path, url: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = add(capsys, config, "--key", KEY, "--secret-stdin", url=url)
    assert_clear(code, err, "--url", said)
    assert config.read_text() == ""


def test_a_pasted_rest_api_address_is_cut_back_with_a_note(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_SECRET", SECRET)
    code, _, err = add(
        capsys, config, "--key", KEY, "--secret-env", "SHOP_SECRET",
        url="https://shop.example/wp-json/wc/v3/",
    )  # fmt: skip
    assert code == 0, err
    assert "Note: saved the shop's address https://shop.example" in err
    assert load_config(config).stores["shop"].url == "https://shop.example"
    assert shop_address("https://x.example/shop/wp-json/wc/v3") == "https://x.example/shop"
    assert shop_address("HTTPS://x.example/index.php/wp-json/") == "https://x.example"
    assert shop_address("https://x.example/wp-jsonish") == "https://x.example/wp-jsonish"
