"""The device's hybrid logical clock, running on the server's time.

A stamp is `now = wall clock + server offset`; past the last stamp's `ts` it is
`(now, 0)`, else `(last ts, last tc + 1)`. So stamps only grow, and a device whose
wall clock is off still stamps near the server's time once it has seen it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple


class Stamp(NamedTuple):
    ts: int
    tc: int


def system_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    def __init__(self, wall: Callable[[], int] | None = None) -> None:
        self.wall = wall or system_ms
        self.last = Stamp(0, 0)
        self.offset = 0  # server time minus the wall clock, in ms

    def restore(self, last: Stamp, offset: int) -> None:
        self.last, self.offset = last, offset

    def tick(self) -> Stamp:
        now = int(self.wall()) + self.offset
        self.last = Stamp(now, 0) if now > self.last.ts else Stamp(self.last.ts, self.last.tc + 1)
        return self.last
