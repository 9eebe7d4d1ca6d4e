"""SQL for the projection: the `entities` table, `entity_meta` (who holds each field)
and `job_numbers`. The merge's read (`existing`) and its write (`WRITE_CTES`, one part
of the statement changelog/merge.py runs) are both here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import driver
from conflict import BatchOutcome, EntityState
from schema.entities import ENTITIES
from schema.rights import JobScope

Key = tuple[str, str]
_encoder = msgspec.json.Encoder()

# `entity_meta.meta` maps each field to the write holding it, compactly, as
# [ts, tc, device_id, user_id, seq, version]; this expands one entry `{v}`.
META_ENTRY = """jsonb_build_object('ts', {v} -> 0, 'tc', {v} -> 1, 'device_id', {v} -> 2,
    'user_id', {v} -> 3, 'seq', {v} -> 4, 'version', {v} -> 5)"""

# The merge state of an entity (conflict/batch.py) from its rows `e` and `m`
# (`entity_meta`). The served document comes from the pull entry (`change`, already
# text) unless the entity is deleted: a deleted entity's entry is only `removed`.
STORED_COLUMNS = """e.version, CASE WHEN e.deleted THEN e.data::text ELSE e.change END,
    e.deleted, m.meta::text"""


class _Entry(msgspec.Struct):
    data: dict[str, Any]


_entry = msgspec.json.Decoder(_Entry)
_document = msgspec.json.Decoder(dict[str, Any])
_meta = msgspec.json.Decoder(dict[str, list[Any]])


def stored_state(version: int, document: str, deleted: bool, meta: str) -> EntityState:
    """An entity's merge state from its `STORED_COLUMNS`."""
    values = _document.decode(document) if deleted else _entry.decode(document).data
    return EntityState(version, values, _meta.decode(meta))


# Entities a push touches or references; for those it writes (`merge`), also the
# state the merge starts from (storage/merge.py).
_EXISTING = text(
    f"""
    SELECT e.entity, e.id, e.data ->> 'customer_id',
           e.data ->> 'technician_id', l.data ->> 'service_area', k.merge, {STORED_COLUMNS}
    FROM jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(entity text, id text, merge boolean)
    JOIN entities e ON e.entity = k.entity AND e.id = k.id
    LEFT JOIN entity_meta m ON k.merge AND m.entity = e.entity AND m.id = e.id
    LEFT JOIN entities l
           ON e.entity = 'job' AND l.entity = 'location' AND l.id = e.data ->> 'location_id'
          AND NOT l.deleted
    """
)

_GET = text("SELECT data::text FROM entities WHERE entity = :entity AND id = :id")


@dataclass(frozen=True, slots=True)
class Existing:
    """What a push finds of the entities it involves."""

    customers: dict[Key, str | None]  # every one that exists (deleted or not): its customer_id
    jobs: dict[str, JobScope]  # the jobs among them: who may work on them
    stored: dict[Key, EntityState]  # the ones it writes: the state the merge starts from


async def existing(conn: AsyncConnection, keys: Iterable[Key], written: Set[Key]) -> Existing:
    """Which of `keys` exist; for those in `written`, their merge state as well."""
    wanted = [
        {"entity": entity, "id": entity_id, "merge": (entity, entity_id) in written}
        for entity, entity_id in keys
    ]
    found = Existing({}, {}, {})
    if not wanted:
        return found
    rows = await driver.rows(conn, _EXISTING, {"keys": _encoder.encode(wanted).decode()})
    for entity, entity_id, customer, technician, area, merge, *state in rows:
        found.customers[(entity, entity_id)] = customer
        if entity == "job":
            found.jobs[entity_id] = JobScope(technician, area)
        if merge:
            found.stored[(entity, entity_id)] = stored_state(*state)
    return found


async def get_document(conn: AsyncConnection, entity: str, entity_id: str) -> str | None:
    """The served JSON text of one entity, deleted or not; None if it never existed."""
    return (await conn.execute(_GET, {"entity": entity, "id": entity_id})).scalar()


@cache
def templates() -> dict[str, dict[str, Any]]:
    """Each entity's served document before any write: every field null or its default."""
    docs = {}
    for name, spec in ENTITIES.items():
        doc: dict[str, Any] = {field: spec.defaults.get(field) for field in spec.writable}
        doc.update({field: None for field in spec.server_fields})
        docs[name] = doc
    return docs


class _Row(msgspec.Struct):
    """An entity row for the write statement."""

    n: int  # the order the batch first touched it (job numbers follow it)
    entity: str
    id: str
    version: int
    deleted: bool
    data: msgspec.Raw
    change: str | None  # None: rendered by the statement
    meta: dict[str, list[Any]]
    new: bool


