"""The sample store: OAuth like WooCommerce, the generated history, faults, mutations and
the server's life cycle. Real HTTP on loopback; fast and deterministic."""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import woocommerce
from woocommerce.oauth import OAuth

from samplestore import Fault, SampleStore, StoreData, generate_store, serve_forever
from samplestore._oauth import parse_php_query, sign, signature_base

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def base_data() -> StoreData:
    return generate_store(orders=600, customers=None, seed=3, currency="USD", now=NOW)


@pytest.fixture
def store(base_data: StoreData) -> Iterator[SampleStore]:
    with SampleStore(data=base_data.copy()) as s:
        yield s


def api(store: SampleStore, key: str | None = None, secret: str | None = None) -> Any:
    return woocommerce.API(
        store.url,
        key or store.consumer_key,
        secret or store.consumer_secret,
        version="wc/v3",
        timeout=60,  # the default 5 s is too tight on a loaded CI machine
    )


def signed_url(store: SampleStore, path: str, *, method: str = "GET", **params: Any) -> str:
    """A URL signed like the official client, to send by hand (replays, stale stamps)."""
    timestamp = params.pop("oauth_timestamp_", None) or int(time.time())
    url = f"{store.url}/wp-json/wc/v3/{path}"
    if params:
        url += "?" + urlencode(params)
    oauth = OAuth(
        url=url,
        consumer_key=store.consumer_key,
        consumer_secret=store.consumer_secret,
        version="wc/v3",
        method=method,
        oauth_timestamp=timestamp,
    )
    return str(oauth.get_oauth_url())


def all_orders(store: SampleStore, **params: Any) -> list[dict[str, Any]]:
    client = api(store)
    out, page = [], 1
    while batch := client.get("orders", params={"per_page": 100, "page": page, **params}).json():
        out.extend(batch)
        page += 1
    return out


# ----------------------------------------------------------------------------- OAuth


def test_the_official_client_reads_and_writes(store: SampleStore) -> None:
    client = api(store)
    orders = client.get("orders", params={"per_page": 5})
    assert orders.status_code == 200 and len(orders.json()) == 5
    coupon = client.post("coupons", {"code": "Reward-ABC", "amount": "10.00"})
    assert coupon.status_code == 201
    assert coupon.json()["code"] == "reward-abc"  # WooCommerce lower-cases codes
    updated = client.put(f"coupons/{coupon.json()['id']}", {"description": "changed"})
    assert updated.status_code == 200 and updated.json()["description"] == "changed"


def test_a_wrong_secret_is_refused(store: SampleStore) -> None:
    response = api(store, store.consumer_key, "cs_" + "0" * 40).get("orders")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."


def test_a_replayed_nonce_is_refused(store: SampleStore) -> None:
    url = signed_url(store, "orders", per_page=3)
    assert requests.get(url).status_code == 200
    again = requests.get(url)
    assert again.status_code == 401
    assert again.json()["message"] == "Invalid nonce - nonce has already been used."


def test_following_a_link_header_verbatim_fails_like_woocommerce(store: SampleStore) -> None:
    first = api(store).get("orders", params={"per_page": 10})
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    assert "oauth_signature=" in next_url and "page=2" in next_url
    response = requests.get(next_url)
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_error"


def test_stale_timestamps_are_refused(store: SampleStore) -> None:
    stale = signed_url(store, "orders", oauth_timestamp_=int(time.time()) - 16 * 60)
    response = requests.get(stale)
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid timestamp."


def test_the_read_only_key_reads_but_cannot_write(store: SampleStore) -> None:
    readonly = api(store, store.readonly_key, store.readonly_secret)
    assert readonly.get("orders").status_code == 200
    refused = readonly.post("coupons", {"code": "nope"})
    assert refused.status_code == 401
    assert refused.json()["message"] == "The API key provided does not have write permissions."
    assert api(store).get("coupons", params={"code": "nope"}).json() == []


