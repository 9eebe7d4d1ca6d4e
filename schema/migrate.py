"""Versioned migrations: numbered SQL files, each applied in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any 64-bit key will do; it only has to be the same in every server process.
_LOCK_KEY = 0x6669656C6473


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("schema.migrations").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


async def migrate(engine: AsyncEngine) -> list[str]:
    """Apply every migration not yet applied; safe to run from many processes at once."""
    applied: list[str] = []
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            await conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " number int PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
            )
            await conn.commit()
            done = set((await conn.execute(text("SELECT number FROM schema_migrations"))).scalars())
            await conn.commit()
            for migration in migrations():
                if migration.number in done:
                    continue
                async with conn.begin():
                    # The file as written: straight to the driver, with no parameters,
                    # so that a `%` in it is a character and not a placeholder.
                    driver = (await conn.get_raw_connection()).driver_connection
                    assert driver is not None
                    await driver.execute(migration.sql)
                    await conn.execute(
                        text("INSERT INTO schema_migrations (number, name) VALUES (:n, :name)"),
                        {"n": migration.number, "name": migration.name},
                    )
                applied.append(migration.name)
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            await conn.commit()
    return applied
