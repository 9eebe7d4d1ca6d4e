"""Pull (PROTOCOL.md section 6): pages of changes after a cursor, and undelivered notices.

Commit positions are assigned under the commit lock and in commit order, so
every change at or below the highest visible position is already visible: a
cursor at position P never skips a change committed later.

Each page is read in one REPEATABLE READ snapshot; PostgreSQL assembles the
changes as JSON text, which goes to the client without being parsed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.cursor import Cursor

_HORIZON = text("SELECT position FROM sync_clock WHERE id = 1")

# Each row keeps its pull entry rendered (`change`, written by the merge): a page
# is those entries joined. The aggregate reads the ordered LIMIT subquery in order
# (an ORDER BY inside string_agg would sort all over again and halve the rate);
# tests/api/test_pull.py checks that pages come oldest first.
_PAGE = text(
    """
    SELECT '[' || coalesce(page.changes, '') || ']', page.last,
           (SELECT e.version FROM entities e
            WHERE e.version > coalesce(page.last, :after)
              AND NOT (e.deleted AND e.version <= :horizon)
            ORDER BY e.version LIMIT 1) IS NOT NULL
    FROM (SELECT string_agg(change, ',') AS changes, max(version) AS last
          FROM (SELECT version, change FROM entities
                WHERE version > :after AND NOT (deleted AND version <= :horizon)
                ORDER BY version
                LIMIT :limit) AS rows) AS page
    """
)

_ACK = text(
    """
    UPDATE devices SET notices_acked = greatest(notices_acked, :acked), last_pull_at = now()
    WHERE device_id = :device_id
    RETURNING notices_acked
    """
)


@dataclass(frozen=True, slots=True)
class ChangesPage:
    changes_json: str
    cursor: Cursor
    has_more: bool


async def acknowledge_notices(conn: AsyncConnection, device_id: str, acked: int) -> int:
    """Record the notices the device has received; returns its acknowledged notice seq."""
    return int((await conn.execute(_ACK, {"device_id": device_id, "acked": acked})).scalar_one())


async def changes_page(
    conn: AsyncConnection, cursor: Cursor | None, limit: int, notices_acked: int
) -> ChangesPage:
    """One page of changes. Call inside a REPEATABLE READ transaction."""
    if cursor is None:
        horizon = int((await conn.execute(_HORIZON)).scalar_one())
        cursor = Cursor(after=0, horizon=horizon, notices=notices_acked)
    row = (
        await conn.execute(
            _PAGE, {"after": cursor.after, "horizon": cursor.horizon, "limit": limit}
        )
    ).one()
    changes_json, last, has_more = row
    after = cursor.after if last is None else int(last)
    return ChangesPage(changes_json, Cursor(after, cursor.horizon, cursor.notices), bool(has_more))
