"""A device's batch applied to the projection: read, merge, write.

1. Read the stored state of the entities the batch writes with
   `projection.existing` (a push has read it already, with its reference
   checks, and passes it in).
2. Merge in Python with `conflict.merge_batch`, the one merge.
3. Write in one statement: the changed entity rows (served document, pull
   entry and per-field metadata), the batch's row of the device log, the
   notices, the device's acknowledged seq, and the NOTIFY for realtime.

The push, rebuild and the server's own ops (changelog/serverlog.py) all come
here. The caller holds the locks on every entity the batch writes (see
changelog/devicelog.py), so nothing changes between the read and the write.
`tests/changelog/test_sql_merge_agrees.py` checks the stored result against
the test model's fold (tests/conflict/model.py) on random workloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import devicelog, driver, notices, pokes, projection
from conflict import EntityState, merge_batch
from schema import wire
from schema.timefmt import rfc3339_ms

Key = tuple[str, str]


@dataclass(slots=True)
class Batch:
    """A device's next ops in seq order, each with its verdict so far: what the merge
    and the device log take. Op i has seq `ops[0].seq + i` and commit position
    `first_position + i`."""

    device_id: str
    user_id: str
    received_at: int  # ms since the epoch
    first_position: int
    ops: list[wire.Op]
    errors: list[wire.OpError | None]  # None: the op is to be merged
    texts: list[str]  # each op as received, for the device log (empty when not logged)


@dataclass(frozen=True, slots=True)
class MergeResult:
    versions: dict[int, int]  # seq -> entity version after the op (applied ops)
    notices: list[wire.Notice]


_notices = msgspec.json.Decoder(list[wire.Notice])
_encoder = msgspec.json.Encoder()

# The merge's one write: each table's part comes from the table's home.
_WRITE = text(
    f"""
WITH
{projection.WRITE_CTES},
{devicelog.APPEND_CTES},
{notices.INSERT_CTE}
SELECT
    (SELECT coalesce(json_agg({notices.NOTICE_JSON} ORDER BY n.seq), '[]')
     FROM inserted_notices n)::text,
    -- Realtime: tell every server process once this commits.
    (SELECT count(pg_notify(CAST(:channel AS text), CAST(:announce AS text)))
     WHERE CAST(:announce AS text) IS NOT NULL)
"""
)


async def merge(
    conn: AsyncConnection,
    batch: Batch,
    *,
    log: bool = True,
    announce: pokes.Announcement | None = None,
    stored: Mapping[Key, EntityState] | None = None,
) -> MergeResult:
    """Merge the batch's ops that have no error and, if `log`, append all of them to
    the device log as one row and acknowledge them on the device; if any was
    applied, NOTIFY `announce` (changelog/pokes.py).

    `stored` is the state of the entities the applied ops write, read after the
    locks; without it, it is read here. Call after the push's locks
    (`devicelog.lock_and_claim`, or `lock_for_push`), with positions from this
    transaction's xid.
    """
    applied = [
        (op, batch.first_position + i)
        for i, (op, error) in enumerate(zip(batch.ops, batch.errors, strict=True))
        if error is None
    ]
    if stored is None:
        keys = {(op.entity, op.id) for op, _ in applied}
        stored = (await projection.existing(conn, keys, keys)).stored
    outcome = merge_batch(
        stored,
        [op for op, _ in applied],
        [pos for _, pos in applied],
        batch.device_id,
        batch.user_id,
    )
    received = rfc3339_ms(batch.received_at)
    verdicts = outcome.verdicts
    ((inserted, _),) = await driver.rows(
        conn,
        _WRITE,
        {
            "entities": projection.entity_rows(outcome, stored, batch.user_id, received),
            **(
                devicelog.append_params(
                    batch.ops, batch.errors, batch.texts, batch.first_position, verdicts
                )
                if log and batch.ops
                else devicelog.NO_APPEND
            ),
            "notices": _encoder.encode(outcome.notices).decode(),
            "device_id": batch.device_id,
            "user_id": batch.user_id,
            "received_at": batch.received_at,
            "channel": pokes.CHANNEL,
            "announce": None if announce is None or not verdicts else pokes.payload(announce),
        },
    )
    return MergeResult(
        versions={seq: version for seq, (version, _) in verdicts.items()},
        notices=_notices.decode(inserted),
    )
