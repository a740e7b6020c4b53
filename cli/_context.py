"""What every command needs: the config, the database, a console, the options of the run.

Built once per invocation by the root callback and handed to commands through
``typer.Context.obj`` — no module-level globals.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console

from app import Registry


@dataclass
class AppContext(Registry):
    """The store registry (``app.Registry``) plus what only the command line has."""

    debug: bool = False


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext), "the root callback sets the context"
    return obj


def invocation(argv0: str | None = None, cwd: Path | None = None) -> str:
    """How this run of Bazgasht was started, as a command the owner can type back: hints
    printed with it run as printed. ``bazgasht`` when that is what the shell finds;
    ``.venv/bin/bazgasht`` after ``python3 dev.py`` (not on the PATH); ``python -m cli``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    here = Path.cwd() if cwd is None else cwd
    path = Path(argv0)
    if path.name == "__main__.py" or argv0 in ("-m", "-c", ""):
        return f"{shlex.quote(sys.executable)} -m cli"
    if os.sep not in argv0:  # found on the PATH by the shell
        return argv0
    found = shutil.which("bazgasht")
    absolute = Path(os.path.abspath(argv0))
    if found and absolute.exists() and os.path.samefile(found, absolute):
        return "bazgasht"
    relative = os.path.relpath(absolute, here)
    if not relative.startswith(".."):
        return shlex.quote(relative if os.sep in relative else f".{os.sep}{relative}")
    return shlex.quote(str(absolute))


def stdout_console() -> Console:
    # Created per command so tests that capture sys.stdout see the output.
    return Console(file=sys.stdout, soft_wrap=True)


def stderr_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)
