"""The Python device SDK: a simulated fleet, a catch-up from a null cursor, and local calls.

    python -m bench.sdk [--database-url URL] [--minutes 5] [--devices 300] [--skip-fleet]

(a) `syncserver simulate --devices 300 --minutes 5 --offline-ratio 0.5` against a
    server of its own: ops/s, the p50/p99 of a device's sync, the server's peak
    RSS, and the checks (lost, duplicated, diverged).
(b) Catch-up: 20,000 entities (customers and jobs, pushed in 1,000-op batches),
    synced by a fresh SDK Device from a null cursor into a new SQLite store,
    against the raw pull of the same set from the same server (POST /sync/pull,
    limit 1000, via httpx, JSON decoded, until has_more is false). The median of
    3 runs each, alternating; the ratio raw/SDK (1.0: the SDK costs nothing over
    the wire's own pull).
(c) On that 20,000-entity store, with 500 pending updates: p50/p99 of `update`
    (the call to its return, when the op is durable) and of `get`, 2,000 calls
    each.

Prints the figures and writes bench/results/sdk.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.common import (
    ADMIN_TOKEN,
    fresh_database,
    postgres,
    server,
    summary_ms,
    write_result,
)
from clients import Device

CATCH_UP_ENTITIES = 20_000
BATCH = 1000


def fleet(url: str, devices: int, minutes: float, offline_ratio: float) -> dict[str, Any]:
    """Run the simulator as its command, showing its output; its JSON line."""
    command = [
        sys.executable,
        "-m",
        "syncserver.cli",
        "simulate",
        "--url",
        url,
        "--token",
        ADMIN_TOKEN,
        "--devices",
        str(devices),
        "--minutes",
        str(minutes),
        "--offline-ratio",
        str(offline_ratio),
        "--seed",
        "1",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print("  " + line.rstrip())
        lines.append(line)
    code = proc.wait()
    result: dict[str, Any] = json.loads(lines[-1])
    return {
        **result,
        "minutes": minutes,
        "offline_ratio": offline_ratio,
        "exit_code": code,
        "wall_s": round(time.perf_counter() - start, 1),
    }


def seed_catch_up(url: str, entities: int) -> None:
    """Half customers, half jobs (each of one of them), in 1,000-op pushes (not timed)."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    t0 = int(time.time() * 1000) - 3_600_000
    customers = entities // 2
    ops: list[dict[str, Any]] = []
    for i in range(entities):
        if i < customers:
            entity, entity_id = "customer", f"cu-{i:06d}"
            fields: dict[str, Any] = {
                "name": f"Customer {i}",
                "type": "commercial",
                "email": f"c{i}@example.com",
                "phone": "+46 8 123 456",
            }
        else:
            entity, entity_id = "job", f"jo-{i:06d}"
            fields = {
                "title": f"Inspection {i}",
                "service_type": "inspection",
                "customer_id": f"cu-{i % customers:06d}",
                "description": "Check the inverter and the panels on the north roof.",
                "status": "scheduled",
                "scheduled_date": "2026-06-01T08:00:00Z",
            }
        ops.append(
            {
                "seq": i + 1,
                "ts": t0 + i,
                "tc": 0,
                "entity": entity,
                "id": entity_id,
                "action": "create",
                "base": 0,
                "fields": fields,
            }
        )
    with httpx.Client(base_url=url, timeout=120, headers=headers) as http:
        for start in range(0, entities, BATCH):
            body = {"device_id": "bench-sdk-seed", "ops": ops[start : start + BATCH]}
            http.post("/sync/push", content=msgspec.json.encode(body)).raise_for_status()