def entity_rows(
    outcome: BatchOutcome, stored: Mapping[Key, EntityState], user_id: str, received: str
) -> str:
    """The entities the merge changed, as the JSON document `WRITE_CTES` reads: each
    with its served document and, where Python can render it, its pull entry."""
    return _encoder.encode(_entity_rows(outcome, stored, user_id, received)).decode()


def _entity_rows(
    outcome: BatchOutcome, stored: Mapping[Key, EntityState], user_id: str, received: str
) -> list[_Row]:
    rows = []
    for n, ((entity, entity_id), state) in enumerate(outcome.entities.items()):
        if not state.changed:
            continue
        new = (entity, entity_id) not in stored
        if new:
            doc = {**templates()[entity], "id": entity_id, **state.values}
            if entity == "job_note":
                doc["author_id"] = user_id
            elif entity == "job_photo":
                doc["status"] = "pending"
        else:
            doc = state.values
        deleted = doc.get("deleted") is True
        doc["version"] = state.version
        doc["deleted"] = deleted
        if doc.get("created_at") is None:
            doc["created_at"] = received
        doc["updated_at"] = received
        data = _encoder.encode(doc)
        change: str | None = None
        if not (new and entity == "job") and entity != "job_photo":
            change = (
                b'{"entity":%b,"id":%b,"removed":true}'
                % (_encoder.encode(entity), _encoder.encode(entity_id))
                if deleted
                else b'{"entity":%b,"id":%b,"version":%d,"data":%b}'
                % (_encoder.encode(entity), _encoder.encode(entity_id), state.version, data)
            ).decode()
        rows.append(
            _Row(
                n=n,
                entity=entity,
                id=entity_id,
                version=state.version,
                deleted=deleted,
                data=msgspec.Raw(data),
                change=change,
                meta=state.holders,
                new=new,
            )
        )
    return rows


# The merge's write to the projection, as CTEs of its one statement (changelog/merge.py).
# Binds `:entities` (`entity_rows`) and `:received_at`.
WRITE_CTES = """
rows AS (
    SELECT x.* FROM jsonb_to_recordset(CAST(:entities AS jsonb)) AS x(
        n int, entity text, id text, version bigint, deleted boolean, data jsonb,
        change text, meta jsonb, new boolean)
),
new_jobs AS (SELECT n, id FROM rows WHERE new AND entity = 'job'),
-- A job keeps the number its first create got; a rebuild finds it here.
numbered AS (
    INSERT INTO job_numbers (job_id, number)
    SELECT j.id, nextval('job_number_seq')
    FROM (SELECT n, id FROM new_jobs
          WHERE id NOT IN (SELECT job_id FROM job_numbers) ORDER BY n) AS j
    RETURNING job_id, number
),
job_number AS (
    SELECT job_id, number FROM numbered
    UNION ALL
    SELECT j.job_id, j.number FROM job_numbers j JOIN new_jobs n ON n.id = j.job_id
),
-- What only the database knows: a new job's number, a photo's upload status. Those
-- rows come without their pull entry, rendered here.
completed AS (
    SELECT r.entity, r.id, r.version, r.deleted, r.change,
           CASE WHEN nj.number IS NOT NULL
                THEN r.data || jsonb_build_object('job_number',
                    'J-' || CASE WHEN nj.number < 1000000 THEN lpad(nj.number::text, 6, '0')
                                 ELSE nj.number::text END)
                WHEN r.entity = 'job_photo'
                THEN r.data || jsonb_build_object('status', photo_status(r.data))
                ELSE r.data END AS data
    FROM rows r LEFT JOIN job_number nj ON r.new AND r.entity = 'job' AND nj.job_id = r.id
),
upserted AS (
    INSERT INTO entities AS e (entity, id, version, deleted, data, change,
                               created_at, updated_at)
    SELECT c.entity, c.id, c.version, c.deleted, c.data,
           coalesce(c.change, CASE WHEN c.deleted
                THEN json_build_object('entity', c.entity, 'id', c.id, 'removed', true)::text
                ELSE '{"entity":' || to_json(c.entity)::text || ',"id":' || to_json(c.id)::text
                     || ',"version":' || c.version || ',"data":' || c.data::text || '}'
           END),
           to_timestamp(:received_at / 1000.0), to_timestamp(:received_at / 1000.0)
    FROM completed c
    ON CONFLICT (entity, id) DO UPDATE SET
        version = excluded.version, deleted = excluded.deleted, data = excluded.data,
        change = excluded.change, updated_at = excluded.updated_at
),
meta_upserted AS (
    INSERT INTO entity_meta AS m (entity, id, meta)
    SELECT entity, id, meta FROM rows
    ON CONFLICT (entity, id) DO UPDATE SET meta = excluded.meta
)
"""
