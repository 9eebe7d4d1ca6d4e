"""`syncserver simulate` (docs/sdk.md): a fleet of SDK devices against a real
server, and the simulator's own checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clients.simulator import KEYS
from clients.simulator_check import DeviceRecord, ServerLog, check_exactly_once, differences
from clients.simulator_fleet import Journal, Write
from tests.support import ADMIN_TOKEN, ServerProcess


def test_simulate_30_devices_for_a_minute(server: ServerProcess, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncserver.cli",
            "simulate",
            "--url",
            server.base_url,
            "--token",
            ADMIN_TOKEN,
            "--devices",
            "30",
            "--minutes",
            "1",
            "--offline-ratio",
            "0.4",
            "--seed",
            "7",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert list(result) == list(KEYS), report
    assert (result["lost"], result["duplicated"], result["diverged"]) == (0, 0, 0), report
    assert proc.returncode == 0, report
    assert result["devices"] == 30
    assert result["ops"] > 0 and result["ops_per_s"] > 0
    assert result["users"] > 0
    assert isinstance(result["server_rss_peak_mb"], float) and result["server_rss_peak_mb"] > 0


def _fleet_of_one() -> tuple[dict[str, DeviceRecord], ServerLog]:
    """A device that wrote a job update and a note, and a server that holds both."""
    journal = Journal(
        writes={
            1: Write("job", "j1", "update", {"status": "in_progress"}),
            2: Write("job_note", "n1", "create", {"job_id": "j1", "body": "Checked"}),
        },
        photos={"p1": {"job_id": "j1", "size": 120, "content_type": "image/png"}},
    )
    server = ServerLog(
        acked={"dev-1": 3},
        history={
            "j1": [
                {
                    "device_id": "dev-1",
                    "seq": 1,
                    "action": "update",
                    "fields": {"status": "in_progress"},
                },
                {"device_id": "other", "seq": 9, "action": "update", "fields": {"priority": "low"}},
            ]
        },
        notes={"j1": {"n1": {"id": "n1", "body": "Checked"}}},
        photos={"j1": {"p1": {"id": "p1", "size": 120}}},
    )
    return {"dev-1": DeviceRecord(journal)}, server


def test_the_exactly_once_check_can_fail() -> None:
    devices, server = _fleet_of_one()
    whole = check_exactly_once(devices, server)
    assert (whole.lost, whole.duplicated) == (0, 0), whole.problems

    devices, server = _fleet_of_one()
    server.history["j1"].pop(0)  # the server lacks the job op
    assert check_exactly_once(devices, server).lost == 1

    devices, server = _fleet_of_one()
    server.history["j1"][0]["fields"] = {"status": "completed"}  # another content
    assert check_exactly_once(devices, server).lost == 1

    devices, server = _fleet_of_one()
    server.history["j1"].append(dict(server.history["j1"][0]))  # twice in the logs
    assert check_exactly_once(devices, server).duplicated == 1

    devices, server = _fleet_of_one()
    server.acked["dev-1"] = 2  # the photo's op never arrived
    server.photos["j1"] = {}
    assert check_exactly_once(devices, server).lost == 2

    devices, server = _fleet_of_one()
    server.notes["j1"] = {}  # the note is missing...
    assert check_exactly_once(devices, server).lost == 1
    devices["dev-1"].rejected = [{"seq": 2, "op": {"entity": "job_note"}, "error": {}}]
    assert check_exactly_once(devices, server).lost == 0  # ...because it was rejected


def test_the_convergence_check_names_differences() -> None:
    served = {("job", "j1"): {"id": "j1", "version": 5, "status": "scheduled"}}
    assert differences(served, served) == []
    stale = {("job", "j1"): {"id": "j1", "version": 4, "status": "scheduled"}}
    assert differences(stale, served) == ["job j1: version: 4 != 5"]
    assert differences({}, served) == ["job j1: served, not in the replica"]
