"""``python -m tests._crashing_cli`` is ``python -m cli`` that SIGKILLs itself at one step of
making a coupon, for the exactly-once tests (a redemption's, a campaign's). Production code
has no test hook: the faults are injected here, from outside.

``CRASH_AT`` names the step:

* ``before_coupon`` — as the coupon's code is looked up on the store (nothing made yet);
* ``after_coupon`` — as the store's answer to ``POST coupons`` arrives (made, not recorded);
* ``before_issued`` — when the coupon is found or made, before it is recorded as issued.

``CRASH_AFTER=N`` lets N coupons be made and recorded first (default 0).
"""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Callable, Mapping
from typing import Any

from connector import Coupon, CouponApi, CouponSpec, WooClient

CRASH_AT = "BAZGASHT_TEST_CRASH_AT"
CRASH_AFTER = "BAZGASHT_TEST_CRASH_AFTER"


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(step: str, after: int) -> None:
    made = 0  # coupons found or made, whose issue the process went on to record

    def due() -> bool:
        return made >= after

    original_get, original_post = WooClient.get, WooClient.post

    def get(self: WooClient, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        looking_up = path == "coupons" and params is not None and "code" in params
        if step == "before_coupon" and looking_up and due():
            _kill()
        return original_get(self, path, params)

    def post(self: WooClient, path: str, json: Mapping[str, Any]) -> Any:
        answer = original_post(self, path, json)
        if step == "after_coupon" and path == "coupons" and due():
            _kill()
        return answer

    def counting(ensure: Callable[[CouponApi, CouponSpec], Coupon]) -> Callable[..., Coupon]:
        def ensure_coupon(client: CouponApi, spec: CouponSpec) -> Coupon:
            nonlocal made
            coupon = ensure(client, spec)
            if step == "before_issued" and due():
                _kill()
            made += 1
            return coupon

        return ensure_coupon

    WooClient.get = get  # type: ignore[method-assign]
    WooClient.post = post  # type: ignore[method-assign]
    # ``loyalty.redeem`` the attribute is the function ``redeem``: reach the modules by name.
    for name in ("loyalty.redeem", "loyalty.campaigns.issue"):
        module = importlib.import_module(name)
        module.ensure_coupon = counting(module.ensure_coupon)  # type: ignore[attr-defined]


if __name__ == "__main__":
    install(os.environ.get(CRASH_AT, ""), int(os.environ.get(CRASH_AFTER, "0") or 0))
    from cli.main import main

    main()
