"""Push (PROTOCOL.md sections 4-5): append a batch to a device log and merge it.

One transaction per request. The device row lock orders pushes of one device;
the commit lock (`take_positions`) is taken only once the batch is checked,
and held to commit, so commit positions follow commit order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog
from changelog.hlc import too_far_ahead, wall_ms
from conflict.lww import WriteOp
from schema import wire
from schema.entities import ENTITIES, TECHNICIAN_ROLES
from schema.ops import CheckedOp, check_op, op_from_text
from syncserver.auth import Principal
from syncserver.errors import ClockAhead, DeviceTaken, SeqGap, SeqReused
from syncserver.projector import Key, Projector
from syncserver.storage import notices as notice_store
from syncserver.storage import projection
from syncserver.storage import users as user_store


@dataclass(frozen=True, slots=True)
class PushOutcome:
    response: wire.PushResponse
    committed: bool  # whether any op was appended (and pokes are due)


def _classify(
    ops: list[wire.Op], acked: int, stored: dict[int, str]
) -> tuple[list[wire.OpResult], list[wire.Op]]:
    """Split a batch into duplicates and the ops that continue the log."""
    duplicates: list[wire.OpResult] = []
    new: list[wire.Op] = []
    seen: dict[int, wire.Op] = {}
    expected = acked + 1
    for op in ops:
        if op.seq < expected:
            earlier = seen.get(op.seq)
            if earlier is None:
                earlier = op_from_text(stored[op.seq])
            if earlier != op:
                raise SeqReused(
                    f"seq {op.seq} was already used for a different op",
                    {"seq": op.seq},
                )
            duplicates.append(wire.OpResult(seq=op.seq, status="duplicate"))
            continue
        if op.seq > expected:
            raise SeqGap(
                f"seq {op.seq} does not continue the device log",
                {"expected": expected},
            )
        seen[op.seq] = op
        new.append(op)
        expected += 1
    return duplicates, new


def _wanted_keys(checked: list[CheckedOp]) -> tuple[set[Key], set[str]]:
    """The entities a batch touches or references, and the users it references."""
    keys: set[Key] = set()
    users: set[str] = set()
    for c in checked:
        if c.error is not None or c.entity is None or c.entity_id is None:
            continue
        keys.add((c.entity, c.entity_id))
        for name, target in ENTITIES[c.entity].refs.items():
            value = c.fields.get(name)
            if isinstance(value, str):
                if target == "user":
                    users.add(value)
                else:
                    keys.add((target, value))
    return keys, users


def _reference_problem(
    c: CheckedOp, projector: Projector, technicians: set[str]
) -> wire.OpError | None:
    assert c.entity is not None and c.entity_id is not None
    current = projector.get(c.entity, c.entity_id)
    if c.action in ("update", "delete") and current is None:
        return wire.OpError("not_found", f"{c.entity} {c.entity_id} does not exist")
    for name, target in ENTITIES[c.entity].refs.items():
        value = c.fields.get(name)
        if value is None:
            continue
        if target == "user":
            if value not in technicians:
                return wire.OpError(
                    "not_found",
                    f"field `{name}`: no active technician or service provider {value}",
                )
        elif projector.get(target, value) is None:
            return wire.OpError("not_found", f"field `{name}`: {target} {value} does not exist")
    if c.entity == "job" and c.fields.get("location_id") is not None:
        location = projector.get("location", c.fields["location_id"])
        customer = c.fields.get("customer_id")
        if customer is None and current is not None:
            customer = current.value("customer_id")
        if location is not None and location.value("customer_id") != customer:
            return wire.OpError(
                "invalid_op", "field `location_id`: the location belongs to another customer"
            )
    return None


async def _append_and_merge(
    conn: AsyncConnection,
    principal: Principal,
    device_id: str,
    new: list[wire.Op],
    now: int,
) -> tuple[list[wire.OpResult], list[wire.Notice]]:
    checked = [check_op(op) for op in new]
    keys, user_ids = _wanted_keys(checked)
    positions = await devicelog.take_positions(conn, len(new))  # the commit lock, to commit
    rows = await projection.load(conn, keys)
    technicians = await user_store.active_with_roles(conn, user_ids, TECHNICIAN_ROLES)
    projector = Projector(rows, positions.job_count, positions.notice_count)

    results: list[wire.OpResult] = []
    log_rows: list[devicelog.LogRow] = []
    for offset, c in enumerate(checked, start=1):
        position = positions.first + offset
        error = c.error or _reference_problem(c, projector, technicians)
        version: int | None = None
        lost: list[str] | None = None
        if error is None:
            assert c.entity is not None and c.entity_id is not None
            applied = projector.apply(
                WriteOp(
                    entity=c.entity,
                    entity_id=c.entity_id,
                    action=c.action,  # type: ignore[arg-type]
                    fields=c.fields,
                    base=c.op.base,
                    device_id=device_id,
                    user_id=principal.user_id,
                    seq=c.op.seq,
                    ts=c.op.ts,
                    tc=c.op.tc,
                    version=position,
                ),
                now,
            )
            version, lost = applied.version, applied.lost_fields
            results.append(wire.OpResult(seq=c.op.seq, status="applied", version=version))
        else:
            results.append(wire.OpResult(seq=c.op.seq, status="rejected", error=error))
        log_rows.append(
            devicelog.LogRow(
                device_id=device_id,
                seq=c.op.seq,
                position=position,
                user_id=principal.user_id,
                op=c.text,
                entity=c.entity,
                entity_id=c.entity_id,
                action=c.action,
                status="applied" if error is None else "rejected",
                error=None if error is None else {"code": error.code, "message": error.message},
                version=version,
                lost_fields=lost,
                received_at=now,
            )
        )

    await devicelog.append(conn, log_rows)
    await projection.save(conn, projector.dirty_rows())
    stored = await notice_store.save(conn, projector.notices)
    await devicelog.save_counters(conn, projector.job_count, projector.notice_count)
    created = [n for n in projector.notices if n.notice.id in stored]
    return results, [notice_store.to_wire(n) for n in created]


async def push(
    engine: AsyncEngine,
    principal: Principal,
    request: wire.PushRequest,
    max_clock_skew_ms: int,
) -> PushOutcome:
    now = wall_ms()
    for op in request.ops:
        if too_far_ahead(op.ts, now, max_clock_skew_ms):
            raise ClockAhead(
                f"op seq {op.seq} has ts {op.ts}, more than {max_clock_skew_ms} ms ahead",
                {"server_time": now, "seq": op.seq},
            )
    ops = sorted(request.ops, key=lambda op: op.seq)
    device_id = request.device_id
    async with engine.begin() as conn:
        device = await devicelog.claim_device(conn, device_id, principal.user_id)
        if device.user_id != principal.user_id:
            raise DeviceTaken(f"device {device_id} belongs to another user")
        old_seqs = sorted({op.seq for op in ops if op.seq <= device.acked_seq})
        stored = await devicelog.stored_ops(conn, device_id, old_seqs) if old_seqs else {}
        duplicates, new = _classify(ops, device.acked_seq, stored)
        results: list[wire.OpResult] = []
        conflicts: list[wire.Notice] = []
        if new:
            results, conflicts = await _append_and_merge(conn, principal, device_id, new, now)
        acked = new[-1].seq if new else device.acked_seq
        await devicelog.set_acked(conn, device_id, acked)
    all_results = sorted(duplicates + results, key=lambda r: r.seq)
    return PushOutcome(
        wire.PushResponse(
            acked_seq=acked, server_time=now, results=all_results, conflicts=conflicts
        ),
        committed=bool(new),
    )
