"""POST /sync/push and POST /sync/pull."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from schema import wire
from schema.ops import op_texts
from syncserver import photos
from syncserver import pull as pull_service
from syncserver import push as push_service
from syncserver.codec import (
    decode_request,
    decode_request_keeping_json,
    respond,
    wants_msgpack,
)
from syncserver.handlers.common import caller, server


async def push(request: Request) -> Response:
    state = server(request)
    principal = await caller(request)
    body, json_body = await decode_request_keeping_json(
        request, wire.PushRequest, state.settings.max_body_bytes
    )
    await photos.settle_photo_ops(state.engine, state.blobs, body.ops)
    response = await push_service.push(
        state.engine,
        principal,
        body,
        state.settings.max_clock_skew_ms,
        texts=None if json_body is None else op_texts(json_body),
    )
    return respond(response, msgpack=wants_msgpack(request))


async def pull(request: Request) -> Response:
    state = server(request)
    principal = await caller(request)
    body = await decode_request(request, wire.PullRequest, state.settings.max_body_bytes)
    page = await pull_service.pull(state.engine, principal, body)
    if wants_msgpack(request):
        # The changes arrive as JSON text from PostgreSQL; MessagePack needs them as values.
        changes = msgspec.json.decode(page.changes, type=list[wire.Change])
        return respond(
            {
                "cursor": page.cursor,
                "has_more": page.has_more,
                "server_time": page.server_time,
                "changes": changes,
                "notices": page.notices,
            },
            msgpack=True,
        )
    return respond(page)
