"""WebSocket pokes (docs/protocol.md, "Realtime") across server processes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import DatabaseFactory
from tests.support import (
    ADMIN_TOKEN,
    Api,
    ServerProcess,
    customer_fields,
    job_fields,
    new_id,
    op,
)

POKE_WITHIN = 1.0  # seconds, docs/protocol.md, "Realtime" and the issue
QUIET_FOR = 1.5  # how long "no poke" is watched for


def ws_url(server: ServerProcess, token: str, device_id: str | None = None) -> str:
    device_id = device_id or new_id("sock-")
    return server.base_url.replace("http://", "ws://") + (
        f"/sync/ws?token={token}&device_id={device_id}"
    )


async def next_poke(socket: ClientConnection, within: float = POKE_WITHIN) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), within))
    assert message["type"] == "poke" and isinstance(message["version"], int)
    return dict(message)


async def poke_covering(
    socket: ClientConnection, version: int, within: float = POKE_WITHIN
) -> None:
    """Within `within` seconds, a poke for `version` or later (earlier ones may come first)."""
    deadline = time.monotonic() + within
    while (await next_poke(socket, max(0.0, deadline - time.monotonic())))["version"] < version:
        pass


async def no_poke(socket: ClientConnection, within: float = QUIET_FOR) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.recv(), within)


def push_customer(api: Api) -> int:
    r = api.push(new_id("dev-"), [op(1, "customer", new_id("c-"), fields=customer_fields())])
    assert r.status_code == 200
    return int(r.json()["results"][0]["version"])


async def in_thread(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


@pytest.fixture
def two_machines(databases: DatabaseFactory, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two `serve` processes sharing one database, as two machines behind a balancer."""
    url = databases.create()
    servers = [ServerProcess(url, tmp_path / f"m{i}") for i in range(2)]
    for s in servers:
        s.start()
    yield servers
    for s in servers:
        s.stop()


def test_a_push_on_one_machine_pokes_a_socket_on_the_other(
    two_machines: list[ServerProcess],
) -> None:
    a, b = two_machines

    async def scenario() -> None:
        async with websockets.connect(ws_url(a, ADMIN_TOKEN)) as socket:
            version = await in_thread(push_customer, b.api())
            await poke_covering(socket, version)

    asyncio.run(scenario())


