"""The inbox worker: applies received deliveries, store by store.

``bazgasht serve`` runs it in a process of its own (``run_applier``), beside the web
process(es): applying (validation, SQL, reconciliation) is CPU work that, in the web process,
would hold the interpreter's lock while deliveries wait for their 200. It looks at the inbox
every ``poll`` seconds. ``create_app(run_worker=True)`` runs it as a thread of the web
process instead, woken by the receiver after each commit (tests; a single small process).
Two workers never apply one store at once: a store's deliveries are applied under its sync
lock. Every minute it also prunes the inbox and the storefront's nonces.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from app import (
    ApplyResult,
    BazgashtError,
    Registry,
    WooClient,
    apply_deliveries,
    forget_nonces,
    give_up_unknown,
    pending_stores,
    prune_inbox,
    push_enabled,
)

log = logging.getLogger("bazgasht.server")

HOUSEKEEPING_SECONDS = 60.0
#: The applier's scheduling priority below the web processes' (``nice``).
APPLIER_NICENESS = 10


class InboxWorker:
    """Applies the inbox, store by store. ``run_once`` does one round (tests call it)."""

    def __init__(
        self,
        registry: Registry,
        *,
        poll: float = 1.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clients: Callable[[str], WooClient] | None = None,
    ) -> None:
        self.registry = registry
        self.poll = poll
        self.now = now
        self._make_client = clients or (lambda name: registry.client(name))
        self._clients: dict[str, WooClient] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._housekept = 0.0
        #: Checked each round; the loop ends when it returns False (the parent process died).
        self.watch: Callable[[], bool] = lambda: True
        #: Results of the rounds, newest last (the last 100), for tests and ``/healthz``.
        self.results: list[ApplyResult] = []
        self.last_error: str | None = None

    def client(self, store: str) -> WooClient:
        if store not in self._clients:
            self._clients[store] = self._make_client(store)
        return self._clients[store]

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> list[ApplyResult]:
        """Apply every store's due deliveries once."""
        engine, inbox = self.registry.engine(), self.registry.inbox()
        done: list[ApplyResult] = []
        for store in pending_stores(inbox, self.now()):
            if not self.registry.has_store(store):
                continue  # housekeeping marks them failed
            try:
                result = apply_deliveries(
                    engine,
                    self.client(store),
                    store,
                    self.registry.store(store).loyalty,
                    now=self.now,
                    push=push_enabled(self.registry, store),
                    inbox=inbox,
                )
            except BazgashtError as exc:
                self.last_error = f"store {store!r}: {exc}"
                log.error("applying webhook deliveries: %s", self.last_error)
                continue
            for problem in result.problems:
                log.warning("store %r: %s", store, problem)
            if result.deliveries:
                log.info(
                    "store %r: %d deliveries: %d applied, %d skipped, %d waiting%s",
                    store,
                    result.deliveries,
                    result.applied,
                    result.skipped,
                    result.waiting,
                    " (store busy: a sync holds it)" if result.busy else "",
                )
            done.append(result)
        self.results = (self.results + done)[-100:]
        return done

    def housekeeping(self) -> None:
        engine, inbox = self.registry.engine(), self.registry.inbox()
        now = self.now()
        prune_inbox(inbox, now)
        forget_nonces(engine, now)
        give_up_unknown(inbox, sorted(self.registry.config.stores), now)

    # ---------------------------------------------------------------- the thread

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="bazgasht-inbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_clients()

    def _close_clients(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _loop(self) -> None:
        while not self._stop.is_set() and self.watch():
            self._wake.clear()
            try:
                if self.registry.refresh():
                    self._close_clients()
                busy = any(r.busy for r in self.run_once())
                if time.monotonic() - self._housekept >= HOUSEKEEPING_SECONDS:
                    self.housekeeping()
                    self._housekept = time.monotonic()
            except Exception as exc:  # the database went away…: keep the thread alive
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("the inbox worker failed; retrying")
                busy = True
            self._wake.wait(self.poll if not busy else max(self.poll, 1.0))


def run_applier(config: str, parent: int, poll: float = 0.1, log_level: str = "info") -> None:
    """The main function of the applier process: apply the inbox until SIGTERM or SIGINT,
    or until ``parent`` — the server process that started it — is gone (a ``kill -9`` of
    the server must not leave an orphan behind, even one killed before this started)."""
    logging.basicConfig(
        level=logging.DEBUG if log_level == "debug" else logging.INFO,
        format="%(levelname)s:     %(name)s: %(message)s",
    )
    # Acknowledging comes first: when the CPU is short, the web processes get it.
    os.nice(APPLIER_NICENESS)
    registry = Registry(Path(config), config_explicit=True)
    worker = InboxWorker(registry, poll=poll)

    def stop(signum: int, frame: FrameType | None) -> None:
        # Only a flag: waking the loop's Event from a signal handler could deadlock on the
        # lock the interrupted wait holds; the loop looks at the flag every ``poll``.
        worker._stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.watch = lambda: os.getppid() == parent
    try:
        worker._loop()
    finally:
        worker._close_clients()
        registry.close()


__all__ = ["InboxWorker", "run_applier"]
