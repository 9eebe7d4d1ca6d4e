"""SQL for the `entities` projection table."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import driver
from conflict.batch import EntityState
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
