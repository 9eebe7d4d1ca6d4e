"""Push (PROTOCOL.md sections 4-5): append a batch to a device log and merge it.

One transaction per request. It first takes advisory locks on the device and
on every entity the batch writes, before it writes anything; its first write
(claiming the device) gives it the xid its commit positions derive from. So
pushes sharing a device or an entity get positions in commit order, and
pushes sharing nothing run in parallel (changelog/devicelog.py).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog, driver
from changelog.hlc import too_far_ahead, wall_ms
from schema import wire
from schema.entities import ENTITIES, TECHNICIAN_ROLES
from schema.ops import CheckedOp, check_op, op_from_text
from schema.rights import JobScope, Writer, write_problem
from schema.visibility import SEES_EVERYTHING
from syncserver.auth import Principal
from syncserver.errors import ClockAhead, DeviceTaken, SeqGap, SeqReused
from syncserver.storage import pokes, projection
from syncserver.storage import users as user_store
from syncserver.storage.merge import MergeOp, merge_batch

Key = tuple[str, str]


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


def _wanted_keys(checked: list[CheckedOp]) -> tuple[set[Key], set[Key], set[str]]:
    """The entities a batch touches or references, those it writes, and the users it
    references."""
    keys: set[Key] = set()
    written: set[Key] = set()
    users: set[str] = set()
    for c in checked:
        if c.error is not None or c.entity is None or c.entity_id is None:
            continue
        written.add((c.entity, c.entity_id))
        keys.add((c.entity, c.entity_id))
        for name, target in ENTITIES[c.entity].refs.items():
            value = c.fields.get(name)
            if isinstance(value, str):
                if target == "user":
                    users.add(value)
                else:
                    keys.add((target, value))
    return keys, written, users


def _reference_problem(
    c: CheckedOp, known: dict[Key, str | None], technicians: set[str]
) -> wire.OpError | None:
    """What the op refers to must exist, as of the ops before it.

    `known` maps every existing entity the batch involves to its customer_id.
    """
    assert c.entity is not None and c.entity_id is not None
    key = (c.entity, c.entity_id)
    if c.action in ("update", "delete") and key not in known:
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
        elif (target, value) not in known:
            return wire.OpError("not_found", f"field `{name}`: {target} {value} does not exist")
    location_id = c.fields.get("location_id")
    if c.entity == "job" and location_id is not None:
        customer = c.fields.get("customer_id", known.get(key))
        if known.get(("location", location_id)) != customer:
            return wire.OpError(
                "invalid_op", "field `location_id`: the location belongs to another customer"
            )
    return None


def _job_of(c: CheckedOp) -> str | None:
    """The job an op works on: the job itself, or the job of a note or photo."""
    if c.entity == "job":
        return c.entity_id
    job_id = c.fields.get("job_id")
    return job_id if isinstance(job_id, str) else None


def _rights_problem(c: CheckedOp, writer: Writer, jobs: dict[str, JobScope]) -> wire.OpError | None:
    assert c.entity is not None and c.action is not None
    job_id = _job_of(c)
    reason = write_problem(
        writer, c.entity, c.action, c.fields, None if job_id is None else jobs.get(job_id)
    )
    return None if reason is None else wire.OpError("forbidden", reason)


def _merge_ops(
    checked: list[CheckedOp],
    known: dict[Key, str | None],
    technicians: set[str],
    first: int,
    writer: Writer,
    jobs: dict[str, JobScope],
) -> list[MergeOp]:
    """Each op with its position and final verdict, checked in seq order.

    A technician or service provider learns `forbidden` before `not_found`, so that
    pushes cannot probe for entities they may not see.
    """
    ops = []
    restricted = writer.role not in SEES_EVERYTHING
    for offset, c in enumerate(checked, start=1):
        error = c.error
        if error is None and restricted:
            error = _rights_problem(c, writer, jobs)
        if error is None:
            error = _reference_problem(c, known, technicians)
        if error is None:
            key = (c.entity or "", c.entity_id or "")
            if key not in known or "customer_id" in c.fields:
                known[key] = c.fields.get("customer_id", known.get(key))
        ops.append(
            MergeOp(
                pos=first + offset,
                seq=c.op.seq,
                ts=c.op.ts,
                tc=c.op.tc,
                entity=c.entity,
                id=c.entity_id,
                action=c.action,
                base=c.op.base if isinstance(c.op.base, int) else 0,
                fields=c.fields if error is None else None,
                ok=error is None,
                error=None if error is None else {"code": error.code, "message": error.message},
                op=c.text,
            )
        )
    return ops


async def append_and_merge(
    conn: AsyncConnection,
    principal: Principal,
    device_id: str,
    checked: list[CheckedOp],
    now: int,
    first_position: int,
) -> tuple[list[wire.OpResult], list[wire.Notice]]:
    keys, written, user_ids = _wanted_keys(checked)
    # Entities are never removed (deletion is a field): what exists now exists at commit.
    found = await projection.existing(conn, keys, written)
    technicians = await user_store.active_with_roles(conn, user_ids, TECHNICIAN_ROLES)
    writer = Writer(principal.user_id, principal.role, principal.service_areas)
    ops = _merge_ops(checked, found.customers, technicians, first_position, writer, found.jobs)
    merged = await merge_batch(
        conn,
        device_id=device_id,
        user_id=principal.user_id,
        received_at=now,
        ops=ops,
        announce=pokes.Announcement(lo=first_position + 1, hi=first_position + len(checked)),
        stored=found.stored,
    )
    results = [
        wire.OpResult(seq=o.seq, status="applied", version=merged.versions[o.seq])
        if o.ok
        else wire.OpResult(seq=o.seq, status="rejected", error=wire.OpError(**(o.error or {})))
        for o in ops
    ]
    return results, merged.notices


async def push(
    engine: AsyncEngine,
    principal: Principal,
    request: wire.PushRequest,
    max_clock_skew_ms: int,
    texts: list[str] | None = None,
) -> wire.PushResponse:
    """Append the request's ops to the device log and merge them, in one transaction.

    `texts` are the ops as received (`schema.ops.op_texts`), in request order, if known:
    the device log keeps them as they are."""
    now = wall_ms()
    for op in request.ops:
        if too_far_ahead(op.ts, now, max_clock_skew_ms):
            raise ClockAhead(
                f"op seq {op.seq} has ts {op.ts}, more than {max_clock_skew_ms} ms ahead",
                {"server_time": now, "seq": op.seq},
            )
    if texts is None or len(texts) != len(request.ops):
        checked = {op.seq: check_op(op) for op in request.ops}
    else:
        checked = {op.seq: check_op(op, text) for op, text in zip(request.ops, texts, strict=True)}
    ops = sorted(request.ops, key=lambda op: op.seq)
    written = sorted(
        {
            (c.entity, c.entity_id)
            for c in checked.values()
            if c.error is None and c.entity is not None and c.entity_id is not None
        }
    )
    # Photo ops wait for (and are waited for by) the storing of their upload's bytes.
    uploads = sorted(
        {
            c.fields["key"]
            for c in checked.values()
            if c.error is None and c.entity == "job_photo" and isinstance(c.fields.get("key"), str)
        }
    )
    device_id = request.device_id
    async with driver.transaction(engine) as conn:
        device = await devicelog.lock_and_claim(
            conn, device_id, principal.user_id, written, uploads
        )
        if device.user_id != principal.user_id:
            raise DeviceTaken(f"device {device_id} belongs to another user")
        old_seqs = sorted({op.seq for op in ops if op.seq <= device.acked_seq})
        stored = await devicelog.stored_ops(conn, device_id, old_seqs) if old_seqs else {}
        duplicates, new = _classify(ops, device.acked_seq, stored)
        results: list[wire.OpResult] = []
        conflicts: list[wire.Notice] = []
        if new:
            results, conflicts = await append_and_merge(
                conn,
                principal,
                device_id,
                [checked[op.seq] for op in new],
                now,
                device.first_position,
            )
        else:
            await devicelog.record_push(conn, device_id)
        acked = new[-1].seq if new else device.acked_seq
    all_results = sorted(duplicates + results, key=lambda r: r.seq)
    return wire.PushResponse(
        acked_seq=acked, server_time=now, results=all_results, conflicts=conflicts
    )
