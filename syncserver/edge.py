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

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            extra: dict[str, Any] = {
                "request_id": request_id,
                "method": scope.get("method", "WS"),
                "path": scope["path"],
                "status": status[0] if status else None,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": scope["fieldsync"].get("user_id"),
            }
            log.info("request", extra=extra)
