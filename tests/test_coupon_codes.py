"""Coupon codes are secrets (issue 10, item 2): random from ``secrets``, at least 64 bits, in a
shop-friendly alphabet, stored before the coupon exists — and nothing in the database from
which a code could be derived. A retry after a lost answer finds the same coupon."""

from __future__ import annotations

import copy
import math
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text

from connector import ALREADY_EXISTS, BadRequestError, NetworkError
from connector._db import _alembic_config
from loyalty import codes
from loyalty._schema import loyalty_redemptions
from loyalty.campaigns import CampaignSpec, create_campaign, members, run_campaign
from loyalty.campaigns.issue import enroll
from loyalty.codes import ALPHABET, BITS, CAMPAIGN_PREFIX, REDEMPTION_PREFIX, code_pattern
from loyalty.reconcile import reconcile
from loyalty.redeem import finish_pending, get_redemption, issue, reserve
from tests._loyalty import Mirror, day

COUPON = {"amount": "5.00", "discount_type": "fixed_cart"}


class Store:
    """Coupons by code as a store keeps them (lower-cased); can lose the answer of a POST."""

    store = "shop"

    def __init__(self) -> None:
        self.coupons: dict[str, dict[str, Any]] = {}
        self.posts = 0
        self.lose_next_answer = False

    def get(self, path: str, params: Any = None) -> Any:
        found = self.coupons.get(str(params["code"]).lower())
        return [copy.deepcopy(found)] if found else []

    def post(self, path: str, json: Any) -> Any:
        self.posts += 1
        code = json["code"].lower()
        if code in self.coupons:
            raise BadRequestError("exists", store="shop", url=path, status=400, code=ALREADY_EXISTS)
        self.coupons[code] = {**json, "code": code, "id": 100 + len(self.coupons)}
        if self.lose_next_answer:  # created on the store, but the answer never arrives
            self.lose_next_answer = False
            raise NetworkError("connection reset", store="shop", url=path)
        return copy.deepcopy(self.coupons[code])


def test_codes_are_unguessable_and_easy_to_type() -> None:
    assert BITS >= 64
    assert math.isclose(BITS, codes.RANDOM_CHARS * math.log2(len(ALPHABET)))
    assert len(set(ALPHABET)) == len(ALPHABET)
    # no look-alikes in either case, nothing WooCommerce would change (it lower-cases codes)
    assert not set(ALPHABET) & set("0o1il2z5s8b9gquv")
    assert ALPHABET.lower() == ALPHABET
    made = {codes.new_code(REDEMPTION_PREFIX) for _ in range(2000)}
    assert len(made) == 2000
    for code in made:
        assert code_pattern(REDEMPTION_PREFIX).fullmatch(code), code
        assert code == code.lower() and len(code) <= 64  # the column's width
    assert code_pattern(CAMPAIGN_PREFIX).fullmatch(codes.new_code(CAMPAIGN_PREFIX))


