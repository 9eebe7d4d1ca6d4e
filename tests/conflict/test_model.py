"""The merge rules: per-field LWW by (ts, tc, device_id), and when a notice is due."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conflict.model import FieldWrite, WriteOp, apply_op, fold, is_later
from tests.conflict.strategies import delivery, device_logs


def converged(states: dict[Any, dict[str, FieldWrite]]) -> dict[Any, dict[str, Any]]:
    """What must not depend on delivery: each field's value and which write holds it."""
    return {
        key: {name: (w.value, w.device_id, w.seq, w.ts, w.tc) for name, w in state.items()}
        for key, state in states.items()
    }


def op(
    device: str = "A",
    seq: int = 1,
    ts: int = 100,
    tc: int = 0,
    action: str = "update",
    fields: dict[str, Any] | None = None,
    base: int = 0,
    version: int = 1,
) -> WriteOp:
    return WriteOp(
        "job",
        "j1",
        action,
        fields if fields is not None else {"status": "x"},  # type: ignore[arg-type]
        base,
        device,
        f"u-{device}",
        seq,
        ts,
        tc,
        version,
    )


# --- LWW order -----------------------------------------------------------------

writes = st.builds(
    FieldWrite,
    value=st.none(),
    device_id=st.sampled_from(["A", "B", "C"]),
    user_id=st.just("u"),
    seq=st.integers(1, 5),
    ts=st.integers(0, 3),
    tc=st.integers(0, 3),
    version=st.integers(1, 9),
)


@given(writes, writes)
def test_lww_decides_every_pair_of_distinct_writes_exactly_one_way(
    a: FieldWrite, b: FieldWrite
) -> None:
    if a.order == b.order:
        assert not is_later(a, b) and not is_later(b, a)
    else:
        assert is_later(a, b) != is_later(b, a)


@given(writes, writes, writes)
def test_lww_order_is_transitive(a: FieldWrite, b: FieldWrite, c: FieldWrite) -> None:
    if is_later(a, b) and is_later(b, c):
        assert is_later(a, c)


def test_lww_compares_ts_then_tc_then_device_id() -> None:
    w = FieldWrite(None, "B", "u", 1, 10, 5, 1)
    assert is_later(replace(w, ts=11, tc=0), w)
    assert is_later(replace(w, tc=6), w)
    assert is_later(replace(w, device_id="C"), w)
    assert not is_later(replace(w, device_id="A"), w)


# --- convergence ---------------------------------------------------------------


@given(st.data(), device_logs())
def test_projection_is_the_same_for_every_delivery_order(data: st.DataObject, logs: list) -> None:  # type: ignore[type-arg]
    first = fold(data.draw(delivery(logs)))
    second = fold(data.draw(delivery(logs)))
    assert converged(first) == converged(second)


@given(st.data(), device_logs())
def test_redelivering_any_op_changes_nothing(data: st.DataObject, logs: list) -> None:  # type: ignore[type-arg]
    ordered = data.draw(delivery(logs))
    with_duplicates = []
    for o in ordered:
        with_duplicates.append(o)
        if data.draw(st.booleans()):
            earlier = data.draw(st.sampled_from(with_duplicates))
            with_duplicates.append(earlier)
    assert converged(fold(with_duplicates)) == converged(fold(ordered))


@given(st.data(), device_logs())
def test_applying_the_same_op_twice_is_idempotent(data: st.DataObject, logs: list) -> None:  # type: ignore[type-arg]
    ordered = data.draw(delivery(logs))
    if not ordered:
        return
    state = fold(ordered[:-1]).get((ordered[-1].entity, ordered[-1].entity_id), {})
    once = apply_op(state, ordered[-1])
    twice = apply_op(once.state, ordered[-1])
    assert twice.state == once.state
    assert not twice.changed
    # A re-applied loser reproduces its notice, with the same id: stored once.
    assert {n.id for n in twice.notices} <= {n.id for n in once.notices}


# --- notices -------------------------------------------------------------------


