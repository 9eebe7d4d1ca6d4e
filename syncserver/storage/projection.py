"""SQL for the `entities` projection table."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.rights import JobScope

_EXISTING = text(
    """
    SELECT e.entity, e.id, e.data ->> 'customer_id'
    FROM jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(entity text, id text)
    JOIN entities e ON e.entity = k.entity AND e.id = k.id
    """
)

_JOB_SCOPES = text(
    """
    SELECT j.id, j.data ->> 'technician_id', l.data ->> 'service_area'
    FROM entities j
    LEFT JOIN entities l
           ON l.entity = 'location' AND l.id = j.data ->> 'location_id' AND NOT l.deleted
    WHERE j.entity = 'job' AND j.id = ANY (CAST(:ids AS text[]))
    """
)

_GET = text("SELECT data::text FROM entities WHERE entity = :entity AND id = :id")


async def existing(
    conn: AsyncConnection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """Which of these entities exist (deleted or not), each with its customer_id."""
    wanted = [{"entity": entity, "id": entity_id} for entity, entity_id in keys]
    if not wanted:
        return {}
    result = await conn.execute(_EXISTING, {"keys": msgspec.json.encode(wanted).decode()})
    return {(entity, entity_id): customer for entity, entity_id, customer in result}


async def job_scopes(conn: AsyncConnection, job_ids: Iterable[str]) -> dict[str, JobScope]:
    """Who may work on each of these jobs (deleted or not); absent jobs are left out."""
    ids = sorted(set(job_ids))
    if not ids:
        return {}
    result = await conn.execute(_JOB_SCOPES, {"ids": ids})
    return {job_id: JobScope(technician, area) for job_id, technician, area in result}


async def get_document(conn: AsyncConnection, entity: str, entity_id: str) -> str | None:
    """The served JSON text of one entity, deleted or not; None if it never existed."""
    return (await conn.execute(_GET, {"entity": entity, "id": entity_id})).scalar()
