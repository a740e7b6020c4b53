"""Redemption: the recorded WooCommerce coupon answers drive the flow (``responses``); two
concurrent redemptions cannot overspend; used and expired coupons are noticed."""

from __future__ import annotations

import copy
import json
import re
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import responses
from sqlalchemy import Engine, func, insert, select

from connector import REDEMPTION_META_KEY as META_KEY
from connector._client import StoreCredentials, WooClient
from connector._schema import order_coupons
from loyalty._schema import loyalty_ledger, loyalty_redemptions
from loyalty.codes import REDEMPTION_PREFIX, code_pattern
from loyalty.reconcile import reconcile
from loyalty.redeem import (
    RedeemError,
    check_coupons,
    coupon_spec,
    finish_pending,
    issue,
    redeem,
    reserve,
)
from loyalty.settings import Program
from loyalty.verify import verify
from tests._loyalty import Mirror, balances, day
from tests.conftest import FIXTURES

BASE = "http://127.0.0.1:8080"
COUPONS = re.compile(re.escape(BASE) + r"/wp-json/wc/v3/coupons(\?.*)?$")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def rewritten(body: Any, code: str, marker: str) -> Any:
    """A recorded coupon body for our redemption: its code and marker, all else as recorded."""
    body = copy.deepcopy(body)
    for coupon in body if isinstance(body, list) else [body]:
        coupon["code"] = code
        for meta in coupon["meta_data"]:
            if meta["key"] == META_KEY:
                meta["value"] = marker
    return body


def add_recorded(method: str, name: str, body: Any = None) -> None:
    recorded = fixture(name)["response"]
    headers = {
        k: v
        for k, v in recorded["headers"].items()
        if k.lower() not in ("content-length", "content-type", "transfer-encoding")
    }
    payload = recorded["body"] if body is None else body
    if isinstance(payload, str):
        responses.add(
            method, COUPONS, body=payload, status=recorded["status"], headers=headers,
            content_type=recorded["headers"].get("Content-Type", "text/html"),
        )  # fmt: skip
    else:
        responses.add(method, COUPONS, json=payload, status=recorded["status"], headers=headers)


def client(attempts: int = 2) -> WooClient:
    creds = StoreCredentials(
        name="usd", url=BASE, consumer_key="ck_test", consumer_secret="cs_test"
    )
    return WooClient(creds, max_attempts=attempts, sleep=lambda _s: None)


@pytest.fixture
def shop(engine: Engine) -> tuple[Mirror, Program]:
    """A store where customer 3 (sofia.lee@example.com) has 100 + 600 points."""
    m = Mirror(engine, "usd")
    m.customer(3, "sofia.lee@example.com", day(0))
    m.order(1, created=day(1), customer=3, total="300.00")
    program = m.program(day(2))
    reconcile(engine, program, day(2))
    assert balances(engine, m.store_id) == {"customer:3": 700}
    return m, program


def marker(program: Program, redemption_id: int, code: str) -> str:
    return f"{program.store}:{redemption_id}:{code}"


def debits(engine: Engine, redemption_id: int) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(loyalty_ledger.c.kind, loyalty_ledger.c.points)
            .where(loyalty_ledger.c.redemption_id == redemption_id)
            .order_by(loyalty_ledger.c.id)
        ).all()
    return [(k, p) for k, p in rows]


