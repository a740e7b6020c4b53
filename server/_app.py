"""The ASGI application: the webhook receiver and the storefront API (Starlette).

Routes:

* ``POST /webhooks/woocommerce/{store}`` — WooCommerce's deliveries (``app._webhooks``): a
  signed delivery is committed to the inbox before the 200; the worker applies it.
* ``GET  /storefront/v1/stores/{store}/program``
* ``GET  /storefront/v1/stores/{store}/customers/{customer_id}``
* ``GET  /storefront/v1/stores/{store}/customers/{customer_id}/history?limit=N``
* ``POST /storefront/v1/stores/{store}/customers/{customer_id}/redemptions``
  — the WordPress plugin's signed API (docs/storefront-api.md).
* ``GET  /healthz`` — for the reverse proxy and systemd: the database answers, the inbox.

Every answer is JSON; every error is ``{"error": {"code", "message"}}``. Database work runs in
Starlette's thread pool (SQLAlchemy is synchronous); bodies are read raw, with a size limit,
before anything parses them. Nothing here logs a secret, a signature or a body.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import (
    MAX_BODY_BYTES,
    BazgashtError,
    ConfigError,
    DeliveryRefused,
    LockHeld,
    Registry,
    SignedRequest,
    StorefrontRefused,
    WooClient,
    authenticate,
    check_delivery,
    current_redemption,
    customer_answer,
    history_answer,
    history_limit,
    inbox_counts,
    issue_coupon,
    ping_of,
    program_answer,
    program_of,
    record_delivery,
    redemption_answer,
    redemption_request,
    reserve_points,
)
from server._worker import InboxWorker

log = logging.getLogger("bazgasht.server")

#: Storefront requests are small (a redemption is ~70 bytes).
MAX_STOREFRONT_BODY = 64 * 1024
#: The contract promises an answer within 10 s: a coupon not made by then stays pending.
ISSUE_WAIT_SECONDS = 8.0
_CUSTOMER_ID = re.compile(r"[1-9][0-9]{0,18}")

Clock = Callable[[], datetime]


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


class Server:
    """What the routes share: the registry, the worker, the clock, store clients."""

    def __init__(self, registry: Registry, worker: InboxWorker, now: Clock) -> None:
        self.registry = registry
        self.worker = worker
        self.now = now
        self._coupon_clients: dict[str, WooClient] = {}

    def coupon_client(self, store: str) -> WooClient:
        """A client for redemptions: short timeouts and one retry, so an answer comes within
        the contract's 10 s (a coupon not made by then is finished later)."""
        if store not in self._coupon_clients:
            self._coupon_clients[store] = self.registry.client(
                store, timeout=(3.0, 5.0), max_attempts=2, backoff_base=0.25
            )
        return self._coupon_clients[store]

    def close(self) -> None:
        for client in self._coupon_clients.values():
            client.close()
        self._coupon_clients.clear()

    def refresh(self) -> None:
        """Pick up a config file changed since it was read (``webhooks install`` and
        ``storefront secret`` write secrets while the server runs)."""
        try:
            if self.registry.refresh():
                log.info("the config file changed: read it again")
                # Clients made with the old credentials; one may be in use: dropped, not closed.
                self._coupon_clients = {}
        except ConfigError as exc:
            log.error("the config file changed but cannot be used; keeping the old one: %s", exc)

    # ---------------------------------------------------------------- webhooks

    async def webhook(self, request: Request) -> Response:
        self.refresh()
        store = request.path_params["store"]
        if not self.registry.has_store(store):
            return _error(404, "unknown_store", f"no store {store!r} on this server")
        try:
            secret = self.registry.store(store).webhook_key(store, self.registry.environ)
        except ConfigError as exc:
            log.error("webhook for store %r: %s", store, exc)
            return _error(503, "unavailable", "the store's webhook secret is not available")
        if secret is None:
            return _error(
                404, "webhooks_not_set_up", f"store {store!r} has no webhook secret on this server"
            )
        try:
            body = await _read_body(request, MAX_BODY_BYTES)
        except _TooLarge:
            return _error(413, "body_too_large", f"a delivery is at most {MAX_BODY_BYTES} bytes")
        except ClientDisconnect:
            return _error(400, "incomplete", "the client hung up before the body ended")
        headers = _headers(request)
        webhook_id = ping_of(headers, body)
        if webhook_id is not None:
            log.info("store %r: ping from webhook %d", store, webhook_id)
            return JSONResponse({"status": "pong", "webhook_id": webhook_id})
        try:
            delivery = check_delivery(store, secret, headers, body)
        except DeliveryRefused as exc:
            log.warning(
                "store %r: refused a delivery from %s: %s",
                store,
                request.client.host if request.client else "?",
                exc,
            )
            return _error(exc.status, exc.code, str(exc))
        try:
            delivery_row, new = await run_in_threadpool(
                record_delivery, self.registry.inbox(), delivery, self.now()
            )
        except SQLAlchemyError as exc:
            log.error("store %r: could not store a delivery: %s", store, type(exc).__name__)
            return _error(503, "unavailable", "the delivery could not be stored; not accepted")
        self.worker.wake()
        return JSONResponse(
            {"status": "accepted" if new else "duplicate", "delivery": delivery_row}
        )

    # ---------------------------------------------------------------- storefront

    async def _signed(
        self,
        request: Request,
        answer: Callable[[str, bytes], Awaitable[Response]],
    ) -> Response:
        """Authenticate (the contract's five checks), then ``answer(store, body)``."""
        self.refresh()
        store = request.path_params["store"]
        try:
            body = await _read_body(request, MAX_STOREFRONT_BODY)
        except _TooLarge:
            return _error(400, "bad_request", "the body is too large")
        except ClientDisconnect:
            return _error(400, "bad_request", "the client hung up before the body ended")
        signed = SignedRequest(
            method=request.method,
            # As sent (an ASGI server may or may not keep the query on raw_path).
            path=(request.scope.get("raw_path") or request.url.path.encode())
            .decode("latin-1")
            .split("?", 1)[0],
            query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=_headers(request),
            body=body,
        )
        try:
            await run_in_threadpool(authenticate, self.registry, store, signed, self.now())
            return await answer(store, body)
        except StorefrontRefused as exc:
            if exc.status == 401:
                log.warning("storefront %r: refused (%s): %s", store, exc.code, exc)
            return JSONResponse(exc.body(), exc.status)
        except LockHeld:
            return _error(503, "unavailable", "the store is busy with a long run; try again")
        except ConfigError as exc:
            log.error("storefront %r: %s", store, exc)
            return _error(503, "unavailable", "the store has no data yet or is misconfigured")
        except SQLAlchemyError as exc:
            log.error("storefront %r: database error: %s", store, type(exc).__name__)
            return _error(503, "unavailable", "the database is not available")

    def _customer_id(self, request: Request) -> int:
        raw = request.path_params["customer_id"]
        if not _CUSTOMER_ID.fullmatch(raw):
            raise StorefrontRefused(404, "unknown_customer", "not a customer id")
        return int(raw)

    async def program(self, request: Request) -> Response:
        async def answer(store: str, body: bytes) -> Response:
            program = await run_in_threadpool(program_of, self.registry, store, self.now())
            return JSONResponse(program_answer(program))

        return await self._signed(request, answer)

    async def customer(self, request: Request) -> Response:
        async def answer(store: str, body: bytes) -> Response:
            customer_id = self._customer_id(request)
            now = self.now()
            program = await run_in_threadpool(program_of, self.registry, store, now)
            found = await run_in_threadpool(
                customer_answer, self.registry.engine(), program, customer_id, now
            )
            return JSONResponse(found)

        return await self._signed(request, answer)

    async def history(self, request: Request) -> Response:
        async def answer(store: str, body: bytes) -> Response:
            customer_id = self._customer_id(request)
            limit = history_limit(dict(request.query_params))
            program = await run_in_threadpool(program_of, self.registry, store, self.now())
            found = await run_in_threadpool(
                history_answer, self.registry.engine(), program, customer_id, limit
            )
            return JSONResponse(found)

        return await self._signed(request, answer)

    async def redeem(self, request: Request) -> Response:
        async def answer(store: str, body: bytes) -> Response:
            customer_id = self._customer_id(request)
            points, request_id = redemption_request(body)
            now = self.now()
            engine = self.registry.engine()
            program = await run_in_threadpool(program_of, self.registry, store, now)
            redemption = await run_in_threadpool(
                reserve_points, engine, program, customer_id, points, request_id, now
            )
            if redemption.status == "pending":
                client = self.coupon_client(store)
                issuing = asyncio.ensure_future(
                    run_in_threadpool(issue_coupon, engine, client, program, redemption.id, now)
                )
                try:
                    # Shielded: past the wait, the coupon is still made in the background.
                    redemption = await asyncio.wait_for(asyncio.shield(issuing), ISSUE_WAIT_SECONDS)
                except TimeoutError:
                    redemption = await run_in_threadpool(current_redemption, engine, redemption.id)
                except BazgashtError as exc:
                    log.warning("store %r: redemption %d: %s", store, redemption.id, exc)
                    redemption = await run_in_threadpool(current_redemption, engine, redemption.id)
            status, payload = redemption_answer(program, redemption)
            return JSONResponse(payload, status)

        return await self._signed(request, answer)

    # ---------------------------------------------------------------- health

    async def health(self, request: Request) -> Response:
        try:
            counts = await run_in_threadpool(inbox_counts, self.registry.inbox())
        except SQLAlchemyError as exc:
            return _error(503, "unavailable", f"database: {type(exc).__name__}")
        return JSONResponse(
            {
                "status": "ok",
                "inbox": counts,
                "worker_error": self.worker.last_error,
            }
        )


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return _error(405, "method_not_allowed", f"{request.method} is not allowed here")
    if status == 404:
        return _error(404, "not_found", "no such endpoint")
    return _error(status, "error", "the request failed")


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return _error(500, "internal", "an unexpected error; see the server's log")


