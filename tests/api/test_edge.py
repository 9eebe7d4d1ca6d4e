"""What every answer carries, what the logs hold, and bodies no decoder can take
(docs/protocol.md, "Operations" and "Errors"), over real HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import DatabaseFactory
from tests.support import ADMIN_TOKEN, ServerProcess, new_id, op

APP_ORIGIN = "https://dispatch.example.com"


@pytest.fixture(scope="module")
def logged_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server that logs every request (level info) and lets one origin in by CORS."""
    proc = ServerProcess(
        databases.create(),
        tmp_path_factory.mktemp("data"),
        SYNCSERVER_LOG_LEVEL="info",
        SYNCSERVER_CORS_ORIGINS=f"{APP_ORIGIN}, https://other.example.com",
    )
    proc.start()
    yield proc
    proc.stop()


def test_every_answer_carries_the_security_headers_and_a_request_id(
    server: ServerProcess,
) -> None:
    api = server.api()
    for r in (api.http.get("/api/jobs"), api.http.get("/healthz"), api.http.get("/nowhere")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
        assert "server" not in r.headers  # no banner
    own = api.http.get("/api/jobs", headers={"X-Request-Id": "trace.42-a"})
    assert own.headers["x-request-id"] == "trace.42-a"
    odd = api.http.get("/api/jobs", headers={"X-Request-Id": "no spaces allowed"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])


def test_html_answers_may_not_be_framed_and_load_scripts_only_from_the_server(
    server: ServerProcess,
) -> None:
    for path in ("/ui", "/docs"):
        r = httpx.get(f"{server.base_url}{path}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.headers["x-frame-options"] == "DENY"
        policy = dict(
            part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";")
        )
        assert "'unsafe-inline'" not in r.headers["content-security-policy"]
        # The page's own scripts only: from its origin, or inline ones it names by hash.
        for source in policy["script-src"].split():
            assert source == "'self'" or re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", source), path
    ui = httpx.get(f"{server.base_url}/ui").headers["content-security-policy"]
    assert "script-src 'self';" in ui and "style-src 'self';" in ui and "font-src 'self';" in ui
    assert "frame-ancestors 'none'" in ui


def test_readiness_answers_while_the_database_does(server: ServerProcess) -> None:
    r = httpx.get(f"{server.base_url}/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [971, 5000, 100_000])
def test_json_nested_any_depth_is_an_invalid_request_never_a_500(
    server: ServerProcess, depth: int
) -> None:
    api = server.api()
    device = new_id("deep-")
    push = (
        b'{"device_id": "' + device.encode() + b'", "ops": [{"seq": 1, "ts": 1, "entity": "job",'
        b' "id": "j1", "action": "update", "fields": {"title": ' + _nested(depth) + b"}}]}"
    )
    for path, body in (
        ("/sync/push", push),
        ("/sync/pull", b'{"device_id": "d", "cursor": ' + _nested(depth) + b"}"),
        ("/api/users", b'{"email": ' + _nested(depth) + b"}"),
    ):
        r = api.http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), path
    # The connection stays usable, and nothing of the refused push was logged.
    assert api.http.get("/healthz").status_code == 200
    first = api.push(
        device, [op(1, "customer", new_id("c-"), fields={"name": "A", "type": "commercial"})]
    )
    assert first.json()["acked_seq"] == 1


def test_a_lone_surrogate_outside_a_push_is_an_invalid_request(server: ServerProcess) -> None:
    api = server.api()
    for path in ("/api/users/nobody", "/api/users/admin"):
        r = api.http.patch(
            path, content=b'{"name": "a\\ud800b"}', headers={"Content-Type": "application/json"}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), path


def test_log_lines_are_json_with_the_request_and_never_a_token(
    logged_server: ServerProcess,
) -> None:
    api = logged_server.api()
    before = logged_server.log_path.stat().st_size
    api.http.get("/api/jobs", headers={"X-Request-Id": "find-me-1"})
    api.http.get("/api/jobs?q=pump", headers={"Authorization": "Bearer wrong-token-xyz"})

    async def socket() -> None:
        url = logged_server.base_url.replace("http://", "ws://")
        async with websockets.connect(f"{url}/sync/ws?token={ADMIN_TOKEN}&device_id=log-dev"):
            pass

    asyncio.run(socket())
    httpx.get(f"{logged_server.base_url}/blobs/some/key.jpg?expires=1&sig=secret-signature")
    lines = _lines_after(logged_server.log_path, before, wanted=4)
    text = "\n".join(lines)
    for secret in (ADMIN_TOKEN, "wrong-token-xyz", "secret-signature", "pump"):
        assert secret not in text
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        assert {"ts", "level", "msg"} <= set(entry)
    found = {e["request_id"]: e for e in entries if "request_id" in e}
    mine = found["find-me-1"]
    assert (mine["method"], mine["path"], mine["status"]) == ("GET", "/api/jobs", 200)
    assert mine["user_id"] == "admin" and mine["duration_ms"] >= 0
    paths = {(e["method"], e["path"], e["status"]) for e in found.values()}
    assert ("WS", "/sync/ws", 101) in paths
    assert ("GET", "/api/jobs", 401) in paths


def _lines_after(path: Path, offset: int, wanted: int) -> list[str]:
    """The server's log lines written after `offset`, once at least `wanted` are there."""
    for _ in range(50):
        with open(path, "rb") as f:
            f.seek(offset)
            lines = [line for line in f.read().decode().splitlines() if line.strip()]
        if sum('"request_id"' in line for line in lines) >= wanted:
            return lines
        asyncio.run(asyncio.sleep(0.1))
    raise AssertionError(f"only these lines were logged: {lines}")


def test_listed_origins_get_cors_headers_and_others_none(logged_server: ServerProcess) -> None:
    base = logged_server.base_url
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    ok = httpx.options(f"{base}/sync/push", headers={"Origin": APP_ORIGIN, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == APP_ORIGIN
    allowed = {h.strip().lower() for h in ok.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    get = httpx.get(
        f"{base}/api/jobs",
        headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert get.headers["access-control-allow-origin"] == APP_ORIGIN
    foreign = httpx.options(
        f"{base}/sync/push", headers={"Origin": "https://evil.example.net", **preflight}
    )
    assert foreign.status_code == 405 and "access-control-allow-origin" not in foreign.headers
    plain = httpx.get(
        f"{base}/api/jobs",
        headers={"Origin": "https://evil.example.net", "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers
