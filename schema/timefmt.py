"""Times on the wire: integer ms since the epoch, or RFC 3339 in UTC with milliseconds."""

from __future__ import annotations

import time
from datetime import datetime


def rfc3339_ms(ms: int) -> str:
    """Matches the SQL function `rfc3339` of the initial migration."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(ms // 1000)) + f"{ms % 1000:03d}Z"


def rfc3339(dt: datetime) -> str:
    return rfc3339_ms(ms_of(dt))


def ms_of(dt: datetime) -> int:
    return int(round(dt.timestamp() * 1000))
