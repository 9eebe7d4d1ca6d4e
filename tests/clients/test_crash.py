"""A device process killed with SIGKILL at random moments, again and again, and
started again on the same store: every write it reported is on the server once."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from typing import Any

from clients import Device
from tests.clients.ledger import assert_exactly_once
from tests.clients.test_faults import make_jobs
from tests.support import ServerProcess, device_store, new_id

KILLS = 15


def test_a_device_killed_at_random_moments_loses_and_doubles_nothing(
    server: ServerProcess,
) -> None:
    admin = server.api()
    jobs = make_jobs(admin, 2)
    device_id = new_id("tab-")
    path = device_store(device_id)
    d = Device.open(server.base_url, admin.token, device_id, path)
    d.sync()  # the jobs, so that the process can update them
    d.close()
    command = [sys.executable, "-m", "tests.clients.crashing_device"]
    command += [server.base_url, admin.token, device_id, str(path), *jobs]
    rng = random.Random(3)
    reported: dict[int, dict[str, Any]] = {}
    for _ in range(KILLS):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.8, 2.0))  # start-up takes most of a second
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        for line in out.splitlines(keepends=True):
            if line.endswith("\n"):  # a line cut by the kill was not reported
                seq, fields = line.split(" ", 1)
                assert int(seq) not in reported, f"seq {seq} given to two writes"
                reported[int(seq)] = json.loads(fields)
    assert len(reported) > 100
    subprocess.run([*command, "--finish"], check=True, timeout=120)

    d = Device.open(server.base_url, admin.token, device_id, path)
    last_seq = d._store._db.execute("SELECT next_seq - 1 FROM state").fetchone()[0]
    assert d.pending() == 0 and last_seq >= max(reported)
    d.close()
    assert_exactly_once(admin, device_id, reported, jobs, every_write=False)
