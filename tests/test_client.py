"""WooClient against recorded real WooCommerce answers (``responses``): auth, pages, retries,
and the mapping of every failure to the connector's exceptions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
import responses
from woocommerce.oauth import OAuth

from connector._client import Page, StoreCredentials, WooClient, full_jitter
from connector._errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    StoreError,
)
from tests.conftest import FIXTURES

HTTP = "http://127.0.0.1:8080"  # the recorded usd store, plain http: OAuth 1.0a
HTTPS = "https://127.0.0.1:8443"  # the same store over TLS: Basic auth
API = f"{HTTP}/wp-json/wc/v3"
# Built here, never a real-looking constant: the value every "no secret leaks" test hunts for.
SECRET = "cs_" + "f" * 40
KEY = "ck_" + "e" * 40


# --------------------------------------------------------------------------- helpers


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def raw_body(name: str) -> bytes:
    """The exact recorded bytes (or the JSON of a trimmed fixture, or an HTML string body)."""
    raw = FIXTURES / "raw" / f"{name}.body"
    if raw.exists():
        return raw.read_bytes()
    recorded = fixture(name)["response"]["body"]
    return recorded.encode() if isinstance(recorded, str) else json.dumps(recorded).encode()


def replay(
    rsps: responses.RequestsMock,
    name: str,
    *,
    url: str | None = None,
    date: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> responses.BaseResponse:
    """Register a recorded answer, with its status, headers (Date added when given) and bytes."""
    fx = fixture(name)
    recorded = fx["response"]
    headers = {
        k: v
        for k, v in recorded["headers"].items()
        if k.lower() not in ("content-type", "content-length")
    }
    if date is not None:
        headers["Date"] = format_datetime(date, usegmt=True)
    headers.update(extra_headers or {})
    return rsps.add(
        fx["request"]["method"],
        url or fx["request"]["url"],
        body=raw_body(name),
        status=recorded["status"],
        headers=headers,
        content_type=recorded["headers"].get("Content-Type"),
    )


class Sleeps(list[float]):
    """An injected ``sleep`` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    url: str = HTTP,
    *,
    sleeps: Sleeps | None = None,
    query_string_auth: bool = False,
    **options: Any,
) -> WooClient:
    creds = StoreCredentials(
        name="usd",
        url=url,
        consumer_key=KEY,
        consumer_secret=SECRET,
        query_string_auth=query_string_auth,
    )
    options.setdefault("jitter", lambda delay: delay)
    return WooClient(creds, sleep=sleeps if sleeps is not None else Sleeps(), **options)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def sent_url(call: Any) -> str:
    url = call.request.url
    assert isinstance(url, str)
    return url


def sent_query(call: Any) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(sent_url(call)).query, keep_blank_values=True)


def woocommerce_signature(method: str, url: str, consumer_secret: str) -> tuple[str, str]:
    """(sent signature, the one WooCommerce computes), done the way its PHP does it.

    ``WC_REST_Authentication::check_oauth_signature``: the query as PHP parsed it ($_GET),
    less ``oauth_signature``, keys sorted (``uksort``/``strcmp``), each key and value
    ``rawurlencode``d, joined as ``key=value`` and ``rawurlencode``d again, joined with
    ``%26``; base string ``METHOD&rawurlencode(base URL)&params``; HMAC-SHA256 keyed with
    ``secret + "&"``.
    """

    def rawurlencode(text: str) -> str:
        return quote(text, safe="")  # like PHP: all but A-Za-z0-9 - _ . ~

    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    sent = params.pop("oauth_signature")
    joined = "%26".join(
        rawurlencode(f"{rawurlencode(k)}={rawurlencode(v)}") for k, v in sorted(params.items())
    )
    base = rawurlencode(f"{parts.scheme}://{parts.netloc}{parts.path}")
    to_sign = f"{method}&{base}&{joined}"
    digest = hmac.new(f"{consumer_secret}&".encode(), to_sign.encode(), hashlib.sha256).digest()
    return sent, base64.b64encode(digest).decode()


# --------------------------------------------------------------------------- credentials


