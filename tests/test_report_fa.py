"""``report --lang fa`` (issue 10 item 14): right to left, Persian digits and month names,
Jalali dates throughout, Persian labels — and exactly the numbers of the English report
(SQLite or PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from cli.main import run
from loyalty.analytics import Calendar, MetricsRequest, report
from loyalty.analytics.language import (
    JALALI_MONTHS_FA,
    TRANSLITERATED_MONTHS,
    jalali_date,
    persian_digits,
)
from loyalty.analytics.report import write_report
from tests.test_analytics import Shop, generated_shop
from tests.test_analytics_outputs import config_for

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


class _Tables(HTMLParser):
    """The report's text: each section's table cells and cards, and all visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.section = ""
        self.rows: dict[str, list[list[str]]] = {}
        self.cards: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._card = False
        self._skip = 0
        self.html_attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.html_attrs = values
        if tag == "section":
            self.section = values.get("id") or ""
        if tag == "tr":
            self.rows.setdefault(self.section, []).append([])
        if tag in ("td", "th"):
            self._cell = []
        if tag == "div" and values.get("class") == "v":
            self._card = True
        if tag in ("style", "code", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[self.section][-1].append("".join(self._cell))
            self._cell = None
        if tag == "div":
            self._card = False
        if tag in ("style", "code", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._card:
            self.cards.append(data)
        if not self._skip:
            self.text.append(data)


def parsed(path: Path) -> _Tables:
    page = _Tables()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


_FROM_PERSIAN = str.maketrans("۰۱۲۳۴۵۶۷۸۹٬٫", "0123456789,.")


def as_english(cell: str) -> str:
    """A Persian number cell written the English way, to compare."""
    text = cell.translate(_FROM_PERSIAN).replace("٪", " %").replace(" واحد درصد", " pp")
    return text.replace("تومان", "IRT").replace("ریال", "IRR")


def toman_shop(engine: Engine) -> Shop:
    """A toman store in Tehran with a year of orders (amounts with thousands)."""
    shop = Shop(engine, name="toman", currency="IRT", decimals=0, timezone="Asia/Tehran")
    start = datetime(2024, 1, 5, 9, tzinfo=UTC)
    for n in range(60):
        when = start + timedelta(days=6 * n)
        shop.order(
            when,
            f"{935_000 + 1_000 * n}",
            email=f"c{n % 17}@x",
            refunded="1500" * (n % 5 == 0) or "0",
        )
    return shop


@pytest.mark.parametrize("currency", ["usd", "irt"])
def test_the_persian_report(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, currency: str
) -> None:
    """The same store in English and in Persian (both with Jalali months): every number of
    every table and card is the same; the Persian one is right to left, with Persian digits,
    Jalali dates and month names everywhere — also on the charts' axes."""
    shop = generated_shop(engine) if currency == "usd" else toman_shop(engine)
    req = MetricsRequest(as_of=AS_OF, calendar=Calendar.JALALI)
    en_path = write_report(engine, shop.id, tmp_path / "en.html", AS_OF, request=req)
    ticks: list[list[str]] = []
    original = report._ticks

    def spy(keys: list[str], words: Any = report.ENGLISH) -> list[str]:
        ticks.append(list(keys))
        return original(keys, words)

    monkeypatch.setattr(report, "_ticks", spy)
    fa_path = write_report(engine, shop.id, tmp_path / "fa.html", AS_OF, request=req, lang="fa")
    en, fa = parsed(en_path), parsed(fa_path)

    # The same numbers.
    assert set(en.rows) == set(fa.rows) == {"headline", "trends", "rfm", "loyalty"}
    compared = 0
    for section, en_rows in en.rows.items():
        fa_rows = fa.rows[section]
        assert len(fa_rows) == len(en_rows), section
        for en_row, fa_row in zip(en_rows[1:], fa_rows[1:], strict=True):  # past the header
            # The first column is a label (a metric, a month, a segment); RFM's last is advice.
            last = len(en_row) - 1 if section == "rfm" else len(en_row)
            for en_cell, fa_cell in zip(en_row[1:last], fa_row[1:last], strict=True):
                assert as_english(fa_cell) == en_cell, (section, en_row[0])
                compared += 1
    assert compared > 100
    assert [as_english(c) for c in fa.cards] == en.cards

    # Persian throughout.
    assert fa.html_attrs == {"lang": "fa", "dir": "rtl"}
    text = "".join(fa.text)
    # Persian digits only: the only Latin digits would be store data (none here).
    assert not re.search(r"[0-9]", text.replace("Europe/Berlin", "").replace("Asia/Tehran", ""))
    assert not any(name in text for name in TRANSLITERATED_MONTHS)
    assert not re.search(r"1[34]\d\d-\d\d", text)
    assert f"تا {jalali_date(AS_OF.astimezone(shop_zone(shop)).date())}" in text
    assert "شاخص‌های اصلی" in text and "پیشنهاد بودجه" in text and "قهرمانان" in text
    if currency == "irt":
        assert "تومان" in text and "IRT" not in text

    # The charts' month axes.
    assert len(ticks) == 4  # the four trend charts
    for keys in ticks:
        for key in keys:
            month, _, year = key.rpartition(" ")
            assert month in JALALI_MONTHS_FA, key
            assert year == persian_digits(year) and not re.search(r"[0-9]", year), key


def shop_zone(shop: Shop) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(shop.timezone or "UTC")


def test_store_data_is_escaped_and_nothing_is_fetched(engine: Engine, tmp_path: Path) -> None:
    shop = Shop(engine, name='<script>alert("x")</script>', timezone="Asia/Tehran")
    shop.order("2024-11-10T10:00:00", "10.00", email="a@x")
    path = write_report(engine, shop.id, tmp_path / "fa.html", AS_OF, lang="fa")
    html = path.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html and "url(" not in html


def test_report_command_takes_lang(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toman_shop(engine)
    config = str(config_for(tmp_path, db_url, "toman"))
    target = tmp_path / "fa.html"
    args = ["--config", config, "report", "--as-of", "2025-01-01", "--output", str(target)]
    assert run([*args, "--lang", "fa"]) == 0, capsys.readouterr().err
    page = parsed(target)
    assert page.html_attrs["dir"] == "rtl"
    assert "آذر ۱۴۰۳" in "".join(page.text)  # Jalali months by default with --lang fa
    assert run([*args, "--lang", "de"]) == 2


def test_chart_text_is_escaped() -> None:
    """Chart labels (months, segment names, a currency in a title) are text, never markup."""
    from loyalty.analytics import charts

    bad = '<script>alert("x")</script>'
    drawn = [
        charts.bar_chart(bad, [bad, "b"], [1, 2], overlay=[1, 1]),
        charts.line_chart(bad, [bad, "b"], [None, 2.5]),
        charts.heatmap(bad, [bad], ["0"], [[100.0]], x_label=bad, alt=bad),
        charts.hbar_chart(bad, [bad], [3], [bad], alt=bad),
    ]
    for svg in drawn:
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        assert svg.startswith("<svg ") and svg.endswith("</svg>")


def test_nice_ticks() -> None:
    from loyalty.analytics.charts import nice_ticks, tick_label

    assert nice_ticks(9_350) == [0, 2_000, 4_000, 6_000, 8_000, 10_000]
    assert nice_ticks(0) == [0.0, 1.0]
    ticks = nice_ticks(11.2)
    assert ticks == [0, 2.5, 5.0, 7.5, 10.0, 12.5]
    assert [tick_label(t, ticks) for t in ticks[:2]] == ["0.0", "2.5"]
    assert tick_label(12_000, nice_ticks(12_000)) == "12,000"
