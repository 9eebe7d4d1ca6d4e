"""GET /healthz."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from schema import wire
from syncserver.codec import respond


async def healthz(request: Request) -> Response:
    return respond(wire.Health(status="ok"))
