"""SQL for the `entities` projection table."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from syncserver.projector import EntityRow, Key, row_from_stored

_LOAD = text(
    """
    SELECT e.entity, e.id, e.version, e.deleted, e.data::text, e.meta::text,
           (extract(epoch FROM e.created_at) * 1000)::bigint,
           (extract(epoch FROM e.updated_at) * 1000)::bigint
    FROM jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(entity text, id text)
    JOIN entities e ON e.entity = k.entity AND e.id = k.id
    """
)

_SAVE = text(
    """
    INSERT INTO entities AS e (entity, id, version, deleted, data, meta, created_at, updated_at)
    SELECT r.entity, r.id, r.version, r.deleted, r.data, r.meta,
           to_timestamp(r.created_at / 1000.0), to_timestamp(r.updated_at / 1000.0)
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        entity text, id text, version bigint, deleted boolean, data jsonb, meta jsonb,
        created_at bigint, updated_at bigint)
    ON CONFLICT (entity, id) DO UPDATE SET
        version = excluded.version, deleted = excluded.deleted, data = excluded.data,
        meta = excluded.meta, updated_at = excluded.updated_at
    """
)

_GET = text("SELECT data::text FROM entities WHERE entity = :entity AND id = :id")

_PAGE = text(
    """
    WITH page AS (
        SELECT id, data FROM entities
        WHERE entity = :entity AND NOT deleted AND id > :after
        ORDER BY id LIMIT :limit + 1
    ), numbered AS (
        SELECT *, row_number() OVER (ORDER BY id) AS n FROM page
    )
    SELECT coalesce(json_agg(data ORDER BY id) FILTER (WHERE n <= :limit), '[]')::text,
           max(id) FILTER (WHERE n <= :limit),
           count(*) > :limit
    FROM numbered
    """
)

_decode_data = msgspec.json.Decoder(dict)


async def load(conn: AsyncConnection, keys: Iterable[Key]) -> dict[Key, EntityRow]:
    wanted = [{"entity": entity, "id": entity_id} for entity, entity_id in keys]
    if not wanted:
        return {}
    result = await conn.execute(_LOAD, {"keys": msgspec.json.encode(wanted).decode()})
    rows: dict[Key, EntityRow] = {}
    for entity, entity_id, version, deleted, data, meta, created_at, updated_at in result:
        rows[(entity, entity_id)] = row_from_stored(
            entity,
            entity_id,
            version,
            deleted,
            _decode_data.decode(data),
            _decode_data.decode(meta),
            created_at,
            updated_at,
        )
    return rows


async def save(conn: AsyncConnection, rows: list[EntityRow]) -> None:
    if not rows:
        return
    docs = [
        {
            "entity": row.entity,
            "id": row.id,
            "version": row.version,
            "deleted": row.deleted,
            "data": row.document(),
            "meta": row.meta(),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]
    await conn.execute(_SAVE, {"rows": msgspec.json.encode(docs).decode()})


async def get_document(conn: AsyncConnection, entity: str, entity_id: str) -> str | None:
    """The served JSON text of one entity, deleted or not; None if it never existed."""
    return (await conn.execute(_GET, {"entity": entity, "id": entity_id})).scalar()


async def page_documents(
    conn: AsyncConnection, entity: str, after: str, limit: int
) -> tuple[str, str | None]:
    """A JSON array of live entities with id > after, and the next page's cursor (or None)."""
    items, last, more = (
        await conn.execute(_PAGE, {"entity": entity, "after": after, "limit": limit})
    ).one()
    return items, last if more else None
