"""Hypothesis strategies: device logs of ops over a few entities and fields."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from tests.conflict.model import WriteOp

FIELDS = ("status", "title", "priority")
VALUES = st.sampled_from(["a", "b", "c", None, 1, 2.5, True])


@st.composite
def device_log(draw: st.DrawFn, device_id: str, entity_ids: list[str]) -> list[WriteOp]:
    """One device's log: seq 1.., a monotonic HLC, random creates, updates and deletes."""
    n = draw(st.integers(0, 8))
    ts = draw(st.integers(1_000, 1_050))
    tc = 0
    ops = []
    for seq in range(1, n + 1):
        if draw(st.booleans()):
            ts += draw(st.integers(1, 20))
            tc = 0
        else:
            tc += 1
        action = draw(st.sampled_from(["create", "update", "update", "delete"]))
        fields = {}
        if action != "delete":
            names = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True))
            fields = {name: draw(VALUES) for name in names}
        ops.append(
            WriteOp(
                entity="job",
                entity_id=draw(st.sampled_from(entity_ids)),
                action=action,
                fields=fields,
                base=0,
                device_id=device_id,
                user_id=f"user-{device_id}",
                seq=seq,
                ts=ts,
                tc=tc,
                version=0,
            )
        )
    return ops


@st.composite
def device_logs(draw: st.DrawFn) -> list[list[WriteOp]]:
    devices = draw(st.integers(1, 4))
    entity_ids = ["e1", "e2"]
    return [draw(device_log(f"dev{i}", entity_ids)) for i in range(devices)]


@st.composite
def delivery(draw: st.DrawFn, logs: list[list[WriteOp]]) -> list[WriteOp]:
    """Interleave the logs (each device's order kept), give positions, and set `base`
    to a position the sending device had plausibly seen."""
    queues = [list(log) for log in logs]
    order: list[WriteOp] = []
    while any(queues):
        i = draw(st.sampled_from([k for k, q in enumerate(queues) if q]))
        op = queues[i].pop(0)
        position = len(order) + 1
        base = draw(st.integers(0, position - 1))
        order.append(replace(op, version=position, base=base))
    return order
