"""What the owner is told (issue 10, items 8 and 9).

* A real store's program starts at its first sync, so `loyalty summary` and `top` looked
  broken (0 members, no word why): the first sync, `summary` and `top` now say when the
  program started and how to credit past orders (``starts_at`` + reconcile).
* `loyalty redeem` exited 0 when the store was down (points debited, no coupon): it now
  exits 3, says the coupon is pending and what will finish it, and the run that finishes it
  says so.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any

import pytest
from sqlalchemy import Engine

from app import Registry, load_config, save_config
from cli._options import EXIT_PENDING
from cli.main import run
from connector import NetworkError
from samplestore import Fault, SampleStore
from tests._helpers import run_cli_subprocess, write_config
from tests._loyalty import Mirror, day

NOW = day(40).isoformat()


class Store:
    """The store's coupon endpoints: down (every call refused), or up."""

    store = "shop"

    def __init__(self, up: bool) -> None:
        self.up = up
        self.coupons: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def _down(self, path: str) -> None:
        if not self.up:
            raise NetworkError("connection refused", store="shop", url=path)

    def get(self, path: str, params: Any = None) -> Any:
        self._down(path)
        found = self.coupons.get(str(params["code"]))
        return [copy.deepcopy(found)] if found else []

    def post(self, path: str, json: Any) -> Any:
        self._down(path)
        self.coupons[json["code"]] = {**json, "id": 1 + len(self.coupons)}
        return copy.deepcopy(self.coupons[json["code"]])


@pytest.fixture
def config(tmp_path: Path, db_url: str, engine: Engine) -> Path:
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    path = write_config(tmp_path / "config.toml", db_url, shop=fake)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01"}
    save_config(path, cfg)
    m = Mirror(engine)
    m.customer(7, "sofia@example.com", day(0))
    m.order(1, created=day(1), customer=7, total="500.00")
    return path


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--config", str(config), "loyalty", "--now", NOW, *args])
    out, err = capsys.readouterr()
    return code, out, err


def use_store(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    monkeypatch.setattr(Registry, "client", lambda _registry, _name, **_options: store)


def test_a_pending_redemption_exits_3_and_the_run_that_finishes_it_says_so(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    store = Store(up=False)
    use_store(monkeypatch, store)
    code, out, err = cli(config, capsys, "redeem", "7", "500")
    assert code == EXIT_PENDING == 3
    assert "Pending: 500 points were debited" in err and "Do not redeem again" in err
    assert "`bazgasht sync`" in err and "loyalty reconcile --store shop" in err
    pending_code = re.search(r"coupon (bz-\S+) is not on the store", err)
    assert pending_code is not None
    # the store is back: the next run creates the same coupon and says so
    store.up = True
    code, out, err = cli(config, capsys, "reconcile")
    assert code == 0, err
    assert f"the pending coupon {pending_code[1]} for sofia@example.com" in out
    assert "is now on the store" in out
    assert list(store.coupons) == [pending_code[1]]


def test_a_pending_redemption_in_json_exits_3_too(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(config, capsys, "reconcile", "--offline")
    use_store(monkeypatch, Store(up=False))
    code, out, _ = cli(config, capsys, "redeem", "7", "500", "--format", "json")
    assert code == 3
    assert json.loads(out)["status"] == "pending"


def test_summary_and_top_say_when_the_program_started(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = load_config(config)
    cfg.stores["shop"].loyalty = {}  # the default: the program starts when it first runs
    save_config(config, cfg)
    assert cli(config, capsys, "reconcile", "--offline")[0] == 0
    for command in ("summary", "top"):
        code, out, err = cli(config, capsys, command)
        assert code == 0, err
        assert "The loyalty program of shop started 2025-02-10" in out, out
        assert "1 earlier orders earn no points" in out
        assert "`bazgasht loyalty settings set starts_at 2025-01-02 --store shop`" in out
    code, out, _ = cli(config, capsys, "summary", "--format", "json")
    program = json.loads(out)["program"]
    assert program["starts_at_from"] == "program start"
    assert program["orders_before_start"] == 1


# --- end to end: the first sync, and a coupon pending until the next sync ---------------------


@pytest.fixture
def sample() -> Iterator[SampleStore]:
    with SampleStore(orders=200, seed=3) as store:
        yield store


@pytest.mark.slow
def test_first_sync_says_when_the_program_started_and_a_later_sync_finishes_a_coupon(
    tmp_path: Path, db_url: str, sample: SampleStore
) -> None:
    config = write_config(tmp_path / "config.toml", db_url, shop=sample)
    first = run_cli_subprocess(config, "sync")
    assert first.returncode == 0, first.stderr
    assert "The loyalty program of shop started" in first.stdout
    hint = re.search(
        r"`bazgasht loyalty settings set starts_at (\d{4}-\d\d-\d\d) --store shop`", first.stdout
    )
    assert hint is not None
    top = run_cli_subprocess(config, "loyalty", "top")
    assert "earlier orders earn no points" in top.stdout  # an empty top says why
    again = run_cli_subprocess(config, "sync")
    assert "The loyalty program" not in again.stdout  # said once, at the first sync
    # follow the hint: every past order is credited (the preview says so, --yes applies it)
    done = run_cli_subprocess(
        config, "loyalty", "settings", "set", "starts_at", hint[1], "--store", "shop", "--yes"
    )
    assert done.returncode == 0, done.stderr
    assert "points added" in done.stdout and "Applied: settings version 2" in done.stdout
    ranked = json.loads(run_cli_subprocess(config, "loyalty", "top", "--format", "json").stdout)
    assert ranked["program"]["orders_before_start"] == 0
    customer = next(r for r in ranked["top"] if r["identity"].startswith("customer:"))
    assert customer["points"] >= 500
    # the store answers the coupon's creation with a login page, through every retry (a
    # wrong 2xx body is retried like a 503): the coupon stays pending
    sample.add_fault(Fault(kind="html200", path="/coupons", after=1, times=5))
    who = customer["identity"].split(":")[1]
    redeemed = run_cli_subprocess(config, "loyalty", "redeem", who, "500")
    assert redeemed.returncode == 3, redeemed.stderr
    code = re.search(r"coupon (bz-\S+) is not on the store", redeemed.stderr)
    assert code is not None
    finished = run_cli_subprocess(config, "sync")
    assert finished.returncode == 0, finished.stderr
    assert f"the pending coupon {code[1]} for" in finished.stdout
    assert "is now on the store; it can be sent" in finished.stdout
