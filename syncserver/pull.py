"""Pull (PROTOCOL.md section 6): device ownership, notice acknowledgement, one page."""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from changelog import devicelog
from changelog.cursor import Cursor, decode_cursor
from changelog.hlc import wall_ms
from changelog.pull import changes_page
from schema import wire
from syncserver.auth import Principal
from syncserver.errors import DeviceTaken, InvalidRequest
from syncserver.storage import notices as notice_store

NOTICES_PER_PULL = 500


async def pull(
    engine: AsyncEngine, principal: Principal, request: wire.PullRequest
) -> wire.PullResponse:
    cursor: Cursor | None = None
    if request.cursor is not None:
        try:
            cursor = decode_cursor(request.cursor)
        except ValueError as exc:
            raise InvalidRequest(str(exc), {"field": "cursor"}) from None
    async with engine.connect() as conn:
        # Three statements, each its own transaction: no BEGIN/COMMIT round trips.
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        acked = await devicelog.claim_for_pull(
            conn, request.device_id, principal.user_id, cursor.notices if cursor else 0
        )
        if acked is None:
            raise DeviceTaken(f"device {request.device_id} belongs to another user")
        page = await changes_page(conn, cursor, request.limit, acked)
        notices, last_notice, count = await notice_store.for_device(
            conn, request.device_id, acked, NOTICES_PER_PULL, page.safe
        )
    next_cursor = Cursor(
        page.cursor.after, page.cursor.horizon, acked if last_notice is None else last_notice
    )
    return wire.PullResponse(
        cursor=next_cursor.encode(),
        has_more=page.has_more or count >= NOTICES_PER_PULL,
        server_time=wall_ms(),
        changes=msgspec.Raw(page.changes_json.encode()),
        notices=notices,
    )
