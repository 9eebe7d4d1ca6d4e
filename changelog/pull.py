"""Pull (PROTOCOL.md section 6): pages of changes after a cursor, and undelivered notices.

A position is `xid * 1024 + k` (changelog/devicelog.py). Every transaction
whose xid is below the snapshot's xmin has finished, and any transaction
still to write gets a larger xid; so a page serves only positions below
`xmin * 1024`, and a cursor never skips a change committed after it. A
change of a transaction that committed while an older one is still running
waits for the next pull.

Each page is read in one REPEATABLE READ snapshot; PostgreSQL assembles the
changes as JSON text, which goes to the client without being parsed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.cursor import Cursor
from changelog.devicelog import POSITIONS_PER_TRANSACTION

_SAFE = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * :per_transaction")

# Each row keeps its pull entry rendered (`change`, written by the merge): a page
# is those entries joined. The aggregate reads the ordered LIMIT subquery in order
# (an ORDER BY inside string_agg would sort all over again and halve the rate);
# tests/api/test_pull.py checks that pages come oldest first.
_PAGE = text(
    """
    SELECT '[' || coalesce(page.changes, '') || ']', page.last,
           coalesce((SELECT e.version FROM entities e
                     WHERE e.version > coalesce(page.last, :after)
                       AND NOT (e.deleted AND e.version <= :horizon)
                     ORDER BY e.version LIMIT 1) < :safe, false)
    FROM (SELECT string_agg(change, ',') AS changes, max(version) AS last
          FROM (SELECT version, change FROM entities
                WHERE version > :after AND NOT (deleted AND version <= :horizon)
                ORDER BY version
                LIMIT :limit) AS rows
          -- Cut at `safe` after the LIMIT: a range bound inside would let a stale
          -- row estimate trade the ordered index scan for a bitmap scan and a sort.
          WHERE version < :safe) AS page
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
    safe: int  # positions below this are final in this snapshot


async def acknowledge_notices(conn: AsyncConnection, device_id: str, acked: int) -> int:
    """Record the notices the device has received; returns its acknowledged notice seq."""
    return int((await conn.execute(_ACK, {"device_id": device_id, "acked": acked})).scalar_one())


async def changes_page(
    conn: AsyncConnection, cursor: Cursor | None, limit: int, notices_acked: int
) -> ChangesPage:
    """One page of changes. Call inside a REPEATABLE READ transaction."""
    safe = int(
        (await conn.execute(_SAFE, {"per_transaction": POSITIONS_PER_TRANSACTION})).scalar_one()
    )
    if cursor is None:
        # Entities already deleted when the sync began are never sent, on any page.
        cursor = Cursor(after=0, horizon=safe - 1, notices=notices_acked)
    row = (
        await conn.execute(
            _PAGE,
            {"after": cursor.after, "horizon": cursor.horizon, "limit": limit, "safe": safe},
        )
    ).one()
    changes_json, last, has_more = row
    after = cursor.after if last is None else int(last)
    return ChangesPage(
        changes_json, Cursor(after, cursor.horizon, cursor.notices), bool(has_more), safe
    )
