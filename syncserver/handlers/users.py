"""Users and tokens (PROTOCOL.md section 2)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from schema import wire
from syncserver.auth import hash_token, new_token
from syncserver.codec import decode_request, respond
from syncserver.errors import Conflict, NotFound
from syncserver.handlers.common import caller, path_param, query, server
from syncserver.storage import pokes
from syncserver.storage import users as user_store
from syncserver.timefmt import rfc3339


async def me(request: Request) -> Response:
    """The caller's own user, for any role (the web app's navigation comes from it)."""
    state = server(request)
    principal = await caller(request)
    async with state.engine.connect() as conn:
        user = await user_store.get(conn, principal.user_id)
    if user is None:  # a caller is always a user; only a race with a deletion gets here
        raise NotFound("no such user")
    return respond(user)


async def create_user(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    body = await decode_request(request, wire.UserCreate, state.settings.max_body_bytes)
    async with state.engine.begin() as conn:
        try:
            user = await user_store.create(conn, str(uuid.uuid4()), body)
        except user_store.DuplicateEmail:
            raise Conflict(f"a user with email {body.email} exists", {"field": "email"}) from None
    return respond(user, 201)


async def list_users(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin", "dispatcher")
    params = query(request, wire.PageQuery)
    limit = params.limit
    async with state.engine.connect() as conn:
        users = await user_store.page(conn, params.cursor or "", limit + 1)
    next_cursor = users[limit - 1].id if len(users) > limit else None
    return respond(wire.Page(items=list(users[:limit]), next_cursor=next_cursor))


async def update_user(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    body = await decode_request(request, wire.UserPatch, state.settings.max_body_bytes)
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(body).items()
        if value is not msgspec.UNSET
    }
    async with state.engine.begin() as conn:
        user = await user_store.update(conn, path_param(request, "user_id"), changes)
        if user is not None:
            # What the user may see may have changed: their sockets should pull.
            await pokes.announce(conn, pokes.Announcement(users=[user.id]))
    if user is None:
        raise NotFound("no such user")
    return respond(user)


async def issue_token(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    body = await decode_request(
        request, wire.TokenCreate, state.settings.max_body_bytes, empty_ok=True
    )
    user_id = path_param(request, "user_id")
    token = new_token()
    token_id = str(uuid.uuid4())
    expires_at = None
    if body.ttl_s is not None:
        expires_at = datetime.now(UTC) + timedelta(seconds=body.ttl_s)
    async with state.engine.begin() as conn:
        if await user_store.get(conn, user_id) is None:
            raise NotFound("no such user")
        await user_store.create_token(conn, token_id, user_id, hash_token(token), expires_at)
    issued = wire.TokenIssued(
        id=token_id, token=token, expires_at=None if expires_at is None else rfc3339(expires_at)
    )
    return respond(issued, 201)


async def list_tokens(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    user_id = path_param(request, "user_id")
    async with state.engine.connect() as conn:
        if await user_store.get(conn, user_id) is None:
            raise NotFound("no such user")
        tokens = await user_store.tokens_of(conn, user_id)
    return respond(wire.TokenList(items=tokens))


async def revoke_token(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    async with state.engine.begin() as conn:
        user_id = await user_store.revoke_token(conn, path_param(request, "token_id"))
        if user_id is not None:
            # Sockets opened with it close (syncserver/realtime.py).
            await pokes.announce(conn, pokes.Announcement(users=[user_id]))
    if user_id is None:
        raise NotFound("no such token")
    return Response(status_code=204)
