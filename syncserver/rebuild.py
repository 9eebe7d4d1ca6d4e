"""`syncserver rebuild`: recompute every projection and notice from the device logs.

Replays the logs in position order through the same merge the push path
uses (syncserver/storage/merge.py), with the positions, receive times and
verdicts recorded in the logs.
Positions follow commit order for every entity and device (pushes that share
one are serialized before they get their xid), so the result equals what was
served before. Job numbers and notice resolutions are kept: they are
identities and decisions, not projections.
Each push's ops (one row of `device_log_batches`) are replayed as one batch,
as they were pushed. Runs in one transaction that locks out pushes; a
failure leaves everything as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from syncserver.storage.merge import MergeOp, merge_batch

CHUNK = 100  # pushes per read: up to 100,000 ops

# Resolutions are decisions, not projections: they are kept by notice id (a
# notice's id derives from its losing write, so replay gives it the same id), and
# the ops that carried them out are in the server's device log like any other.
_RESET = """
    LOCK TABLE device_log_batches, entities, entity_meta, notices IN EXCLUSIVE MODE;
    CREATE TEMP TABLE kept_resolutions ON COMMIT DROP AS
        SELECT id, status, resolution FROM notices WHERE status = 'resolved';
    TRUNCATE entities, entity_meta, notices;
"""

_RESTORE = """
    UPDATE notices n SET status = k.status, resolution = k.resolution
    FROM kept_resolutions k WHERE n.id = k.id;
"""

_LOG = text(
    """
    SELECT position, device_id, user_id, (extract(epoch FROM received_at) * 1000)::bigint,
           first_seq, ops, entities, entity_ids, actions, results::text
    FROM device_log_batches
    WHERE position > :after
    ORDER BY position
    LIMIT :limit
    """
)


class _LoggedOp(msgspec.Struct):
    ts: int
    tc: int = 0
    base: int = 0
    fields: dict[str, Any] | None = None


_results = msgspec.json.Decoder(list[tuple[bool, Any, Any, Any]])


@dataclass(frozen=True)
class RebuildStats:
    ops: int
    entities: int
    notices: int


def _merge_ops(
    position: int,
    first_seq: int,
    ops: list[str],
    entities: list[str | None],
    entity_ids: list[str | None],
    actions: list[str | None],
    results: str,
) -> list[MergeOp]:
    """A stored push's ops, as the merge takes them: the i-th has seq first_seq + i and
    position position + i."""
    merge_ops = []
    for i, (op, entity, entity_id, action, (applied, *_)) in enumerate(
        zip(ops, entities, entity_ids, actions, _results.decode(results), strict=True)
    ):
        logged = msgspec.json.decode(op, type=_LoggedOp) if applied else None
        merge_ops.append(
            MergeOp(
                pos=position + i,
                seq=first_seq + i,
                ts=logged.ts if logged else 0,
                tc=logged.tc if logged else 0,
                entity=entity,
                id=entity_id,
                action=action,
                base=logged.base if logged else 0,
                fields=(logged.fields or {}) if logged else None,
                ok=applied,
                error=None,
                op="",
            )
        )
    return merge_ops


async def _replay(conn: AsyncConnection) -> int:
    ops = 0
    after = 0
    while True:
        rows = list(await conn.execute(_LOG, {"after": after, "limit": CHUNK}))
        if not rows:
            break
        for position, device_id, user_id, received_at, *stored in rows:
            batch = _merge_ops(position, *stored)
            await merge_batch(
                conn,
                device_id=device_id,
                user_id=user_id,
                received_at=received_at,
                ops=batch,
                log=False,
            )
            ops += sum(1 for op in batch if op.ok)
        after = rows[-1][0]
    return ops


async def rebuild(engine: AsyncEngine) -> RebuildStats:
    async with engine.begin() as conn:
        await conn.exec_driver_sql(_RESET)
        ops = await _replay(conn)
        await conn.exec_driver_sql(_RESTORE)
        entities = (await conn.execute(text("SELECT count(*) FROM entities"))).scalar_one()
        notices = (await conn.execute(text("SELECT count(*) FROM notices"))).scalar_one()
    return RebuildStats(ops=ops, entities=int(entities), notices=int(notices))
