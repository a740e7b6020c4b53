"""The exceptions of the connector, split by what the caller should do.

    BazgashtError                  root of every error the product raises on purpose
    ├── ConfigError                the user's configuration is wrong (exit 2)
    ├── LockHeld                   another run holds this store's sync lock (exit 75)
    ├── IncompleteScan             the store's listing contradicted itself: nothing marked
    │                              deleted, the run failed (what was read is stored)
    ├── StoreIdentityChanged       another shop answers behind a known store name: refused
    └── StoreError                 talking to one store failed; names the store and URL
        ├── AuthError              401/403: wrong key or secret, missing permission
        ├── NotFoundError          404: no such resource, or no WooCommerce REST API at this URL
        ├── BadRequestError        400: the store refused a parameter
        ├── InvalidResponseError   200 with HTML, truncated JSON, the wrong content type
        └── TransientError         worth retrying; raised once the retries are spent
            ├── RateLimitedError   429
            ├── ServerError        500/502/503/504
            └── NetworkError       connection refused/reset, timeouts

Messages name the store and the URL with every credential stripped from its query string, and
end with a hint the shop owner can act on. No exception ever carries a consumer secret.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that carry credentials or OAuth material; never shown anywhere.
_SECRET_PARAMS = frozenset({"consumer_key", "consumer_secret"})


def redact_url(url: str) -> str:
    """The URL without credentials: no OAuth parameters, keys or userinfo."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in _SECRET_PARAMS and not k.startswith("oauth_")
    ]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


class BazgashtError(Exception):
    """Root of the product's own errors. ``str(err)`` is a message fit for the shop owner."""

    exit_code = 1


class ConfigError(BazgashtError):
    """The configuration file or an option is wrong; the message says how to fix it."""

    exit_code = 2


class LockHeld(BazgashtError):
    """Another process (maybe on another host) is syncing this store right now.

    ``holder``: who holds it (``host (pid N)``), when the lock can tell."""

    exit_code = 75

    def __init__(self, message: str, *, holder: str | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class IncompleteScan(BazgashtError):
    """A listing answered inconsistently (short or empty pages against ``X-WP-Total``, ids
    out of order…). What was read is stored; a full scan marks nothing deleted; the run is
    recorded as failed and the next run tries again."""


class StoreIdentityChanged(BazgashtError):
    """The shop behind a store name is not the one its mirror holds; nothing was written."""


class StoreError(BazgashtError):
    """A request to a store failed. Carries what a support request needs, never a secret."""

    hint = "Check the store's URL and that it is online."

    def __init__(
        self,
        message: str,
        *,
        store: str,
        url: str,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.store = store
        self.url = redact_url(url)
        self.status = status
        self.code = code
        if hint is not None:
            self.hint = hint
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        code = f", {self.code}" if self.code else ""
        return f"store {self.store!r}: {self.detail} ({status}{code}; {self.url}). {self.hint}"


class AuthError(StoreError):
    hint = (
        "Check the consumer key and secret (`bazgasht store check`), and that the key has the "
        "permission this needs (Read for sync, Read/Write for coupons)."
    )


class NotFoundError(StoreError):
    hint = "Check the store URL: it should be the site's home address, with pretty permalinks on."


class BadRequestError(StoreError):
    hint = "The store refused a parameter; run with --debug and report it if it persists."


class InvalidResponseError(StoreError):
    hint = (
        "The store answered with something that is not WooCommerce's JSON (a login, maintenance "
        "or security-plugin page, or a cut-off body). Allow /wp-json/ through the plugin or cache."
    )


class TransientError(StoreError):
    """A failure that may pass by itself; raised only after the retries are used up."""

    hint = "The store or the network is having trouble; the next run will try again."


class RateLimitedError(TransientError):
    hint = "The store is limiting requests; lower --concurrency or run less often."


class ServerError(TransientError):
    pass


class NetworkError(TransientError):
    hint = "Check that the store is reachable from this machine (DNS, firewall, TLS)."


__all__ = [
    "AuthError",
    "BadRequestError",
    "BazgashtError",
    "ConfigError",
    "IncompleteScan",
    "InvalidResponseError",
    "LockHeld",
    "NetworkError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "StoreError",
    "StoreIdentityChanged",
    "TransientError",
    "redact_url",
]
