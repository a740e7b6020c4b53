"""Which shop a store name stands for, and refusing to mirror another one behind it.

A store's config may come to point at another shop (a changed URL, a domain that now serves
another site): its orders must never be merged into the old mirror, nor the old orders be
marked deleted. On first contact the sync remembers

* an *anchor*: the store's lowest order id and that order's ``order_key`` — a random string
  WooCommerce gives every order (``wc_order_…``), the same on a copy or a moved site, and
  different on any other shop, even one whose ids overlap;
* WordPress' home address (the public site index ``/wp-json/``).

Every later run asks for the anchor order (``GET orders/<id>?_fields=id,order_key``: one small
request; a trashed order still answers) before it writes anything:

* the same key: the same shop, go on;
* another key: another shop → ``StoreIdentityChanged``, nothing written;
* 404 (the anchor was deleted for good): the home address decides — the same site (scheme and
  ``www.`` aside) re-anchors on its current lowest order; another address is refused.

A store mirrored before identities existed has no anchor yet: it is learned on the next run,
after checking it against the mirror's copy of that order (creation time and currency).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select, update

from connector._errors import NotFoundError, StoreError, StoreIdentityChanged
from connector._listing import ReadPage, page_query, usable_id
from connector._schema import orders, stores

log = logging.getLogger("bazgasht.sync")

_ANCHOR_FIELDS = "id,order_key,currency,date_created_gmt"

#: The orders listing's order (the sync's ``ORDERS`` stream reads it so): by id, lowest first.
ORDERS_BY_ID: Mapping[str, str] = {"orderby": "id", "order": "asc"}


class StoreApi(Protocol):
    """What the identity check needs of a client (``connector.WooClient`` provides it)."""

    store: str

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any: ...

    def get_page(self, path: str, params: Mapping[str, str | int]) -> Any: ...

    def site_info(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Identity:
    """What a store is. None fields are not known (an empty shop has no anchor)."""

    site_home: str | None
    anchor_order_id: int | None
    anchor_order_key: str | None
    #: The orders listing's first page, read to learn the identity (not part of what the
    #: store *is*): the sync that follows takes it instead of asking for it again.
    orders_page: ReadPage | None = field(default=None, compare=False, repr=False)


def _refusal(store: str, why: str) -> StoreIdentityChanged:
    return StoreIdentityChanged(
        f"store {store!r}: {why}, so this is not the shop mirrored as {store!r}; nothing was "
        f"synced. If {store!r} really is another shop now, keep the old mirror and start a "
        f"fresh one with `bazgasht store repoint {store} --url URL --yes`, or add the other "
        "shop under a new name with `bazgasht store add NEWNAME --url URL`."
    )


def _same_site(a: str, b: str) -> bool:
    """Two home addresses of one site: the scheme, ``www.`` and a trailing / aside."""

    def key(url: str) -> tuple[str, str]:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        port = f":{parts.port}" if parts.port else ""
        return host + port, parts.path.rstrip("/")

    return key(a) == key(b)


def _home(client: StoreApi) -> str | None:
    """WordPress' home address, or None when the site index cannot be read."""
    try:
        info = client.site_info()
    except StoreError:
        return None
    home = info.get("home") or info.get("url")
    return home if isinstance(home, str) and home else None


def _anchor_order(client: StoreApi, order_id: int) -> dict[str, Any] | None:
    """The anchor order as the store has it now; None when it is gone (404)."""
    try:
        body = client.get(f"orders/{order_id}", {"_fields": _ANCHOR_FIELDS})
    except NotFoundError as exc:
        if exc.code in (None, "rest_no_route"):
            raise  # no WooCommerce API at this URL: not an answer about the order
        return None
    return body if isinstance(body, dict) else None


def _learn(
    client: StoreApi, home: str | None = None, *, listing_page: bool = False
) -> tuple[Identity, dict[str, Any] | None]:
    """The store's identity now: its lowest order (if any) and its home address, asked for
    at the same time (a first sync waits for both before its first page)."""
    # The lowest order is the first of the orders listing's first page: a sync asks for that
    # very page (handed to it with the identity, so not asked for twice); a check, for one.
    one: dict[str, str | int] = {**ORDERS_BY_ID, "per_page": 1, "_fields": _ANCHOR_FIELDS}
    query = page_query(ORDERS_BY_ID, 0) if listing_page else one
    with ThreadPoolExecutor(1, thread_name_prefix="bazgasht-home") as pool:
        asked = pool.submit(_home, client) if home is None else None
        page = client.get_page("orders", query)
        if asked is not None:
            home = asked.result()
    read = ReadPage("orders", query, page) if listing_page else None
    first = page.items[0] if page.items and isinstance(page.items[0], dict) else None
    key = first.get("order_key") if first is not None else None
    anchor_id = usable_id(first)
    if anchor_id is None or not isinstance(key, str) or not key or len(key) > 100:
        return Identity(home, None, None, read), None
    return Identity(home, anchor_id, key, read), first


