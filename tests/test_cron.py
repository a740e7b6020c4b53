"""The README's cron lines, run as written against two stores (issue 10, item 10): they keep
working when a second store is added, and ``--quiet`` means silence — not even the plain-http
warning — so cron mails only real trouble."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from samplestore import SampleStore
from tests._helpers import ROOT, run_cli_subprocess, write_config

pytestmark = pytest.mark.slow


def readme_cron_commands() -> list[list[str]]:
    """The arguments of each line of the README's ``cron`` block, after the executable."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```cron\n(.*?)```", readme, flags=re.DOTALL)
    assert block is not None, "the README has no cron block"
    commands = []
    for line in block[1].strip().splitlines():
        words = shlex.split(line.split("#", 1)[0])[5:]  # after the five schedule fields
        while "=" in words[0]:  # VAR=value assignments before the command
            words.pop(0)
        assert words[0].startswith("/") and words[0].endswith("/bazgasht"), line
        commands.append(words[1:])
    return commands


@pytest.fixture
def two_stores() -> Iterator[tuple[SampleStore, SampleStore]]:
    with SampleStore(orders=60, seed=1) as a, SampleStore(orders=40, seed=2) as b:
        yield a, b


def test_the_readme_cron_lines_work_and_are_silent_with_two_stores(
    tmp_path: Path, db_url: str, two_stores: tuple[SampleStore, SampleStore]
) -> None:
    a, b = two_stores  # both plain http://127.0.0.1: each run would warn about it
    config = write_config(tmp_path / "config.toml", db_url, shop=a, outlet=b)
    commands = readme_cron_commands()
    assert len(commands) == 2
    for args in commands * 2:  # the first runs are full syncs, the next incremental
        done = run_cli_subprocess(config, *args)
        assert done.returncode == 0, done.stderr
        assert (done.stdout, done.stderr) == ("", ""), args
    status = run_cli_subprocess(config, "sync", "status", "--format", "json")
    assert {s["store"] for s in status_json(status.stdout)} == {"shop", "outlet"}
    bare = run_cli_subprocess(config, "sync")
    assert bare.returncode == 2 and "--all" in bare.stderr  # why the lines say --all
    loud = run_cli_subprocess(config, "sync", "--all")
    assert "plain http" in loud.stderr  # the warning --quiet kept quiet


def status_json(text: str) -> list[dict[str, object]]:
    stores: list[dict[str, object]] = json.loads(text)["stores"]
    return stores
