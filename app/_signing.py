"""Signatures, both directions of the companion, as pure functions (no IO, no clock).

* WooCommerce → Bazgasht: ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(webhook secret,
  raw body)) (``WC_Webhook::generate_signature``; tests/fixtures/woocommerce/webhooks).
* The plugin → Bazgasht: the storefront API's scheme ``v1`` (docs/storefront-api.md):
  ``v1=`` + hex(HMAC-SHA256(shared secret, string to sign)) over method, API path,
  canonical query, timestamp, nonce and the body's SHA-256.

Every comparison is constant-time (``hmac.compare_digest``). Nothing here logs, and no
function returns or embeds a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, quote

# --------------------------------------------------------------------------- webhooks


def webhook_signature(secret: str, body: bytes) -> str:
    """What WooCommerce puts in ``X-WC-Webhook-Signature`` for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs exactly these bytes with ``secret``."""
    if not header:
        return False
    expected = webhook_signature(secret, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("ascii", "replace"))


# --------------------------------------------------------------------------- storefront

SCHEME = "v1"
API_PREFIX = "/storefront/v1/"
#: The scheme's header formats (docs/storefront-api.md, "What the server checks").
TIMESTAMP_FORMAT = re.compile(r"[0-9]{1,12}")
NONCE_FORMAT = re.compile(r"[0-9a-f]{32}")
SIGNATURE_FORMAT = re.compile(r"v1=[0-9a-f]{64}")
#: Accepted difference between the plugin's clock and ours, each way.
MAX_SKEW_SECONDS = 300
#: How long a nonce must be remembered: a request stamped t is accepted until t + 300 s and
#: may have been seen first at t − 300 s.
NONCE_MEMORY_SECONDS = 2 * MAX_SKEW_SECONDS


def rfc3986(text: str) -> str:
    """Percent-encoding of the scheme: UTF-8, only ``A-Z a-z 0-9 - _ . ~`` kept."""
    return quote(text, safe="")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """The query as signed: encoded pairs sorted by name, then value, joined by ``&``."""
    encoded = sorted((rfc3986(name), rfc3986(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_query_of(raw_query: str) -> str:
    """The canonical form of a query string as received (``a=1&b=x%20y``)."""
    return canonical_query(parse_qsl(raw_query, keep_blank_values=True))


def api_path(request_path: str) -> str | None:
    """The signed part of a request path: from ``/storefront/v1/`` on (a reverse proxy may
    mount the backend under a prefix); None when the path has no such part."""
    at = request_path.find(API_PREFIX)
    return None if at < 0 else request_path[at:]


def string_to_sign(
    method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    return "\n".join(
        (SCHEME, method.upper(), path, query, timestamp, nonce, hashlib.sha256(body).hexdigest())
    )


def request_signature(
    secret: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """``X-Bazgasht-Signature`` for a request (what the plugin sends)."""
    message = string_to_sign(method, path, query, timestamp, nonce, body).encode("utf-8")
    return "v1=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def request_signature_valid(
    secrets: Sequence[str],
    signature: str,
    *,
    method: str,
    path: str,
    query: str,
    timestamp: str,
    nonce: str,
    body: bytes,
) -> bool:
    """Whether ``signature`` was made with one of ``secrets`` (current, then previous).
    Every secret is tried, so the time taken does not tell which one matched."""
    given = signature.encode("ascii", "replace")
    matched = False
    for secret in secrets:
        expected = request_signature(secret, method, path, query, timestamp, nonce, body)
        matched |= hmac.compare_digest(expected.encode("ascii"), given)
    return matched
