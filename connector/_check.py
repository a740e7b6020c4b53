"""``bazgasht store check``: what a store lets this key do, and what it told us about itself.

``check_store`` only reads, except for one write probe that cannot create anything: a POST of
an empty coupon, which WooCommerce refuses with 400 (a required field is missing) when the
key may write, and with 401 "does not have write permissions" when it may not.

The report is plain data: items for the table (each failing one with a fix hint) and the
facts sync keeps per store (currency, decimals, timezone, version, ``modified_after``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector._client import Page, WooClient
from connector._errors import AuthError, BadRequestError, StoreError, redact_url
from connector.money import MONEY_SCALE

#: WooCommerce added ``modified_after``/``modified_before`` to the REST API in 5.8.
MODIFIED_AFTER_SINCE = (5, 8)
#: A moment no order has been modified after: a store that filters answers 0 orders, a
#: store that ignores the parameter (WordPress drops unknown ones silently) answers them all.
_FAR_FUTURE = "2100-01-01T00:00:00"
#: The mirror keeps money in units of 10⁻⁴.
_MAX_DECIMALS = MONEY_SCALE

REACHABLE = "reachable"
AUTHENTICATED = "authenticated"
READ_ORDERS = "read orders"
READ_CUSTOMERS = "read customers"
WRITE_COUPONS = "write coupons"
VERSION = "WooCommerce version"
CURRENCY = "currency"
TIMEZONE = "timezone"
MODIFIED_AFTER = "incremental sync"
HPOS = "order storage"
ITEM_ORDER = (
    REACHABLE,
    AUTHENTICATED,
    READ_ORDERS,
    READ_CUSTOMERS,
    WRITE_COUPONS,
    VERSION,
    CURRENCY,
    TIMEZONE,
    MODIFIED_AFTER,
    HPOS,
)
#: What sync needs; the rest is for rewards (write coupons) or information.
SYNC_ITEMS = frozenset({REACHABLE, AUTHENTICATED, READ_ORDERS, READ_CUSTOMERS})


@dataclass(frozen=True)
class CheckItem:
    """One line of the report. ``ok`` is None for "not checked" or "good to know"."""

    name: str
    ok: bool | None
    detail: str
    hint: str = ""


@dataclass(frozen=True)
class StoreFacts:
    """What the store told us about itself; sync keeps it on the store's row."""

    currency: str | None
    decimals: int | None
    #: IANA name; "UTC" when the store does not say (``timezone_known`` is then False).
    timezone: str
    timezone_known: bool
    wc_version: str | None
    supports_modified_after: bool
    hpos: bool | None


@dataclass(frozen=True)
class StoreCheck:
    store: str
    url: str
    items: tuple[CheckItem, ...]
    #: None when the store could not be read at all (unreachable, or the key was refused).
    facts: StoreFacts | None

    @property
    def ok(self) -> bool:
        """No item failed."""
        return all(item.ok is not False for item in self.items)

    @property
    def ok_for_sync(self) -> bool:
        """Everything sync needs works (a read-only key is enough)."""
        return all(item.ok is True for item in self.items if item.name in SYNC_ITEMS)

    def item(self, name: str) -> CheckItem:
        return next(item for item in self.items if item.name == name)


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


def _error_detail(error: StoreError) -> str:
    status = f"HTTP {error.status}" if error.status is not None else "no response"
    code = f", {error.code}" if error.code else ""
    return f"{error.detail} ({status}{code})"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass
