"""Webhooks, the way WooCommerce 8.2 delivers them (tests/fixtures/woocommerce/webhooks).

* ``POST /webhooks`` creates a webhook and pings its delivery URL at once (form body
  ``webhook_id=N``, no signature); a ping answered other than 200 leaves
  ``pending_delivery`` set, and the webhook pings again after its next delivery.
* A change (an order created, updated, trashed or restored; an account created or updated;
  a coupon written) queues one delivery per active webhook of that topic — unless one for
  the same webhook and resource is still queued (coalescing). The body is built when the
  delivery is made, not when the event happened: a late delivery shows later state.
* A delivery is a POST with WooCommerce's headers (``X-WC-Webhook-*``, the base64
  HMAC-SHA256 signature of the raw body, a Delivery-ID that repeats within a second) and the
  resource's REST JSON, ``json_encode``-style. 2xx, 301 and 302 count as success. No retry:
  each failure adds one to ``failure_count``; a failure with the count already above 5
  disables the webhook (the count stays 6, later events are not queued); a success resets
  it. Re-activating keeps the count.
* Deliveries run in order on one background thread, right after the event (as Action
  Scheduler's async runner would), or — ``deliver_webhooks=False`` — when the test says so
  (``SampleStore.run_webhooks()``).

Also here: ``customers/batch`` (updates only: ``meta_data`` of each customer, at most 100
items, a per-item error for an unknown id), which is how Bazgasht pushes loyalty states.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from samplestore._data import StoreData
from samplestore._render import (
    Site,
    gmt,
    local,
    render_coupon,
    render_customer,
    render_order,
    wp_json,
)

if TYPE_CHECKING:
    from samplestore._api import Api, Call, Response

USER_AGENT = "WooCommerce/8.2.2 Hookshot (WordPress/6.4.1)"
#: ``WC_Webhook::get_topic_hooks`` of 8.2 (as the recorded REST answers list them).
HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "customer.created": [
        "user_register",
        "woocommerce_created_customer",
        "woocommerce_new_customer",
    ],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
}
STATUSES = ("active", "paused", "disabled")
#: A failure with ``failure_count`` above this disables the webhook.
MAX_FAILURES = 5
BATCH_LIMIT = 100


@dataclass
class WebhookRecord:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str = field(repr=False)
    status: str
    created: int
    modified: int | None = None
    failure_count: int = 0
    pending_delivery: bool = False


@dataclass(frozen=True)
class DeliveryLog:
    """One POST the store made (deliveries and pings), for tests to look at."""

    webhook_id: int
    topic: str  #: "ping" for a ping
    resource_id: int | None
    delivery_id: str
    status: int | None  #: the receiver's HTTP status, None when it could not be reached
    body: bytes
    headers: tuple[tuple[str, str], ...]


def render_webhook(site: Site, hook: WebhookRecord) -> dict[str, Any]:
    resource, event = hook.topic.split(".", 1)
    return {
        "id": hook.id,
        "name": hook.name,
        "status": hook.status,
        "topic": hook.topic,
        "resource": resource,
        "event": event,
        "hooks": HOOKS.get(hook.topic, []),
        "delivery_url": hook.delivery_url,
        "date_created": local(site, hook.created),
        "date_created_gmt": gmt(hook.created),
        "date_modified": local(site, hook.modified) if hook.modified else None,
        "date_modified_gmt": gmt(hook.modified) if hook.modified else None,
        "_links": {
            "self": [{"href": f"{site.api}/webhooks/{hook.id}"}],
            "collection": [{"href": f"{site.api}/webhooks"}],
        },
    }


class WebhookHub:
    """The store's webhooks, their queue and their deliveries."""

    def __init__(
        self, data: StoreData, site: Site, clock: Callable[[], int], *, automatic: bool
    ) -> None:
        self.data = data
        self.site = site
        self.clock = clock
        self.automatic = automatic
        self.hooks: dict[int, WebhookRecord] = {}
        self.next_id = 1
        #: (webhook id, resource id) → topic, in the order queued.
        self._queue: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._stopping = False
        self._busy = False
        self.log: list[DeliveryLog] = []
        self._thread: threading.Thread | None = None
        self._salt = hashlib.sha256(f"{data.seed}-webhooks".encode()).hexdigest()

    # ---------------------------------------------------------------- queue

    def on_event(self, resource: str, event: str, object_id: int) -> None:
        """``StoreData.listener``: queue a delivery per active webhook of the topic."""
        topic = f"{resource}.{event}"
        with self._lock:
            for hook in self.hooks.values():
                if hook.topic == topic and hook.status == "active":
                    key = (hook.id, object_id)
                    if key not in self._queue:  # still queued: coalesced
                        self._queue[key] = topic
            if self._queue:
                self._ready.notify_all()

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def run(self) -> list[DeliveryLog]:
        """Make every queued delivery now, in order; returns what was sent."""
        sent: list[DeliveryLog] = []
        while True:
            with self._lock:
                if not self._queue:
                    return sent
                (hook_id, object_id), topic = self._queue.popitem(last=False)
                self._busy = True
            try:
                entry = self._deliver(hook_id, topic, object_id)
            finally:
                with self._lock:
                    self._busy = False
                    self._ready.notify_all()
            if entry is not None:
                sent.append(entry)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being delivered (automatic mode)."""
        with self._lock:
            return self._ready.wait_for(lambda: not self._queue and not self._busy, timeout)

    def start(self) -> None:
        if not self.automatic or self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(
            target=self._loop, name="sample-store-webhooks", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._ready.wait_for(lambda: self._stopping or bool(self._queue))
                if self._stopping:
                    return
            self.run()

    # ---------------------------------------------------------------- delivery

    def _body(self, topic: str, object_id: int) -> bytes | None:
        """The resource's REST JSON now (``None``: nothing to send any more)."""
        resource, event = topic.split(".", 1)
        data = self.data
        with data.lock:
            if event == "deleted":
                return wp_json({"id": object_id})
            if resource == "order":
                row = data.order_row(object_id)
                if row is None or row in data.purged:
                    return None
                return wp_json(render_order(data, self.site, row))
            if resource == "customer":
                crow = data.customer_row(object_id)
                return None if crow is None else wp_json(render_customer(data, self.site, crow))
            if resource == "coupon":
                coupon = data.coupons.get(object_id)
                if coupon is None or coupon.status == "deleted":
                    return None
                return wp_json(render_coupon(self.site, coupon))
        return None

    def _delivery_id(self, hook_id: int, now: int) -> str:
        """``wp_hash(webhook_id . time())``: two deliveries in one second share it."""
        return hmac.new(self._salt.encode(), f"{hook_id}{now}".encode(), "md5").hexdigest()

    def _deliver(self, hook_id: int, topic: str, object_id: int) -> DeliveryLog | None:
        with self._lock:
            hook = self.hooks.get(hook_id)
            if hook is None or hook.status != "active":
                return None
            url, secret = hook.delivery_url, hook.secret
        body = self._body(topic, object_id)
        if body is None:
            return None
        resource, event = topic.split(".", 1)
        now = self.clock()
        delivery_id = self._delivery_id(hook_id, now)
        signature = base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode()
        parts = urlsplit(url)
        headers = [
            ("Host", parts.netloc),
            ("User-Agent", USER_AGENT),
            ("Accept", "*/*"),
            ("Accept-Encoding", "deflate, gzip, br, zstd"),
            ("Content-Type", "application/json"),
            ("X-WC-Webhook-Source", f"{self.site.url}/"),
            ("X-WC-Webhook-Topic", topic),
            ("X-WC-Webhook-Resource", resource),
            ("X-WC-Webhook-Event", event),
            ("X-WC-Webhook-Signature", signature),
            ("X-WC-Webhook-ID", str(hook_id)),
            ("X-WC-Webhook-Delivery-ID", delivery_id),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
        ]
        status = _post(url, headers, body)
        entry = DeliveryLog(hook_id, topic, object_id, delivery_id, status, body, tuple(headers))
        ping_again = False
        with self._lock:
            self.log.append(entry)
            hook = self.hooks.get(hook_id)
            if hook is not None:
                if status is not None and (200 <= status < 300 or status in (301, 302)):
                    hook.failure_count = 0
                    ping_again = hook.pending_delivery
                elif hook.failure_count > MAX_FAILURES:
                    hook.status = "disabled"
                else:
                    hook.failure_count += 1
        if ping_again:
            self.ping(hook_id)
        return entry

    def ping(self, hook_id: int) -> DeliveryLog | None:
        """The ping a webhook's save sends: ``webhook_id=N``, form-encoded, unsigned."""
        with self._lock:
            hook = self.hooks.get(hook_id)
            if hook is None:
                return None
            url = hook.delivery_url
        body = urlencode({"webhook_id": hook_id}).encode()
        parts = urlsplit(url)
        headers = [
            ("Host", parts.netloc),
            ("User-Agent", USER_AGENT),
            ("Accept", "*/*"),
            ("Accept-Encoding", "deflate, gzip, br, zstd"),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        status = _post(url, headers, body)
        entry = DeliveryLog(hook_id, "ping", None, "", status, body, tuple(headers))
        with self._lock:
            self.log.append(entry)
            hook = self.hooks.get(hook_id)
            if hook is not None:
                hook.pending_delivery = status != 200
        return entry


def _post(url: str, headers: list[tuple[str, str]], body: bytes) -> int | None:
    """POST exactly these headers and bytes; the status, or None if nothing answered."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = factory(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.putrequest("POST", target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


# ----------------------------------------------------------------------------- REST


def _hub(api: Api) -> WebhookHub:
    from samplestore._api import ApiError

    if api.webhooks is None:
        raise ApiError(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )
    return api.webhooks


def _hook(api: Api, call: Call) -> WebhookRecord:
    from samplestore._api import ApiError

    hook = _hub(api).hooks.get(int(call.match["id"]))
    if hook is None:
        raise ApiError(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
    return hook


def _apply_fields(api: Api, hook: WebhookRecord, args: dict[str, Any]) -> None:
    from samplestore._api import ApiError

    if "topic" in args:
        if args["topic"] not in HOOKS:
            raise ApiError(
                400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic must be valid."
            )
        hook.topic = args["topic"]
    if "delivery_url" in args:
        url = str(args["delivery_url"])
        if urlsplit(url).scheme not in ("http", "https"):
            raise ApiError(
                400,
                "woocommerce_rest_webhook_invalid_delivery_url",
                "Webhook delivery URL must be valid.",
            )
        hook.delivery_url = url
    if "secret" in args:
        hook.secret = str(args["secret"])
    if "name" in args:
        hook.name = str(args["name"])
    if "status" in args:
        if args["status"] not in STATUSES:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status")
        hook.status = args["status"]


def list_webhooks(api: Api, call: Call) -> Response:
    hub = _hub(api)
    status = call.args.get("status", "all")
    hooks = [h for h in sorted(hub.hooks.values(), key=lambda h: h.id, reverse=True)]
    if status != "all":
        hooks = [h for h in hooks if h.status == status]
    per_page = int(call.args.get("per_page", 10))
    page = int(call.args.get("page", 1))
    items = [render_webhook(api.site, h) for h in hooks[(page - 1) * per_page : page * per_page]]
    return api.paged(call, "webhooks", items, len(hooks))


def create_webhook(api: Api, call: Call) -> Response:
    hub = _hub(api)
    with hub._lock:
        hook = WebhookRecord(
            id=hub.next_id,
            name="",
            topic="",
            delivery_url="",
            secret="",
            status="active",
            created=call.now,
        )
        _apply_fields(api, hook, call.args)
        if not hook.name:
            hook.name = f"Webhook created on {gmt(call.now)}"
        hub.next_id += 1
        hub.hooks[hook.id] = hook
    answer = render_webhook(api.site, hook)  # prepared before the ping saves it (recorded)
    hub.ping(hook.id)
    with hub._lock:
        hook.modified = call.now
    location = f"{api.site.api}/webhooks/{hook.id}"
    return api.ok(answer, status=201, location=location)


def get_webhook(api: Api, call: Call) -> Response:
    return api.ok(render_webhook(api.site, _hook(api, call)))


def update_webhook(api: Api, call: Call) -> Response:
    hub = _hub(api)
    hook = _hook(api, call)
    with hub._lock:
        _apply_fields(api, hook, call.args)
        hook.modified = call.now
    return api.ok(render_webhook(api.site, hook))


def delete_webhook(api: Api, call: Call) -> Response:
    from samplestore._api import ApiError

    hub = _hub(api)
    hook = _hook(api, call)
    if not call.args.get("force"):
        raise ApiError(
            501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."
        )
    with hub._lock:
        hub.hooks.pop(hook.id, None)
    return api.ok(render_webhook(api.site, hook))


def batch_customers(api: Api, call: Call) -> Response:
    """``POST customers/batch``: ``update`` items with ``meta_data`` (and only that)."""
    from samplestore._api import ApiError

    body = call.body
    items = {name: body.get(name) or [] for name in ("create", "update", "delete")}
    if sum(len(v) if isinstance(v, list) else 1 for v in items.values()) > BATCH_LIMIT:
        raise ApiError(
            413,
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
        )
    answer: dict[str, list[Any]] = {}
    updated: list[Any] = []
    for item in items["update"] if isinstance(items["update"], list) else []:
        wanted = item.get("id") if isinstance(item, dict) else None
        crow = api.data.customer_row(int(wanted)) if isinstance(wanted, int) else None
        if crow is None:
            updated.append(
                {
                    "id": wanted if isinstance(wanted, int) else 0,
                    "error": {
                        "code": "woocommerce_rest_invalid_id",
                        "message": "Invalid resource ID.",
                        "data": {"status": 400},
                    },
                }
            )
            continue
        meta = item.get("meta_data")
        if isinstance(meta, list):
            api.data.update_customer_meta(call.now, int(wanted), meta)  # type: ignore[arg-type]
        updated.append(render_customer(api.data, api.site, crow))
    if items["update"]:
        answer["update"] = updated
    for name in ("create", "delete"):
        if items[name]:
            answer[name] = [
                {
                    "id": 0,
                    "error": {
                        "code": "sample_store_not_implemented",
                        "message": f"The sample store does not implement batch {name}.",
                        "data": {"status": 501},
                    },
                }
                for _ in items[name]
            ]
    return api.ok(answer)


__all__ = [
    "DeliveryLog",
    "WebhookHub",
    "WebhookRecord",
    "batch_customers",
    "create_webhook",
    "delete_webhook",
    "get_webhook",
    "list_webhooks",
    "render_webhook",
    "update_webhook",
]
