"""Records → the JSON WooCommerce 8.2 sends, field for field (see the recorded fixtures).

Rendering happens per request, for the rows of one page only; nothing here is cached.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from samplestore._catalog import SHIPPING, Product
from samplestore._data import (
    FAILED,
    FLAG_ADMIN_CREATED,
    ON_HOLD,
    PENDING,
    ROLE_ADMIN,
    ROLES,
    STATUSES,
    CouponRecord,
    PersonCard,
    Refund,
    StoreData,
    gravatar,
    mix,
)

WP_VERSION = "6.4.1"
PHP_VERSION = "8.2.36"
SITE_NAME = "Bazgasht Sample Store"


class Site(NamedTuple):
    """What a response needs to know about the site beyond its data."""

    url: str  #: the home URL, ``http://127.0.0.1:PORT``
    timezone: str  #: IANA name of WordPress' timezone setting
    wc_version: str

    @property
    def api(self) -> str:
        return f"{self.url}/wp-json/wc/v3"


def wp_json(value: Any) -> bytes:
    """JSON as WordPress' ``wp_json_encode`` writes it: compact, ``\\/`` for ``/`` and
    ``\\uXXXX`` for every non-ASCII character (Persian text and emoji arrive escaped)."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


_FORMAT = "%Y-%m-%dT%H:%M:%S"
_ZONES: dict[str, ZoneInfo] = {}


def gmt(seconds: int) -> str:
    """``date_*_gmt``: UTC, no offset, no ``Z``."""
    return time.strftime(_FORMAT, time.gmtime(seconds))


def local(site: Site, seconds: int) -> str:
    """``date_*``: the same instant in the site's timezone, no offset."""
    if site.timezone == "UTC":
        return gmt(seconds)
    zone = _ZONES.get(site.timezone)
    if zone is None:
        zone = _ZONES[site.timezone] = ZoneInfo(site.timezone)
    return datetime.fromtimestamp(seconds, zone).strftime(_FORMAT)


def _maybe(site: Site, seconds: int) -> tuple[str | None, str | None]:
    return (local(site, seconds), gmt(seconds)) if seconds else (None, None)


def unpadded(amount: Decimal | str) -> str:
    """WooCommerce's ``wc_format_decimal`` without a precision: "5" for 5.00, "72.5"."""
    text = f"{Decimal(amount):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _price(total_minor: int, quantity: int, data: StoreData) -> int | float:
    """``line_items[].price``: a JSON number (total ÷ quantity), an integer when whole."""
    value = round(data.to_decimal(total_minor) / max(quantity, 1), data.currency.decimals)
    return int(value) if value == value.to_integral_value() else float(value)


def order_key(data: StoreData, order_id: int) -> str:
    return f"wc_order_{mix(data.seed, 31, order_id) & ((1 << 52) - 1):013x}"


def _links(site: Site, kind: str, object_id: int, **extra: str) -> dict[str, list[dict[str, str]]]:
    links = {
        "self": [{"href": f"{site.api}/{kind}/{object_id}"}],
        "collection": [{"href": f"{site.api}/{kind}"}],
    }
    for rel, href in extra.items():
        links[rel] = [{"href": href}]
    return links


# ----------------------------------------------------------------------------- orders


def _address(card: PersonCard) -> dict[str, str]:
    """An order's address block up to the country (orders list ``state`` before ``postcode``;
    customers use another order, so ``render_customer`` spells its own)."""
    return {
        "first_name": card.first_name,
        "last_name": card.last_name,
        "company": card.company,
        "address_1": card.address_1,
        "address_2": card.address_2,
        "city": card.city,
        "state": card.state,
        "postcode": card.postcode,
        "country": card.country,
    }