def test_concurrent_writes_to_one_field_record_the_loser() -> None:
    state = apply_op({}, op("A", ts=200, version=5)).state
    outcome = apply_op(state, op("B", ts=100, fields={"status": "y"}, base=4, version=6))
    assert outcome.state["status"].value == "x"
    [notice] = outcome.notices
    assert (notice.field, notice.winner.device_id, notice.loser.device_id) == ("status", "A", "B")
    assert notice.loser.value == "y"
    assert outcome.lost_fields == ["status"]


def test_a_later_concurrent_write_wins_and_the_overwritten_write_is_the_loser() -> None:
    state = apply_op({}, op("A", ts=100, version=5)).state
    outcome = apply_op(state, op("B", ts=200, fields={"status": "y"}, base=4, version=6))
    assert outcome.state["status"].value == "y"
    [notice] = outcome.notices
    assert (notice.winner.device_id, notice.loser.device_id) == ("B", "A")
    assert outcome.lost_fields == []


def test_a_write_that_had_seen_the_current_one_is_no_conflict() -> None:
    state = apply_op({}, op("A", ts=200, version=5)).state
    outcome = apply_op(state, op("B", ts=100, base=5, version=6))
    assert outcome.notices == []
    assert outcome.state["status"].device_id == "A"


def test_writes_of_the_same_device_never_conflict() -> None:
    state = apply_op({}, op("A", seq=1, ts=200, version=5)).state
    assert apply_op(state, op("A", seq=2, ts=300, base=0, version=6)).notices == []


def test_writes_to_different_fields_do_not_conflict() -> None:
    state = apply_op({}, op("A", fields={"status": "x"}, version=5)).state
    outcome = apply_op(state, op("B", fields={"title": "t"}, version=6))
    assert outcome.notices == []
    assert {k: w.value for k, w in outcome.state.items()} == {"status": "x", "title": "t"}


def test_an_update_never_revives_a_deleted_entity_and_racing_a_delete_is_noticed() -> None:
    state = apply_op({}, op("A", action="create", fields={"status": "x"}, version=1)).state
    state = apply_op(
        state, op("A", seq=2, ts=300, action="delete", fields={}, base=1, version=2)
    ).state
    outcome = apply_op(state, op("B", ts=400, fields={"status": "y"}, base=1, version=3))
    assert outcome.state["deleted"].value is True
    [notice] = outcome.notices
    assert notice.field == "deleted"
    assert (notice.winner.device_id, notice.winner.value) == ("A", True)
    assert (notice.loser.device_id, notice.loser.value) == ("B", False)


def test_a_delete_racing_an_update_it_had_not_seen_is_noticed_once_per_write() -> None:
    state = apply_op({}, op("A", action="create", fields={"status": "x"}, version=1)).state
    state = apply_op(state, op("B", fields={"status": "y", "title": "t"}, base=1, version=2)).state
    outcome = apply_op(state, op("A", seq=2, ts=300, action="delete", fields={}, base=1, version=3))
    assert outcome.state["deleted"].value is True
    [notice] = outcome.notices
    assert (notice.field, notice.loser.device_id, notice.loser.seq) == ("deleted", "B", 1)


def test_concurrent_deletes_conflict_on_deleted() -> None:
    state = apply_op({}, op("A", action="create", version=1)).state
    state = apply_op(
        state, op("A", seq=2, ts=300, action="delete", fields={}, base=1, version=2)
    ).state
    outcome = apply_op(state, op("B", ts=200, action="delete", fields={}, base=1, version=3))
    [notice] = outcome.notices
    assert (notice.field, notice.winner.device_id, notice.loser.device_id) == ("deleted", "A", "B")


def test_a_later_create_of_a_deleted_id_revives_it() -> None:
    state = apply_op({}, op("A", action="create", version=1)).state
    state = apply_op(
        state, op("A", seq=2, ts=300, action="delete", fields={}, base=1, version=2)
    ).state
    outcome = apply_op(state, op("A", seq=3, ts=400, action="create", base=2, version=3))
    assert outcome.state["deleted"].value is False


def test_notice_ids_are_deterministic() -> None:
    state = apply_op({}, op("A", ts=200, version=5)).state
    incoming = op("B", ts=100, fields={"status": "y"}, base=4, version=6)
    assert apply_op(state, incoming).notices[0].id == apply_op(state, incoming).notices[0].id
