"""Roles: technicians' pulls in a large world, and ingest with technician tokens.

    python -m bench.roles [--database-url URL]

- 500 technicians, each assigned 20 of 10,000 jobs (2,000 customers, each with
  a location and a contact; every job has a note). The p50/p99 of a
  technician's full pull from a null cursor, and of the incremental pulls after
  one job is reassigned from one technician to another: the new assignee's (the
  job arrives whole, with its customer, location, contacts and note) and the
  old one's (they leave as `removed`).
- The ingest of bench/ingest.py (48 devices, about 100,000 ops, batches of 200,
  8 clients), each device updating the 50 jobs assigned to its technician with
  the fields a technician may write, pushed once with the admin token and once
  with each technician's own token; two rounds, alternating.

Prints the figures and writes bench/results/roles.json.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from typing import Any

import httpx

from bench import ingest
from bench.common import ADMIN_TOKEN, fresh_database, postgres, server, summary_ms, write_result
from bench.workload import field_jobs_ops, op_stream, setup_ops

TECHNICIANS = 500
JOBS = 10_000
CUSTOMERS = 2_000


class Office:
    """The admin's device log, pushed in batches."""

    def __init__(self, http: httpx.Client, device_id: str) -> None:
        self.http = http
        self.device_id = device_id
        self.seq = 0

    def push(self, ops: list[tuple[str, str, str, dict[str, Any] | None]]) -> None:
        for start in range(0, len(ops), 1000):
            batch = []
            for entity, entity_id, action, fields in ops[start : start + 1000]:
                self.seq += 1
                op: dict[str, Any] = {
                    "seq": self.seq,
                    "ts": int(time.time() * 1000),
                    "tc": self.seq,
                    "entity": entity,
                    "id": entity_id,
                    "action": action,
                    "base": 0,
                }
                if fields is not None:
                    op["fields"] = fields
                batch.append(op)
            r = self.http.post("/sync/push", json={"device_id": self.device_id, "ops": batch})
            r.raise_for_status()
            rejected = [x for x in r.json()["results"] if x["status"] == "rejected"]
            if rejected:
                raise RuntimeError(f"setup op rejected: {rejected[0]}")


def technicians(http: httpx.Client, count: int) -> list[tuple[str, str]]:
    """`count` new technicians, each with a token: [(user_id, token)]."""
    users = []
    for _ in range(count):
        r = http.post(
            "/api/users",
            json={"email": f"{uuid.uuid4().hex}@bench.io", "name": "Tech", "role": "technician"},
        )
        r.raise_for_status()
        user_id = r.json()["id"]
        r = http.post(f"/api/users/{user_id}/tokens", json={})
        r.raise_for_status()
        users.append((user_id, r.json()["token"]))
    return users


def build_world(office: Office, techs: list[tuple[str, str]], rng: random.Random) -> list[str]:
    """Customers, locations, contacts, jobs (job k assigned to technician k % 500), notes."""
    ops: list[tuple[str, str, str, dict[str, Any] | None]] = []
    for c in range(CUSTOMERS):
        cid = f"cust-{c:05d}"
        ops.append(("customer", cid, "create", {"name": f"Customer {c}", "type": "residential"}))
        ops.append(
            ("location", f"loc-{c:05d}", "create", {"customer_id": cid, "address": f"{c} Road"})
        )
        ops.append(("contact", f"contact-{c:05d}", "create", {"customer_id": cid, "name": "Kim"}))
    for j in range(JOBS):
        c = rng.randrange(CUSTOMERS)
        fields = {
            "title": f"Battery job {j}",
            "service_type": "maintenance",
            "customer_id": f"cust-{c:05d}",
            "location_id": f"loc-{c:05d}",
            "technician_id": techs[j % len(techs)][0],
        }
        ops.append(("job", f"job-{j:05d}", "create", fields))
        ops.append(("job_note", f"note-{j:05d}", "create", {"job_id": f"job-{j:05d}", "body": "x"}))
    office.push(ops)
    return [f"job-{j:05d}" for j in range(JOBS)]


