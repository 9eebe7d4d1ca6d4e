"""Pull (docs/protocol.md, "Pull"): pages of changes after a cursor, and undelivered notices.

A position is `xid * 1024 + k` (changelog/devicelog.py). Every transaction
whose xid is below the snapshot's xmin has finished, and any transaction
still to write gets a larger xid; so a page serves only positions below
`xmin * 1024`, and a cursor never skips a change committed after it. A
change of a transaction that committed while an older one is still running
waits for the next pull.

Each page is one statement, so one snapshot; PostgreSQL assembles the changes
as JSON text, which goes to the client without being parsed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import pagetext
from changelog.cursor import Cursor
from changelog.devicelog import SAFE_POSITION

# Each row keeps its pull entry rendered (`change`, written by the merge): a page
# is those entries joined. The brackets are added in Python: a `'[' || ... || ']'`
# here copies the whole page twice more. The aggregate reads the ordered LIMIT
# subquery in order (an ORDER BY inside string_agg would sort all over again);
# tests/api/test_pull.py checks that pages come oldest first.
#
# One statement, so one snapshot: `safe` comes from the very snapshot that reads
# the rows (pg_current_snapshot is the statement's snapshot in READ COMMITTED).
_PAGE = text(
    f"""
    WITH bound AS (
        SELECT {SAFE_POSITION} AS safe
    ), horizon AS (
        SELECT coalesce(CAST(:horizon AS bigint), safe - 1) AS horizon FROM bound
    )
    SELECT coalesce(page.changes, ''), page.last,
           coalesce((SELECT e.version FROM entities e
                     WHERE e.version > coalesce(page.last, :after)
                       AND NOT (e.deleted AND e.version <= (SELECT horizon FROM horizon))
                     ORDER BY e.version LIMIT 1) < (SELECT safe FROM bound), false),
           (SELECT safe FROM bound), (SELECT horizon FROM horizon)
    FROM (SELECT string_agg(change, ',') AS changes, max(version) AS last
          FROM (SELECT version, change FROM entities
                WHERE version > :after
                  AND NOT (deleted AND version <= (SELECT horizon FROM horizon))
                ORDER BY version
                LIMIT :limit) AS rows
          -- Cut at `safe` after the LIMIT: a range bound inside would let a stale
          -- row estimate trade the ordered index scan for a bitmap scan and a sort.
          WHERE version < (SELECT safe FROM bound)) AS page
    """
)


@dataclass(frozen=True, slots=True)
class ChangesPage:
    entries: bytes  # the page's pull entries (JSON objects) joined by commas, no brackets
    cursor: Cursor
    has_more: bool
    safe: int  # positions below this were final when the page was read


async def changes_page(
    conn: AsyncConnection, cursor: Cursor | None, limit: int, notices_acked: int
) -> ChangesPage:
    """One page of changes after `cursor` (None: from the start), in one statement."""
    after = cursor.after if cursor else 0
    row = await pagetext.one_row(
        conn,
        _PAGE,
        {
            "after": after,
            # From a null cursor, entities already deleted are never sent, on any page.
            "horizon": cursor.horizon if cursor else None,
            "limit": limit,
        },
    )
    entries, last, has_more, safe, horizon = row
    notices = cursor.notices if cursor else notices_acked
    return ChangesPage(
        entries,
        Cursor(after if last is None else int(last), int(horizon), notices),
        bool(has_more),
        int(safe),
    )
