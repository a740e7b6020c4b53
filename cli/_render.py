"""Store data on the owner's terminal: shown as the text it is, never as markup or control
sequences.

Names, e-mails, phones, coupon codes, order statuses and error messages come from the store,
which means from anyone who can type into a checkout form. rich reads square brackets in a
``str`` as markup: a customer named ``[/]`` crashed ``loyalty top`` (MarkupError), and
``[link=https://evil.example]Support[/link]`` became a clickable link in the owner's
terminal. Raw escape sequences could recolour, retitle or rewrite the screen.

So every table of the CLI is this module's ``Table``, which turns each ``str`` it is given
(title, headers, cells) into a plain ``Text`` after ``clean()``; a cell the CLI styles on
purpose is built as a ``Text`` (``Text.from_markup`` on our own words) and passes untouched.
Messages printed through rich use ``esc()`` for what they interpolate; lines printed with
``typer.echo`` and log lines use ``clean()``; JSON goes through ``json_text()``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rich.console import RenderableType
from rich.markup import escape
from rich.table import Column
from rich.table import Table as RichTable
from rich.text import Text

#: C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-byte CSI), and the
#: bidirectional overrides and isolates that make text display in another order than it is
#: stored ("Trojan Source"). Joiners and marks Persian needs (ZWNJ, ZWJ, LRM, RLM) stay.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile("[\x80-\x9f]")


def clean(value: object) -> str:
    """``value`` as text without control characters (tab and newline are kept)."""
    return _CONTROL.sub("", "" if value is None else str(value))


def esc(value: object) -> str:
    """``value`` for inside a string rich reads as markup: cleaned, brackets escaped."""
    return escape(clean(value))


def cell(value: object) -> Text:
    """``value`` as a table cell that is only ever text."""
    return Text(clean(value))


def _plain(value: Any) -> Any:
    return cell(value) if isinstance(value, str) else value


class Table(RichTable):
    """rich's ``Table`` for data: every ``str`` title, header and cell is plain text."""

    def __init__(self, *headers: Any, **options: Any) -> None:
        for key in ("title", "caption"):
            if isinstance(options.get(key), str):
                options[key] = cell(options[key])
        super().__init__(
            *(Column(header=cell(h)) if isinstance(h, str) else h for h in headers), **options
        )

    def add_row(
        self, *renderables: RenderableType | None, style: Any = None, end_section: bool = False
    ) -> None:
        super().add_row(*(_plain(r) for r in renderables), style=style, end_section=end_section)


def json_text(data: Any) -> str:
    """JSON for machines, readable UTF-8. ``json`` escapes C0 controls itself; C1 controls
    (which some terminals obey) are escaped too — the same value, nothing for a terminal."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class CleanLogRecords(logging.Filter):
    """Log lines can quote the store (an invalid record, an error page): clean them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = clean(record.getMessage())
        record.args = None
        return True


__all__ = ["CleanLogRecords", "Table", "cell", "clean", "esc", "json_text"]
