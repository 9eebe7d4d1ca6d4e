"""Resolving a conflict notice (docs/protocol.md, "Conflict reports and resolution").

`keep_winner` only closes the notice. `apply_loser` and `set` also append an op
to the server's own device log (`~server`: a device id no client can use) that
writes the chosen value, LWW-later than both sides of the notice and than the
field's current write, so every device gets the outcome on its next pull and
`syncserver rebuild` reproduces it. On the `deleted` pseudo-field, `true` is a
delete and `false` revives the entity (a create carrying its current required
fields).

The transaction takes the push's advisory locks on the server device and the
entity before it writes anything, exactly like a push (changelog/push.py), so
the op's commit position keeps the same ordering guarantees.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import notices as notice_store
from changelog import serverlog
from changelog.hlc import wall_ms
from changelog.push import Technicians
from conflict import DELETED
from schema import wire
from schema.entities import ENTITIES
from schema.errors import Conflict, InvalidRequest, NotFound
from schema.rights import Principal
from schema.timefmt import rfc3339_ms


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
    technicians: Technicians,
) -> dict[str, Any]:
    entity, entity_id, field, winner, loser = notice
    version, data, meta = await serverlog.current(conn, entity, entity_id)
    held = meta.get(field)
    hlc = serverlog.later_than([winner, loser, *([held] if held else [])], wall_ms())
    action, fields = _op_fields(entity, field, value, data)
    (result,) = await serverlog.append(
        conn,
        principal,
        [serverlog.ServerWrite(entity, entity_id, action, fields, hlc, version)],
        technicians,
    )
    if result.status != "applied":
        message = result.error.message if result.error else "the op was rejected"
        raise InvalidRequest(f"the value cannot be applied: {message}", {"field": "value"})
    return {"device_id": serverlog.SERVER_DEVICE, "seq": result.seq, "version": result.version}


async def resolve(
    engine: AsyncEngine,
    principal: Principal,
    notice_id: str,
    body: wire.Resolve,
    technicians: Technicians,
) -> str:
    """Resolve an open notice; returns the notice as JSON text."""
    if body.action == "set" and body.value is msgspec.UNSET:
        raise InvalidRequest("`set` needs a `value`", {"field": "value"})
    async with engine.begin() as conn:
        found = await notice_store.subject(conn, notice_id)
        if found is None:
            raise NotFound("no such conflict notice")
        entity, entity_id = found
        if body.action != "keep_winner":
            # Before anything that writes: the push's lock order (see the module doc).
            await serverlog.lock(conn, [(entity, entity_id)])
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
                conn, principal, (entity, entity_id, field, winner, loser), value, technicians
            )
        await notice_store.mark_resolved(conn, notice_id, resolution)
        doc = await notice_store.get(conn, notice_id)
    assert doc is not None
    return doc
