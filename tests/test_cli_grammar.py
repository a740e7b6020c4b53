"""One grammar for the whole command line (docs/cli.md), checked on every command: each has
``-h`` with an example, its help fits 80 columns without ragged or cut lines, the store is
``--store/-s`` and never positional, output is ``--format`` (``--json`` only as a hidden
alias), ``--quiet`` is ``-q``. Plus ``--version`` and shell completion (issue 10, item 11)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import typer.main

from cli.main import app, run
from tests._helpers import ROOT

#: Commands that act on no store, or on the store named by their argument.
NO_STORE_OPTION = {
    ("init",),
    ("demo",),
    ("sample-store", "serve"),
    ("serve",),
    ("store", "add"),
    ("store", "list"),
    ("store", "remove"),
    ("store", "check"),
    ("store", "repoint"),
    ("sync", "status"),
}
#: Commands that only set things up and print a line about it.
NO_FORMAT_OPTION = {
    ("init",),
    ("demo",),
    ("sample-store", "serve"),
    ("serve",),
    ("storefront", "secret"),
    ("store", "add"),
    ("store", "remove"),
    ("store", "repoint"),
}
#: The positional arguments there are: what a command acts on.
POSITIONALS = {"customer", "points", "name", "key", "value"}


def commands(
    group: Any = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    group = group or typer.main.get_command(app)
    for name, command in sorted(group.commands.items()):
        sub = (*path, name)
        yield sub, command
        if hasattr(command, "commands"):
            yield from commands(command, sub)


ALL = list(commands())
#: Groups that also run without a sub-command.
RUNNABLE_GROUPS = {("sync",), ("loyalty", "settings")}
LEAVES = [(path, c) for path, c in ALL if not hasattr(c, "commands") or path in RUNNABLE_GROUPS]


def help_of(path: tuple[str, ...], capsys: pytest.CaptureFixture[str], flag: str = "-h") -> str:
    capsys.readouterr()
    code = run([*path, flag])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture(autouse=True)
def _eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"sync", "sync status", "loyalty redeem", "campaign pause", "report"} <= names
    assert len(LEAVES) >= 30


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p))
def test_help_has_an_example_and_wraps_cleanly(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(path, capsys)
    assert text.startswith(f"Usage: bazgasht {' '.join(path)} ")
    assert text == help_of(path, capsys, "--help")
    for line in text.splitlines():
        assert len(line) <= 80, f"longer than 80 columns: {line!r}"
        if not line.startswith("Usage:"):
            assert not line.rstrip().endswith("..."), f"a description cut short: {line!r}"
    command = dict(ALL)[path]
    if not hasattr(command, "commands") or path in RUNNABLE_GROUPS:
        examples = re.findall(r"^\s+(bazgasht .*)$", text, flags=re.MULTILINE)
        assert "Example" in text and examples, "no example"
        assert all(e.startswith(f"bazgasht {' '.join(path)}") for e in examples[:1]), examples
    # Paragraphs are filled to the width, not cut where the source line ended: no prose
    # line (outside examples and option lists) is followed by a line that would have fit.
    prose = text.split("\n\n")[1:]
    for paragraph in prose:
        lines = paragraph.splitlines()
        if len(lines) < 2 or not all(re.match(r"  \S", line) for line in lines):
            continue  # option and command lists, indented example lines
        if lines[0].strip().startswith("Example"):
            continue
        for first, second in pairwise(lines):
            room = 78 - len(first)
            assert len(second.split()[0]) >= room, f"ragged wrap after {first!r}"


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=lambda p: " ".join(p))
def test_options_follow_the_grammar(path: tuple[str, ...]) -> None:
    command = dict(ALL)[path]
    options = {opt: p for p in command.params if p.param_type_name == "option" for opt in p.opts}
    positionals = [p for p in command.params if p.param_type_name == "argument"]
    for p in positionals:
        assert p.name in POSITIONALS, f"{p.name} is positional; only {POSITIONALS} may be"
    for opt in options:
        assert re.fullmatch(r"--[a-z][a-z0-9-]*|-[a-z]", opt), opt
    if path in NO_STORE_OPTION:
        assert "--store" not in options
    else:
        assert "--store" in options and options["--store"].opts == ["--store", "-s"]
        assert options["--store"].metavar == "STORE"
    if path in NO_FORMAT_OPTION:
        assert "--format" not in options and "--json" not in options
    else:
        choices = [e.value for e in options["--format"].type_descriptor.annotation]
        assert "json" in choices and ("table" in choices or "csv" in choices)
        assert options["--json"].hidden  # the first version's spelling, kept for scripts
    if "--quiet" in options:
        assert set(options["--quiet"].opts) == {"--quiet", "-q"}


def test_json_is_an_alias_of_format_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[stores.shop]\nurl = "https://shop.example"\nconsumer_key = "ck_x"\n')
    outputs = []
    for flag in (["--json"], ["--format", "json"]):
        capsys.readouterr()
        assert run(["--config", str(config), "store", "list", *flag]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert outputs[0]["stores"][0]["store"] == "shop"


def test_a_store_named_the_old_way_says_how_to_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--config", str(tmp_path / "c.toml"), "sync", "myshop"])
    err = capsys.readouterr().err
    assert code == 2 and "--store myshop" in err
    code = run(["--config", str(tmp_path / "c.toml"), "metrics", "myshop"])
    assert code == 2 and "unexpected extra argument" in capsys.readouterr().err.lower()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert re.fullmatch(r"bazgasht \S+\n", capsys.readouterr().out)


def test_shell_completion_of_commands_and_store_names(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[stores.myshop]\nurl = "https://a.example"\nconsumer_key = "ck_x"\n\n'
        '[stores.other]\nurl = "https://b.example"\nconsumer_key = "ck_y"\n'
    )

    def complete(words: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "cli"],
            env={
                **os.environ,
                "_BAZGASHT_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
            },
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("bazgasht loyalty ba") == ["balance"]
    assert complete(f"bazgasht --config {config} loyalty top --store ") == ["myshop", "other"]
    # Typer guesses the shell from the process tree unless told not to; under pytest the
    # nearest shell may be missing (a helper process, a CI runner), so name it explicitly.
    shown = subprocess.run(
        [sys.executable, "-m", "cli", "--show-completion", "bash"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
    )  # fmt: skip
    assert shown.returncode == 0 and "_BAZGASHT_COMPLETE" in shown.stdout


def _options_of(command: Any) -> set[str]:
    found: set[str] = set()
    for p in command.params:
        if p.param_type_name == "option":
            found |= set(p.opts) | set(p.secondary_opts)
    return found


def documented_commands() -> dict[tuple[str, ...], str]:
    """docs/cli.md's "Every command" block: each command path and its synopsis."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = text.split("## Every command", 1)[1].split("```")[1]
    entries: list[str] = []
    for line in block.strip().splitlines():
        if line.startswith("bazgasht "):
            entries.append(line)
        else:
            entries[-1] += " " + line.strip()
    found: dict[tuple[str, ...], str] = {}
    for entry in entries:
        words: list[str] = []
        for word in entry.split()[1:]:
            if word.startswith(("[", "-", "(")) or word.isupper():
                break
            words.append(word)
        *group, last = words
        for name in last.split("|"):
            found[(*group, name)] = entry
    return found


def test_docs_list_every_command_with_its_real_options() -> None:
    documented = documented_commands()
    assert set(documented) == {path for path, _ in LEAVES}
    for path, entry in documented.items():
        real = _options_of(dict(ALL)[path])
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])\b", entry):
            assert option in real, f"docs/cli.md: {' '.join(path)} has no {option}"


def test_readme_commands_exist_with_their_options() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    spans = re.findall(r"`(bazgasht [^`]+)`", table)
    assert len(spans) >= 15
    top = typer.main.get_command(app).commands
    root = _options_of(typer.main.get_command(app))
    for span in spans:
        first = span.split()[1]
        if first.startswith("-"):
            assert first in root, span
            continue
        assert first in top, span
        group = top[first]
        commands = list(group.commands.values()) if hasattr(group, "commands") else [group]
        if first == "sync":
            commands.append(group)
        real = set().union(*(_options_of(c) for c in commands))
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])\b", span):
            assert option in real, f"README: {span} — no {option}"
