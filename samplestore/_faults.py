"""Scheduled misbehaviour: what real stores, hosts and proxies do to a client.

A ``Fault`` applies to the requests whose path contains ``path`` (all when None) and whose
query has the values in ``query`` (any when None): it lets the first ``after`` of them
through, then hits the next ``times``, then is used up. Every matching request counts for
every fault still active, so ``after`` means "the N-th matching request", whatever other
faults did to the earlier ones. When several faults are due on one request, the first added
wins.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

FaultKind = Literal[
    "status",
    "retry_after",
    "timeout",
    "html200",
    "truncated",
    "reset",
    "drop_record",
    "empty_page",
    "repeat_ids",
]
#: The kinds that answer 200 with the real headers but alter a list body: what a record
#: WooCommerce cannot read, a cache or a plugin trimming answers does to a page.
LIST_FAULTS = frozenset({"drop_record", "empty_page", "repeat_ids"})


@dataclass
class Fault:
    """One scheduled fault.

    * ``status``: answer ``status`` — 500 with WordPress' HTML "Database Error" page,
      502/504 with a proxy's HTML page, 503 with the maintenance page, 429 and other 4xx
      with a WooCommerce-style JSON error. ``retry_after`` adds a ``Retry-After`` header.
    * ``retry_after``: 429 with ``Retry-After: retry_after`` (1 s when None).
    * ``timeout``: wait ``delay_s`` before answering normally (a client with a shorter
      read timeout gives up first).
    * ``html200``: 200 with a ``text/html`` WordPress login page (a security plugin).
    * ``truncated``: the real answer's headers with a ``Content-Length`` matching a body
      cut in half: syntactically invalid JSON.
    * ``reset``: close the connection (TCP reset) without answering.
    * ``drop_record``: the real answer without its record at ``index`` (the middle when
      None): a short page while ``X-WP-Total`` still counts it.
    * ``empty_page``: the real answer's status and headers (``X-WP-Total`` included) with
      an empty list as its body.
    * ``repeat_ids``: the real answer with its first half repeated in place of its second:
      ids that repeat and go backwards.

    The list kinds leave an answer that is not a JSON list untouched.
    """

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    path: str | None = None
    times: int = 1
    after: int = 0
    delay_s: float = 5.0
    query: Mapping[str, str] | None = None
    index: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times < 0 or self.after < 0:
            raise ValueError("times and after must not be negative")


class _Scheduled:
    __slots__ = ("fault", "fired", "seen")

    def __init__(self, fault: Fault) -> None:
        self.fault, self.seen, self.fired = fault, 0, 0


class FaultSchedule:
    """The faults of one store, consumed by matching requests (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[_Scheduled] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(_Scheduled(fault))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        """Faults not used up yet, in the order they were added."""
        with self._lock:
            return [s.fault for s in self._faults if s.fired < s.fault.times]

    def take(self, path: str, query: Mapping[str, str] | None = None) -> Fault | None:
        """The fault due on a request to ``path`` with ``query`` (folded: one value per
        name), if any (and count the request)."""
        due: Fault | None = None
        with self._lock:
            for scheduled in self._faults:
                fault = scheduled.fault
                if scheduled.fired >= fault.times:
                    continue
                if fault.path is not None and fault.path not in path:
                    continue
                if fault.query is not None and any(
                    (query or {}).get(name) != value for name, value in fault.query.items()
                ):
                    continue
                scheduled.seen += 1
                if due is None and scheduled.seen > fault.after:
                    scheduled.fired += 1
                    due = fault
        return due
