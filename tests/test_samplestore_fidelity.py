"""The sample store answers like the real WooCommerce 8.2 the fixtures were recorded from.

Each test asks the sample store what the recorder asked the real store, through the same
client (the official ``woocommerce`` package, OAuth over plain HTTP), and compares field by
field: the same keys (recursively), the same JSON types, the same formats (dates, decimal
strings with the store's decimals), the same headers, the same ``Link`` once the OAuth
values are blanked like the recorder did, and byte-identical error bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import woocommerce

from samplestore import SampleStore, StoreData, generate_store
from samplestore._data import collation_key
from tests.conftest import FIXTURES

#: The fixture stores' history ends here (README: seeded history runs to 2026-10-31).
NOW = datetime(2026, 11, 1, tzinfo=UTC)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DEC2 = re.compile(r"^-?\d+\.\d{2}$")
INTSTR = re.compile(r"^-?\d+$")
MONEY_KEYS = {
    "total",
    "subtotal",
    "subtotal_tax",
    "total_tax",
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "amount",
    "minimum_amount",
    "maximum_amount",
}
#: Headers a fixture does not record (README), and the two framing headers, whose choice
#: depends on the body's size.
UNRECORDED = {"date", "server", "keep-alive", "connection", "content-length", "transfer-encoding"}


def fixture(name: str) -> dict[str, Any]:
    response: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["response"]
    return response


def raw(name: str) -> bytes:
    return (FIXTURES / "raw" / f"{name}.body").read_bytes()


# ----------------------------------------------------------------------------- comparison


def assert_like(ours: Any, theirs: Any, path: str = "$") -> None:
    """Same keys, types and formats as the recorded value (values themselves may differ)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected an object, got {ours!r}"
        missing, extra = set(theirs) - set(ours), set(ours) - set(theirs)
        if path.endswith("._links"):  # WooCommerce links the customer of registered orders
            missing, extra = missing - {"customer"}, extra - {"customer"}
        assert not missing and not extra, f"{path}: missing {missing}, extra {extra}"
        for key in set(theirs) & set(ours):
            assert_like(ours[key], theirs[key], f"{path}.{key}")
        return
    if isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: expected a list, got {ours!r}"
        for i, item in enumerate(ours):
            like_one_of(item, theirs, f"{path}[{i}]")
        return
    if theirs is None or ours is None:
        return  # nullable (dates, parent_name, usage limits); checked where it matters
    if path.endswith(".image.id"):
        assert ours in (0, ""), path  # "" for a simple product, 0 for a variation (recorded)
    elif isinstance(theirs, bool) or isinstance(ours, bool):
        assert type(ours) is type(theirs), f"{path}: {ours!r} vs recorded {theirs!r}"
    elif isinstance(theirs, int | float):
        assert isinstance(ours, int | float), f"{path}: {ours!r} vs recorded {theirs!r}"
        if not path.endswith(".price"):  # price is a float or an int, like the recording
            assert type(ours) is type(theirs), f"{path}: {ours!r} vs recorded {theirs!r}"
    else:
        assert isinstance(ours, str), f"{path}: {ours!r} vs recorded {theirs!r}"
        key = path.rsplit(".", 1)[-1]
        for pattern in (DATE, DEC2):
            if pattern.match(theirs):
                assert pattern.match(ours), f"{path}: {ours!r} not formatted like {theirs!r}"
        if INTSTR.match(theirs) and key in MONEY_KEYS and "coupon_data" not in path:
            assert INTSTR.match(ours), f"{path}: {ours!r} not formatted like {theirs!r}"


def like_one_of(ours: Any, recorded: list[Any], path: str) -> None:
    """Like at least one recorded sibling (list items vary: guests, variations, refunds)."""
    first: AssertionError | None = None
    for candidate in recorded:
        try:
            assert_like(ours, candidate, path)
        except AssertionError as error:
            first = first or error
        else:
            return
    if first is not None:
        raise first


