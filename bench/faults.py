"""SIGKILL of `serve` in the middle of pushes: no acknowledged op lost, none twice,
nothing half-applied.

    python -m bench.faults [--trials 50] [--database-url URL]

Each trial: a fresh database and a server; 6 devices push batches of 10 job
updates from threads (jobs shared, so some writes race and make notices); the
server is SIGKILLed at a random point of the work (once a random share of it
is acknowledged) and started again on the same port and
database; each device goes on from what it last saw acknowledged, sending its
unacknowledged tail again, until all its ops are acknowledged. Checks, per trial:

- every op seen acknowledged before the kill is in its device log;
- each device log holds seqs 1..N exactly once, each op as the device sent it;
- the projections and notices equal a rebuild of the logs (`syncserver rebuild`).

Writes bench/results/faults.json. `tests/api/test_server_kill.py` runs a few trials.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from bench.common import (
    ADMIN_TOKEN,
    drop_database,
    free_port,
    fresh_database,
    postgres,
    write_result,
)

DEVICES = 6
OPS_PER_DEVICE = 120
BATCH = 10
JOBS = 30
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_URL=database_url, SYNCSERVER_ADMIN_TOKEN=ADMIN_TOKEN,
               SYNCSERVER_LOG_LEVEL="warning")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncserver.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


@dataclass
class Device:
    device_id: str
    ops: list[dict[str, Any]]
    acked: int = 0  # the highest seq seen acknowledged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, url: str, stop: threading.Event) -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=5) as client:
            while self.acked < len(self.ops) and not stop.is_set():
                batch = self.ops[self.acked : self.acked + BATCH]
                try:
                    r = client.post("/sync/push", json={"device_id": self.device_id, "ops": batch})
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down: try again
                    continue
                if r.status_code != 200:
                    time.sleep(0.05)
                    continue
                with self.lock:
                    self.acked = max(self.acked, int(r.json()["acked_seq"]))


def _ops(device: int, now: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"seq": seq, "ts": now + seq, "tc": 0, "entity": "job", "id": f"j{rng.randrange(JOBS)}",
         "action": "update", "fields": {"description": f"d{device}-{seq}"}, "base": 0}
        for seq in range(1, OPS_PER_DEVICE + 1)
    ]  # fmt: skip


def _seed(url: str) -> None:
    now = int(time.time() * 1000) - 60_000
    ops = [{"seq": 1, "ts": now, "entity": "customer", "id": "c1", "action": "create",
            "fields": {"name": "Kill test", "type": "commercial"}}]  # fmt: skip
    ops += [
        {"seq": i + 2, "ts": now, "entity": "job", "id": f"j{i}", "action": "create",
         "fields": {"title": f"Job {i}", "service_type": "repair", "customer_id": "c1"}}
        for i in range(JOBS)
    ]  # fmt: skip
    r = httpx.post(f"{url}/sync/push", headers=HEADERS, json={"device_id": "seed", "ops": ops})
    r.raise_for_status()


def _snapshot(database_url: str) -> tuple[Any, ...]:
    with psycopg.connect(database_url) as conn:
        entities = conn.execute(
            "SELECT entity, id, version, data::text FROM entities ORDER BY entity, id"
        ).fetchall()
        notices = conn.execute(
            "SELECT id, seq, entity_id, field, winner::text, loser::text FROM notices ORDER BY id"
        ).fetchall()
    return tuple(entities), tuple(notices)


def _logged(database_url: str, device_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT seq, op FROM device_log WHERE device_id = %s ORDER BY seq", (device_id,)
        ).fetchall()


def trial(admin_url: str, seed: int) -> dict[str, Any]:
    """One kill-and-recover run; returns its findings (problems empty when all held)."""
    rng = random.Random(seed)
    database_url = fresh_database(admin_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(database_url, port)
    problems: list[str] = []
    try:
        _seed(url)
        now = int(time.time() * 1000)
        devices = [Device(f"dev-{seed}-{d}", _ops(d, now, rng)) for d in range(DEVICES)]
        stop = threading.Event()
        threads = [threading.Thread(target=d.run, args=(url, stop)) for d in devices]
        for t in threads:
            t.start()
        # Kill at a random point of the work: once a random share of it is acknowledged.
        total = sum(len(d.ops) for d in devices)
        target = rng.uniform(0.05, 0.8) * total
        while sum(d.acked for d in devices) < target:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.02))  # and not always right after an answer
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        acked_at_kill = {d.device_id: d.acked for d in devices}
        restarted_at = time.monotonic()
        proc = _serve(database_url, port)
        restart_s = time.monotonic() - restarted_at
        for t in threads:
            t.join(120)
        stop.set()
        for d in devices:
            logged = _logged(database_url, d.device_id)
            seqs = [seq for seq, _ in logged]
            if seqs != list(range(1, len(d.ops) + 1)):
                problems.append(f"{d.device_id}: logged seqs {seqs[:5]}... ({len(seqs)})")
            if len(seqs) < acked_at_kill[d.device_id]:
                problems.append(f"{d.device_id}: an op acknowledged before the kill is lost")
            for (seq, text), sent in zip(logged, d.ops, strict=False):
                if json.loads(text) != sent:
                    problems.append(f"{d.device_id}: seq {seq} logged as {text}")
        served = _snapshot(database_url)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        rebuilt = subprocess.run(
            [sys.executable, "-m", "syncserver.cli", "rebuild"],
            env=dict(os.environ, DATABASE_URL=database_url), capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        if rebuilt.returncode != 0:
            problems.append(f"rebuild failed: {rebuilt.stderr.strip()[-300:]}")
        elif _snapshot(database_url) != served:
            problems.append("the projections differ from a rebuild of the logs")
        return {
            "seed": seed,
            "acked_at_kill": sum(acked_at_kill.values()),
            "ops": sum(len(d.ops) for d in devices),
            "restart_s": round(restart_s, 2),
            "problems": problems,
        }
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drop_database(admin_url, database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    args = parser.parse_args()
    results = []
    with postgres(args.database_url) as admin_url:
        for seed in range(args.trials):
            result = trial(admin_url, seed)
            results.append(result)
            print(
                f"trial {seed}: {result['acked_at_kill']} ops acknowledged before the kill, "
                f"restart {result['restart_s']} s, problems: {result['problems'] or 'none'}",
                flush=True,
            )
    failed = [r for r in results if r["problems"]]
    summary = {
        "trials": len(results),
        "trials_with_problems": len(failed),
        "ops_acknowledged_before_kills": sum(r["acked_at_kill"] for r in results),
        "acknowledged_ops_lost": sum(any("lost" in p for p in r["problems"]) for r in results),
        "results": results,
    }
    print(f"{len(results)} trials, {len(failed)} with problems")
    print("wrote", write_result("faults", summary))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
