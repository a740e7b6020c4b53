"""Authentication the way WooCommerce 8.2's ``WC_REST_Authentication`` does it.

* Plain HTTP: OAuth 1.0a one-legged. The server rebuilds the signature base string from
  the method, the home URL + path (``rawurlencode``), and every query (and form) parameter
  except ``oauth_signature``, sorted by key (``strcmp``), each key and value
  ``rawurlencode``-d, joined as ``key=value``, each pair ``rawurlencode``-d again and the
  pairs joined by ``%26``. Key: consumer secret + ``&``. HMAC-SHA256 or HMAC-SHA1.
  Timestamps more than 15 minutes off are refused, and so is a nonce already used with
  the key — stored, as WooCommerce does, *by timestamp*: two requests signed in the same
  second keep only the later nonce.
* HTTPS (here: only with ``allow_basic_over_http``): ``consumer_key``/``consumer_secret``
  query parameters, else HTTP Basic. An unknown key is no authentication at all; a wrong
  secret is an error. Over plain HTTP WooCommerce ignores both, so a request carrying
  them looks unauthenticated.

Query strings are read the way PHP fills ``$_GET``: ``a[]=1&a[]=2`` and ``a[x]=1`` make
arrays, and a key given twice keeps its first position and its last value (the official
``woocommerce`` client sends every parameter twice over OAuth).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Union
from urllib.parse import quote, unquote, unquote_plus

#: A PHP request parameter: a string, or an (ordered) array of them.
PhpValue = Union[str, "PhpArray"]
PhpArray = dict[str, PhpValue]

NONCE_WINDOW = 15 * 60


def rawurlencode(text: str) -> str:
    """PHP's ``rawurlencode``: everything but ``A-Za-z0-9-_.~`` percent-encoded."""
    return quote(text, safe="-_.~")


def php_urlencode(text: str) -> str:
    """PHP's ``urlencode`` (what ``add_query_arg`` uses): like ``rawurlencode`` but space
    is ``+`` and ``~`` is encoded."""
    return quote(text, safe="-_.").replace("%20", "+")


def parse_php_query(pairs: list[tuple[str, str]]) -> PhpArray:
    """``$_GET`` from decoded (key, value) pairs, with PHP's bracket and duplicate rules."""
    out: PhpArray = {}
    for raw_key, value in pairs:
        match = re.match(r"^([^\[]*)((?:\[[^\]]*\])*)$", raw_key)
        if not match or not match.group(1):
            continue
        # PHP turns spaces and dots of a top-level name into underscores.
        name = match.group(1).replace(".", "_").replace(" ", "_")
        subkeys = re.findall(r"\[([^\]]*)\]", match.group(2))
        if not subkeys:
            out[name] = value
            continue
        container = out.get(name)
        if not isinstance(container, dict):
            container = out[name] = {}
        for depth, sub in enumerate(subkeys):
            if sub == "":
                ints = [int(k) for k in container if k.lstrip("-").isdigit()]
                sub = str(max(ints) + 1 if ints else 0)
            if depth == len(subkeys) - 1:
                container[sub] = value
            else:
                child = container.get(sub)
                if not isinstance(child, dict):
                    child = container[sub] = {}
                container = child
    return out


def flatten(value: PhpValue) -> str:
    """A parameter as one string: arrays joined by commas (for hooks and logs)."""
    if isinstance(value, dict):
        return ",".join(flatten(v) for v in value.values())
    return value


def _join_with_equals(params: PhpArray, prefix: str = "") -> list[str]:
    pairs: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, dict):
            pairs.extend(_join_with_equals(value, name))
        else:
            pairs.append(rawurlencode(f"{name}={value}"))
    return pairs


def _encode_values(value: PhpValue) -> PhpValue:
    if isinstance(value, dict):
        return {k: _encode_values(v) for k, v in value.items()}
    return rawurlencode(value)


def signature_base(method: str, url: str, params: PhpArray) -> str:
    """The string WooCommerce signs (``check_oauth_signature``)."""
    ordered = sorted(
        ((k, v) for k, v in params.items() if k != "oauth_signature"),
        key=lambda kv: kv[0].encode(),
    )
    normalized: PhpArray = {rawurlencode(k): _encode_values(v) for k, v in ordered}
    query = "%26".join(_join_with_equals(normalized))
    return f"{method.upper()}&{rawurlencode(url)}&{query}"


def sign(base: str, secret: str, method: str = "HMAC-SHA256") -> str:
    digest = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
    mac = hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()
    return base64.b64encode(mac).decode()


@dataclass
class ApiKey:
    """A WooCommerce REST API key (WooCommerce → Settings → Advanced → REST API)."""

    consumer_key: str
    consumer_secret: str
    permissions: str  #: "read", "write" or "read_write"
    #: Used nonces by timestamp (WooCommerce's ``nonces`` column, same quirk).
    nonces: dict[int, str] = field(default_factory=dict)

    def may(self, method: str) -> str | None:
        """None when the key may use this method, else WooCommerce's refusal message."""
        if method in ("GET", "HEAD"):
            if self.permissions not in ("read", "read_write"):
                return "The API key provided does not have read permissions."
        elif method in ("POST", "PUT", "PATCH", "DELETE"):
            if self.permissions not in ("write", "read_write"):
                return "The API key provided does not have write permissions."
        elif method != "OPTIONS":
            return "Unknown request method."
        return None


