"""Hybrid logical clocks: (ms, counter) pairs ordered with the device id."""

from __future__ import annotations

import time
from dataclasses import dataclass


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class HybridClock:
    """A server-side HLC for server-originated ops, advanced past every time it sees."""

    ts: int = 0
    tc: int = 0

    def observe(self, ts: int, tc: int) -> None:
        if (ts, tc) > (self.ts, self.tc):
            self.ts, self.tc = ts, tc

    def tick(self, now_ms: int | None = None) -> tuple[int, int]:
        now = wall_ms() if now_ms is None else now_ms
        if now > self.ts:
            self.ts, self.tc = now, 0
        else:
            self.tc += 1
        return self.ts, self.tc


def too_far_ahead(ts: int, server_ms: int, max_skew_ms: int) -> bool:
    return ts > server_ms + max_skew_ms