def test_two_workers_poke_every_socket_whichever_took_the_push(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    server = ServerProcess(databases.create(), tmp_path / "data", SYNCSERVER_WORKERS="2")
    server.start()
    try:

        async def scenario() -> None:
            sockets = [await websockets.connect(ws_url(server, ADMIN_TOKEN)) for _ in range(6)]
            try:
                for _ in range(3):
                    version = await in_thread(push_customer, server.api())
                    started = time.monotonic()
                    for socket in sockets:
                        await poke_covering(
                            socket, version, POKE_WITHIN - (time.monotonic() - started)
                        )
            finally:
                for socket in sockets:
                    await socket.close()

        asyncio.run(scenario())
    finally:
        assert server.stop() == 0


def test_a_technician_is_poked_only_for_what_they_may_see(server: ServerProcess) -> None:
    admin = server.api()
    tech = admin.create_user("technician")
    token = admin.token_for(tech["id"])["token"]
    other = admin.create_user("technician")
    office, cid, mine, theirs = new_id("office-"), new_id("c-"), new_id("j-"), new_id("j-")
    admin.push(office, [op(1, "customer", cid, fields=customer_fields())])
    device = new_id("tablet-")

    async def scenario() -> None:
        async with websockets.connect(ws_url(server, token, device)) as socket:
            theirs_job = job_fields(cid, technician_id=other["id"])
            await in_thread(admin.push, office, [op(2, "job", theirs, fields=theirs_job)])
            await no_poke(socket)
            await in_thread(admin.push, office, [
                op(3, "job", mine, fields=job_fields(cid, technician_id=tech["id"]))])  # fmt: skip
            await next_poke(socket)
            # The tablet pulls, so the server knows it holds the job; moving the job
            # away from the technician then pokes them too (it leaves their view).
            r = await in_thread(Api(admin.base_url, token).pull, device)
            assert {c["id"] for c in r.json()["changes"]} >= {mine, cid}
            await in_thread(admin.push, office, [
                op(4, "job", mine, "update", {"technician_id": other["id"]})])  # fmt: skip
            await next_poke(socket)

    asyncio.run(scenario())


def test_a_socket_needs_a_valid_token_and_its_own_device(server: ServerProcess) -> None:
    admin = server.api()
    owner_token = admin.token_for(admin.create_user("technician")["id"])["token"]
    intruder_token = admin.token_for(admin.create_user("technician")["id"])["token"]
    device = new_id("tablet-")
    assert Api(admin.base_url, owner_token).pull(device).status_code == 200

    async def refused(url: str) -> tuple[int, dict[str, Any]]:
        with pytest.raises(websockets.InvalidStatus) as caught:
            async with websockets.connect(url):
                pass
        response = caught.value.response
        return response.status_code, json.loads(bytes(response.body or b""))

    status, body = asyncio.run(refused(ws_url(server, "not-a-token")))
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = asyncio.run(refused(ws_url(server, intruder_token, device)))
    assert (status, body["error"]["code"]) == (403, "device_taken")


def test_two_hundred_sockets_each_get_a_poke_for_every_burst(server: ServerProcess) -> None:
    async def scenario() -> None:
        sockets = [await websockets.connect(ws_url(server, ADMIN_TOKEN)) for _ in range(200)]
        try:
            for _ in range(3):
                api = server.api()
                versions = await asyncio.gather(*(in_thread(push_customer, api) for _ in range(5)))
                # Pokes coalesce: each socket soon gets one covering the whole burst.
                for socket in sockets:
                    await poke_covering(socket, max(versions), 3.0)
        finally:
            await asyncio.gather(*(s.close() for s in sockets))

    asyncio.run(scenario())


def test_a_dropped_socket_harms_nobody_and_a_restarted_server_serves_again(
    fresh_server: ServerProcess,
) -> None:
    async def scenario() -> None:
        dropped = await websockets.connect(ws_url(fresh_server, ADMIN_TOKEN))
        dropped.transport.abort()  # gone without a close frame
        async with websockets.connect(ws_url(fresh_server, ADMIN_TOKEN)) as socket:
            await in_thread(push_customer, fresh_server.api())
            await next_poke(socket)

    asyncio.run(scenario())
    assert fresh_server.stop() == 0
    fresh_server.start()

    async def after_restart() -> None:
        async with websockets.connect(ws_url(fresh_server, ADMIN_TOKEN)) as socket:
            start = time.monotonic()
            await in_thread(push_customer, fresh_server.api())
            await next_poke(socket)
            assert time.monotonic() - start < POKE_WITHIN + 1

    asyncio.run(after_restart())


def test_shutdown_closes_sockets_cleanly(fresh_server: ServerProcess) -> None:
    async def scenario() -> None:
        async with websockets.connect(ws_url(fresh_server, ADMIN_TOKEN)) as socket:
            assert await in_thread(fresh_server.stop) == 0
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # a poke may come first; then the close frame
                    await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None, "closed without a close frame"
            assert closed.value.rcvd.code in (1001, 1012), closed.value.rcvd

    asyncio.run(scenario())


def test_revoking_the_token_or_deactivating_the_user_closes_their_sockets(
    server: ServerProcess,
) -> None:
    admin = server.api()
    user = admin.create_user("technician")
    first, second = admin.token_for(user["id"]), admin.token_for(user["id"])

    async def closed_soon(socket: ClientConnection) -> int:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), 3)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    async def scenario() -> None:
        async with websockets.connect(ws_url(server, first["token"])) as revoked, \
                websockets.connect(ws_url(server, second["token"])) as kept:  # fmt: skip
            r = await in_thread(admin.http.delete, f"/api/tokens/{first['id']}")
            assert r.status_code == 204
            assert await closed_soon(revoked) == 1008
            await next_poke(kept)  # the user's other socket is told to pull, and stays
            r = await in_thread(
                lambda: admin.http.patch(f"/api/users/{user['id']}", json={"active": False})
            )
            assert r.status_code == 200
            assert await closed_soon(kept) == 1008

    asyncio.run(scenario())
