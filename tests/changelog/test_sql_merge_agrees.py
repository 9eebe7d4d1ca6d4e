"""The push path (push service, batch merge, PostgreSQL) agrees with the pure merge rules.

Random device logs are pushed through the real push path in random batches
and interleavings; the projection and notices stored in PostgreSQL must equal
what `conflict.apply_op` computes for the same ops in the same commit order.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from changelog.push import push
from schema import wire
from schema.rights import Principal
from syncserver.db import create_engine
from syncserver.storage import users as user_store
from tests.changelog.database import migrated_database
from tests.conflict.model import WriteOp, apply_op
from tests.conftest import DatabaseFactory

PUSH: dict[str, Any] = {"max_clock_skew_ms": 10**12, "technicians": user_store.active_technicians}

FIELD_VALUES = {
    "name": st.sampled_from(["Ann", "Bo", "Cy"]),
    "phone": st.sampled_from(["1", "2", None]),
    "email": st.sampled_from(["a@x.io", "b@x.io", None]),
}


@st.composite
def workload(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Per device, a list of op bodies (without seq/base), HLC monotonic per device."""
    logs = []
    for _ in range(draw(st.integers(1, 3))):
        ts, tc, ops = draw(st.integers(10_000, 10_020)), 0, []
        for _ in range(draw(st.integers(1, 7))):
            if draw(st.booleans()):
                ts, tc = ts + draw(st.integers(1, 10)), 0
            else:
                tc += 1
            action = draw(st.sampled_from(["create", "update", "update", "delete"]))
            fields = None
            if action != "delete":
                names = draw(
                    st.lists(st.sampled_from(sorted(FIELD_VALUES)), min_size=1, unique=True)
                )
                fields = {n: draw(FIELD_VALUES[n]) for n in names}
                if action == "create":
                    fields |= {"name": fields.get("name") or "Ann", "type": "commercial"}
            ops.append(
                {
                    "ts": ts,
                    "tc": tc,
                    "entity": "customer",
                    "id": draw(st.sampled_from(["e1", "e2"])),
                    "action": action,
                    "fields": fields,
                }
            )
        logs.append(ops)
    return logs


@pytest.fixture(scope="module")
def database_url(databases: DatabaseFactory) -> str:
    return migrated_database(databases, [Principal("u-test", "admin")])


async def _run(
    url: str,
    logs: list[list[dict[str, Any]]],
    schedule: list[tuple[int, int]],
    base_picks: list[float],
) -> tuple[list[WriteOp], dict[str, Any], set[tuple]]:  # type: ignore[type-arg]
    run = uuid.uuid4().hex[:8]
    engine = create_engine(url, pool_size=1)
    principal = Principal("u-test", "admin")
    applied: list[WriteOp] = []
    next_index = [0] * len(logs)
    picks = iter(base_picks)
    try:
        # Every entity exists before the random ops: a seed device creates them, early.
        seed = [
            wire.Op(
                seq=i + 1,
                ts=1,
                tc=i,
                entity="customer",
                id=f"{run}-{e}",
                action="create",
                fields={"name": "Seed", "type": "commercial"},
            )
            for i, e in enumerate(("e1", "e2"))
        ]
        await push(engine, principal, wire.PushRequest(device_id=f"{run}-seed", ops=seed), **PUSH)
        positions = await _positions(engine, f"{run}-seed")
        position = max(positions.values())
        for o in seed:
            applied.append(
                WriteOp(
                    "customer",
                    o.id,
                    "create",
                    o.fields,
                    0,
                    f"{run}-seed",
                    "u-test",
                    o.seq,
                    o.ts,
                    o.tc,
                    positions[o.seq],
                )
            )
        for device, count in schedule:
            start = next_index[device]
            chunk = logs[device][start : start + count]
            if not chunk:
                continue
            next_index[device] += len(chunk)
            ops = []
            for k, body in enumerate(chunk):
                base = int(next(picks, 0.0) * position)
                ops.append(
                    wire.Op(seq=start + k + 1, base=base, **{**body, "id": f"{run}-{body['id']}"})
                )
            device_id = f"{run}-dev{device}"
            await push(engine, principal, wire.PushRequest(device_id=device_id, ops=ops), **PUSH)
            positions = await _positions(engine, device_id)
            position = max(positions.values())
            for o in ops:
                applied.append(
                    WriteOp(
                        "customer",
                        o.id,
                        o.action,
                        o.fields or {},
                        o.base,
                        device_id,
                        "u-test",
                        o.seq,
                        o.ts,
                        o.tc,
                        positions[o.seq],
                    )
                )
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT e.id, e.version, e.data::text, m.meta::text FROM entities e"
                        " JOIN entity_meta m ON m.entity = e.entity AND m.id = e.id"
                        " WHERE e.id LIKE :p"
                    ),
                    {"p": f"{run}-%"},
                )
            ).all()
            notices = (
                await conn.execute(
                    text(
                        "SELECT id, field, winner::text, loser::text FROM notices"
                        " WHERE entity_id LIKE :p"
                    ),
                    {"p": f"{run}-%"},
                )
            ).all()
    finally:
        await engine.dispose()
    stored = {r[0]: (r[1], msgspec.json.decode(r[2]), msgspec.json.decode(r[3])) for r in rows}
    stored_notices = {
        (n[0], n[1], _side(msgspec.json.decode(n[2])), _side(msgspec.json.decode(n[3])))
        for n in notices
    }
    return applied, stored, stored_notices