def pull_all(http: httpx.Client, token: str, device_id: str, cursor: str | None) -> tuple[str, int]:
    """Pull until caught up; returns the cursor and how many changes came."""
    changes = 0
    while True:
        r = http.post(
            "/sync/pull",
            json={"device_id": device_id, "cursor": cursor, "limit": 1000},
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
        body = r.json()
        changes += len(body["changes"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return str(cursor), changes


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def technician_pulls(
    http: httpx.Client, office: Office, techs: list[tuple[str, str]], rng: random.Random
) -> dict[str, Any]:
    cursors: dict[int, str] = {}
    full, full_changes = [], []
    for t, (_, token) in enumerate(techs):
        seconds, (cursor, changes) = timed(pull_all, http, token, f"tab-{t:03d}", None)
        full.append(seconds)
        full_changes.append(changes)
        cursors[t] = cursor
    gained, lost = [], []
    jobs_of = {t: [f"job-{j:05d}" for j in range(t, JOBS, len(techs))] for t in range(len(techs))}
    for _ in range(200):
        old, new = rng.sample(range(len(techs)), 2)
        job = jobs_of[old].pop(rng.randrange(len(jobs_of[old])))
        jobs_of[new].append(job)
        office.push([("job", job, "update", {"technician_id": techs[new][0]})])
        seconds, (cursors[new], changes) = timed(
            pull_all, http, techs[new][1], f"tab-{new:03d}", cursors[new]
        )
        assert changes >= 2, changes  # the job and its note at least
        gained.append(seconds)
        seconds, (cursors[old], changes) = timed(
            pull_all, http, techs[old][1], f"tab-{old:03d}", cursors[old]
        )
        assert changes >= 2, changes
        lost.append(seconds)
    return {
        "technicians": len(techs),
        "jobs": JOBS,
        "full_pull": summary_ms(full) | {"changes_mean": sum(full_changes) / len(full_changes)},
        "after_reassignment_new_assignee": summary_ms(gained),
        "after_reassignment_old_assignee": summary_ms(lost),
    }


def ingest_by_role(url: str, http: httpx.Client) -> dict[str, Any]:
    """The same field-work ingest, with the admin token and with technicians' own tokens."""
    rounds: dict[str, list[dict[str, Any]]] = {"admin": [], "technician": []}
    for r in range(2):
        for role in ("admin", "technician"):
            techs = technicians(http, 48)
            jobs_prefix = f"{role}{r}-job"
            office = Office(http, f"office-{role}-{r}")
            creates = setup_ops() + field_jobs_ops([t for t, _ in techs], jobs_prefix=jobs_prefix)
            office.push([(o["entity"], o["id"], o["action"], o["fields"]) for o in creates])
            streams = op_stream(field_work=True, prefix=f"{role}{r}-dev", jobs_prefix=jobs_prefix)
            tokens = (
                {s.device_id: token for s, (_, token) in zip(streams, techs, strict=True)}
                if role == "technician"
                else None
            )
            result = ingest.run(url, ADMIN_TOKEN, streams, device_tokens=tokens)
            print(f"  ingest with {role} tokens: {result['ops_per_s']} ops/s", flush=True)
            rounds[role].append(result)
    best = {role: max(runs, key=lambda x: x["ops_per_s"]) for role, runs in rounds.items()}
    return {
        "admin": best["admin"],
        "technician": best["technician"],
        "runs_ops_per_s": {role: [x["ops_per_s"] for x in runs] for role, runs in rounds.items()},
        "technician_vs_admin": round(
            best["technician"]["ops_per_s"] / best["admin"]["ops_per_s"], 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    args = parser.parse_args()
    rng = random.Random(11)
    with postgres(args.database_url) as admin_url, server(fresh_database(admin_url)) as srv:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=120) as http:
            techs = technicians(http, TECHNICIANS)
            office = Office(http, "bench-office")
            build_world(office, techs, rng)
            pulls = technician_pulls(http, office, techs, rng)
            print(
                f"technician full pull: p50 {pulls['full_pull']['p50_ms']} ms, "
                f"p99 {pulls['full_pull']['p99_ms']} ms "
                f"({pulls['full_pull']['changes_mean']:.0f} changes)",
                flush=True,
            )
            for who in ("new", "old"):
                s = pulls[f"after_reassignment_{who}_assignee"]
                print(
                    f"pull after a reassignment, {who} assignee: "
                    f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms",
                    flush=True,
                )
            ingest_result = ingest_by_role(srv.url, http)
    print(f"ingest technician/admin: {ingest_result['technician_vs_admin']} (target >= 0.8)")
    print("wrote", write_result("roles", {"pulls": pulls, "ingest": ingest_result}))


if __name__ == "__main__":
    main()
