"""Store data is never markup and never a control sequence (issue 10, item 4): hostile customer
names, phones, store errors and campaign names go through every command that prints a table,
and come out as the plain text they are."""

from __future__ import annotations

import io
import json
import logging
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from sqlalchemy import Engine, insert, update

from app import load_config, save_config
from cli._render import CleanLogRecords, Table, clean, esc, json_text
from cli.main import run
from connector._schema import customers, sync_runs
from loyalty._schema import loyalty_redemptions
from loyalty.campaigns import CampaignSpec, create_campaign
from tests._helpers import write_config
from tests._loyalty import Mirror, day

NOW = day(40).isoformat()
MARKUP_CLOSE = "[/]"
FAKE_LINK = "[link=https://evil.example]Support[/link]"
OSC8_LINK = "\x1b]8;;https://evil.example\x1b\\Click\x1b]8;;\x1b\\"
ESCAPES = "\x1b[2J\x1b[31mRed\x9b31mC1\u202eevil"
#: What must never reach the terminal: ESC, a one-byte CSI, a right-to-left override.
FORBIDDEN = ("\x1b", "\x9b", "\u202e")


@pytest.fixture
def config(tmp_path: Path, db_url: str, engine: Engine) -> Path:
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    path = write_config(tmp_path / "config.toml", db_url, shop=fake)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01", "expiry_months": 2}
    save_config(path, cfg)
    m = Mirror(engine)
    hostile = [(MARKUP_CLOSE, FAKE_LINK), (OSC8_LINK, ESCAPES), (":warning:", "[bold]x")]
    for wc_id, (first, last) in enumerate(hostile, 1):
        m.customer(wc_id, f"c{wc_id}@example.com", day(0))
        with engine.begin() as conn:
            conn.execute(
                update(customers)
                .where(customers.c.wc_id == wc_id)
                .values(first_name=first, last_name=last, phone=f"{ESCAPES}[/]")
            )
        m.order(wc_id * 10, created=day(1), customer=wc_id, total="150.00")
        m.order(wc_id * 10 + 1, created=day(30), customer=wc_id, total="50.00")
    with engine.begin() as conn:
        conn.execute(
            insert(sync_runs).values(
                store_id=m.store_id, started_at=day(39), finished_at=day(39), outcome="failed",
                mode="incremental", resumed=False, orders=0, customers=0, quarantined=0,
                deleted=0, requests=1, error=f"the store answered {FAKE_LINK} {ESCAPES}",
            )
        )  # fmt: skip
    create_campaign(
        engine,
        m.store_id,
        CampaignSpec(MARKUP_CLOSE, "inactive:90d", "percent", Decimal(10)),
        day(3),
    )
    return path


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out + err


def assert_plain(output: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in output, f"{bad!r} reached the terminal"


def test_hostile_names_through_every_table(
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell wraps: names stay whole
    loyalty = ("loyalty", "--now", NOW)
    code, out = cli(config, capsys, *loyalty, "verify")  # nothing reconciled: differences
    assert code == 1 and "customer:1" in out
    assert_plain(out)
    code, out = cli(config, capsys, *loyalty, "reconcile", "--offline")
    assert code == 0, out
    with engine.begin() as conn:  # a redemption the store refused, quoting itself
        conn.execute(
            insert(loyalty_redemptions).values(
                store_id=1, identity="customer:1", email="c1@example.com", points=500,
                amount=Decimal(5), code="bz-test", status="released", created_at=day(35),
                expires_at=day(125), attempts=1, last_error=f"refused: {FAKE_LINK}{ESCAPES}",
            )
        )  # fmt: skip
    code, out = cli(config, capsys, "rfm", "--as-of", "2025-03-01", "--format", "json")
    segments = [s["segment"] for s in json.loads(out)["segments"] if s["customers"]]
    assert segments
    shown: dict[str, str] = {}
    for args in (
        (*loyalty, "top"),
        (*loyalty, "balance", "1"),
        (*loyalty, "balance", "2"),
        (*loyalty, "history", "1"),
        (*loyalty, "coupons"),
        (*loyalty, "expiring", "--within", "60d"),
        (*loyalty, "summary"),
        (*loyalty, "settings"),
        ("rfm", "--as-of", "2025-03-01"),
        *(("rfm", "--as-of", "2025-03-01", "--segment", name) for name in segments),
        ("metrics", "--as-of", "2025-03-01"),
        ("cohorts", "--as-of", "2025-03-01"),
        ("campaign", "list"),
        ("campaign", "report", MARKUP_CLOSE),
        ("sync", "status"),
        ("store", "list"),
    ):
        code, out = cli(config, capsys, *args)
        assert code == 0, f"{args}: {out}"
        assert "MarkupError" not in out and "Traceback" not in out
        assert_plain(out)
        shown[" ".join(args)] = out
    top = shown[" ".join((*loyalty, "top"))]
    assert MARKUP_CLOSE in top and FAKE_LINK in top  # shown as typed, not interpreted
    assert "]8;;https://evil.example" in top and "Click" in top  # the OSC 8 link, defused
    assert ":warning:" in top  # no emoji substitution either
    assert FAKE_LINK in shown[" ".join((*loyalty, "balance", "1"))]
    assert FAKE_LINK in shown[" ".join((*loyalty, "coupons"))]
    assert FAKE_LINK in shown["sync status"]
    assert MARKUP_CLOSE in shown["campaign list"]
    listed = "".join(v for k, v in shown.items() if k.startswith("rfm --as-of 2025-03-01 --s"))
    assert MARKUP_CLOSE in listed and FAKE_LINK in listed


def test_the_helpers() -> None:
    assert clean("a\x1b[31mb\x07c\x9bd\u202ee\tf\ng") == "a[31mbcde\tf\ng"
    assert clean("نام\u200cخانوادگی\u200f") == "نام\u200cخانوادگی\u200f"  # ZWNJ, RLM stay
    assert esc("[/]") == "\\[/]"
    assert json_text({"name": "\x1b\x9b"}) == '{\n  "name": "\\u001b\\u009b"\n}'
    screen = io.StringIO()
    console = Console(file=screen, width=200, force_terminal=True, color_system="truecolor")
    table = Table("name", title=FAKE_LINK)
    table.add_row(f"{MARKUP_CLOSE}{FAKE_LINK}{OSC8_LINK}")
    console.print(table)
    terminal = screen.getvalue()  # what a terminal receives: colours, but no hyperlink
    assert "\x1b[" in terminal and "\x1b]8;" not in terminal
    assert MARKUP_CLOSE in terminal and FAKE_LINK in terminal
    record = logging.LogRecord("bazgasht.sync", logging.WARNING, "x", 1, "bad %s", (ESCAPES,), None)
    assert CleanLogRecords().filter(record) and not any(c in record.getMessage() for c in FORBIDDEN)


def test_every_table_of_the_cli_is_the_safe_one() -> None:
    """One helper: no command builds a rich Table that would read store data as markup."""
    cli_dir = Path(__file__).resolve().parent.parent / "cli"
    for source in cli_dir.glob("*.py"):
        if source.name == "_render.py":
            continue
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"from rich\.table import[^\n]*\bTable\b", text), source.name
        assert "rich.table.Table" not in text, source.name
