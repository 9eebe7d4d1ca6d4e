"""The merge production runs (`conflict.merge_batch`) agrees with the test model's
`apply_op`, op by op."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conflict.merge import NOTICES_PER_OP, BatchOutcome, EntityState, merge_batch
from schema import wire
from tests.conflict.model import FieldWrite, WriteOp, apply_op, notice_id
from tests.conflict.strategies import delivery, device_logs

Placed = tuple[wire.Op, int]


def Op(  # noqa: N802 - reads like the op it makes
    pos: int,
    seq: int,
    ts: int,
    tc: int,
    entity: str,
    id: str,
    action: str,
    base: int,
    fields: dict[str, Any] | None,
) -> Placed:
    """A checked op and its commit position, as the push hands them to the merge."""
    return wire.Op(
        seq=seq, ts=ts, tc=tc, entity=entity, id=id, action=action, fields=fields, base=base
    ), pos


def merge(stored: Any, placed: list[Placed], device_id: str, user_id: str) -> BatchOutcome:
    return merge_batch(stored, [op for op, _ in placed], [p for _, p in placed], device_id, user_id)


def compact(w: FieldWrite) -> list[Any]:
    return [w.ts, w.tc, w.device_id, w.user_id, w.seq, w.version]


def side(w: FieldWrite) -> tuple[Any, ...]:
    return (w.value, w.device_id, w.user_id, w.seq, w.ts, w.tc)


def side_of(d: dict[str, Any]) -> tuple[Any, ...]:
    return (d["value"], d["device_id"], d["user_id"], d["seq"], d["ts"], d["tc"])


States = dict[tuple[str, str], dict[str, FieldWrite]]
Case = tuple[States, dict[tuple[str, str], int], list[WriteOp]]


@st.composite
def stored_then_batch(draw: st.DrawFn) -> Case:
    """Entity states made by some ops, and then one device's next ops as a batch."""
    order = draw(delivery(draw(device_logs())))
    split = draw(st.integers(0, len(order)))
    states: States = {}
    versions: dict[tuple[str, str], int] = {}
    for op in order[:split]:
        key = (op.entity, op.entity_id)
        outcome = apply_op(states.get(key, {}), op)
        states[key] = outcome.state
        if outcome.changed:
            versions[key] = op.version
    rest = order[split:]
    device = draw(st.sampled_from(sorted({op.device_id for op in rest}) or ["dev0"]))
    return states, versions, [op for op in rest if op.device_id == device]


@settings(max_examples=300)
@given(stored_then_batch())
def test_a_batch_merges_as_its_ops_applied_one_by_one(case: Case) -> None:
    states, versions, batch = case
    stored = {
        key: EntityState(
            versions[key],
            {name: w.value for name, w in state.items()},
            {name: compact(w) for name, w in state.items()},
        )
        for key, state in states.items()
    }
    untouched = copy.deepcopy(stored)
    ops = [
        Op(o.version, o.seq, o.ts, o.tc, o.entity, o.entity_id, o.action, o.base, dict(o.fields))
        for o in batch
    ]
    device = batch[0].device_id if batch else "dev0"
    outcome = merge(stored, ops, device, f"user-{device}")

    expected_notices = []
    for o in batch:
        key = (o.entity, o.entity_id)
        result = apply_op(states.get(key, {}), o)
        states[key] = result.state
        if result.changed:
            versions[key] = o.version
        assert outcome.verdicts[o.seq] == (versions[key], sorted(result.lost_fields))
        expected_notices += [
            (o.version, n.id, n.field, side(n.winner), side(n.loser)) for n in result.notices
        ]
        for n in result.notices:
            assert n.id == notice_id(n.entity, n.entity_id, n.field, n.loser)

    for key, state in outcome.entities.items():
        assert state.holders == {name: compact(w) for name, w in states[key].items()}
        assert {name: state.values[name] for name in state.holders} == {
            name: w.value for name, w in states[key].items()
        }
        assert state.version == versions[key]
        assert state.changed == (key not in untouched or versions[key] != untouched[key].version)
    got = [(n.pos, n.id, n.field, side_of(n.winner), side_of(n.loser)) for n in outcome.notices]
    assert sorted(got, key=repr) == sorted(expected_notices, key=repr)
    # Each op's notices are numbered from its position on, 1, 2, 3 ...
    for n in outcome.notices:
        rank = n.seq - n.pos * NOTICES_PER_OP
        assert 1 <= rank <= sum(1 for m in outcome.notices if m.pos == n.pos)
    assert len({n.seq for n in outcome.notices}) == len(outcome.notices)
    assert stored == untouched  # the given states are left as they were


def test_a_delete_reports_every_unseen_write_once() -> None:
    """Device B deletes a job whose two fields A wrote (one op) after B's base: one notice."""
    stored = {
        ("job", "j1"): EntityState(
            7,
            {"deleted": False, "status": "x", "title": "t"},
            {
                "deleted": [100, 0, "A", "u-A", 1, 5],
                "status": [101, 0, "A", "u-A", 2, 7],
                "title": [101, 0, "A", "u-A", 2, 7],
            },
        )
    }
    delete = Op(9, 1, 200, 0, "job", "j1", "delete", 5, {})
    outcome = merge(stored, [delete], "B", "u-B")
    assert [(n.field, n.loser["device_id"], n.loser["seq"], n.seq) for n in outcome.notices] == [
        ("deleted", "A", 2, 9 * NOTICES_PER_OP + 1)
    ]
    assert outcome.entities[("job", "j1")].values["deleted"] is True
    assert outcome.verdicts[1] == (9, [])


def test_a_losing_delete_reports_only_its_own_loss() -> None:
    """C deleted the job later than B's delete; A's status write races both. B's delete
    loses to C's on `deleted`, so it reports that loss and not A's write."""
    stored = {
        ("job", "j1"): EntityState(
            8,
            {"deleted": True, "status": "x"},
            {"deleted": [300, 0, "C", "u-C", 4, 8], "status": [101, 0, "A", "u-A", 2, 7]},
        )
    }
    delete = Op(9, 1, 200, 0, "job", "j1", "delete", 5, {})
    outcome = merge(stored, [delete], "B", "u-B")
    assert [(n.field, n.winner["device_id"], n.loser["device_id"]) for n in outcome.notices] == [
        ("deleted", "C", "B")
    ]
    assert outcome.verdicts[1] == (8, ["deleted"])
