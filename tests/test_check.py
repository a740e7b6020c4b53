"""``check_store`` against a store made of recorded real answers (``responses``)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from connector._check import (
    AUTHENTICATED,
    CURRENCY,
    HPOS,
    ITEM_ORDER,
    MODIFIED_AFTER,
    REACHABLE,
    READ_CUSTOMERS,
    READ_ORDERS,
    TIMEZONE,
    VERSION,
    WRITE_COUPONS,
    StoreCheck,
    check_store,
)
from connector._client import StoreCredentials, WooClient
from tests.conftest import FIXTURES

USD = "http://127.0.0.1:8080"
IRT = "http://127.0.0.1:8081"
SECRET = "cs_" + "a" * 40

Answer = tuple[int, dict[str, str], bytes]
Route = Answer | Callable[[dict[str, str]], Answer] | BaseException


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def recorded(name: str, *, items: Any = None, headers: dict[str, str] | None = None) -> Answer:
    """A recorded answer: exact bytes, or ``items`` in place of the body (headers kept)."""
    response = fixture(name)["response"]
    raw = FIXTURES / "raw" / f"{name}.body"
    if items is not None:
        body = json.dumps(items).encode()
    elif raw.exists():
        body = raw.read_bytes()
    else:  # a trimmed fixture: its parsed body is all there is
        body = json.dumps(response["body"]).encode()
    kept = {
        k: v
        for k, v in response["headers"].items()
        if k.lower() not in ("content-length", "transfer-encoding")
    }
    return response["status"], {**kept, **(headers or {})}, body


def first_of(name: str) -> Answer:
    """The recorded list page, cut to its first record, as ``per_page=1`` would be."""
    return recorded(name, items=fixture(name)["response"]["body"][:1])


def as_json(status: int, payload: Any) -> Answer:
    return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(payload).encode()


def site_index(timezone_string: str = "", gmt_offset: Any = "0") -> Answer:
    # WordPress' /wp-json/ index, cut to the fields asked for with _fields (not recorded).
    return as_json(
        200,
        {
            "name": "Lab store",
            "url": USD,
            "home": USD,
            "gmt_offset": gmt_offset,
            "timezone_string": timezone_string,
        },
    )


#: WordPress' answer to a POST without a required argument (WP core's format; not recorded).
MISSING_CODE = as_json(
    400,
    {
        "code": "rest_missing_callback_param",
        "message": "Missing parameter(s): code",
        "data": {"status": 400, "params": ["code"]},
    },
)


def usd_routes() -> dict[tuple[str, str], Route]:
    """A store with a full-permission key, every answer recorded from the real usd store."""

    def orders(query: dict[str, str]) -> Answer:
        if "modified_after" in query:
            return recorded("usd-orders-page-beyond-last")
        return first_of("usd-orders-page1")

    def customers(query: dict[str, str]) -> Answer:
        assert query.get("role") == "all"
        return first_of("usd-customers-role-all-page1")

    return {
        ("GET", "wc/v3/orders"): orders,
        ("GET", "wc/v3/customers"): customers,
        ("POST", "wc/v3/coupons"): MISSING_CODE,
        ("GET", "wc/v3/system_status"): recorded("usd-system-status"),
        ("GET", "wc/v3/settings/general"): recorded("usd-settings-general"),
        ("GET", ""): site_index(),
    }


class FakeStore:
    def __init__(self, mock: responses.RequestsMock, base: str, routes: dict[Any, Route]):
        self.routes = routes
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        pattern = re.compile(re.escape(base) + r"/wp-json/.*")
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add_callback(method, pattern, callback=self, content_type=None)

    def __call__(self, request: requests.PreparedRequest) -> Answer:
        parts = urlsplit(request.url or "")
        route = parts.path.split("/wp-json/", 1)[1].rstrip("/")
        query = {k: v for k, v in parse_qsl(parts.query) if not k.startswith("oauth_")}
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        self.seen.append((request.method or "", route, query, body))
        answer = self.routes.get((request.method, route))
        if answer is None:
            return recorded("usd-error-404-no-route")
        if isinstance(answer, BaseException):
            raise answer
        return answer(query) if callable(answer) else answer


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def run(
    mock: responses.RequestsMock, routes: dict[Any, Route], base: str = USD
) -> tuple[StoreCheck, FakeStore]:
    store = FakeStore(mock, base, routes)
    creds = StoreCredentials(name="shop", url=base, consumer_key="ck_x", consumer_secret=SECRET)
    client = WooClient(creds, sleep=lambda _: None, max_attempts=2)
    return check_store(client), store


def oks(report: StoreCheck) -> dict[str, bool | None]:
    return {item.name: item.ok for item in report.items}


# --------------------------------------------------------------------------- scenarios


def test_a_full_permission_key(mock: responses.RequestsMock) -> None:
    report, store = run(mock, usd_routes())
    assert [i.name for i in report.items] == list(ITEM_ORDER)
    assert all(oks(report).values()), report.items
    assert report.ok and report.ok_for_sync
    assert report.store == "shop" and report.url == f"{USD}/"
    assert report.item(READ_ORDERS).detail == "1500 orders"
    assert report.item(READ_CUSTOMERS).detail == "300 accounts (all roles)"
    assert report.item(VERSION).detail == "WooCommerce 8.2.2 (WordPress 6.4.1, PHP 8.2.36)"
    assert report.item(CURRENCY).detail == "USD, 2 decimals"
    assert report.item(HPOS).detail.startswith("HPOS on")
    assert "probed" in report.item(MODIFIED_AFTER).detail
    facts = report.facts
    assert facts is not None
    assert (facts.currency, facts.decimals, facts.timezone, facts.wc_version) == (
        "USD",
        2,
        "UTC",
        "8.2.2",
    )
    assert facts.supports_modified_after and facts.hpos and facts.timezone_known
    # The write probe created nothing: one POST, of an empty coupon, and no DELETE.
    writes = [(m, route, body) for m, route, _, body in store.seen if m != "GET"]
    assert writes == [("POST", "wc/v3/coupons", b"{}")]
    probe = next(q for m, r, q, _ in store.seen if "modified_after" in q)
    assert probe["dates_are_gmt"] == "true"


def test_a_read_only_key(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["POST", "wc/v3/coupons"] = recorded("usd-error-401-readonly-key-write")
    report, _ = run(mock, routes)
    write = report.item(WRITE_COUPONS)
    assert write.ok is False
    assert "does not have write permissions" in write.detail
    assert "Read/Write" in write.hint
    assert report.ok_for_sync and not report.ok
    assert report.facts is not None


def test_a_bad_key(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/orders"] = recorded("usd-error-401-bad-key-oauth")
    report, store = run(mock, routes)
    assert oks(report)[REACHABLE] is True
    auth = report.item(AUTHENTICATED)
    assert auth.ok is False
    assert "Consumer key is invalid." in auth.detail
    assert "woocommerce_rest_authentication_error" in auth.detail
    assert "does not know this consumer key" in auth.hint
    rest = [i for i in report.items if i.name not in (REACHABLE, AUTHENTICATED)]
    assert all(i.ok is None and i.detail == "not checked: the key was refused" for i in rest)
    assert report.facts is None and not report.ok and not report.ok_for_sync
    assert len(store.seen) == 1


def test_a_bad_secret(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/orders"] = recorded("usd-error-401-bad-secret-oauth")
    report, _ = run(mock, routes)
    assert "secret does not match" in report.item(AUTHENTICATED).hint


LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Log In &lsaquo; Lab store &#8212; WordPress</title>"
    b"</head><body class='login'></body></html>"
)


def test_an_html_page_instead_of_the_api(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/orders"] = (200, {"Content-Type": "text/html; charset=UTF-8"}, LOGIN_PAGE)
    report, _ = run(mock, routes)
    reachable = report.item(REACHABLE)
    assert reachable.ok is False
    assert "an HTML page titled 'Log In ‹ Lab store — WordPress'" in reachable.detail
    assert "/wp-json/" in reachable.hint
    assert report.facts is None
    assert report.item(AUTHENTICATED).detail == "not checked: the store's API is not reachable"


def test_no_woocommerce_at_the_url(mock: responses.RequestsMock) -> None:
    report, _ = run(mock, {})  # every route answers rest_no_route
    assert report.item(REACHABLE).ok is False
    assert "Permalinks" in report.item(REACHABLE).hint


def test_the_database_is_down(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/orders"] = recorded("usd-error-500-database-down")
    report, _ = run(mock, routes)
    assert report.item(REACHABLE).ok is False
    assert "database is down" in report.item(REACHABLE).detail


def test_the_store_cannot_be_reached(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/orders"] = requests.exceptions.ConnectionError("Connection refused")
    report, _ = run(mock, routes)
    assert report.item(REACHABLE).ok is False
    assert "could not connect" in report.item(REACHABLE).detail


def test_customers_not_readable(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/customers"] = recorded("usd-error-401-basic-over-http")
    report, _ = run(mock, routes)
    assert report.item(READ_CUSTOMERS).ok is False
    assert report.item(READ_CUSTOMERS).hint
    assert not report.ok_for_sync


def test_the_toman_store(mock: responses.RequestsMock) -> None:
    routes: dict[tuple[str, str], Route] = {
        ("GET", "wc/v3/orders"): lambda q: (
            recorded("usd-orders-page-beyond-last")
            if "modified_after" in q
            else first_of("irt-orders-page1")
        ),
        ("GET", "wc/v3/customers"): first_of("irt-customers-page1"),
        ("POST", "wc/v3/coupons"): MISSING_CODE,
        ("GET", "wc/v3/system_status"): recorded("irt-system-status"),
        ("GET", ""): site_index("Asia/Tehran", "3.5"),
    }
    report, _ = run(mock, routes, base=IRT)
    assert report.ok, report.items
    facts = report.facts
    assert facts is not None
    assert (facts.currency, facts.decimals, facts.timezone, facts.hpos) == (
        "IRT",
        0,
        "Asia/Tehran",
        False,
    )
    assert report.item(CURRENCY).detail == "IRT, 0 decimals"
    assert report.item(HPOS).detail.startswith("HPOS off")
    assert report.item(TIMEZONE).detail == "Asia/Tehran (WordPress' setting)"


@pytest.mark.parametrize(
    ("index", "zone", "known", "ok"),
    [
        (site_index("Europe/Berlin"), "Europe/Berlin", True, True),
        (site_index("", 0), "UTC", True, True),
        (site_index("", "3"), "Etc/GMT-3", True, True),
        (site_index("", -5), "Etc/GMT+5", True, True),
        (site_index("", 14), "Etc/GMT-14", True, True),
        (site_index("Not/A_Zone", "0"), "UTC", True, True),
        (site_index("", "3.5"), "UTC", False, None),  # no name for +03:30; orders show +00:00
        (recorded("usd-error-404-no-route"), "UTC", False, None),
    ],
)
def test_where_the_timezone_comes_from(
    mock: responses.RequestsMock, index: Answer, zone: str, known: bool, ok: bool | None
) -> None:
    routes = usd_routes()
    routes["GET", ""] = index
    report, _ = run(mock, routes)
    assert report.facts is not None
    assert (report.facts.timezone, report.facts.timezone_known) == (zone, known)
    assert report.item(TIMEZONE).ok is ok
    if not known:
        assert "does not tell the store's timezone" in report.item(TIMEZONE).detail
        assert "Settings → General" in report.item(TIMEZONE).hint


def test_an_unknown_timezone_on_a_store_that_is_not_on_utc_fails(
    mock: responses.RequestsMock,
) -> None:
    order = copy.deepcopy(fixture("usd-orders-page1")["response"]["body"][0])
    order["date_created"] = "2026-10-31T12:30:00"
    order["date_created_gmt"] = "2026-10-31T09:00:00"
    routes = usd_routes()
    routes["GET", "wc/v3/orders"] = lambda q: (
        recorded("usd-orders-page-beyond-last")
        if "modified_after" in q
        else recorded("usd-orders-page1", items=[order])
    )
    routes["GET", ""] = recorded("usd-error-404-no-route")
    report, _ = run(mock, routes)
    item = report.item(TIMEZONE)
    assert item.ok is False
    assert "UTC+03:30" in item.detail
    assert report.facts is not None and report.facts.timezone == "UTC"


def _old_store(version: str, probe: Route) -> dict[tuple[str, str], Route]:
    status = copy.deepcopy(fixture("usd-system-status")["response"]["body"])
    status["environment"]["version"] = version
    del status["settings"]["HPOS_enabled"]
    status["settings"]["order_datastore"] = "WC_Order_Data_Store_CPT"
    routes = usd_routes()
    routes["GET", "wc/v3/system_status"] = as_json(200, status)

    def orders(query: dict[str, str]) -> Answer:
        if "modified_after" in query:
            if isinstance(probe, BaseException):
                raise probe
            return probe(query) if callable(probe) else probe
        return first_of("usd-orders-page1")

    routes["GET", "wc/v3/orders"] = orders
    return routes


@pytest.mark.parametrize(
    ("version", "probe", "supported", "how"),
    [
        ("5.5.2", first_of("usd-orders-page1"), False, "probed"),  # the filter was ignored
        ("5.5.2", recorded("usd-error-400-modified-after"), False, "probed"),  # refused
        ("5.5.2", recorded("usd-error-500-database-down"), False, "by the WooCommerce version"),
        ("5.8.0", recorded("usd-error-500-database-down"), True, "by the WooCommerce version"),
        ("9.1.0", recorded("usd-orders-page-beyond-last"), True, "probed"),
    ],
)
def test_modified_after_support(
    mock: responses.RequestsMock, version: str, probe: Answer, supported: bool, how: str
) -> None:
    report, _ = run(mock, _old_store(version, probe))
    assert report.facts is not None
    assert report.facts.supports_modified_after is supported
    assert report.facts.hpos is False  # from order_datastore when HPOS_enabled is absent
    item = report.item(MODIFIED_AFTER)
    assert how in item.detail
    assert item.ok is (True if supported else None)
    if not supported:
        assert "5.8" in item.hint
    assert report.ok  # a slower sync is not a failure


def test_system_status_refused_falls_back_to_settings(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/system_status"] = as_json(
        403,
        {
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": {"status": 403},
        },
    )
    report, _ = run(mock, routes)
    assert report.facts is not None
    assert (report.facts.currency, report.facts.decimals) == ("USD", 2)
    assert report.facts.wc_version is None
    assert report.item(VERSION).ok is None
    assert "shop manager" in report.item(VERSION).hint
    assert report.item(HPOS).ok is None
    assert report.facts.supports_modified_after  # the probe still tells


def test_more_decimals_than_the_mirror_keeps(mock: responses.RequestsMock) -> None:
    status = copy.deepcopy(fixture("usd-system-status")["response"]["body"])
    status["settings"]["number_of_decimals"] = 6
    routes = usd_routes()
    routes["GET", "wc/v3/system_status"] = as_json(200, status)
    report, _ = run(mock, routes)
    assert report.item(CURRENCY).ok is False
    assert "Number of decimals" in report.item(CURRENCY).hint
    assert not report.ok


def test_an_empty_coupon_accepted_is_deleted_again(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["POST", "wc/v3/coupons"] = recorded("usd-coupon-create")
    routes["DELETE", "wc/v3/coupons/1604"] = recorded("usd-coupon-delete")
    report, store = run(mock, routes)
    assert report.item(WRITE_COUPONS).ok is True
    assert ("DELETE", "wc/v3/coupons/1604", {"force": "true"}) in [s[:3] for s in store.seen]


def test_the_report_never_holds_the_secret(mock: responses.RequestsMock) -> None:
    routes = usd_routes()
    routes["GET", "wc/v3/customers"] = lambda q: (
        200,
        {"Content-Type": "text/plain"},
        f"echo {SECRET} {q}".encode(),
    )
    report, _ = run(mock, routes)
    assert SECRET not in repr(report)
    assert "oauth_signature=" not in repr(report).replace("oauth_signature=***", "")