def test_hmac_sha1_and_the_authorization_header_are_accepted(store: SampleStore) -> None:
    url = f"{store.url}/wp-json/wc/v3/orders"
    params = {
        "per_page": "2",
        "oauth_consumer_key": store.consumer_key,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": "sha1-nonce-1",
        "oauth_signature_method": "HMAC-SHA1",
    }
    params["oauth_signature"] = sign(
        signature_base("GET", url, parse_php_query(list(params.items()))),
        store.consumer_secret,
        "HMAC-SHA1",
    )
    assert requests.get(url, params=params).status_code == 200
    header = {k: v for k, v in params.items() if k.startswith("oauth_")}
    header["oauth_nonce"] = "sha1-nonce-2"
    del header["oauth_signature"]
    header["oauth_signature"] = sign(
        signature_base("GET", url, parse_php_query([("per_page", "2"), *header.items()])),
        store.consumer_secret,
        "HMAC-SHA1",
    )
    authorization = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in header.items())
    response = requests.get(url, params={"per_page": "2"}, headers={"Authorization": authorization})
    assert response.status_code == 200


def test_signature_base_follows_woocommerce() -> None:
    """Sorted keys, each key and value rawurlencode-d, pairs encoded again, '%26'-joined;
    arrays flattened with their indexes."""
    params = parse_php_query(
        [("b", "x/y z"), ("a[]", "2"), ("a[]", "1"), ("oauth_signature", "ignored")]
    )
    assert signature_base("get", "http://h:1/wp-json/wc/v3/orders", params) == (
        "GET&http%3A%2F%2Fh%3A1%2Fwp-json%2Fwc%2Fv3%2Forders&"
        "a%255B0%255D%3D2%26a%255B1%255D%3D1%26b%3Dx%252Fy%2520z"
    )


def test_duplicate_query_parameters_keep_the_last_value_like_php() -> None:
    folded = parse_php_query([("page", "1"), ("per_page", "5"), ("page", "2"), ("s[]", "a")])
    assert folded == {"page": "2", "per_page": "5", "s": {"0": "a"}}
    assert list(folded) == ["page", "per_page", "s"]  # first position kept


def test_basic_auth_counts_only_when_allowed(base_data: StoreData) -> None:
    with SampleStore(data=base_data.copy()) as plain:
        over_http = requests.get(
            f"{plain.url}/wp-json/wc/v3/orders", auth=(plain.consumer_key, plain.consumer_secret)
        )
        assert over_http.status_code == 401
        assert over_http.json()["code"] == "woocommerce_rest_cannot_view"
    with SampleStore(data=base_data.copy(), allow_basic_over_http=True) as https_like:
        orders = f"{https_like.url}/wp-json/wc/v3/orders"
        key, secret = https_like.consumer_key, https_like.consumer_secret
        assert requests.get(orders, auth=(key, secret)).status_code == 200
        query = requests.get(orders, params={"consumer_key": key, "consumer_secret": secret})
        assert query.status_code == 200
        wrong = requests.get(orders, auth=(key, "cs_wrong"))
        assert wrong.status_code == 401
        assert wrong.json()["message"] == "Consumer secret is invalid."


def test_public_site_index_tells_the_timezone(base_data: StoreData) -> None:
    with SampleStore(data=base_data.copy(), timezone="Asia/Tehran") as store:
        index = requests.get(
            f"{store.url}/wp-json/", params={"_fields": "name,url,gmt_offset,timezone_string"}
        ).json()
        assert index == {
            "name": "Bazgasht Sample Store",
            "url": store.url,
            "gmt_offset": 3.5,
            "timezone_string": "Asia/Tehran",
        }
        order = api(store).get("orders", params={"per_page": 1}).json()[0]
    local = datetime.fromisoformat(order["date_created"])
    gmt = datetime.fromisoformat(order["date_created_gmt"])
    assert local - gmt == timedelta(hours=3, minutes=30)


# ----------------------------------------------------------------------------- generator


