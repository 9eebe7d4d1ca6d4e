"""What a device wrote, and the checks that the server holds each write exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support import Api


def acked_seq(admin: Api, device_id: str) -> int:
    devices = admin.list_all("/api/devices", limit=500)
    return next(d["acked_seq"] for d in devices if d["device_id"] == device_id)


def logged_job_ops(admin: Api, device_id: str, job_ids: list[str]) -> list[tuple[int, Any]]:
    """(seq, fields) of every op of `device_id` in the history of those jobs."""
    logged = []
    for job_id in job_ids:
        for item in admin.list_all(f"/api/jobs/{job_id}/history", limit=500):
            if item["device_id"] == device_id:
                logged.append((item["seq"], item["fields"]))
    return logged


def assert_exactly_once(
    admin: Api,
    device_id: str,
    written: dict[int, dict[str, Any]],
    job_ids: list[str],
    *,
    every_write: bool = True,
) -> None:
    """Every write the device reported (seq -> fields; the device writes only job
    updates) is in the server's device log once, with its content; the log holds seqs
    1..acked_seq without gaps. every_write: the device reported all its writes, so
    the log holds nothing else."""
    logged = logged_job_ops(admin, device_id, job_ids)
    twice = [seq for seq, n in Counter(seq for seq, _ in logged).items() if n > 1]
    assert twice == [], f"seqs logged more than once: {twice}"
    by_seq = dict(logged)
    assert sorted(by_seq) == list(range(1, acked_seq(admin, device_id) + 1))
    missing = {seq: fields for seq, fields in written.items() if by_seq.get(seq) != fields}
    assert missing == {}, f"reported writes not in the log as written: {missing}"
    if every_write:
        assert by_seq == written
