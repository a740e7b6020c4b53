"""Who placed an order: the identity rule of SPEC §4, in Python and in SQL.

* ``customer:<id>`` — a registered customer; their orders join by ``customer_id``.
* A guest order (``customer_id`` 0) whose normalized billing e-mail is the *account* e-mail of
  a registered customer (role ``customer``, account not deleted) is that customer's order,
  also when it was placed before the account existed.
* ``email:<normalized e-mail>`` — any other guest.
* ``order:<id>`` — a guest order without any e-mail: a one-order customer of its own.

Both forms below implement the same rule; a test holds them to each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)

from connector import customers, orders


def identity_of(
    order_id: int, customer_id: int, billing_email: str, account_by_email: Mapping[str, int]
) -> str:
    """The identity of one order; ``billing_email`` is already normalized."""
    if customer_id > 0:
        return f"customer:{customer_id}"
    if billing_email:
        account = account_by_email.get(billing_email)
        if account is not None:
            return f"customer:{account}"
        return f"email:{billing_email}"
    return f"order:{order_id}"


def accounts_by_email(store_id: int) -> Select[tuple[str, int]]:
    """Normalized account e-mail → customer id, for the accounts that claim guest orders."""
    return (
        select(customers.c.email, func.min(customers.c.wc_id).label("wc_id"))
        .where(
            customers.c.store_id == store_id,
            customers.c.role == "customer",
            customers.c.deleted_at.is_(None),
            customers.c.email != "",
        )
        .group_by(customers.c.email)
    )


def order_identities(store_id: int, *, scan: bool = False) -> Select[tuple[int, str]]:
    """``SELECT order_id, identity`` for every order of the store (deleted ones included).
    ``scan``: to be read whole — SQLite then reads the table in its order instead of walking
    an index on the store and fetching each row apart (twice as slow, rows in random order)."""
    accounts = accounts_by_email(store_id).subquery("accounts")
    identity: ColumnElement[str] = case(
        (orders.c.customer_id > 0, literal("customer:") + cast(orders.c.customer_id, String)),
        (
            accounts.c.wc_id.is_not(None),
            literal("customer:") + cast(accounts.c.wc_id, String),
        ),
        (orders.c.billing_email != "", literal("email:") + orders.c.billing_email),
        else_=literal("order:") + cast(orders.c.wc_id, String),
    )
    return (
        select(orders.c.wc_id.label("order_id"), identity.label("identity"))
        .select_from(
            orders.outerjoin(
                accounts,
                and_(orders.c.customer_id == 0, accounts.c.email == orders.c.billing_email),
            )
        )
        .where(
            (literal_column("+orders.store_id", Integer) if scan else orders.c.store_id) == store_id
        )
    )


def account_email_map(accounts: Iterable[tuple[int, str, str, bool]]) -> dict[str, int]:
    """The Python twin of ``accounts_by_email``: rows of (customer id, normalized e-mail, role,
    deleted) → e-mail → the (lowest) id of the active ``customer`` account that claims it."""
    claims: dict[str, int] = {}
    for wc_id, email, role, deleted in accounts:
        if role != "customer" or deleted or not email:
            continue
        if email not in claims or wc_id < claims[email]:
            claims[email] = wc_id
    return claims
