"""SQL for the `entities` projection table."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_EXISTING = text(
    """
    SELECT e.entity, e.id, e.data ->> 'customer_id'
    FROM jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(entity text, id text)
    JOIN entities e ON e.entity = k.entity AND e.id = k.id
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


async def existing(
    conn: AsyncConnection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """Which of these entities exist (deleted or not), each with its customer_id."""
    wanted = [{"entity": entity, "id": entity_id} for entity, entity_id in keys]
    if not wanted:
        return {}
    result = await conn.execute(_EXISTING, {"keys": msgspec.json.encode(wanted).decode()})
    return {(entity, entity_id): customer for entity, entity_id, customer in result}


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
