"""The Python SDK's contract (docs/sdk.md) against a real server."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from PIL import Image

from clients import Device, SyncError
from tests.clients.test_faults import make_jobs
from tests.support import ServerProcess, customer_fields, device_store, new_id, op

MINUTE = 60_000


def open_device(server: ServerProcess, token: str, **kwargs: Any) -> Device:
    device_id = new_id("tab-")
    return Device.open(server.base_url, token, device_id, device_store(device_id), **kwargs)


@contextmanager
def listening(d: Device) -> Iterator[None]:
    """`d.listen` in a thread for the block; it must have returned 5 s after it."""
    stop = threading.Event()
    listener = threading.Thread(target=d.listen, args=(stop,))
    listener.start()
    try:
        yield
    finally:
        stop.set()
        listener.join(5)
    assert not listener.is_alive()


def test_a_store_belongs_to_one_device_of_one_server(server: ServerProcess) -> None:
    path = device_store("tab")
    Device.open(server.base_url, "t", "tab-1", path).close()
    with pytest.raises(ValueError, match="tab-1"):
        Device.open(server.base_url, "t", "tab-2", path)
    with pytest.raises(ValueError, match="tab-1"):
        Device.open("http://127.0.0.1:1", "t", "tab-1", path)


def test_writes_show_at_once_in_the_optimistic_view_and_survive_a_reopen(
    server: ServerProcess,
) -> None:
    admin = server.api()
    d = open_device(server, admin.token)
    cid = new_id("c-")
    assert d.create("customer", cid, customer_fields()) == 1
    assert d.update("customer", cid, {"phone": "555"}) == 2
    assert d.get("customer", cid) == {
        **customer_fields(), "id": cid, "phone": "555", "version": None, "pending": True
    }  # fmt: skip
    assert d.update("customer", "unknown", {"phone": "1"}) == 3  # the server will refuse it
    assert d.get("customer", "unknown") is None
    assert [c["id"] for c in d.query("customer", phone="555")] == [cid]
    path = d._store._db.execute("PRAGMA database_list").fetchone()[2]
    d.close()

    d = Device.open(server.base_url, admin.token, d.device_id, path)
    assert d.pending() == 3 and d.get("customer", cid)["phone"] == "555"  # type: ignore[index]
    result = d.sync()
    assert result.pushed == 3
    assert [r["error"]["code"] for r in result.rejected] == ["not_found"]
    assert d.rejected() == result.rejected and d.rejected()[0]["seq"] == 3
    d.clear_rejected()
    assert d.rejected() == [] and d.pending() == 0
    shown = d.get("customer", cid)
    assert shown is not None and not shown["pending"] and shown["version"] > 0
    served = admin.get(f"/api/customers/{cid}").json()
    for key in ("locations", "contacts", "jobs"):
        served.pop(key)
    assert shown == {**served, "pending": False}
    d.delete("customer", cid)
    assert d.get("customer", cid) is None and d.query("customer", phone="555") == []
    d.close()


def test_a_device_whose_clock_runs_ahead_is_restamped_and_its_last_write_still_wins(
    server: ServerProcess,
) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    skew = {"ms": 4 * MINUTE}  # within the server's 5-minute bound
    d = open_device(server, admin.token, clock=lambda: time.time_ns() // 1_000_000 + skew["ms"])
    d.sync()
    d.update("job", jobs[0], {"description": "first"})
    d.sync()  # recorded with a stamp 4 minutes ahead, and the offset learnt
    with d._store._transaction() as db:  # as on a device whose offset is not yet known
        db.execute("UPDATE state SET offset_ms = 0")
    skew["ms"] = 30 * MINUTE
    d.update("job", jobs[0], {"description": "second"})
    d.update("job", jobs[0], {"priority": "high"})
    assert d.sync().pushed == 2  # clock_ahead, re-stamped, sent again
    job = admin.get(f"/api/jobs/{jobs[0]}").json()
    assert (job["description"], job["priority"]) == ("second", "high")
    assert job["fields_meta"]["description"]["ts"] < time.time_ns() // 1_000_000 + 5 * MINUTE
    d.close()


def test_a_lost_write_brings_its_notice_once_until_acknowledged(server: ServerProcess) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    d = open_device(server, admin.token)
    d.sync()
    base = d.get("job", jobs[0])["version"]  # type: ignore[index]
    heard: list[dict[str, Any]] = []
    d.on_notice = heard.append
    d.update("job", jobs[0], {"status": "on_hold"})
    later = time.time_ns() // 1_000_000 + MINUTE
    winner = op(1, "job", jobs[0], "update", {"status": "completed"}, ts=later, base=base)
    assert admin.push(new_id("other-"), [winner]).status_code == 200
    result = d.sync()
    assert [n["field"] for n in result.notices] == ["status"] and heard == result.notices
    assert d.notices() == result.notices
    assert d.notices()[0]["loser"]["device_id"] == d.device_id
    assert d.get("job", jobs[0])["status"] == "completed"  # type: ignore[index]
    assert d.sync().notices == [] and len(d.notices()) == 1
    d.ack_notice(result.notices[0]["id"])
    assert d.notices() == [] and len(heard) == 1
    d.close()


def test_refusals_that_no_retry_can_mend_fail_at_once(server: ServerProcess) -> None:
    admin = server.api()
    d = open_device(server, "not-a-token")
    d.create("customer", new_id("c-"), customer_fields())
    with pytest.raises(SyncError) as refused:
        d.sync(retry_for=30)
    assert (refused.value.code, refused.value.retryable) == ("unauthorized", False)
    assert d.pending() == 1
    other, _ = admin.user_api("dispatcher")
    taken = Device.open(server.base_url, other.token, d.device_id, device_store("taken"))
    admin.pull(d.device_id)  # the admin claims the device id first
    with pytest.raises(SyncError) as refused:
        taken.sync()
    assert (refused.value.code, refused.value.retryable) == ("device_taken", False)
    d.close()
    taken.close()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_a_photo_is_queued_at_once_then_uploaded_before_its_op(server: ServerProcess) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 1)
    d = open_device(server, admin.token)
    d.sync()
    photo_id = d.add_photo(jobs[0], _png(), "image/png", caption="Inverter")
    queued = d.get("job_photo", photo_id)
    assert queued is not None and (queued["status"], queued["caption"]) == ("queued", "Inverter")
    assert [p["id"] for p in d.query("job_photo", job_id=jobs[0])] == [photo_id]
    assert d.pending() == 1
    result = d.sync()
    assert result.pushed == 1 and d.pending() == 0
    served = admin.get(f"/api/photos/{photo_id}").json()
    assert served["status"] == "available" and served["size"] == len(_png())
    assert d.get("job_photo", photo_id)["status"] in ("pending", "available")  # type: ignore[index]
    gone = d.add_photo("no-such-job", _png(), "image/png")
    assert d.sync().rejected[0]["error"]["code"] == "not_found"
    assert d.get("job_photo", gone) is None and d.pending() == 0
    d.close()


def test_listen_syncs_on_pokes_without_being_asked(server: ServerProcess) -> None:
    admin = server.api()
    d = open_device(server, admin.token)
    with listening(d):
        cid = new_id("c-")
        time.sleep(0.5)
        r = admin.push(new_id("office-"), [op(1, "customer", cid, fields=customer_fields())])
        assert r.status_code == 200
        deadline = time.monotonic() + 5
        while d.get("customer", cid) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert d.get("customer", cid) is not None
    d.close()
