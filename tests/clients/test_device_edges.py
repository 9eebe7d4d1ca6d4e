"""The SDK where apps stress it: threads and two handles on one store, big pushes,
photos of jobs made offline, a pull that fails after its push, clocks in float ms."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from clients import Device, SyncError
from tests.clients.faults import FaultyProxy
from tests.clients.ledger import assert_exactly_once
from tests.clients.test_device import _png, listening, open_device
from tests.clients.test_faults import make_jobs
from tests.support import ServerProcess, customer_fields, device_store, job_fields, new_id


def test_threads_and_two_handles_on_one_store_never_share_a_seq(server: ServerProcess) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 2)
    device_id = new_id("tab-")
    path = device_store(device_id)
    first = Device.open(server.base_url, admin.token, device_id, path)
    second = Device.open(server.base_url, admin.token, device_id, path)  # another handle
    first.sync()
    written: dict[int, dict[str, Any]] = {}
    lock = threading.Lock()

    def writer(d: Device, n: int) -> None:
        for i in range(60):
            fields = {"description": f"writer {n} write {i}"}
            seq = d.update("job", jobs[i % 2], fields)
            with lock:
                assert seq not in written
                written[seq] = fields
            if i % 20 == 19:
                d.sync()

    handles = [first] * 3 + [second] * 3
    threads = [threading.Thread(target=writer, args=(d, n)) for n, d in enumerate(handles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first.sync()
    second.sync()
    assert first.pending() == second.pending() == 0
    first.close()
    second.close()
    assert_exactly_once(admin, device_id, written, jobs)


def test_a_push_larger_than_the_body_limit_goes_in_several(server: ServerProcess) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    d = open_device(server, admin.token)
    d.sync()
    written = {}
    for i in range(600):  # 600 ops of 9,000 characters: 5.4 MB, over the 5 MiB limit
        fields = {"description": f"{i:04d}" + "x" * 8996}
        written[d.update("job", jobs[0], fields)] = fields
    assert d.sync().pushed == 600
    d.close()
    assert_exactly_once(admin, d.device_id, written, jobs)


def test_a_photo_of_a_job_made_offline_is_uploaded_after_the_job(server: ServerProcess) -> None:
    admin = server.api()
    d = open_device(server, admin.token)
    cid, jid = new_id("c-"), new_id("j-")
    d.create("customer", cid, customer_fields())
    d.create("job", jid, job_fields(cid))
    photo_id = d.add_photo(jid, _png(), "image/png")
    result = d.sync()
    assert result.rejected == [] and d.pending() == 0
    assert admin.get(f"/api/photos/{photo_id}").json()["job_id"] == jid
    d.close()


def test_a_write_stays_in_view_when_the_pull_after_its_push_fails(server: ServerProcess) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    network = {"pull": "pass"}
    proxy = FaultyProxy(
        server.port, lambda path: network["pull"] if path == "/sync/pull" else "pass", 0
    )
    device_id = new_id("tab-")
    d = Device.open(proxy.url, admin.token, device_id, device_store(device_id))
    d.sync()
    d.update("job", jobs[0], {"status": "completed"})
    network["pull"] = "refuse"
    with pytest.raises(SyncError):
        d.sync(retry_for=0.5)
    shown = d.get("job", jobs[0])
    assert d.pending() == 0  # acknowledged...
    assert shown is not None and shown["status"] == "completed"  # ...and still shown
    assert not shown["pending"]
    assert [j["id"] for j in d.query("job", status="completed")] == [jobs[0]]
    network["pull"] = "pass"
    d.sync()
    assert d._store._db.execute("SELECT count(*) FROM applied").fetchone()[0] == 0
    assert d.get("job", jobs[0])["status"] == "completed"  # type: ignore[index]
    d.close()
    proxy.close()


def test_a_clock_in_float_milliseconds_still_stamps_whole_ones(server: ServerProcess) -> None:
    admin = server.api()
    d = open_device(server, admin.token, clock=lambda: time.time() * 1000)
    d.create("customer", new_id("c-"), customer_fields())
    assert d.sync().rejected == [] and d.pending() == 0
    d.close()


def test_listen_pushes_a_write_without_waiting_for_a_poke(server: ServerProcess) -> None:
    admin = server.api()
    d = open_device(server, admin.token)
    with listening(d):
        time.sleep(0.5)
        cid = new_id("c-")
        d.create("customer", cid, customer_fields())
        deadline = time.monotonic() + 3
        while admin.get(f"/api/customers/{cid}").status_code != 200:
            assert time.monotonic() < deadline, "the write was not pushed"
            time.sleep(0.1)
    d.close()


def test_a_write_that_loses_every_field_leaves_the_view_at_the_winner(
    server: ServerProcess,
) -> None:
    """A write older in LWW order than one the device already pulled changes nothing on
    the server: the view must show the winner, not the device's own losing value."""
    admin = server.api()
    jobs = make_jobs(admin, 1)
    ahead = open_device(server, admin.token, clock=lambda: int(time.time() * 1000) + 120_000)
    behind = open_device(server, admin.token)
    behind.sync()
    ahead.update("job", jobs[0], {"description": "from the clock two minutes ahead"})
    ahead.sync()
    behind.sync()  # pulls the winner, then writes over it with an older stamp
    behind.update("job", jobs[0], {"description": "written later, stamped earlier"})
    assert behind.sync().rejected == []
    assert behind.get("job", jobs[0])["description"] == "from the clock two minutes ahead"  # type: ignore[index]
    assert admin.get(f"/api/jobs/{jobs[0]}").json()["description"] == (
        "from the clock two minutes ahead"
    )
    ahead.close()
    behind.close()


def test_a_photo_the_store_refuses_is_rejected_and_holds_back_nothing_else(
    server: ServerProcess,
) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    d = open_device(server, admin.token)
    d.sync()
    photo_id = d.add_photo(jobs[0], _png(), "image/png")
    # The bytes on the device no longer match the checksum the upload was asked for
    # (a flash cell gone bad): the server's blob store refuses the PUT with 422.
    # (A bucket answers 400: tests/browser/test_device_edges.py.)
    d._store._db.execute("UPDATE photos SET data = zeroblob(length(data))")
    d.update("job", jobs[0], {"description": "with a photo"})
    result = d.sync()
    (rejection,) = result.rejected
    assert rejection["seq"] is None and rejection["op"]["id"] == photo_id
    assert rejection["error"]["code"] == "invalid_request", rejection
    assert d.pending() == 0 and d.get("job_photo", photo_id) is None
    assert admin.get(f"/api/jobs/{jobs[0]}").json()["description"] == "with a photo"
    d.close()
