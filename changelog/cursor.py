"""Pull cursors: opaque to clients, `v1.<after>.<horizon>.<notices>` inside.

- after: the commit position of the last change delivered;
- horizon: the commit position when the sync began from a null cursor. A
  deleted entity at or below it was never delivered, so it is not sent as
  `removed`;
- notices: the highest notice sequence delivered with this page; presenting
  the cursor acknowledges them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORMAT = re.compile(r"^v1\.(\d{1,19})\.(\d{1,19})\.(\d{1,19})$")


@dataclass(frozen=True, slots=True)
class Cursor:
    after: int = 0
    horizon: int = 0
    notices: int = 0

    def encode(self) -> str:
        return f"v1.{self.after}.{self.horizon}.{self.notices}"


def decode_cursor(value: str) -> Cursor:
    match = _FORMAT.match(value)
    if not match:
        raise ValueError("cursor is not one this server issued")
    after, horizon, notices = (int(g) for g in match.groups())
    if max(after, horizon, notices) >= 2**63:
        raise ValueError("cursor is not one this server issued")
    return Cursor(after, horizon, notices)
