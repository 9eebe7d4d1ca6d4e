"""Resolving a conflict notice (PROTOCOL.md section 9).

`keep_winner` only closes the notice. `apply_loser` and `set` also append an op
to the server's own device log (`~server`: a device id no client can use) that
writes the chosen value, LWW-later than both sides of the notice and than the
field's current write, so every device gets the outcome on its next pull and
`syncserver rebuild` reproduces it. On the `deleted` pseudo-field, `true` is a
delete and `false` revives the entity (a create carrying its current required
fields).

The transaction takes the push's advisory locks on the server device and the
entity before it writes anything, exactly like a push (syncserver/push.py), so
the op's commit position keeps the same ordering guarantees.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog
from changelog.hlc import wall_ms
from conflict.lww import DELETED
from schema import wire
from schema.entities import ENTITIES
from schema.ops import check_op
from syncserver.auth import BUILTIN_ADMIN_ID, Principal
from syncserver.errors import Conflict, InvalidRequest, NotFound
from syncserver.push import append_and_merge
from syncserver.storage import notices as notice_store
from syncserver.storage import pokes
from syncserver.timefmt import rfc3339_ms

SERVER_DEVICE = "~server"

_NOTICE = text("SELECT entity, entity_id, field, status FROM notices WHERE id = :id")
_CURRENT = text(
    """
    SELECT version, data, meta -> :field FROM entities WHERE entity = :entity AND id = :id
    """
)


def _later_than(sides: list[dict[str, Any]], now: int) -> tuple[int, int]:
    """An HLC (ts, tc) later than every side, and not before now."""
    ts = max([now, *(int(s["ts"]) for s in sides)])
    at_ts = [int(s["tc"]) for s in sides if int(s["ts"]) == ts]
    return ts, (max(at_ts) + 1 if at_ts else 0)


def _op_fields(entity: str, field: str, value: Any, data: dict[str, Any]) -> tuple[str, Any]:
    if field != DELETED:
        return "update", {field: value}
    if value is True:
        return "delete", None
    if value is False:
        required = ENTITIES[entity].required
        return "create", {name: data.get(name) for name in sorted(required)}
    raise InvalidRequest("`deleted` takes true or false", {"field": "value"})


async def _append(
    conn: AsyncConnection,
    principal: Principal,
    notice: tuple[str, str, str, dict[str, Any], dict[str, Any]],
    value: Any,
) -> dict[str, Any]:
    entity, entity_id, field, winner, loser = notice
    device = await devicelog.claim_device(conn, SERVER_DEVICE, BUILTIN_ADMIN_ID)
    version, data, current = (
        await conn.execute(_CURRENT, {"entity": entity, "id": entity_id, "field": field})
    ).one()
    now = wall_ms()
    ts, tc = _later_than([winner, loser, *([current] if current else [])], now)
    action, fields = _op_fields(entity, field, value, data)
    op = wire.Op(
        seq=device.acked_seq + 1,
        ts=ts,
        tc=tc,
        entity=entity,
        id=entity_id,
        action=action,
        fields=fields,
        base=version,
    )
    checked = check_op(op)
    results, _ = await append_and_merge(
        conn, principal, SERVER_DEVICE, [checked], now, device.first_position
    )
    result = results[0]
    if result.status != "applied":
        message = result.error.message if result.error else "the op was rejected"
        raise InvalidRequest(f"the value cannot be applied: {message}", {"field": "value"})
    position = device.first_position + 1
    await pokes.announce(conn, pokes.Announcement(lo=position, hi=position))
    return {"device_id": SERVER_DEVICE, "seq": op.seq, "version": result.version}


async def resolve(
    engine: AsyncEngine, principal: Principal, notice_id: str, body: wire.Resolve
) -> str:
    """Resolve an open notice; returns the notice as JSON text."""
    if body.action == "set" and body.value is msgspec.UNSET:
        raise InvalidRequest("`set` needs a `value`", {"field": "value"})
    async with engine.begin() as conn:
        found = (await conn.execute(_NOTICE, {"id": notice_id})).first()
        if found is None:
            raise NotFound("no such conflict notice")
        entity, entity_id, _, _ = found
        if body.action != "keep_winner":
            # Before anything that writes: the push's lock order (see the module doc).
            await devicelog.lock_for_push(conn, SERVER_DEVICE, [(entity, entity_id)])
        row = await notice_store.lock_open(conn, notice_id)
        assert row is not None  # notices are never deleted
        status, entity, entity_id, field, winner, loser = row
        if status != "open":
            raise Conflict("this notice is already resolved", {"status": status})
        resolution: dict[str, Any] = {
            "action": body.action,
            "resolved_by": principal.user_id,
            "resolved_at": rfc3339_ms(wall_ms()),
            "op": None,
        }
        if body.action != "keep_winner":
            value = loser["value"] if body.action == "apply_loser" else body.value
            resolution["value"] = value
            resolution["op"] = await _append(
                conn, principal, (entity, entity_id, field, winner, loser), value
            )
        await notice_store.mark_resolved(conn, notice_id, resolution)
        doc = await notice_store.get(conn, notice_id)
    assert doc is not None
    return doc
