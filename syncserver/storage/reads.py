"""SQL for the read APIs: entities assembled as JSON text by PostgreSQL.

Every statement takes `:restricted` (false for admins and dispatchers) with
`:user_id` and `:areas`, and answers only what that user sees
(schema/visibility.py): an entity they may not see reads as absent.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.visibility import JOB_VISIBLE, SEES_EVERYTHING, areas_of


def _children(entity: str, parent: str, visible: str = "true") -> str:
    return f"""
    coalesce((SELECT jsonb_agg(x.data ORDER BY x.version) FROM entities x
              WHERE x.entity = '{entity}' AND x.data ->> '{parent}' = p.id AND NOT x.deleted
                AND (NOT :restricted OR {visible})),
             '[]'::jsonb)
    """


# A job or location hangs off a customer the user sees only if a job they see uses it.
_SEEN_JOB_USES = f"""EXISTS (
    SELECT 1 FROM entities vj
    WHERE vj.entity = 'job' AND NOT vj.deleted AND vj.data ->> '{{field}}' = {{id}}
      AND {JOB_VISIBLE.format(j="vj")})"""

_JOB = text(
    f"""
    SELECT (p.data || jsonb_build_object(
        'customer', (SELECT c.data FROM entities c
                     WHERE c.entity = 'customer' AND c.id = p.data ->> 'customer_id'),
        'location', (SELECT l.data FROM entities l
                     WHERE l.entity = 'location' AND l.id = p.data ->> 'location_id'),
        'notes', {_children("job_note", "job_id")},
        'photos', {_children("job_photo", "job_id")},
        'fields_meta', (SELECT coalesce(jsonb_object_agg(key, value - 'seq'), '{{}}'::jsonb)
                        FROM jsonb_each(p.meta))
    ))::text
    FROM entities p
    WHERE p.entity = 'job' AND p.id = :id AND NOT p.deleted
      AND (NOT :restricted OR {JOB_VISIBLE.format(j="p")})
    """
)

_CUSTOMER = text(
    f"""
    SELECT (p.data || jsonb_build_object(
        'locations', {
        _children("location", "customer_id", _SEEN_JOB_USES.format(field="location_id", id="x.id"))
    },
        'contacts', {_children("contact", "customer_id")},
        'jobs', {_children("job", "customer_id", JOB_VISIBLE.format(j="x"))}
    ))::text
    FROM entities p
    WHERE p.entity = 'customer' AND p.id = :id AND NOT p.deleted
      AND (NOT :restricted OR {_SEEN_JOB_USES.format(field="customer_id", id="p.id")})
    """
)

_JOBS_PAGE = text(
    f"""
    WITH page AS (
        SELECT p.id, p.data FROM entities p
        WHERE p.entity = 'job' AND NOT p.deleted AND p.id > :after
          AND (NOT :restricted OR {JOB_VISIBLE.format(j="p")})
        ORDER BY p.id LIMIT :limit + 1
    ), numbered AS (
        SELECT *, row_number() OVER (ORDER BY id) AS n FROM page
    )
    SELECT coalesce(json_agg(data ORDER BY id) FILTER (WHERE n <= :limit), '[]')::text,
           max(id) FILTER (WHERE n <= :limit),
           count(*) > :limit
    FROM numbered
    """
)


def viewer(user_id: str, role: str, service_areas: tuple[str, ...]) -> dict[str, object]:
    """The bind parameters that restrict a statement to what this user sees."""
    return {
        "restricted": role not in SEES_EVERYTHING,
        "user_id": user_id,
        "areas": areas_of(role, service_areas),
    }


async def job_detail(conn: AsyncConnection, job_id: str, seen_by: dict[str, object]) -> str | None:
    return (await conn.execute(_JOB, {"id": job_id, **seen_by})).scalar()


async def customer_detail(
    conn: AsyncConnection, customer_id: str, seen_by: dict[str, object]
) -> str | None:
    return (await conn.execute(_CUSTOMER, {"id": customer_id, **seen_by})).scalar()


async def jobs_page(
    conn: AsyncConnection, after: str, limit: int, seen_by: dict[str, object]
) -> tuple[str, str | None]:
    """A JSON array of the live jobs with id > after that the user sees, and the next cursor."""
    items, last, more = (
        await conn.execute(_JOBS_PAGE, {"after": after, "limit": limit, **seen_by})
    ).one()
    return items, last if more else None
