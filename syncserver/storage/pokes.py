"""SQL for realtime pokes: announcing commits, and who may care about them.

A push announces its commit positions with NOTIFY inside its transaction, so
listeners hear of it only once it has committed (and never of a rollback).
Every server process LISTENs on one connection (syncserver/realtime.py).
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.devicelog import POSITIONS_PER_TRANSACTION

CHANNEL = "fieldsync_commits"


class Announcement(msgspec.Struct, omit_defaults=True):
    lo: int = 0  # positions lo..hi were committed
    hi: int = 0
    users: list[str] = []  # these users' view changed (role, areas, active)


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def payload(announcement: Announcement) -> str:
    return msgspec.json.encode(announcement).decode()


async def announce(conn: AsyncConnection, announcement: Announcement) -> None:
    """Tell every server process, once this transaction commits. (A push announces
    from the merge's write statement, syncserver/storage/merge.py: one round trip fewer.)"""
    await conn.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload(announcement)})


_SAFE = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * :per_transaction")


async def safe_position(conn: AsyncConnection) -> int:
    """Positions below this are final: a pull serves them (changelog/pull.py)."""
    return int(
        (await conn.execute(_SAFE, {"per_transaction": POSITIONS_PER_TRANSACTION})).scalar_one()
    )


# The technicians and service providers who may see, or hold, what changed in
# positions (lo, hi]: the jobs each change hangs off give their assignees and the
# providers of their area; devices holding a changed entity give their owners
# (that covers an entity leaving a view). Admins and dispatchers see everything.
_INTERESTED = text(
    """
    WITH changed AS (
        SELECT entity, id, data FROM entities WHERE version > :lo AND version <= :hi
    ),
    jobs AS (
        SELECT data FROM changed WHERE entity = 'job'
        UNION ALL
        SELECT j.data FROM changed c
        JOIN entities j ON j.entity = 'job' AND j.id = c.data ->> 'job_id'
        WHERE c.entity IN ('job_note', 'job_photo')
        UNION ALL
        SELECT j.data FROM changed c
        JOIN entities j ON j.entity = 'job' AND j.data ->> 'customer_id' = c.id
        WHERE c.entity = 'customer'
        UNION ALL
        SELECT j.data FROM changed c
        JOIN entities j ON j.entity = 'job' AND j.data ->> 'customer_id' = c.data ->> 'customer_id'
        WHERE c.entity = 'contact'
        UNION ALL
        SELECT j.data FROM changed c
        JOIN entities j ON j.entity = 'job' AND j.data ->> 'location_id' = c.id
        WHERE c.entity = 'location'
    )
    SELECT data ->> 'technician_id' FROM jobs WHERE data ->> 'technician_id' IS NOT NULL
    UNION
    SELECT u.id FROM jobs j
    JOIN entities l ON l.entity = 'location' AND l.id = j.data ->> 'location_id'
    JOIN users u ON u.role = 'service_provider'
                AND l.data ->> 'service_area' = ANY (u.service_areas)
    UNION
    SELECT d.user_id FROM pull_sets s JOIN devices d ON d.device_id = s.device_id
    WHERE s.ids && ARRAY(SELECT id FROM changed)
    """
)


async def interested_users(conn: AsyncConnection, lo: int, hi: int) -> set[str]:
    """Technicians and service providers who may care about positions (lo, hi]."""
    rows = await conn.execute(_INTERESTED, {"lo": lo, "hi": hi})
    return {user_id for (user_id,) in rows}