def render_order(data: StoreData, site: Site, row: int, dp: int | None = None) -> dict[str, Any]:
    """One order as ``GET /orders/<id>`` returns it (``dp``: decimals of money fields)."""

    def money(minor: int) -> str:
        return data.format_money(minor, dp)

    oid = data.o_id[row]
    status = data.o_status[row]
    amounts = data.amounts(row)
    card = data.card(data.o_person[row])
    customer_id = data.o_customer[row]
    key = order_key(data, oid)
    payment = data.o_payment[row]
    method = data.payment_methods[payment] if payment >= 0 else None
    paid = data.o_paid[row]
    transaction = ""
    if method is not None and method.id == "stripe" and paid:
        transaction = f"ch_{mix(data.seed, 37, oid):016x}{mix(data.seed, 41, oid) >> 32:08x}"
    created, modified = data.o_created[row], data.o_modified[row]
    date_paid, date_paid_gmt = _maybe(site, paid)
    date_completed, date_completed_gmt = _maybe(site, data.o_completed[row])
    zero = money(0)
    item0 = data.o_item0[row]
    start = data.o_line0[row]
    line_items = []
    for i, (subtotal, total) in enumerate(amounts.lines):
        product = data.products[data.l_product[start + i]]
        qty = data.l_qty[start + i]
        line_items.append(
            _line_item(data, item0 + i, product, qty, subtotal, total, money, zero, _price)
        )
    n = len(amounts.lines)
    ship = SHIPPING[data.currency.flavour]
    free = bool(data.o_free_ship[row])
    shipping_lines = [
        {
            "id": item0 + n,
            "method_title": ship.free_title if free else ship.flat_title,
            "method_id": "free_shipping" if free else "flat_rate",
            "instance_id": "2" if free else "1",
            "total": money(amounts.shipping),
            "total_tax": zero,
            "taxes": [],
            "meta_data": [],
        }
    ]
    coupon_lines = []
    coupon = data.coupons.get(data.o_coupon[row]) if data.o_coupon[row] else None
    if coupon is not None:
        snapshot = _coupon_snapshot(site, coupon)
        coupon_lines.append(
            {
                "id": item0 + n + 1,
                "code": coupon.code,
                "discount": unpadded(data.to_decimal(amounts.discount)),
                "discount_tax": "0",
                "meta_data": [
                    {
                        "id": (item0 + n + 1) * 7,
                        "key": "coupon_data",
                        "value": snapshot,
                        "display_key": "coupon_data",
                        "display_value": snapshot,
                    }
                ],
            }
        )
    refunds = [
        {"id": r.id, "reason": r.reason, "total": money(-r.amount)}
        for r in reversed(data.refunds.get(row, ()))
    ]
    links = _links(site, "orders", oid)
    if customer_id:
        links["customer"] = [{"href": f"{site.api}/customers/{customer_id}"}]
    billing_email = data.billing_email.get(row, card.email)
    return {
        "id": oid,
        "parent_id": 0,
        "status": STATUSES[status],
        "currency": data.currency.code,
        "version": site.wc_version,
        "prices_include_tax": False,
        "date_created": local(site, created),
        "date_modified": local(site, modified),
        "discount_total": money(amounts.discount),
        "discount_tax": zero,
        "shipping_total": money(amounts.shipping),
        "shipping_tax": zero,
        "cart_tax": zero,
        "total": money(amounts.total),
        "total_tax": zero,
        "customer_id": customer_id,
        "order_key": key,
        # WooCommerce's key order: the address, then (billing only) e-mail, then phone.
        "billing": {**_address(card), "email": billing_email, "phone": card.phone},
        "shipping": {**_address(card), "phone": card.phone},
        "payment_method": method.id if method else "",
        "payment_method_title": method.title if method else "",
        "transaction_id": transaction,
        "customer_ip_address": card.ip,
        "customer_user_agent": card.user_agent,
        "created_via": "admin" if data.o_flags[row] & FLAG_ADMIN_CREATED else "checkout",
        "customer_note": data.notes.get(row, ""),
        "date_completed": date_completed,
        "date_paid": date_paid,
        "cart_hash": "",
        "number": str(oid),
        "meta_data": [],
        "line_items": line_items,
        "tax_lines": [],
        "shipping_lines": shipping_lines,
        "fee_lines": [],
        "coupon_lines": coupon_lines,
        "refunds": refunds,
        "payment_url": f"{site.url}/checkout/order-pay/{oid}/?pay_for_order=true&key={key}",
        "is_editable": status in (PENDING, ON_HOLD),
        "needs_payment": status in (PENDING, FAILED) and amounts.total > 0,
        "needs_processing": True,
        "date_created_gmt": gmt(created),
        "date_modified_gmt": gmt(modified),
        "date_completed_gmt": date_completed_gmt,
        "date_paid_gmt": date_paid_gmt,
        "currency_symbol": data.currency.symbol,
        "_links": links,
    }


