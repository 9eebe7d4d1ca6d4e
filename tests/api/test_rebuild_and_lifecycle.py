"""`syncserver rebuild` reproduces what was served; serve drains on SIGTERM and exits 0."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.support import ServerProcess, customer_fields, job_fields, new_id, op

SNAPSHOT_SQL = {
    "entities": "SELECT entity, id, version, deleted, data::text, change, created_at,"
    " updated_at FROM entities ORDER BY entity, id",
    "entity_meta": "SELECT entity, id, meta::text FROM entity_meta ORDER BY entity, id",
    "notices": "SELECT seq, id, entity, entity_id, field, status, winner::text, loser::text,"
    " position, detected_at, resolution::text FROM notices ORDER BY seq",
    "job_numbers": "SELECT job_id, number FROM job_numbers ORDER BY job_id",
}


def snapshot(database_url: str) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    with psycopg.connect(database_url) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in SNAPSHOT_SQL.items()}


def busy_history(server: ServerProcess) -> None:
    api = server.api()
    a, b, c = new_id("a-"), new_id("b-"), new_id("c-")
    cid = new_id("cust-")
    created = api.push(
        a,
        [op(1, "customer", cid, fields=customer_fields())]
        + [op(i, "job", f"job-{i}", fields=job_fields(cid)) for i in range(2, 12)],
    ).json()
    base = created["results"][-1]["version"]
    t = time.time_ns() // 1_000_000
    api.push(
        a,
        [
            op(12, "job", "job-3", "update", {"status": "completed"}, ts=t, base=base),
            op(13, "job", "job-4", "delete", ts=t, base=base),
        ],
    )
    api.push(
        b,
        [
            op(
                1,
                "job",
                "job-3",
                "update",
                {"status": "on_hold", "title": "B"},
                ts=t - 1,
                base=base,
            ),
            op(2, "job", "job-4", "update", {"title": "late"}, ts=t + 1, base=base),
            op(3, "job", "job-5", "delete", ts=t + 2, base=base),
            op(4, "job", "nope", "update", {"title": "x"}),
        ],
    )
    api.push(
        c,
        [
            op(1, "job", "job-5", "update", {"priority": "high"}, ts=t + 3, base=base),
            op(2, "job_note", new_id(), fields={"job_id": "job-6", "body": "note"}),
            op(3, "job", "job-12", fields=job_fields(cid, title="from c")),
        ],
    )


def resolve_some(server: ServerProcess) -> None:
    """Resolve notices every way there is: resolutions must survive a rebuild."""
    api = server.api()
    notices = api.list_all("/api/conflicts", limit=50)
    actions = ["apply_loser", "keep_winner", "set"]
    for i, notice in enumerate(notices):
        body: dict[str, object] = {"action": actions[i % 3]}
        if body["action"] == "set":
            value = {"deleted": True, "title": "Set by an admin"}.get(notice["field"])
            body = {"action": "keep_winner"} if value is None else body | {"value": value}
        r = api.post(f"/api/conflicts/{notice['id']}/resolve", body)
        assert r.status_code == 200, r.text
    assert any(
        n["resolution"] and n["resolution"]["op"] for n in api.list_all("/api/conflicts", limit=50)
    )


def test_rebuild_recomputes_exactly_what_was_served(fresh_server: ServerProcess) -> None:
    busy_history(fresh_server)
    resolve_some(fresh_server)
    pulled_before = fresh_server.api().pull(new_id("r-")).json()["changes"]
    before = snapshot(fresh_server.database_url)
    assert len(before["notices"]) >= 3
    beside = subprocess.run(
        [sys.executable, "-m", "syncserver.cli", "rebuild"],
        env=fresh_server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert beside.returncode == 1 and "a server is serving this database" in beside.stderr
    assert snapshot(fresh_server.database_url) == before  # refused: nothing touched
    assert fresh_server.stop() == 0

    result = subprocess.run(
        [sys.executable, "-m", "syncserver.cli", "rebuild"],
        env=fresh_server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Rebuilt" in result.stdout
    assert snapshot(fresh_server.database_url) == before

    fresh_server.start()
    assert fresh_server.api().pull(new_id("r-")).json()["changes"] == pulled_before


def test_serve_exits_0_on_sigterm(fresh_server: ServerProcess) -> None:
    assert fresh_server.api().get("/healthz").status_code == 200
    assert fresh_server.stop() == 0


def test_the_embedded_server_keeps_data_across_restarts_and_prints_a_generated_token_once(
    tmp_path: Path,
) -> None:
    first = ServerProcess(None, tmp_path / "data", admin_token=None)
    first.start(timeout=60)
    try:
        log = first.log_path.read_text()
        [line] = [line for line in log.splitlines() if "Generated admin token" in line]
        token = line.rsplit(" ", 1)[1]
        api = first.api(token)
        cid = new_id("c-")
        assert (
            api.push(new_id("d-"), [op(1, "customer", cid, fields=customer_fields())]).status_code
            == 200
        )
    finally:
        assert first.stop() == 0

    second = ServerProcess(None, tmp_path / "data", admin_token=None)
    second.log_path = tmp_path / "second.log"
    second.start(timeout=60)
    try:
        assert "Generated admin token" not in second.log_path.read_text()
        assert second.api(token).get(f"/api/customers/{cid}").status_code == 200
    finally:
        assert second.stop() == 0