def test_the_secret_is_not_in_the_credentials_repr() -> None:
    creds = StoreCredentials(name="usd", url=HTTPS, consumer_key=KEY, consumer_secret=SECRET)
    assert SECRET not in repr(creds)
    assert SECRET not in str(creds)
    assert SECRET not in repr(make_client(HTTPS))


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8080",
        "ftp://shop.test",
        "https://",
        "https://user:pw@shop.test",
        "https://shop.test/?a=1",
    ],
)
def test_unusable_store_urls_are_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="'usd'"):
        make_client(url)


# --------------------------------------------------------------------------- auth modes


def test_plain_http_signs_the_full_url_with_oauth(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-orders-page1")
    client = make_client()
    before = int(time.time())
    page = client.get_page("orders", {"per_page": 20, "page": 1})
    assert len(page.items) == 20
    (call,) = rsps.calls
    query = sent_query(call)
    names = [k for k, _ in query]
    # Each parameter exactly once (the official client sends them twice), all in the URL.
    assert sorted(names) == sorted(
        [
            "per_page",
            "page",
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature_method",
            "oauth_signature",
        ]
    )
    values = dict(query)
    assert (values["per_page"], values["page"]) == ("20", "1")
    assert values["oauth_consumer_key"] == KEY
    assert values["oauth_signature_method"] == "HMAC-SHA256"
    assert before - 1 <= int(values["oauth_timestamp"]) <= time.time() + 1
    assert "Authorization" not in call.request.headers
    assert SECRET not in sent_url(call)
    sent, expected = woocommerce_signature("GET", sent_url(call), SECRET)
    assert sent == expected


@pytest.mark.parametrize(
    ("method", "value"),
    [
        ("GET", "2026-10-20T00:00:00"),
        ("GET", "a/b c+d%41 ~é تومان"),  # '/', space, '+', '%', '~', non-ASCII
        ("DELETE", "true"),
    ],
)
def test_oauth_signatures_verify_like_woocommerce_for_any_value(
    rsps: responses.RequestsMock, method: str, value: str
) -> None:
    rsps.add(method, f"{API}/coupons", json=[], status=200)
    client = make_client()
    if method == "GET":
        client.get("coupons", {"code": value, "per_page": 1})
    else:
        client.delete("coupons", {"force": value})
    call = rsps.calls[0]
    sent, expected = woocommerce_signature(method, sent_url(call), SECRET)
    assert sent == expected
    assert value in dict(sent_query(call)).values()


def test_the_official_signer_gets_slashes_wrong_which_is_why_we_patch_it() -> None:
    url = f"{API}/coupons?code=a%2Fb"
    signed = OAuth(
        url=url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3", method="GET"
    ).get_oauth_url()
    sent, expected = woocommerce_signature("GET", signed, SECRET)
    assert sent != expected


def test_post_is_signed_and_sends_json_with_decimal_strings(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-coupon-create")
    client = make_client()
    created = client.post(
        "coupons", {"code": "bazgasht-reward-fixture", "amount": Decimal("7.50"), "usage_limit": 1}
    )
    assert created["id"] == 1604
    call = rsps.calls[0]
    assert json.loads(call.request.body or b"") == {
        "code": "bazgasht-reward-fixture",
        "amount": "7.50",
        "usage_limit": 1,
    }
    assert call.request.headers["Content-Type"].startswith("application/json")
    sent, expected = woocommerce_signature("POST", sent_url(call), SECRET)
    assert sent == expected


def test_https_uses_basic_auth(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-https-orders-page1-basic")
    page = make_client(HTTPS).get_page("orders", {"per_page": 5, "page": 1})
    assert (len(page.items), page.total, page.total_pages) == (5, 1500, 300)
    call = rsps.calls[0]
    expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert call.request.headers["Authorization"] == expected
    assert sent_query(call) == [("per_page", "5"), ("page", "1")]


def test_https_with_query_string_auth(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-https-orders-page1-basic")
    make_client(HTTPS, query_string_auth=True).get_page("orders", {"per_page": 5, "page": 1})
    call = rsps.calls[0]
    assert "Authorization" not in call.request.headers
    assert dict(sent_query(call)) == {
        "per_page": "5",
        "page": "1",
        "consumer_key": KEY,
        "consumer_secret": SECRET,
    }


def test_plain_http_warns_once_per_client(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    replay(rsps, "usd-orders-page1")
    caplog.set_level(logging.WARNING, logger="bazgasht.connector")
    client = make_client()
    client.get_page("orders", {"per_page": 20, "page": 1})
    client.get_page("orders", {"per_page": 20, "page": 1})
    warnings = [r for r in caplog.records if "unencrypted" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].name == "bazgasht.connector"
    caplog.clear()
    make_client(HTTPS)
    assert not [r for r in caplog.records if "unencrypted" in r.getMessage()]


def test_headers_timeouts_and_the_pool(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-order-guest")
    client = make_client(timeout=(3.0, 20.0), pool_size=6)
    client.get("orders/41")
    call = rsps.calls[0]
    assert call.request.headers["Accept"] == "application/json"
    assert call.request.headers["User-Agent"] == "Bazgasht/0.1"
    assert getattr(call.request, "req_kwargs", {})["timeout"] == (3.0, 20.0)
    adapter = client._session.get_adapter(HTTP)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter._pool_maxsize == 6  # type: ignore[attr-defined]


class _Session(requests.Session):
    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


def test_the_client_is_a_context_manager_and_closes_only_its_own_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(requests, "Session", _Session)
    with make_client(HTTPS) as client:
        own = client._session
    assert isinstance(own, _Session) and own.closed
    lent = _Session()
    with make_client(HTTPS, session=lent):
        pass
    assert not lent.closed


def test_requests_made_counts_every_request_across_threads(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-order-guest")
    client = make_client(pool_size=8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: client.get("orders/41"), range(40)))
    assert client.requests_made == 40


def test_paths_must_stay_under_the_api() -> None:
    client = make_client(HTTPS)
    for bad in ("https://evil.test/x", "//evil.test/x", "../../wp/v2/users"):
        with pytest.raises(ValueError, match="relative"):
            client.get(bad)


# --------------------------------------------------------------------------- pages


def test_pages_parse_the_totals_and_the_date(rsps: responses.RequestsMock) -> None:
    when = datetime(2026, 11, 23, 12, 30, 5, tzinfo=UTC)
    replay(rsps, "usd-orders-page2", date=when)
    page = make_client().get_page("orders", {"per_page": 20, "page": 2})
    assert isinstance(page, Page)
    assert (page.total, page.total_pages, len(page.items)) == (1500, 75, 20)
    assert page.server_date == when
    assert page.server_date.tzinfo is not None


def test_a_page_past_the_end_is_returned_as_is(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-orders-page-beyond-last")
    page = make_client().get_page("orders", {"per_page": 20, "page": 1000})
    assert (page.items, page.total, page.total_pages) == ([], 0, 0)


def test_the_link_header_is_never_followed(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-orders-page1")  # its Link echoes an old oauth_signature
    make_client().get_page("orders", {"per_page": 20, "page": 1})
    assert len(rsps.calls) == 1


def test_chunked_bodies_without_content_length(rsps: responses.RequestsMock) -> None:
    assert "Transfer-Encoding" in fixture("usd-orders-modified-after-page1")["response"]["headers"]
    replay(rsps, "usd-orders-modified-after-page1")
    page = make_client().get_page(
        "orders",
        {
            "per_page": 20,
            "modified_after": "2026-10-20T00:00:00",
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "page": 1,
        },
    )
    assert (page.total, page.total_pages, len(page.items)) == (31, 2, 20)
    response = rsps.calls[0].response
    assert isinstance(response, requests.Response)
    assert "Content-Length" not in response.headers


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, (None, None, None)),
        ({"X-WP-Total": " 12 ", "X-WP-TotalPages": "2"}, (12, 2, None)),
        ({"X-WP-Total": "many", "X-WP-TotalPages": "-1"}, (None, None, None)),
        ({"Date": "not a date"}, (None, None, None)),
        (
            {"Date": "Mon, 23 Nov 2026 13:01:25 GMT"},
            (None, None, datetime(2026, 11, 23, 13, 1, 25, tzinfo=UTC)),
        ),
    ],
)
def test_page_headers_are_tolerated_when_missing_or_odd(
    rsps: responses.RequestsMock, headers: dict[str, str], expected: tuple[Any, ...]
) -> None:
    rsps.add("GET", f"{API}/orders", json=[{"id": 1}], headers=headers)
    page = make_client().get_page("orders", {"page": 1})
    assert (page.total, page.total_pages, page.server_date) == expected


def test_a_page_must_be_a_list(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-order-guest", url=f"{API}/orders")
    with pytest.raises(InvalidResponseError, match="expected a list of records"):
        make_client().get_page("orders", {"page": 1})


# --------------------------------------------------------------------------- recorded errors


#: fixture → (exception, words the message must contain besides WooCommerce's code and message)
ERROR_CASES: dict[str, tuple[type[StoreError], str]] = {
    "usd-error-401-bad-key-oauth": (AuthError, "does not know this consumer key"),
    "usd-error-401-bad-secret-oauth": (AuthError, "secret does not match"),
    "usd-error-401-bad-key-basic-https": (AuthError, "Authorization header"),
    "usd-error-401-basic-over-http": (AuthError, "use https://"),
    "usd-error-401-readonly-key-write": (AuthError, "Read/Write"),
    "usd-error-404-order": (NotFoundError, "does not exist"),
    "usd-error-404-no-route": (NotFoundError, "Permalinks"),
    "usd-error-400-per-page": (
        BadRequestError,
        "per_page: per_page must be between 1 (inclusive) and 100 (inclusive) [rest_out_of_bounds]",
    ),
    "usd-error-400-modified-after": (
        BadRequestError,
        "modified_after: Invalid date. [rest_invalid_date]",
    ),
    "usd-coupon-create-duplicate-code": (BadRequestError, "The coupon code already exists"),
}


def _call_like_recorded(client: WooClient, name: str) -> Any:
    request = fixture(name)["request"]
    path = request["url"].split("/wc/v3/", 1)[1]
    params = dict(request["query"])
    if request["method"] == "POST":
        return client.post(path, request["json"])
    return client.get(path, params)


@pytest.mark.parametrize("name", ERROR_CASES)
def test_recorded_errors_map_to_the_right_exception(
    rsps: responses.RequestsMock, name: str
) -> None:
    error, words = ERROR_CASES[name]
    recorded = fixture(name)["response"]["body"]
    code = recorded["code"]
    recorded_url = fixture(name)["request"]["url"]
    replay(rsps, name)
    sleeps = Sleeps()
    client = make_client(HTTPS if recorded_url.startswith(HTTPS) else HTTP, sleeps=sleeps)
    with pytest.raises(error) as caught:
        _call_like_recorded(client, name)
    exc = caught.value
    assert type(exc) is error
    message = str(exc)
    assert exc.code == code
    assert exc.status == fixture(name)["response"]["status"]
    assert "store 'usd'" in message
    assert recorded_url.split("?")[0] in message
    assert code in message
    assert words in message
    assert recorded["message"] in message  # WooCommerce's own words
    assert "oauth_" not in message and SECRET not in message
    assert len(rsps.calls) == 1 and sleeps == []  # 4xx is never retried


def test_the_database_down_page_is_a_server_error_after_retries(
    rsps: responses.RequestsMock,
) -> None:
    replay(rsps, "usd-error-500-database-down")
    sleeps = Sleeps()
    client = make_client(sleeps=sleeps, max_attempts=4)
    with pytest.raises(ServerError) as caught:
        client.get_page("orders", {"per_page": 20, "page": 1})
    message = str(caught.value)
    assert "database is down" in message
    assert "gave up after 4 attempts" in message
    assert "store 'usd'" in message and f"{API}/orders?per_page=20&page=1" in message
    assert caught.value.status == 500
    assert len(rsps.calls) == 4 and sleeps == [0.5, 1.0, 2.0]


# --------------------------------------------------------------------------- retries


def _nonces(rsps: responses.RequestsMock) -> list[str]:
    return [dict(sent_query(c))["oauth_nonce"] for c in rsps.calls]


def test_5xx_bursts_then_success_back_off_and_re_sign(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bazgasht.connector")
    url = f"{API}/orders"
    for status in (500, 502, 503):
        rsps.add("GET", url, status=status, json={"code": "x", "message": "busy"})
    replay(rsps, "usd-orders-page1")
    sleeps = Sleeps()
    client = make_client(sleeps=sleeps)
    page = client.get_page("orders", {"per_page": 20, "page": 1})
    assert len(page.items) == 20
    assert sleeps == [0.5, 1.0, 2.0]
    assert client.requests_made == 4
    nonces = _nonces(rsps)
    assert len(set(nonces)) == 4  # every attempt signed afresh
    for call in rsps.calls:
        sent, expected = woocommerce_signature("GET", sent_url(call), SECRET)
        assert sent == expected
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 3
    assert "retry 1 of 4 in 0.5 s" in retries[0].getMessage()
    assert all(
        "oauth_" not in r.getMessage() and f"{API}/orders" in r.getMessage() for r in retries
    )


def test_backoff_is_capped_and_jittered() -> None:
    calls: list[float] = []

    def jitter(delay: float) -> float:
        calls.append(delay)
        return delay / 2

    sleeps = Sleeps()
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{API}/orders", status=503, json={"code": "x", "message": "busy"})
        client = make_client(
            sleeps=sleeps, max_attempts=6, backoff_base=4, backoff_cap=10, jitter=jitter
        )
        with pytest.raises(ServerError):
            client.get("orders")
    assert calls == [4, 8, 10, 10, 10]
    assert sleeps == [2, 4, 5, 5, 5]


def test_full_jitter_stays_within_the_delay() -> None:
    draws = [full_jitter(3.0) for _ in range(200)]
    assert all(0.0 <= d <= 3.0 for d in draws)
    assert len(set(draws)) > 1


def test_429_honours_retry_after_seconds(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/orders",
        status=429,
        headers={"Retry-After": "7"},
        json={"code": "too_many", "message": "slow down"},
    )
    replay(rsps, "usd-orders-page1")
    sleeps = Sleeps()
    make_client(sleeps=sleeps).get_page("orders", {"per_page": 20, "page": 1})
    assert sleeps == [7.0]  # never less than the store asked, although backoff said 0.5


def test_retry_after_as_an_http_date_uses_the_stores_clock(rsps: responses.RequestsMock) -> None:
    server_now = datetime(2020, 1, 1, 12, 0, 0, tzinfo=UTC)  # a store whose clock is far off
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=12), usegmt=True),
    }
    rsps.add(
        "GET", f"{API}/orders", status=503, headers=headers, body="busy", content_type="text/plain"
    )
    replay(rsps, "usd-orders-page1")
    sleeps = Sleeps()
    make_client(sleeps=sleeps).get_page("orders", {"per_page": 20, "page": 1})
    assert sleeps == [12.0]


def test_429_after_all_attempts_is_rate_limited(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/orders",
        status=429,
        headers={"Retry-After": "1"},
        json={"code": "too_many", "message": "slow down"},
    )
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError, match="gave up after 3 attempts") as caught:
        make_client(sleeps=sleeps, max_attempts=3).get("orders")
    assert caught.value.status == 429
    assert sleeps == [1.0, 1.0]
    assert "concurrency" in str(caught.value)


def test_a_retry_after_beyond_the_cap_gives_up_at_once(rsps: responses.RequestsMock) -> None:
    maintenance = (
        "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Briefly "
        "unavailable for scheduled maintenance. Check back in a minute.</h1></body></html>"
    )
    rsps.add(
        "GET",
        f"{API}/orders",
        status=503,
        headers={"Retry-After": "600"},
        body=maintenance,
        content_type="text/html",
    )
    sleeps = Sleeps()
    with pytest.raises(ServerError) as caught:
        make_client(sleeps=sleeps).get("orders")
    assert sleeps == [] and len(rsps.calls) == 1
    assert "maintenance mode" in str(caught.value)
    assert "asked to wait 600 s" in str(caught.value)


@pytest.mark.parametrize(
    ("exception", "words"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), "no answer within 30 s"),
        (requests.exceptions.ConnectTimeout("connect timed out"), "connecting timed out after 5 s"),
        (
            requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
            "Connection refused",
        ),
        (requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"), "cut off"),
        (requests.exceptions.ContentDecodingError("bad gzip"), "cut off"),
        # As requests words them for real connections (seen against a loopback server):
        (
            requests.exceptions.ConnectionError(
                "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
                "/wp-json/wc/v3/orders?oauth_signature=abc (Caused by NewConnectionError('<urllib3"
                ".connection.HTTPConnection object at 0x7f>: Failed to establish a new connection:"
                " [Errno 111] Connection refused'))"
            ),
            "could not connect: Connection refused (gave up",
        ),
        (
            requests.exceptions.ConnectionError(
                "HTTPConnectionPool(host='127.0.0.1', port=8080): Read timed out."
            ),
            "no answer within 30 s",
        ),
        (
            requests.exceptions.ChunkedEncodingError(
                "('Connection broken: IncompleteRead(1000 bytes read, 53374 more expected)', "
                "IncompleteRead(1000 bytes read, 53374 more expected))"
            ),
            "cut off on its way after 1000 bytes, 53374 more expected",
        ),
    ],
)
def test_network_failures_are_retried_then_raised(
    rsps: responses.RequestsMock, exception: Exception, words: str
) -> None:
    rsps.add("GET", f"{API}/orders", body=exception)
    sleeps = Sleeps()
    with pytest.raises(NetworkError) as caught:
        make_client(sleeps=sleeps).get("orders", {"page": 1})
    assert len(rsps.calls) == 5 and sleeps == [0.5, 1.0, 2.0, 4.0]
    assert words in str(caught.value)
    assert "gave up after 5 attempts" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_a_read_timeout_then_success(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/orders", body=requests.exceptions.ReadTimeout("read timed out"))
    replay(rsps, "usd-orders-page1")
    sleeps = Sleeps()
    page = make_client(sleeps=sleeps).get_page("orders", {"per_page": 20, "page": 1})
    assert len(page.items) == 20 and sleeps == [0.5]


def test_an_untrusted_certificate_is_not_retried(rsps: responses.RequestsMock) -> None:
    error = requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    rsps.add("GET", f"{HTTPS}/wp-json/wc/v3/orders", body=error)
    with pytest.raises(NetworkError, match="--no-verify-tls"):
        make_client(HTTPS).get("orders")
    assert len(rsps.calls) == 1


def test_401_is_not_retried(rsps: responses.RequestsMock) -> None:
    replay(rsps, "usd-error-401-bad-key-oauth")
    sleeps = Sleeps()
    with pytest.raises(AuthError):
        make_client(sleeps=sleeps).get("orders")
    assert len(rsps.calls) == 1 and sleeps == []


@pytest.mark.parametrize("status", [501, 505])
def test_other_5xx_are_not_retried(rsps: responses.RequestsMock, status: int) -> None:
    rsps.add("GET", f"{API}/orders", status=status, body="nope", content_type="text/plain")
    with pytest.raises(ServerError):
        make_client().get("orders")
    assert len(rsps.calls) == 1


# --------------------------------------------------------------------------- invalid answers

LOGIN_PAGE = (
    '<!DOCTYPE html>\n<html lang="en-US"><head><meta charset="UTF-8" />\n'
    "<title>Log In &lsaquo; My Shop &#8212; WordPress</title></head>"
    '<body class="login"><form name="loginform"></form></body></html>'
)


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (
            LOGIN_PAGE,
            "text/html; charset=UTF-8",
            "an HTML page titled 'Log In ‹ My Shop — WordPress'",
        ),
        ("<html><body>Just a moment...</body></html>", "text/html", "an HTML page without a title"),
        (
            raw_body("usd-orders-page1")[:5000],
            "application/json; charset=UTF-8",
            "JSON that does not parse",
        ),
        (
            raw_body("usd-orders-page1"),
            "text/html; charset=UTF-8",
            "JSON labelled text/html (a cache or plugin changed the Content-Type)",
        ),
        ("", "application/json", "an empty body"),
        (
            "<br />\n<b>Warning</b>: Undefined array key in x.php<br />\n[]",
            "application/json",
            "PHP warnings",
        ),
        ("OK", "text/plain", "a body of type text/plain starting 'OK'"),
        (b"\xff\xfe[not utf8", "application/json", "JSON that does not parse"),
        ("[" * 100_000 + "]" * 100_000, "application/json", "JSON that does not parse"),
    ],
    ids=[
        "login-page",
        "untitled-html",
        "truncated-json",
        "json-as-html",
        "empty",
        "php-warnings",
        "plain-text",
        "not-utf8",
        "too-deep",
    ],
)
def test_a_2xx_that_is_not_json_is_an_invalid_response(
    rsps: responses.RequestsMock, body: str | bytes, content_type: str, words: str
) -> None:
    """Retried like a 503 (a cache or plugin may answer so for a moment); when it stays
    wrong, the message says what came back."""
    rsps.add("GET", f"{API}/orders", body=body, status=200, content_type=content_type)
    sleeps = Sleeps()
    with pytest.raises(InvalidResponseError) as caught:
        make_client(sleeps=sleeps).get("orders")
    assert words in str(caught.value)
    assert "gave up after 5 attempts" in str(caught.value)
    assert "store 'usd'" in str(caught.value) and f"{API}/orders" in str(caught.value)
    assert len(rsps.calls) == 5 and sleeps == [0.5, 1.0, 2.0, 4.0]
    assert caught.value.__context__ is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><head><title>Log In</title></head></html>", "text/html; charset=UTF-8"),
        ('[{"id": 1}, {"id"', "application/json; charset=UTF-8"),
        ('[{"id": 1}]', "text/html"),
        ('{"id": 1}', "application/json"),
        (b"\xff\xfe", "application/json"),
    ],
    ids=["login-page", "truncated-json", "wrong-content-type", "object-not-list", "undecodable"],
)
def test_a_wrong_2xx_body_is_retried_until_the_real_answer_comes(
    rsps: responses.RequestsMock, body: str | bytes, content_type: str
) -> None:
    rsps.add("GET", f"{API}/orders", body=body, status=200, content_type=content_type)
    replay(rsps, "usd-orders-page1")
    sleeps = Sleeps()
    page = make_client(sleeps=sleeps).get_page("orders", {"per_page": 20, "page": 1})
    assert len(page.items) == 20
    assert len(rsps.calls) == 2 and sleeps == [0.5]