def _line_item(
    data: StoreData,
    item_id: int,
    product: Product,
    qty: int,
    subtotal: int,
    total: int,
    money: Callable[[int], str],
    zero: str,
    price: Callable[[int, int, StoreData], int | float],
    meta: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if meta is None:
        meta = []
        if product.size is not None:
            meta.append(
                {
                    "id": item_id * 7,
                    "key": "size",
                    "value": product.size,
                    "display_key": "Size",
                    "display_value": product.size,
                }
            )
    return {
        "id": item_id,
        "name": product.name,
        "product_id": product.product_id,
        "variation_id": product.variation_id,
        "quantity": qty,
        "tax_class": "",
        "subtotal": money(subtotal),
        "subtotal_tax": zero,
        "total": money(total),
        "total_tax": zero,
        "taxes": [],
        "meta_data": meta,
        "sku": product.sku,
        "price": price(abs(total), abs(qty), data),
        # A variation's image id is an integer 0; a simple product's is "" (as recorded).
        "image": {"id": 0 if product.variation_id else "", "src": ""},
        "parent_name": product.parent_name,
    }


def _php_date(site: Site, seconds: int) -> dict[str, Any]:
    """A PHP ``DateTime`` as ``json_encode`` shows it inside coupon_data meta."""
    return {
        "date": local(site, seconds).replace("T", " ") + ".000000",
        "timezone_type": 3,
        "timezone": site.timezone,
    }


def _coupon_snapshot(site: Site, coupon: CouponRecord) -> dict[str, Any]:
    """The ``coupon_data`` WooCommerce copies into an order's coupon line when used."""
    return {
        "id": coupon.id,
        "code": coupon.code,
        "amount": unpadded(coupon.amount),
        "status": "publish",
        "date_created": _php_date(site, coupon.created),
        "date_modified": _php_date(site, coupon.modified),
        "date_expires": _php_date(site, coupon.expires) if coupon.expires else None,
        "discount_type": coupon.discount_type,
        "description": coupon.description,
        "usage_count": 0,
        "individual_use": coupon.individual_use,
        "product_ids": [],
        "excluded_product_ids": [],
        "usage_limit": coupon.usage_limit or 0,
        "usage_limit_per_user": coupon.usage_limit_per_user or 0,
        "limit_usage_to_x_items": coupon.limit_usage_to_x_items,
        "free_shipping": coupon.free_shipping,
        "product_categories": [],
        "excluded_product_categories": [],
        "exclude_sale_items": coupon.exclude_sale_items,
        "minimum_amount": "",
        "maximum_amount": "",
        "email_restrictions": list(coupon.email_restrictions),
        "virtual": False,
        "meta_data": [],
    }


def render_refund(
    data: StoreData, site: Site, row: int, refund: Refund, dp: int | None = None
) -> dict[str, Any]:
    """One refund as ``GET /orders/<id>/refunds`` returns it: ``amount`` positive, its
    line items negative with a ``_refunded_item_id`` meta."""

    def money(minor: int) -> str:
        return data.format_money(minor, dp)

    zero = money(0)
    oid = data.o_id[row]
    amounts = data.amounts(row)
    item0, start = data.o_item0[row], data.o_line0[row]
    line_items = []
    for j, (line, qty) in enumerate(refund.lines):
        product = data.products[data.l_product[start + line]]
        ordered = data.l_qty[start + line]
        back = amounts.lines[line][1] * qty // ordered
        item_id = refund.item_id0 + j
        meta = [_refunded_meta(refund.meta_id0 + j, item0 + line)]
        line_items.append(
            _line_item(data, item_id, product, -qty, -back, -back, money, zero, _price, meta)
        )
    shipping_lines = []
    n_lines = len(amounts.lines)
    if refund.shipping and amounts.shipping:
        ship = SHIPPING[data.currency.flavour]
        free = bool(data.o_free_ship[row])
        shipping_lines.append(
            {
                "id": refund.item_id0 + len(refund.lines),
                "method_title": ship.free_title if free else ship.flat_title,
                "method_id": "free_shipping" if free else "flat_rate",
                "instance_id": "2" if free else "1",
                "total": money(-amounts.shipping),
                "total_tax": zero,
                "taxes": [],
                "meta_data": [_refunded_meta(refund.meta_id0 + len(refund.lines), item0 + n_lines)],
            }
        )
    return {
        "id": refund.id,
        "date_created": local(site, refund.created),
        "date_created_gmt": gmt(refund.created),
        "amount": money(refund.amount),
        "reason": refund.reason,
        "refunded_by": 1,
        "refunded_payment": False,
        "meta_data": [],
        "line_items": line_items,
        "shipping_lines": shipping_lines,
        "tax_lines": [],
        "fee_lines": [],
        "_links": {
            "self": [{"href": f"{site.api}/orders/{oid}/refunds/{refund.id}"}],
            "collection": [{"href": f"{site.api}/orders/{oid}/refunds"}],
            "up": [{"href": f"{site.api}/orders/{oid}"}],
        },
    }


def _refunded_meta(meta_id: int, item_id: int) -> dict[str, Any]:
    return {
        "id": meta_id,
        "key": "_refunded_item_id",
        "value": str(item_id),
        "display_key": "_refunded_item_id",
        "display_value": str(item_id),
    }


# ----------------------------------------------------------------------------- people


def render_customer(data: StoreData, site: Site, crow: int) -> dict[str, Any]:
    """One account as ``GET /customers/<id>`` returns it."""
    cid = data.c_id[crow]
    person = data.c_person[crow]
    card = data.card(person)
    admin = data.c_role[crow] == ROLE_ADMIN
    created, modified = data.c_created[crow], data.c_modified[crow]
    date_modified, date_modified_gmt = _maybe(site, modified)
    meta = []
    if not admin:
        active = (modified or created) // 86_400 * 86_400
        meta.append({"id": 9000 + cid, "key": "wc_last_active", "value": str(active)})
    meta += [dict(m) for m in data.c_meta.get(crow, ())]
    return {
        "id": cid,
        "date_created": local(site, created),
        "date_created_gmt": gmt(created),
        "date_modified": date_modified,
        "date_modified_gmt": date_modified_gmt,
        "email": card.email,
        "first_name": card.first_name,
        "last_name": card.last_name,
        "role": ROLES[data.c_role[crow]],
        "username": data.c_username[crow],
        "billing": {
            "first_name": card.first_name,
            "last_name": card.last_name,
            "company": card.company,
            "address_1": card.address_1,
            "address_2": card.address_2,
            "city": card.city,
            "postcode": card.postcode,
            "country": card.country,
            "state": card.state,
            "email": "" if admin else card.email,
            "phone": card.phone,
        },
        "shipping": {
            "first_name": card.first_name,
            "last_name": card.last_name,
            "company": card.company,
            "address_1": card.address_1,
            "address_2": card.address_2,
            "city": card.city,
            "postcode": card.postcode,
            "country": card.country,
            "state": card.state,
            "phone": "",
        },
        "is_paying_customer": bool(data.c_paying[crow]),
        "avatar_url": gravatar(card.email),
        "meta_data": meta,
        "_links": _links(site, "customers", cid),
    }


# ----------------------------------------------------------------------------- coupons


def render_coupon(site: Site, coupon: CouponRecord) -> dict[str, Any]:
    """One coupon as ``GET /coupons/<id>`` returns it. ``amount`` always has 2 decimals
    (also in a toman store), ``used_by`` is a list of strings."""
    expires, expires_gmt = _maybe(site, coupon.expires or 0)
    return {
        "id": coupon.id,
        "code": coupon.code,
        "amount": f"{coupon.amount.quantize(Decimal('0.01')):f}",
        "status": coupon.status if coupon.status != "deleted" else "publish",
        "date_created": local(site, coupon.created),
        "date_created_gmt": gmt(coupon.created),
        "date_modified": local(site, coupon.modified),
        "date_modified_gmt": gmt(coupon.modified),
        "discount_type": coupon.discount_type,
        "description": coupon.description,
        "date_expires": expires,
        "date_expires_gmt": expires_gmt,
        "usage_count": len(coupon.used_by),
        "individual_use": coupon.individual_use,
        "product_ids": list(coupon.product_ids),
        "excluded_product_ids": list(coupon.excluded_product_ids),
        "usage_limit": coupon.usage_limit,
        "usage_limit_per_user": coupon.usage_limit_per_user,
        "limit_usage_to_x_items": coupon.limit_usage_to_x_items,
        "free_shipping": coupon.free_shipping,
        "product_categories": list(coupon.product_categories),
        "excluded_product_categories": list(coupon.excluded_product_categories),
        "exclude_sale_items": coupon.exclude_sale_items,
        "minimum_amount": f"{coupon.minimum_amount.quantize(Decimal('0.01')):f}",
        "maximum_amount": f"{coupon.maximum_amount.quantize(Decimal('0.01')):f}",
        "email_restrictions": list(coupon.email_restrictions),
        "used_by": list(coupon.used_by),
        "meta_data": [dict(m) for m in coupon.meta_data],
        "_links": _links(site, "coupons", coupon.id),
    }


# ----------------------------------------------------------------------------- store info


def system_status(data: StoreData, site: Site) -> dict[str, Any]:
    """``GET /system_status``, trimmed to the sections a client reads, with the real keys."""
    currency = data.currency
    orders_and_refunds = len(data.o_id) + sum(len(r) for r in data.refunds.values())
    publishing = sum(1 for c in data.coupons.values() if c.status == "publish")
    return {
        "environment": {
            "home_url": site.url,
            "site_url": site.url,
            "version": site.wc_version,
            "log_directory": "/var/www/sample-store/wp-content/uploads/wc-logs/",
            "log_directory_writable": True,
            "wp_version": WP_VERSION,
            "wp_multisite": False,
            "wp_memory_limit": 536870912,
            "wp_debug_mode": False,
            "wp_cron": False,
            "language": "fa_IR" if currency.flavour == "persian" else "en_US",
            "external_object_cache": None,
            "server_info": "Apache/2.4.71 (Debian)",
            "php_version": PHP_VERSION,
            "php_post_max_size": 8388608,
            "php_max_execution_time": 30,
            "php_max_input_vars": 1000,
            "curl_version": "7.88.1, OpenSSL/3.0.19",
            "suhosin_installed": False,
            "max_upload_size": 2097152,
            "mysql_version": "10.11.19",
            "mysql_version_string": "10.11.19-MariaDB-0+deb12u1",
            # PHP's default timezone, which WordPress always sets to UTC: not the site's.
            "default_timezone": "UTC",
            "fsockopen_or_curl_enabled": True,
            "soapclient_enabled": False,
            "domdocument_enabled": True,
            "gzip_enabled": True,
            "mbstring_enabled": True,
            "remote_post_successful": False,
            "remote_post_response": False,
            "remote_get_successful": False,
            "remote_get_response": False,
        },
        "database": {
            "wc_database_version": site.wc_version,
            "database_prefix": "wp_",
            "maxmind_geoip_database": "",
            "database_tables": {
                "woocommerce": {name: dict(_TABLE) for name in _WC_TABLES},
                "other": {name: dict(_TABLE) for name in _OTHER_TABLES},
            },
            "database_size": {"data": 9.02, "index": 9.72},
        },
        "active_plugins": [
            {
                "plugin": "woocommerce/woocommerce.php",
                "name": "WooCommerce",
                "version": site.wc_version,
                "version_latest": site.wc_version,
                "url": "https://woocommerce.com/",
                "author_name": "Automattic",
                "author_url": "https://woocommerce.com",
                "network_activated": False,
            }
        ],
        "inactive_plugins": [],
        "dropins_mu_plugins": {"dropins": [], "mu_plugins": []},
        "theme": {
            "name": "Bazgasht Sample Theme",
            "version": "1.0",
            "version_latest": 0,  # WordPress' "unknown" for a theme not on wordpress.org
            "author_url": "",
            "is_child_theme": False,
            "has_woocommerce_support": True,
            "has_woocommerce_file": False,
            "has_outdated_templates": False,
            "overrides": [],
            "parent_name": "",
            "parent_version": "",
            "parent_version_latest": "",
            "parent_author_url": "",
        },
        "settings": {
            "api_enabled": False,
            "force_ssl": False,
            "currency": currency.code,
            "currency_symbol": currency.symbol_entity,
            "currency_position": currency.position,
            "thousand_separator": currency.thousand_sep,
            "decimal_separator": currency.decimal_sep,
            "number_of_decimals": currency.decimals,
            "geolocation_enabled": False,
            "taxonomies": {
                "external": "external",
                "grouped": "grouped",
                "simple": "simple",
                "variable": "variable",
            },
            "product_visibility_terms": {
                name: name
                for name in (
                    "exclude-from-catalog",
                    "exclude-from-search",
                    "featured",
                    "outofstock",
                    "rated-1",
                    "rated-2",
                    "rated-3",
                    "rated-4",
                    "rated-5",
                )
            },
            "woocommerce_com_connected": "no",
            "enforce_approved_download_dirs": True,
            "order_datastore": (
                "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore"
            ),
            "HPOS_feature_screen_enabled": True,
            "HPOS_enabled": True,
            "HPOS_sync_enabled": False,
        },
        "security": {"secure_connection": False, "hide_errors": True},
        "pages": [
            _page("Shop base", "5", "", "", False, False),
            _page("Cart", "6", "[woocommerce_cart]", "woocommerce/cart", True, True),
            _page("Checkout", "7", "[woocommerce_checkout]", "woocommerce/checkout", True, True),
            _page("My account", "8", "[woocommerce_my_account]", "", True, False),
        ],
        "post_type_counts": [
            {"type": "page", "count": "7"},
            {"type": "product", "count": str(len({p.product_id for p in data.products}))},
            {"type": "shop_coupon", "count": str(publishing)},
            {"type": "shop_order_placehold", "count": str(orders_and_refunds)},
        ],
    }


_TABLE = {"data": "0.02", "index": "0.02", "engine": "InnoDB"}


def _words(text: str) -> list[str]:
    return text.split()


_WC_TABLES = tuple(
    f"wp_woocommerce_{name}"
    for name in _words(
        "sessions api_keys attribute_taxonomies downloadable_product_permissions order_items "
        "order_itemmeta tax_rates tax_rate_locations shipping_zones shipping_zone_locations "
        "shipping_zone_methods payment_tokens payment_tokenmeta log"
    )
)
_OTHER_TABLES = tuple(
    f"wp_{name}"
    for name in _words(
        "actionscheduler_actions actionscheduler_claims actionscheduler_groups "
        "actionscheduler_logs commentmeta comments links options postmeta posts termmeta terms "
        "term_relationships term_taxonomy usermeta users wc_admin_notes wc_admin_note_actions "
        "wc_category_lookup wc_customer_lookup wc_download_log wc_orders wc_orders_meta "
        "wc_order_addresses wc_order_coupon_lookup wc_order_operational_data "
        "wc_order_product_lookup wc_order_stats wc_order_tax_lookup "
        "wc_product_attributes_lookup wc_product_download_directories wc_product_meta_lookup "
        "wc_rate_limits wc_reserved_stock wc_tax_rate_classes wc_webhooks"
    )
)


def _page(
    name: str, page_id: str, shortcode: str, block: str, shortcode_required: bool, block_req: bool
) -> dict[str, Any]:
    return {
        "page_name": name,
        "page_id": page_id,
        "page_set": True,
        "page_exists": True,
        "page_visible": True,
        "shortcode": shortcode,
        "block": block,
        "shortcode_required": shortcode_required,
        "shortcode_present": shortcode_required,
        "block_present": False,
        "block_required": block_req,
    }


#: (id, label, description, type, default, tip): Settings → General as WooCommerce 8.2
#: describes it. ``value`` comes from the store.
_GENERAL_SETTINGS: tuple[tuple[str, str, str, str, str, str | None], ...] = (
    ("woocommerce_store_address", "Address line 1", "The street address for your business location.", "text", "", "The street address for your business location."),  # noqa: E501
    ("woocommerce_store_address_2", "Address line 2", "An additional, optional address line for your business location.", "text", "", "An additional, optional address line for your business location."),  # noqa: E501
    ("woocommerce_store_city", "City", "The city in which your business is located.", "text", "", "The city in which your business is located."),  # noqa: E501
    ("woocommerce_default_country", "Country / State", "The country and state or province, if any, in which your business is located.", "select", "US:CA", "The country and state or province, if any, in which your business is located."),  # noqa: E501
    ("woocommerce_store_postcode", "Postcode / ZIP", "The postal code, if any, in which your business is located.", "text", "", "The postal code, if any, in which your business is located."),  # noqa: E501
    ("woocommerce_allowed_countries", "Selling location(s)", "This option lets you limit which countries you are willing to sell to.", "select", "all", "This option lets you limit which countries you are willing to sell to."),  # noqa: E501
    ("woocommerce_all_except_countries", "Sell to all countries, except for&hellip;", "", "multiselect", "", None),  # noqa: E501
    ("woocommerce_specific_allowed_countries", "Sell to specific countries", "", "multiselect", "", None),  # noqa: E501
    ("woocommerce_ship_to_countries", "Shipping location(s)", "Choose which countries you want to ship to, or choose to ship to all locations you sell to.", "select", "", "Choose which countries you want to ship to, or choose to ship to all locations you sell to."),  # noqa: E501
    ("woocommerce_specific_ship_to_countries", "Ship to specific countries", "", "multiselect", "", None),  # noqa: E501
    ("woocommerce_default_customer_address", "Default customer location", "", "select", "base", "This option determines a customers default location. The MaxMind GeoLite Database will be periodically downloaded to your wp-content directory if using geolocation."),  # noqa: E501
    ("woocommerce_calc_taxes", "Enable taxes", "Enable tax rates and calculations", "checkbox", "no", "Rates will be configurable and taxes will be calculated during checkout."),  # noqa: E501
    ("woocommerce_enable_coupons", "Enable coupons", "Enable the use of coupon codes", "checkbox", "yes", "Coupons can be applied from the cart and checkout pages."),  # noqa: E501
    ("woocommerce_calc_discounts_sequentially", "", "Calculate coupon discounts sequentially", "checkbox", "no", "When applying multiple coupons, apply the first coupon to the full price and the second coupon to the discounted price and so on."),  # noqa: E501
    ("woocommerce_currency", "Currency", "This controls what currency prices are listed at in the catalog and which currency gateways will take payments in.", "select", "USD", "This controls what currency prices are listed at in the catalog and which currency gateways will take payments in."),  # noqa: E501
    ("woocommerce_currency_pos", "Currency position", "This controls the position of the currency symbol.", "select", "left", "This controls the position of the currency symbol."),  # noqa: E501
    ("woocommerce_price_thousand_sep", "Thousand separator", "This sets the thousand separator of displayed prices.", "text", ",", "This sets the thousand separator of displayed prices."),  # noqa: E501
    ("woocommerce_price_decimal_sep", "Decimal separator", "This sets the decimal separator of displayed prices.", "text", ".", "This sets the decimal separator of displayed prices."),  # noqa: E501
    ("woocommerce_price_num_decimals", "Number of decimals", "This sets the number of decimal points shown in displayed prices.", "number", "2", "This sets the number of decimal points shown in displayed prices."),  # noqa: E501
)  # fmt: skip

_SELECT_OPTIONS: dict[str, dict[str, str]] = {
    "woocommerce_default_country": {
        "US:CA": "United States (US) &mdash; California",
        "DE:BE": "Germany &mdash; Berlin",
        "IR:THR": "Iran &mdash; Tehran (&#x062A;&#x0647;&#x0631;&#x0627;&#x0646;)",
    },
    "woocommerce_allowed_countries": {
        "all": "Sell to all countries",
        "all_except": "Sell to all countries, except for&hellip;",
        "specific": "Sell to specific countries",
    },
    "woocommerce_ship_to_countries": {
        "": "Ship to all countries you sell to",
        "all": "Ship to all countries",
        "specific": "Ship to specific countries only",
        "disabled": "Disable shipping &amp; shipping calculations",
    },
    "woocommerce_default_customer_address": {
        "": "No location by default",
        "base": "Shop country/region",
        "geolocation": "Geolocate",
        "geolocation_ajax": "Geolocate (with page caching support)",
    },
    "woocommerce_currency": {
        "EUR": "Euro (&euro;) &mdash; EUR",
        "IRR": "Iranian rial (&#xfdfc;) &mdash; IRR",
        "IRT": "Iranian toman (&#x062A;&#x0648;&#x0645;&#x0627;&#x0646;) &mdash; IRT",
        "USD": "United States (US) dollar (&#36;) &mdash; USD",
    },
    "woocommerce_currency_pos": {
        "left": "Left",
        "right": "Right",
        "left_space": "Left with space",
        "right_space": "Right with space",
    },
}


def settings_general(data: StoreData, site: Site) -> list[dict[str, Any]]:
    """``GET /settings/general``: the store's currency and number format."""
    currency = data.currency
    values = {
        "woocommerce_store_address": "Loopback Street 1",
        "woocommerce_store_city": "Localhost",
        "woocommerce_default_country": currency.country,
        "woocommerce_store_postcode": "12345",
        "woocommerce_allowed_countries": "all",
        "woocommerce_default_customer_address": "base",
        "woocommerce_calc_taxes": "no",
        "woocommerce_enable_coupons": "yes",
        "woocommerce_calc_discounts_sequentially": "no",
        "woocommerce_currency": currency.code,
        "woocommerce_currency_pos": currency.position,
        "woocommerce_price_thousand_sep": currency.thousand_sep,
        "woocommerce_price_decimal_sep": currency.decimal_sep,
        "woocommerce_price_num_decimals": str(currency.decimals),
    }
    out = []
    for sid, label, description, kind, default, tip in _GENERAL_SETTINGS:
        entry: dict[str, Any] = {
            "id": sid,
            "label": label,
            "description": description,
            "type": kind,
            "default": default,
        }
        if tip is not None:
            entry["tip"] = tip
        entry["value"] = values.get(sid, "")
        if kind in ("select", "multiselect"):
            entry["options"] = _SELECT_OPTIONS.get(sid, {})
        entry["_links"] = {
            "self": [{"href": f"{site.api}/settings/general/{sid}"}],
            "collection": [{"href": f"{site.api}/settings/general"}],
        }
        out.append(entry)
    return out


def gmt_offset(site: Site, at: int) -> int | float:
    """The site's UTC offset in hours at an instant (a number, as WordPress sends it)."""
    if site.timezone == "UTC":
        return 0
    offset = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(site.timezone)).utcoffset()
    hours = (offset.total_seconds() if offset else 0) / 3600
    return int(hours) if hours.is_integer() else hours
