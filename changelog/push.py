"""Push (docs/protocol.md sections 4-5): append a batch to a device log and merge it.

One transaction per request. It first takes advisory locks on the device and
on every entity the batch writes, before it writes anything; its first write
(claiming the device) gives it the xid its commit positions derive from. So
pushes sharing a device or an entity get positions in commit order, and
pushes sharing nothing run in parallel (changelog/devicelog.py).

Each op gets its verdict here, in seq order: alone (`schema.ops.check_op`), then
the caller's rights (`schema.rights`), then what it refers to, as of the ops
before it. The batch then goes to the merge (changelog/merge.py) as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog, driver, pokes, projection
from changelog.hlc import too_far_ahead, wall_ms
from changelog.merge import Batch, merge
from schema import wire
from schema.entities import ENTITIES
from schema.errors import ClockAhead, DeviceTaken, SeqGap, SeqReused
from schema.ops import check_op, decode_logged, fields_of, op_text
from schema.rights import SEES_EVERYTHING, JobScope, Principal, write_problem

Key = tuple[str, str]

# Which of these users are active technicians or service providers: the users table
# is the service's (syncserver/storage/users.py), which hands the engine this lookup.
Technicians = Callable[[AsyncConnection, Iterable[str]], Awaitable[set[str]]]


def _classify(
    ops: list[wire.Op], acked: int, stored: dict[int, str]
) -> tuple[list[wire.OpResult], list[int]]:
    """Split a batch (in seq order) into duplicates and the indexes of the ops that
    continue the log."""
    duplicates: list[wire.OpResult] = []
    new: list[int] = []
    seen: dict[int, wire.Op] = {}
    expected = acked + 1
    for i, op in enumerate(ops):
        if op.seq < expected:
            earlier = seen.get(op.seq)
            if earlier is None:
                earlier = decode_logged(stored[op.seq])
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
        new.append(i)
        expected += 1
    return duplicates, new


def _wanted_keys(batch: Batch) -> tuple[set[Key], set[Key], set[str]]:
    """The entities a batch touches or references, those it writes, and the users it
    references."""
    keys: set[Key] = set()
    written: set[Key] = set()
    users: set[str] = set()
    for op, error in zip(batch.ops, batch.errors, strict=True):
        if error is not None:
            continue
        written.add((op.entity, op.id))
        keys.add((op.entity, op.id))
        fields = fields_of(op)
        for name, target in ENTITIES[op.entity].refs.items():
            value = fields.get(name)
            if isinstance(value, str):
                if target == "user":
                    users.add(value)
                else:
                    keys.add((target, value))
    return keys, written, users


def _reference_problem(
    op: wire.Op, known: dict[Key, str | None], technicians: set[str]
) -> wire.OpError | None:
    """What the op refers to must exist, as of the ops before it.

    `known` maps every existing entity the batch involves to its customer_id.
    """
    key = (op.entity, op.id)
    fields = fields_of(op)
    if op.action in ("update", "delete") and key not in known:
        return wire.OpError("not_found", f"{op.entity} {op.id} does not exist")
    for name, target in ENTITIES[op.entity].refs.items():
        value = fields.get(name)
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
    location_id = fields.get("location_id")
    if op.entity == "job" and location_id is not None:
        customer = fields.get("customer_id", known.get(key))
        if known.get(("location", location_id)) != customer:
            return wire.OpError(
                "invalid_op", "field `location_id`: the location belongs to another customer"
            )
    return None


def _job_of(op: wire.Op) -> str | None:
    """The job an op works on: the job itself, or the job of a note or photo."""
    if op.entity == "job":
        return str(op.id)
    job_id = fields_of(op).get("job_id")
    return job_id if isinstance(job_id, str) else None


def _rights_problem(op: wire.Op, who: Principal, jobs: dict[str, JobScope]) -> wire.OpError | None:
    job_id = _job_of(op)
    reason = write_problem(
        who, op.entity, op.action, fields_of(op), None if job_id is None else jobs.get(job_id)
    )
    return None if reason is None else wire.OpError("forbidden", reason)


def _judge(
    batch: Batch, known: dict[Key, str | None], technicians: set[str], who: Principal,
    jobs: dict[str, JobScope],
) -> None:  # fmt: skip
    """Each op's final verdict, in seq order, into `batch.errors`.

    A technician or service provider learns `forbidden` before `not_found`, so that
    pushes cannot probe for entities they may not see.
    """
    restricted = who.role not in SEES_EVERYTHING
    for i, op in enumerate(batch.ops):
        error = batch.errors[i]
        if error is None and restricted:
            error = _rights_problem(op, who, jobs)
        if error is None:
            error = _reference_problem(op, known, technicians)
        if error is None:
            key = (op.entity, op.id)
            fields = fields_of(op)
            if key not in known or "customer_id" in fields:
                known[key] = fields.get("customer_id", known.get(key))
        batch.errors[i] = error


async def append_and_merge(
    conn: AsyncConnection, who: Principal, batch: Batch, technicians: Technicians
) -> tuple[list[wire.OpResult], list[wire.Notice]]:
    """Judge the batch's ops, append them to the device log and merge the applied ones.
    Call in the transaction of `devicelog.lock_and_claim` (or after `lock_for_push`)."""
    keys, written, user_ids = _wanted_keys(batch)
    # Entities are never removed (deletion is a field): what exists now exists at commit.
    found = await projection.existing(conn, keys, written)
    _judge(batch, found.customers, await technicians(conn, user_ids), who, found.jobs)
    first = batch.first_position
    merged = await merge(
        conn,
        batch,
        announce=pokes.Announcement(lo=first, hi=first + len(batch.ops) - 1),
        stored=found.stored,
    )
    results = [
        wire.OpResult(seq=op.seq, status="applied", version=merged.versions[op.seq])
        if error is None
        else wire.OpResult(seq=op.seq, status="rejected", error=error)
        for op, error in zip(batch.ops, batch.errors, strict=True)
    ]
    return results, merged.notices


async def push(
    engine: AsyncEngine,
    who: Principal,
    request: wire.PushRequest,
    texts: list[str] | None = None,
    *,
    max_clock_skew_ms: int,
    technicians: Technicians,
) -> wire.PushResponse:
    """Append the request's ops to the device log and merge them, in one transaction.

    `texts` are the ops as received (`schema.ops.decode_push`), in request order: the
    device log keeps them as they are (without them, each op's `op_text`)."""
    now = wall_ms()
    for op in request.ops:
        if too_far_ahead(op.ts, now, max_clock_skew_ms):
            raise ClockAhead(
                f"op seq {op.seq} has ts {op.ts}, more than {max_clock_skew_ms} ms ahead",
                {"server_time": now, "seq": op.seq},
            )
    order = sorted(range(len(request.ops)), key=lambda i: request.ops[i].seq)
    ops = [request.ops[i] for i in order]
    if texts is None:
        texts = [op_text(op) for op in request.ops]
    errors = [check_op(op) for op in ops]
    written = sorted({(op.entity, op.id) for op, e in zip(ops, errors, strict=True) if e is None})
    # Photo ops wait for (and are waited for by) the storing of their upload's bytes.
    uploads = sorted(
        {
            fields_of(op)["key"]
            for op, e in zip(ops, errors, strict=True)
            if e is None and op.entity == "job_photo" and isinstance(fields_of(op).get("key"), str)
        }
    )
    device_id = request.device_id
    async with driver.transaction(engine) as conn:
        device = await devicelog.lock_and_claim(conn, device_id, who.user_id, written, uploads)
        if device.user_id != who.user_id:
            raise DeviceTaken(f"device {device_id} belongs to another user")
        old_seqs = sorted({op.seq for op in ops if op.seq <= device.acked_seq})
        stored = await devicelog.stored_ops(conn, device_id, old_seqs) if old_seqs else {}
        duplicates, new = _classify(ops, device.acked_seq, stored)
        results: list[wire.OpResult] = []
        conflicts: list[wire.Notice] = []
        if new:
            batch = Batch(
                device_id,
                who.user_id,
                now,
                device.first_position + 1,
                [ops[i] for i in new],
                [errors[i] for i in new],
                [texts[order[i]] for i in new],
            )
            results, conflicts = await append_and_merge(conn, who, batch, technicians)
        else:
            await devicelog.record_push(conn, device_id)
        acked = ops[new[-1]].seq if new else device.acked_seq
    all_results = sorted(duplicates + results, key=lambda r: r.seq)
    return wire.PushResponse(
        acked_seq=acked, server_time=now, results=all_results, conflicts=conflicts
    )