def test_the_same_seed_gives_the_same_store() -> None:
    def snapshot(data: StoreData) -> tuple[Any, ...]:
        return (list(data.orders()), list(data.customers()), sorted(data.coupons))

    a = generate_store(orders=400, customers=None, seed=9, currency="EUR", now=NOW)
    b = generate_store(orders=400, customers=None, seed=9, currency="EUR", now=NOW)
    c = generate_store(orders=400, customers=None, seed=10, currency="EUR", now=NOW)
    assert snapshot(a) == snapshot(b)
    assert snapshot(a) != snapshot(c)


def test_the_history_has_a_realistic_shape(base_data: StoreData) -> None:
    orders = list(base_data.orders())
    assert len(orders) == 600
    by_identity = collections.Counter(
        f"customer:{o.customer_id}" if o.customer_id else f"email:{o.billing_email.lower()}"
        for o in orders
    )
    counts = sorted(by_identity.values())
    once = sum(1 for c in counts if c == 1)
    assert once / len(counts) > 0.4  # most buy once...
    assert counts[-1] >= 12  # ...and a long tail buys often
    statuses = collections.Counter(o.status for o in orders)
    assert 0.8 < statuses["completed"] / len(orders) < 0.95
    assert {"cancelled", "failed", "processing", "refunded"} <= set(statuses)
    refunded = [o for o in orders if o.refunds]
    assert 0.02 < len(refunded) / len(orders) < 0.09
    assert all(o.refunded == o.total for o in orders if o.status == "refunded")
    assert all(o.refunded < o.total for o in refunded if o.status != "refunded")
    assert any(o.coupon_code for o in orders)
    assert any(o.customer_id == 0 for o in orders)
    persian = sum(1 for o in orders if "\u0600" <= o.first_name[:1] <= "\u06ff")
    assert 0.05 < persian / len(orders) < 0.3
    for o in orders:
        assert o.created <= o.modified < NOW
        assert (o.paid is None) == (o.status in ("pending", "on-hold", "failed", "cancelled"))
        assert (o.completed is not None) == (o.status in ("completed", "refunded"))
    ids = [o.id for o in orders]
    assert ids == sorted(ids) and ids[0] == 38  # after the catalogue and the 4 coupons


def test_seasons_guests_and_identity_traps() -> None:
    data = generate_store(orders=3000, customers=None, seed=5, currency="USD", now=NOW)
    orders = list(data.orders())
    months = collections.Counter(o.created.month for o in orders)
    assert months[11] + months[12] > 1.4 * (months[1] + months[2])  # holiday peak
    guests = [o for o in orders if o.customer_id == 0]
    assert 0.08 < len(guests) / len(orders) < 0.4
    spellings = collections.defaultdict(set)
    for o in guests:
        spellings[o.billing_email.lower()].add(o.billing_email)
    assert sum(1 for s in spellings.values() if len(s) > 1) >= 2  # same guest, other case
    accounts = {c.email.lower(): c for c in data.customers()}
    early_guest_orders = [
        o
        for o in guests
        if o.billing_email.lower() in accounts and o.created < accounts[o.billing_email].created
    ]
    assert early_guest_orders  # guests who registered later keep customer_id 0
    deleted = [r for r in range(len(data.c_id)) if data.c_deleted[r]]
    assert deleted
    gone = data.c_id[deleted[0]]
    with pytest.raises(KeyError):
        data.customer(gone)
    assert all(o.customer_id != gone for o in orders)


def test_zero_decimal_currencies_have_whole_amounts() -> None:
    for currency in ("IRR", "IRT"):
        data = generate_store(orders=200, customers=None, seed=4, currency=currency, now=NOW)
        with SampleStore(data=data) as store:
            page = api(store).get("orders", params={"per_page": 50}).json()
        for order in page:
            assert "." not in order["total"] and order["total"].isdigit()
            assert all("." not in r["total"] for r in order["refunds"])
        totals = [Decimal(o["total"]) for o in page]
        assert min(totals) >= (100_000 if currency == "IRT" else 1_000_000)


