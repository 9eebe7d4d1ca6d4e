"""The merge rule, op by op, as readably as it can be written: the test model.

Production runs `conflict.merge_batch` (a device's batch in one pass, on compact
state); the tests check it, and what the push path stores in PostgreSQL, against
this fold. Per-field last-write-wins with conflict notices (docs/protocol.md,
"Push").

The state of one entity is a mapping from field name to the write that
currently holds it. `deleted` is a field like the others: a create writes
`False`, a delete writes `True`, an update never writes it.

A write W conflicts when the field's current write C was made by another
device at a version greater than W's op `base`: neither side had seen the
other. LWW still decides the value; the loser is reported in a notice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DELETED = "deleted"

Action = Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class FieldWrite:
    """One write of one field: the value and who wrote it, when."""

    value: Any
    device_id: str
    user_id: str
    seq: int
    ts: int
    tc: int
    version: int

    @property
    def order(self) -> tuple[int, int, str]:
        """The LWW order key: (ts, tc, device_id), compared in that order."""
        return (self.ts, self.tc, self.device_id)


EntityState = Mapping[str, FieldWrite]


@dataclass(frozen=True, slots=True)
class WriteOp:
    """A validated op, ready to merge. `version` is its commit position."""

    entity: str
    entity_id: str
    action: Action
    fields: Mapping[str, Any]
    base: int
    device_id: str
    user_id: str
    seq: int
    ts: int
    tc: int
    version: int

    def write(self, value: Any) -> FieldWrite:
        return FieldWrite(
            value=value,
            device_id=self.device_id,
            user_id=self.user_id,
            seq=self.seq,
            ts=self.ts,
            tc=self.tc,
            version=self.version,
        )

    def field_writes(self) -> dict[str, Any]:
        """The fields this op writes, `deleted` included where it writes it."""
        if self.action == "delete":
            return {DELETED: True}
        writes = dict(self.fields)
        if self.action == "create":
            writes[DELETED] = False
        return writes


@dataclass(frozen=True, slots=True)
class Notice:
    """A concurrent write that lost LWW on `field`."""

    entity: str
    entity_id: str
    field: str
    winner: FieldWrite
    loser: FieldWrite

    @property
    def id(self) -> str:
        return notice_id(self.entity, self.entity_id, self.field, self.loser)


@dataclass(frozen=True, slots=True)
class OpOutcome:
    state: dict[str, FieldWrite]
    notices: list[Notice] = field(default_factory=list)
    lost_fields: list[str] = field(default_factory=list)
    changed: bool = False


def notice_id(entity: str, entity_id: str, field_name: str, loser: FieldWrite) -> str:
    """Deterministic, so that a rebuild reproduces the same notice ids: the md5 of the
    parts joined by U+001F, as a UUID."""
    name = "\x1f".join((entity, entity_id, field_name, loser.device_id, str(loser.seq)))
    return str(uuid.UUID(hashlib.md5(name.encode("utf-8")).hexdigest()))


def is_later(a: FieldWrite, b: FieldWrite) -> bool:
    """True when `a` wins over `b` under LWW."""
    return a.order > b.order


def _concurrent(current: FieldWrite, op: WriteOp) -> bool:
    return current.device_id != op.device_id and current.version > op.base


def apply_op(state: EntityState, op: WriteOp) -> OpOutcome:
    """Merge one op into one entity's field state.

    Returns the new state, the notices this op caused, the fields where the
    incoming write lost, and whether any field changed hands.
    """
    new_state = dict(state)
    notices: list[Notice] = []
    lost: list[str] = []
    noticed_losers: set[tuple[str, int]] = set()
    changed = False

    for name, value in op.field_writes().items():
        incoming = op.write(value)
        current = new_state.get(name)
        if current is None:
            new_state[name] = incoming
            changed = True
            continue
        if is_later(incoming, current):
            new_state[name] = incoming
            winner, loser = incoming, current
            changed = True
        else:
            winner, loser = current, incoming
            lost.append(name)
        if _concurrent(current, op):
            notices.append(Notice(op.entity, op.entity_id, name, winner, loser))
            noticed_losers.add((loser.device_id, loser.seq))

    deleted = new_state.get(DELETED)
    if deleted is not None and deleted.value is True:
        if op.action == "update":
            # An update racing a delete: the entity stays deleted.
            if _concurrent(deleted, op):
                loser = op.write(False)
                notices.append(Notice(op.entity, op.entity_id, DELETED, deleted, loser))
        elif op.action == "delete" and deleted.device_id == op.device_id and deleted.seq == op.seq:
            # A delete racing updates the deleting device had not seen.
            for name, current in state.items():
                key = (current.device_id, current.seq)
                if name == DELETED or key in noticed_losers or not _concurrent(current, op):
                    continue
                noticed_losers.add(key)
                loser = FieldWrite(
                    False,
                    current.device_id,
                    current.user_id,
                    current.seq,
                    current.ts,
                    current.tc,
                    current.version,
                )
                notices.append(Notice(op.entity, op.entity_id, DELETED, deleted, loser))

    return OpOutcome(state=new_state, notices=notices, lost_fields=lost, changed=changed)


def fold(ops: Iterable[WriteOp]) -> dict[tuple[str, str], dict[str, FieldWrite]]:
    """Merge ops in the given order into the state of every entity they touch."""
    states: dict[tuple[str, str], dict[str, FieldWrite]] = {}
    for op in ops:
        key = (op.entity, op.entity_id)
        states[key] = apply_op(states.get(key, {}), op).state
    return states


def values(state: EntityState) -> dict[str, Any]:
    """The field values of a state, without who wrote them."""
    return {name: write.value for name, write in state.items()}
