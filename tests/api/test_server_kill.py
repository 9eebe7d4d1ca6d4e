"""A server SIGKILLed in the middle of pushes loses no acknowledged op, logs none
twice and half-applies nothing: a few trials of bench/faults.py (the bench runs 50)."""

from __future__ import annotations

import pytest

from bench.faults import trial
from tests.conftest import DatabaseFactory


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_killed_server_keeps_every_acknowledged_op_exactly_once(
    databases: DatabaseFactory, seed: int
) -> None:
    result = trial(databases.admin_url, seed)
    assert result["problems"] == []
    # The kill came in the middle: some ops were still to be acknowledged.
    assert result["acked_at_kill"] < result["ops"]
