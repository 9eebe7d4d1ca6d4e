"""Ingest: ~100,000 ops from 48 devices, batches of 200, 8 concurrent HTTP clients.

    python -m bench.ingest [--database-url URL]

Prints ops/s and p50/p99 push latency and writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from bench.common import (
    ADMIN_TOKEN,
    fresh_database,
    postgres,
    run_threads,
    server,
    summary_ms,
    write_result,
)
from bench.workload import DeviceStream, op_stream, setup_ops


def prepare(url: str, token: str) -> None:
    r = httpx.post(
        f"{url}/sync/push",
        headers={"Authorization": f"Bearer {token}"},
        json={"device_id": "bench-setup", "ops": setup_ops()},
    )
    r.raise_for_status()


def run(
    url: str,
    token: str,
    streams: list[DeviceStream],
    clients: int = 8,
    device_tokens: dict[str, str] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Push every stream; each client owns every `clients`-th device, sent in log order.

    Every device pushes with `token`, or with its own from `device_tokens`. Setting
    `stop` ends the run early; the figures then cover what was pushed."""
    bodies = {
        s.device_id: [msgspec.json.encode({"device_id": s.device_id, "ops": b}) for b in s.batches]
        for s in streams
    }
    sizes = {s.device_id: [len(b) for b in s.batches] for s in streams}
    latencies: list[float] = []
    errors: list[str] = []
    pushed = [0]
    lock = threading.Lock()

    parsed = urlsplit(url)

    def client(i: int) -> None:
        # The standard library's client on one kept-alive connection: it leaves more of
        # the two cores to the server and PostgreSQL than httpx does (bench/README.md).
        mine = [s.device_id for s in streams[i::clients]]
        headers = {
            d: {
                "Authorization": f"Bearer {(device_tokens or {}).get(d, token)}",
                "Content-Type": "application/json",
            }
            for d in mine
        }
        conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
        try:
            rounds = max(len(bodies[d]) for d in mine) if mine else 0
            for r in range(rounds):
                for d in mine:
                    if r >= len(bodies[d]) or (stop is not None and stop.is_set()):
                        continue
                    start = time.perf_counter()
                    conn.request("POST", "/sync/push", body=bodies[d][r], headers=headers[d])
                    resp = conn.getresponse()
                    body = resp.read()
                    elapsed = time.perf_counter() - start
                    with lock:
                        latencies.append(elapsed)
                        pushed[0] += sizes[d][r]
                        if resp.status != 200:
                            errors.append(body[:200].decode(errors="replace"))
        finally:
            conn.close()

    seconds = run_threads(client, clients)
    ops = pushed[0]
    if errors:
        raise RuntimeError(f"{len(errors)} pushes failed, first: {errors[0]}")
    return {
        "ops": ops,
        "requests": len(latencies),
        "clients": clients,
        "seconds": round(seconds, 3),
        "ops_per_s": round(ops / seconds, 1),
        **summary_ms(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--ops", type=int, default=100_000)
    args = parser.parse_args()
    with postgres(args.database_url) as admin_url, server(fresh_database(admin_url)) as srv:
        prepare(srv.url, ADMIN_TOKEN)
        result = run(srv.url, ADMIN_TOKEN, op_stream(total_ops=args.ops))
    print(
        f"ingest: {result['ops_per_s']} ops/s over {result['ops']} ops; "
        f"push p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    )
    print("wrote", write_result("ingest", result))


if __name__ == "__main__":
    main()