def test_codes_come_from_the_secrets_module(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []

    def choice(seq: str) -> str:
        drawn.append(seq)
        return seq[-1]

    monkeypatch.setattr(codes.secrets, "choice", choice)
    assert codes.new_code("bz") == "bz-yyyy-yyyy-yyyy-yyyy"
    assert drawn == [ALPHABET] * codes.RANDOM_CHARS


def test_no_salt_or_other_code_seed_is_kept(engine: Engine) -> None:
    with engine.connect() as conn:
        found = inspect(conn)
        columns = {
            (table, col["name"])
            for table in found.get_table_names()
            for col in found.get_columns(table)
        }
    assert not [c for c in columns if "salt" in c[1] or "seed" in c[1]]


def test_the_migration_drops_the_salts_and_keeps_stored_codes(engine: Engine) -> None:
    """An install from before: salts in the tables, a redemption and a campaign member pending
    with their (old, derived) codes. After the migration the salts are gone and the retry still
    finds the coupons by the stored codes."""
    m = Mirror(engine)
    cfg = _alembic_config()
    before = ScriptDirectory.from_config(cfg).get_revision("0006").down_revision
    assert isinstance(before, str)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
    old_code, old_member_code = "bz-8d90-1-k2cc", "cmp-1-1-abcd"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO loyalty_programs (store_id, created_at, salt) "
                "VALUES (:s, :t, 'aaaa0000bbbb1111')"
            ),
            {"s": m.store_id, "t": day(0).replace(tzinfo=None)},
        )
        conn.execute(
            insert(loyalty_redemptions).values(
                store_id=m.store_id, identity="customer:3", email="a@example.com", points=500,
                amount=Decimal("5.00"), code=old_code, status="pending", created_at=day(1),
                expires_at=day(91), attempts=0,
            )
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO campaigns (store_id, name, audience, discount_type, amount, "
                "valid_days, holdout_percent, status, salt, created_at) VALUES "
                "(:s, 'w', 'inactive:90d', 'fixed_cart', 50000, 30, 0, 'active', 'ff', :t)"
            ),
            {"s": m.store_id, "t": day(0).replace(tzinfo=None)},
        )
        campaign_id = conn.execute(text("SELECT id FROM campaigns")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO campaign_members (campaign_id, identity, email, holdout, status, "
                "code, joined_at, expires_at, attempts) VALUES (:c, 'email:g@example.com', "
                "'g@example.com', :f, 'pending', :code, :t, :t, 0)"
            ),
            {
                "c": campaign_id,
                "f": False,
                "code": old_member_code,
                "t": day(1).replace(tzinfo=None),
            },
        )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    test_no_salt_or_other_code_seed_is_kept(engine)
    store = Store()
    store.coupons[old_code] = {**COUPON, "id": 7, "code": old_code}
    store.coupons[old_member_code] = {**COUPON, "id": 8, "code": old_member_code}
    program = m.program(day(2))
    [done] = finish_pending(engine, store, program, day(2))
    assert (done.code, done.status, done.coupon_id) == (old_code, "issued", 7)
    run_campaign(engine, store, m.store_id, "w", day(2))
    with engine.connect() as conn:
        row = conn.execute(text("SELECT code, status, coupon_id FROM campaign_members")).one()
    assert tuple(row) == (old_member_code, "issued", 8)
    assert store.posts == 0


def test_a_redemption_whose_answer_was_lost_finds_its_coupon(engine: Engine) -> None:
    m = Mirror(engine)
    m.customer(3, "sofia@example.com", day(0))
    m.order(1, created=day(1), customer=3, total="300.00")
    program = m.program(day(2))
    reconcile(engine, program, day(2))
    r = reserve(engine, program, "customer:3", 500, day(3))
    assert code_pattern(REDEMPTION_PREFIX).fullmatch(r.code)
    with engine.connect() as conn:  # stored before anything was sent to the store
        assert conn.execute(select(loyalty_redemptions.c.code)).scalar_one() == r.code
    store = Store()
    store.lose_next_answer = True
    first = issue(engine, store, program, r.id, day(3))
    assert (first.status, first.code) == ("pending", r.code)
    assert list(store.coupons) == [r.code]  # the coupon exists, we just never heard
    [again] = finish_pending(engine, store, program, day(4))
    assert (again.status, again.code, again.coupon_id) == ("issued", r.code, 100)
    assert store.posts == 1 and list(store.coupons) == [r.code]
    assert get_redemption(engine, r.id).code == r.code


def test_a_campaign_member_whose_answer_was_lost_finds_its_coupon(engine: Engine) -> None:
    m = Mirror(engine)
    for i in (1, 2):
        m.order(i, created=day(1), email=f"g{i}@example.com", total="40.00")
    spec = CampaignSpec("w", "inactive:90d", "fixed_cart", Decimal("5"))
    c = create_campaign(engine, m.store_id, spec, day(200))
    enroll(engine, c, ["email:g1@example.com", "email:g2@example.com"], day(200))
    stored = {x.identity: x.code for x in members(engine, c)}
    assert all(code_pattern(CAMPAIGN_PREFIX).fullmatch(code or "") for code in stored.values())
    store = Store()
    store.lose_next_answer = True
    first = run_campaign(engine, store, m.store_id, "w", day(200))
    assert (first.issued, first.pending) == (1, 1)
    again = run_campaign(engine, store, m.store_id, "w", day(201))
    assert again.issued == 1
    assert store.posts == 2 and sorted(store.coupons) == sorted(str(c) for c in stored.values())
    assert {x.identity: x.code for x in members(engine, c, "issued")} == stored
