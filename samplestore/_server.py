"""``SampleStore``: the sample WooCommerce store served over real HTTP on loopback.

A ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1 keep-alive) in front
of ``_api.Api``. Per request, in order: count it, call ``on_request``, wait ``latency_ms``,
apply a due fault, answer. The store keeps its own clock, which starts at ``now`` (the
instant the history was generated for) and ticks in real time: the ``Date`` header, new
and modified orders and coupons use it. OAuth timestamps are checked against the real
clock, since clients sign with it.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import json
import secrets
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from samplestore._api import Api, Request, Response
from samplestore._data import StoreData, from_epoch, to_epoch
from samplestore._faults import LIST_FAULTS, Fault, FaultSchedule
from samplestore._generator import generate_store
from samplestore._oauth import ApiKey, KeyRing, flatten, parse_php_query
from samplestore._pages import (
    DATABASE_ERROR_PAGE,
    LOGIN_PAGE,
    MAINTENANCE_PAGE,
    gateway_page,
)
from samplestore._render import Site, wp_json
from samplestore._webhooks import DeliveryLog, WebhookHub

#: Bodies above this go out chunked, as Apache + PHP send full list pages.
CHUNK = 8192
_HIDDEN_PARAMS = ("oauth_", "consumer_")


def _random_key(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(20)}"


class SampleStore:
    """A WooCommerce 8.2 store with a generated history, on ``http://127.0.0.1:<port>``.

    Use it as a context manager (``with SampleStore(orders=500) as store:``), or call
    ``start()`` and ``stop()``. Attributes: ``url`` (set by ``start``), ``consumer_key`` /
    ``consumer_secret`` (read/write), ``readonly_key`` / ``readonly_secret`` (read),
    ``data`` (the live ``StoreData``), ``request_count``, ``on_request``.

    Beyond the common knobs: ``allow_basic_over_http`` makes Basic auth and
    ``consumer_key``/``consumer_secret`` query parameters count as if the request came over
    HTTPS (WooCommerce ignores them over plain HTTP); ``unstable_ties`` makes rows that share
    a ``date_created`` / ``date_modified`` come back in a per-page order, as MySQL may, so
    paging by date duplicates or skips them; ``access_log`` receives one line per request.
    """

    def __init__(
        self,
        *,
        orders: int = 500,
        customers: int | None = None,
        seed: int = 1,
        currency: str = "USD",
        timezone: str = "UTC",
        latency_ms: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        data: StoreData | None = None,
        wc_version: str = "8.2.2",
        now: datetime | None = None,
        allow_basic_over_http: bool = False,
        unstable_ties: bool = False,
        access_log: Callable[[str], None] | None = None,
        deliver_webhooks: bool = True,
    ) -> None:
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the sample store serves on loopback only, not on {host!r}")
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)  # fail here, not on the first request, for an unknown zone
        if data is None:
            data = generate_store(
                orders=orders,
                customers=customers,
                seed=seed,
                currency=currency,
                now=now or datetime.now(UTC),
            )
        self.data = data
        self.timezone = timezone
        self.latency_ms = latency_ms
        self.host, self.port = host, port
        self.wc_version = wc_version
        self.consumer_key = consumer_key or _random_key("ck")
        self.consumer_secret = consumer_secret or _random_key("cs")
        self.readonly_key = _random_key("ck")
        self.readonly_secret = _random_key("cs")
        self.allow_basic_over_http = allow_basic_over_http
        self.unstable_ties = unstable_ties
        self.access_log = access_log
        #: Called with (path, query) before each request is answered; the query is folded
        #: (one value per name, arrays comma-joined) and has no ``oauth_*`` / ``consumer_*``.
        self.on_request: Callable[[str, dict[str, str]], None] | None = None
        #: Exceptions raised while answering (hook or server bugs); ``stop`` re-raises.
        self.errors: list[BaseException] = []
        self.url = ""
        self._keys = KeyRing(
            [
                ApiKey(self.consumer_key, self.consumer_secret, "read_write"),
                ApiKey(self.readonly_key, self.readonly_secret, "read"),
            ]
        )
        self._faults = FaultSchedule()
        self._count = 0
        self._count_lock = threading.Lock()
        self._clock_base = data.generated_at if now is None else to_epoch(now)
        self._clock_start = time.monotonic()
        self._clock_shift = 0.0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.api: Api | None = None
        #: Deliveries are made right after each change (True), or by ``run_webhooks()``.
        self.deliver_webhooks = deliver_webhooks
        self.webhooks: WebhookHub | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Bind (a free port when ``port`` is 0) and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler, self)
        self._server = server
        bound = server.server_address[1]
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown_host}:{bound}"
        self.port = bound
        self.api = Api(
            self.data,
            Site(self.url, self.timezone, self.wc_version),
            self._keys,
            allow_basic_over_http=self.allow_basic_over_http,
            unstable_ties=self.unstable_ties,
        )
        self.webhooks = WebhookHub(
            self.data, self.api.site, self._epoch_now, automatic=self.deliver_webhooks
        )
        self.api.webhooks = self.webhooks
        self.data.listener = self.webhooks.on_event
        self.webhooks.start()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sample-store:{bound}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and free the port. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes requests sleeping in latency or a timeout fault
        if self.webhooks is not None:
            self.webhooks.stop()
            self.data.listener = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.errors:
            first = self.errors[0]
            raise RuntimeError(
                f"the sample store failed on {len(self.errors)} request(s); first: {first!r}"
            ) from first

    # ------------------------------------------------------------------ clock & counters

    def now(self) -> datetime:
        """The store's clock: ``now`` at construction, ticking in real time."""
        return from_epoch(self._epoch_now())

    def _epoch_now(self) -> int:
        return int(self._clock_base + time.monotonic() - self._clock_start + self._clock_shift)

    def advance_clock(self, delta: timedelta | float) -> None:
        """Move the store's clock forward (seconds or a timedelta)."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        self._clock_shift += seconds

    @property
    def request_count(self) -> int:
        """Requests received so far (faulted ones included)."""
        with self._count_lock:
            return self._count

    def _counted(self) -> None:
        with self._count_lock:
            self._count += 1

    # ------------------------------------------------------------------ faults

    def add_fault(self, fault: Fault) -> None:
        """Append a fault to the schedule (see ``Fault``)."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> list[Fault]:
        return self._faults.pending()

    # ------------------------------------------------------------------ mutators

    def create_order(self, **overrides: Any) -> int:
        """A new order with the next id (see ``StoreData.create_order``); returns its id."""
        return self.data.create_order(self._epoch_now(), **overrides)

    def modify_order(self, order_id: int, **changes: Any) -> None:
        """E.g. ``status="cancelled"``, ``refund=Decimal("5.00")``; bumps date_modified."""
        self.data.modify_order(self._epoch_now(), order_id, **changes)

    def delete_order(self, order_id: int) -> None:
        """Trash an order: gone from listings, still readable by id (status ``trash``)."""
        self.data.delete_order(self._epoch_now(), order_id)

    def restore_order(self, order_id: int) -> None:
        """Take a trashed order back to its earlier status (fires ``order.restored``)."""
        self.data.restore_order(self._epoch_now(), order_id)

    def create_customer(self, **overrides: Any) -> int:
        return self.data.create_customer(self._epoch_now(), **overrides)

    def modify_customer(self, customer_id: int, **changes: Any) -> None:
        self.data.modify_customer(self._epoch_now(), customer_id, **changes)

    def delete_customer(self, customer_id: int) -> None:
        """Delete an account; its orders become ``customer_id`` 0 and are bumped."""
        self.data.delete_customer(self._epoch_now(), customer_id)

    # ------------------------------------------------------------------ webhooks

    def run_webhooks(self) -> list[DeliveryLog]:
        """Make the queued webhook deliveries now, in order (``deliver_webhooks=False``);
        returns what was sent."""
        assert self.webhooks is not None, "start the store first"
        return self.webhooks.run()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has been made (automatic delivery)."""
        assert self.webhooks is not None, "start the store first"
        return self.webhooks.wait_idle(timeout)

    def __repr__(self) -> str:
        return f"SampleStore(url={self.url!r}, orders={self.data.order_count})"


def serve_forever(store: SampleStore) -> None:
    """Start the store if needed and block until Ctrl-C (or ``store.stop()`` elsewhere)."""
    store.start()
    try:
        while store._server is not None:
            store._stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        store.stop()


# ----------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], store: SampleStore
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self.store = store
        self.connections: dict[socket.socket, threading.Thread] = {}
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is business as usual here.
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        if error is not None:
            self.store.errors.append(error)

    def close_connections(self) -> None:
        """Shut down open keep-alive connections so their threads end, and wait for them."""
        with self.connections_lock:
            open_ = list(self.connections.items())
        for conn, _ in open_:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _, thread in open_:
            if thread is not threading.current_thread():
                thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache/2.4.71 (Debian)"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection is closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections[self.connection] = threading.current_thread()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.pop(self.connection, None)

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header tells the store's clock, which a sync uses as "now".
        return email.utils.formatdate(self.server.store._epoch_now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet; see access_log

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # ------------------------------------------------------------------ one request

    def _serve(self) -> None:
        store = self.server.store
        store._counted()
        raw_path, _, raw_query = self.path.partition("?")
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        body = self._read_body()
        hook = store.on_request
        folded = {
            k: flatten(v)
            for k, v in parse_php_query(pairs).items()
            if not k.startswith(_HIDDEN_PARAMS)
        }
        if hook is not None:
            try:
                hook(raw_path, folded)
            except Exception as exc:
                store.errors.append(exc)
                self._send(Response(500, b"on_request hook failed", [], "text/plain"))
                return
        if store.latency_ms > 0 and store._stopping.wait(store.latency_ms / 1000):
            self._reset()
            return
        fault = store._faults.take(raw_path, folded)
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind == "timeout":
            if store._stopping.wait(fault.delay_s):
                self._reset()
                return
            fault = None
        if fault is not None and fault.kind in ("status", "retry_after", "html200"):
            self._send(_fault_response(fault, store))
            return
        assert store.api is not None
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, raw_path, pairs, headers, body)
        try:
            response = store.api.handle(request, store._epoch_now())
        except Exception as exc:  # a bug of ours: answer like PHP's fatal error, remember it
            store.errors.append(exc)
            response = Response(500, DATABASE_ERROR_PAGE.encode(), [], "text/html; charset=UTF-8")
        if fault is not None and fault.kind == "truncated":
            response.body = response.body[: len(response.body) // 2]
            self._send(response, chunked=False)
            return
        if fault is not None and fault.kind in LIST_FAULTS:
            response.body = _altered_list(fault, response.body)
        self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _reset(self) -> None:
        """Close the connection with a TCP reset, answering nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send(self, response: Response, *, chunked: bool | None = None) -> None:
        store = self.server.store
        body = response.body
        if chunked is None:
            chunked = len(body) > CHUNK and self.request_version == "HTTP/1.1"
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", response.content_type)
        if self.close_connection:
            self.send_header("Connection", "close")
        else:
            self.send_header("Keep-Alive", "timeout=5, max=100")
            self.send_header("Connection", "Keep-Alive")
        self.end_headers()
        if self.command != "HEAD":
            if chunked:
                for i in range(0, len(body), CHUNK):
                    piece = body[i : i + CHUNK]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        if store.access_log is not None:
            store.access_log(
                f"{self.client_address[0]} - - [{self.log_date_time_string()}] "
                f'"{self.command} {_redacted(self.path)} {self.request_version}" '
                f"{response.status} {len(body)}"
            )


