"""The project's own sample WooCommerce store, for integration tests, chaos tests, demos
and benchmarks.

``SampleStore`` serves a generated shop on loopback over real HTTP, speaking the part of
WooCommerce 8.2's REST API (``wc/v3``) that Bazgasht uses, as the recorded fixtures show
it: OAuth 1.0a signatures checked like ``WC_REST_Authentication``, the same JSON fields and
formats, the same headers, the same errors. ``Fault`` schedules misbehaviour (errors,
rate limits, timeouts, HTML and truncated answers, resets). ``generate_store`` builds a
deterministic, realistic history (``StoreData``), e.g. once per test session.

    with SampleStore(orders=500, currency="IRT") as store:
        client = woocommerce.API(store.url, store.consumer_key, store.consumer_secret)

See ``docs/sample-store.md``.
"""

from samplestore._data import (
    CustomerView,
    OrderView,
    RefundView,
    StoreData,
)
from samplestore._faults import Fault
from samplestore._generator import generate_store
from samplestore._server import SampleStore, serve_forever
from samplestore._webhooks import DeliveryLog

__all__ = [
    "CustomerView",
    "DeliveryLog",
    "Fault",
    "OrderView",
    "RefundView",
    "SampleStore",
    "StoreData",
    "generate_store",
    "serve_forever",
]