def blank_oauth(link: str, url: str, recorded_url: str) -> str:
    """A Link header as the recorder stored it: OAuth values replaced, the store's URL."""
    link = link.replace(url, recorded_url)
    link = re.sub(r"oauth_consumer_key=[^&>]+", "oauth_consumer_key=ck_PLACEHOLDER", link)
    link = re.sub(r"oauth_timestamp=\d+", "oauth_timestamp=0", link)
    link = re.sub(r"oauth_nonce=[^&>]+", "oauth_nonce=NONCE_PLACEHOLDER", link)
    return re.sub(r"oauth_signature=[^&>]+", "oauth_signature=SIGNATURE_PLACEHOLDER", link)


def assert_headers_like(response: requests.Response, recorded: dict[str, Any]) -> None:
    ours = {k.lower() for k in response.headers} - UNRECORDED
    theirs = {k.lower() for k in recorded["headers"]} - UNRECORDED
    assert ours == theirs, f"missing {theirs - ours}, extra {ours - theirs}"
    assert "date" in {k.lower() for k in response.headers}
    assert ("content-length" in response.headers) or ("transfer-encoding" in response.headers)
    assert response.headers["Content-Type"] == recorded["headers"]["Content-Type"]
    assert response.status_code == recorded["status"]
    assert response.reason == recorded["reason"]


def assert_wordpress_json(body: bytes) -> None:
    """Escaped like ``wp_json_encode``: ``\\/`` for ``/``, ``\\uXXXX`` for non-ASCII."""
    assert body.isascii()
    assert b"/" not in body.replace(b"\\/", b"")


# ----------------------------------------------------------------------------- stores


@pytest.fixture(scope="module")
def usd_data() -> StoreData:
    """Shaped like the recorded usd store: 1 500 orders, history ending 2026-10-31."""
    return generate_store(orders=1500, customers=None, seed=1, currency="USD", now=NOW)


@pytest.fixture(scope="module")
def irt_data() -> StoreData:
    return generate_store(orders=320, customers=80, seed=2, currency="IRT", now=NOW)


@pytest.fixture
def usd(usd_data: StoreData) -> Iterator[SampleStore]:
    with SampleStore(data=usd_data.copy()) as store:
        yield store


@pytest.fixture
def irt(irt_data: StoreData) -> Iterator[SampleStore]:
    with SampleStore(data=irt_data.copy()) as store:
        yield store


def client(store: SampleStore, key: str | None = None, secret: str | None = None) -> Any:
    return woocommerce.API(
        store.url,
        key or store.consumer_key,
        secret or store.consumer_secret,
        version="wc/v3",
        timeout=60,  # the default 5 s is too tight on a loaded CI machine
    )


def find_order(store: SampleStore, predicate: Any) -> int:
    return next(v.id for v in store.data.orders() if predicate(v))


# ----------------------------------------------------------------------------- orders


@pytest.mark.parametrize(("name", "page"), [("usd-orders-page1", 1), ("usd-orders-page2", 2)])
def test_orders_page_like_the_recording(usd: SampleStore, name: str, page: int) -> None:
    recorded = fixture(name)
    response = client(usd).get("orders", params={"per_page": 20, "page": page})
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert response.headers["X-WP-Total"] == "1500"  # the generator made as many orders
    assert response.headers["X-WP-TotalPages"] == "75"
    assert (
        blank_oauth(response.headers["Link"], usd.url, "http://127.0.0.1:8080")
        == (recorded["headers"]["Link"])
    )
    assert_wordpress_json(response.content)
    created = [o["date_created_gmt"] for o in response.json()]
    assert created == sorted(created, reverse=True)  # default order: date desc


def test_orders_by_id_ascending_like_the_recording(usd: SampleStore) -> None:
    recorded = fixture("usd-orders-orderby-id-asc-page1")
    response = client(usd).get(
        "orders", params={"per_page": 20, "page": 1, "orderby": "id", "order": "asc"}
    )
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    ids = [o["id"] for o in response.json()]
    assert ids == sorted(ids) and ids[0] == recorded["body"][0]["id"] == 38
    assert (
        blank_oauth(response.headers["Link"], usd.url, "http://127.0.0.1:8080")
        == (recorded["headers"]["Link"])
    )


def test_page_beyond_the_last_is_an_empty_200_with_zero_totals(usd: SampleStore) -> None:
    recorded = fixture("usd-orders-page-beyond-last")
    response = client(usd).get("orders", params={"per_page": 20, "page": 1000})
    assert_headers_like(response, recorded)
    assert response.content == raw("usd-orders-page-beyond-last") == b"[]"
    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("0", "0")
    assert (
        blank_oauth(response.headers["Link"], usd.url, "http://127.0.0.1:8080")
        == (recorded["headers"]["Link"])
    )