def _check_against_mirror(
    conn: Connection, store: str, store_id: int, anchor: dict[str, Any]
) -> None:
    """A store mirrored before identities existed: its copy of the anchor order must agree."""
    mirrored = (
        conn.execute(
            select(orders.c.created_at, orders.c.currency).where(
                orders.c.store_id == store_id, orders.c.wc_id == usable_id(anchor)
            )
        )
        .mappings()
        .first()
    )
    if mirrored is None:
        return
    try:
        created = datetime.fromisoformat(str(anchor.get("date_created_gmt"))).replace(tzinfo=UTC)
    except ValueError:
        created = None
    if created != mirrored["created_at"] or anchor.get("currency") != mirrored["currency"]:
        raise _refusal(
            store,
            f"its order #{usable_id(anchor)} was created at another time or in another "
            "currency than the mirror's copy",
        )


def verify_identity(
    engine: Engine, client: StoreApi, store: str, *, listing_page: bool = False
) -> Identity | None:
    """Check that ``client`` talks to the shop mirrored as ``store``; read-only.

    Returns the identity to record (first contact, or a new anchor), or None when the known
    one was confirmed. Raises ``StoreIdentityChanged`` (nothing may be written then) or the
    client's ``StoreError``. ``listing_page``: learn it from the orders listing's whole first
    page (a sync's, handed to it as ``Identity.orders_page``) rather than from one order.
    """
    with engine.connect() as conn:  # closed before any request: no transaction held open
        row = conn.execute(select(stores).where(stores.c.name == store)).mappings().first()
    if row is None:
        return _learn(client, listing_page=listing_page)[0]
    anchor_id, anchor_key = row["anchor_order_id"], row["anchor_order_key"]
    if anchor_id is None or anchor_key is None:
        identity, anchor = _learn(client, listing_page=listing_page)
        if anchor is not None:
            with engine.connect() as conn:
                _check_against_mirror(conn, store, row["id"], anchor)
        return identity
    found = _anchor_order(client, anchor_id)
    if found is not None and found.get("order_key") == anchor_key:
        return None
    if found is not None and found.get("order_key"):
        raise _refusal(store, f"its order #{anchor_id} has another order key")
    # The anchor order is gone for good (or the store hides its key): the address decides.
    home = _home(client)
    known_home = row["site_home"]
    if home is None or not known_home or not _same_site(home, known_home):
        raise _refusal(
            store,
            f"its order #{anchor_id}, which identified the shop, is gone and the site's "
            f"home address is {home or 'unknown'} (was {known_home or 'unknown'})",
        )
    identity, _ = _learn(client, home, listing_page=listing_page)
    log.warning(
        "store %r: order #%s, which identified the shop, is gone; the site is the same "
        "(%s), so the shop is now identified by order #%s",
        store,
        anchor_id,
        home,
        identity.anchor_order_id,
    )
    return identity


def record_identity(conn: Connection, store_id: int, identity: Identity) -> None:
    conn.execute(
        update(stores)
        .where(stores.c.id == store_id)
        .values(
            site_home=identity.site_home,
            anchor_order_id=identity.anchor_order_id,
            anchor_order_key=identity.anchor_order_key,
        )
    )


def archive_store(engine: Engine, store: str, now: datetime) -> str | None:
    """Rename the store's rows to ``<name>@archived-<UTC time>`` so that ``store`` starts a
    fresh mirror; nothing is deleted (mirror, ledger, runs stay with the archived name).
    Returns the archive name, or None when the store has no data yet. Hold the store's sync
    lock around this."""
    stamp = f"{store}@archived-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    with engine.begin() as conn:
        taken = set(
            conn.execute(select(stores.c.name).where(stores.c.name.like(stamp + "%"))).scalars()
        )
        archived = next(
            name
            for n in range(1, 1000)
            if (name := stamp if n == 1 else f"{stamp}-{n}") not in taken
        )
        changed = conn.execute(
            update(stores).where(stores.c.name == store).values(name=archived)
        ).rowcount
    return archived if changed else None


__all__ = ["Identity", "StoreApi", "archive_store", "record_identity", "verify_identity"]
