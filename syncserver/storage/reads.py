"""SQL for the read APIs: entities assembled as JSON text by PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_CHILDREN = """
    coalesce((SELECT jsonb_agg(x.data ORDER BY x.version) FROM entities x
              WHERE x.entity = '{entity}' AND x.data ->> '{parent}' = p.id AND NOT x.deleted),
             '[]'::jsonb)
"""

_JOB = text(
    f"""
    SELECT (p.data || jsonb_build_object(
        'customer', (SELECT c.data FROM entities c
                     WHERE c.entity = 'customer' AND c.id = p.data ->> 'customer_id'),
        'location', (SELECT l.data FROM entities l
                     WHERE l.entity = 'location' AND l.id = p.data ->> 'location_id'),
        'notes', {_CHILDREN.format(entity="job_note", parent="job_id")},
        'photos', {_CHILDREN.format(entity="job_photo", parent="job_id")},
        'fields_meta', (SELECT coalesce(jsonb_object_agg(key, value - 'seq'), '{{}}'::jsonb)
                        FROM jsonb_each(p.meta))
    ))::text
    FROM entities p
    WHERE p.entity = 'job' AND p.id = :id AND NOT p.deleted
    """
)

_CUSTOMER = text(
    f"""
    SELECT (p.data || jsonb_build_object(
        'locations', {_CHILDREN.format(entity="location", parent="customer_id")},
        'contacts', {_CHILDREN.format(entity="contact", parent="customer_id")},
        'jobs', {_CHILDREN.format(entity="job", parent="customer_id")}
    ))::text
    FROM entities p
    WHERE p.entity = 'customer' AND p.id = :id AND NOT p.deleted
    """
)


async def job_detail(conn: AsyncConnection, job_id: str) -> str | None:
    return (await conn.execute(_JOB, {"id": job_id})).scalar()


async def customer_detail(conn: AsyncConnection, customer_id: str) -> str | None:
    return (await conn.execute(_CUSTOMER, {"id": customer_id})).scalar()
