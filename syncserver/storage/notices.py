"""SQL for the `notices` table (conflict notices)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from conflict.lww import FieldWrite
from schema import wire
from syncserver.projector import RecordedNotice
from syncserver.timefmt import rfc3339_ms

_SAVE = text(
    """
    INSERT INTO notices (seq, id, entity, entity_id, field, winner, loser, winner_device_id,
                         loser_device_id, winner_user_id, loser_user_id, position, detected_at)
    SELECT r.seq, r.id, r.entity, r.entity_id, r.field, r.winner, r.loser, r.winner_device_id,
           r.loser_device_id, r.winner_user_id, r.loser_user_id, r.position,
           to_timestamp(r.detected_at / 1000.0)
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        seq bigint, id text, entity text, entity_id text, field text, winner jsonb, loser jsonb,
        winner_device_id text, loser_device_id text, winner_user_id text, loser_user_id text,
        position bigint, detected_at bigint)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
    """
)

_NOTICE_JSON = """
    json_build_object('id', n.id, 'entity', n.entity, 'entity_id', n.entity_id,
                      'field', n.field, 'status', n.status, 'winner', n.winner,
                      'loser', n.loser, 'detected_at', rfc3339(n.detected_at),
                      'resolution', n.resolution)
"""

_FOR_DEVICE = text(
    f"""
    SELECT coalesce(json_agg({_NOTICE_JSON} ORDER BY n.seq), '[]')::text, max(n.seq), count(*)
    FROM (SELECT * FROM notices WHERE loser_device_id = :device_id AND seq > :after
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
    SELECT coalesce(json_agg({_NOTICE_JSON} ORDER BY n.seq) FILTER (WHERE rn <= :limit),
                    '[]')::text,
           max(n.seq) FILTER (WHERE rn <= :limit),
           count(*) > :limit
    FROM n
    """
)

_notices = msgspec.json.Decoder(list[wire.Notice])


def _side(write: FieldWrite) -> wire.NoticeSide:
    return wire.NoticeSide(
        value=write.value,
        device_id=write.device_id,
        user_id=write.user_id,
        seq=write.seq,
        ts=write.ts,
        tc=write.tc,
    )


def to_wire(recorded: RecordedNotice) -> wire.Notice:
    notice = recorded.notice
    return wire.Notice(
        id=notice.id,
        entity=notice.entity,
        entity_id=notice.entity_id,
        field=notice.field,
        status="open",
        winner=_side(notice.winner),
        loser=_side(notice.loser),
        detected_at=rfc3339_ms(recorded.detected_at),
        resolution=None,
    )


async def save(conn: AsyncConnection, recorded: list[RecordedNotice]) -> set[str]:
    """Store new notices; returns the ids stored. A notice whose id exists (the same
    write losing on the same field again) is not stored twice."""
    if not recorded:
        return set()
    rows: list[dict[str, Any]] = []
    for r in recorded:
        n = r.notice
        rows.append(
            {
                "seq": r.seq,
                "id": n.id,
                "entity": n.entity,
                "entity_id": n.entity_id,
                "field": n.field,
                "winner": _side(n.winner),
                "loser": _side(n.loser),
                "winner_device_id": n.winner.device_id,
                "loser_device_id": n.loser.device_id,
                "winner_user_id": n.winner.user_id,
                "loser_user_id": n.loser.user_id,
                "position": r.position,
                "detected_at": r.detected_at,
            }
        )
    result = await conn.execute(_SAVE, {"rows": msgspec.json.encode(rows).decode()})
    return set(result.scalars())


async def for_device(
    conn: AsyncConnection, device_id: str, after: int, limit: int
) -> tuple[list[wire.Notice], int | None, int]:
    """Notices lost by this device with seq > after: (notices, last seq, count)."""
    row = (
        await conn.execute(_FOR_DEVICE, {"device_id": device_id, "after": after, "limit": limit})
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