@pytest.mark.parametrize(
    ("name", "page"),
    [("usd-orders-modified-after-page1", 1), ("usd-orders-modified-after-page2", 2)],
)
def test_modified_after_pages_like_the_recording(usd: SampleStore, name: str, page: int) -> None:
    recorded = fixture(name)
    modified = sorted(v.modified for v in usd.data.orders())
    since = modified[-32].strftime("%Y-%m-%dT%H:%M:%S")  # about 31 later, as recorded
    response = client(usd).get(
        "orders",
        params={
            "per_page": 20,
            "modified_after": since,
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "page": page,
        },
    )
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert 21 <= int(response.headers["X-WP-Total"]) <= 40
    assert response.headers["X-WP-TotalPages"] == "2"
    got = [o["date_modified_gmt"] for o in response.json()]
    assert got == sorted(got) and all(m > since for m in got)
    link = blank_oauth(response.headers["Link"], usd.url, "http://127.0.0.1:8080")
    assert (
        link.replace(since.replace(":", "%3A"), "2026-10-20T00%3A00%3A00")
        == (recorded["headers"]["Link"])
    )  # dates_are_gmt echoed as 1, as WordPress sanitized it


@pytest.mark.parametrize(
    ("name", "pick"),
    [
        ("usd-order-with-refunds", lambda v: len(v.refunds) == 2 and v.customer_id),
        ("usd-order-two-equal-refunds", lambda v: len(v.refunds) == 2 and v.customer_id),
        ("usd-order-full-refund", lambda v: v.status == "refunded" and v.customer_id),
        ("usd-order-guest", lambda v: v.customer_id == 0 and not v.refunds),
        (
            "usd-order-coupon",
            lambda v: v.coupon_code == "save5" and v.customer_id and v.shipping > 0,
        ),
        ("usd-order-emoji-note", lambda v: v.customer_id and v.status == "completed"),
        ("usd-order-line-item-refund", lambda v: len(v.refunds) == 1),
        ("usd-order-zero-total", lambda v: v.total == 0),
        ("usd-order-deleted-customer", lambda v: v.customer_id == 0),
        ("usd-order-pre-registration-guest", lambda v: v.customer_id == 0),
    ],
)
def test_single_orders_like_the_recording(usd: SampleStore, name: str, pick: Any) -> None:
    recorded = fixture(name)
    if name == "usd-order-zero-total":  # 100 % coupon + free shipping, as recorded
        usd.create_order(coupon="freegift", customer_id=3, status="completed")
    order_id = find_order(usd, pick)
    response = client(usd).get(f"orders/{order_id}")
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert_wordpress_json(response.content)


def test_refund_amounts_and_signs(usd: SampleStore) -> None:
    order_id = find_order(usd, lambda v: len(v.refunds) == 2)
    api = client(usd)
    order = api.get(f"orders/{order_id}").json()
    refunds = api.get(f"orders/{order_id}/refunds")
    assert_headers_like(refunds, fixture("usd-order-789-refunds"))
    assert_like(refunds.json(), fixture("usd-order-789-refunds")["body"])
    embedded = {r["id"]: r["total"] for r in order["refunds"]}
    assert [r["id"] for r in order["refunds"]] == sorted(embedded, reverse=True)  # newest first
    for refund in refunds.json():
        assert embedded[refund["id"]] == "-" + refund["amount"]  # negative inside the order
        assert DEC2.match(refund["amount"]) and not refund["amount"].startswith("-")


@pytest.mark.parametrize(
    ("name", "pick"),
    [
        ("usd-order-116-refunds", lambda v: v.status == "refunded" and v.shipping > 0),
        ("usd-order-222-refunds", lambda v: len(v.refunds) == 1 and v.status == "completed"),
    ],
)
def test_refund_objects_with_line_items(usd: SampleStore, name: str, pick: Any) -> None:
    order_id = find_order(usd, pick)
    response = client(usd).get(f"orders/{order_id}/refunds")
    assert_headers_like(response, fixture(name))
    assert_like(response.json(), fixture(name)["body"])
    if name == "usd-order-116-refunds":
        (refund,) = response.json()
        assert refund["line_items"] and refund["shipping_lines"]
        assert all(item["quantity"] < 0 for item in refund["line_items"])
        assert all(item["total"].startswith("-") for item in refund["line_items"])
        order = client(usd).get(f"orders/{order_id}").json()
        assert refund["amount"] == order["total"]  # a full refund: total stays the original


