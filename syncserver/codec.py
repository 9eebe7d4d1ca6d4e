"""Request bodies in, response bodies out: JSON, or MessagePack on /sync/*."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from schema import wire
from schema.errors import InvalidRequest, PayloadTooLarge
from schema.ops import TOO_DEEP

T = TypeVar("T")

MSGPACK = "application/msgpack"
JSON = "application/json"

_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes", {"limit": limit})
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body larger than {limit} bytes", {"limit": limit})
            chunks.append(chunk)
    except ClientDisconnect:
        # The client left (a page navigated away mid-request): not the server's fault,
        # and nobody reads the answer.
        raise InvalidRequest("the client went away before its body arrived") from None
    return b"".join(chunks)


def wants_msgpack(request: Request) -> bool:
    return MSGPACK in request.headers.get("accept", "")


def is_msgpack(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == MSGPACK


def decode(body: bytes, type_: type[T], *, msgpack: bool = False) -> T:
    """Decode a body straight into its Struct; any failure is `invalid_request`.

    Unlike a push (`schema.ops.decode_push`, whose odd ops are logged as rejected),
    no other body is decoded leniently: JSON that msgspec refuses, a lone surrogate
    or a number beyond float range, is refused here."""
    decoder = msgspec.msgpack.decode if msgpack else msgspec.json.decode
    try:
        return decoder(body, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InvalidRequest(str(exc)) from None
    except RecursionError:
        raise InvalidRequest(TOO_DEEP) from None


@dataclass(frozen=True, slots=True)
class RawJson:
    """An answer PostgreSQL already encoded as JSON text."""

    text: str


@dataclass(frozen=True, slots=True)
class RawPage:
    """`{"items": [...], "next_cursor": ...}` around items PostgreSQL already encoded."""

    items_json: str
    next_cursor: str | None

    def body(self) -> bytes:
        return (
            b'{"items":'
            + self.items_json.encode("utf-8")
            + b',"next_cursor":'
            + _json_encoder.encode(self.next_cursor)
            + b"}"
        )


_changes = msgspec.json.Decoder(list[wire.Change])


def respond(value: Any, status: int = 200, *, msgpack: bool = False) -> Response:
    if msgpack:
        if isinstance(value, wire.PullResponse):
            # The changes are JSON text from PostgreSQL; MessagePack needs them as values.
            value = msgspec.structs.replace(value, changes=_changes.decode(value.changes))
        return Response(_msgpack_encoder.encode(value), status, media_type=MSGPACK)
    return Response(_json_encoder.encode(value), status, media_type=JSON)
