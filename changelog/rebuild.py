"""`syncserver rebuild`: recompute every projection and notice from the device logs.

Replays the logs in position order through the same merge the push path
uses (changelog/merge.py), with the positions, receive times and
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

from changelog.merge import Batch, merge
from schema import wire
from schema.ops import decode_logged

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
           first_seq, ops, results::text
    FROM device_log_batches
    WHERE position > :after
    ORDER BY position
    LIMIT :limit
    """
)


_results = msgspec.json.Decoder(list[tuple[bool, Any, Any, Any]])


@dataclass(frozen=True)
class RebuildStats:
    ops: int
    entities: int
    notices: int


# A rejected op stays rejected: the replay neither reads nor merges it.
_WAS_REJECTED = wire.OpError("rejected", "rejected when it was pushed")


def _batch(
    position: int,
    device_id: str,
    user_id: str,
    received_at: int,
    first_seq: int,
    ops: list[str],
    results: str,
) -> Batch:
    """A stored push as the merge takes it: the i-th op has seq first_seq + i and
    position position + i."""
    decoded = []
    errors: list[wire.OpError | None] = []
    for i, (logged, (applied, *_)) in enumerate(zip(ops, _results.decode(results), strict=True)):
        decoded.append(decode_logged(logged) if applied else wire.Op(seq=first_seq + i, ts=0))
        errors.append(None if applied else _WAS_REJECTED)
    return Batch(device_id, user_id, received_at, position, decoded, errors, texts=[])


async def _replay(conn: AsyncConnection) -> int:
    ops = 0
    after = 0
    while True:
        rows = list(await conn.execute(_LOG, {"after": after, "limit": CHUNK}))
        if not rows:
            break
        for row in rows:
            batch = _batch(*row)
            await merge(conn, batch, log=False)
            ops += batch.errors.count(None)
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