def test_money_and_dates_follow_the_rules(usd: SampleStore) -> None:
    """Every order of the store, not just a sample, follows the README's data-shape notes."""
    api = client(usd)
    page = 1
    seen = 0
    while batch := api.get("orders", params={"per_page": 100, "page": page}).json():
        for o in batch:
            seen += 1
            unpaid = o["status"] in ("pending", "on-hold", "failed", "cancelled")
            assert (o["date_paid_gmt"] is None) == unpaid, o["id"]
            completed = o["status"] in ("completed", "refunded")
            assert (o["date_completed_gmt"] is not None) == completed, o["id"]
            assert o["date_created_gmt"] <= o["date_modified_gmt"] < "2026-11-01T00:00:00"
            assert all(DEC2.match(r["total"]) and r["total"][0] == "-" for r in o["refunds"])
            assert all(isinstance(i["price"], int | float) for i in o["line_items"])
            for line in o["coupon_lines"]:
                assert not line["discount"].endswith(".00")  # unpadded
            refunded = -sum(float(r["total"]) for r in o["refunds"])
            assert refunded <= float(o["total"]) + 1e-9
            if o["status"] == "refunded":
                assert abs(refunded - float(o["total"])) < 1e-9
        page += 1
    assert seen == 1500


# ----------------------------------------------------------------------------- customers


def test_customers_role_all_like_the_recording(usd: SampleStore) -> None:
    recorded = fixture("usd-customers-role-all-page1")
    response = client(usd).get(
        "customers",
        params={"per_page": 20, "page": 1, "role": "all", "orderby": "id", "order": "asc"},
    )
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    first = response.json()[0]
    assert (first["id"], first["role"], first["date_modified_gmt"]) == (1, "administrator", None)
    assert all(c["role"] == "customer" for c in response.json()[1:])
    assert (
        blank_oauth(response.headers["Link"], usd.url, "http://127.0.0.1:8080")
        == (recorded["headers"]["Link"])
    )
    everyone = int(response.headers["X-WP-Total"])
    default = client(usd).get("customers", params={"per_page": 20, "page": 1})
    assert int(default.headers["X-WP-Total"]) == everyone - 1  # role=customer: no admin
    assert_like(default.json(), fixture("usd-customers-page1")["body"])
    names = [collation_key(f"{c['first_name']} {c['last_name']}") for c in default.json()]
    assert names == sorted(names)  # default orderby=name asc


def test_single_customer_like_the_recording(usd: SampleStore) -> None:
    recorded = fixture("usd-customer-single")
    response = client(usd).get("customers/3")
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert isinstance(response.json()["is_paying_customer"], bool)


def test_persian_names_sort_like_mysql() -> None:
    recorded = fixture("irt-customers-page1")["body"]
    names = [f"{c['first_name']} {c['last_name']}" for c in recorded]
    assert sorted(names, key=collation_key) == names
    latin = [f"{c['first_name']} {c['last_name']}" for c in fixture("usd-customers-page1")["body"]]
    assert sorted(latin, key=collation_key) == latin  # "Anaïs" before "Ananya"


# ----------------------------------------------------------------------------- coupons


def test_coupons_like_the_recording(usd: SampleStore) -> None:
    recorded = fixture("usd-coupons")
    response = client(usd).get("coupons", params={"per_page": 20})
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert [c["code"] for c in response.json()] == [c["code"] for c in recorded["body"]]
    assert [c["id"] for c in response.json()] == [37, 36, 35, 34]
    assert all(isinstance(u, str) for c in response.json() for u in c["used_by"])