class _Learned:
    currency: str | None = None
    decimals: int | None = None
    wc_version: str | None = None
    wp_version: str | None = None
    php_version: str | None = None
    hpos: bool | None = None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _from_system_status(body: Any) -> _Learned:
    learned = _Learned()
    environment = _object(_object(body).get("environment"))
    settings = _object(_object(body).get("settings"))
    for attr, value in (
        ("wc_version", environment.get("version")),
        ("wp_version", environment.get("wp_version")),
        ("php_version", environment.get("php_version")),
        ("currency", settings.get("currency")),
    ):
        if isinstance(value, str) and value:
            setattr(learned, attr, value)
    learned.decimals = _as_int(settings.get("number_of_decimals"))
    if isinstance(settings.get("HPOS_enabled"), bool):
        learned.hpos = settings["HPOS_enabled"]
    elif isinstance(settings.get("order_datastore"), str):
        learned.hpos = "OrdersTableDataStore" in settings["order_datastore"]
    return learned


def _from_settings_general(body: Any) -> _Learned:
    learned = _Learned()
    if not isinstance(body, list):
        return learned
    values = {s.get("id"): s.get("value") for s in body if isinstance(s, dict)}
    currency = values.get("woocommerce_currency")
    learned.currency = currency if isinstance(currency, str) and currency else None
    learned.decimals = _as_int(values.get("woocommerce_price_num_decimals"))
    return learned


def _order_offset(page: Page | None) -> timedelta | None:
    """The store's UTC offset as the newest order shows it (``date_created`` minus ``_gmt``)."""
    if page is None or not page.items:
        return None
    order = page.items[0]
    try:
        local = datetime.fromisoformat(str(order["date_created"]))
        gmt = datetime.fromisoformat(str(order["date_created_gmt"]))
    except (KeyError, TypeError, ValueError):
        return None
    return local.replace(tzinfo=None) - gmt.replace(tzinfo=None)


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _timezone(client: WooClient, orders: Page | None) -> tuple[str, bool, CheckItem]:
    """(IANA name, known?, report item). WooCommerce's API does not expose the site's
    timezone (``system_status.environment.default_timezone`` is PHP's, which WordPress always
    sets to UTC); WordPress' public site index does."""
    set_it = (
        "In WordPress → Settings → General choose a city as the timezone (not a UTC offset), "
        "then run `bazgasht store check` again. Until then reports use UTC days and months."
    )
    try:
        info = client.site_info()
    except StoreError as exc:
        info = None
        why = f"WordPress' site index (/wp-json/) could not be read: {_error_detail(exc)}"
    if info is not None:
        name = info.get("timezone_string")
        offset_hours = info.get("gmt_offset")
        if isinstance(name, str) and name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
            else:
                return name, True, CheckItem(TIMEZONE, True, f"{name} (WordPress' setting)")
        try:
            hours = float(offset_hours) if offset_hours not in (None, "") else None
        except (TypeError, ValueError):
            hours = None
        if hours == 0:
            return "UTC", True, CheckItem(TIMEZONE, True, "UTC (WordPress' setting)")
        if hours is not None and hours.is_integer() and -12 <= hours <= 14:
            # POSIX sign: Etc/GMT-3 is three hours *ahead* of UTC.
            zone = f"Etc/GMT{-int(hours):+d}"
            return (
                zone,
                True,
                CheckItem(
                    TIMEZONE,
                    True,
                    f"{zone}: WordPress is set to a fixed offset of {hours:+g} h (no summer time)",
                ),
            )
        why = (
            f"WordPress is set to a fixed offset of {offset_hours} h, which has no timezone name"
            if hours is not None
            else "WordPress' site index does not say"
        )
    offset = _order_offset(orders)
    if offset is not None and offset != timedelta(0):
        return (
            "UTC",
            False,
            CheckItem(
                TIMEZONE,
                False,
                f"unknown: {why}; the newest order's local time is {_format_offset(offset)}, "
                "so the store is not on UTC — reports would cut days at the wrong hour",
                set_it,
            ),
        )
    seen = " (the newest order's local and GMT times agree)" if offset is not None else ""
    return (
        "UTC",
        False,
        CheckItem(
            TIMEZONE,
            None,
            f"assuming UTC{seen}: WooCommerce's API does not tell the store's timezone and {why}",
            set_it,
        ),
    )


