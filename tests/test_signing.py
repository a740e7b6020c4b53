"""Both signatures byte for byte: the storefront's against the plugin's own vectors
(wp-plugin/bazgasht/tests/fixtures/signing-vectors.json), WooCommerce's against every
recorded delivery (tests/fixtures/woocommerce/webhooks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app._signing import (
    api_path,
    canonical_query,
    canonical_query_of,
    request_signature,
    request_signature_valid,
    string_to_sign,
    webhook_signature,
    webhook_signature_valid,
)
from tests._helpers import ROOT
from tests.conftest import FIXTURES

VECTORS = json.loads(
    (ROOT / "wp-plugin/bazgasht/tests/fixtures/signing-vectors.json").read_text(encoding="utf-8")
)
HOOKS = FIXTURES / "webhooks"


def _deliveries() -> list[dict[str, Any]]:
    found = []
    for path in sorted(HOOKS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "request" in data and "headers" in data["request"]:
            found.append(data)
    return found


DELIVERIES = _deliveries()


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_every_vector_signs_to_the_plugins_bytes(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    assert canonical_query(vector["params"]) == vector["canonical_query"]
    raw_query = vector["canonical_query"]  # what the plugin sends as the URL's query
    assert canonical_query_of(raw_query) == vector["canonical_query"]
    text = string_to_sign(
        vector["method"],
        vector["path"],
        vector["canonical_query"],
        str(vector["timestamp"]),
        vector["nonce"],
        body,
    )
    assert text == vector["string_to_sign"]
    headers = vector["headers"]
    assert headers["X-Bazgasht-Signature"] == request_signature(
        vector["secret"],
        vector["method"],
        vector["path"],
        vector["canonical_query"],
        str(vector["timestamp"]),
        vector["nonce"],
        body,
    )
    assert request_signature_valid(
        [vector["secret"]],
        headers["X-Bazgasht-Signature"],
        method=vector["method"],
        path=vector["path"],
        query=canonical_query_of(raw_query),
        timestamp=headers["X-Bazgasht-Timestamp"],
        nonce=headers["X-Bazgasht-Nonce"],
        body=body,
    )


@pytest.mark.parametrize(
    "case", VECTORS["tampered"], ids=lambda t: f"{t['base']}: {t['field']} changed"
)
def test_every_tampered_case_is_refused(case: dict[str, Any]) -> None:
    base = next(v for v in VECTORS["vectors"] if v["name"] == case["base"])
    fields = {
        "secret": base["secret"],
        "method": base["method"],
        "path": base["path"],
        "canonical_query": base["canonical_query"],
        "timestamp": str(base["timestamp"]),
        "nonce": base["nonce"],
        "body": base["body"],
    }
    fields[case["field"]] = str(case["value"])
    assert not request_signature_valid(
        [fields["secret"]],
        base["headers"]["X-Bazgasht-Signature"],
        method=fields["method"],
        path=fields["path"],
        query=fields["canonical_query"],
        timestamp=fields["timestamp"],
        nonce=fields["nonce"],
        body=fields["body"].encode("utf-8"),
    )


def test_the_previous_secret_verifies_during_a_rotation() -> None:
    vector = VECTORS["vectors"][0]
    args = dict(
        method=vector["method"],
        path=vector["path"],
        query="",
        timestamp=str(vector["timestamp"]),
        nonce=vector["nonce"],
        body=b"",
    )
    signature = vector["headers"]["X-Bazgasht-Signature"]
    assert request_signature_valid(["another secret " * 3, vector["secret"]], signature, **args)
    assert not request_signature_valid(["another secret " * 3], signature, **args)
    assert not request_signature_valid([], signature, **args)


def test_the_signed_path_starts_at_the_api_whatever_the_proxy_prefix() -> None:
    path = "/storefront/v1/stores/myshop/program"
    assert api_path(path) == path
    assert api_path("/bazgasht" + path) == path
    assert api_path("/stores/myshop/program") is None


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d["name"])
def test_every_recorded_delivery_verifies_over_its_raw_bytes(delivery: dict[str, Any]) -> None:
    body = (HOOKS / "raw" / f"{delivery['name']}.body").read_bytes()
    header = delivery["request"]["headers"].get("X-WC-Webhook-Signature")
    assert webhook_signature_valid(delivery["secret"], body, header) is delivery["signature_valid"]
    if header:
        assert webhook_signature(delivery["secret"], body) == header
        # A re-serialisation of the parsed body is other bytes: never verify over it.
        reencoded = json.dumps(delivery["request"]["body"]).encode()
        assert not webhook_signature_valid(delivery["secret"], reencoded, header)
        assert not webhook_signature_valid("another-secret", body, header)


def test_the_recording_has_what_the_receiver_tests_rely_on() -> None:
    names = {d["name"] for d in DELIVERIES}
    assert {"order.created", "order.updated", "order.deleted", "order.restored", "ping"} <= names
    assert sum(1 for d in DELIVERIES if d["signature_valid"]) >= 15