def test_coupon_create_search_and_delete_like_the_recording(usd: SampleStore) -> None:
    api = client(usd)
    created = fixture("usd-coupon-create")
    sent = json.loads((FIXTURES / "usd-coupon-create.json").read_text())["request"]["json"]
    response = api.post("coupons", sent)
    assert_headers_like(response, created)
    assert_like(response.json(), created["body"])
    coupon = response.json()
    assert response.headers["Location"] == f"{usd.url}/wp-json/wc/v3/coupons/{coupon['id']}"
    for field in ("code", "amount", "discount_type", "date_expires", "date_expires_gmt"):
        assert coupon[field] == created["body"][field], field
    assert coupon["email_restrictions"] == ["sofia.lee@example.com"]
    assert [(m["key"], m["value"]) for m in coupon["meta_data"]] == [
        ("_bazgasht_redemption_id", "fixture-0001")
    ]

    found = api.get("coupons", params={"code": "bazgasht-reward-fixture"})
    assert_headers_like(found, fixture("usd-coupons-search-by-code"))
    assert [c["id"] for c in found.json()] == [coupon["id"]]
    assert api.get(f"coupons/{coupon['id']}").json() == coupon  # usd-coupon-get-created

    again = api.post("coupons", sent)
    assert_headers_like(again, fixture("usd-coupon-create-duplicate-code"))
    assert again.content == raw("usd-coupon-create-duplicate-code")

    deleted = api.delete(f"coupons/{coupon['id']}", params={"force": "true"})
    assert_headers_like(deleted, fixture("usd-coupon-delete"))
    assert deleted.json() == coupon
    assert api.get(f"coupons/{coupon['id']}").status_code == 404
    assert api.get("coupons", params={"code": "bazgasht-reward-fixture"}).json() == []


def test_coupon_date_expires_gmt_is_ignored_like_8_2(usd: SampleStore) -> None:
    recorded = fixture("usd-coupon-create-expires-gmt-ignored")
    sent = json.loads((FIXTURES / "usd-coupon-create-expires-gmt-ignored.json").read_text())
    response = client(usd).post("coupons", sent["request"]["json"])
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert response.json()["date_expires"] is None
    assert response.json()["amount"] == "5.00"


# ----------------------------------------------------------------------------- errors


def _signed_get(store: SampleStore, path: str, **params: str) -> requests.Response:
    return client(store).get(path, params=params)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("usd-error-400-per-page", lambda s: _signed_get(s, "orders", per_page="1000")),
        (
            "usd-error-400-modified-after",
            lambda s: _signed_get(s, "orders", modified_after="yesterday"),
        ),
        ("usd-error-404-order", lambda s: _signed_get(s, "orders/999999")),
        ("usd-error-404-no-route", lambda s: _signed_get(s, "no-such-endpoint")),
        (
            "usd-error-401-bad-key-oauth",
            lambda s: client(s, "ck_" + "1" * 40, "cs_" + "2" * 40).get("orders"),
        ),
        (
            "usd-error-401-bad-secret-oauth",
            lambda s: client(s, s.consumer_key, "cs_" + "2" * 40).get("orders"),
        ),
        (
            "usd-error-401-readonly-key-write",
            lambda s: client(s, s.readonly_key, s.readonly_secret).post("coupons", {"code": "x"}),
        ),
        (
            "usd-error-401-basic-over-http",
            lambda s: requests.get(
                f"{s.url}/wp-json/wc/v3/orders", auth=(s.consumer_key, s.consumer_secret)
            ),
        ),
    ],
)
def test_error_bodies_are_byte_identical(usd: SampleStore, name: str, call: Any) -> None:
    response = call(usd)
    assert_headers_like(response, fixture(name))
    assert response.content == raw(name)


def test_basic_auth_with_an_unknown_key_over_https_is_no_auth(usd_data: StoreData) -> None:
    name = "usd-error-401-bad-key-basic-https"
    with SampleStore(data=usd_data.copy(), allow_basic_over_http=True) as store:
        response = requests.get(
            f"{store.url}/wp-json/wc/v3/orders", auth=("ck_" + "1" * 40, "cs_" + "2" * 40)
        )
    assert_headers_like(response, fixture(name))
    assert response.content == raw(name)


