#!/usr/bin/env python3
"""One-step setup for newcomers and CI: only a Python 3.11+ is needed.

    python3 dev.py demo          # set up .venv, then run `bazgasht demo`
    python3 dev.py test [ARGS]   # set up .venv (with dev tools), then lint, type-check and pytest
    python3 dev.py run ARGS      # set up .venv, then `bazgasht ARGS`

The virtual environment lives in ./.venv and is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _setup(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"Bazgasht needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("Creating .venv …", flush=True)
        venv.create(VENV, with_pip=True)
    target = f".[{extras}]" if extras else "."
    print(f"Installing bazgasht{f'[{extras}]' if extras else ''} into .venv …", flush=True)
    subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            target,
        ],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(digest)


def _run(cmd: list[str]) -> int:
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "run"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        _setup("")
        return _run([str(BIN / "bazgasht"), "demo", *rest])
    if command == "run":
        _setup("")
        return _run([str(BIN / "bazgasht"), *rest])
    _setup("dev")
    for step in (
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
    ):
        if rc := _run(step):
            print(f"dev.py: {' '.join(Path(step[0]).name for _ in [0])} failed", file=sys.stderr)
            return rc
    return _run([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
