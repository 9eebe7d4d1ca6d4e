"""The server's own device log, `~server`: ops the server writes on someone's behalf.

Conflict resolutions (syncserver/resolve.py) and photo verification
(syncserver/photos.py) change projections through ops here, like any device,
so every device gets the result by pull and `rebuild` reproduces it. No client
can use the device id: client ids are `[A-Za-z0-9._-]`.

Call `lock` before the transaction writes anything (the push's lock order,
syncserver/push.py), then `append`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import devicelog
from changelog.hlc import wall_ms
from schema import wire
from schema.ops import check_op
from syncserver.auth import BUILTIN_ADMIN_ID, Principal
from syncserver.push import append_and_merge
from syncserver.storage.projection import META_ENTRY

SERVER_DEVICE = "~server"
# The most ops one `append` (one transaction) may carry, as a device's push.
MAX_OPS = wire.MAX_PUSH_OPS

_CURRENT = text(
    f"""
    SELECT e.version, e.data,
           (SELECT jsonb_object_agg(key, {META_ENTRY.format(v="value")}) FROM jsonb_each(m.meta))
    FROM entities e JOIN entity_meta m ON m.entity = e.entity AND m.id = e.id
    WHERE e.entity = :entity AND e.id = :id
    """
)


async def lock(conn: AsyncConnection, keys: Iterable[tuple[str, str]]) -> None:
    await devicelog.lock_for_push(conn, SERVER_DEVICE, sorted(set(keys)))


async def current(
    conn: AsyncConnection, entity: str, entity_id: str
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """The entity's version, served document and per-field metadata."""
    version, data, meta = (await conn.execute(_CURRENT, {"entity": entity, "id": entity_id})).one()
    return int(version), data, meta


def later_than(sides: Iterable[dict[str, Any]], now: int) -> tuple[int, int]:
    """An HLC (ts, tc) later than every side (dicts with `ts` and `tc`), not before now."""
    sides = list(sides)
    ts = max([now, *(int(s["ts"]) for s in sides)])
    at_ts = [int(s["tc"]) for s in sides if int(s["ts"]) == ts]
    return ts, (max(at_ts) + 1 if at_ts else 0)


async def append(
    conn: AsyncConnection,
    principal: Principal,
    ops: Sequence[tuple[str, str, str, dict[str, Any] | None, tuple[int, int], int]],
) -> list[wire.OpResult]:
    """Append ops (entity, id, action, fields, (ts, tc), base) and merge them; returns
    each op's result. Announces the commit to realtime listeners. At most `MAX_OPS`:
    a transaction's ops have commit positions of their own only up to that many."""
    if len(ops) > MAX_OPS:
        raise ValueError(f"at most {MAX_OPS} ops in one transaction, not {len(ops)}")
    device = await devicelog.claim_device(conn, SERVER_DEVICE, BUILTIN_ADMIN_ID)
    checked = [
        check_op(
            wire.Op(
                seq=device.acked_seq + i,
                ts=ts,
                tc=tc,
                entity=entity,
                id=entity_id,
                action=action,
                fields=fields,
                base=base,
            )
        )
        for i, (entity, entity_id, action, fields, (ts, tc), base) in enumerate(ops, start=1)
    ]
    results, _ = await append_and_merge(
        conn, principal, SERVER_DEVICE, checked, wall_ms(), device.first_position
    )
    return results