def test_generating_100k_orders(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    data = generate_store(orders=100_000, customers=None, seed=1, currency="USD", now=NOW)
    seconds = time.perf_counter() - started
    assert data.order_count == 100_000
    with capsys.disabled():
        print(f"\n  sample store: generated 100 000 orders in {seconds:.2f} s")


def test_a_copy_is_independent(base_data: StoreData) -> None:
    copy = base_data.copy()
    first = next(copy.orders()).id
    copy.delete_order(0, first)
    assert base_data.order(first).status != "trash"
    assert copy.order_count == base_data.order_count - 1


# ----------------------------------------------------------------------------- faults


def test_status_faults_answer_like_hosts_do(store: SampleStore) -> None:
    client = api(store)
    store.add_fault(Fault("status", status=503, path="/orders"))
    store.add_fault(Fault("status", status=502, path="/orders"))
    store.add_fault(Fault("status", status=404, path="/customers"))
    maintenance = client.get("orders")
    assert maintenance.status_code == 503 and "maintenance" in maintenance.text
    assert maintenance.headers["Content-Type"].startswith("text/html")
    gateway = client.get("orders")
    assert gateway.status_code == 502 and "Bad Gateway" in gateway.text
    assert client.get("customers").json()["data"]["status"] == 404
    assert client.get("orders").status_code == 200  # used up


def test_rate_limit_sends_retry_after(store: SampleStore) -> None:
    store.add_fault(Fault("retry_after", retry_after=2))
    response = api(store).get("orders")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    store.add_fault(Fault("status", status=503, retry_after=0.5))
    assert api(store).get("orders").headers["Retry-After"] == "0.5"


def test_path_after_and_times(store: SampleStore) -> None:
    store.add_fault(Fault("status", status=500, path="/orders", after=2, times=2))
    client = api(store)
    statuses = [client.get("orders").status_code for _ in range(5)]
    assert statuses == [200, 200, 500, 500, 200]
    assert client.get("customers").status_code == 200
    assert store.pending_faults == []


def test_timeout_html200_truncated_and_reset(store: SampleStore) -> None:
    url = signed_url(store, "orders", per_page=5)
    store.add_fault(Fault("timeout", delay_s=2.0))
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(url, timeout=0.3)
    assert time.monotonic() - started < 1.5

    store.add_fault(Fault("html200"))
    login = api(store).get("orders")
    assert login.status_code == 200
    assert login.headers["Content-Type"].startswith("text/html") and "wp-login" in login.text

    store.add_fault(Fault("truncated"))
    cut = api(store).get("orders", params={"per_page": 50})
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)

    store.add_fault(Fault("reset"))
    with pytest.raises(requests.ConnectionError):
        api(store).get("orders")
    assert api(store).get("orders").status_code == 200


def test_list_faults_trim_empty_or_repeat_a_page_but_keep_its_totals(store: SampleStore) -> None:
    client = api(store)
    params = {"per_page": 10, "orderby": "id", "order": "asc"}
    real = client.get("orders", params=params)
    ids = [o["id"] for o in real.json()]
    store.add_fault(Fault("drop_record", path="/orders", query={"orderby": "id"}, index=3))
    store.add_fault(Fault("empty_page", path="/orders", query={"orderby": "id"}, after=1))
    store.add_fault(Fault("repeat_ids", path="/orders", query={"orderby": "id"}, after=2))
    assert client.get("orders").json()  # no orderby=id: not matched, not counted
    short = client.get("orders", params=params)
    assert [o["id"] for o in short.json()] == ids[:3] + ids[4:]
    empty = client.get("orders", params=params)
    assert empty.json() == [] and empty.headers["X-WP-Total"] == real.headers["X-WP-Total"]
    repeated = client.get("orders", params=params)
    assert [o["id"] for o in repeated.json()] == ids[:5] * 2
    assert client.get("orders", params=params).json() == real.json()  # used up
    assert store.pending_faults == []
    # a single order is not a list: left alone
    store.add_fault(Fault("empty_page", path="/orders"))
    assert client.get(f"orders/{ids[0]}").json()["id"] == ids[0]


def test_latency_is_added_to_every_request(base_data: StoreData) -> None:
    with SampleStore(data=base_data.copy(), latency_ms=150) as slow:
        started = time.monotonic()
        api(slow).get("system_status")
        assert time.monotonic() - started >= 0.15


# ----------------------------------------------------------------------------- mutations


