"""The SDK through a network that drops, loses, stalls, duplicates and reorders
requests: every write reaches the server's device log exactly once."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from clients import Device, SyncError
from tests.clients.faults import FaultyProxy, random_plan
from tests.clients.ledger import assert_exactly_once
from tests.support import Api, ServerProcess, customer_fields, device_store, job_fields, new_id, op


def make_jobs(admin: Api, n: int) -> list[str]:
    cid, jobs = new_id("c-"), [new_id("j-") for _ in range(n)]
    ops = [op(1, "customer", cid, fields=customer_fields())]
    ops += [op(2 + i, "job", j, fields=job_fields(cid)) for i, j in enumerate(jobs)]
    assert admin.push(new_id("office-"), ops).status_code == 200
    return jobs


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[FaultyProxy]:
    rng = random.Random(13)
    p = FaultyProxy(server.port, random_plan(rng, 0.35, ("/sync/", "/api/uploads")), 1.2)
    yield p
    p.close()


def test_every_write_is_logged_once_whatever_the_network_does(
    server: ServerProcess, proxy: FaultyProxy
) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 3)
    device_id = new_id("tab-")
    d = Device.open(proxy.url, admin.token, device_id, device_store(device_id), timeout=0.8)
    rng = random.Random(7)
    written: dict[int, dict[str, Any]] = {}
    try:
        for round_ in range(25):
            # One round writes past a push's 1,000 ops, so the outbox goes in two pushes.
            for _ in range(1100 if round_ == 12 else rng.randint(1, 30)):
                fields = {"description": f"round {round_} write {len(written)}"}
                written[d.update("job", rng.choice(jobs), fields)] = fields
            if rng.random() < 0.8:
                d.sync(retry_for=60)
        d.sync(retry_for=60)
        assert d.pending() == 0
        for job_id in jobs:  # the device's view is the server's state
            mine, served = d.get("job", job_id), admin.get(f"/api/jobs/{job_id}").json()
            assert mine is not None and mine["description"] == served["description"]
            assert mine["version"] == served["version"]
    finally:
        d.close()
    assert set(proxy.counts) >= {"pass", "refuse", "lose", "stall", "twice", "replay"}
    assert_exactly_once(admin, device_id, written, jobs)


def test_a_sync_gives_up_after_retry_for_and_loses_nothing(server: ServerProcess) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    network = {"now": "pass"}
    proxy = FaultyProxy(server.port, lambda path: network["now"], 0)
    device_id = new_id("tab-")
    path = device_store(device_id)
    d = Device.open(proxy.url, admin.token, device_id, path)
    d.sync()
    network["now"] = "refuse"
    seq = d.update("job", jobs[0], {"description": "written offline"})
    with pytest.raises(SyncError) as failed:
        d.sync(retry_for=1.5)
    assert failed.value.retryable and d.pending() == 1
    d.close()

    d = Device.open(proxy.url, admin.token, device_id, path)  # the same store, reopened
    shown = d.get("job", jobs[0])
    assert shown is not None and shown["description"] == "written offline" and shown["pending"]
    network["now"] = "pass"
    assert d.sync().pushed == 1 and d.pending() == 0
    d.close()
    proxy.close()
    assert_exactly_once(admin, device_id, {seq: {"description": "written offline"}}, jobs)
