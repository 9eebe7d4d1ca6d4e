"""SQL for the `entities` projection table."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.rights import JobScope

_EXISTING = text(
    """
    SELECT e.entity, e.id, e.data ->> 'customer_id',
           e.data ->> 'technician_id', l.data ->> 'service_area'
    FROM jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(entity text, id text)
    JOIN entities e ON e.entity = k.entity AND e.id = k.id
    LEFT JOIN entities l
           ON e.entity = 'job' AND l.entity = 'location' AND l.id = e.data ->> 'location_id'
          AND NOT l.deleted
    """
)

_GET = text("SELECT data::text FROM entities WHERE entity = :entity AND id = :id")


async def existing(
    conn: AsyncConnection, keys: Iterable[tuple[str, str]]
) -> tuple[dict[tuple[str, str], str | None], dict[str, JobScope]]:
    """Which of these entities exist (deleted or not), each with its customer_id; and
    for the jobs among them, who may work on them."""
    wanted = [{"entity": entity, "id": entity_id} for entity, entity_id in keys]
    if not wanted:
        return {}, {}
    result = await conn.execute(_EXISTING, {"keys": msgspec.json.encode(wanted).decode()})
    found: dict[tuple[str, str], str | None] = {}
    jobs: dict[str, JobScope] = {}
    for entity, entity_id, customer, technician, area in result:
        found[(entity, entity_id)] = customer
        if entity == "job":
            jobs[entity_id] = JobScope(technician, area)
    return found, jobs


async def get_document(conn: AsyncConnection, entity: str, entity_id: str) -> str | None:
    """The served JSON text of one entity, deleted or not; None if it never existed."""
    return (await conn.execute(_GET, {"entity": entity, "id": entity_id})).scalar()
