"""Background work that runs every few seconds for the life of a server process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("syncserver.background")


async def every(seconds: float, work: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `work` every `seconds` until cancelled; a failure is logged and tried again
    next time (the database may be away for a while)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s failed, trying again: %s", what, exc)
