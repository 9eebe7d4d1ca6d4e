"""Helpers every handler uses: state, the caller, list paging, raw JSON answers."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from syncserver.auth import Principal, bearer
from syncserver.errors import InvalidRequest, NotFound
from syncserver.state import ServerState

Q = TypeVar("Q", bound=msgspec.Struct)


def server(request: Request) -> ServerState:
    state: ServerState = request.state.server
    return state


async def caller(request: Request) -> Principal:
    token = bearer(request.headers.get("authorization"))
    return await server(request).auth.principal(token)


def path_param(request: Request, name: str) -> str:
    """A path parameter; one holding U+0000 names nothing that can exist."""
    value: str = request.path_params[name]
    if "\x00" in value:
        raise NotFound(f"no such {name.removesuffix('_id')}")
    return value


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
