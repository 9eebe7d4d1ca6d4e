"""Users and tokens (docs/protocol.md, "Auth and roles"): the service calls of /api/users,
/api/me and /api/tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from changelog import pokes
from schema import wire
from schema.errors import NotFound
from schema.timefmt import rfc3339
from syncserver.auth import hash_token, new_token
from syncserver.storage import users as user_store

if TYPE_CHECKING:
    from syncserver.routes import Call


async def me(call: Call) -> wire.User:
    """The caller's own user, for any role (the web app's navigation comes from it)."""
    async with call.state.engine.connect() as conn:
        user = await user_store.get(conn, call.who.user_id)
    if user is None:  # a caller is always a user; only a race with a deletion gets here
        raise NotFound("no such user")
    return user


async def create_user(call: Call) -> wire.User:
    async with call.state.engine.begin() as conn:
        return await user_store.create(conn, str(uuid.uuid4()), call.body)


async def list_users(call: Call) -> wire.Page:
    limit = call.query.limit
    async with call.state.engine.connect() as conn:
        users = await user_store.page(conn, call.query.cursor or "", limit + 1)
    next_cursor = users[limit - 1].id if len(users) > limit else None
    return wire.Page(items=list(users[:limit]), next_cursor=next_cursor)


async def update_user(call: Call) -> wire.User:
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(call.body).items()
        if value is not msgspec.UNSET
    }
    async with call.state.engine.begin() as conn:
        user = await user_store.update(conn, call.path["user_id"], changes)
        if user is None:
            raise NotFound("no such user")
        # What the user may see may have changed: their sockets should pull.
        await pokes.announce(conn, pokes.Announcement(users=[user.id]))
    return user


async def issue_token(call: Call) -> wire.TokenIssued:
    user_id = call.path["user_id"]
    token = new_token()
    token_id = str(uuid.uuid4())
    ttl_s = call.body.ttl_s
    expires_at = None if ttl_s is None else datetime.now(UTC) + timedelta(seconds=ttl_s)
    async with call.state.engine.begin() as conn:
        if await user_store.get(conn, user_id) is None:
            raise NotFound("no such user")
        await user_store.create_token(conn, token_id, user_id, hash_token(token), expires_at)
    return wire.TokenIssued(
        id=token_id, token=token, expires_at=None if expires_at is None else rfc3339(expires_at)
    )


async def list_tokens(call: Call) -> wire.TokenList:
    user_id = call.path["user_id"]
    async with call.state.engine.connect() as conn:
        if await user_store.get(conn, user_id) is None:
            raise NotFound("no such user")
        return wire.TokenList(items=await user_store.tokens_of(conn, user_id))


async def revoke_token(call: Call) -> None:
    async with call.state.engine.begin() as conn:
        user_id = await user_store.revoke_token(conn, call.path["token_id"])
        if user_id is None:
            raise NotFound("no such token")
        # Sockets opened with it close (syncserver/realtime.py).
        await pokes.announce(conn, pokes.Announcement(users=[user_id]))
