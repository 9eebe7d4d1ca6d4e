"""SQL for the `notices` table (conflict notices)."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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

_LIST = text(
    f"""
    WITH page AS (
        SELECT * FROM notices
        WHERE seq > :after
          AND (CAST(:status AS text) IS NULL OR status = :status)
          AND (CAST(:entity AS text) IS NULL OR entity = :entity)
          AND (CAST(:entity_id AS text) IS NULL OR entity_id = :entity_id)
          AND (CAST(:field AS text) IS NULL OR field = :field)
        ORDER BY seq LIMIT :limit + 1
    ), n AS (
        SELECT *, row_number() OVER (ORDER BY seq) AS rn FROM page
    )
    SELECT coalesce(json_agg({NOTICE_JSON} ORDER BY n.seq) FILTER (WHERE rn <= :limit),
                    '[]')::text,
           max(n.seq) FILTER (WHERE rn <= :limit),
           count(*) > :limit
    FROM n
    """
)

_notices = msgspec.json.Decoder(list[wire.Notice])


async def for_device(
    conn: AsyncConnection, device_id: str, after: int, limit: int, safe: int
) -> tuple[list[wire.Notice], int | None, int]:
    """Notices lost by this device with seq > after, of positions below `safe` (see
    changelog/pull.py): (notices, last seq, count)."""
    row = (
        await conn.execute(
            _FOR_DEVICE, {"device_id": device_id, "after": after, "limit": limit, "safe": safe}
        )
    ).one()
    return _notices.decode(row[0]), row[1], row[2]


async def page(
    conn: AsyncConnection,
    *,
    after: int,
    limit: int,
    status: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    field: str | None = None,
) -> tuple[str, str | None]:
    """A JSON array of notices matching the filters, oldest first, and the next cursor."""
    items, last, more = (
        await conn.execute(
            _LIST,
            {
                "after": after,
                "limit": limit,
                "status": status,
                "entity": entity,
                "entity_id": entity_id,
                "field": field,
            },
        )
    ).one()
    return items, str(last) if more else None
