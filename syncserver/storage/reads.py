"""SQL for the read APIs: entities assembled as JSON text by PostgreSQL.

Every statement takes `:restricted` (false for admins and dispatchers) with
`:user_id` and `:areas`, and answers only what that user sees
(schema/visibility.py): an entity they may not see reads as absent.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.projection import META_ENTRY
from changelog.visibility import JOB_VISIBLE, seen_through_jobs
from schema import wire
from schema.rights import SEES_EVERYTHING, Principal
from syncserver.storage import keyset


def _children(entity: str, parent: str, visible: str = "true") -> str:
    return f"""
    coalesce((SELECT jsonb_agg(x.data ORDER BY x.version) FROM entities x
              WHERE x.entity = '{entity}' AND x.data ->> '{parent}' = p.id AND NOT x.deleted
                AND (NOT :restricted OR {visible})),
             '[]'::jsonb)
    """


_JOB = text(
    f"""
    SELECT (p.data || jsonb_build_object(
        'customer', (SELECT c.data FROM entities c
                     WHERE c.entity = 'customer' AND c.id = p.data ->> 'customer_id'),
        'location', (SELECT l.data FROM entities l
                     WHERE l.entity = 'location' AND l.id = p.data ->> 'location_id'),
        'notes', {_children("job_note", "job_id")},
        'photos', {_children("job_photo", "job_id")},
        'fields_meta', (SELECT coalesce(jsonb_object_agg(
                            key, {META_ENTRY.format(v="value")} - 'seq'), '{{}}'::jsonb)
                        FROM entity_meta m CROSS JOIN LATERAL jsonb_each(m.meta)
                        WHERE m.entity = 'job' AND m.id = p.id)
    ))::text
    FROM entities p
    WHERE p.entity = 'job' AND p.id = :id AND NOT p.deleted
      AND (NOT :restricted OR {JOB_VISIBLE.format(j="p")})
    """
)

_CUSTOMER = text(
    f"""
    SELECT (p.data || jsonb_build_object(
        'locations', {_children("location", "customer_id", seen_through_jobs("location", "x"))},
        'contacts', {_children("contact", "customer_id")},
        'jobs', {_children("job", "customer_id", JOB_VISIBLE.format(j="x"))}
    ))::text
    FROM entities p
    WHERE p.entity = 'customer' AND p.id = :id AND NOT p.deleted
      AND (NOT :restricted OR {seen_through_jobs("customer", "p")})
    """
)


_JOB_EXISTS = text(
    f"""
    SELECT EXISTS (
        SELECT 1 FROM entities p
        WHERE p.entity = 'job' AND p.id = :id
          AND (NOT :restricted OR (NOT p.deleted AND {JOB_VISIBLE.format(j="p")})))
    """
)


def viewer(who: Principal) -> dict[str, object]:
    """The bind parameters that restrict a statement to what this user sees."""
    return {
        "restricted": who.role not in SEES_EVERYTHING,
        "user_id": who.user_id,
        "areas": who.areas,
    }


async def job_detail(conn: AsyncConnection, job_id: str, seen_by: dict[str, object]) -> str | None:
    return (await conn.execute(_JOB, {"id": job_id, **seen_by})).scalar()


async def job_exists(conn: AsyncConnection, job_id: str, seen_by: dict[str, object]) -> bool:
    """Whether the job exists for this user: any job for admins and dispatchers (deleted
    too), a live visible one for others."""
    return bool((await conn.execute(_JOB_EXISTS, {"id": job_id, **seen_by})).scalar())


async def customer_detail(
    conn: AsyncConnection, customer_id: str, seen_by: dict[str, object]
) -> str | None:
    return (await conn.execute(_CUSTOMER, {"id": customer_id, **seen_by})).scalar()


_CUSTOMERS_SEARCH = """NOT EXISTS (
    SELECT 1 FROM unnest(CAST(:words AS text[])) AS w(word)
    WHERE strpos(lower(concat_ws(' ', p.data ->> 'name', p.data ->> 'email',
                                 p.data ->> 'phone')), w.word) = 0)"""


def _customers_statement(words: bool, type_: bool, include_deleted: bool, after: bool) -> str:
    where = ["p.entity = 'customer'"]
    if not include_deleted:
        where.append("NOT p.deleted")
    if type_:
        where.append("p.data ->> 'type' = :type")
    if words:
        where.append(_CUSTOMERS_SEARCH)
    if after:
        where.append("(p.data ->> 'name', p.id) > (:key, :after_id)")
    where.append(f"(NOT :restricted OR {seen_through_jobs('customer', 'p')})")
    return keyset.page_statement(where=where, key="p.data ->> 'name'")


async def customers_page(
    conn: AsyncConnection,
    *,
    words: tuple[str, ...],
    type_: str | None,
    include_deleted: bool,
    limit: int,
    cursor: str | None,
    seen_by: dict[str, object],
) -> tuple[str, str | None]:
    """A JSON array of customers by name, matching every word, and the next cursor."""
    params: dict[str, object] = {"limit": limit, "words": list(words), "type": type_, **seen_by}
    if cursor is not None:
        params["key"], params["after_id"] = keyset.decode(cursor, str)
    statement = _customers_statement(
        bool(words), type_ is not None, include_deleted, cursor is not None
    )
    items, key, last_id, more = (await conn.execute(text(statement), params)).one()
    return items, keyset.encode(str(key), last_id) if more else None


# A page of devices, each with the notices it lost and has not acknowledged by pull
# (seq above its `notices_acked`: presenting a cursor acknowledges them).
_DEVICES = text(
    """
    WITH page AS (
        SELECT device_id, user_id, acked_seq, notices_acked, last_push_at, last_pull_at
        FROM devices WHERE device_id > :after ORDER BY device_id LIMIT :limit + 1
    )
    SELECT p.device_id, p.user_id, p.acked_seq, rfc3339(p.last_push_at),
           rfc3339(p.last_pull_at), count(n.seq)
    FROM page p
    LEFT JOIN notices n ON n.loser_device_id = p.device_id AND n.seq > p.notices_acked
    GROUP BY p.device_id, p.user_id, p.acked_seq, p.last_push_at, p.last_pull_at
    ORDER BY p.device_id
    """
)


async def devices_page(
    conn: AsyncConnection, after: str, limit: int
) -> tuple[list[wire.Device], str | None]:
    rows = (await conn.execute(_DEVICES, {"after": after, "limit": limit})).all()
    items = [wire.Device(*row) for row in rows[:limit]]
    return items, items[-1].device_id if len(rows) > limit else None