def test_a_redirect_is_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/orders", status=302, headers={"Location": "http://x/wp-login.php"})
    sleeps = Sleeps()
    with pytest.raises(InvalidResponseError):
        make_client(sleeps=sleeps).get("orders")
    assert len(rsps.calls) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("https://127.0.0.1:8080/wp-json/wc/v3/orders", "set the store's URL to that"),
        (
            "http://127.0.0.1:8080/wp-login.php?redirect_to=x",
            "login, maintenance or security-plugin",
        ),
    ],
)
def test_redirects_are_not_followed(
    rsps: responses.RequestsMock, location: str, words: str
) -> None:
    rsps.add(
        "GET",
        f"{API}/orders",
        status=301,
        headers={"Location": location + ("&" if "?" in location else "?") + "oauth_signature=abc"},
    )
    with pytest.raises(InvalidResponseError, match=words) as caught:
        make_client().get("orders")
    assert len(rsps.calls) == 1
    assert "abc" not in str(caught.value)


def test_a_critical_php_error_is_a_server_error(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/orders",
        status=500,
        json={
            "code": "internal_server_error",
            "message": "<p>There has been a critical error on this website.</p>",
            "data": {"status": 500},
            "additional_errors": [],
        },
    )
    with pytest.raises(ServerError, match="crashed: There has been a critical error") as caught:
        make_client(max_attempts=1).get("orders")
    assert caught.value.code == "internal_server_error"


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (
            403,
            "<html><head><title>Access denied | Cloudflare</title></head></html>",
            AuthError,
            "firewall",
        ),
        (
            404,
            "<html><head><title>Page not found</title></head></html>",
            NotFoundError,
            "Permalinks",
        ),
        (
            401,
            '{"code":"rest_login_required","message":"REST API restricted.","data":{"status":401}}',
            AuthError,
            "logged-in users",
        ),
        (
            401,
            json.dumps(
                {
                    "code": "woocommerce_rest_authentication_error",
                    "message": "Invalid timestamp.",
                    "data": {"status": 401},
                }
            ),
            AuthError,
            "clock",
        ),
        (
            405,
            '{"code":"rest_no_route","message":"No route","data":{"status":405}}',
            BadRequestError,
            "No route",
        ),
        (502, "<html><head><title>502 Bad Gateway</title></head></html>", ServerError, "proxy"),
    ],
)
def test_other_failures_get_a_useful_message(
    rsps: responses.RequestsMock, status: int, body: str, error: type[StoreError], words: str
) -> None:
    content_type = "application/json" if body.startswith("{") else "text/html"
    rsps.add("GET", f"{API}/orders", status=status, body=body, content_type=content_type)
    with pytest.raises(error, match=words):
        make_client(max_attempts=1).get("orders")