def test_create_modify_refund_and_delete_orders(store: SampleStore) -> None:
    client = api(store)
    total = int(client.get("orders").headers["X-WP-Total"])
    store.advance_clock(3600)
    new_id = store.create_order(customer_id=0, email="new.guest@example.com")
    newest = client.get("orders", params={"per_page": 1}).json()[0]
    assert newest["id"] == new_id and newest["customer_id"] == 0
    assert newest["billing"]["email"] == "new.guest@example.com"
    assert newest["date_modified_gmt"] == store.now().strftime("%Y-%m-%dT%H:%M:%S")
    assert int(client.get("orders").headers["X-WP-Total"]) == total + 1

    target = next(o for o in store.data.orders() if o.status == "completed" and not o.refunds)
    since = (store.now() - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    store.modify_order(target.id, refund=Decimal("1.00"), refund_reason="Scratched")
    changed = client.get(
        "orders", params={"modified_after": since, "dates_are_gmt": "true", "orderby": "modified"}
    ).json()
    assert target.id in [o["id"] for o in changed]
    order = client.get(f"orders/{target.id}").json()
    assert [(r["reason"], r["total"]) for r in order["refunds"]] == [("Scratched", "-1.00")]
    store.modify_order(target.id, refund=target.total - Decimal("1.00"))
    assert client.get(f"orders/{target.id}").json()["status"] == "refunded"
    with pytest.raises(ValueError):
        store.modify_order(target.id, refund=Decimal("0.01"))  # nothing left to refund

    store.delete_order(new_id)
    assert int(client.get("orders").headers["X-WP-Total"]) == total
    assert client.get(f"orders/{new_id}").json()["status"] == "trash"
    assert new_id not in [o["id"] for o in all_orders(store)]


def test_deleting_a_customer_rewrites_their_orders(store: SampleStore) -> None:
    client = api(store)
    counts = collections.Counter(o.customer_id for o in store.data.orders())
    customer_id = next(cid for cid, n in counts.most_common() if cid and n >= 2)
    theirs = [o.id for o in store.data.orders() if o.customer_id == customer_id]
    store.advance_clock(600)
    store.delete_customer(customer_id)
    assert client.get(f"customers/{customer_id}").status_code == 404
    stamp = store.now().strftime("%Y-%m-%dT%H:%M:%S")
    for order_id in theirs:
        order = client.get(f"orders/{order_id}").json()
        assert order["customer_id"] == 0
        assert order["date_modified_gmt"] == stamp
        assert "customer" not in order["_links"]
    new_customer = store.create_customer(email="fresh@example.com", first_name="Sara")
    found = client.get("customers", params={"email": "fresh@example.com"}).json()
    assert [c["id"] for c in found] == [new_customer]
    assert found[0]["first_name"] == "Sara"


def test_offset_pagination_shifts_when_orders_vanish_mid_scan(store: SampleStore) -> None:
    """The trap a sync must survive: an order of an already-read page disappears, so the
    next page starts one row later and one order is never seen."""
    client = api(store)
    params = {"per_page": 20, "orderby": "id", "order": "asc"}
    page1 = client.get("orders", params={**params, "page": 1}).json()
    expected_next = client.get("orders", params={**params, "page": 2}).json()[0]["id"]

    def delete_one_read_order(path: str, query: dict[str, str]) -> None:
        if path.endswith("/orders") and query.get("page") == "2":
            store.on_request = None
            store.delete_order(page1[0]["id"])

    store.on_request = delete_one_read_order
    page2 = client.get("orders", params={**params, "page": 2}).json()
    assert page2[0]["id"] != expected_next
    assert expected_next not in [o["id"] for o in page1 + page2]  # never seen


def test_unstable_ties_move_rows_between_pages(base_data: StoreData) -> None:
    data = base_data.copy()
    moment = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with SampleStore(data=data, unstable_ties=True) as store:
        for _ in range(30):
            store.create_order(date_created=moment, customer_id=0)
        client = api(store)
        params = {"per_page": 7, "orderby": "date", "order": "asc", "after": "2026-06-01T11:59:59"}
        params["before"] = "2026-06-01T12:00:01"
        params["dates_are_gmt"] = "true"
        seen = []
        for page in range(1, 6):
            seen += [o["id"] for o in client.get("orders", params={**params, "page": page}).json()]
    assert len(seen) == 30
    assert len(set(seen)) < 30  # some came twice, so some never came


def test_hook_sees_requests_and_store_stays_consistent_under_load(store: SampleStore) -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    lock = threading.Lock()

    def hook(path: str, query: dict[str, str]) -> None:
        with lock:
            seen.append((path, query))

    store.on_request = hook
    before = store.request_count

    def read(page: int) -> int:
        response = api(store).get("orders", params={"per_page": 50, "page": page})
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(read, p) for p in range(1, 13)]
        for _ in range(20):
            store.create_order()
        assert [f.result() for f in futures] == [200] * 12
    assert store.request_count - before == 12
    assert {path for path, _ in seen} == {"/wp-json/wc/v3/orders"}
    assert all("oauth_signature" not in q and q["per_page"] == "50" for _, q in seen)
    ids = [o["id"] for o in all_orders(store)]
    assert len(ids) == len(set(ids)) == store.data.order_count


