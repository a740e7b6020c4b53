"""The storefront API's use cases (docs/storefront-api.md): who may ask, and the answers.

``authenticate`` runs the contract's checks in its order — headers well formed, the store
known, the timestamp within 300 s, the signature (current or previous secret), the nonce new
(recorded in ``storefront_nonces``, shared by every server worker, only after the signature
verified) — and raises ``StorefrontRefused`` with the contract's status and code. Then:

* ``program_answer`` — the resolved program's parameters;
* ``customer_answer`` / ``history_answer`` — a customer's state and ledger entries;
* ``redeem`` — points into a coupon through ``loyalty``'s exactly-once path, idempotent by
  the plugin's request id. The amount is the backend's (points × point value, cut); nothing
  the browser could have touched is trusted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete

from app._registry import Registry
from app._schema import storefront_nonces
from app._settings import program_for
from app._signing import (
    MAX_SKEW_SECONDS,
    NONCE_FORMAT,
    NONCE_MEMORY_SECONDS,
    SIGNATURE_FORMAT,
    TIMESTAMP_FORMAT,
    api_path,
    canonical_query_of,
    request_signature_valid,
)
from app._state import customer_state, instant_text, known_customer
from connector import BazgashtError, CouponApi, dialect_insert, money_text
from loyalty import Program, RedeemError, Redemption, history
from loyalty.redeem import get_redemption, issue, reserve
from loyalty.rules import CASHBACK, EXPIRY, MANUAL, REDEEM, SECOND, WELCOME, family
from loyalty.settings import MAX_POINTS

#: ``history?limit=``: default and bounds.
HISTORY_DEFAULT = 20
HISTORY_MAX = 100
#: The ledger's key families, as the contract names them in ``source``.
SOURCES = {
    WELCOME: "welcome",
    SECOND: "second_purchase",
    CASHBACK: "cashback",
    EXPIRY: "expiry",
    REDEEM: "redemption",
    MANUAL: "manual",
}
_REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: HTTP status of a redemption's answer, by its state (201 made now, 202 not on the store
#: yet, 200 a repeated request whose redemption has moved on).
REDEMPTION_STATUS = {"issued": 201, "pending": 202}


class StorefrontRefused(BazgashtError):
    """An answer other than success: ``status``, the contract's ``code``, a one-line
    message for the shop owner's logs (never a secret), and ``extra`` fields."""

    def __init__(
        self, status: int, code: str, message: str, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self), **self.extra}}


@dataclass(frozen=True)
class SignedRequest:
    """What the checks need of an HTTP request: as received, the body raw."""

    method: str
    path: str  #: the request path as sent (percent-encoding untouched)
    query: str  #: the raw query string, without "?"
    headers: Mapping[str, str]  #: names lower-cased
    body: bytes = b""


@dataclass(frozen=True)
class Caller:
    """A request that passed every check."""

    store: str
    nonce: str
    timestamp: int


def _missing(message: str) -> StorefrontRefused:
    return StorefrontRefused(401, "missing_auth", message)


def authenticate(registry: Registry, store: str, request: SignedRequest, now: datetime) -> Caller:
    """Run the contract's checks in its order; ``StorefrontRefused`` (401) on the first
    that fails. The nonce is recorded only once the signature is good."""
    timestamp = request.headers.get("x-bazgasht-timestamp", "")
    nonce = request.headers.get("x-bazgasht-nonce", "")
    signature = request.headers.get("x-bazgasht-signature", "")
    if not (timestamp and nonce and signature):
        raise _missing("the X-Bazgasht-Timestamp, -Nonce and -Signature headers are required")
    if not TIMESTAMP_FORMAT.fullmatch(timestamp):
        raise _missing("X-Bazgasht-Timestamp must be Unix seconds (1 to 12 digits)")
    if not NONCE_FORMAT.fullmatch(nonce):
        raise _missing("X-Bazgasht-Nonce must be 32 lower-case hex digits")
    if not SIGNATURE_FORMAT.fullmatch(signature):
        raise _missing("X-Bazgasht-Signature must be v1= and 64 lower-case hex digits")
    known = registry.has_store(store)
    secrets = registry.store(store).storefront_keys(store, registry.environ) if known else ()
    if not secrets:
        raise StorefrontRefused(
            401,
            "unknown_store",
            f"no store {store!r} with the storefront set up on this server "
            "(bazgasht storefront secret)",
        )
    server_time = int(now.timestamp())
    if abs(server_time - int(timestamp)) > MAX_SKEW_SECONDS:
        raise StorefrontRefused(
            401,
            "stale_timestamp",
            f"the request's time is more than {MAX_SKEW_SECONDS} s from the server's: check "
            "both clocks",
            {"server_time": server_time},
        )
    path = api_path(request.path)
    if path is None or not request_signature_valid(
        secrets,
        signature,
        method=request.method,
        path=path,
        query=canonical_query_of(request.query),
        timestamp=timestamp,
        nonce=nonce,
        body=request.body,
    ):
        raise StorefrontRefused(
            401, "bad_signature", "the signature does not match (check the shared secret)"
        )
    if not remember_nonce(registry.engine(), store, nonce, now):
        raise StorefrontRefused(401, "replayed_nonce", "this nonce was used before")
    return Caller(store, nonce, int(timestamp))


def remember_nonce(engine: Engine, store: str, nonce: str, now: datetime) -> bool:
    """Record the nonce; False if it was seen already (by any worker: it is one table)."""
    n = storefront_nonces
    with engine.begin() as conn:
        upsert = dialect_insert(conn.dialect.name)
        inserted = conn.execute(
            upsert(n)
            .values(store=store, nonce=nonce, seen_at=now)
            .on_conflict_do_nothing(index_elements=["store", "nonce"])
            .returning(n.c.nonce)
        ).scalar()
    return inserted is not None


