"""Request bodies in, response bodies out: JSON, or MessagePack on /sync/*."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from syncserver.errors import InvalidRequest, PayloadTooLarge

T = TypeVar("T")

MSGPACK = "application/msgpack"
JSON = "application/json"

_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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


def _is_msgpack(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == MSGPACK


def decode(body: bytes, type_: type[T], *, msgpack: bool = False) -> T:
    """Decode a body straight into its Struct; any failure is `invalid_request`."""
    if msgpack:
        try:
            return msgspec.msgpack.decode(body, type=type_)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise InvalidRequest(str(exc)) from None
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        if "Number out of range" not in str(exc):
            raise InvalidRequest(str(exc)) from None
    except msgspec.DecodeError:
        pass
    except UnicodeDecodeError:
        raise InvalidRequest("body is not valid UTF-8") from None
    # Valid JSON that msgspec refuses: lone surrogates and numbers beyond float
    # range. Decode it anyway so that the op holding it is rejected and logged.
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidRequest("body is not valid UTF-8") from None
    except ValueError as exc:
        raise InvalidRequest(f"malformed JSON: {exc}") from None
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc)) from None


async def decode_request(
    request: Request, type_: type[T], limit: int, *, empty_ok: bool = False
) -> T:
    body = await read_body(request, limit)
    if empty_ok and not body.strip():
        body = b"{}"
    return decode(body, type_, msgpack=_is_msgpack(request))


async def decode_request_keeping_json(
    request: Request, type_: type[T], limit: int
) -> tuple[T, bytes | None]:
    """`decode_request`, and the body itself if it is JSON (None for MessagePack)."""
    body = await read_body(request, limit)
    msgpack = _is_msgpack(request)
    return decode(body, type_, msgpack=msgpack), None if msgpack else body


def respond(value: Any, status: int = 200, *, msgpack: bool = False) -> Response:
    if msgpack:
        return Response(_msgpack_encoder.encode(value), status, media_type=MSGPACK)
    return Response(_json_encoder.encode(value), status, media_type=JSON)
