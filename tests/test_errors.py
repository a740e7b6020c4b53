"""The exception tree of connector._errors: what it promises every caller."""

from __future__ import annotations

import pytest

from connector import _errors
from connector._errors import (
    AuthError,
    BazgashtError,
    ConfigError,
    LockHeld,
    NetworkError,
    RateLimitedError,
    ServerError,
    StoreError,
    TransientError,
    redact_url,
)

SECRET = "cs_" + "9" * 40


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://h/wp-json/wc/v3/orders?page=2&oauth_signature=abc&oauth_nonce=n&x=1",
            "http://h/wp-json/wc/v3/orders?page=2&x=1",
        ),
        (
            f"https://h/wp-json/wc/v3/orders?consumer_key=ck_1&consumer_secret={SECRET}",
            "https://h/wp-json/wc/v3/orders",
        ),
        (f"https://ck_1:{SECRET}@h:8443/wp-json/", "https://h:8443/wp-json/"),
        ("https://h/x#frag", "https://h/x"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_a_store_error_names_store_url_status_code_and_hint() -> None:
    err = AuthError(
        "Consumer key is invalid.",
        store="usd",
        url=f"https://h/wp-json/wc/v3/orders?consumer_secret={SECRET}",
        status=401,
        code="woocommerce_rest_authentication_error",
    )
    assert str(err) == (
        "store 'usd': Consumer key is invalid. (HTTP 401, woocommerce_rest_authentication_error; "
        "https://h/wp-json/wc/v3/orders). " + AuthError.hint
    )
    assert SECRET not in repr(err) and SECRET not in err.url
    assert err.exit_code == 1


def test_a_hint_may_be_given_per_error() -> None:
    err = NetworkError("refused", store="s", url="https://h/", hint="Open port 443.")
    assert str(err).endswith("(no response; https://h/). Open port 443.")
    assert NetworkError.hint != "Open port 443."


def test_the_tree() -> None:
    for name in _errors.__all__:
        value = getattr(_errors, name)
        if isinstance(value, type):
            assert issubclass(value, BazgashtError), name
    assert issubclass(RateLimitedError, TransientError)
    assert issubclass(ServerError, TransientError)
    assert issubclass(NetworkError, TransientError)
    assert issubclass(TransientError, StoreError)
    assert (ConfigError.exit_code, LockHeld.exit_code, StoreError.exit_code) == (2, 75, 1)
