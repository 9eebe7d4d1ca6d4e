"""The merge: one device's batch of ops merged into the entities they touch.

Per-field last-write-wins by HLC. The state of an entity maps each field to
the write holding it; `deleted` is a field like the others: a create writes
`False`, a delete writes `True`, an update never writes it. A write
conflicts when the field's current write was made by another device at a
version greater than the op's `base`: neither side had seen the other. LWW
still decides the value, and the loser is reported in a notice.

The push (changelog/push.py), `syncserver rebuild` and conflict resolution
all run this one function, on compact state: each field's holder is a list
`[ts, tc, device_id, user_id, seq, version]` (the form `entity_meta`
stores), and an entity's values are its served document.
`tests/conflict/model.py` states the same rule op by op, readably, and
`tests/conflict/test_merge.py` checks this function against it.

Pure: no I/O, and the given states are not modified.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schema.wire import Op

DELETED = "deleted"

# Positions within a transaction are `xid * 1024 + k` (changelog/devicelog.py); a
# notice's seq is its op's position * 1024 + its rank among the op's notices.
NOTICES_PER_OP = 1024

# A field's holder: [ts, tc, device_id, user_id, seq, version].
Holder = list[Any]

# Notice kinds, in the order an op's notices are numbered.
FIELD_RACE = 0  # a concurrent write lost on its field
UPDATE_VS_DELETE = 1  # an update raced a delete it had not seen (the entity stays deleted)
DELETE_VS_WRITE = 2  # a winning delete raced a write it had not seen

# (position, kind, entity, entity_id, field, winner, loser), before numbering
_RawNotice = tuple[int, int, str, str, str, dict[str, Any], dict[str, Any]]


@dataclass(slots=True)
class EntityState:
    """An entity as the batch finds or leaves it.

    `values` holds the served fields (`deleted` among them), `holders` the write
    holding each field. An entity the batch creates starts with version 0 and
    nothing held.
    """

    version: int
    values: dict[str, Any]
    holders: dict[str, Holder]
    changed: bool = False


# An applied op's verdict: the entity's version after the op, and the fields where
# the op's write lost (sorted).
OpVerdict = tuple[int, list[str]]


@dataclass(frozen=True, slots=True)
class BatchNotice:
    seq: int
    id: str
    pos: int
    entity: str
    entity_id: str
    field: str
    winner: dict[str, Any]
    loser: dict[str, Any]


@dataclass(slots=True)
class BatchOutcome:
    entities: dict[tuple[str, str], EntityState]  # every entity the batch touched
    verdicts: dict[int, OpVerdict] = field(default_factory=dict)  # by seq, applied ops
    notices: list[BatchNotice] = field(default_factory=list)


def _side(value: Any, holder: Holder) -> dict[str, Any]:
    return {
        "value": value,
        "device_id": holder[2],
        "user_id": holder[3],
        "seq": holder[4],
        "ts": holder[0],
        "tc": holder[1],
    }


def notice_id(entity: str, entity_id: str, field_name: str, device_id: str, seq: int) -> str:
    """A notice's id, from what it is about and the losing write's device and seq:
    deterministic, so that a rebuild reproduces the same ids. The md5 of the parts
    joined by U+001F, as a UUID."""
    name = "\x1f".join((entity, entity_id, field_name, device_id, str(seq)))
    return str(uuid.UUID(hashlib.md5(name.encode("utf-8")).hexdigest()))


def _concurrent(holder: Holder, device_id: str, base: int) -> bool:
    """Another device wrote it at a version the op had not seen."""
    return bool(holder[2] != device_id and holder[5] > base)


def _writes(op: Op) -> Mapping[str, Any]:
    """The fields an op writes, `deleted` included where it writes it."""
    if op.action == "delete":
        return {DELETED: True}
    if op.action == "create":
        return {**op.fields, DELETED: False}
    fields: dict[str, Any] = op.fields
    return fields


def merge_batch(
    stored: Mapping[tuple[str, str], EntityState],
    ops: Sequence[Op],
    positions: Sequence[int],
    device_id: str,
    user_id: str,
) -> BatchOutcome:
    """Merge one device's applied ops, in position order (`positions`, one per op),
    into `stored`: the state of the entities they touch that exist; the others start
    empty. Every op must have passed `schema.ops.check_op`."""
    states: dict[tuple[str, str], EntityState] = {}
    outcome = BatchOutcome(states)
    raw: list[_RawNotice] = []
    for op, pos in zip(ops, positions, strict=True):
        key = (op.entity, op.id)
        state = states.get(key)
        if state is None:
            found = stored.get(key)
            state = (
                EntityState(found.version, dict(found.values), dict(found.holders))
                if found is not None
                else EntityState(0, {}, {})
            )
            states[key] = state
        values, holders, base = state.values, state.holders, op.base
        before = dict(holders) if op.action == "delete" else holders
        mine: Holder = [op.ts, op.tc, device_id, user_id, op.seq, pos]
        order = (op.ts, op.tc, device_id)
        changed = False
        lost: list[str] = []
        noticed: set[tuple[str, int]] = set()
        for name, value in _writes(op).items():
            current = holders.get(name)
            if current is None:
                holders[name] = mine
                values[name] = value
                changed = True
                continue
            wins = order > (current[0], current[1], current[2])
            if _concurrent(current, device_id, base):
                held, incoming = _side(values.get(name), current), _side(value, mine)
                winner, loser = (incoming, held) if wins else (held, incoming)
                raw.append((pos, FIELD_RACE, key[0], key[1], name, winner, loser))
                noticed.add((loser["device_id"], loser["seq"]))
            if wins:
                holders[name] = mine
                values[name] = value
                changed = True
            else:
                lost.append(name)
        deleted = holders.get(DELETED)
        if deleted is not None and values.get(DELETED) is True:
            if op.action == "update":
                if _concurrent(deleted, device_id, base):
                    raw.append(
                        (
                            pos,
                            UPDATE_VS_DELETE,
                            key[0],
                            key[1],
                            DELETED,
                            _side(True, deleted),
                            _side(False, mine),
                        )
                    )
            elif op.action == "delete" and deleted is mine:
                for name, current in before.items():
                    who = (current[2], current[4])
                    if (
                        name == DELETED
                        or who in noticed
                        or not _concurrent(current, device_id, base)
                    ):
                        continue
                    noticed.add(who)
                    raw.append(
                        (
                            pos,
                            DELETE_VS_WRITE,
                            key[0],
                            key[1],
                            DELETED,
                            _side(True, deleted),
                            _side(False, current),
                        )
                    )
        if changed:
            state.version = pos
            state.changed = True
        outcome.verdicts[op.seq] = (state.version, sorted(lost) if lost else lost)
    outcome.notices = _numbered(raw)
    return outcome


def _numbered(raw: list[_RawNotice]) -> list[BatchNotice]:
    """Each op's notices ranked by (kind, field, loser's device, loser's seq)."""
    raw.sort(key=lambda n: (n[0], n[1], n[4], n[6]["device_id"], n[6]["seq"]))
    notices: list[BatchNotice] = []
    rank = 0
    for i, (pos, _kind, entity, entity_id, name, winner, loser) in enumerate(raw):
        rank = rank + 1 if i and raw[i - 1][0] == pos else 1
        notices.append(
            BatchNotice(
                seq=pos * NOTICES_PER_OP + rank,
                id=notice_id(entity, entity_id, name, loser["device_id"], loser["seq"]),
                pos=pos,
                entity=entity,
                entity_id=entity_id,
                field=name,
                winner=winner,
                loser=loser,
            )
        )
    return notices
