"""Push: each registered customer's loyalty state into WooCommerce customer meta.

The plugin shows this copy (``bazgasht_loyalty``, docs/storefront-api.md "Pushed meta") when
the backend cannot be reached. After each sync or applied webhook delivery, the states of
the customers that may have changed are computed; those whose fingerprint differs from what
was last pushed go out through ``POST customers/batch``, at most 100 per request.

Which customers may have changed — without recomputing every customer each time:

* those with ledger entries newer than the last push's mark (earned, spent, expired,
  moved from a guest identity…);
* those whose last pushed state listed coupons (a coupon used, issued or expired changes
  the state with no ledger entry);
* those whose ``recheck_at`` has come (pending points matured, a coupon's validity ended);
* everyone with an entry on a store's first push; with ``force``, everyone again, and
  written even when unchanged (after the meta was edited or deleted on the store).

Idempotent: pushing again changes nothing (same fingerprints). Per-item errors of the batch
answer are reported per customer: an account gone from the store
(``woocommerce_rest_invalid_id``) is not tried again until its state changes; any other
item error is retried by the next push. A request that fails as a whole stops the push and
leaves the mark where it was, so the next push looks at the same customers again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, or_, select, update

from app._schema import storefront_push_marks, storefront_pushes
from app._state import META_KEY, CustomerState, customer_state
from connector import LockHeld, StoreError, dialect_insert, store_lock
from loyalty import Program, loyalty_ledger

log = logging.getLogger("bazgasht.push")

#: WooCommerce's ``woocommerce_rest_batch_items_limit``.
BATCH_LIMIT = 100
#: The answer of an update for a customer the store no longer has.
GONE = "woocommerce_rest_invalid_id"
#: A push waits this long for another process pushing the same store.
LOCK_WAIT_SECONDS = 60.0


class BatchApi(Protocol):
    """What pushing needs of a store client (``connector.WooClient`` provides it)."""

    store: str

    def post(self, path: str, json: Mapping[str, Any]) -> Any: ...


@dataclass
class PushResult:
    """What one push of one store did."""

    store: str
    considered: int = 0  # customers whose state was computed
    pushed: int = 0  # customers written to the store
    unchanged: int = 0
    requests: int = 0
    #: (customer id, "code: message") for each item the store refused.
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: Why the push stopped before the end (the store could not be reached…), or None.
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "considered": self.considered,
            "pushed": self.pushed,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "errors": [{"customer_id": c, "error": e} for c, e in self.errors],
            "problem": self.problem,
        }


@contextmanager
def _push_lock(engine: Engine, store: str, wait: float) -> Iterator[None]:
    """The store's ``push`` lock; waits up to ``wait`` seconds for another pusher."""
    deadline = time.monotonic() + wait
    delay = 0.02
    with ExitStack() as stack:
        while True:
            try:
                stack.enter_context(store_lock(engine, store, purpose="push"))
                break
            except LockHeld:
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"store {store!r}: another Bazgasht process is pushing customers' "
                        f"points to the store and did not finish within {wait:.0f} s."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        yield


def _customer_ids(identities: Iterator[str] | list[str]) -> set[int]:
    found = set()
    for identity in identities:
        kind, _, rest = identity.partition(":")
        if kind == "customer" and rest.isdigit():
            found.add(int(rest))
    return found


def _candidates(
    conn: Connection, program: Program, since_entry: int | None, now: datetime
) -> set[int]:
    led = loyalty_ledger
    changed = select(led.c.identity).where(
        led.c.store_id == program.store_id, led.c.identity.like("customer:%")
    )
    if since_entry is not None:
        changed = changed.where(led.c.id > since_entry)
    found = _customer_ids(list(conn.execute(changed.distinct()).scalars()))
    if since_entry is not None:
        p = storefront_pushes
        found |= set(
            conn.execute(
                select(p.c.customer_id).where(
                    p.c.store_id == program.store_id,
                    or_(p.c.open_coupons.is_(True), p.c.recheck_at <= now),
                )
            ).scalars()
        )
    return found


def _pushed(conn: Connection, program: Program, ids: list[int]) -> dict[int, str]:
    p = storefront_pushes
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        out.update(
            conn.execute(
                select(p.c.customer_id, p.c.fingerprint).where(
                    p.c.store_id == program.store_id, p.c.customer_id.in_(ids[start : start + 500])
                )
            ).all()
        )
    return out


