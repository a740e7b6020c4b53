"""The HTTP client of one WooCommerce store: auth, a pooled session, timeouts, retries, and the
translation of everything that can go wrong into the exceptions of ``connector._errors``.

* https → HTTP Basic with the consumer key and secret (or, with ``query_string_auth``, the
  keys as query parameters, for hosts that drop the ``Authorization`` header).
* plain http → OAuth 1.0a one-legged: the full URL, query included, is signed with the
  ``woocommerce`` package's ``OAuth`` and sent as is; the secret itself never leaves.
  Every attempt, retries included, gets a fresh timestamp and nonce.
* Retries live in one loop (``WooClient._send``): connection errors, timeouts, bodies cut by
  the network, 429 and 500/502/503/504, and a 2xx whose body is not what was asked for (an
  HTML login page, JSON cut short or undecodable, the wrong content type, an object where a
  list was expected) — with capped exponential backoff, jitter and ``Retry-After``. Other 4xx
  and redirects fail at once.
* ``_interpret_response`` is the one place where status, headers and body become a result or
  an exception. See docs/connector.md for what the shop owner should do about each.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.client
import json as jsonlib
import logging
import math
import random
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote, urlencode, urlsplit

import requests
import urllib3.exceptions
from pydantic_core import from_json
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from woocommerce.oauth import OAuth

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
    redact_url,
)

log = logging.getLogger("bazgasht.connector")

USER_AGENT = "Bazgasht/0.1"
API_PREFIX = "wp-json/wc/v3/"
#: Statuses worth another attempt; every other 4xx/5xx fails at once. (A 2xx whose body is
#: not the JSON asked for is retried too: see ``WooClient._send``.)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: We never wait longer than this for one retry. A store asking for more (WordPress'
#: maintenance mode says 600 s) gets no early retry: the run gives up and the next one tries.
MAX_RETRY_AFTER = 120.0

AuthMode = Literal["oauth", "basic", "query"]

# Credentials or OAuth material inside any text (a URL in a log line, an echoing error page).
_SECRET_PARAM_IN_TEXT = re.compile(
    r"((?:consumer_key|consumer_secret|oauth_[a-z_]+)=)[^&\s\"'<>]*", re.IGNORECASE
)


def full_jitter(delay: float) -> float:
    """AWS-style "full jitter": a uniformly random wait in [0, delay]."""
    return random.uniform(0.0, delay)


@dataclass(frozen=True)
class StoreCredentials:
    """Where a store is and the REST API key to use. The secret stays out of ``repr``."""

    name: str
    url: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    query_string_auth: bool = False
    verify_tls: bool = True


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint, raw: records are validated later, one by one."""

    items: list[dict[str, Any]]
    #: ``X-WP-Total``; None when absent or not a number. Never trust it on a page past the end.
    total: int | None
    #: ``X-WP-TotalPages``.
    total_pages: int | None
    #: The response's ``Date`` header, aware UTC: the store's own clock.
    server_date: datetime | None


class _OAuth(OAuth):  # type: ignore[misc]  # the woocommerce package has no type hints
    """The official signer with two fixes that matter on a real store.

    * Nonce: the package draws 8 random digits (10^8 values) and WooCommerce refuses (401) a
      nonce it has seen in the last 15 minutes, so a long sync could be refused by bad luck.
      We use 128 random bits.
    * Normalization: WooCommerce encodes each key and value with PHP's ``rawurlencode``
      (everything but ``A-Za-z0-9-_.~``). The package uses ``quote`` (which leaves ``/``
      alone) after an extra ``unquote``, so a value with ``/`` or ``%`` got a signature the
      store rejects. ``parse_qsl`` has already decoded the values once, as PHP does.
    """

    @staticmethod
    def generate_nonce() -> str:
        return secrets.token_hex(16)

    @staticmethod
    def normalize_parameters(params: Mapping[str, Any]) -> dict[str, str]:
        def encode(text: str) -> str:
            return quote(text, safe="").replace("%", "%25")

        return {encode(str(key)): encode(str(value)) for key, value in params.items()}


