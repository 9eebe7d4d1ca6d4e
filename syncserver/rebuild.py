"""`syncserver rebuild`: recompute every projection and notice from the device logs.

Replays applied ops in commit order through the same `Projector` the push
path uses, with the positions and receive times recorded in the logs, so the
result equals what was served before. Runs in one transaction holding the
commit lock: pushes wait, and a failure leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog
from conflict.lww import WriteOp
from syncserver.projector import Projector
from syncserver.storage import notices as notice_store
from syncserver.storage import projection

CHUNK = 5000

_RESET = text(
    """
    TRUNCATE entities, notices;
    UPDATE sync_clock SET job_count = 0, notice_count = 0 WHERE id = 1;
    """
)

_LOCK = text("SELECT position FROM sync_clock WHERE id = 1 FOR UPDATE")

_APPLIED = text(
    """
    SELECT position, device_id, seq, user_id, entity, entity_id, action, op,
           (extract(epoch FROM received_at) * 1000)::bigint
    FROM device_log
    WHERE status = 'applied' AND position > :after
    ORDER BY position
    LIMIT :limit
    """
)


class _LoggedOp(msgspec.Struct):
    ts: int
    tc: int = 0
    base: int = 0
    fields: dict[str, object] | None = None


@dataclass(frozen=True)
class RebuildStats:
    ops: int
    entities: int
    notices: int


async def _replay_chunk(
    conn: AsyncConnection, rows: Sequence[Any], counters: tuple[int, int]
) -> tuple[int, int, int]:
    keys = {(row[4], row[5]) for row in rows}
    projector = Projector(await projection.load(conn, keys), *counters)
    for position, device_id, seq, user_id, entity, entity_id, action, op_json, received in rows:
        logged = msgspec.json.decode(op_json, type=_LoggedOp)
        projector.apply(
            WriteOp(
                entity=entity,
                entity_id=entity_id,
                action=action,
                fields=logged.fields or {},
                base=logged.base,
                device_id=device_id,
                user_id=user_id,
                seq=seq,
                ts=logged.ts,
                tc=logged.tc,
                version=position,
            ),
            received,
        )
    dirty = projector.dirty_rows()
    await projection.save(conn, dirty)
    stored = await notice_store.save(conn, projector.notices)
    return projector.job_count, projector.notice_count, len(stored)


async def rebuild(engine: AsyncEngine) -> RebuildStats:
    ops = notices = 0
    counters = (0, 0)
    async with engine.begin() as conn:
        await conn.execute(_LOCK)
        await conn.exec_driver_sql(str(_RESET))
        after = 0
        while True:
            rows = list(await conn.execute(_APPLIED, {"after": after, "limit": CHUNK}))
            if not rows:
                break
            job_count, notice_count, new_notices = await _replay_chunk(conn, rows, counters)
            counters = (job_count, notice_count)
            ops += len(rows)
            notices += new_notices
            after = rows[-1][0]
        await devicelog.save_counters(conn, *counters)
        entities = (await conn.execute(text("SELECT count(*) FROM entities"))).scalar_one()
    return RebuildStats(ops=ops, entities=int(entities), notices=notices)
