"""CORS for the origins in `SYNCSERVER_CORS_ORIGINS` only (docs/protocol.md,
"Operations"): their requests, preflights included, get Starlette's CORS headers
with `Authorization` and `Content-Type` allowed; any other origin's request goes
on as if it had none (a preflight then answers 405, as any OPTIONS does)."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def origins(setting: str) -> frozenset[str]:
    """The allowed origins of the comma-separated setting."""
    return frozenset(o.strip().rstrip("/") for o in setting.split(",") if o.strip())


class Cors:
    def __init__(self, app: ASGIApp, setting: str) -> None:
        self.app = app
        self.allowed = origins(setting)
        self.cors = CORSMiddleware(
            app,
            allow_origins=sorted(self.allowed),
            allow_methods=METHODS,
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _origin(scope) in self.allowed:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _origin(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            return bytes(value).decode("latin-1")
    return None
