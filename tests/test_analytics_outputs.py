"""Cohorts, RFM, loyalty figures, the commands and the HTML report, on hand-made and generated
stores (SQLite, or PostgreSQL with ``BAZGASHT_TEST_POSTGRES``)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine, inspect

from cli.analytics import headline
from cli.main import run
from loyalty.analytics import (
    SEGMENTS,
    Calendar,
    cohort_table,
    open_analysis,
    rfm_members,
    rfm_summary,
    write_report,
)
from loyalty.analytics.program_figures import figures_if_ledger
from tests import test_analytics
from tests.test_analytics import Shop, generated_shop, utc

history = test_analytics.history  # the fixture of the hand-computed history

GEN_AS_OF = utc("2025-01-01T00:00:00")


# --- RFM ---------------------------------------------------------------------------------------


@pytest.fixture
def five(engine: Engine) -> Shop:
    """Five customers, as of 2024-07-01 00:00 UTC, every R, F and M different.

    ===  ======================  =====  =  ======  ================
    who  last order              R (d)  F  M       R/F/M → segment
    ===  ======================  =====  =  ======  ================
    p    2024-06-30 12:00          0    1   10.00  5/1/1 New
    q    2024-06-20 12:00         10    2   40.00  4/2/3 Potential loyalist
    r    2024-03-01 12:00        121    3   90.00  3/3/4 Need attention
    s    2023-12-01 12:00        212    4  200.00  2/4/5 At risk
    t    2023-06-01 12:00        395    5   25.00  1/5/2 Can't lose
    ===  ======================  =====  =  ======  ================

    With n = 5 distinct values the rank is the score (1 + ⌊5 (rank − 1)/5⌋ = rank).
    """
    shop = Shop(engine)
    shop.order("2024-06-30T12:00:00", "10.00", email="p@x")
    shop.order("2024-05-01T12:00:00", "20.00", email="q@x")
    shop.order("2024-06-20T12:00:00", "20.00", email="q@x")
    for month in (1, 2, 3):
        shop.order(f"2024-0{month}-01T12:00:00", "30.00", email="r@x")
    for month in (9, 10, 11, 12):
        shop.order(f"2023-{month:02d}-01T12:00:00", "50.00", email="s@x")
    for month in (2, 3, 4, 5, 6):
        shop.order(f"2023-0{month}-01T12:00:00", "5.00", email="t@x")
    shop.guest("p@x", "Parisa", "Pahlavan", latest_order=1)
    return shop


def test_rfm_scores_and_segments(five: Shop) -> None:
    as_of = utc("2024-07-01T00:00:00")
    with open_analysis(five.engine, five.id, as_of=as_of) as analysis:
        summary = rfm_summary(analysis.counted)
        found = {
            m.email: (
                m.days_since_last_order,
                m.orders,
                m.total_spent,
                m.r_score,
                m.f_score,
                m.m_score,
                name,
            )
            for name in SEGMENTS
            for m in rfm_members(analysis.counted, name)
        }
    assert found == {
        "p@x": (0, 1, Decimal("10.00"), 5, 1, 1, "New"),
        "q@x": (10, 2, Decimal("40.00"), 4, 2, 3, "Potential loyalist"),
        "r@x": (121, 3, Decimal("90.00"), 3, 3, 4, "Need attention"),
        "s@x": (212, 4, Decimal("200.00"), 2, 4, 5, "At risk"),
        "t@x": (395, 5, Decimal("25.00"), 1, 5, 2, "Can't lose"),
    }
    sizes = {s.name: s.customers for s in summary.segments}
    assert sum(sizes.values()) == summary.customers == 5
    assert summary.revenue == Decimal("365.00")
    at_risk = next(s for s in summary.segments if s.name == "At risk")
    assert at_risk.revenue_share == Decimal(200) / Decimal(365)


def test_rfm_ties_share_a_score_and_one_order_customers_score_f1(engine: Engine) -> None:
    """Four one-order customers and one with two orders: the four tie at F rank 1 → F = 1;
    the repeat customer has rank 5 → F = 1 + ⌊5·4/5⌋ = 5. Two of the one-order customers
    ordered on the same day (R ties) and share an R score."""
    shop = Shop(engine)
    shop.order("2024-06-01T08:00:00", "10", email="a@x")
    shop.order("2024-06-01T20:00:00", "10", email="b@x")
    shop.order("2024-05-01T00:00:00", "10", email="c@x")
    shop.order("2024-04-01T00:00:00", "10", email="d@x")
    shop.order("2024-03-01T00:00:00", "10", email="e@x")
    shop.order("2024-03-02T00:00:00", "10", email="e@x")
    with open_analysis(engine, shop.id, as_of=utc("2024-06-10T00:00:00")) as analysis:
        members = {
            m.email: (m.r_score, m.f_score)
            for name in SEGMENTS
            for m in rfm_members(analysis.counted, name)
        }
    assert {email: f for email, (_, f) in members.items()} == {
        "a@x": 1,
        "b@x": 1,
        "c@x": 1,
        "d@x": 1,
        "e@x": 5,
    }
    assert members["a@x"][0] == members["b@x"][0] == 4  # 8 days each: both rank 4 of 5


def test_rfm_on_a_generated_store_is_consistent(engine: Engine) -> None:
    """Segment sizes add up to the customers; an export has one row per segment customer."""
    shop = generated_shop(engine)
    with open_analysis(engine, shop.id, as_of=GEN_AS_OF) as analysis:
        summary = rfm_summary(analysis.counted)
        exported = {name: rfm_members(analysis.counted, name) for name in SEGMENTS}
    everyone = shop.metrics("2025-01-01T00:00:00", first_day=date(2022, 1, 1))
    assert summary.customers == everyone.current.counts.customers
    assert sum(s.customers for s in summary.segments) == summary.customers
    assert summary.revenue == everyone.current.counts.revenue
    for segment in summary.segments:
        members = exported[segment.name]
        assert len(members) == segment.customers
        assert len({m.identity for m in members}) == len(members)
        assert sum((m.total_spent for m in members), Decimal(0)) == segment.revenue
    shares = [s.customer_share for s in summary.segments if s.customer_share is not None]
    assert abs(sum(shares) - 1) < Decimal("1e-20")


# --- cohorts -----------------------------------------------------------------------------------


def test_cohorts_by_hand(history: Shop) -> None:
    """As of 1 June 2024, cohorts March–May 2024: March's first-time customers are b,
    customer 2 and the e-mail-less order (3); none of them ordered in April or May → 100 %,
    0 %, 0 %. May: customer 5 (05-30), 1 → 100 %. April: nobody."""
    with open_analysis(history.engine, history.id, as_of=utc("2024-06-01T00:00:00")) as analysis:
        table = cohort_table(analysis.counted, analysis.store.zone, Calendar.GREGORIAN, months=3)
    assert [(c.key, c.size, c.counts) for c in table.cohorts] == [
        ("2024-03", 3, (3, 0, 0)),
        ("2024-04", 0, (0, 0)),
        ("2024-05", 1, (1,)),
    ]
    assert table.cohorts[0].retention == (Decimal(1), Decimal(0), Decimal(0))
    assert table.cohorts[1].retention == (None, None)  # an empty cohort has no shares


def test_cohorts_on_a_generated_store_are_consistent(engine: Engine) -> None:
    """Month 0 is 100 % for every non-empty cohort; cohort sizes are the months' new
    customers; shares stay within [0, 1]; the Jalali table has as many customers."""
    shop = generated_shop(engine)
    with open_analysis(engine, shop.id, as_of=GEN_AS_OF) as analysis:
        table = cohort_table(analysis.counted, analysis.store.zone, Calendar.GREGORIAN, 12)
        jalali = cohort_table(analysis.counted, analysis.store.zone, Calendar.JALALI, 12)
    report = shop.metrics("2025-01-01T00:00:00")
    new_by_month = {r.period.key: r.counts.new_customers for r in report.trend}
    assert len(table.cohorts) == 12
    # As of 1 January 01:00 Berlin time the last cohort is January 2025, so far.
    assert [c.key for c in table.cohorts][-2:] == ["2024-12", "2025-01"]
    for cohort in table.cohorts[:-1]:
        assert cohort.size == new_by_month[cohort.key]
    for cohort in table.cohorts:
        if cohort.size:
            assert cohort.retention[0] == 1
        assert all(v is None or 0 <= v <= 1 for v in cohort.retention)
    assert [len(c.retention) for c in table.cohorts] == list(range(12, 0, -1))
    assert jalali.cohorts[-1].label.startswith("Dey 1403")  # 1 Jan 2025 is in Dey 1403


@pytest.mark.parametrize("calendar", [Calendar.GREGORIAN, Calendar.JALALI])
def test_long_cohort_tables_match_the_orders(engine: Engine, calendar: Calendar) -> None:
    """40 monthly cohorts (two month masks in the pass per customer, 30 months each): every
    cell equals a count made in Python from the counted orders themselves."""
    from sqlalchemy import select

    from loyalty.analytics import periods as P

    shop = generated_shop(engine)
    with open_analysis(engine, shop.id, as_of=GEN_AS_OF) as analysis:
        table = cohort_table(analysis.counted, analysis.store.zone, calendar, 40)
        t = analysis.counted.table
        rows = analysis.counted.conn.execute(select(t.c.ident, t.c.x)).all()
        zone = analysis.store.zone
    month_of = {}
    for ident, x in rows:
        moment = x.replace(tzinfo=UTC) if x.tzinfo is None else x
        unit = P.unit_period(P.local_day(moment, zone), P.PeriodKind.MONTH, calendar, zone)
        month_of.setdefault(ident, set()).add(unit.key)
    first = {ident: min(months, key=lambda k: [int(p) for p in k.split("-")])
             for ident, months in month_of.items()}  # fmt: skip
    keys = [c.key for c in table.cohorts]
    assert len(keys) == 40
    for index, cohort in enumerate(table.cohorts):
        members = [i for i, k in first.items() if k == cohort.key]
        assert cohort.size == len(members), cohort.key
        expected = tuple(sum(1 for i in members if later in month_of[i]) for later in keys[index:])
        assert cohort.counts == expected, cohort.key


# --- loyalty figures ---------------------------------------------------------------------------


def test_loyalty_figures_from_the_ledger(history: Shop) -> None:
    """Ledger: customer:1 earns 100 and 58, redeems 100 (balance 58); email:b@x earns 40,
    redeems 40, loses 20 to a reversal (−20); customer:2 earns 200, all expire (0).
    Issued = 100 + 58 + 40 − 20 + 200 = 378; redeemed 140; expired 200; outstanding = the
    positive balances = 58 → liability 0.58 at 0.01 a point; redemption rate 140/378.
    Members: all three (customer:2's second-purchase key still holds its 200, expired or not).
    Trailing 12 months (as of 1 June): members 1, b, 2 → 1 and 2 repeat: 2/3; non-members
    (the e-mail-less order, customer 5): 0/2."""
    if not inspect(history.engine).has_table("loyalty_ledger"):
        pytest.skip("no loyalty ledger in this database")  # pragma: no cover
    from loyalty.ledger import append
    from loyalty.rules import NewEntry

    at = utc("2024-04-01T00:00:00")
    entries = [
        ("welcome:shop:customer:1", "customer:1", 100, "earn"),
        ("cashback:shop:11", "customer:1", 58, "earn"),
        ("redeem:shop:1", "customer:1", -100, "redemption"),
        ("cashback:shop:12", "email:b@x", 40, "earn"),
        ("redeem:shop:2", "email:b@x", -40, "redemption"),
        ("cashback:shop:13", "email:b@x", -20, "reversal"),
        ("second:shop:customer:2", "customer:2", 200, "earn"),
        ("expiry:shop:second:shop:customer:2", "customer:2", -200, "expiry"),
    ]
    with history.engine.begin() as conn:
        append(
            conn,
            history.id,
            [NewEntry(key, 1, who, points, kind, "test", at) for key, who, points, kind in entries],
            at,
        )
    with open_analysis(history.engine, history.id, as_of=utc("2024-06-01T00:00:00")) as analysis:
        window = (utc("2023-06-02T00:00:00"), analysis.as_of)
        figures = figures_if_ledger(analysis.counted, point_value=Decimal("0.01"), window=window)
        balances = {
            m.identity: m.loyalty_balance
            for name in SEGMENTS
            for m in rfm_members(analysis.counted, name)
        }
    assert figures is not None
    assert (figures.members, figures.points_issued, figures.points_redeemed) == (3, 378, 140)
    assert (figures.points_expired, figures.points_outstanding) == (200, 58)
    assert figures.liability == Decimal("0.58")
    assert figures.redemption_rate == Decimal(140) / 378
    assert figures.member_repeat_rate == Decimal(2) / 3
    assert figures.non_member_repeat_rate == 0
    assert balances.get("email:b@x") == -20


# --- commands ----------------------------------------------------------------------------------


def config_for(tmp_path: Path, db_url: str, store: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'database_url = "{db_url}"\n\n[stores.{store}]\n'
        'url = "https://example.invalid"\nconsumer_key = "ck_test"\n'
    )
    path.chmod(0o600)
    return path


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_metrics_command_in_every_format(
    history: Shop, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_for(tmp_path, db_url, "shop"))
    base = ["--config", config, "metrics", "--as-of", "2024-06-01", "--from", "2024-03-01"]
    base += ["--to", "2024-03-31", "--acquisition-spend", "300", "--retention-spend", "60"]
    code, out, err = cli([*base, "--format", "json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["metrics"]["orders"] == 6
    assert data["metrics"]["cac"] == "100.00"
    assert data["budget"]["band"] == "40–70 %"
    code, out, err = cli([*base, "--format", "csv"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert rows[0]["role"] == "current" and rows[0]["orders"] == "6"
    assert rows[0]["repeat_purchase_rate"] == "0.5"
    code, out, err = cli(base, capsys)
    assert code == 0, err
    assert "March 2024" in out and "Budget advice" in out
    assert "33.33" in out and "50.0 %" in out
    assert "—" in out  # February has no customers: its rates are undefined
    code, out, err = cli(
        ["--config", config, "metrics", "--as-of", "2024-06-01", "--calendar", "jalali"], capsys
    )
    assert code == 0, err
    assert "Ordibehesht 1403" in out and "Farvardin 1403" in out


def test_metrics_command_rejects_bad_input(
    history: Shop, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_for(tmp_path, db_url, "shop"))
    code, _, err = cli(["--config", config, "metrics", "--from", "2024-02-30"], capsys)
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = cli(["--config", config, "metrics", "--acquisition-spend", "-5"], capsys)
    assert code == 2 and "positive" in err
    code, _, err = cli(["--config", config, "rfm", "--segment", "sleepy"], capsys)
    assert code == 2 and "At risk" in err


def test_cohorts_and_rfm_commands(
    history: Shop, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_for(tmp_path, db_url, "shop"))
    code, out, err = cli(
        [
            "--config",
            config,
            "cohorts",
            "--as-of",
            "2024-06-01",
            "--months",
            "3",
            "--format",
            "csv",
        ],
        capsys,
    )
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.removeprefix("\ufeff"))))
    assert rows[0] == ["cohort", "label", "customers", "m0", "m1", "m2"]
    assert rows[1] == ["2024-03", "March 2024", "3", "1.0", "0.0", "0.0"]
    code, out, err = cli(["--config", config, "cohorts", "--as-of", "2024-06-01"], capsys)
    assert code == 0
    assert "March 2024              3  100   0   0" in out
    code, out, err = cli(
        ["--config", config, "rfm", "--as-of", "2024-06-01", "--format", "json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert sum(s["customers"] for s in data["segments"]) == data["customers"] == 6
    code, out, err = cli(["--config", config, "rfm", "--as-of", "2024-06-01"], capsys)
    assert code == 0 and "Champions" in out


def test_rfm_export_has_one_row_per_customer_of_the_segment(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = generated_shop(engine)
    config = str(config_for(tmp_path, db_url, shop.name))
    with open_analysis(engine, shop.id, as_of=GEN_AS_OF) as analysis:
        sizes = {s.name: s.customers for s in rfm_summary(analysis.counted).segments}
    segment = max(sizes, key=lambda name: sizes[name])
    target = tmp_path / "campaign.csv"
    code, out, err = cli(
        ["--config", config, "rfm", "--as-of", "2025-01-01T00:00:00+00:00",
         "--segment", segment.lower().replace(" ", "-"), "--export", str(target)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sizes[segment] > 0
    assert len({row["identity"] for row in rows}) == len(rows)
    assert {row["segment"] for row in rows} == {segment}
    assert list(rows[0]) == [
        "email", "first_name", "last_name", "phone", "segment", "r_score", "f_score",
        "m_score", "days_since_last_order", "orders", "last_order_date", "total_spent",
        "loyalty_balance", "identity",
    ]  # fmt: skip
    with_email = [r for r in rows if r["identity"].startswith(("customer:", "email:"))]
    assert all(r["email"] for r in with_email)
    assert f"{len(rows):,} customers" in out


# --- the HTML report ---------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.charts: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.meta: list[dict[str, str | None]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.sections.append(values.get("id") or "")
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "svg":
            self.charts.append(values)
        if tag in {"a", "link", "script"}:
            self.links.append(values.get("href") or values.get("src") or "")
        if tag == "meta":
            self.meta.append(values)
        if tag not in {"meta", "img", "br", "link"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def test_report_is_one_self_contained_html_file(engine: Engine, tmp_path: Path) -> None:
    shop = generated_shop(engine)
    path = write_report(engine, shop.id, tmp_path / "report.html", GEN_AS_OF)
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.open == []  # every element closed in order
    assert page.sections == ["headline", "budget", "trends", "cohorts", "rfm", "loyalty"]
    # 4 trends, the heatmap, the segments: inline SVG, each with its accessible name.
    assert page.images == []
    assert len(page.charts) == 6
    assert all(chart.get("role") == "img" and chart.get("aria-label") for chart in page.charts)
    assert page.links == []  # nothing to fetch
    assert any(m.get("name") == "viewport" for m in page.meta)  # readable on a phone


def test_report_command_and_an_empty_store(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Shop(engine, name="empty")
    config = str(config_for(tmp_path, db_url, "empty"))
    target = tmp_path / "empty.html"
    code, out, err = cli(["--config", config, "report", "--output", str(target)], capsys)
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    assert "No orders yet" in html and "No cohorts yet" in html
    assert "Wrote" in out


def test_headline_for_the_demo(engine: Engine) -> None:
    shop = generated_shop(engine)
    console = Console(file=io.StringIO(), width=100)
    console.print(headline(engine, shop.id, datetime(2025, 1, 15, tzinfo=UTC)))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "December 2024" in text and "Budget advice" in text and "CLV" in text