def forget_nonces(engine: Engine, now: datetime) -> int:
    """Drop nonces older than the scheme needs to remember them (600 s)."""
    n = storefront_nonces
    with engine.begin() as conn:
        return int(
            conn.execute(
                delete(n).where(n.c.seen_at < now - timedelta(seconds=NONCE_MEMORY_SECONDS))
            ).rowcount
        )


# --------------------------------------------------------------------------- answers


def _rate(value: Decimal) -> str:
    return format(value, "f")


def program_answer(program: Program) -> dict[str, Any]:
    """``GET …/program``: the resolved program's parameters."""
    return {
        "store": program.store,
        "currency": program.currency,
        "decimals": program.decimals,
        "point_value": _rate(program.point_value),
        "cashback_percent": _rate(program.cashback_percent),
        "cashback_base": program.cashback_base,
        "cashback_from_order": program.cashback_from_order,
        "welcome_points": program.welcome_points,
        "second_purchase_points": program.second_purchase_points,
        "min_redeem_points": program.min_redeem_points,
        "coupon_valid_days": program.coupon_valid_days,
        "pending_days": program.pending_days,
    }


def _unknown(program: Program, customer_id: int) -> StorefrontRefused:
    return StorefrontRefused(
        404,
        "unknown_customer",
        f"store {program.store!r} knows no customer {customer_id} (new since the last sync, "
        "a staff account, or deleted)",
    )


def customer_answer(
    engine: Engine, program: Program, customer_id: int, now: datetime
) -> dict[str, Any]:
    """``GET …/customers/{id}``: the live state."""
    state = customer_state(engine, program, customer_id, now)
    if state is None:
        raise _unknown(program, customer_id)
    return state.api_json()


def history_limit(query: Mapping[str, str]) -> int:
    """``limit`` of ``history``: 1–100, default 20; anything else is a 400."""
    raw = query.get("limit")
    if raw is None:
        return HISTORY_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= HISTORY_MAX:
        raise StorefrontRefused(400, "bad_request", f"limit must be 1 to {HISTORY_MAX}")
    return int(raw)


def history_answer(
    engine: Engine, program: Program, customer_id: int, limit: int
) -> dict[str, Any]:
    """``GET …/customers/{id}/history``: the newest entries first, the guest identity that
    became this customer included (as ``loyalty history`` shows them)."""
    with engine.connect() as conn:
        if not known_customer(conn, program, customer_id):
            raise _unknown(program, customer_id)
    entries = history(engine, program, f"customer:{customer_id}")
    newest = sorted(entries, key=lambda e: (e.effective_at, e.id), reverse=True)[:limit]
    return {
        "entries": [
            {
                "at": instant_text(e.effective_at),
                "points": e.points,
                "kind": e.kind,
                "source": SOURCES.get(family(e.key), family(e.key)),
                "reason": e.reason,
                "order_id": e.order_id,
                "coupon_code": e.coupon_code,
            }
            for e in newest
        ]
    }


def redemption_request(body: bytes) -> tuple[int, str]:
    """(points, request id) of a redemption request's body, or ``StorefrontRefused``: 400
    for malformed JSON or wrong types, 422 ``invalid_points`` for an unusable number."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise StorefrontRefused(400, "bad_request", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise StorefrontRefused(400, "bad_request", "the body is not a JSON object")
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise StorefrontRefused(400, "bad_request", "request_id must be a lower-case UUID")
    points = data.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float):
        raise StorefrontRefused(400, "bad_request", "points must be a JSON integer")
    if isinstance(points, float) or not 1 <= points <= MAX_POINTS:
        raise StorefrontRefused(
            422, "invalid_points", "points must be a whole number from 1 to 10^12"
        )
    return int(points), request_id


def redemption_answer(program: Program, r: Redemption) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of a redemption in its current state."""
    return REDEMPTION_STATUS.get(r.status, 200), {
        "redemption_id": r.id,
        "code": r.code,
        "points": r.points,
        "amount": money_text(r.amount, program.decimals),
        "currency": program.currency,
        "expires_at": instant_text(r.expires_at),
        "status": r.status,
    }


def reserve_points(
    engine: Engine,
    program: Program,
    customer_id: int,
    points: int,
    request_id: str,
    now: datetime,
) -> Redemption:
    """Step 1 of a redemption for a customer (debit, pending redemption), idempotent by
    ``request_id``. ``StorefrontRefused``: 404 unknown customer, 409 the request id names
    another redemption, 422 a rule refused (its code)."""
    with engine.connect() as conn:
        if not known_customer(conn, program, customer_id):
            raise _unknown(program, customer_id)
    try:
        return reserve(
            engine, program, f"customer:{customer_id}", points, now, request_id=request_id
        )
    except RedeemError as exc:
        status = 409 if exc.code == "request_id_conflict" else 422
        raise StorefrontRefused(status, exc.code, str(exc)) from None


def issue_coupon(
    engine: Engine, client: CouponApi, program: Program, redemption_id: int, now: datetime
) -> Redemption:
    """Steps 2 and 3: make the coupon on the store (or find the one an earlier attempt made)
    and mark the redemption issued; a redemption no longer pending is returned as it is."""
    current = get_redemption(engine, redemption_id)
    if current.status != "pending":
        return current
    return issue(engine, client, program, redemption_id, now)


def current_redemption(engine: Engine, redemption_id: int) -> Redemption:
    return get_redemption(engine, redemption_id)


def program_of(registry: Registry, store: str, now: datetime) -> Program:
    """The store's resolved program (``ConfigError`` before the store's first sync)."""
    return program_for(registry, store, now, create=False)
