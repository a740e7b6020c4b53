"""`bazgasht demo` and `bazgasht sample-store serve`, end to end."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import woocommerce

from cli._context import invocation
from cli.main import run
from tests._helpers import ROOT


def test_demo_runs_end_to_end_in_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's own settings must not be touched, nor redirect the demo.
    monkeypatch.setenv("BAZGASHT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/never")
    monkeypatch.setattr(sys, "argv", [str(ROOT / "cli" / "__main__.py")])  # python -m cli
    user_config = tmp_path / "user-config.toml"
    code = run(
        ["--config", str(user_config), "demo", "--orders", "300", "--dir", str(tmp_path / "d")]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "Synced over HTTP with OAuth 1.0a: 300 orders" in out
    assert "Top balances" in out and "Redeemed" in out and ": coupon bz-" in out
    assert "Repeat purchase rate" in out and "Budget advice" in out
    assert "win-back (dry run): audience of" in out
    report = (tmp_path / "d" / "report.html").read_text()
    assert report.lower().startswith("<!doctype html>") and '<svg class="chart"' in report
    assert (tmp_path / "d" / "demo.sqlite").exists()
    assert not user_config.exists()
    # the closing hints run as printed (issue 10, item 7)
    hints = re.findall(r"^  Look around: +(.*)$", out, flags=re.MULTILINE)
    assert len(hints) == 4
    for hint in hints:
        assert f"{sys.executable} -m cli --config" in hint
        done = subprocess.run(
            ["/bin/sh", "-c", hint], capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert done.returncode == 0, (hint, done.stderr)
    assert f"{sys.executable} -m cli store add myshop --url https://myshop.example --key ck_" in out
    # run twice: the demo folder is recreated, not appended to
    assert run(["demo", "--orders", "300", "--dir", str(tmp_path / "d")]) == 0


def test_hints_name_bazgasht_as_it_was_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    script = checkout / ".venv" / "bin" / "bazgasht"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # dev.py does not put .venv/bin on the PATH
    assert invocation(str(script), cwd=checkout) == ".venv/bin/bazgasht"
    assert invocation(str(script), cwd=tmp_path / "elsewhere") == str(script)
    assert invocation("bazgasht", cwd=checkout) == "bazgasht"  # the shell found it
    monkeypatch.setenv("PATH", str(script.parent))
    script.chmod(0o755)
    assert invocation(str(script), cwd=tmp_path) == "bazgasht"  # on the PATH after all
    assert invocation(str(ROOT / "cli" / "__main__.py")).endswith(" -m cli")


def test_sample_store_serve_prints_working_keys() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "sample-store", "serve", "--orders", "50"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url = lines[0].split(" at ", 1)[1].split()[0]
        key = lines[1].split(":", 1)[1].strip()
        secret = lines[2].split(":", 1)[1].strip()
        # The official client gives up after 5 s by default: too tight on a loaded CI machine.
        api = woocommerce.API(url, key, secret, version="wc/v3", timeout=60)
        response = api.get("orders", params={"per_page": 5})
        assert response.status_code == 200
        assert response.headers["X-WP-Total"] == "50"
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
