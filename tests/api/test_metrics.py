"""GET /metrics (docs/protocol.md, "Operations"): Prometheus' text format, summed
over the worker processes of one `serve`, for an admin or the metrics token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DatabaseFactory
from tests.support import ServerProcess, customer_fields, new_id, op

SCRAPER = "scrape-me-please"
SERIES = (
    "fieldsync_http_requests_total",
    "fieldsync_http_request_duration_seconds_bucket",
    "fieldsync_push_ops_total",
    "fieldsync_conflicts_total",
    "fieldsync_pull_changes_total",
    "fieldsync_db_pool_connections",
    "fieldsync_ws_connections",
    "fieldsync_pokes_total",
)


@pytest.fixture
def two_workers(databases: DatabaseFactory, tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(databases.create(), tmp_path / "data", SYNCSERVER_METRICS_TOKEN=SCRAPER)
    proc.start(60, "--workers", "2")
    yield proc
    proc.stop()


def _scrape(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.base_url) as fresh:  # a new connection: any worker
        r = fresh.get("/metrics", headers={"Authorization": f"Bearer {SCRAPER}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def _value(text: str, series: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(series + "{") and not line.startswith(series + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_sum_every_worker_and_need_a_token(two_workers: ServerProcess) -> None:
    server = two_workers
    base = server.base_url
    assert httpx.get(f"{base}/metrics").status_code == 401
    technician = server.api().create_user("technician")
    token = server.api().post(f"/api/users/{technician['id']}/tokens", {}).json()["token"]
    assert (
        httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).status_code
        == 403
    )
    pushes = 16
    for _ in range(pushes):
        with httpx.Client(base_url=base) as fresh:  # each on a new connection
            r = fresh.post(
                "/sync/push",
                json={"device_id": new_id("m-"), "ops": [
                    op(1, "customer", new_id("c-"), fields=customer_fields())]},
                headers={"Authorization": f"Bearer {server.admin_token}"},
            )  # fmt: skip
            assert r.status_code == 200
    server.api().pull(new_id("p-"))
    for _ in range(4):  # whichever worker answers, it reports both workers' counts
        text = _scrape(server)
        for series in SERIES:
            assert re.search(rf"^{series}[ {{]", text, re.MULTILINE), series
        assert _value(text, "fieldsync_push_ops_total", status="applied") == pushes
        assert (
            _value(
                text,
                "fieldsync_http_requests_total",
                route="/sync/push",
                method="POST",
                status="200",
            )
            == pushes
        )
        assert _value(text, "fieldsync_pull_changes_total") >= pushes
    admin = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {server.admin_token}"})
    assert admin.status_code == 200
