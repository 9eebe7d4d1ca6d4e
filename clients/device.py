"""A device SDK: an append-only op log with an HLC, push, pull and a local replica.

device = Device(base_url, token, "tab-042")
device.write("job", "J1", "update", {"status": "completed"})
device.push()          # sends the unacknowledged ops
device.pull()          # brings the replica up to date, collects notices
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Device:
    base_url: str
    token: str
    device_id: str
    http: httpx.Client | None = None
    seq: int = 0
    acked_seq: int = 0
    ts: int = 0
    tc: int = 0
    cursor: str | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)
    replica: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.http is None:
            self.http = httpx.Client(base_url=self.base_url, timeout=30)

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def tick(self) -> tuple[int, int]:
        """Advance the device's hybrid logical clock."""
        now = time.time_ns() // 1_000_000
        if now > self.ts:
            self.ts, self.tc = now, 0
        else:
            self.tc += 1
        return self.ts, self.tc

    def observe(self, server_time: int) -> None:
        if server_time > self.ts:
            self.ts, self.tc = server_time, 0

    def write(
        self,
        entity: str,
        entity_id: str,
        action: str,
        fields: dict[str, Any] | None = None,
        base: int | None = None,
    ) -> dict[str, Any]:
        """Append one op to the device log (sent by the next push)."""
        ts, tc = self.tick()
        self.seq += 1
        if base is None:
            seen = self.replica.get((entity, entity_id))
            base = seen["version"] if seen else 0
        op: dict[str, Any] = {
            "seq": self.seq,
            "ts": ts,
            "tc": tc,
            "entity": entity,
            "id": entity_id,
            "action": action,
            "base": base,
        }
        if fields is not None:
            op["fields"] = fields
        self.outbox.append(op)
        return op

    def push(self, batch_size: int = 1000) -> list[dict[str, Any]]:
        """Send every unacknowledged op; returns the responses."""
        assert self.http is not None
        responses = []
        while self.outbox:
            batch = self.outbox[:batch_size]
            r = self.http.post(
                "/sync/push",
                json={"device_id": self.device_id, "ops": batch},
                headers=self._headers,
            )
            r.raise_for_status()
            body = r.json()
            self.acked_seq = body["acked_seq"]
            self.observe(body["server_time"])
            self.outbox = [op for op in self.outbox if op["seq"] > self.acked_seq]
            for notice in body["conflicts"]:
                if notice["loser"]["device_id"] == self.device_id:
                    self.notices[notice["id"]] = notice
            responses.append(body)
        return responses

    def pull(self, limit: int = 1000) -> int:
        """Pull until caught up; returns how many changes were applied."""
        assert self.http is not None
        applied = 0
        while True:
            r = self.http.post(
                "/sync/pull",
                json={"device_id": self.device_id, "cursor": self.cursor, "limit": limit},
                headers=self._headers,
            )
            r.raise_for_status()
            body = r.json()
            self.apply(body["changes"])
            applied += len(body["changes"])
            for notice in body["notices"]:
                self.notices[notice["id"]] = notice
            self.cursor = body["cursor"]
            self.observe(body["server_time"])
            if not body["has_more"]:
                return applied

    def apply(self, changes: Iterable[dict[str, Any]]) -> None:
        for change in changes:
            key = (change["entity"], change["id"])
            if change.get("removed"):
                self.replica.pop(key, None)
            else:
                self.replica[key] = change["data"]