def _redacted(path: str) -> str:
    """The request path with OAuth material and keys blanked, for logs."""
    raw_path, _, query = path.partition("?")
    if not query:
        return raw_path
    parts = []
    for part in query.split("&"):
        name = part.split("=", 1)[0]
        parts.append(f"{name}=***" if name.startswith(_HIDDEN_PARAMS) else part)
    return f"{raw_path}?{'&'.join(parts)}"


def _altered_list(fault: Fault, body: bytes) -> bytes:
    """A list answer as a list fault leaves it (see ``Fault``); other answers unchanged."""
    try:
        items = json.loads(body)
    except ValueError:
        return body
    if not isinstance(items, list):
        return body
    if fault.kind == "empty_page":
        items = []
    elif fault.kind == "drop_record" and items:
        del items[len(items) // 2 if fault.index is None else fault.index]
    elif fault.kind == "repeat_ids" and len(items) > 1:
        half = items[: len(items) // 2]
        items = half + half + items[2 * len(half) :]
    return wp_json(items)


def _fault_response(fault: Fault, store: SampleStore) -> Response:
    """What a misbehaving host answers (see ``Fault``)."""
    html = "text/html; charset=UTF-8"
    if fault.kind == "html200":
        headers = [
            ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
            ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
            ("X-Frame-Options", "SAMEORIGIN"),
        ]
        return Response(200, LOGIN_PAGE.encode(), headers, html)
    status = 429 if fault.kind == "retry_after" else fault.status
    retry = fault.retry_after if fault.retry_after is not None else (1.0 if status == 429 else None)
    extra: list[tuple[str, str]] = []
    if retry is not None and (fault.kind == "retry_after" or fault.retry_after is not None):
        extra.append(
            ("Retry-After", str(int(retry)) if float(retry).is_integer() else f"{retry:g}")
        )
    if status == 500:
        headers = [
            ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
            ("Cache-Control", "no-cache, must-revalidate, max-age=0"),
            *extra,
        ]
        return Response(500, DATABASE_ERROR_PAGE.encode(), headers, html)
    if status == 503:
        return Response(503, MAINTENANCE_PAGE.encode(), extra, html)
    if status >= 500:
        reason = BaseHTTPRequestHandler.responses.get(status, ("Error",))[0]
        return Response(status, gateway_page(status, reason).encode(), extra, html)
    assert store.api is not None
    if status == 429:
        body = {
            "code": "woocommerce_rest_too_many_requests",
            "message": "Too many requests. Please wait and try again.",
            "data": {"status": 429},
        }
    else:
        body = {
            "code": "sample_store_fault",
            "message": f"A fault injected by the sample store (HTTP {status}).",
            "data": {"status": status},
        }
    return Response(status, wp_json(body), store.api.wp_headers(authenticated=False) + extra)
