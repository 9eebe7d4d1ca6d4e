"""A fresh, migrated database with the given users, for tests of the engine itself."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from schema.migrate import migrate
from schema.rights import Principal
from syncserver.db import create_engine
from tests.conftest import DatabaseFactory


def migrated_database(databases: DatabaseFactory, users: list[Principal]) -> str:
    """The URL of a new database, migrated, holding these users."""
    url = databases.create()

    async def setup() -> None:
        engine = create_engine(url, pool_size=1)
        await migrate(engine)
        async with engine.begin() as conn:
            for who in users:
                await conn.execute(
                    text(
                        "INSERT INTO users (id, email, name, role, service_areas)"
                        " VALUES (:id, :id || '@test', :id, :role, :areas)"
                    ),
                    {"id": who.user_id, "role": who.role, "areas": list(who.service_areas)},
                )
        await engine.dispose()

    asyncio.run(setup())
    return url
