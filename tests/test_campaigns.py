"""Campaigns on hand-made mirrors (no HTTP): audiences, exactly-once enrollment and issue,
hold-out, results and export."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from connector import ALREADY_EXISTS, BadRequestError, ConfigError, LockHeld
from connector._lock import store_lock
from connector._schema import guests, order_coupons
from loyalty import reconcile
from loyalty.analytics.language import jalali_date
from loyalty.campaigns import (
    TEMPLATES,
    CampaignError,
    CampaignSpec,
    campaign_results,
    create_campaign,
    export_rows,
    get_campaign,
    list_campaigns,
    members,
    parse_audience,
    preview,
    run_campaign,
    select_audience,
    set_status,
)
from loyalty.campaigns._schema import campaign_members
from loyalty.campaigns.audiences import History, first_order_followup, inactive
from loyalty.campaigns.export import check_template
from loyalty.campaigns.issue import in_holdout
from loyalty.codes import CAMPAIGN_PREFIX, code_pattern
from tests._loyalty import Mirror, day

NOW = day(400)


class FakeStore:
    """Coupons by code, as the client sees them; counts the POSTs."""

    store = "shop"

    def __init__(self) -> None:
        self.coupons: dict[str, dict[str, Any]] = {}
        self.posts = 0
        self.lose_answers = False

    def get(self, path: str, params: Any = None) -> Any:
        assert path == "coupons"
        found = self.coupons.get(str(params["code"]).lower())
        return [copy.deepcopy(found)] if found else []

    def post(self, path: str, json: Any) -> Any:
        assert path == "coupons"
        self.posts += 1
        code = json["code"].lower()
        if code in self.coupons:
            raise BadRequestError(
                "exists", store="shop", url="coupons", status=400, code=ALREADY_EXISTS
            )
        body = {**json, "id": len(self.coupons) + 1}
        self.coupons[code] = body
        return copy.deepcopy(body)


def _days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


# ---------------------------------------------------------------- audiences


def test_parse_audience() -> None:
    assert parse_audience("segment:at_risk").segment == "At risk"
    assert parse_audience("segment:cant_lose").segment == "Can't lose"
    assert parse_audience("first-order-followup").spec == "first-order-followup:7-30d"
    assert parse_audience("first-order-followup:3-14d").spec == "first-order-followup:3-14d"
    assert parse_audience("inactive:90d").min_days == 90
    assert parse_audience("points-expiring:30d").spec == "points-expiring:30d"
    for bad in ("segment:vip", "inactive", "inactive:0d", "first-order-followup:30-7d", "x"):
        with pytest.raises(ConfigError):
            parse_audience(bad)


def test_pure_rules() -> None:
    def h(ident: str, n: int, first: float, last: float) -> History:
        return History(ident, n, _days_ago(first), _days_ago(last), Decimal(10) * n)

    found = [
        h("a", 1, 10, 10),
        h("b", 1, 3, 3),
        h("c", 2, 20, 10),
        h("d", 1, 40, 40),
        h("e", 1, 7, 7),
        h("f", 1, 30, 30),
    ]
    assert first_order_followup(found, NOW, 7, 30) == ["a", "e", "f"]
    assert inactive(found, NOW, 30) == ["d", "f"]


def test_first_order_followup_and_inactive_over_the_mirror(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "one@example.com", _days_ago(200))
    m.order(1, created=_days_ago(10), customer=1)  # one order, 10 days ago: in
    m.customer(2, "two@example.com", _days_ago(200))
    m.order(2, created=_days_ago(3), customer=2)  # too recent
    m.customer(3, "three@example.com", _days_ago(200))
    m.order(3, created=_days_ago(20), customer=3)
    m.order(4, created=_days_ago(15), customer=3)  # two orders: out
    m.order(5, created=_days_ago(12), email="guest@example.com")  # guest, in
    m.order(6, created=_days_ago(10), email="cancel@example.com", status="cancelled")
    m.order(7, created=_days_ago(120), email="old@example.com")  # inactive
    m.order(8, created=_days_ago(100), email="gone@example.com", status="completed")
    m.order(9, created=_days_ago(20), email="gone@example.com", deleted=_days_ago(1))
    m.order(10, created=_days_ago(95), email="")  # no e-mail: order identity
    follow = select_audience(engine, m.store_id, parse_audience("first-order-followup"), NOW)
    assert follow == ["customer:1", "email:guest@example.com"]
    idle = select_audience(engine, m.store_id, parse_audience("inactive:90d"), NOW)
    assert idle == ["email:gone@example.com", "email:old@example.com", "order:10"]


def test_segment_audience(engine: Engine) -> None:
    m = Mirror(engine)
    order_id = 0
    for k in range(1, 6):  # customer k: k orders, the last 10·k days ago → R = 6 − k, F = k
        m.customer(k, f"c{k}@example.com", _days_ago(500))
        for j in range(k):
            order_id += 1
            m.order(order_id, created=_days_ago(10 * k + 5 * j), customer=k)

    def seg(name: str) -> list[str]:
        return select_audience(engine, m.store_id, parse_audience(f"segment:{name}"), NOW)

    assert seg("new") == ["customer:1"]
    assert seg("potential_loyalist") == ["customer:2"]
    assert seg("need_attention") == ["customer:3"]
    assert seg("at_risk") == ["customer:4"]
    assert seg("cant_lose") == ["customer:5"]
    assert seg("hibernating") == []


def test_points_expiring_audience(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(1, "soon@example.com", _days_ago(350))  # welcome points expire in ~15 days
    m.customer(2, "later@example.com", _days_ago(100))
    program = m.program(NOW, expiry_months=12)
    reconcile(engine, program, NOW)
    found = select_audience(
        engine, m.store_id, parse_audience("points-expiring:30d"), NOW, program=program
    )
    assert found == ["customer:1"]
    with pytest.raises(ConfigError):
        select_audience(engine, m.store_id, parse_audience("points-expiring:30d"), NOW)


# ---------------------------------------------------------------- create and run


def _idle_guests(m: Mirror, n: int, start: int = 1) -> None:
    for i in range(start, start + n):
        m.order(i, created=_days_ago(100 + i), email=f"g{i}@example.com", total="40.00")


SPEC = CampaignSpec("winback", "inactive:90d", "fixed_cart", Decimal("5"), valid_days=30)


def test_run_issues_one_coupon_each_and_a_rerun_only_newcomers(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 6)
    store = FakeStore()
    c = create_campaign(engine, m.store_id, SPEC, NOW)
    first = run_campaign(engine, store, m.store_id, "winback", NOW)
    assert (first.audience, first.enrolled, first.issued) == (6, 6, 6)
    assert store.posts == 6 and len(store.coupons) == 6
    issued = members(engine, c, "issued")
    assert {x.code for x in issued} == set(store.coupons)
    coupon = store.coupons[issued[0].code or ""]
    assert coupon["discount_type"] == "fixed_cart" and coupon["amount"] == "5.00"
    assert coupon["usage_limit"] == 1 and coupon["email_restrictions"] == [issued[0].email]
    assert coupon["date_expires"] == (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    # unchanged audience: nothing new
    again = run_campaign(engine, store, m.store_id, "winback", NOW + timedelta(hours=1))
    assert (again.enrolled, again.issued) == (0, 0)
    assert store.posts == 6
    # two customers newly idle: only they get coupons
    _idle_guests(m, 2, start=50)
    third = run_campaign(engine, store, m.store_id, "winback", NOW + timedelta(hours=2))
    assert (third.enrolled, third.issued) == (2, 2)
    assert store.posts == 8 and len(store.coupons) == 8


def test_pending_members_are_finished_without_a_second_coupon(engine: Engine) -> None:
    """A coupon made before a crash (the member still pending) is found, not made again."""
    m = Mirror(engine)
    _idle_guests(m, 3)
    store = FakeStore()
    c = create_campaign(engine, m.store_id, SPEC, NOW)
    set_status(engine, m.store_id, "winback", "paused")
    assert run_campaign(engine, store, m.store_id, "winback", NOW).enrolled == 0
    set_status(engine, m.store_id, "winback", "active")
    from loyalty.campaigns.issue import enroll

    enroll(engine, c, [f"email:g{i}@example.com" for i in (1, 2, 3)], NOW)
    pending = members(engine, c, "pending")
    assert len(pending) == 3
    assert all(code_pattern(CAMPAIGN_PREFIX).fullmatch(x.code or "") for x in pending)
    store.coupons[pending[0].code or ""] = {
        "id": 99,
        "code": pending[0].code,
        "amount": "5.00",
        "discount_type": "fixed_cart",
    }
    result = run_campaign(engine, store, m.store_id, "winback", NOW)
    assert result.issued == 3 and store.posts == 2 and len(store.coupons) == 3
    assert members(engine, c, "issued")[0].coupon_id == 99


def test_pause_resume_list_and_duplicate_names(engine: Engine) -> None:
    m = Mirror(engine)
    create_campaign(engine, m.store_id, SPEC, NOW)
    with pytest.raises(CampaignError, match="exists already"):
        create_campaign(engine, m.store_id, SPEC, NOW)
    assert set_status(engine, m.store_id, "winback", "paused").status == "paused"
    assert [c.status for c in list_campaigns(engine, m.store_id)] == ["paused"]
    assert set_status(engine, m.store_id, "winback", "active").status == "active"


def test_holdout_customers_never_get_a_coupon(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 60)
    store = FakeStore()
    spec = CampaignSpec("test", "inactive:90d", "percent", Decimal(15), holdout_percent=30)
    dry = preview(engine, m.store_id, spec, NOW)
    c = create_campaign(engine, m.store_id, spec, NOW)
    result = run_campaign(engine, store, m.store_id, "test", NOW)
    held = members(engine, c, "holdout")
    issued = members(engine, c, "issued")
    assert 5 < len(held) < 35 and len(held) + len(issued) == 60
    assert (
        (dry.holdout, dry.would_get_coupon)
        == (len(held), len(issued))
        == (
            result.holdout,
            result.issued,
        )
    )
    assert all(x.holdout and x.code is None for x in held)
    mailed = {c["email_restrictions"][0] for c in store.coupons.values()}
    assert mailed.isdisjoint({x.email for x in held})
    assert all(in_holdout(m.store_id, "test", x.identity, 30) for x in held)
    assert store.coupons[issued[0].code or ""]["discount_type"] == "percent"
    assert store.coupons[issued[0].code or ""]["amount"] == "15.00"
    # re-runs never move anyone between the groups
    run_campaign(engine, store, m.store_id, "test", NOW + timedelta(days=1))
    assert len(members(engine, c, "holdout")) == len(held) and len(store.coupons) == len(issued)


def test_dry_run_creates_nothing_and_shows_the_cost(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 4)
    m.order(90, created=_days_ago(95), email="")  # no e-mail: cannot get a coupon
    found = preview(engine, m.store_id, SPEC, NOW)
    assert (found.audience, found.no_email, found.would_get_coupon) == (5, 1, 4)
    assert found.max_cost == Decimal(20) and len(found.sample) == 4
    pct = preview(
        engine, m.store_id, CampaignSpec("p", "inactive:90d", "percent", Decimal(20)), NOW
    )
    assert pct.max_cost is None and pct.estimated_cost == Decimal("32.00")  # 4 × 20 % × 40
    assert list_campaigns(engine, m.store_id) == []


# ---------------------------------------------------------------- results


def test_results_equal_hand_computed_values(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 4)
    store = FakeStore()
    c = create_campaign(engine, m.store_id, SPEC, NOW)
    run_campaign(engine, store, m.store_id, "winback", NOW)
    by_email = {x.email: x for x in members(engine, c, "issued")}
    # g1 used the coupon on an order of 100 with 10 refunded; g2 on an order of 50;
    # g3 came back without the coupon; g4 did not come back; an order before the campaign
    # and a cancelled one with the coupon do not count.
    used = [
        (201, "g1@example.com", "100.00", "10.00", "completed", "5.00"),
        (202, "g2@example.com", "50.00", "0", "processing", "5.00"),
        (203, "g4@example.com", "30.00", "0", "cancelled", "5.00"),
    ]
    for order_id, email, total, refunded, status, discount in used:
        m.order(
            order_id,
            created=NOW + timedelta(days=3),
            email=email,
            total=total,
            refunded=refunded,
            status=status,
        )
        with engine.begin() as conn:
            conn.execute(
                insert(order_coupons).values(
                    store_id=m.store_id,
                    order_id=order_id,
                    code=by_email[email].code,
                    discount=Decimal(discount),
                )
            )
    m.order(204, created=NOW + timedelta(days=4), email="g3@example.com", total="20.00")
    r = campaign_results(
        engine, get_campaign(engine, m.store_id, "winback"), NOW + timedelta(days=10)
    )
    assert (r.issued, r.used) == (4, 2)
    assert r.conversion == Decimal("0.5")
    assert r.revenue == Decimal("140.00")
    assert r.discount == Decimal("10.00")
    assert r.cost_per_returning_customer == Decimal("5.00")
    assert (r.receivers_returned, r.receivers_return_rate) == (3, Decimal("0.75"))
    assert r.holdout == 0 and r.holdout_return_rate is None and r.lift is None


def test_results_against_the_holdout(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 40)
    store = FakeStore()
    spec = CampaignSpec("h", "inactive:90d", "fixed_cart", Decimal(5), holdout_percent=50)
    c = create_campaign(engine, m.store_id, spec, NOW)
    run_campaign(engine, store, m.store_id, "h", NOW)
    held = members(engine, c, "holdout")
    issued = members(engine, c, "issued")
    # every receiver comes back, one hold-out member does
    order_id = 1000
    for x in [*issued, held[0]]:
        order_id += 1
        m.order(order_id, created=NOW + timedelta(days=2), email=x.email)
    r = campaign_results(engine, c, NOW + timedelta(days=5))
    assert r.receivers_return_rate == Decimal(1)
    assert r.holdout == len(held) and r.holdout_returned == 1
    assert r.holdout_return_rate == Decimal(1) / len(held)
    assert r.lift == Decimal(1) - Decimal(1) / len(held)


# ---------------------------------------------------------------- export


def test_export_renders_both_templates_in_toman(engine: Engine) -> None:
    m = Mirror(engine, "toman", currency="IRT", decimals=0, timezone="Asia/Tehran")
    m.order(1, created=_days_ago(100), email="sara@example.com", total="935000")
    with engine.begin() as conn:
        conn.execute(
            insert(guests).values(
                store_id=m.store_id,
                email="sara@example.com",
                first_name="سارا",
                last_name="Ahmadi",
                phone="+98 912 000 0000",
                latest_order_created_at=_days_ago(100),
                latest_order_id=1,
            )
        )
    store = FakeStore()
    spec = CampaignSpec("back", "inactive:90d", "fixed_cart", Decimal(150000), valid_days=10)
    c = create_campaign(engine, m.store_id, spec, NOW)
    run_campaign(engine, store, m.store_id, "back", NOW)
    [coupon] = store.coupons.values()
    assert coupon["amount"] == "150000"
    [en] = export_rows(engine, c, TEMPLATES["en"], "en")
    [fa] = export_rows(engine, c, TEMPLATES["fa"], "fa")
    expires = (NOW + timedelta(days=10, hours=3, minutes=30)).date().isoformat()
    assert (en.email, en.first_name, en.phone, en.expires) == (
        "sara@example.com",
        "سارا",
        "+98 912 000 0000",
        expires,
    )
    assert en.amount == "150,000 IRT" and fa.amount == "150,000 تومان"
    assert en.message == (
        f"Hi سارا, we saved something for you: 150,000 IRT off your next order with code "
        f"{en.code}, valid until {expires}."
    )
    assert fa.message.startswith("سارا عزیز") and "۱۵۰٬۰۰۰ تومان" in fa.message
    jalali = jalali_date(NOW.astimezone(ZoneInfo("Asia/Tehran")).date() + timedelta(days=10))
    assert f"معتبر تا {jalali}." in fa.message
    assert not re.search(r"[0-9]", fa.message.replace(en.code, ""))  # Persian digits only
    assert fa.expires == expires  # the column stays machine-readable
    assert en.code in fa.message
    [custom] = export_rows(engine, c, "{first_name}: {code} ({amount})", "en")
    assert custom.message == f"سارا: {en.code} (150,000 IRT)"
    with pytest.raises(ConfigError):
        check_template("{name}")


def test_members_are_unique_per_campaign(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 1)
    c = create_campaign(engine, m.store_id, SPEC, NOW)
    run_campaign(engine, FakeStore(), m.store_id, "winback", NOW)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        row = conn.execute(select(campaign_members)).mappings().one()
        conn.execute(insert(campaign_members).values({**row, "id": None}))
    assert len(members(engine, c)) == 1


def test_one_run_per_campaign_at_a_time(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 2)
    store = FakeStore()
    c = create_campaign(engine, m.store_id, SPEC, NOW)
    with (
        store_lock(engine, f"{m.store_id}:{c.id}", purpose="campaign"),
        pytest.raises(LockHeld, match="being run by another process"),
    ):
        run_campaign(engine, store, m.store_id, "winback", NOW)
    assert store.posts == 0 and members(engine, c) == []
    assert run_campaign(engine, store, m.store_id, "winback", NOW).issued == 2


def test_a_coupon_the_store_refuses_marks_the_member_failed(engine: Engine) -> None:
    m = Mirror(engine)
    _idle_guests(m, 2)

    class Refusing(FakeStore):
        def post(self, path: str, json: Any) -> Any:
            self.posts += 1
            raise BadRequestError(
                "bad", store="shop", url="coupons", status=400, code="rest_invalid_param"
            )

    store = Refusing()
    c = create_campaign(engine, m.store_id, SPEC, NOW)
    result = run_campaign(engine, store, m.store_id, "winback", NOW)
    assert (result.issued, result.failed, len(result.problems)) == (0, 2, 2)
    assert [x.status for x in members(engine, c)] == ["failed", "failed"]
    run_campaign(engine, store, m.store_id, "winback", NOW)
    assert store.posts == 2  # a refusal is not retried