@responses.activate
def test_recorded_create_issues_the_coupon(engine: Engine, shop: tuple[Mirror, Program]) -> None:
    m, program = shop
    r = reserve(engine, program, "customer:3", 500, day(3))
    responses.add(responses.GET, COUPONS, json=[], headers={"X-WP-Total": "0"})
    created = rewritten(
        fixture("usd-coupon-create")["response"]["body"], r.code, marker(program, r.id, r.code)
    )
    add_recorded(responses.POST, "usd-coupon-create", created)
    with client() as c:
        done = issue(engine, c, program, r.id, day(3))
    assert (done.status, done.coupon_id) == ("issued", 1604)
    sent = json.loads(responses.calls[1].request.body or b"{}")
    assert sent["discount_type"] == "fixed_cart"
    assert sent["amount"] == "5.00"
    assert sent["usage_limit"] == 1
    assert sent["email_restrictions"] == ["sofia.lee@example.com"]
    assert "date_expires_gmt" not in sent  # WooCommerce 8.2 ignores it: send local time
    assert sent["date_expires"] == (day(3) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S")
    assert sent["meta_data"] == [{"key": META_KEY, "value": marker(program, r.id, r.code)}]
    assert debits(engine, r.id) == [("redemption", -500)]
    assert balances(engine, m.store_id) == {"customer:3": 200}


@responses.activate
def test_duplicate_code_answer_is_looked_up(engine: Engine, shop: tuple[Mirror, Program]) -> None:
    _, program = shop
    r = reserve(engine, program, "customer:3", 500, day(3))
    mark = marker(program, r.id, r.code)
    responses.add(responses.GET, COUPONS, json=[], headers={"X-WP-Total": "0"})
    add_recorded(responses.POST, "usd-coupon-create-duplicate-code")
    search = rewritten(fixture("usd-coupons-search-by-code")["response"]["body"], r.code, mark)
    add_recorded(responses.GET, "usd-coupons-search-by-code", search)
    with client() as c:
        done = issue(engine, c, program, r.id, day(3))
    assert (done.status, done.coupon_id) == ("issued", 1604)
    assert [call.request.method for call in responses.calls] == ["GET", "POST", "GET"]
    assert debits(engine, r.id) == [("redemption", -500)]


@responses.activate
def test_a_retry_finds_the_coupon_instead_of_making_another(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    _, program = shop
    r = reserve(engine, program, "customer:3", 500, day(3))
    search = rewritten(
        fixture("usd-coupons-search-by-code")["response"]["body"],
        r.code,
        marker(program, r.id, r.code),
    )
    add_recorded(responses.GET, "usd-coupons-search-by-code", search)
    with client() as c:
        done = finish_pending(engine, c, program, day(4))
    assert [d.status for d in done] == ["issued"]
    assert [call.request.method for call in responses.calls] == ["GET"]


@responses.activate
def test_a_permanent_refusal_releases_the_points(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    m, program = shop
    responses.add(responses.GET, COUPONS, json=[], headers={"X-WP-Total": "0"})
    add_recorded(responses.POST, "usd-error-401-readonly-key-write")
    with client() as c:
        done = redeem(engine, c, program, "customer:3", 500, day(3))
    assert done.status == "released"
    assert "write permissions" in (done.last_error or "")
    assert debits(engine, done.id) == [("redemption", -500), ("redemption_release", 500)]
    assert balances(engine, m.store_id) == {"customer:3": 700}
    assert verify(engine, program, day(3)).ok


@responses.activate
def test_a_store_that_is_down_leaves_it_pending_for_the_next_run(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    _, program = shop
    responses.add(responses.GET, COUPONS, json=[], headers={"X-WP-Total": "0"})
    for _ in range(2):  # the client's two attempts
        add_recorded(responses.POST, "usd-error-500-database-down")
    with client(attempts=2) as c:
        done = redeem(engine, c, program, "customer:3", 500, day(3))
    assert (done.status, done.attempts) == ("pending", 1)
    assert "database is down" in (done.last_error or "")
    responses.reset()
    responses.add(responses.GET, COUPONS, json=[], headers={"X-WP-Total": "0"})
    created = rewritten(
        fixture("usd-coupon-create")["response"]["body"],
        done.code,
        marker(program, done.id, done.code),
    )
    add_recorded(responses.POST, "usd-coupon-create", created)
    with client() as c:
        [again] = finish_pending(engine, c, program, day(4))
    assert again.status == "issued"
    assert debits(engine, done.id) == [("redemption", -500)]


@responses.activate
def test_a_foreign_coupon_with_our_code_is_never_adopted(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    _, program = shop
    r = reserve(engine, program, "customer:3", 500, day(3))
    search = rewritten(
        fixture("usd-coupons-search-by-code")["response"]["body"], r.code, "someone-else"
    )
    add_recorded(responses.GET, "usd-coupons-search-by-code", search)
    with client() as c:
        done = issue(engine, c, program, r.id, day(3))
    assert done.status == "released"


def test_recorded_coupon_answers_parse() -> None:
    from connector import Coupon

    created = Coupon.model_validate(fixture("usd-coupon-create")["response"]["body"])
    assert (created.id, created.amount, created.usage_limit) == (1604, Decimal("7.50"), 1)
    assert created.meta(META_KEY) == "fixture-0001"
    found = [
        Coupon.model_validate(c) for c in fixture("usd-coupons-search-by-code")["response"]["body"]
    ]
    assert [c.code for c in found] == ["bazgasht-reward-fixture"]
    ignored = Coupon.model_validate(
        fixture("usd-coupon-create-expires-gmt-ignored")["response"]["body"]
    )
    assert ignored.date_expires is None


def test_each_redemption_gets_its_own_random_code(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    m, _ = shop
    program = m.program(day(3), min_redeem_points=100)
    codes = [reserve(engine, program, "customer:3", 100, day(3)).code for _ in range(3)]
    assert len(set(codes)) == 3
    assert all(code_pattern(REDEMPTION_PREFIX).fullmatch(c) for c in codes)


def test_limits_and_payload(engine: Engine, shop: tuple[Mirror, Program]) -> None:
    _, program = shop
    with pytest.raises(RedeemError, match="minimum of 500"):
        reserve(engine, program, "customer:3", 499, day(3))
    with pytest.raises(RedeemError, match="700 points available"):
        reserve(engine, program, "customer:3", 701, day(3))
    irt = Mirror(engine, "irt", currency="IRT", decimals=0, timezone="Asia/Tehran")
    irt.customer(1, "a@x.com", day(0))
    irt.order(1, created=day(1), customer=1, total="935000")
    toman = irt.program(day(2), coupon_valid_days=30, min_redeem_points=1000)
    reconcile(engine, toman, day(2))
    r = reserve(
        engine, toman, "customer:1", 1000, datetime(2026, 3, 20, 20, 0, tzinfo=day(0).tzinfo)
    )
    payload = coupon_spec(toman, r).payload()
    assert payload["amount"] == "1000"
    assert payload["date_expires"] == "2026-04-19T23:30:00"  # Tehran is UTC+3:30


def test_two_concurrent_redemptions_cannot_overspend(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    m, _ = shop
    program = m.program(day(3), min_redeem_points=100)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            reserve(engine, program, "customer:3", 300, day(3))
            outcomes.append("ok")
        except RedeemError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "ok", "refused", "refused"]  # 700 points: two of 300
    assert balances(engine, m.store_id) == {"customer:3": 100}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(loyalty_redemptions)).scalar() == 2


class _Store:
    """A stand-in for the store's coupon endpoints (what ``check_coupons`` asks)."""

    store = "usd"

    def __init__(self, usage: int | None) -> None:
        self.usage = usage

    def get(self, path: str, params: Any = None) -> Any:
        from connector import NotFoundError

        if self.usage is None:
            raise NotFoundError("gone", store="usd", url=path, status=404)
        body = copy.deepcopy(fixture("usd-coupon-get-created")["response"]["body"])
        body["usage_count"] = self.usage
        return body

    def post(self, path: str, json: Any) -> Any:  # pragma: no cover - not used here
        raise AssertionError("no coupon is created here")


def _issued(engine: Engine, program: Program, now: datetime) -> int:
    r = reserve(engine, program, "customer:3", 500, now)
    with engine.begin() as conn:
        conn.execute(
            loyalty_redemptions.update()
            .where(loyalty_redemptions.c.id == r.id)
            .values(status="issued", coupon_id=1604, issued_at=now)
        )
    return r.id


def test_used_and_expired_coupons_are_noticed(engine: Engine, shop: tuple[Mirror, Program]) -> None:
    m, program = shop
    rid = _issued(engine, program, day(3))
    with engine.begin() as conn:
        code = conn.execute(select(loyalty_redemptions.c.code)).scalar_one()
    m.order(2, created=day(5), customer=3, total="20.00")
    with engine.begin() as conn:
        conn.execute(
            insert(order_coupons).values(store_id=m.store_id, order_id=2, code=code, discount=5)
        )
    assert check_coupons(engine, None, program, day(6)).used == 1
    m.change_order(2, status="cancelled")  # WooCommerce gives the coupon back
    assert check_coupons(engine, None, program, day(7)).unused_again == 1
    before = balances(engine, m.store_id)["customer:3"]
    late = day(3) + timedelta(days=92)
    result = check_coupons(engine, _Store(usage=0), program, late)
    assert (result.expired, result.refunded_points) == (1, 500)
    assert balances(engine, m.store_id)["customer:3"] == before + 500
    assert debits(engine, rid) == [("redemption", -500), ("redemption_release", 500)]
    assert verify(engine, program, late).ok


def test_an_expired_coupon_used_on_the_store_is_not_refunded(
    engine: Engine, shop: tuple[Mirror, Program]
) -> None:
    _, program = shop
    _issued(engine, program, day(3))
    result = check_coupons(engine, _Store(usage=1), program, day(100))
    assert (result.used, result.expired) == (1, 0)


def test_no_refund_when_the_program_says_so(engine: Engine, shop: tuple[Mirror, Program]) -> None:
    m, _ = shop
    program = m.program(day(3), refund_expired_coupons=False)
    _issued(engine, program, day(3))
    result = check_coupons(engine, _Store(usage=None), program, day(100))
    assert (result.expired, result.refunded_points) == (1, 0)
    assert balances(engine, m.store_id) == {"customer:3": 200}
