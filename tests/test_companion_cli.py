"""The companion's commands: `storefront secret` (made once, kept like the consumer secret,
rotated without an outage), `webhooks install` refusing bad addresses, `serve` refusing a
configuration it cannot run — and no secret ever printed where it should not be."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from app import load_config, save_config
from cli.main import run
from tests._server import store_config, write_server_config

HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_server_config(
        tmp_path / "config.toml",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        shop=store_config("https://shop.example"),
    )


def test_the_storefront_secret_is_made_once_and_shown_once(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--config", str(config), "storefront", "secret"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert HEX64.fullmatch(secret), out  # stdout holds the secret and nothing else
    assert "Paste it" in err
    assert load_config(config).stores["shop"].storefront_secret == secret
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert run(["--config", str(config), "storefront", "secret", "-s", "shop"]) == 0
    again = capsys.readouterr()
    assert secret not in again.out + again.err and "--rotate" in again.out
    assert load_config(config).stores["shop"].storefront_secret == secret


def test_a_rotation_keeps_the_previous_secret_until_it_ends(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["--config", str(config), "storefront", "secret"])
    first = capsys.readouterr().out.strip()
    assert run(["--config", str(config), "storefront", "secret", "--rotate"]) == 0
    second = capsys.readouterr().out.strip()
    assert HEX64.fullmatch(second) and second != first
    store = load_config(config).stores["shop"]
    assert store.storefront_keys("shop", {}) == (second, first)
    assert run(["--config", str(config), "storefront", "secret", "--end-rotation"]) == 0
    capsys.readouterr()
    assert load_config(config).stores["shop"].storefront_keys("shop", {}) == (second,)


def test_a_secret_from_the_environment_is_never_written(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["--config", str(config), "storefront", "secret", "--secret-env", "BZ_SF"]) == 2
    assert "BZ_SF" in capsys.readouterr().err
    monkeypatch.setenv("BZ_SF", "s" * 40)
    assert run(["--config", str(config), "storefront", "secret", "--secret-env", "BZ_SF"]) == 0
    out = capsys.readouterr().out
    assert "s" * 40 not in out and "s" * 40 not in config.read_text()
    store = load_config(config).stores["shop"]
    assert store.storefront_secret is None and store.storefront_secret_env == "BZ_SF"


def test_secrets_stay_out_of_store_list(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_config(config)
    cfg.stores["shop"].webhook_secret = "w" * 64
    cfg.stores["shop"].storefront_secret = "f" * 64
    save_config(config, cfg)
    for fmt in ("table", "json"):
        assert run(["--config", str(config), "store", "list", "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "w" * 64 not in out and "f" * 64 not in out and "0" * 40 not in out


def test_a_config_holding_a_webhook_secret_must_be_private(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = load_config(config)
    cfg.stores["shop"].consumer_secret = None
    cfg.stores["shop"].consumer_secret_env = "SHOP_SECRET"
    cfg.stores["shop"].webhook_secret = "w" * 64
    save_config(config, cfg)
    os.chmod(config, 0o644)
    assert run(["--config", str(config), "store", "list"]) == 2
    err = capsys.readouterr().err
    assert "chmod 600" in err and "w" * 64 not in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://loyalty.example.com", "https://"),
        ("ftp://loyalty.example.com", "not a web address"),
        ("https://loyalty.example.com/webhooks/woocommerce/other", "another store"),
        ("https://user:pw@loyalty.example.com", "no login"),
    ],
)
def test_webhooks_install_refuses_an_unusable_address_before_anything(
    config: Path, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    before = config.read_text()
    assert run(["--config", str(config), "webhooks", "install", "--url", url]) == 2
    assert message in capsys.readouterr().err
    assert config.read_text() == before  # no secret made, nothing saved


def test_webhooks_install_wants_a_long_enough_secret_from_the_environment(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BZ_HOOK", "short")
    args = ["--config", str(config), "webhooks", "install", "--url", "https://l.example",
            "--secret-env", "BZ_HOOK"]  # fmt: skip
    assert run(args) == 2
    err = capsys.readouterr().err
    assert "at least 32" in err and "short" not in err


def test_serve_refuses_what_it_could_not_run(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--config", str(tmp_path / "none.toml"), "serve"]) == 2
    capsys.readouterr()
    cfg = load_config(config)
    cfg.stores["shop"].webhook_secret_env = "BZ_NOT_SET_ANYWHERE"
    save_config(config, cfg)
    assert run(["--config", str(config), "serve"]) == 2
    assert "BZ_NOT_SET_ANYWHERE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "shop", "warned"),
    [
        ("https://loyalty.example.com/webhooks/woocommerce/s", "https://shop.example", False),
        ("http://127.0.0.1:8700/webhooks/woocommerce/s", "https://shop.example", True),
        ("https://loyalty.example.com:8443/webhooks/woocommerce/s", "https://shop.example", True),
        ("https://10.0.0.5/webhooks/woocommerce/s", "https://shop.example", True),
        ("http://127.0.0.1/webhooks/woocommerce/s", "http://127.0.0.1:8081", False),
        ("http://127.0.0.1:8081/webhooks/woocommerce/s", "http://127.0.0.1:8081", False),
    ],
)
def test_addresses_wordpress_will_not_deliver_to_are_warned_about(
    url: str, shop: str, warned: bool
) -> None:
    """WooCommerce's deliveries go through wp_safe_remote_request (seen in the e2e run:
    "A valid URL was not provided" for 127.0.0.1:8703)."""
    from app import delivery_warnings

    assert bool(delivery_warnings(url, shop)) is warned