# ----------------------------------------------------------------------------- server


def test_date_header_is_the_store_clock(base_data: StoreData) -> None:
    with SampleStore(data=base_data.copy(), now=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)) as s:
        date = parsedate_to_datetime(api(s).get("orders").headers["Date"])
    assert abs(date - datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)) < timedelta(seconds=30)


def test_keep_alive_and_clean_shutdown(base_data: StoreData) -> None:
    store = SampleStore(data=base_data.copy()).start()
    with requests.Session() as session:
        for _ in range(3):
            url = signed_url(store, "orders", per_page=1)
            assert session.get(url).status_code == 200
        store.stop()  # with the session's connection still open
        store.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{store.url}/wp-json/", timeout=2)


def test_serve_forever_blocks_until_stopped(base_data: StoreData) -> None:
    store = SampleStore(data=base_data.copy())
    thread = threading.Thread(target=serve_forever, args=(store,))
    thread.start()
    deadline = time.monotonic() + 5
    while not store.url and time.monotonic() < deadline:
        time.sleep(0.01)
    assert requests.get(f"{store.url}/wp-json/wc/v3").status_code == 200
    store.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SampleStore(orders=1, host="0.0.0.0")


def test_validation_errors_name_the_parameter(store: SampleStore) -> None:
    client = api(store)
    bad = client.get("orders", params={"status": "shipped", "orderby": "price"}).json()
    assert bad["code"] == "rest_invalid_param"
    assert set(bad["data"]["params"]) == {"status", "orderby"}
    assert bad["data"]["details"]["status"]["code"] == "rest_not_in_enum"
    missing = client.post("coupons", {"amount": "5"}).json()
    assert missing == {
        "code": "rest_missing_callback_param",
        "message": "Missing parameter(s): code",
        "data": {"status": 400, "params": ["code"]},
    }
    float_money = client.post("coupons", {"code": "f", "amount": 5.5}).json()
    assert float_money["data"]["params"] == {"amount": "amount is not of type string."}


def test_woocommerce_before_5_8_ignores_modified_after(base_data: StoreData) -> None:
    params = {"modified_after": "2100-01-01T00:00:00", "dates_are_gmt": "true"}
    with SampleStore(data=base_data.copy(), wc_version="5.5.2") as old:
        everything = api(old).get("orders", params=params)
        assert everything.headers["X-WP-Total"] == str(base_data.order_count)
        assert api(old).get("system_status").json()["environment"]["version"] == "5.5.2"
    with SampleStore(data=base_data.copy()) as new:
        assert api(new).get("orders", params=params).headers["X-WP-Total"] == "0"


def test_head_requests_get_headers_only(store: SampleStore) -> None:
    response = requests.head(signed_url(store, "orders", per_page=2))
    assert response.status_code == 200 and response.content == b""
    assert response.headers["X-WP-Total"] == str(store.data.order_count)
