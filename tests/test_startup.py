"""A command's start-up pays for what it uses (issue 11): ``cli.main`` builds only the
command the arguments name, the packages import their heavier modules on first use, and an
up-to-date database is opened without Alembic. What each command offers is the same as in
the whole application."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from cli.main import COMMANDS, app, build_app, command_named
from tests._helpers import ROOT


def test_the_command_named_by_the_arguments() -> None:
    assert command_named(["metrics", "--format", "json"]) == "metrics"
    assert command_named(["--config", "x.toml", "--debug", "loyalty", "summary"]) == "loyalty"
    assert command_named(["--config=x.toml", "sample-store", "serve"]) == "sample-store"
    # Anything unclear gets the whole application.
    assert command_named([]) is None
    assert command_named(["-h"]) is None
    assert command_named(["--version"]) is None
    assert command_named(["--config", "x.toml"]) is None
    assert command_named(["metric"]) is None  # a typo: the whole app suggests and lists


def _params(command: object) -> list[tuple[object, ...]]:
    return [
        (p.name, tuple(p.opts), tuple(p.secondary_opts), p.required, repr(p.default))
        for p in getattr(command, "params", [])
    ]


@pytest.mark.parametrize("name", [name for name, _, _ in COMMANDS])
def test_a_command_built_alone_is_the_same_as_in_the_whole_application(name: str) -> None:
    whole = typer.main.get_command(app)
    alone = typer.main.get_command(build_app(name))
    assert list(alone.commands) == [name]  # type: ignore[attr-defined]
    assert _params(alone) == _params(whole)  # the root options
    mine = alone.commands[name]  # type: ignore[attr-defined]
    theirs = whole.commands[name]  # type: ignore[attr-defined]
    assert _params(mine) == _params(theirs)
    assert mine.help == theirs.help
    assert sorted(getattr(mine, "commands", {})) == sorted(getattr(theirs, "commands", {}))


def test_metrics_imports_no_http_client_sync_engine_or_alembic(tmp_path: Path) -> None:
    database = tmp_path / "startup.db"
    # The first opening migrates (Alembic); the next ones only compare revisions.
    setup = f"from connector import open_database; open_database('sqlite:///{database}')"
    subprocess.run([sys.executable, "-c", setup], check=True, cwd=ROOT, capture_output=True)
    probe = (
        "import sys; from connector import open_database; "
        f"open_database('sqlite:///{database}').dispose(); "
        "from cli.main import build_app, command_named; "
        "build_app(command_named(['metrics', '--format', 'json'])); "
        "heavy = {'alembic', 'requests', 'urllib3', 'uvicorn', 'starlette', 'matplotlib'}; "
        "ours = {'connector._sync', 'connector._client', 'app._webhooks', 'app._sync', "
        "'loyalty.balances', 'server'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy | set(sys.modules) & ours))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]", done.stderr
