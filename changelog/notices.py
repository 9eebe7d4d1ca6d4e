"""SQL for the `notices` table (conflict notices)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import driver
from schema import wire

# A notice as served, from a row of `notices` aliased `n`.
NOTICE_JSON = """
    json_build_object('id', n.id, 'entity', n.entity, 'entity_id', n.entity_id,
                      'field', n.field, 'status', n.status, 'winner', n.winner,
                      'loser', n.loser, 'detected_at', rfc3339(n.detected_at),
                      'resolution', n.resolution)
"""

_FOR_DEVICE = text(
    f"""
    SELECT coalesce(json_agg({NOTICE_JSON} ORDER BY n.seq), '[]')::text, max(n.seq), count(*)
    FROM (SELECT * FROM notices WHERE loser_device_id = :device_id AND seq > :after
          AND position < :safe
          ORDER BY seq LIMIT :limit) AS n
    """
)

_notices = msgspec.json.Decoder(list[wire.Notice])


async def for_device(
    conn: AsyncConnection, device_id: str, after: int, limit: int, safe: int
) -> tuple[list[wire.Notice], int | None, int]:
    """Notices lost by this device with seq > after, of positions below `safe` (see
    changelog/pull.py): (notices, last seq, count)."""
    ((notices, last, count),) = await driver.rows(
        conn, _FOR_DEVICE, {"device_id": device_id, "after": after, "limit": limit, "safe": safe}
    )
    return _notices.decode(notices), last, count


_FILTERS = {
    "status": "n.status = :status",
    "entity": "n.entity = :entity",
    "entity_id": "n.entity_id = :entity_id",
    "field": "n.field = :field",
    "device_id": "(n.winner_device_id = :device_id OR n.loser_device_id = :device_id)",
    "user_id": "(n.winner_user_id = :user_id OR n.loser_user_id = :user_id)",
    "since": "n.detected_at >= :since",
}


async def page(
    conn: AsyncConnection, filters: dict[str, object], after: int, limit: int
) -> tuple[str, str | None]:
    """A JSON array of notices matching the filters (those not None), oldest first, and
    the next cursor. Each combination of filters is its own statement, with its own plan."""
    present = {name: value for name, value in filters.items() if value is not None}
    where = " AND ".join(["n.seq > :after", *(_FILTERS[name] for name in present)])
    statement = text(
        f"""
        WITH page AS (
            SELECT n.*, row_number() OVER (ORDER BY n.seq) AS rn
            FROM (SELECT * FROM notices n WHERE {where} ORDER BY n.seq LIMIT :limit + 1) AS n
        )
        SELECT coalesce(json_agg({NOTICE_JSON} ORDER BY n.seq) FILTER (WHERE rn <= :limit),
                        '[]')::text,
               max(n.seq) FILTER (WHERE rn <= :limit),
               count(*) > :limit
        FROM page n
        """
    )
    items, last, more = (
        await conn.execute(statement, {"after": after, "limit": limit, **present})
    ).one()
    return items, str(last) if more else None


_SUBJECT = text("SELECT entity, entity_id FROM notices WHERE id = :id")

_ONE = text(f"SELECT {NOTICE_JSON}::text FROM notices n WHERE n.id = :id")

_SUMMARY = text(
    """
    SELECT json_build_object(
        'by_entity', (SELECT coalesce(json_object_agg(entity, c), '{}')
                      FROM (SELECT entity, count(*) AS c FROM notices GROUP BY entity) x),
        'by_field', (SELECT coalesce(json_object_agg(field, c), '{}')
                     FROM (SELECT field, count(*) AS c FROM notices GROUP BY field) x),
        'by_status', (SELECT coalesce(json_object_agg(status, c), '{}')
                      FROM (SELECT status, count(*) AS c FROM notices GROUP BY status) x),
        'by_day', (SELECT coalesce(json_object_agg(day, c ORDER BY day), '{}')
                   FROM (SELECT to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                                count(*) AS c
                         FROM notices GROUP BY 1) x)
    )::text
    """
)

_LOCK_ONE = text("SELECT n.status, n.entity, n.entity_id, n.field, n.winner, n.loser "
                 "FROM notices n WHERE n.id = :id FOR UPDATE")  # fmt: skip

_RESOLVE = text(
    """
    UPDATE notices SET status = 'resolved', resolution = CAST(:resolution AS jsonb)
    WHERE id = :id AND status = 'open'
    """
)


async def subject(conn: AsyncConnection, notice_id: str) -> tuple[str, str] | None:
    """The entity a notice is about, or None if there is no such notice."""
    row = (await conn.execute(_SUBJECT, {"id": notice_id})).first()
    return None if row is None else (row[0], row[1])


async def get(conn: AsyncConnection, notice_id: str) -> str | None:
    return (await conn.execute(_ONE, {"id": notice_id})).scalar()


async def summary(conn: AsyncConnection) -> str:
    """Counts by entity, field, status and day (UTC), as JSON text."""
    return str((await conn.execute(_SUMMARY)).scalar())


async def lock_open(conn: AsyncConnection, notice_id: str) -> Any | None:
    """The notice's row (status, entity, entity_id, field, winner, loser), locked until
    the transaction ends; None if there is no such notice."""
    return (await conn.execute(_LOCK_ONE, {"id": notice_id})).first()


async def mark_resolved(conn: AsyncConnection, notice_id: str, resolution: dict[str, Any]) -> None:
    await conn.execute(
        _RESOLVE, {"id": notice_id, "resolution": msgspec.json.encode(resolution).decode()}
    )


# The merge's notices inserted, as a CTE of its one statement (changelog/merge.py).
# Binds `:notices` (the merge's, as JSON) and `:received_at`.
INSERT_CTE = """
inserted_notices AS (
    INSERT INTO notices (seq, id, entity, entity_id, field, winner, loser, winner_device_id,
                         loser_device_id, winner_user_id, loser_user_id, position, detected_at)
    SELECT n.seq, n.id, n.entity, n.entity_id, n.field, n.winner, n.loser,
           n.winner ->> 'device_id', n.loser ->> 'device_id', n.winner ->> 'user_id',
           n.loser ->> 'user_id', n.pos, to_timestamp(:received_at / 1000.0)
    FROM jsonb_to_recordset(CAST(:notices AS jsonb)) AS n(
        seq bigint, id text, pos bigint, entity text, entity_id text, field text,
        winner jsonb, loser jsonb)
    ORDER BY n.seq
    ON CONFLICT (id) DO NOTHING
    RETURNING seq, id, entity, entity_id, field, status, winner, loser, detected_at, resolution
)
"""
