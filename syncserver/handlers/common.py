"""Helpers every handler uses: state, the caller, list paging, raw JSON answers."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from syncserver.auth import Principal, bearer
from syncserver.errors import InvalidRequest
from syncserver.state import ServerState

Q = TypeVar("Q", bound=msgspec.Struct)

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


def query(request: Request, type_: type[Q]) -> Q:
    """The query string converted into its Struct; empty parameters count as absent."""
    params = {name: value for name, value in request.query_params.items() if value != ""}
    try:
        return msgspec.convert(params, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc).replace("$.", "query parameter ")) from None


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
