"""A clone with nothing beside it must pass the suite: tests read only the repository."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent


def test_fixtures_live_inside_the_repository() -> None:
    assert FIXTURES.is_relative_to(ROOT)
    assert (FIXTURES / "README.md").is_file()
    assert len(list(FIXTURES.glob("*.json"))) >= 50
    assert (FIXTURES / "webhooks").is_dir()


def test_no_test_reaches_outside_the_repository() -> None:
    outside = re.compile(r"""(\.\./shared|/shared/|parent\.parent\.parent|["']shared["'])""")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if outside.search(line)
    ]
    assert offenders == []
