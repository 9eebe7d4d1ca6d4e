"""Helpers for the integration tests: a real server process and an HTTP API wrapper."""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

from clients import Device, SyncResult

T = TypeVar("T")

ADMIN_TOKEN = "test-admin-token-" + uuid.uuid4().hex

# Every HTTP client and device a test opens, closed after the test by an autouse fixture.
OPEN_CLIENTS: list[httpx.Client | Device] = []
ENTITY_KINDS = ("customer", "location", "contact", "job", "job_note", "job_photo")


def close_clients() -> None:
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


def device_store(device_id: str) -> Path:
    """A fresh path for a device's SQLite store, in a folder removed when tests end."""
    global _STORES
    if _STORES is None:
        _STORES = Path(tempfile.mkdtemp(prefix="fieldsync-devices-"))
        atexit.register(shutil.rmtree, _STORES, True)
    return _STORES / f"{device_id}-{uuid.uuid4().hex[:8]}.db"


_STORES: Path | None = None


def admin_token() -> str:
    return ADMIN_TOKEN


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:16]


class ServerProcess:
    """`syncserver serve` as a subprocess on a free loopback port."""

    def __init__(
        self,
        database_url: str | None,
        data_dir: Path,
        *,
        admin_token: str | None = ADMIN_TOKEN,
        **env: str,
    ) -> None:
        """database_url None: the embedded PostgreSQL in data_dir. admin_token None:
        the server generates one."""
        self.database_url = database_url
        self.admin_token = admin_token
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.output = ""  # what the last start printed, once healthy
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "SYNCSERVER_ADMIN_TOKEN")
        }
        env.update(SYNCSERVER_DATA_DIR=str(self.data_dir), SYNCSERVER_LOG_LEVEL="warning")
        if self.database_url is not None:
            env["DATABASE_URL"] = self.database_url
        if self.admin_token is not None:
            env["SYNCSERVER_ADMIN_TOKEN"] = self.admin_token
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30, *args: str) -> None:
        """Start `serve` (with `args`, e.g. "--demo") and wait for /healthz; what this
        start printed is then in `output`."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = ["serve", "--host", "127.0.0.1", "--port", str(self.port), *args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "syncserver.cli", *command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    self.output = self.log_path.read_bytes()[offset:].decode()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy: {self.log_path.read_text()}")

    def stop(self) -> int:
        """SIGTERM, wait, and return the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def api(self, token: str = ADMIN_TOKEN) -> Api:
        return Api(self.base_url, token)


class Api:
    """Thin HTTP wrapper: every call returns the httpx.Response."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.http = httpx.Client(
            base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        OPEN_CLIENTS.append(self.http)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is None:
            return self.http.post(path, **kwargs)
        return self.http.post(path, json=body, **kwargs)

    def list_all(self, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following next_cursor; checks each page's size."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page_params = {"limit": limit, **params} | ({"cursor": cursor} if cursor else {})
            r = self.get(path, **page_params)
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(page["items"]) <= limit
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def push(self, device_id: str, ops: list[dict[str, Any]]) -> httpx.Response:
        return self.post("/sync/push", {"device_id": device_id, "ops": ops})

    def pull(self, device_id: str, cursor: str | None = None, limit: int = 1000) -> httpx.Response:
        return self.post("/sync/pull", {"device_id": device_id, "cursor": cursor, "limit": limit})

    def create_user(self, role: str = "dispatcher", **fields: Any) -> dict[str, Any]:
        body = {"email": f"{new_id()}@example.com", "name": "Test User", "role": role, **fields}
        r = self.post("/api/users", body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def token_for(self, user_id: str, ttl_s: int | None = None) -> dict[str, Any]:
        r = self.post(f"/api/users/{user_id}/tokens", {"ttl_s": ttl_s} if ttl_s else {})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def user_api(self, role: str = "dispatcher") -> tuple[Api, dict[str, Any]]:
        user = self.create_user(role)
        return Api(self.base_url, self.token_for(user["id"])["token"]), user

    def device(self, device_id: str | None = None) -> Tablet:
        return Tablet(self.base_url, self.token, device_id or new_id("dev-"))


class Tablet:
    """A device of a test: the SDK's Device, with what tests look at beside it."""

    def __init__(self, base_url: str, token: str, device_id: str, path: Path | None = None) -> None:
        """path: an existing store of this device (to open it again), else a new one."""
        self.path = path or device_store(device_id)
        self.sdk = Device.open(base_url, token, device_id, self.path)
        OPEN_CLIENTS.append(self.sdk)
        self.token = token
        self.device_id = device_id

    def write(
        self, entity: str, entity_id: str, action: str, fields: dict[str, Any] | None = None
    ) -> int:
        if action == "delete":
            return self.sdk.delete(entity, entity_id)
        write = self.sdk.create if action == "create" else self.sdk.update
        return write(entity, entity_id, fields or {})

    def sync(self, limit: int = 1000) -> SyncResult:
        """Push what was written, then pull until caught up, `limit` changes a page."""
        self.sdk.pull_limit = limit
        return self.sdk.sync()

    push = pull = sync

    @property
    def cursor(self) -> str | None:
        return self.sdk._store.cursor

    @property
    def replica(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The entities the device holds, as the server sent them (its outbox empty)."""
        assert self.sdk.pending() == 0
        held = {}
        for kind in ENTITY_KINDS:
            for doc in self.sdk.query(kind):
                doc.pop("pending")
                held[(kind, doc["id"])] = doc
        return held


_tc = itertools.count()


def op(
    seq: int,
    entity: str,
    entity_id: str,
    action: str = "create",
    fields: dict[str, Any] | None = None,
    *,
    ts: int | None = None,
    tc: int | None = None,
    base: int = 0,
) -> dict[str, Any]:
    """One op. By default its HLC is now with an ever-growing counter, so the ops a
    test writes are in LWW order in the order it writes them."""
    body: dict[str, Any] = {
        "seq": seq,
        "ts": ts if ts is not None else time.time_ns() // 1_000_000,
        "tc": tc if tc is not None else next(_tc),
        "entity": entity,
        "id": entity_id,
        "action": action,
        "base": base,
    }
    if fields is not None:
        body["fields"] = fields
    return body


def customer_fields(**extra: Any) -> dict[str, Any]:
    return {"name": "Acme Batteries", "type": "commercial", **extra}


def job_fields(customer_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Install battery",
        "service_type": "installation",
        "customer_id": customer_id,
        **extra,
    }