# --------------------------------------------------------------------------- small parsers


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait per ``Retry-After`` (delta-seconds or an HTTP-date), None if absent."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        # Measured against the store's own clock when it sent one: immune to our clock's skew.
        reference = _http_date(headers.get("Date")) or now
        return max(0.0, (when - reference).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def decode_json(body: bytes) -> Any:
    """JSON as ``json.loads`` reads it, about twice as fast on a page of orders.

    pydantic-core's parser (jiter) decodes first: it keeps integers of any size exact, as
    ``json.loads`` does (orjson turns those beyond 64 bits into floats, which would change a
    quarantined payload and an id's validation). What it refuses — a lone surrogate escape,
    a byte order mark — ``json.loads`` decides, so the accepted bodies are exactly the same.
    """
    try:
        return from_json(body)
    except ValueError:
        return jsonlib.loads(body)


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _plain(fragment: str, limit: int = 100) -> str:
    """HTML fragment → one line of plain text, at most ``limit`` characters."""
    text = " ".join(html.unescape(_TAG.sub(" ", fragment)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_html(content_type: str, text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return "html" in content_type.lower() or head.startswith(("<!doctype html", "<html", "<head"))


def _html_title(text: str) -> str:
    found = _TITLE.search(text)
    return _plain(found.group(1)) if found else ""


def _describe_body(content_type: str, body: bytes) -> str:
    """What came back instead of WooCommerce's JSON, in a few words."""
    if not body.strip():
        return "an empty body"
    text = body.decode("utf-8", "replace")
    head = text.lstrip()[:300].lower()
    # PHP prints notices before WordPress sends its headers, so they come as text/html.
    if head.startswith(("<br", "<b>", "notice:", "warning:", "deprecated:", "fatal error:")):
        return "PHP warnings printed before the JSON (turn off WP_DEBUG_DISPLAY)"
    kind = content_type.split(";", 1)[0].strip() or "no Content-Type"
    if not _is_json_type(content_type) and head[:1] in ("[", "{"):
        try:
            jsonlib.loads(body)
        except (ValueError, RecursionError):
            pass
        else:
            return f"JSON labelled {kind} (a cache or plugin changed the Content-Type)"
    if _looks_html(content_type, text):
        title = _html_title(text)
        return f"an HTML page titled {title!r}" if title else "an HTML page without a title"
    if _is_json_type(content_type):
        return f"JSON that does not parse (cut off after {len(body)} bytes?)"
    return f"a body of type {kind} starting {_plain(text, 60)!r}"


def _is_database_down(text: str) -> bool:
    lowered = text.lower()
    return "error establishing a database connection" in lowered or (
        "<title>database error</title>" in lowered
    )


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class _Context:
    """What the mapping needs to know about the request, besides the answer."""

    store: str
    method: str
    url: str  # redacted
    auth: AuthMode | None  # None: sent without credentials
    scrub: Callable[[str], str]


def _wc_error(body: bytes) -> tuple[str | None, str, dict[str, Any]]:
    """WooCommerce's ``{"code", "message", "data"}``, or (None, "", {}) if it is not that."""
    try:
        parsed = jsonlib.loads(body)
    except (ValueError, RecursionError):
        return None, "", {}
    if not isinstance(parsed, dict) or not isinstance(parsed.get("code"), str):
        return None, "", {}
    message = parsed.get("message")
    data = parsed.get("data")
    return (
        parsed["code"],
        _plain(message, 300) if isinstance(message, str) else "",
        data if isinstance(data, dict) else {},
    )


#: Codes of plugins that close the REST API to anyone not logged in to WordPress.
_REST_LOCKED_CODES = frozenset(
    {"rest_forbidden", "rest_cannot_access", "rest_login_required", "rest_not_logged_in"}
)


def _auth_hint(ctx: _Context, code: str | None, message: str) -> str:
    """What to do about a 401/403, from WooCommerce's code and message."""
    lowered = message.lower()
    if "write permission" in lowered:
        return (
            "This key is Read-only. Issuing reward coupons needs Read/Write: in WordPress go to "
            "WooCommerce → Settings → Advanced → REST API, edit the key, set Permissions to "
            "Read/Write."
        )
    if "read permission" in lowered:
        return "This key may not read: give it Read (or Read/Write) permissions in WooCommerce."
    if "consumer key is invalid" in lowered:
        return (
            "The store does not know this consumer key: copy it again (it starts with ck_) "
            "from WooCommerce → Settings → Advanced → REST API, or create a new key there."
        )
    if "signature" in lowered or "consumer secret is invalid" in lowered:
        return (
            "The consumer secret does not match the key: copy the secret (cs_…) again, or "
            "create a new key. Behind a proxy that rewrites URLs, use the store's https:// URL."
        )
    if "timestamp" in lowered or "nonce" in lowered:
        return (
            "The store refused the request's OAuth timestamp: check that this machine's clock "
            "is right (signatures expire after 15 minutes), or use the store's https:// URL."
        )
    if code and code.startswith("woocommerce_rest_cannot_"):
        if ctx.auth == "oauth":
            return (
                "WooCommerce took the request as anonymous or the key's user may not do this. "
                "Over plain http it accepts only OAuth-signed requests and ignores Basic "
                "credentials: check the URL's scheme (use https:// if the store has TLS), and "
                "that the key belongs to an administrator or shop manager."
            )
        if ctx.auth in ("basic", "query"):
            return (
                "WooCommerce saw no usable credentials. The web server may drop the "
                "Authorization header (PHP over CGI/FastCGI: try --query-string-auth), "
                "WordPress may not see the request as HTTPS (a proxy in front must send "
                "X-Forwarded-Proto), or the key's user is neither administrator nor shop manager."
            )
    if code in _REST_LOCKED_CODES:
        return (
            "A plugin restricts the REST API to logged-in users: allow /wp-json/wc/ for API "
            "keys in that plugin's settings."
        )
    return AuthError.hint


def _bad_request_detail(message: str, data: Mapping[str, Any]) -> str:
    """The message with each refused parameter, e.g. ``Invalid parameter(s): per_page —
    per_page: per_page must be between 1 (inclusive) and 100 (inclusive) [rest_out_of_bounds]``.
    """
    details = data.get("details")
    params = data.get("params")
    parts: list[str] = []
    if isinstance(details, dict):
        for name, info in details.items():
            if isinstance(info, dict):
                sub = f" [{info['code']}]" if isinstance(info.get("code"), str) else ""
                parts.append(f"{name}: {_plain(str(info.get('message', '')), 200)}{sub}")
    elif isinstance(params, dict):
        parts = [f"{name}: {_plain(str(text), 200)}" for name, text in params.items()]
    return message + (" — " + "; ".join(parts) if parts else "")


def _redirect_error(ctx: _Context, status: int, headers: Mapping[str, str]) -> StoreError:
    location = redact_url(headers.get("Location", ""))
    wanted = urlsplit(ctx.url)
    target = urlsplit(location)
    if target.path.rstrip("/") == wanted.path.rstrip("/") and target.netloc:
        hint = (
            f"The store moved to {target.scheme}://{target.netloc}: set the store's URL to that "
            "address (`bazgasht store add` again). Redirects are not followed, because OAuth "
            "signatures and Basic credentials do not survive them."
        )
    else:
        hint = (
            "The store sent the API request elsewhere — usually a login, maintenance or "
            "security-plugin page. Allow /wp-json/wc/ through that plugin, or check the URL."
        )
    return InvalidResponseError(
        f"the store redirected the request to {ctx.scrub(location) or 'nowhere'}",
        store=ctx.store,
        url=ctx.url,
        status=status,
        hint=hint,
    )


def _interpret_response(ctx: _Context, status: int, headers: Mapping[str, str], body: bytes) -> Any:
    """The decoded JSON of a good answer; otherwise raise the matching ``StoreError``.

    This is the only place where an HTTP answer becomes a result or an exception.
    """
    content_type = headers.get("Content-Type", "")
    common: dict[str, Any] = {"store": ctx.store, "url": ctx.url, "status": status}

    if 200 <= status < 300:
        if _is_json_type(content_type) and body.strip():
            try:
                return decode_json(body)
            except (ValueError, RecursionError):
                pass  # raised below, outside the handler: no JSONDecodeError (and body) chained
        raise InvalidResponseError(
            f"expected JSON, got {ctx.scrub(_describe_body(content_type, body))}", **common
        )

    if 300 <= status < 400:
        raise _redirect_error(ctx, status, headers)

    code, message, data = _wc_error(body)
    message = ctx.scrub(message)
    if code is None:
        what = ctx.scrub(_describe_body(content_type, body))
        message = f"the store answered HTTP {status} with {what}"
    common["code"] = code

    if status in (401, 403):
        if code is None:
            raise AuthError(
                message,
                hint=(
                    "A firewall or security plugin in front of WordPress (Wordfence, Cloudflare, "
                    "mod_security…) refused the request: allow this machine's address and "
                    "/wp-json/wc/ in it."
                ),
                **common,
            )
        raise AuthError(message, hint=_auth_hint(ctx, code, message), **common)
    if status == 404:
        if code is None or code == "rest_no_route":
            hint = (
                "WooCommerce's REST API is not at this URL. Set the store URL to the site's home "
                "address (without /wp-json), check that WooCommerce is installed and active, and "
                "that Settings → Permalinks is not 'Plain'."
            )
        else:
            hint = "That record does not exist on the store (any more)."
        raise NotFoundError(message, hint=hint, **common)
    if status == 429:
        raise RateLimitedError(message, **common)
    if status >= 500:
        text = body.decode("utf-8", "replace")
        if _is_database_down(text):
            raise ServerError(
                "the store's database is down (WordPress answers 'Error establishing a "
                "database connection')",
                hint=(
                    "The whole site is down for everyone until its MySQL/MariaDB database is "
                    "back: tell the host. The next run will try again."
                ),
                **common,
            )
        if status == 503 and "maintenance" in text.lower():
            raise ServerError(
                "the store is in maintenance mode (WordPress is updating)",
                hint="It usually lasts a minute or two; the next run will try again.",
                **common,
            )
        if code == "internal_server_error":
            message = f"a plugin or theme on the store crashed: {message}"
            raise ServerError(
                message,
                hint=(
                    "WordPress e-mailed its administrator the details of the PHP error. The next "
                    "run will try again."
                ),
                **common,
            )
        if status in (502, 504) and code is None:
            message += " (a proxy in front of the store got no answer from it)"
        raise ServerError(message, **common)
    if status == 400:
        raise BadRequestError(_bad_request_detail(message, data), **common)
    raise BadRequestError(message, **common)


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"()\]\[]+)")
_INCOMPLETE = re.compile(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)")
_POOL_PREFIX = re.compile(r"^\w*ConnectionPool\([^)]*\):\s*")


def _reason(exc: BaseException) -> str:
    """The useful words of a transport error ("Connection refused"), without its URL."""
    text = str(exc)
    found = _ERRNO.findall(text)
    if found:
        return str(found[-1]).strip()
    # Foreign messages often quote the URL; its query may hold credentials or a signature.
    text = _POOL_PREFIX.sub("", re.sub(r"\?\S*", "", text))
    text = text.replace("Max retries exceeded with url: ", "")
    return _plain(text, 200) or type(exc).__name__


def _exception_error(
    ctx: _Context, exc: BaseException, timeout: tuple[float, float]
) -> tuple[StoreError, bool]:
    """A transport failure (requests, urllib3, sockets) as a ``NetworkError``, and whether
    another attempt may help."""
    reason = ctx.scrub(_reason(exc))
    common: dict[str, Any] = {"store": ctx.store, "url": ctx.url}
    if isinstance(exc, requests.exceptions.SSLError):
        if "certificate" in str(exc).lower():
            hint = (
                "Renew or fix the store's certificate. For a test store with a self-signed "
                "certificate, add it again with --no-verify-tls."
            )
            return NetworkError(
                f"the store's TLS certificate is not trusted: {reason}", hint=hint, **common
            ), False
        return NetworkError(f"the TLS connection failed: {reason}", **common), True
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NetworkError(f"connecting timed out after {timeout[0]:g} s", **common), True
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NetworkError(f"the store sent no answer within {timeout[1]:g} s", **common), True
    if isinstance(
        exc,
        requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError
        | http.client.IncompleteRead
        | urllib3.exceptions.ProtocolError,
    ):
        short = _INCOMPLETE.search(str(exc))
        how = f" after {short[1]} bytes, {short[2]} more expected" if short else f": {reason}"
        return NetworkError(f"the answer was cut off on its way{how}", **common), True
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "read timed out" in str(exc).lower():  # a timeout while reading the body
            return NetworkError(f"the store sent no answer within {timeout[1]:g} s", **common), True
        return NetworkError(f"could not connect: {reason}", **common), True
    if isinstance(exc, requests.RequestException):
        # InvalidURL, InvalidHeader and the like: another attempt would fail the same way.
        return NetworkError(
            f"the request could not be sent ({type(exc).__name__}): {reason}", **common
        ), False
    return NetworkError(f"the connection failed ({type(exc).__name__}): {reason}", **common), True


def _gave_up(error: StoreError, attempts: int, extra: str = "") -> StoreError:
    """The same error, saying the retries are spent."""
    tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
    detail = f"{error.detail} (gave up after {tries}{extra})"
    return type(error)(
        detail,
        store=error.store,
        url=error.url,
        status=error.status,
        code=error.code,
        hint=error.hint,
    )


# --------------------------------------------------------------------------- logging


class _RedactQueryFilter(logging.Filter):
    """urllib3 logs request lines, query string included, at DEBUG: strip credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _SECRET_PARAM_IN_TEXT.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PARAM_IN_TEXT.sub(r"\1***", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def _guard_transport_logs() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactQueryFilter) for f in logger.filters):
            logger.addFilter(_RedactQueryFilter())


class Pacer:
    """How many requests a client may have in flight at once, adapted to how the store copes
    (AIMD, as TCP does with its window): at most ``ceiling``; halved when the store says it
    is overloaded (429, 503, a timeout or a dropped connection) or when an answer takes more
    than twice as long as the quickest one seen for its path (plus ``slack``, so that a small
    store's 5 ms answers taking 12 ms is not news); grown back by one per window of answers
    that came at the usual speed. A decrease happens at most once per ``cooldown`` (a burst of
    429s from one overload halves once). Thread-safe; ``now`` is injectable for tests.
    """

    def __init__(
        self,
        ceiling: int,
        *,
        slack: float = 0.25,
        cooldown: float = 1.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(self.ceiling)
        self._slack = slack
        self._cooldown = cooldown
        self._now = now
        self._in_flight = 0
        self._quickest: dict[str, float] = {}
        self._decreased_at = -math.inf
        self._cond = threading.Condition()

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    def acquire(self) -> float:
        """Wait for a slot; returns the start time to hand to ``release``."""
        with self._cond:
            while self._in_flight >= int(self.limit):
                self._cond.wait()
            self._in_flight += 1
        return self._now()

    def release(self, key: str, started: float, *, overloaded: bool = False) -> None:
        """A request ended: ``overloaded`` if the store said so (or did not answer)."""
        elapsed = self._now() - started
        with self._cond:
            self._in_flight -= 1
            quickest = self._quickest.get(key)
            slow = quickest is not None and elapsed > 2 * quickest + self._slack
            if quickest is None or elapsed < quickest:
                self._quickest[key] = elapsed
            if overloaded or slow:
                if self._now() - self._decreased_at >= self._cooldown:
                    self._decreased_at = self._now()
                    self.limit = max(1.0, self.limit / 2)
                    log.info(
                        "the store %s: at most %d requests at once for now",
                        "is overloaded" if overloaded else "answers slowly",
                        int(self.limit),
                    )
            else:
                self.limit = min(float(self.ceiling), self.limit + 1 / self.limit)
            self._cond.notify_all()


# --------------------------------------------------------------------------- the client


class WooClient:
    """A client of one store's ``/wp-json/wc/v3/`` API; safe to share between threads.

    ``path`` arguments are relative to ``/wp-json/wc/v3/`` (``"orders"``,
    ``"orders/789/refunds"``). Every method returns the decoded JSON or raises a
    ``StoreError``; nothing from requests, urllib3 or json escapes.
    """

    def __init__(
        self,
        creds: StoreCredentials,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float], float] = full_jitter,
        pool_size: int = 8,
    ) -> None:
        parts = urlsplit(creds.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"store {creds.name!r}: {redact_url(creds.url)!r} is not a web address; give "
                "the shop's home address, e.g. https://myshop.example"
            )
        if "@" in parts.netloc or parts.query or parts.fragment:
            raise ConfigError(
                f"store {creds.name!r}: the store URL must be just the shop's home address, "
                f"e.g. {parts.scheme}://{parts.hostname}{parts.path} (no login, query or #)"
            )
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._creds = creds
        self.store = creds.name
        base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"
        self._api_base = base + API_PREFIX
        self._site_base = base + "wp-json/"
        self._home = base
        self._auth: AuthMode = (
            "oauth" if parts.scheme == "http" else ("query" if creds.query_string_auth else "basic")
        )
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self._requests_made = 0
        self._pacer: Pacer | None = None
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session
        #: What requests would read from the environment on *every* request (proxies for this
        #: host, ``no_proxy``, a CA bundle from ``REQUESTS_CA_BUNDLE``): read once, here — it
        #: was ~5 % of a sync's CPU. Only for a session of our own. (requests' other use of
        #: the environment, ~/.netrc, only ever applied where no credentials were given.)
        self._ca_bundle: str | bool = True
        if self._own_session and session.trust_env:
            found = session.merge_environment_settings(base, {}, None, True, None)
            session.trust_env = False
            session.proxies.update(found["proxies"] or {})
            self._ca_bundle = found["verify"] if found["verify"] is not None else True
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        secret_forms = [creds.consumer_secret]
        if creds.consumer_secret:
            token = f"{creds.consumer_key}:{creds.consumer_secret}".encode()
            secret_forms.append(base64.b64encode(token).decode())
            secret_forms.append(quote(creds.consumer_secret, safe=""))
        self._secret_forms = tuple(s for s in secret_forms if len(s) >= 4)
        _guard_transport_logs()
        if self._auth == "oauth":
            log.warning(
                "store %r: %s uses plain http, so orders and customers' personal data travel "
                "unencrypted (requests are OAuth-signed; the secret itself is not sent). Use "
                "the https:// address if the store has one.",
                self.store,
                redact_url(base),
            )
        if not creds.verify_tls and parts.scheme == "https":
            # One clear warning of our own instead of urllib3's on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
            log.warning(
                "store %r: TLS certificate checks are off; anyone on the path could read and "
                "alter the traffic.",
                self.store,
            )

    # ---------------------------------------------------------------- public API

    @property
    def base_url(self) -> str:
        """The store's home address as configured, with a trailing slash."""
        return self._home

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries included."""
        with self._lock:
            return self._requests_made

    @contextlib.contextmanager
    def paced(self, max_in_flight: int) -> Iterator[Pacer]:
        """Within the block, at most ``max_in_flight`` requests are in flight at once, fewer
        while the store is overloaded or slows down (``Pacer``). A sync runs in one."""
        pacer = Pacer(max_in_flight)
        previous, self._pacer = self._pacer, pacer
        try:
            yield pacer
        finally:
            self._pacer = previous

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self._call("GET", path, params)[0]

    def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
        """One page of a list endpoint; the body must be a JSON list (else, after the
        retries, ``InvalidResponseError``).

        A page past the end is ``[]`` with totals 0: returned as is.
        """
        body, headers, _ = self._call("GET", path, params, expect_list=True)
        return Page(
            items=body,
            total=_int_header(headers, "X-WP-Total"),
            total_pages=_int_header(headers, "X-WP-TotalPages"),
            server_date=_http_date(headers.get("Date")),
        )

    def post(self, path: str, json: Mapping[str, Any]) -> Any:
        return self._call("POST", path, None, json)[0]

    def put(self, path: str, json: Mapping[str, Any]) -> Any:
        return self._call("PUT", path, None, json)[0]

    def delete(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self._call("DELETE", path, params)[0]

    def site_info(self) -> dict[str, Any]:
        """WordPress' public site index (``/wp-json/``): name, URL, ``timezone_string``,
        ``gmt_offset`` — the timezone WooCommerce's own API does not tell. Sent without
        credentials (WordPress would try them as an application password and fail)."""
        body = self._send(
            "GET",
            self._site_base,
            {"_fields": "name,url,home,gmt_offset,timezone_string"},
            None,
            authenticate=False,
        )[0]
        if not isinstance(body, dict):
            raise InvalidResponseError(
                "expected WordPress' site index (a JSON object)",
                store=self.store,
                url=self._site_base,
                status=200,
            )
        return body

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WooClient(store={self.store!r}, url={redact_url(self._api_base)!r})"

    # ---------------------------------------------------------------- internals

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Mapping[str, Any] | None = None,
        *,
        expect_list: bool = False,
    ) -> tuple[Any, Mapping[str, str], str]:
        if "://" in path or path.startswith("//") or ".." in path.split("/"):
            raise ValueError(f"path must be relative to /wp-json/wc/v3/: {path!r}")
        url = self._api_base + quote(path.lstrip("/"), safe="/")
        return self._send(method, url, params or {}, json, expect_list=expect_list)

    def _scrub(self, text: str) -> str:
        text = _SECRET_PARAM_IN_TEXT.sub(r"\1***", text)
        for secret in self._secret_forms:
            text = text.replace(secret, "***")
        return text

    def _sign(
        self, method: str, url: str, params: Mapping[str, str | int], authenticate: bool
    ) -> tuple[str, HTTPBasicAuth | None]:
        """The URL to send (query included) and the Basic auth, per the store's auth mode."""
        query = [(k, _param(v)) for k, v in params.items()]
        if not authenticate:
            return (f"{url}?{urlencode(query)}" if query else url), None
        if self._auth == "oauth":
            unsigned = f"{url}?{urlencode(query)}" if query else url
            signer = _OAuth(
                url=unsigned,
                consumer_key=self._creds.consumer_key,
                consumer_secret=self._creds.consumer_secret,
                version="wc/v3",
                method=method,
                oauth_timestamp=int(time.time()),
            )
            return str(signer.get_oauth_url()), None
        if self._auth == "query":
            query += [
                ("consumer_key", self._creds.consumer_key),
                ("consumer_secret", self._creds.consumer_secret),
            ]
            return f"{url}?{urlencode(query)}", None
        auth = HTTPBasicAuth(self._creds.consumer_key, self._creds.consumer_secret)
        return (f"{url}?{urlencode(query)}" if query else url), auth

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int],
        json: Mapping[str, Any] | None,
        *,
        authenticate: bool = True,
        expect_list: bool = False,
    ) -> tuple[Any, Mapping[str, str], str]:
        """Send with retries; return (decoded JSON, headers, redacted URL) or raise.

        ``expect_list``: a 2xx whose JSON is not a list is a wrong answer too (retried).
        """
        headers = dict(self._headers)
        data: bytes | None = None
        if json is not None:
            # Decimals (money) go out as WooCommerce's decimal strings, never as floats.
            data = jsonlib.dumps(json, default=_json_default, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        for attempt in range(1, self._max_attempts + 1):
            # A fresh OAuth signature (timestamp + nonce) for every attempt.
            signed_url, auth = self._sign(method, url, params, authenticate)
            shown = redact_url(signed_url)
            ctx = _Context(
                store=self.store,
                method=method,
                url=shown,
                auth=self._auth if authenticate else None,
                scrub=self._scrub,
            )
            response: requests.Response | None = None
            content = b""
            with self._lock:
                self._requests_made += 1
            pacer = self._pacer
            started = pacer.acquire() if pacer is not None else 0.0
            released = pacer is None
            try:
                response = self._session.request(
                    method,
                    signed_url,
                    data=data,
                    auth=auth,
                    headers=headers,
                    timeout=self._timeout,
                    verify=self._ca_bundle if self._creds.verify_tls else False,
                    allow_redirects=False,  # a redirect would drop or replay the credentials
                    stream=True,  # the body is read below, once the slot is given back
                )
                if pacer is not None:
                    # The store has answered: WordPress renders a REST answer whole before
                    # its headers go out, so what is left is reading the bytes on our side.
                    # The slot goes to the next request now, not after the download (at
                    # 100 ms per answer that is a tenth of each slot's time; bench/README).
                    released = True
                    pacer.release(
                        urlsplit(url).path,
                        started,
                        overloaded=response.status_code in (429, 503),
                    )
                content = response.content
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                http.client.HTTPException,
                OSError,
            ) as exc:
                error, retryable = _exception_error(ctx, exc, self._timeout)
                if response is not None:
                    response.close()  # a body cut short: its connection is not reused
                    response = None
            finally:
                if pacer is not None and not released:
                    pacer.release(urlsplit(url).path, started, overloaded=True)
            retry_after: float | None = None
            if response is not None:
                status_code = response.status_code
                try:
                    body = _interpret_response(ctx, status_code, response.headers, content)
                    if expect_list:
                        _require_list(ctx, body, status_code)
                except StoreError as mapped:
                    # A 2xx with the wrong body is what caches, security plugins and cut
                    # connections produce for a moment: worth another attempt, like a 503.
                    retryable = status_code in RETRY_STATUSES or 200 <= status_code < 300
                    error = mapped
                    retry_after = _retry_after(response.headers, datetime.now(UTC))
                else:
                    return body, response.headers, shown
            # Raised here, outside the handlers: no foreign exception (whose message may quote
            # the signed URL) is chained to ours.
            if not retryable:
                raise error
            if attempt == self._max_attempts:
                raise _gave_up(error, attempt)
            if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                raise _gave_up(error, attempt, f"; the store asked to wait {retry_after:g} s")
            delay = self._jitter(min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1)))
            if retry_after is not None:
                delay = max(delay, retry_after)  # never sooner than the store asked
            status = f"HTTP {error.status}" if error.status is not None else "no response"
            # INFO: a retry that works is business as usual (cron stays quiet); the final
            # failure is raised.
            log.info(
                "store %r: %s %s: %s (%s); retry %d of %d in %.1f s",
                self.store,
                method,
                shown,
                error.detail,
                status,
                attempt,
                self._max_attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _require_list(ctx: _Context, body: Any, status: int) -> None:
    """A list endpoint answered: its JSON must be a list of records."""
    if isinstance(body, list):
        return
    shape = (
        f"an object with keys {sorted(body)[:5]}"
        if isinstance(body, dict)
        else f"a JSON {type(body).__name__}"
    )
    raise InvalidResponseError(
        ctx.scrub(f"expected a list of records, got {shape}"),
        store=ctx.store,
        url=ctx.url,
        status=status,
    )


def _param(value: object) -> str:
    if isinstance(value, bool):  # WordPress reads "true"/"false"
        return "true" if value else "false"
    return str(value)


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON: {value!r}")


__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "Pacer",
    "Page",
    "StoreCredentials",
    "WooClient",
    "full_jitter",
]
