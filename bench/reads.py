"""Read APIs under load: job lists, job detail and open conflicts while ingest runs.

    python -m bench.reads [--database-url URL] [--seconds 20]

Builds 20,000 customers (each with a location), 100,000 jobs and about
1,000,000 ops in the device logs (one update in 20 made without having seen
the job's latest version, which leaves open conflict notices). Then 8 reader
threads query for `--seconds` while bench/ingest.py's workload is pushed
beside them by 2 clients, and the script prints p50/p99 per query and the plan
of each job-list statement. Writes bench/results/reads.json.
"""

from __future__ import annotations

import argparse
import random
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from bench import ingest
from bench.common import (
    ADMIN_TOKEN,
    fresh_database,
    postgres,
    server,
    summary_ms,
    write_result,
)
from bench.roles import technicians
from bench.workload import DeviceStream, op_stream
from syncserver.storage import jobs as job_sql

CUSTOMERS = 20_000
JOBS = 100_000
TOTAL_OPS = 1_000_000
TECHNICIANS = 200
WORDS = ["battery", "inverter", "cell", "fuse", "panel", "grid", "meter", "cable", "relay"]
STATUSES = ["unscheduled", "scheduled", "dispatched", "in_progress", "on_hold", "completed"]
SERVICE_TYPES = ["installation", "maintenance", "repair", "inspection", "replacement"]
PRIORITIES = ["low", "normal", "high", "urgent"]
START = datetime(2026, 12, 1, tzinfo=UTC)


def _op(seq: int, ts: int, entity: str, entity_id: str, action: str, fields: dict[str, Any]):  # type: ignore[no-untyped-def]
    return {
        "seq": seq,
        "ts": ts,
        "tc": 0,
        "entity": entity,
        "id": entity_id,
        "action": action,
        "base": 0,
        "fields": fields,
    }


