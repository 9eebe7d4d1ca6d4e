"""SQL for realtime pokes: announcing commits, and who may care about them.

A push announces its commit positions with NOTIFY inside its transaction, so
listeners hear of it only once it has committed (and never of a rollback).
Every server process LISTENs on one connection (syncserver/realtime.py).
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.devicelog import SAFE_POSITION
from changelog.visibility import AUDIENCE

CHANNEL = "fieldsync_commits"


class Announcement(msgspec.Struct, omit_defaults=True):
    lo: int = 0  # positions lo..hi were committed
    hi: int = 0
    users: list[str] = []  # these users' view changed (role, areas, active)


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def payload(announcement: Announcement) -> str:
    return msgspec.json.encode(announcement).decode()


async def announce(conn: AsyncConnection, announcement: Announcement) -> None:
    """Tell every server process, once this transaction commits. (A push announces
    from the merge's write statement, syncserver/storage/merge.py: one round trip fewer.)"""
    await conn.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload(announcement)})


_SAFE = text(f"SELECT {SAFE_POSITION}")


async def safe_position(conn: AsyncConnection) -> int:
    """Positions below this are final: a pull serves them (changelog/pages.py)."""
    return int((await conn.execute(_SAFE)).scalar_one())


_AUDIENCE = text(AUDIENCE)


async def interested_users(conn: AsyncConnection, lo: int, hi: int) -> set[str]:
    """Technicians and service providers who may care about positions (lo, hi]."""
    rows = await conn.execute(_AUDIENCE, {"lo": lo, "hi": hi})
    return {user_id for (user_id,) in rows}
