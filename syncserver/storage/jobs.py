"""SQL for the job list and a job's history (docs/protocol.md, "Read APIs").

The list is keyset-paginated on (sort key, id), so a page boundary never
duplicates or skips a job whose sort key did not change meanwhile. Each sort
has an index (schema/migrations/0003_read_apis.sql); the statement is put
together from fixed clauses for the filters present, so each combination gets
a plan of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.devicelog import POSITIONS_PER_TRANSACTION
from changelog.visibility import JOB_VISIBLE
from schema import wire
from schema.ops import logged_fields
from syncserver.storage import keyset

# sort -> (key expression, direction); ties go by id in the same direction.
SORTS: dict[str, tuple[str, str]] = {
    "scheduled_date": ("job_schedule_key(p.data ->> 'scheduled_date')", "ASC"),
    "updated_at": ("p.updated_at", "DESC"),
    "priority": ("job_priority_rank(p.data ->> 'priority')", "ASC"),
}
# The key as the cursor carries it (an integer), and back.
_KEY_OUT = {"updated_at": "(extract(epoch FROM p.updated_at) * 1000000)::bigint"}
_KEY_IN = {"updated_at": "'epoch'::timestamptz + CAST(:key AS bigint) * interval '1 microsecond'"}

_EQUALS = ("status", "technician_id", "customer_id", "service_type", "priority")

_SEARCH = """NOT EXISTS (
    SELECT 1 FROM unnest(CAST(:words AS text[])) AS w(word)
    WHERE strpos(lower(concat_ws(' ', p.data ->> 'job_number', p.data ->> 'title',
                                 p.data ->> 'description', c.data ->> 'name')), w.word) = 0)"""


@dataclass(frozen=True, slots=True)
class JobFilter:
    status: str | None = None
    technician_id: str | None = None
    customer_id: str | None = None
    service_type: str | None = None
    priority: str | None = None
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None
    words: tuple[str, ...] = ()
    include_deleted: bool = False
    sort: str = "scheduled_date"
    seen_by: dict[str, object] = field(default_factory=dict)  # storage.reads.viewer(...)


def _micros(value: datetime) -> int:
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)


def _statement(f: JobFilter, after: bool) -> str:
    key, direction = SORTS[f.sort]
    where = ["p.entity = 'job'"]
    if not f.include_deleted:
        where.append("NOT p.deleted")
    where += [f"p.data ->> '{name}' = :{name}" for name in _EQUALS if getattr(f, name)]
    schedule = "job_schedule_key(p.data ->> 'scheduled_date')"
    if f.scheduled_from is not None:
        where.append(f"{schedule} >= :scheduled_from")
    if f.scheduled_to is not None:
        where.append(f"{schedule} < :scheduled_to")
    if f.scheduled_from is not None or f.scheduled_to is not None:
        where.append("p.data ->> 'scheduled_date' IS NOT NULL")
    if f.words:
        where.append(_SEARCH)
    if f.seen_by.get("restricted"):
        where.append(JOB_VISIBLE.format(j="p"))
    if after:
        compare = ">" if direction == "ASC" else "<"
        where.append(f"({key}, p.id) {compare} ({_KEY_IN.get(f.sort, ':key')}, :after_id)")
    join = (
        "LEFT JOIN entities c ON c.entity = 'customer' AND c.id = p.data ->> 'customer_id'"
        if f.words
        else ""
    )
    return keyset.page_statement(
        where=where, key=key, direction=direction, key_out=_KEY_OUT.get(f.sort, key), join=join
    )


async def page(
    conn: AsyncConnection, f: JobFilter, limit: int, cursor: str | None
) -> tuple[str, str | None]:
    """A JSON array of jobs matching `f`, in its sort order, and the next page's cursor."""
    params: dict[str, object] = {"limit": limit, **f.seen_by}
    params |= {name: getattr(f, name) for name in _EQUALS if getattr(f, name)}
    if f.scheduled_from is not None:
        params["scheduled_from"] = _micros(f.scheduled_from)
    if f.scheduled_to is not None:
        params["scheduled_to"] = _micros(f.scheduled_to)
    if f.words:
        params["words"] = list(f.words)
    if cursor is not None:
        params["key"], params["after_id"] = keyset.decode(cursor, int)
    items, key, last_id, more = (
        await conn.execute(text(_statement(f, cursor is not None)), params)
    ).one()
    return items, keyset.encode(int(key), last_id) if more else None


# The job's ops: the pushes that name it come from the GIN index on entity_ids, and
# its ops within each from array_positions. The i-th op of a push has position
# `position + i - 1`, less than POSITIONS_PER_TRANSACTION above the push's first.
_HISTORY = text(
    f"""
    WITH l AS (
        SELECT b.position + i - 1 AS position, b.device_id, b.user_id,
               b.first_seq + i - 1 AS seq, b.actions[i] AS action, b.ops[i] AS op,
               b.results -> (i - 1) AS result, b.received_at
        FROM device_log_batches b
        CROSS JOIN LATERAL unnest(array_positions(b.entity_ids, CAST(:job_id AS text))) AS i
        WHERE b.entity_ids @> ARRAY[CAST(:job_id AS text)]
          AND b.position > :after - {POSITIONS_PER_TRANSACTION}
          AND b.entities[i] = 'job' AND b.position + i - 1 > :after
    )
    SELECT l.position, l.device_id, l.user_id, l.seq, l.action, l.op,
           CASE WHEN CAST(l.result ->> 0 AS boolean) THEN 'applied' ELSE 'rejected' END,
           nullif(l.result -> 1, 'null'),
           -- Lost at arrival (an older write), or to a concurrent write, then or later.
           (SELECT coalesce(jsonb_agg(DISTINCT f ORDER BY f), '[]'::jsonb) FROM (
                SELECT jsonb_array_elements_text(
                    CASE WHEN jsonb_typeof(l.result -> 3) = 'array'
                         THEN l.result -> 3 ELSE '[]' END) AS f
                UNION
                SELECT n.field FROM notices n
                WHERE n.entity = 'job' AND n.entity_id = :job_id
                  AND n.loser_device_id = l.device_id
                  AND CAST(n.loser ->> 'seq' AS bigint) = l.seq) AS lost),
           CAST(l.result ->> 2 AS bigint), rfc3339(l.received_at)
    FROM l
    ORDER BY l.position
    LIMIT :limit + 1
    """
)


async def history(
    conn: AsyncConnection, job_id: str, after: int, limit: int
) -> tuple[list[wire.HistoryItem], str | None]:
    """Every op any device log holds for this job, applied or rejected, in commit order."""
    rows = (await conn.execute(_HISTORY, {"job_id": job_id, "after": after, "limit": limit})).all()
    items = [
        wire.HistoryItem(
            device_id=device_id,
            user_id=user_id,
            seq=seq,
            action=action,
            fields=logged_fields(op),
            status=status,
            error=None if error is None else wire.OpError(**error),
            lost_fields=lost_fields or [],
            version=version,
            received_at=received_at,
        )
        for _, device_id, user_id, seq, action, op, status, error, lost_fields, version, received_at
        in rows[:limit]
    ]  # fmt: skip
    more = len(rows) > limit
    return items, str(rows[limit - 1][0]) if more else None
