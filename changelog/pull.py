"""Pull (docs/protocol.md, "Pull"): device ownership, notice acknowledgement, one page.

Admins and dispatchers page through every change (changelog/pages.py);
technicians and service providers through what they see (changelog/restricted.py).
"""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog
from changelog import notices as notice_store
from changelog.cursor import Cursor, decode_cursor
from changelog.hlc import wall_ms
from changelog.pages import ChangesPage, changes_page
from changelog.restricted import restricted_page
from schema import wire
from schema.errors import DeviceTaken
from schema.rights import SEES_EVERYTHING, Principal

NOTICES_PER_PULL = 500


async def pull(
    engine: AsyncEngine, principal: Principal, request: wire.PullRequest
) -> wire.PullResponse:
    cursor = None if request.cursor is None else decode_cursor(request.cursor)
    async with engine.connect() as conn:
        # Three statements, each its own transaction: no BEGIN/COMMIT round trips.
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        acked = await devicelog.claim_for_pull(
            conn, request.device_id, principal.user_id, cursor.notices if cursor else 0
        )
        if acked is None:
            raise DeviceTaken(f"device {request.device_id} belongs to another user")
        page = await _page(conn, principal, request, cursor, acked)
        notices, last_notice, count = await notice_store.for_device(
            conn, request.device_id, acked, NOTICES_PER_PULL, page.safe
        )
    next_cursor = Cursor(
        page.cursor.after,
        page.cursor.horizon,
        acked if last_notice is None else last_notice,
        page.cursor.held,
    )
    return wire.PullResponse(
        cursor=next_cursor.encode(),
        has_more=page.has_more or count >= NOTICES_PER_PULL,
        server_time=wall_ms(),
        changes=msgspec.Raw(b"".join((b"[", page.entries, b"]"))),
        notices=notices,
    )


async def _page(
    conn: AsyncConnection,
    principal: Principal,
    request: wire.PullRequest,
    cursor: Cursor | None,
    acked: int,
) -> ChangesPage:
    if principal.role in SEES_EVERYTHING:
        if cursor is not None and cursor.held is not None:
            # The user saw less when this cursor was issued: send everything again, and
            # `removed` for what was deleted since (the device may hold it).
            cursor = Cursor(0, cursor.after, cursor.notices)
        return await changes_page(conn, cursor, request.limit, acked)
    return await restricted_page(
        conn,
        device_id=request.device_id,
        user_id=principal.user_id,
        role=principal.role,
        areas=principal.areas,
        cursor=cursor,
        limit=request.limit,
        notices_acked=acked,
    )
