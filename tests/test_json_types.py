"""Every JSON output has the same types for the same things (issue 10 item 13):

* money is a decimal string with the currency's decimals (``"10.00"``, ``"935000"``);
* a point's value is a decimal string with at least the currency's decimals;
* rates are JSON numbers (fractions), differences of rates are numbers in percentage points
  under keys ending in ``_pp``;
* no other value is a number written as a string.

The commands run through the real command line on a USD store and a toman store, each with
orders, a loyalty ledger and a campaign whose coupons were used (SQLite or PostgreSQL).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from app import load_config, save_config
from cli.main import run
from connector._schema import order_coupons
from loyalty.campaigns import CampaignSpec, create_campaign, members, run_campaign
from loyalty.ledger import grant
from loyalty.reconcile import reconcile
from loyalty.redeem import redeem
from tests._helpers import write_config
from tests._loyalty import Mirror, day
from tests.test_campaigns import FakeStore

NOW = day(400)

MONEY_KEYS = {
    "revenue", "aov", "customer_value", "clv", "cac", "cost_per_returning_customer", "arpu",
    "liability", "value", "total_spent", "discount", "amount", "min_spend", "max_cost",
    "estimated_cost",
}  # fmt: skip
PRICE_KEYS = {"point_value"}
RATE_KEYS = {
    "repeat_purchase_rate", "returning_customer_rate", "crr", "churn_rate", "activation_rate",
    "redemption_rate", "member_repeat_purchase_rate_12m", "non_member_repeat_purchase_rate_12m",
    "repeat_purchase_rate_12m", "your_acquisition_share", "customer_share", "revenue_share",
    "conversion", "receivers_return_rate", "holdout_return_rate", "retention",
}  # fmt: skip
#: Plain numbers that are not rates (JSON numbers too).
NUMBER_KEYS = {"purchase_frequency", "avg_days_since_last_order", "avg_orders", "percent"}
NUMERIC_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")


def check(value: Any, decimals: int, path: str = "", key: str = "") -> int:
    """Walk a JSON value; assert the rules above; return how many money values were seen."""
    seen = 0
    if isinstance(value, dict):
        for k, v in value.items():
            # ``loyalty settings``' "sources" names where each setting comes from: its keys
            # are settings' names (``point_value``), its values labels, not the values.
            seen += check(v, decimals, f"{path}.{k}", "" if key == "sources" else k)
        return seen
    if isinstance(value, list):
        for n, v in enumerate(value):
            seen += check(v, decimals, f"{path}[{n}]", key)
        return seen
    if value is None:
        return 0
    if key in MONEY_KEYS:
        assert isinstance(value, str), f"{path}: money as a string, not {value!r}"
        shape = r"^-?\d+$" if decimals == 0 else rf"^-?\d+\.\d{{{decimals}}}$"
        assert re.match(shape, value), f"{path}: {value!r} has not {decimals} decimals"
        return 1
    if key in PRICE_KEYS:
        assert isinstance(value, str) and NUMERIC_TEXT.match(value), f"{path}: {value!r}"
        places = len(value.partition(".")[2])
        assert places >= decimals, f"{path}: {value!r} has fewer than {decimals} decimals"
        return 0
    if key in RATE_KEYS or key in NUMBER_KEYS or key.endswith("_pp"):
        assert isinstance(value, int | float) and not isinstance(value, bool), (
            f"{path}: a number, not {value!r}"
        )
        if key in RATE_KEYS:
            assert -10 <= value <= 10, f"{path}: {value} is not a fraction"  # CRR may pass 1
        return 0
    if isinstance(value, str):
        assert not NUMERIC_TEXT.match(value), f"{path}: the number {value!r} written as text"
    return 0


@pytest.fixture(params=[("USD", 2, "100.00"), ("IRT", 0, "935000")], ids=["usd", "irt"])
def shop(
    request: pytest.FixtureRequest, engine: Engine, db_url: str, tmp_path: Path
) -> tuple[Path, int]:
    currency, decimals, total = request.param
    fake = SimpleNamespace(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x")
    path = write_config(tmp_path / "config.toml", db_url, shop=fake)
    cfg = load_config(path)
    cfg.stores["shop"].loyalty = {"starts_at": "2000-01-01", "expiry_months": 14}
    save_config(path, cfg)
    m = Mirror(engine, currency=currency, decimals=decimals)
    m.customer(7, "sofia@example.com", day(0))
    m.order(1, created=day(1), customer=7, total=total)
    m.order(2, created=day(30), customer=7, total=total, refunded=str(Decimal(total) / 4))
    for n in range(3, 9):
        m.order(n, created=day(n), email=f"g{n}@example.com", total=total)
    program = m.program(day(40), expiry_months=14)
    reconcile(engine, program, day(40))
    grant(engine, program, "customer:7", 50, "thank you", day(41))
    least = program.min_redeem_points  # a redemption, for `loyalty coupons`
    grant(engine, program, "customer:7", least, "for a coupon", day(41))
    redeem(engine, FakeStore(), program, "customer:7", least, day(42))
    spec = CampaignSpec("back", "inactive:90d", "fixed_cart", Decimal(total) / 10)
    campaign = create_campaign(engine, m.store_id, spec, NOW)
    create_campaign(
        engine, m.store_id, CampaignSpec("pct", "inactive:90d", "percent", Decimal(12)), NOW
    )
    run_campaign(engine, FakeStore(), m.store_id, "back", NOW)
    used = members(engine, campaign, "issued")[0]
    m.order(99, created=day(403), email=used.email, total=total)
    with engine.begin() as conn:
        conn.execute(
            insert(order_coupons).values(
                store_id=m.store_id, order_id=99, code=used.code, discount=Decimal(total) / 10
            )
        )
    return path, decimals


def output(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    code = run(["--config", str(config), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_every_json_output_types_money_and_rates_alike(
    shop: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    config, decimals = shop
    total = "100.00" if decimals else "935000"
    as_of = ["--as-of", day(410).isoformat()]
    now = ["--now", day(410).isoformat()]
    outputs = {
        "metrics": output(
            config, capsys, "metrics", *as_of, "--format", "json", "--from", "2025-01-01",
            "--acquisition-spend", "1000", "--retention-spend", "300",
        ),
        "cohorts": output(config, capsys, "cohorts", *as_of, "--format", "json"),
        "rfm": output(config, capsys, "rfm", *as_of, "--format", "json"),
        "rfm members": output(
            config, capsys, "rfm", *as_of, "--format", "json", "--segment", "Lost"
        ),
        "summary": output(config, capsys, "loyalty", *now, "summary", "--format", "json"),
        "balance": output(
            config, capsys, "loyalty", *now, "balance", "sofia@example.com", "--format", "json"
        ),
        "top": output(config, capsys, "loyalty", *now, "top", "--format", "json"),
        "expiring": output(
            config, capsys, "loyalty", *now, "expiring", "--within", "400d", "--format", "json"
        ),
        "campaign": output(config, capsys, "campaign", *now, "report", "back", "--format", "json"),
        "campaigns": output(config, capsys, "campaign", "list", "--format", "json"),
        "dry run": output(
            config, capsys, "campaign", *now, "create", "again", "--audience", "inactive:1d",
            "--amount", total, "--min-spend", total, "--dry-run", "--format", "json",
        ),
        "percent dry run": output(
            config, capsys, "campaign", *now, "create", "pct2", "--audience", "inactive:1d",
            "--discount", "12.5%", "--dry-run", "--format", "json",
        ),
        "coupons": output(config, capsys, "loyalty", *now, "coupons", "--format", "json"),
        "settings": output(config, capsys, "loyalty", *now, "settings", "--format", "json"),
    }  # fmt: skip
    money = {name: check(data, decimals) for name, data in outputs.items()}
    # Each output with money in it was seen to carry some (the walk is not vacuous).
    for name in (
        "metrics", "rfm", "rfm members", "summary", "balance", "top", "campaign", "campaigns",
        "dry run", "coupons",
    ):  # fmt: skip
        assert money[name] > 0, name
    assert outputs["expiring"]["customers"], "nothing expiring: the check saw no rows"
    change = outputs["metrics"]["change"]
    assert "repeat_purchase_rate_pp" in change and "repeat_purchase_rate" not in change
    assert isinstance(outputs["campaign"]["conversion"], float)
    assert 0 < outputs["campaign"]["conversion"] <= 1
    assert "lift_pp" in outputs["campaign"]
    offers = {c["name"]: c for c in outputs["campaigns"]["campaigns"]}
    assert offers["pct"]["percent"] == 12 and offers["pct"]["amount"] is None
    assert offers["back"]["percent"] is None and offers["back"]["amount"] is not None
    assert outputs["dry run"]["max_cost"] is not None
    settings = outputs["settings"]["settings"]
    assert settings["expiry_months"] == 14 and isinstance(settings["welcome_points"], int)
    assert settings["guests_earn"] is True and settings["inactivity_expiry_months"] is None
    assert isinstance(settings["point_value"], str) and settings["cashback_percent"] == 2


def test_the_walk_catches_what_it_should() -> None:
    with pytest.raises(AssertionError, match="has not 2 decimals"):
        check({"revenue": "10"}, 2)
    with pytest.raises(AssertionError, match="a number"):
        check({"conversion": "0.500000"}, 2)
    with pytest.raises(AssertionError, match="written as text"):
        check({"something": "12.5"}, 2)
    with pytest.raises(AssertionError, match="money as a string"):
        check({"aov": 12.5}, 2)
    assert check({"revenue": "935000", "points": 5, "crr": 1.2}, 0) == 1
