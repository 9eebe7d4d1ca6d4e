"""A database that hangs or goes away: requests answer 503 `unavailable` with
`Retry-After` within the request timeout (never a hang, never a 500), /readyz says
so, and service resumes by itself once the database is back (docs/settings.md,
`request_timeout_s`)."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support import ServerProcess, customer_fields, new_id, op

REQUEST_TIMEOUT_S = 2.0


@pytest.fixture
def own_database_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server on an embedded PostgreSQL of its own, which the test may freeze."""
    proc = ServerProcess(
        None, tmp_path / "data", SYNCSERVER_REQUEST_TIMEOUT_S=str(REQUEST_TIMEOUT_S)
    )
    proc.start(timeout=60)
    yield proc
    _signal_postgres(proc, signal.SIGCONT)
    proc.stop()


def _postgres(server: ServerProcess) -> list[psutil.Process]:
    pid = int((server.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


def _signal_postgres(server: ServerProcess, sig: signal.Signals) -> None:
    for process in _postgres(server):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(sig)


def _push(server: ServerProcess, device: str, seq: int) -> httpx.Response:
    return server.api().push(device, [op(seq, "customer", new_id("c-"), fields=customer_fields())])


def test_a_hanging_database_answers_503_in_time_and_service_resumes(
    own_database_server: ServerProcess,
) -> None:
    server = own_database_server
    device = new_id("dev-")
    assert _push(server, device, 1).status_code == 200
    _signal_postgres(server, signal.SIGSTOP)
    try:
        started = time.monotonic()
        frozen = _push(server, device, 2)
        took = time.monotonic() - started
        assert frozen.status_code == 503 and frozen.json()["error"]["code"] == "unavailable"
        assert frozen.headers["retry-after"] == "5"
        assert took < REQUEST_TIMEOUT_S + 1.5, took
        ready = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200  # the process is up
    finally:
        _signal_postgres(server, signal.SIGCONT)
    deadline = time.monotonic() + 20
    while True:
        again = _push(server, device, 2)
        if again.status_code == 200 or time.monotonic() > deadline:
            break
        assert again.status_code == 503, again.text
        time.sleep(0.2)
    assert again.status_code == 200, again.text
    # The op cut off while the database hung was not half-applied: seq 2 is new.
    assert again.json()["results"][0]["status"] == "applied"
    assert httpx.get(f"{server.base_url}/readyz").status_code == 200
