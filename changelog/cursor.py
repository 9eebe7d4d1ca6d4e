"""Pull cursors: opaque to clients; inside, `v1.<after>.<horizon>.<notices>[.<held>]`.

- after: the commit position of the last change delivered;
- horizon: the commit position when the sync began from a null cursor. A
  deleted entity at or below it was never delivered, so it is not sent as
  `removed`;
- notices: the highest notice sequence delivered with this page; presenting
  the cursor acknowledges them;
- held (technicians and service providers only): the `pull_sets` row listing
  what the device holds after this page (changelog/restricted.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schema.errors import InvalidRequest

_FORMAT = re.compile(r"^v1\.(\d{1,19})\.(\d{1,19})\.(\d{1,19})(?:\.(\d{1,19}))?$")


@dataclass(frozen=True, slots=True)
class Cursor:
    after: int = 0
    horizon: int = 0
    notices: int = 0
    held: int | None = None

    def encode(self) -> str:
        held = "" if self.held is None else f".{self.held}"
        return f"v1.{self.after}.{self.horizon}.{self.notices}{held}"


def _not_ours() -> InvalidRequest:
    return InvalidRequest("cursor is not one this server issued", {"field": "cursor"})


def decode_cursor(value: str) -> Cursor:
    """The cursor a pull presents; `invalid_request` if this server did not issue it."""
    match = _FORMAT.match(value)
    if not match:
        raise _not_ours()
    after, horizon, notices = (int(g) for g in match.groups()[:3])
    held = None if match.group(4) is None else int(match.group(4))
    if max(after, horizon, notices, held or 0) >= 2**63:
        raise _not_ours()
    return Cursor(after, horizon, notices, held)
