"""The server's own device log, `~server`: ops the server writes on someone's behalf.

Conflict resolutions (changelog/resolve.py) and photo verification
(syncserver/photos.py) change projections through ops here, like any device,
so every device gets the result by pull and `rebuild` reproduces it. No client
can use the device id: client ids are `[A-Za-z0-9._-]`.

Call `lock` before the transaction writes anything (the push's lock order,
changelog/push.py), then `append`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import devicelog
from changelog.hlc import wall_ms
from changelog.merge import Batch
from changelog.projection import META_ENTRY
from changelog.push import Technicians, append_and_merge
from schema import wire
from schema.errors import SyncError
from schema.ops import check_op, op_text
from schema.rights import BUILTIN_ADMIN_ID, Principal

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


@dataclass(frozen=True, slots=True)
class ServerWrite:
    """What one of the server's ops writes; `append` gives it its seq."""

    entity: str
    id: str
    action: str
    fields: dict[str, Any] | None
    hlc: tuple[int, int]  # (ts, tc)
    base: int


async def append(
    conn: AsyncConnection,
    who: Principal,
    writes: Sequence[ServerWrite],
    technicians: Technicians,
) -> list[wire.OpResult]:
    """Append the writes as ops and merge them, on `who`'s behalf; returns each op's
    result. Announces the commit to realtime listeners. At most `MAX_OPS`: a
    transaction's ops have commit positions of their own only up to that many."""
    if len(writes) > MAX_OPS:
        raise SyncError(f"at most {MAX_OPS} ops in one transaction, not {len(writes)}")
    device = await devicelog.claim_device(conn, SERVER_DEVICE, BUILTIN_ADMIN_ID)
    ops = [
        wire.Op(
            seq=device.acked_seq + i,
            ts=w.hlc[0],
            tc=w.hlc[1],
            entity=w.entity,
            id=w.id,
            action=w.action,
            fields=w.fields,
            base=w.base,
        )
        for i, w in enumerate(writes, start=1)
    ]
    batch = Batch(
        SERVER_DEVICE,
        who.user_id,
        wall_ms(),
        device.first_position + 1,
        ops,
        [check_op(op) for op in ops],
        [op_text(op) for op in ops],
    )
    results, _ = await append_and_merge(conn, who, batch, technicians)
    return results
