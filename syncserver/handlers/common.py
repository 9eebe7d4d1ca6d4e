"""Helpers every handler uses: state, the caller, list paging, raw JSON answers."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from syncserver.auth import Principal, bearer
from syncserver.errors import InvalidRequest
from syncserver.state import ServerState

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


def server(request: Request) -> ServerState:
    state: ServerState = request.state.server
    return state


async def caller(request: Request) -> Principal:
    token = bearer(request.headers.get("authorization"))
    return await server(request).auth.principal(token)


def limit_param(request: Request, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidRequest(f"limit must be an integer from 1 to {maximum}", {"field": "limit"})
    return int(raw)


def int_cursor(request: Request) -> int:
    raw = request.query_params.get("cursor")
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidRequest("cursor is not one this server issued", {"field": "cursor"})
    return int(raw)


def raw_json(text: str, status: int = 200) -> Response:
    return Response(text.encode("utf-8"), status, media_type="application/json")


def raw_page(items_json: str, next_cursor: str | None) -> Response:
    """`{"items": [...], "next_cursor": ...}` around items PostgreSQL already encoded."""
    body = (
        b'{"items":'
        + items_json.encode("utf-8")
        + b',"next_cursor":'
        + msgspec.json.encode(next_cursor)
        + b"}"
    )
    return Response(body, 200, media_type="application/json")
