"""The op stream the ingest and pg_limit benches share: devices updating their own jobs."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

CUSTOMER_ID = "bench-customer"
STATUSES = ["scheduled", "dispatched", "in_progress", "on_hold", "completed"]
PRIORITIES = ["low", "normal", "high", "urgent"]


@dataclass
class DeviceStream:
    device_id: str
    batches: list[list[dict[str, Any]]]

    @property
    def ops(self) -> int:
        return sum(len(b) for b in self.batches)


def setup_ops() -> list[dict[str, Any]]:
    """Ops the bench pushes before timing: the one customer every job belongs to."""
    return [
        {
            "seq": 1,
            "ts": int(time.time() * 1000) - 7_200_000,
            "tc": 0,
            "entity": "customer",
            "id": CUSTOMER_ID,
            "action": "create",
            "base": 0,
            "fields": {"name": "Bench Batteries Ltd", "type": "commercial"},
        }
    ]


def op_stream(
    devices: int = 48,
    total_ops: int = 100_000,
    jobs_per_device: int = 50,
    batch_size: int = 200,
    seed: int = 7,
    field_work: bool = False,
    prefix: str = "bench-dev",
    jobs_prefix: str = "bench-job",
) -> list[DeviceStream]:
    """Each device creates its own jobs, then updates them: no two devices share a job.

    With `field_work`, the jobs exist already (`field_jobs_ops`) and every op is an
    update a technician may make: status, description, completed_date.
    """
    rng = random.Random(seed)
    per_device = total_ops // devices
    t0 = int(time.time() * 1000) - 3_600_000
    streams = []
    for d in range(devices):
        device_id = f"{prefix}-{d:03d}"
        ops: list[dict[str, Any]] = []
        jobs = [f"{jobs_prefix}-{d:03d}-{j:04d}" for j in range(jobs_per_device)]
        for seq in range(1, per_device + 1):
            ts, tc = t0 + seq, 0
            if field_work:
                job, action = rng.choice(jobs), "update"
                fields = {"status": rng.choice(STATUSES)}
                if rng.random() < 0.5:
                    fields["completed_date"] = f"2026-11-{rng.randint(10, 28)}T12:00:00Z"
                if rng.random() < 0.3:
                    fields["description"] = f"Checked cells, reading {rng.randint(1, 999)} mV"
            elif seq <= jobs_per_device:
                job, action = jobs[seq - 1], "create"
                fields: dict[str, Any] = {
                    "title": f"Battery service {job}",
                    "service_type": "maintenance",
                    "customer_id": CUSTOMER_ID,
                    "priority": "normal",
                }
            else:
                job, action = rng.choice(jobs), "update"
                fields = {"status": rng.choice(STATUSES)}
                if rng.random() < 0.5:
                    fields["priority"] = rng.choice(PRIORITIES)
                if rng.random() < 0.3:
                    fields["description"] = f"Checked cells, reading {rng.randint(1, 999)} mV"
            op = {
                "seq": seq,
                "ts": ts,
                "tc": tc,
                "entity": "job",
                "id": job,
                "action": action,
                "base": 0,
                "fields": fields,
            }
            ops.append(op)
        batches = [ops[i : i + batch_size] for i in range(0, len(ops), batch_size)]
        streams.append(DeviceStream(device_id, batches))
    return streams


def field_jobs_ops(
    technician_ids: list[str], jobs_per_device: int = 50, jobs_prefix: str = "bench-job"
) -> list[dict[str, Any]]:
    """Ops (for a device log of their own) creating the jobs of `op_stream(field_work=True)`,
    device d's jobs assigned to technician_ids[d]."""
    t0 = int(time.time() * 1000) - 7_000_000
    ops = []
    for d, technician_id in enumerate(technician_ids):
        for j in range(jobs_per_device):
            seq = len(ops) + 1
            ops.append(
                {
                    "seq": seq,
                    "ts": t0 + seq,
                    "tc": 0,
                    "entity": "job",
                    "id": f"{jobs_prefix}-{d:03d}-{j:04d}",
                    "action": "create",
                    "base": 0,
                    "fields": {
                        "title": f"Battery service {d:03d}-{j}",
                        "service_type": "maintenance",
                        "customer_id": CUSTOMER_ID,
                        "technician_id": technician_id,
                    },
                }
            )
    return ops
