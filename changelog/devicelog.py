"""SQL for the device logs, the devices that own them and the commit clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_CLAIM = text(
    """
    INSERT INTO devices AS d (device_id, user_id) VALUES (:device_id, :user_id)
    ON CONFLICT (device_id) DO UPDATE SET device_id = d.device_id
    RETURNING user_id, acked_seq, notices_acked
    """
)

_STORED_OPS = text(
    "SELECT seq, op FROM device_log WHERE device_id = :device_id AND seq = ANY(:seqs)"
)

_TAKE_POSITIONS = text(
    """
    UPDATE sync_clock SET position = position + :n WHERE id = 1
    RETURNING position - :n, job_count, notice_count
    """
)

_SAVE_COUNTERS = text(
    "UPDATE sync_clock SET job_count = :job_count, notice_count = :notice_count WHERE id = 1"
)

_APPEND = text(
    """
    INSERT INTO device_log (device_id, seq, position, user_id, op, entity, entity_id, action,
                            status, error, version, lost_fields, received_at)
    SELECT r.device_id, r.seq, r.position, r.user_id, r.op, r.entity, r.entity_id, r.action,
           r.status, r.error, r.version, r.lost_fields, to_timestamp(r.received_at / 1000.0)
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        device_id text, seq bigint, position bigint, user_id text, op text, entity text,
        entity_id text, action text, status text, error jsonb, version bigint,
        lost_fields jsonb, received_at bigint)
    """
)

_SET_ACKED = text(
    """
    UPDATE devices SET acked_seq = greatest(acked_seq, :acked_seq), last_push_at = now()
    WHERE device_id = :device_id
    """
)


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    user_id: str
    acked_seq: int
    notices_acked: int


class LogRow(msgspec.Struct):
    """One device log entry, as appended."""

    device_id: str
    seq: int
    position: int
    user_id: str
    op: str
    entity: str | None
    entity_id: str | None
    action: str | None
    status: str
    error: dict[str, Any] | None
    version: int | None
    lost_fields: list[str] | None
    received_at: int


@dataclass(frozen=True, slots=True)
class Positions:
    first: int  # the first position of the batch is first + 1
    job_count: int
    notice_count: int


async def claim_device(conn: AsyncConnection, device_id: str, user_id: str) -> Device:
    """The device's row, created for `user_id` if new, locked until the transaction ends."""
    row = (await conn.execute(_CLAIM, {"device_id": device_id, "user_id": user_id})).one()
    return Device(device_id, row[0], row[1], row[2])


async def stored_ops(conn: AsyncConnection, device_id: str, seqs: list[int]) -> dict[int, str]:
    rows = await conn.execute(_STORED_OPS, {"device_id": device_id, "seqs": seqs})
    return {seq: op for seq, op in rows}


async def take_positions(conn: AsyncConnection, n: int) -> Positions:
    """Reserve n commit positions. Holds the commit lock until the transaction ends."""
    first, job_count, notice_count = (await conn.execute(_TAKE_POSITIONS, {"n": n})).one()
    return Positions(first, job_count, notice_count)


async def save_counters(conn: AsyncConnection, job_count: int, notice_count: int) -> None:
    await conn.execute(_SAVE_COUNTERS, {"job_count": job_count, "notice_count": notice_count})


async def append(conn: AsyncConnection, rows: list[LogRow]) -> None:
    if rows:
        await conn.execute(_APPEND, {"rows": msgspec.json.encode(rows).decode()})


async def set_acked(conn: AsyncConnection, device_id: str, acked_seq: int) -> None:
    await conn.execute(_SET_ACKED, {"device_id": device_id, "acked_seq": acked_seq})