@dataclass(frozen=True)
class AuthOutcome:
    """Who is asking: a key, nobody (``key`` None, no error), or a refusal."""

    key: ApiKey | None
    error: tuple[str, str] | None = None  #: (code, message), always status 401


_AUTH_ERROR = "woocommerce_rest_authentication_error"


class KeyRing:
    """The store's API keys and their used nonces (thread-safe)."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._keys = {k.consumer_key: k for k in keys}
        self._lock = threading.Lock()

    def get(self, consumer_key: str) -> ApiKey | None:
        return self._keys.get(consumer_key)

    def authenticate(
        self,
        *,
        method: str,
        url: str,
        params: PhpArray,
        authorization: str | None,
        https: bool,
        clock: float | None = None,
    ) -> AuthOutcome:
        """``WC_REST_Authentication::authenticate`` for one request.

        ``url`` is the home URL + request path (what the client signed); ``params`` the
        request's ``$_GET`` merged with form fields; ``https`` whether Basic / query-string
        keys count.
        """
        error: tuple[str, str] | None = None
        if https:
            key, error = self._basic(params, authorization)
            if key is not None:
                return AuthOutcome(key)
        oauth = dict(params)
        if authorization and authorization.startswith("OAuth "):
            for name, quoted, bare in re.findall(
                r'(oauth_[a-z_-]*)=(?::?"([^"]*)"|([^,]*))', authorization
            ):
                oauth[name] = unquote_plus(quoted or bare)
        names = (
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        )
        missing = [n for n in names if not oauth.get(n)]
        if len(missing) == len(names):
            return AuthOutcome(None, error)  # not even trying OAuth
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            return AuthOutcome(
                None,
                (
                    "woocommerce_rest_authentication_missing_parameter",
                    f"Missing OAuth {noun} {', '.join(missing)}",
                ),
            )
        values = {n: flatten(oauth[n]) for n in names}
        key = self._keys.get(values["oauth_consumer_key"])
        if key is None:
            return AuthOutcome(None, (_AUTH_ERROR, "Consumer key is invalid."))
        signature_method = values["oauth_signature_method"]
        if signature_method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return AuthOutcome(
                None, (_AUTH_ERROR, "Invalid signature - signature method is invalid.")
            )
        given = unquote(values["oauth_signature"].replace(" ", "+"))
        expected = sign(signature_base(method, url, oauth), key.consumer_secret, signature_method)
        if not hmac.compare_digest(expected, given):
            return AuthOutcome(
                None, (_AUTH_ERROR, "Invalid signature - provided signature does not match.")
            )
        now = time.time() if clock is None else clock
        try:
            timestamp = int(values["oauth_timestamp"])
        except ValueError:
            timestamp = -(1 << 62)
        if not now - NONCE_WINDOW <= timestamp <= now + NONCE_WINDOW:
            return AuthOutcome(None, (_AUTH_ERROR, "Invalid timestamp."))
        nonce = values["oauth_nonce"]
        with self._lock:
            if nonce in key.nonces.values():
                return AuthOutcome(
                    None, (_AUTH_ERROR, "Invalid nonce - nonce has already been used.")
                )
            key.nonces[timestamp] = nonce
            for stamp in [s for s in key.nonces if s < now - NONCE_WINDOW]:
                del key.nonces[stamp]
        return AuthOutcome(key)

    def _basic(
        self, params: PhpArray, authorization: str | None
    ) -> tuple[ApiKey | None, tuple[str, str] | None]:
        ck, cs = params.get("consumer_key"), params.get("consumer_secret")
        if not (isinstance(ck, str) and ck and isinstance(cs, str) and cs):
            ck = cs = None
            if authorization and authorization.lower().startswith("basic "):
                try:
                    decoded = base64.b64decode(authorization[6:].strip()).decode()
                except (ValueError, UnicodeDecodeError):
                    decoded = ""
                user, _, password = decoded.partition(":")
                if user and password:
                    ck, cs = user, password
        if not ck or not cs:
            return None, None
        key = self._keys.get(ck)
        if key is None:
            return None, None  # an unknown key is "no authentication", not an error
        if not hmac.compare_digest(key.consumer_secret, cs):
            return None, (_AUTH_ERROR, "Consumer secret is invalid.")
        return key, None


def php_params_to_plain(params: PhpArray) -> dict[str, Any]:
    """For JSON-ish uses: arrays become lists when their keys are 0..n-1."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            if list(value) == [str(i) for i in range(len(value))]:
                out[key] = [php_params_to_plain({"v": v})["v"] for v in value.values()]
            else:
                out[key] = php_params_to_plain(value)
        else:
            out[key] = value
    return out
