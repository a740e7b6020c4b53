"""`bazgasht demo` and `bazgasht sample-store serve`, end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import woocommerce

from cli.main import run
from tests._helpers import ROOT


def test_demo_runs_end_to_end_in_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's own settings must not be touched, nor redirect the demo.
    monkeypatch.setenv("BAZGASHT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/never")
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
    assert report.lower().startswith("<!doctype html>") and "data:image/png;base64," in report
    assert (tmp_path / "d" / "demo.sqlite").exists()
    assert not user_config.exists()
    # run twice: the demo folder is recreated, not appended to
    assert run(["demo", "--orders", "300", "--dir", str(tmp_path / "d")]) == 0


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
        api = woocommerce.API(url, key, secret, version="wc/v3")
        response = api.get("orders", params={"per_page": 5})
        assert response.status_code == 200
        assert response.headers["X-WP-Total"] == "50"
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
