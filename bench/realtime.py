"""Realtime: push-to-poke latency with many sockets, and ingest across workers.

    python -m bench.realtime [--database-url URL]

- 500 sockets (admin tokens) on a 2-worker server; 40 pushes, 250 ms apart;
  for each push, the time from its response (the commit) until each socket
  receives a poke covering it: p50/p99 over every socket and push.
- The p50/p99 of a 200-op push with 8 clients, with no sockets open and with
  200 sockets open (one worker each time).
- bench/ingest.py's ingest with 1, 2 and 4 workers.

Writes bench/results/realtime.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import websockets

from bench import ingest
from bench.common import ADMIN_TOKEN, fresh_database, postgres, server, summary_ms, write_result
from bench.workload import op_stream


def _push_one(http: httpx.Client, device: str, seq: int) -> int:
    body = {
        "device_id": device,
        "ops": [
            {
                "seq": seq,
                "ts": int(time.time() * 1000),
                "tc": 0,
                "entity": "customer",
                "id": uuid.uuid4().hex,
                "action": "create",
                "base": 0,
                "fields": {"name": "Realtime bench", "type": "commercial"},
            }
        ],
    }
    r = http.post("/sync/push", json=body)
    r.raise_for_status()
    return int(r.json()["results"][0]["version"])


async def _connect(url: str, count: int) -> list[Any]:
    ws = url.replace("http://", "ws://")
    sockets = []
    for i in range(count):
        uri = f"{ws}/sync/ws?token={ADMIN_TOKEN}&device_id=bench-sock-{uuid.uuid4().hex[:12]}-{i}"
        sockets.append(await websockets.connect(uri, max_queue=None))
    return sockets


async def poke_latency(url: str, sockets_count: int = 500, pushes: int = 40) -> dict[str, Any]:
    sockets = await _connect(url, sockets_count)
    received: list[list[tuple[float, int]]] = [[] for _ in sockets]

    async def listen(i: int) -> None:
        async for message in sockets[i]:
            received[i].append((time.perf_counter(), json.loads(message)["version"]))

    listeners = [asyncio.create_task(listen(i)) for i in range(len(sockets))]
    commits: list[tuple[float, int]] = []
    device = f"bench-rt-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
        for seq in range(1, pushes + 1):
            version = await asyncio.to_thread(_push_one, http, device, seq)
            commits.append((time.perf_counter(), version))
            await asyncio.sleep(0.25)
    await asyncio.sleep(2)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    latencies, missed = [], 0
    for pokes in received:
        for committed_at, version in commits:
            first = next((at for at, v in pokes if v >= version and at >= committed_at), None)
            if first is None:
                missed += 1
            else:
                latencies.append(first - committed_at)
    return {"sockets": sockets_count, "pushes": pushes, "missed": missed, **summary_ms(latencies)}


async def push_latency_beside_sockets(url: str, sockets_count: int) -> dict[str, Any]:
    sockets = await _connect(url, sockets_count) if sockets_count else []

    async def drain(socket: Any) -> None:
        async for _ in socket:
            pass

    drains = [asyncio.create_task(drain(s)) for s in sockets]
    streams = op_stream(
        total_ops=40_000,
        prefix=f"rt-{uuid.uuid4().hex[:6]}",
        jobs_prefix=f"rtj-{uuid.uuid4().hex[:6]}",
    )
    result = await asyncio.to_thread(ingest.run, url, ADMIN_TOKEN, streams)
    for task in drains:
        task.cancel()
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return {"sockets": sockets_count, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with postgres(args.database_url) as admin_url:
        with server(fresh_database(admin_url), workers=2) as srv:
            ingest.prepare(srv.url, ADMIN_TOKEN)
            results["poke_latency"] = asyncio.run(poke_latency(srv.url))
        s = results["poke_latency"]
        print(
            f"push to poke, {s['sockets']} sockets on 2 workers: p50 {s['p50_ms']} ms, "
            f"p99 {s['p99_ms']} ms, missed {s['missed']}",
            flush=True,
        )
        with server(fresh_database(admin_url)) as srv:
            ingest.prepare(srv.url, ADMIN_TOKEN)
            runs = [asyncio.run(push_latency_beside_sockets(srv.url, n)) for n in (0, 200, 0, 200)]
        for n in (0, 200):
            best = min((r for r in runs if r["sockets"] == n), key=lambda r: r["p99_ms"])
            results[f"push_with_{n}_sockets"] = best
            print(
                f"200-op push with {n} sockets open: p50 {best['p50_ms']} ms, "
                f"p99 {best['p99_ms']} ms ({best['ops_per_s']} ops/s)",
                flush=True,
            )
        results["push_p99_ratio_200_sockets"] = round(
            results["push_with_200_sockets"]["p99_ms"] / results["push_with_0_sockets"]["p99_ms"], 3
        )
        scaling = {}
        for workers in (1, 2, 4):
            with server(fresh_database(admin_url), workers=workers) as srv:
                ingest.prepare(srv.url, ADMIN_TOKEN)
                scaling[workers] = ingest.run(srv.url, ADMIN_TOKEN, op_stream(total_ops=100_000))
            print(
                f"ingest with {workers} workers: {scaling[workers]['ops_per_s']} ops/s", flush=True
            )
        results["ingest_by_workers"] = scaling
    print("wrote", write_result("realtime", results))


if __name__ == "__main__":
    main()
