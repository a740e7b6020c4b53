"""What a reconciliation reads of the mirror: orders with their rule inputs, accounts and
the non-derived keys (``Facts``), the orders of a set of identities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    String,
    select,
    type_coerce,
)

from connector import customers, orders
from loyalty._schema import (
    loyalty_ledger,
)
from loyalty._scratch import (
    family_range,
)
from loyalty.identity import account_email_map, identity_of, order_identities
from loyalty.rules import (
    MANUAL,
    REDEEM,
    AccountFacts,
    CashbackRate,
    Holding,
    KeyState,
    Movement,
    OrderFacts,
    Outcome,
    identity_outcome,
    owner_of,
)
from loyalty.settings import Program

# --------------------------------------------------------------------------- loading facts


FACT_COLUMNS = (
    "order_id",
    "identity",
    "status",
    "deleted",
    "created_at",
    "completed_at",
    "paid_at",
    "total",
    "refunded_total",
    "shipping_total",
    "total_tax",
)


def order_rows(store_id: int, *, driver_instants: bool = False, scan: bool = False) -> Select[Any]:
    """Orders with their identity and the rule inputs; money as raw units of 10⁻⁴.
    ``driver_instants``: the three instants as the driver gives them, for ``facts_stream``
    (no type processing per value: a full run reads a million orders). ``scan``: every order
    of the store is read (``order_identities``)."""
    base = order_identities(store_id, scan=scan)

    def instant(col: Any) -> Any:
        return type_coerce(col, String).label(col.name) if driver_instants else col

    return base.add_columns(
        orders.c.customer_id,
        orders.c.billing_email,
        orders.c.status,
        instant(orders.c.created_at),
        instant(orders.c.completed_at),
        instant(orders.c.paid_at),
        type_coerce(orders.c.total, BigInteger).label("total"),
        type_coerce(orders.c.refunded_total, BigInteger).label("refunded_total"),
        type_coerce(orders.c.shipping_total, BigInteger).label("shipping_total"),
        type_coerce(orders.c.total_tax, BigInteger).label("total_tax"),
        orders.c.deleted_at.is_not(None).label("deleted"),
    )


def facts_of(row: Any) -> OrderFacts:
    return OrderFacts(
        order_id=row.order_id,
        customer_id=row.customer_id,
        billing_email=row.billing_email,
        status=row.status,
        created_at=row.created_at,
        completed_at=row.completed_at,
        paid_at=row.paid_at,
        total=row.total,
        refunded=row.refunded_total,
        shipping=row.shipping_total,
        tax=row.total_tax,
        deleted=bool(row.deleted),
    )


def _instant(value: Any) -> datetime | None:
    """An instant as the driver gives it (SQLite: text; PostgreSQL: naive) → aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


def _never(order_id: int) -> datetime:
    raise ValueError(f"order {order_id} has no creation time")  # NOT NULL in the schema


def facts_stream(rows: Iterable[Any]) -> Iterator[tuple[str, OrderFacts]]:
    """(identity, facts) of ``order_rows(..., driver_instants=True)`` rows, converted in one
    tight loop (positional: the columns' order is ``order_rows``'s)."""
    instant = _instant
    for (
        order_id, identity, customer_id, email, status, created, completed, paid, total,
        refunded, shipping, tax, deleted,
    ) in rows:  # fmt: skip
        yield identity, OrderFacts(
            order_id, customer_id, email, status, instant(created) or _never(order_id),
            instant(completed),
            instant(paid), total, refunded, shipping, tax, bool(deleted),
        )  # fmt: skip


def fact_tuple(identity: str, o: OrderFacts) -> tuple[Any, ...]:
    return (
        o.order_id,
        identity,
        o.status,
        o.deleted,
        o.created_at,
        o.completed_at,
        o.paid_at,
        o.total,
        o.refunded,
        o.shipping,
        o.tax,
    )