async def _positions(engine: AsyncEngine, device_id: str) -> dict[int, int]:
    """seq -> commit position of each op in the device's log."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT seq, position FROM device_log WHERE device_id = :d"), {"d": device_id}
        )
        return {seq: position for seq, position in rows}


def _side(side: dict[str, Any]) -> tuple:  # type: ignore[type-arg]
    return (
        side["device_id"],
        side["seq"],
        side["ts"],
        side["tc"],
        msgspec.json.encode(side["value"]),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), logs=workload())
def test_the_stored_projection_and_notices_equal_the_pure_merge(
    database_url: str, data: st.DataObject, logs: list[list[dict[str, Any]]]
) -> None:
    total = sum(len(log) for log in logs)
    schedule = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(logs) - 1), st.integers(1, 4)),
            min_size=total,
            max_size=total,
        )
    )
    schedule += [(d, len(log)) for d, log in enumerate(logs)]  # whatever is left, in the end
    base_picks = data.draw(st.lists(st.floats(0, 1), min_size=total, max_size=total))
    applied, stored, stored_notices = asyncio.run(_run(database_url, logs, schedule, base_picks))

    states: dict[str, dict[str, Any]] = {}
    expected_notices = set()
    noticed: set[str] = set()
    for o in applied:
        outcome = apply_op(states.get(o.entity_id, {}), o)
        states[o.entity_id] = outcome.state
        for n in outcome.notices:
            if n.id in noticed:  # one notice per (field, losing write): the first stands
                continue
            noticed.add(n.id)
            w, lo = n.winner, n.loser
            expected_notices.add(
                (
                    n.id,
                    n.field,
                    (w.device_id, w.seq, w.ts, w.tc, msgspec.json.encode(w.value)),
                    (lo.device_id, lo.seq, lo.ts, lo.tc, msgspec.json.encode(lo.value)),
                )
            )

    assert set(stored) == set(states)
    for entity_id, state in states.items():
        version, data_doc, meta = stored[entity_id]
        assert version == max(w.version for w in state.values())
        for name, write in state.items():
            assert data_doc[name] == write.value, name
            ts, tc, device_id, user_id, seq, version = meta[name]
            assert (device_id, user_id, seq, ts, tc, version) == (
                write.device_id,
                write.user_id,
                write.seq,
                write.ts,
                write.tc,
                write.version,
            ), name
        assert set(meta) == set(state)
    assert stored_notices == expected_notices