def test_basic_auth_link_header_has_no_oauth_like_the_https_recording(
    usd_data: StoreData,
) -> None:
    recorded = fixture("usd-https-orders-page1-basic")
    with SampleStore(data=usd_data.copy(), allow_basic_over_http=True) as store:
        response = requests.get(
            f"{store.url}/wp-json/wc/v3/orders",
            params={"per_page": 5, "page": 1},
            auth=(store.consumer_key, store.consumer_secret),
        )
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert (
        response.headers["Link"].replace(store.url, "https://127.0.0.1:8443")
        == (recorded["headers"]["Link"])
    )


def test_database_down_is_the_recorded_html_page(usd: SampleStore) -> None:
    from samplestore import Fault

    usd.add_fault(Fault("status", status=500))
    response = client(usd).get("orders", params={"per_page": 20, "page": 1})
    assert_headers_like(response, fixture("usd-error-500-database-down"))
    assert response.content == raw("usd-error-500-database-down")


# ----------------------------------------------------------------------------- store info


def test_system_status_like_the_recording(usd: SampleStore, irt: SampleStore) -> None:
    for store, name, currency, decimals in (
        (usd, "usd-system-status", "USD", 2),
        (irt, "irt-system-status", "IRT", 0),
    ):
        recorded = fixture(name)
        response = client(store).get("system_status")
        assert_headers_like(response, recorded)
        body = response.json()
        assert set(body) == set(recorded["body"])
        for section in ("environment", "settings", "security", "theme"):
            assert_like(body[section], recorded["body"][section], section)
        assert body["environment"]["version"] == "8.2.2"
        assert (body["settings"]["currency"], body["settings"]["number_of_decimals"]) == (
            currency,
            decimals,
        )
        assert (
            body["settings"]["currency_symbol"] == recorded["body"]["settings"]["currency_symbol"]
        )


def test_settings_general_like_the_recording(usd: SampleStore, irt: SampleStore) -> None:
    for store, name in ((usd, "usd-settings-general"), (irt, "irt-settings-general")):
        recorded = fixture(name)
        response = client(store).get("settings/general")
        assert_headers_like(response, recorded)
        ours = {s["id"]: s for s in response.json()}
        theirs = {s["id"]: s for s in recorded["body"]}
        assert list(ours) == list(theirs)
        for sid, setting in theirs.items():
            assert set(ours[sid]) == set(setting), sid
            for key in ("woocommerce_currency", "woocommerce_price_num_decimals"):
                if sid == key:
                    assert ours[sid]["value"] == setting["value"]


def test_namespace_index_lists_the_recorded_routes_we_serve(usd: SampleStore) -> None:
    recorded = fixture("usd-index-wc-v3")
    response = client(usd).get("")
    assert_headers_like(response, recorded)
    routes = response.json()["routes"]
    assert response.json()["namespace"] == "wc/v3"
    for path, route in routes.items():
        assert recorded["body"]["routes"][path]["methods"] == route["methods"], path
    for path in ("/wc/v3/orders", "/wc/v3/customers", "/wc/v3/coupons", "/wc/v3/system_status"):
        assert path in routes


# ----------------------------------------------------------------------------- toman


def test_toman_store_like_the_recording(irt: SampleStore) -> None:
    api = client(irt)
    response = api.get("orders", params={"per_page": 20, "page": 1})
    recorded = fixture("irt-orders-page1")
    assert_headers_like(response, recorded)
    assert_like(response.json(), recorded["body"])
    assert "dp=0" in response.headers["Link"]
    for order in response.json():
        assert INTSTR.match(order["total"]) and order["currency"] == "IRT"
        assert order["currency_symbol"] == "تومان"
    with_refunds = find_order(irt, lambda v: len(v.refunds) >= 1 and v.customer_id)
    single = api.get(f"orders/{with_refunds}")
    assert_like(single.json(), fixture("irt-order-with-refunds")["body"])
    refunds = api.get(f"orders/{with_refunds}/refunds")
    assert_like(refunds.json(), fixture("irt-order-334-refunds")["body"])
    coupons = api.get("coupons", params={"per_page": 20})
    assert_headers_like(coupons, fixture("irt-coupons"))
    assert_like(coupons.json(), fixture("irt-coupons")["body"])
    assert {c["code"]: c["amount"] for c in coupons.json()}["takhfif50"] == "50000.00"
    customers = api.get("customers", params={"per_page": 20, "page": 1})
    assert_like(customers.json(), fixture("irt-customers-page1")["body"])
    assert_wordpress_json(customers.content)