# --------------------------------------------------------------------------- nothing escapes


def _transport_failures() -> list[BaseException]:
    import http.client
    import socket

    import urllib3.exceptions

    def make(cls: type[requests.RequestException]) -> BaseException:
        if issubclass(cls, requests.exceptions.JSONDecodeError):
            return cls("boom", "", 0)
        return cls("boom")

    failures: list[BaseException] = [
        make(cls)
        for cls in vars(requests.exceptions).values()
        if isinstance(cls, type) and issubclass(cls, requests.RequestException)
    ]
    failures += [
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
        urllib3.exceptions.ReadTimeoutError(None, "/x", "Read timed out."),  # type: ignore[arg-type]
        urllib3.exceptions.DecodeError("bad"),
        http.client.IncompleteRead(b"partial", 100),
        http.client.RemoteDisconnected("closed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError("timed out"),
        socket.gaierror(-2, "Name or service not known"),
        OSError("weird"),
    ]
    return failures


@pytest.mark.parametrize("failure", _transport_failures(), ids=lambda e: type(e).__name__)
def test_no_transport_exception_escapes_unmapped(failure: BaseException) -> None:
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{API}/orders", body=failure)
        with pytest.raises(StoreError) as caught:
            make_client(max_attempts=2).get("orders")
    assert isinstance(caught.value, NetworkError)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


@pytest.mark.parametrize("status", [*range(300, 309), *range(400, 432), *range(500, 512), 520, 599])
@pytest.mark.parametrize("body", [b"", b"<html>x</html>", b"{", b'{"code": 5}', b'"x"', b"[]"])
def test_no_status_or_body_escapes_unmapped(status: int, body: bytes) -> None:
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{API}/orders", body=body, status=status, content_type="application/json")
        with pytest.raises(StoreError):
            make_client(max_attempts=1).get("orders")


# --------------------------------------------------------------------------- secrets


def _texts_of(exc: BaseException) -> list[str]:
    texts = []
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), *map(str, seen.args)]
        texts += [str(getattr(seen, a, "")) for a in ("detail", "hint", "url", "code")]
        seen = seen.__cause__ or seen.__context__
    return texts