def _modified_after(
    client: WooClient, orders_total: int, version: tuple[int, ...] | None
) -> tuple[bool, CheckItem]:
    """Whether ``modified_after`` filters, by a probe that needs no order to match, and by
    version when the probe cannot tell (an empty store, an error)."""
    by_version = None if version is None else version >= MODIFIED_AFTER_SINCE
    probe: bool | None = None
    try:
        page = client.get_page(
            "orders", {"per_page": 1, "modified_after": _FAR_FUTURE, "dates_are_gmt": "true"}
        )
    except BadRequestError:
        probe = False  # refused outright
    except StoreError:
        probe = None
    else:
        if orders_total > 0:
            filtered = page.total if page.total is not None else len(page.items)
            probe = filtered == 0  # all orders still there: the parameter was ignored
    if probe is not None:
        supported, how = probe, "probed"
    elif by_version is not None:
        supported, how = by_version, "judged by the WooCommerce version"
    else:
        supported, how = False, "could not tell; assuming not"
    if supported:
        return True, CheckItem(
            MODIFIED_AFTER, True, f"orders can be fetched by modified_after ({how})"
        )
    return False, CheckItem(
        MODIFIED_AFTER,
        None,
        f"the store does not filter orders by modified_after ({how}): each sync reads all orders",
        "Update WooCommerce to 5.8 or later for incremental syncs; until then every sync "
        "reads all orders, which is slow on a big store.",
    )


def check_store(client: WooClient) -> StoreCheck:
    """Probe the store with the client's key; never raises a ``StoreError``."""
    items: dict[str, CheckItem] = {}
    url = redact_url(client.base_url)

    def report(facts: StoreFacts | None, skipped_because: str = "") -> StoreCheck:
        for name in ITEM_ORDER:
            items.setdefault(name, CheckItem(name, None, f"not checked: {skipped_because}"))
        return StoreCheck(
            store=client.store,
            url=url,
            items=tuple(items[name] for name in ITEM_ORDER),
            facts=facts,
        )

    # Reachable, authenticated, may read orders: one request answers all three.
    try:
        orders: Page | None = client.get_page("orders", {"per_page": 1})
    except AuthError as exc:
        items[REACHABLE] = CheckItem(REACHABLE, True, "WooCommerce's REST API answers")
        items[AUTHENTICATED] = CheckItem(AUTHENTICATED, False, _error_detail(exc), exc.hint)
        return report(None, "the key was refused")
    except StoreError as exc:
        items[REACHABLE] = CheckItem(REACHABLE, False, _error_detail(exc), exc.hint)
        return report(None, "the store's API is not reachable")
    assert orders is not None
    items[REACHABLE] = CheckItem(REACHABLE, True, f"WooCommerce's REST API answers at {url}")
    items[AUTHENTICATED] = CheckItem(AUTHENTICATED, True, "the store accepts the key")
    total = orders.total
    items[READ_ORDERS] = CheckItem(
        READ_ORDERS, True, f"{total} orders" if total is not None else "orders are readable"
    )

    try:
        customers = client.get_page("customers", {"per_page": 1, "role": "all"})
    except StoreError as exc:
        items[READ_CUSTOMERS] = CheckItem(READ_CUSTOMERS, False, _error_detail(exc), exc.hint)
    else:
        count = f"{customers.total} accounts (all roles)" if customers.total is not None else ""
        items[READ_CUSTOMERS] = CheckItem(READ_CUSTOMERS, True, count or "customers are readable")

    items[WRITE_COUPONS] = _write_probe(client)

    learned = _Learned()
    status_error: StoreError | None = None
    try:
        learned = _from_system_status(client.get("system_status"))
    except StoreError as exc:
        status_error = exc
    if learned.currency is None or learned.decimals is None:
        try:
            general = _from_settings_general(client.get("settings/general"))
        except StoreError:
            general = _Learned()
        learned.currency = learned.currency or general.currency
        if learned.decimals is None:
            learned.decimals = general.decimals

    version = _version_tuple(learned.wc_version)
    if learned.wc_version:
        others = ", ".join(
            f"{name} {value}"
            for name, value in (("WordPress", learned.wp_version), ("PHP", learned.php_version))
            if value
        )
        items[VERSION] = CheckItem(
            VERSION, True, f"WooCommerce {learned.wc_version}" + (f" ({others})" if others else "")
        )
    else:
        why = f": {_error_detail(status_error)}" if status_error else ""
        items[VERSION] = CheckItem(
            VERSION,
            None,
            f"unknown: system_status could not be read{why}",
            "system_status needs a key of an administrator or shop manager.",
        )

    if learned.currency is None:
        items[CURRENCY] = CheckItem(
            CURRENCY, None, "unknown: neither system_status nor settings/general could be read"
        )
    elif learned.decimals is not None and learned.decimals > _MAX_DECIMALS:
        items[CURRENCY] = CheckItem(
            CURRENCY,
            False,
            f"{learned.currency} with {learned.decimals} decimals: Bazgasht keeps amounts to "
            f"{_MAX_DECIMALS} decimals and could not mirror them exactly",
            "Set WooCommerce → Settings → General → Number of decimals to 4 or fewer.",
        )
    else:
        decimals = f", {learned.decimals} decimals" if learned.decimals is not None else ""
        items[CURRENCY] = CheckItem(CURRENCY, True, f"{learned.currency}{decimals}")

    timezone, timezone_known, items[TIMEZONE] = _timezone(client, orders)
    known_orders = total if total is not None else len(orders.items)
    supports, items[MODIFIED_AFTER] = _modified_after(client, known_orders, version)

    if learned.hpos is None:
        items[HPOS] = CheckItem(HPOS, None, "unknown (system_status could not be read)")
    else:
        items[HPOS] = CheckItem(
            HPOS,
            True,
            "HPOS on (custom order tables)"
            if learned.hpos
            else "HPOS off (orders stored as posts)",
        )

    facts = StoreFacts(
        currency=learned.currency,
        decimals=learned.decimals,
        timezone=timezone,
        timezone_known=timezone_known,
        wc_version=learned.wc_version,
        supports_modified_after=supports,
        hpos=learned.hpos,
    )
    return report(facts)


