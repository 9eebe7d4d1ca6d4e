"""A device process for tests/clients/test_crash.py: writes job updates through the SDK
and syncs now and then, printing `seq fields` once each write has returned, until it
is killed. With --finish it only syncs and exits.

python -m tests.clients.crashing_device URL TOKEN DEVICE_ID PATH JOB_ID... [--finish]
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
import uuid

from clients import Device, SyncError


def main(argv: list[str]) -> None:
    finish = "--finish" in argv
    url, token, device_id, path, *jobs = [a for a in argv if a != "--finish"]
    d = Device.open(url, token, device_id, path, timeout=5)
    if finish:
        d.sync(retry_for=60)
        return
    run = uuid.uuid4().hex[:8]
    rng = random.Random()
    for n in range(1_000_000):
        fields = {"description": f"run {run} write {n}"}
        seq = d.update("job", rng.choice(jobs), fields)
        print(seq, json.dumps(fields), flush=True)
        if rng.random() < 0.1:
            with contextlib.suppress(SyncError):  # offline for now: sync later
                d.sync(retry_for=2)


if __name__ == "__main__":
    main(sys.argv[1:])