class Facts:
    """The accounts and the non-derived keys of a store, loaded once per run.

    A full run loads every account. An incremental run (``all_accounts=False``) loads only
    the accounts it needs — by id, and every account sharing an e-mail with one loaded, so
    the e-mail claims it computes are complete — through ``need()``, in batches."""

    def __init__(
        self,
        conn: Connection,
        program: Program,
        *,
        all_accounts: bool = True,
        empty_ledger: bool = False,
    ) -> None:
        """``empty_ledger``: the caller knows the ledger holds nothing (a direct first run's
        rules process: the ledger is locked by the parent, which emptied its indexes)."""
        self.program = program
        self.conn = conn
        self.complete = all_accounts
        store_id = program.store_id
        self.accounts: dict[int, AccountFacts] = {}
        self.claims: dict[str, int] = {}
        self._ids: set[int] = set()
        self._emails: set[str] = set()
        if all_accounts:
            self._add(conn.execute(account_select(store_id)))
        # Non-derived keys: who they were written for (origin), their net, their holders.
        self.states: dict[str, KeyState] = {}
        # One index range per family (an OR of ranges would scan the store's whole ledger).
        rows = [
            row
            for fam in (() if empty_ledger else (MANUAL, REDEEM))
            for row in conn.execute(
                select(
                    loyalty_ledger.c.key,
                    loyalty_ledger.c.seq,
                    loyalty_ledger.c.identity,
                    loyalty_ledger.c.points,
                    loyalty_ledger.c.effective_at,
                )
                .where(
                    loyalty_ledger.c.store_id == store_id,
                    family_range(loyalty_ledger.c.key, fam),
                )
                .order_by(loyalty_ledger.c.key, loyalty_ledger.c.seq)
            )
        ]
        nets: list[tuple[str, int, str, datetime]] = []
        for key, group in groupby(rows, key=lambda r: r[0]):
            entries = list(group)
            held: dict[str, int] = defaultdict(int)
            for e in entries:
                held[e[2]] += e[3]
            origin, first_at = entries[0][2], entries[0][4]
            self.states[key] = KeyState(
                key=key,
                holdings=tuple(Holding(i, p) for i, p in sorted(held.items()) if p != 0),
                last_seq=entries[-1][1],
                effective_at=first_at,
                origin=origin,
            )
            nets.append((key, sum(held.values()), origin, first_at))
        self.need_identities(origin for _, _, origin, _ in nets)
        self.movements: dict[str, list[Movement]] = defaultdict(list)
        for key, total, origin, first_at in nets:
            if total:
                self.movements[self.owner(origin)].append(Movement(key, total, first_at))

    def _add(self, rows: Iterable[Any]) -> set[str]:
        emails: set[str] = set()
        for row in rows:
            account = AccountFacts(row[0], row[1], row[2], row[4], bool(row[3]))
            self.accounts[account.customer_id] = account
            self._ids.add(account.customer_id)
            if account.email:
                emails.add(account.email)
        self.claims = account_email_map(
            (a.customer_id, a.email, a.role, a.deleted) for a in self.accounts.values()
        )
        return emails

    def need(self, ids: Iterable[int] = (), emails: Iterable[str] = ()) -> None:
        """Load the accounts with these ids and every account with these e-mails."""
        if self.complete:
            return
        store_id = self.program.store_id
        new_ids = sorted(set(ids) - self._ids)
        self._ids.update(new_ids)
        wanted = set(emails)
        for start in range(0, len(new_ids), 500):
            chunk = new_ids[start : start + 500]
            wanted |= self._add(
                self.conn.execute(account_select(store_id).where(customers.c.wc_id.in_(chunk)))
            )
        new_emails = sorted(wanted - self._emails)
        self._emails.update(new_emails)
        for start in range(0, len(new_emails), 500):
            mails = new_emails[start : start + 500]
            self._add(
                self.conn.execute(account_select(store_id).where(customers.c.email.in_(mails)))
            )

    def need_identities(self, identities: Iterable[str]) -> None:
        ids: set[int] = set()
        emails: set[str] = set()
        for identity in identities:
            kind, _, rest = identity.partition(":")
            if kind == "customer" and rest.isdigit():
                ids.add(int(rest))
            elif kind == "email" and rest:
                emails.add(rest)
        self.need(ids, emails)

    def owner(self, identity: str) -> str:
        self.need_identities([identity])  # a no-op when loaded (callers batch beforehand)
        return owner_of(identity, self.accounts, self.claims)

    def account_for(self, identity: str) -> AccountFacts | None:
        kind, _, rest = identity.partition(":")
        if kind == "customer" and rest.isdigit():
            return self.accounts.get(int(rest))
        return None

    def outcome(
        self, identity: str, group: Sequence[OrderFacts], now: datetime, rate: CashbackRate
    ) -> Outcome:
        return identity_outcome(
            identity,
            group,
            self.account_for(identity),
            self.program,
            now,
            self.movements.get(identity, ()),
            rate,
        )


