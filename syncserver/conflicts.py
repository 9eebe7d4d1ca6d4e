"""Conflict reports and resolution (docs/protocol.md, "Conflict reports and
resolution"): the service calls of /api/conflicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from changelog import notices as notice_store
from changelog import resolve
from schema.errors import NotFound
from syncserver.codec import RawJson, RawPage
from syncserver.storage import keyset
from syncserver.storage import users as user_store

if TYPE_CHECKING:
    from syncserver.routes import Call


async def list_conflicts(call: Call) -> RawPage:
    params = call.query
    filters = msgspec.structs.asdict(params)
    for name in ("limit", "cursor"):
        filters.pop(name)
    after = keyset.position(params.cursor)
    async with call.state.engine.connect() as conn:
        return RawPage(*await notice_store.page(conn, filters, after, params.limit))


async def get_conflict(call: Call) -> RawJson:
    async with call.state.engine.connect() as conn:
        doc = await notice_store.get(conn, call.path["notice_id"])
    if doc is None:
        raise NotFound("no such conflict notice")
    return RawJson(doc)


async def conflicts_summary(call: Call) -> RawJson:
    async with call.state.engine.connect() as conn:
        return RawJson(await notice_store.summary(conn))


async def resolve_conflict(call: Call) -> RawJson:
    doc = await resolve.resolve(
        call.state.engine,
        call.who,
        call.path["notice_id"],
        call.body,
        user_store.active_technicians,
    )
    return RawJson(doc)
