"""Property: reconciling after every change (incrementally) ends in the same ledger meaning as
one reconciliation at the end, and ``verify`` finds nothing in either.

Two stores get the same random history; store A is reconciled after every step, store B only
at the end. "The same meaning" is the same non-zero points per (key, identity) — the entries
themselves differ (A has the corrections) — and so the same balances.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from connector._schema import orders
from loyalty.ledger import grant
from loyalty.reconcile import reconcile
from loyalty.verify import verify
from tests._loyalty import Mirror, day, holdings

_counter = itertools.count()

GUESTS = ["g1@x.com", "g2@x.com", "g3@x.com"]
STATUSES = ["completed", "completed", "processing", "cancelled", "refunded", "failed"]

new_order = st.tuples(
    st.just("order"),
    st.sampled_from(["c1", "c2", "g1@x.com", "g2@x.com", "g3@x.com", ""]),
    st.integers(min_value=1, max_value=40_000),  # cents
    st.sampled_from(STATUSES),
)
set_status = st.tuples(st.just("status"), st.integers(0, 20), st.sampled_from(STATUSES))
refund = st.tuples(st.just("refund"), st.integers(0, 20), st.integers(0, 100))
register = st.tuples(st.just("register"), st.sampled_from(GUESTS))
delete_account = st.tuples(st.just("delete"), st.sampled_from(["c1", "c2"]))
reassign = st.tuples(st.just("reassign"), st.integers(0, 20), st.sampled_from(["c1", "c2", ""]))
give = st.tuples(
    st.just("grant"), st.sampled_from(["customer:1", "email:g1@x.com"]), st.integers(-300, 300)
)
wait = st.tuples(st.just("wait"), st.integers(1, 120))

steps = st.lists(
    st.one_of(
        new_order, new_order, set_status, refund, register, delete_account, reassign, give, wait
    ),
    min_size=1,
    max_size=10,
)
program_settings = st.fixed_dictionaries(
    {
        "starts_at": st.sampled_from([day(0).isoformat(), day(30).isoformat()]),
        "expiry_months": st.sampled_from([None, 3]),
        "inactivity_expiry_months": st.sampled_from([None, 4]),
        "cashback_from_order": st.sampled_from([1, 2]),
        "guests_earn": st.booleans(),
        "pending_days": st.sampled_from([0, 7]),
    }
)


class World:
    """One store's mirror driven by the steps (the same steps drive both stores)."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.m = Mirror(engine, name)
        self.orders: list[int] = []
        self.next_customer = 10
        self.accounts: dict[str, int] = {}
        self.m.customer(1, "c1@x.com", day(0))
        self.m.customer(2, "c2@x.com", day(0))
        self.accounts = {"c1": 1, "c2": 2}

    def apply(self, step: tuple[Any, ...], now: Any, program: Any) -> None:
        m = self.m
        kind = step[0]
        if kind == "order":
            _, who, cents, status = step
            oid = len(self.orders) + 1
            self.orders.append(oid)
            customer = self.accounts.get(who, 0) if who.startswith("c") else 0
            email = who if "@" in who else ""
            m.order(
                oid, created=now, customer=customer, email=email,
                total=f"{cents / 100:.2f}", status=status,
            )  # fmt: skip
        elif kind in ("status", "refund", "reassign") and self.orders:
            oid = self.orders[step[1] % len(self.orders)]
            if kind == "status":
                m.change_order(oid, status=step[2], completed_at=now)
            elif kind == "refund":
                m.change_order(oid, refunded_total=_fraction_of_total(m, oid, step[2]))
            else:
                m.change_order(oid, customer_id=self.accounts.get(step[2], 0))
        elif kind == "register":
            self.next_customer += 1
            m.customer(self.next_customer, step[1], now)
        elif kind == "delete":
            wc_id = self.accounts[step[1]]
            m.customer(wc_id, f"{step[1]}@x.com", day(0), deleted=now)
            with m.engine.begin() as conn:
                conn.execute(
                    update(orders)
                    .where(orders.c.store_id == m.store_id, orders.c.customer_id == wc_id)
                    .values(customer_id=0)
                )
        elif kind == "grant" and step[2]:
            grant(m.engine, program, step[1], step[2], "property test", now)


def _fraction_of_total(m: Mirror, oid: int, percent: int) -> str:
    with m.engine.connect() as conn:
        total = conn.execute(
            select(orders.c.total).where(orders.c.store_id == m.store_id, orders.c.wc_id == oid)
        ).scalar_one()
    return str((total * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


_TOKEN = re.compile(r"(manual:S:\d{8}T\d{6})-[0-9a-f]+")


def _meaning(engine: Engine, m: Mirror) -> dict[tuple[str, str], int]:
    """Holdings with the store's name and the grants' random token taken out of the keys."""
    return {
        (_TOKEN.sub(r"\1", k.replace(f":{m.store}:", ":S:")), i): p
        for (k, i), p in holdings(engine, m.store_id).items()
    }


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps, options=program_settings)
def test_reconcile_after_every_sync_equals_one_reconcile_at_the_end(
    engine: Engine, history: list[tuple[Any, ...]], options: dict[str, Any]
) -> None:
    n = next(_counter)
    a, b = World(engine, f"a{n}"), World(engine, f"b{n}")
    now = day(1)
    prog_a = a.m.program(now, **options)
    prog_b = b.m.program(now, **options)
    for step in history:
        if step[0] == "wait":
            now += timedelta(days=step[1])
            reconcile(engine, prog_a, now)
            continue
        now += timedelta(hours=1)
        a.apply(step, now, prog_a)
        b.apply(step, now, prog_b)
        reconcile(engine, prog_a, now)
    now += timedelta(hours=1)
    reconcile(engine, prog_a, now)
    reconcile(engine, prog_b, now)
    assert _meaning(engine, a.m) == _meaning(engine, b.m)
    assert verify(engine, prog_a, now).ok
    assert verify(engine, prog_b, now).ok
    assert reconcile(engine, prog_a, now).appended == 0
    assert reconcile(engine, prog_b, now, full=True).appended == 0