def orders_of(conn: Connection, facts: Facts, identities: set[str]) -> list[OrderRow]:
    """The orders of the given identities (identity-sorted), found through the indexes."""
    facts.need_identities(identities)
    customer_ids: set[int] = set()
    emails: set[str] = set()
    order_ids: set[int] = set()
    for identity in identities:
        kind, _, rest = identity.partition(":")
        if kind == "customer" and rest.isdigit():
            customer_ids.add(int(rest))
            account = facts.accounts.get(int(rest))
            if account is not None and account.email:
                emails.add(account.email)
        elif kind == "email":
            emails.add(rest)
        elif kind == "order" and rest.isdigit():
            order_ids.add(int(rest))
    raw = raw_order_rows(facts.program.store_id)
    found: dict[int, OrderRow] = {}
    conditions: list[Any] = []
    ids, mails, oids = sorted(customer_ids), sorted(emails), sorted(order_ids)
    for start in range(0, len(ids), 500):
        conditions.append(orders.c.customer_id.in_(ids[start : start + 500]))
    for start in range(0, len(mails), 500):
        chunk = mails[start : start + 500]
        # (customer_id = 0 is checked in Python: in SQL it would steer SQLite to the wrong index)
        conditions.append(orders.c.billing_email.in_(chunk))
    for start in range(0, len(oids), 500):
        conditions.append(orders.c.wc_id.in_(oids[start : start + 500]))
    for condition in conditions:
        for r in conn.execute(raw.where(condition)):
            identity = identity_of(r.order_id, r.customer_id, r.billing_email, facts.claims)
            if identity in identities:
                found[r.order_id] = OrderRow(r.order_id, identity, *r[1:])
    return sorted(found.values(), key=lambda r: (r.identity, r.created_at, r.order_id))


def account_select(store_id: int) -> Select[Any]:
    return select(
        customers.c.wc_id,
        customers.c.email,
        customers.c.role,
        customers.c.deleted_at.is_not(None),
        customers.c.created_at,
    ).where(customers.c.store_id == store_id)


class OrderRow(NamedTuple):
    """An order row as ``order_rows`` gives it, with the identity computed in Python."""

    order_id: int
    identity: str
    customer_id: int
    billing_email: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    paid_at: datetime | None
    total: int
    refunded_total: int
    shipping_total: int
    total_tax: int
    deleted: bool


def raw_order_rows(store_id: int) -> Select[Any]:
    """``order_rows`` without the identity (computed in Python with the account claims)."""
    return select(
        orders.c.wc_id.label("order_id"),
        orders.c.customer_id,
        orders.c.billing_email,
        orders.c.status,
        orders.c.created_at,
        orders.c.completed_at,
        orders.c.paid_at,
        type_coerce(orders.c.total, BigInteger).label("total"),
        type_coerce(orders.c.refunded_total, BigInteger).label("refunded_total"),
        type_coerce(orders.c.shipping_total, BigInteger).label("shipping_total"),
        type_coerce(orders.c.total_tax, BigInteger).label("total_tax"),
        orders.c.deleted_at.is_not(None).label("deleted"),
    ).where(orders.c.store_id == store_id)