def _write_probe(client: WooClient) -> CheckItem:
    """POST an empty coupon: refused for a missing field (may write) or for permission."""
    try:
        created = client.post("coupons", {})
    except BadRequestError as exc:
        if exc.code == "rest_missing_callback_param":
            return CheckItem(
                WRITE_COUPONS,
                True,
                "the key may write (probed with an empty coupon, which the store refused as "
                "incomplete: nothing was created)",
            )
        return CheckItem(WRITE_COUPONS, None, f"could not tell: {_error_detail(exc)}")
    except AuthError as exc:
        return CheckItem(WRITE_COUPONS, False, _error_detail(exc), exc.hint)
    except StoreError as exc:
        return CheckItem(WRITE_COUPONS, None, f"could not tell: {_error_detail(exc)}", exc.hint)
    # Not WooCommerce's behaviour; if some plugin made it so, do not leave the coupon behind.
    coupon_id = created.get("id") if isinstance(created, dict) else None
    if isinstance(coupon_id, int):
        try:
            client.delete(f"coupons/{coupon_id}", {"force": "true"})
        except StoreError:
            return CheckItem(
                WRITE_COUPONS,
                True,
                f"the key may write, but the store accepted an empty coupon (id {coupon_id}) "
                "that could not be deleted again",
                f"Delete coupon {coupon_id} in WooCommerce → Marketing → Coupons.",
            )
    return CheckItem(WRITE_COUPONS, True, "the key may write")


__all__ = ["CheckItem", "StoreCheck", "StoreFacts", "check_store"]
