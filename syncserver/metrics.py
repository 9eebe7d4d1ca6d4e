"""Prometheus metrics (docs/protocol.md, "Operations"), summed over every worker.

`serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before any worker
imports prometheus-client, so each worker writes its samples there and `GET
/metrics` in any of them reads them all (prometheus-client's multiprocess mode).
Run without `serve` (an app made in a test, say), the samples are the process's own.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Where requests that match no route of the table are counted.
_PREFIXES = (
    ("/ui", "/ui"),
    ("/blobs/", "/blobs/{key}"),
    ("/sdk/", "/sdk/fieldsync.js"),
    ("/sync/ws", "/sync/ws"),
    ("/docs", "/docs"),
    ("/openapi.json", "/openapi.json"),
    ("/metrics", "/metrics"),
)


def route_of(path: str) -> str:
    """The route label of a path no JSON route claimed (bounded: never the path)."""
    for prefix, route in _PREFIXES:
        if path.startswith(prefix):
            return route
    return "unmatched"


class Metrics:
    """The server's series, in a registry of their own (no module-level state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "fieldsync_http_requests", "HTTP requests answered", ["route", "method", "status"],
            registry=r,
        )  # fmt: skip
        self.duration = Histogram(
            "fieldsync_http_request_duration_seconds", "Time to answer a request", ["route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip
        self.push_ops = Counter(
            "fieldsync_push_ops", "Ops pushed, by result", ["status"], registry=r
        )
        self.conflicts = Counter("fieldsync_conflicts", "Conflict notices made", registry=r)
        self.pull_changes = Counter("fieldsync_pull_changes", "Changes served by pull", registry=r)
        self.pool = Gauge(
            "fieldsync_db_pool_connections", "Database connections of the pools", ["state"],
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.sockets = Gauge(
            "fieldsync_ws_connections", "Open realtime sockets", registry=r,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.pokes = Counter("fieldsync_pokes", "Pokes sent to sockets", registry=r)
        self._pool: Any = None

    def watch_pool(self, pool: Any) -> None:
        """Report this SQLAlchemy pool's connections with every request."""
        self._pool = pool

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route).observe(seconds)
        if self._pool is not None:
            self.pool.labels("in_use").set(self._pool.checkedout())
            self.pool.labels("idle").set(self._pool.checkedin())

    def exposition(self) -> bytes:
        """The text format of every worker's samples (or this process's alone)."""
        if os.environ.get(MULTIPROC_DIR):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))