def _remember(
    engine: Engine,
    program: Program,
    states: list[CustomerState],
    now: datetime,
    *,
    retry: frozenset[int] = frozenset(),
) -> None:
    """Record what was pushed; ``retry``: customers to push again next time whatever."""
    if not states:
        return
    rows = [
        {
            "store_id": program.store_id,
            "customer_id": s.customer_id,
            "fingerprint": "" if s.customer_id in retry else s.fingerprint(),
            "open_coupons": bool(s.coupons),
            "recheck_at": now if s.customer_id in retry else s.recheck_at,
            "pushed_at": now,
        }
        for s in states
    ]
    with engine.begin() as conn:
        stmt = dialect_insert(conn.dialect.name)(storefront_pushes).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["store_id", "customer_id"],
            set_={
                name: stmt.excluded[name]
                for name in ("fingerprint", "open_coupons", "recheck_at", "pushed_at")
            },
        )
        conn.execute(stmt)


def _set_mark(engine: Engine, program: Program, last_entry_id: int, now: datetime) -> None:
    with engine.begin() as conn:
        values = {"last_entry_id": last_entry_id, "pushed_at": now}
        m = storefront_push_marks
        if (
            conn.execute(
                update(m).where(m.c.store_id == program.store_id).values(**values)
            ).rowcount
            == 0
        ):
            conn.execute(m.insert().values(store_id=program.store_id, **values))


def _item_error(item: Any) -> str | None:
    """The ``code: message`` of a refused batch item, or None for an updated customer."""
    if not isinstance(item, Mapping):
        return "invalid_answer: not an object"
    error = item.get("error")
    if error is None:
        return None
    if isinstance(error, Mapping):
        return f"{error.get('code', 'error')}: {error.get('message', '')}".strip()
    return f"error: {error}"


def push_states(
    engine: Engine,
    client: BatchApi,
    program: Program,
    now: datetime,
    *,
    force: bool = False,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> PushResult:
    """Write the changed customers' states to the store (see the module's docstring).

    Never raises for the store's answers: a failed request ends up in ``problem``, refused
    items in ``errors``. ``LockHeld`` if another process keeps pushing for too long."""
    result = PushResult(program.store)
    with _push_lock(engine, program.store, lock_wait):
        with engine.connect() as conn:
            mark = conn.execute(
                select(storefront_push_marks.c.last_entry_id).where(
                    storefront_push_marks.c.store_id == program.store_id
                )
            ).scalar()
            # Read before the states: an entry appended meanwhile is looked at next time.
            top = conn.execute(
                select(func.coalesce(func.max(loyalty_ledger.c.id), 0)).where(
                    loyalty_ledger.c.store_id == program.store_id
                )
            ).scalar_one()
            since = None if (force or mark is None) else int(mark)
            ids = sorted(_candidates(conn, program, since, now))
            pushed = {} if force else _pushed(conn, program, ids)
        changed: list[CustomerState] = []
        for customer_id in ids:
            state = customer_state(engine, program, customer_id, now)
            if state is None:
                continue
            result.considered += 1
            if pushed.get(customer_id) == state.fingerprint():
                result.unchanged += 1
            else:
                changed.append(state)
        for start in range(0, len(changed), BATCH_LIMIT):
            batch = changed[start : start + BATCH_LIMIT]
            body = {
                "update": [
                    {"id": s.customer_id, "meta_data": [{"key": META_KEY, "value": s.meta_json()}]}
                    for s in batch
                ]
            }
            try:
                result.requests += 1
                answer = client.post("customers/batch", body)
            except StoreError as exc:
                result.problem = f"pushing customers' points stopped: {exc}"
                log.warning("store %r: %s", program.store, result.problem)
                return result
            retry = _read_answer(answer, batch, result)
            _remember(engine, program, batch, now, retry=retry)
        _set_mark(engine, program, int(top), now)
    return result


def _read_answer(answer: Any, batch: list[CustomerState], result: PushResult) -> frozenset[int]:
    """Count what the store did with each item; the customers to try again next time."""
    items = answer.get("update") if isinstance(answer, Mapping) else None
    if not isinstance(items, list):
        items = []
    by_id = {item.get("id"): item for item in items if isinstance(item, Mapping) and "id" in item}
    retry: set[int] = set()
    for position, state in enumerate(batch):
        item = by_id.get(state.customer_id)
        if item is None and position < len(items):
            item = items[position]  # WooCommerce answers in the order it was asked
        error = "missing: the store's answer has no item for it" if item is None else None
        error = error or _item_error(item)
        if error is None:
            result.pushed += 1
            continue
        result.errors.append((state.customer_id, error))
        if not error.startswith(f"{GONE}:"):
            retry.add(state.customer_id)
    return frozenset(retry)