def _streams(rng: random.Random, techs: list[str]) -> list[DeviceStream]:
    """The office's creates, then field updates from 48 devices, some of them clashing."""
    t0 = int(time.time() * 1000) - 3_600_000
    office: list[dict[str, Any]] = []
    for c in range(CUSTOMERS):
        name = f"{rng.choice(WORDS).title()} {rng.choice(['Energy', 'Storage', 'Farms'])} {c}"
        office.append(
            _op(
                len(office) + 1,
                t0,
                "customer",
                f"c{c:05d}",
                "create",
                {"name": name, "type": "commercial"},
            )
        )
        office.append(
            _op(
                len(office) + 1,
                t0,
                "location",
                f"l{c:05d}",
                "create",
                {
                    "customer_id": f"c{c:05d}",
                    "address": f"{c} Road",
                    "service_area": f"area-{c % 40}",
                },
            )
        )
    for j in range(JOBS):
        c = rng.randrange(CUSTOMERS)
        when = START + timedelta(minutes=rng.randrange(60 * 24 * 60))
        fields = {
            "title": f"{rng.choice(WORDS).title()} {rng.choice(SERVICE_TYPES)} {j}",
            "description": " ".join(rng.sample(WORDS, 3)),
            "status": rng.choice(STATUSES),
            "service_type": rng.choice(SERVICE_TYPES),
            "priority": rng.choice(PRIORITIES),
            "scheduled_date": when.strftime("%Y-%m-%dT%H:%M:%SZ") if rng.random() < 0.8 else None,
            "customer_id": f"c{c:05d}",
            "location_id": f"l{c:05d}",
            "technician_id": rng.choice(techs),
        }
        office.append(_op(len(office) + 1, t0, "job", f"job{j:06d}", "create", fields))
    streams = [DeviceStream("office", [office[i : i + 1000] for i in range(0, len(office), 1000)])]
    updates = TOTAL_OPS - len(office)
    devices = 48
    for d in range(devices):
        ops = []
        for seq in range(1, updates // devices + 1):
            job = f"job{rng.randrange(JOBS):06d}"
            fields: dict[str, Any] = {"status": rng.choice(STATUSES)}
            if rng.random() < 0.3:
                fields["priority"] = rng.choice(PRIORITIES)
            op = _op(seq, t0 + 1000 + seq, "job", job, "update", fields)
            # Mostly the device had seen the job's latest version; one op in 20 had not,
            # and clashes with whatever another device wrote meanwhile.
            op["base"] = 0 if rng.random() < 0.05 else 2**53
            ops.append(op)
        streams.append(
            DeviceStream(f"field-{d:02d}", [ops[i : i + 1000] for i in range(0, len(ops), 1000)])
        )
    return streams


def _customer(rng: random.Random) -> str:
    return f"c{rng.randrange(CUSTOMERS):05d}"


def _queries(rng: random.Random, techs: list[str]) -> dict[str, Any]:
    """name -> a function giving (path, params) for one request."""

    def window() -> dict[str, str]:
        start = START + timedelta(days=rng.randrange(55))
        end = start + timedelta(days=7)
        return {"scheduled_from": start.isoformat(), "scheduled_to": end.isoformat()}

    return {
        "jobs: no filter": lambda: ("/api/jobs", {}),
        "jobs: status + priority": lambda: (
            "/api/jobs",
            {"status": rng.choice(STATUSES), "priority": rng.choice(PRIORITIES)},
        ),
        "jobs: technician": lambda: ("/api/jobs", {"technician_id": rng.choice(techs)}),
        "jobs: customer": lambda: ("/api/jobs", {"customer_id": _customer(rng)}),
        "jobs: 7-day window + service type": lambda: (
            "/api/jobs",
            window() | {"service_type": rng.choice(SERVICE_TYPES)},
        ),
        "jobs: q + status": lambda: (
            "/api/jobs",
            {"q": rng.choice(WORDS), "status": rng.choice(STATUSES)},
        ),
        "jobs: sort=updated_at": lambda: ("/api/jobs", {"sort": "updated_at"}),
        "jobs: sort=priority + service type": lambda: (
            "/api/jobs",
            {"sort": "priority", "service_type": rng.choice(SERVICE_TYPES)},
        ),
        "job detail": lambda: (f"/api/jobs/job{rng.randrange(JOBS):06d}", {}),
        "job history": lambda: (f"/api/jobs/job{rng.randrange(JOBS):06d}/history", {}),
        "conflicts: status=open": lambda: ("/api/conflicts", {"status": "open"}),
    }


def measure(url: str, techs: list[str], seconds: float, readers: int = 8) -> dict[str, Any]:
    rng = random.Random(3)
    queries = _queries(rng, techs)
    names = list(queries)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def reader(i: int) -> None:
        local = random.Random(i)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            while time.monotonic() < stop:
                name = local.choice(names)
                with lock:
                    path, params = queries[name]()
                start = time.perf_counter()
                r = http.get(path, params=params)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies[name].append(elapsed)
                    if r.status_code != 200:
                        errors.append(f"{name}: {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} reads failed, first: {errors[0]}")
    return {
        name: summary_ms(values) | {"requests": len(values)} for name, values in latencies.items()
    }


def plans(database_url: str, techs: list[str]) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of the job-list statement for each filter mix."""
    mixes = {
        "no filter": job_sql.JobFilter(),
        "status + priority": job_sql.JobFilter(status="scheduled", priority="high"),
        "technician": job_sql.JobFilter(technician_id=techs[0]),
        "customer": job_sql.JobFilter(customer_id="c00042"),
        "7-day window + service type": job_sql.JobFilter(
            scheduled_from=START, scheduled_to=START + timedelta(days=7), service_type="repair"
        ),
        "q + status": job_sql.JobFilter(words=("inverter",), status="on_hold"),
        "sort=updated_at": job_sql.JobFilter(sort="updated_at"),
        "sort=priority + service type": job_sql.JobFilter(sort="priority", service_type="repair"),
    }
    found = {}
    with psycopg.connect(database_url) as conn:
        for name, f in mixes.items():
            sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", job_sql._statement(f, after=False))
            params: dict[str, Any] = {"limit": 50, "restricted": False, "user_id": "", "areas": []}
            params |= {k: getattr(f, k) for k in job_sql._EQUALS if getattr(f, k)}
            if f.scheduled_from:
                params["scheduled_from"] = job_sql._micros(f.scheduled_from)
            if f.scheduled_to:
                params["scheduled_to"] = job_sql._micros(f.scheduled_to)
            if f.words:
                params["words"] = list(f.words)
            rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params).fetchall()
            found[name] = [r[0] for r in rows]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    rng = random.Random(7)
    with postgres(args.database_url) as admin_url:
        database_url = fresh_database(admin_url)
        with server(database_url, workers=args.workers) as srv:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with httpx.Client(base_url=srv.url, headers=headers, timeout=120) as http:
                techs = [user_id for user_id, _ in technicians(http, TECHNICIANS)]
            streams = _streams(rng, techs)
            start = time.perf_counter()
            ingest.run(srv.url, ADMIN_TOKEN, streams[:1], clients=1)
            loaded = ingest.run(srv.url, ADMIN_TOKEN, streams[1:], clients=8)
            took = time.perf_counter() - start
            print(
                f"loaded {sum(s.ops for s in streams)} ops in {took:.0f} s "
                f"({loaded['ops_per_s']} ops/s for the updates)",
                flush=True,
            )
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                counts = conn.execute(
                    "SELECT (SELECT count(*) FROM device_log), (SELECT count(*) FROM notices"
                    " WHERE status = 'open'), (SELECT count(*) FROM entities WHERE entity = 'job')"
                ).fetchone()
            print(f"device log ops {counts[0]}, open notices {counts[1]}, jobs {counts[2]}")  # type: ignore[index]
            background = op_stream(total_ops=1_000_000, prefix="live", jobs_prefix="live-job")
            pushed: dict[str, Any] = {}
            stop = threading.Event()
            pusher = threading.Thread(
                target=lambda: pushed.update(
                    ingest.run(srv.url, ADMIN_TOKEN, background, clients=2, stop=stop)
                )
            )
            pusher.start()
            time.sleep(2)
            reads = measure(srv.url, techs, args.seconds)
            stop.set()
            pusher.join()
            explained = plans(database_url, techs)
    worst = max(
        v["p99_ms"] for k, v in reads.items() if k.startswith("jobs") or k.startswith("conflicts")
    )
    for name, s in reads.items():
        print(
            f"{name:40} p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms"
            f"  ({s['requests']} requests)"
        )
    print(f"ingest beside the readers: {pushed.get('ops_per_s')} ops/s")
    print(f"worst list p99: {worst} ms (target < 50 ms)")
    for name, plan in explained.items():
        scans = [
            line.strip().removeprefix("->  ").split(" (actual")[0]
            for line in plan
            if re.search(r"(Index|Index Only|Seq|Bitmap Index) Scan", line)
        ]
        took = next((line for line in plan if "Execution Time" in line), "")
        print(f"plan, {name}: {'; '.join(scans)} ({took.strip()})")
    path = write_result(
        "reads",
        {
            "dataset": {
                "customers": CUSTOMERS,
                "jobs": JOBS,
                "device_log_ops": counts[0],  # type: ignore[index]
                "open_notices": counts[1],
            },  # type: ignore[index]
            "readers": 8,
            "seconds": args.seconds,
            "workers": args.workers,
            "reads": reads,
            "ingest_beside": pushed,
            "worst_list_p99_ms": worst,
            "plans": explained,
        },
    )
    print("wrote", path)


if __name__ == "__main__":
    main()