def raw_pull(url: str) -> tuple[float, int]:
    """Seconds to pull everything from a null cursor, pages of 1,000, JSON decoded."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    device = f"bench-raw-{uuid.uuid4().hex[:8]}"
    changes = 0
    cursor = None
    with httpx.Client(base_url=url, timeout=120, headers=headers) as http:
        start = time.perf_counter()
        while True:
            r = http.post("/sync/pull", json={"device_id": device, "cursor": cursor, "limit": 1000})
            r.raise_for_status()
            page = r.json()
            changes += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        return time.perf_counter() - start, changes


def sdk_catch_up(url: str, path: Path) -> tuple[float, int, Device]:
    """Seconds for a fresh Device to open a new store and sync from a null cursor."""
    start = time.perf_counter()
    device = Device.open(url, ADMIN_TOKEN, f"bench-sdk-{uuid.uuid4().hex[:8]}", path)
    result = device.sync(retry_for=120)
    return time.perf_counter() - start, result.pulled, device


def catch_up(url: str, tmp: Path, runs: int = 3) -> tuple[dict[str, Any], Device]:
    raw_s: list[float] = []
    sdk_s: list[float] = []
    device: Device | None = None
    pulled = changes = 0
    for i in range(runs):
        seconds, changes = raw_pull(url)
        raw_s.append(seconds)
        if device is not None:
            device.close()
        seconds, pulled, device = sdk_catch_up(url, tmp / f"catch-up-{i}.db")
        sdk_s.append(seconds)
    assert device is not None
    raw, sdk = statistics.median(raw_s), statistics.median(sdk_s)
    return {
        "entities": changes,
        "sdk_pulled": pulled,
        "raw_pull_s": round(raw, 3),
        "sdk_sync_s": round(sdk, 3),
        "raw_runs_s": [round(s, 3) for s in raw_s],
        "sdk_runs_s": [round(s, 3) for s in sdk_s],
        "ratio_raw_over_sdk": round(raw / sdk, 3),
        "target_ratio": 0.5,
    }, device


def local_calls(device: Device, calls: int = 2000, pending: int = 500) -> dict[str, Any]:
    """update and get on the 20,000-entity store, with `pending` updates in the outbox."""
    rng = random.Random(7)
    customers = [f"cu-{i:06d}" for i in range(CATCH_UP_ENTITIES // 2)]
    for i in range(pending):
        device.update("customer", rng.choice(customers), {"phone": f"+46 8 {i:06d}"})
    writes: list[float] = []
    for i in range(calls):
        entity_id = rng.choice(customers)
        start = time.perf_counter()
        device.update("customer", entity_id, {"email": f"w{i}@example.com"})
        writes.append(time.perf_counter() - start)
    reads: list[float] = []
    for _ in range(calls):
        entity_id = rng.choice(customers)
        start = time.perf_counter()
        doc = device.get("customer", entity_id)
        reads.append(time.perf_counter() - start)
        assert doc is not None
    return {
        "calls": calls,
        "pending_before": pending,
        "pending_after": device.pending(),
        "update": summary_ms(writes),
        "get": summary_ms(reads),
        "targets_ms": {"update_p99": 5, "get_p99": 1},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--offline-ratio", type=float, default=0.5)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server worker processes"
    )
    parser.add_argument("--skip-fleet", action="store_true", help="only (b) and (c)")
    args = parser.parse_args()
    result: dict[str, Any] = {"workers": args.workers}
    with postgres(args.database_url) as admin_url:
        if not args.skip_fleet:
            with server(fresh_database(admin_url), workers=args.workers) as srv:
                result["fleet"] = fleet(srv.url, args.devices, args.minutes, args.offline_ratio)
            f = result["fleet"]
            print(
                f"fleet: {f['devices']} devices, {f['minutes']} min, offline ratio "
                f"{f['offline_ratio']}: {f['ops']} ops, {f['ops_per_s']} ops/s; sync p50 "
                f"{f['sync_p50_ms']} ms, p99 {f['sync_p99_ms']} ms; server RSS peak "
                f"{f['server_rss_peak_mb']} MB; lost {f['lost']}, duplicated "
                f"{f['duplicated']}, diverged {f['diverged']} (exit {f['exit_code']})"
            )
        with (
            server(fresh_database(admin_url), workers=args.workers) as srv,
            tempfile.TemporaryDirectory(prefix="fieldsync-bench-sdk-") as tmp,
        ):
            seed_catch_up(srv.url, CATCH_UP_ENTITIES)
            result["catch_up"], device = catch_up(srv.url, Path(tmp))
            c = result["catch_up"]
            print(
                f"catch-up of {c['entities']} entities: raw pull {c['raw_pull_s']} s, SDK sync "
                f"{c['sdk_sync_s']} s (medians of 3): raw/SDK {c['ratio_raw_over_sdk']}"
            )
            try:
                result["local"] = local_calls(device)
            finally:
                device.close()
            loc = result["local"]
            print(
                f"local, {loc['calls']} calls each on a {CATCH_UP_ENTITIES}-entity store with "
                f"{loc['pending_before']}+ pending: update p50 {loc['update']['p50_ms']} ms, "
                f"p99 {loc['update']['p99_ms']} ms; get p50 {loc['get']['p50_ms']} ms, "
                f"p99 {loc['get']['p99_ms']} ms"
            )
    print("wrote", write_result("sdk", result))


if __name__ == "__main__":
    main()
