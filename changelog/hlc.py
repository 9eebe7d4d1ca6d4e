"""Server time for hybrid logical clocks: devices stamp ops with (ts, tc); the server
refuses a ts too far ahead of its own clock."""

from __future__ import annotations

import time


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def too_far_ahead(ts: int, server_ms: int, max_skew_ms: int) -> bool:
    return ts > server_ms + max_skew_ms