def create_app(
    registry: Registry,
    *,
    run_worker: bool = True,
    now: Clock = lambda: datetime.now(UTC),
    worker: InboxWorker | None = None,
) -> Starlette:
    """The application for one server process. ``run_worker``: start the inbox worker thread
    with the application (tests may drive ``app.state.worker.run_once()`` themselves). When
    the application shuts down it closes the registry's database connections."""
    worker = worker or InboxWorker(registry, now=now)
    server = Server(registry, worker, now)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        registry.inbox()  # the database opened (and migrated) before the first request
        if run_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()
            server.close()
            registry.close()  # the process's database connections

    prefix = "/storefront/v1/stores/{store}"
    routes = [
        Route("/webhooks/woocommerce/{store}", server.webhook, methods=["POST"]),
        Route(f"{prefix}/program", server.program, methods=["GET"]),
        Route(f"{prefix}/customers/{{customer_id}}", server.customer, methods=["GET"]),
        Route(f"{prefix}/customers/{{customer_id}}/history", server.history, methods=["GET"]),
        Route(f"{prefix}/customers/{{customer_id}}/redemptions", server.redeem, methods=["POST"]),
        Route("/healthz", server.health, methods=["GET"]),
    ]
    application = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _not_found, Exception: _internal},
    )
    application.state.registry = registry
    application.state.worker = worker
    application.state.server = server
    return application


__all__ = ["ISSUE_WAIT_SECONDS", "MAX_STOREFRONT_BODY", "Server", "create_app"]
