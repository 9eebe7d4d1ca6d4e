"""What every answer gets on its way out (docs/protocol.md, "Operations").

- `X-Request-Id`: the request's own when it sent one of 1-64 `[A-Za-z0-9._-]`,
  else a new one; the request's log line carries it.
- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` on every
  answer; on HTML, also `X-Frame-Options: DENY` and a Content-Security-Policy
  (a page may set its own, as the web app and /docs do).
- One JSON log line per request (per socket, when it closes): method, path
  without its query string, status, duration and the caller's user id, which
  the route handler records in `scope["fieldsync"]`.

A pure ASGI middleware, so that it adds nothing but a few header tuples to a push.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.errors import Unavailable, error_body
from syncserver.metrics import Metrics, route_of

log = logging.getLogger("syncserver.access")

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
# For HTML that sets no policy of its own: everything from the server itself.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def user_of(scope: Scope, user_id: str) -> None:
    """Record the caller for the request's log line."""
    scope.setdefault("fieldsync", {})["user_id"] = user_id


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return bytes(value).decode("ascii")
    return uuid.uuid4().hex


def _with_headers(message: Message, request_id: str) -> Message:
    headers = list(message.get("headers", ()))
    names = {name.lower() for name, _ in headers}
    headers += _ALWAYS
    headers.append((b"x-request-id", request_id.encode("ascii")))
    html = any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers)
    if html:
        headers.append((b"x-frame-options", b"DENY"))
        if b"content-security-policy" not in names:
            headers.append((b"content-security-policy", DEFAULT_CSP.encode("ascii")))
    return {**message, "headers": headers}


class Edge:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        scope["fieldsync"] = {"request_id": request_id, "user_id": None}
        started = time.perf_counter()
        status: list[int] = []

        async def send_with_headers(message: Message) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status.append(message["status"])
                message = _with_headers(message, request_id)
            elif kind == "websocket.accept":
                status.append(101)
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", ()),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = scope["fieldsync"].get("route") or route_of(scope["path"])
            method = scope.get("method", "WS")
            self.metrics.request_done(route, method, status[0] if status else 0, seconds)
            extra: dict[str, Any] = {
                "request_id": request_id,
                "method": scope.get("method", "WS"),
                "path": scope["path"],
                "status": status[0] if status else None,
                "duration_ms": round(seconds * 1000, 2),
                "user_id": scope["fieldsync"].get("user_id"),
            }
            log.info("request", extra=extra)


class Deadline:
    """Every HTTP request ends within `timeout_s`: one that has not answered by then
    (a database that hangs, a body trickling in) is cut off with 503 `unavailable`
    and `Retry-After`, and its transaction is rolled back. Blob uploads are exempt
    (their signed URL bounds them, and a photo on a slow link takes long), and so
    are sockets."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/blobs/"):
            await self.app(scope, receive, send)
            return
        started: list[bool] = []
        cut_off: list[bool] = []

        async def send_unless_cut_off(message: Message) -> None:
            if cut_off:
                return  # the deadline has answered for this request
            if message["type"] == "http.response.start":
                started.append(True)
            await send(message)

        # The request runs as a task of its own, so that the answer need not wait for
        # its cancellation: cancelling a statement on a database that hangs can itself
        # hang until the connection's timeouts.
        task = asyncio.ensure_future(self.app(scope, receive, send_unless_cut_off))
        done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if task in done:
            task.result()
            return
        cut_off.append(True)
        task.add_done_callback(_forget)
        task.cancel()
        if not started:
            error = Unavailable(
                f"the request took longer than {self.timeout_s:g} s", retry_after_s=5
            )
            body = msgspec.json.encode(error_body(error))
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", b"5"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def _forget(task: asyncio.Future[None]) -> None:
    """A request cut off by its deadline ends however it ends; nobody reads it."""
    if not task.cancelled() and task.exception() is not None:
        log.info("a request cut off by its deadline ended with %r", task.exception())