def _echo(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    return (
        200,
        {"Content-Type": "text/plain"},
        f"You asked for {request.url} with {request.headers}",
    )


def _raise_with_url(request: requests.PreparedRequest) -> Any:
    raise requests.exceptions.ConnectionError(
        f"Max retries exceeded with url: {request.url} ({SECRET})"
    )


@pytest.mark.parametrize("mode", ["oauth", "basic", "query"])
def test_the_secret_never_appears_in_errors_or_logs(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = HTTP if mode == "oauth" else HTTPS
    api = f"{url}/wp-json/wc/v3"
    client = make_client(url, query_string_auth=mode == "query", max_attempts=2)
    errors: list[StoreError] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", f"{api}/echo", callback=_echo)
        mock.add_callback("GET", f"{api}/down", callback=_raise_with_url)
        replay(mock, "usd-error-401-bad-secret-oauth", url=f"{api}/auth")
        replay(mock, "usd-error-500-database-down", url=f"{api}/db")
        mock.add(
            "GET",
            f"{api}/moved",
            status=302,
            headers={"Location": f"{url}/wp-login.php?consumer_secret={SECRET}"},
        )
        for path in ("echo", "down", "auth", "db", "moved"):
            with pytest.raises(StoreError) as caught:
                client.get(path, {"page": 1})
            errors.append(caught.value)
        signatures = [dict(sent_query(c)).get("oauth_signature") for c in mock.calls]
    # Through urllib3's own request-line logging (DEBUG), as a real connection would log it.
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "shop", 443, "GET",
        f"/wp-json/wc/v3/orders?consumer_key={KEY}&consumer_secret={SECRET}", "HTTP/1.1", 200, 0,
    )  # fmt: skip
    texts = [t for e in errors for t in _texts_of(e)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [repr(client), repr(client._creds)]
    assert texts
    leaks = [t for t in texts if SECRET in t]
    assert leaks == []
    assert mode != "oauth" or all(s and not any(s in t for t in texts) for s in signatures)
    assert not [t for t in texts if re.search(r"oauth_signature=[^*]", t)]
    b64 = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert not [t for t in texts if b64 in t]
