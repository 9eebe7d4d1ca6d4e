"""Projection rows in memory: the merge rules applied to whole entities.

The push path and `syncserver rebuild` load the rows a batch touches, apply
ops through a `Projector` in commit order and save the rows it dirtied. No
I/O here: `syncserver.storage.projection` loads and saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conflict.lww import DELETED, FieldWrite, Notice, WriteOp, apply_op
from schema.entities import ENTITIES
from syncserver.timefmt import rfc3339_ms

Key = tuple[str, str]


@dataclass
class EntityRow:
    entity: str
    id: str
    state: dict[str, FieldWrite]
    version: int
    created_at: int  # ms since the epoch
    updated_at: int
    server: dict[str, Any] = field(default_factory=dict)  # server-set fields
    dirty: bool = False

    @property
    def deleted(self) -> bool:
        write = self.state.get(DELETED)
        return bool(write is not None and write.value)

    def value(self, name: str) -> Any:
        write = self.state.get(name)
        if write is not None:
            return write.value
        return ENTITIES[self.entity].defaults.get(name)

    def document(self) -> dict[str, Any]:
        """The entity as served: every field, server-set fields, version and times."""
        spec = ENTITIES[self.entity]
        doc: dict[str, Any] = {"id": self.id}
        for name in spec.writable:
            doc[name] = self.value(name)
        for name in spec.server_fields:
            doc[name] = self.server.get(name)
        doc["version"] = self.version
        doc["created_at"] = rfc3339_ms(self.created_at)
        doc["updated_at"] = rfc3339_ms(self.updated_at)
        doc["deleted"] = self.deleted
        return doc

    def meta(self) -> dict[str, dict[str, Any]]:
        """Who wrote each field: served as `fields_meta`, loaded back by `row_from_stored`."""
        return {
            name: {
                "device_id": w.device_id,
                "user_id": w.user_id,
                "seq": w.seq,
                "ts": w.ts,
                "tc": w.tc,
                "version": w.version,
            }
            for name, w in self.state.items()
        }


def row_from_stored(
    entity: str,
    entity_id: str,
    version: int,
    deleted: bool,
    data: dict[str, Any],
    meta: dict[str, dict[str, Any]],
    created_at: int,
    updated_at: int,
) -> EntityRow:
    state = {
        name: FieldWrite(
            value=deleted if name == DELETED else data.get(name),
            device_id=m["device_id"],
            user_id=m["user_id"],
            seq=m["seq"],
            ts=m["ts"],
            tc=m["tc"],
            version=m["version"],
        )
        for name, m in meta.items()
    }
    server = {name: data.get(name) for name in ENTITIES[entity].server_fields}
    return EntityRow(entity, entity_id, state, version, created_at, updated_at, server)


@dataclass(frozen=True, slots=True)
class Applied:
    version: int
    notices: list[Notice]
    lost_fields: list[str]


@dataclass(frozen=True, slots=True)
class RecordedNotice:
    seq: int
    notice: Notice
    position: int
    detected_at: int  # ms


class Projector:
    """Applies ops to the rows of one batch, in commit order."""

    def __init__(self, rows: dict[Key, EntityRow], job_count: int, notice_count: int) -> None:
        self.rows = rows
        self.job_count = job_count
        self.notice_count = notice_count
        self.notices: list[RecordedNotice] = []

    def get(self, entity: str, entity_id: str) -> EntityRow | None:
        return self.rows.get((entity, entity_id))

    def apply(self, op: WriteOp, received_at: int) -> Applied:
        key = (op.entity, op.entity_id)
        row = self.rows.get(key)
        if row is None:
            row = EntityRow(op.entity, op.entity_id, {}, 0, received_at, received_at)
            row.server = self._server_fields(op)
            self.rows[key] = row
        outcome = apply_op(row.state, op)
        row.state = outcome.state
        if outcome.changed:
            row.version = op.version
            row.updated_at = received_at
            row.dirty = True
        for notice in outcome.notices:
            self.notice_count += 1
            self.notices.append(RecordedNotice(self.notice_count, notice, op.version, received_at))
        return Applied(row.version, outcome.notices, outcome.lost_fields)

    def _server_fields(self, op: WriteOp) -> dict[str, Any]:
        if op.entity == "job":
            self.job_count += 1
            return {"job_number": f"J-{self.job_count:06d}"}
        if op.entity == "job_note":
            return {"author_id": op.user_id}
        if op.entity == "job_photo":
            return {"status": "pending"}
        return {}

    def dirty_rows(self) -> list[EntityRow]:
        return [row for row in self.rows.values() if row.dirty]
