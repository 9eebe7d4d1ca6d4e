"""Hot-path statements run straight on the psycopg connection.

SQLAlchemy's own work per statement (cache key, execution context, the
greenlet hop, result wrapping) cost more CPU than psycopg's, about 240 us
against 150 on the development machine, and a push makes three statements.
These helpers run the same `text()` statements, their placeholders compiled
once, on the driver connection inside the caller's SQLAlchemy transaction,
prepared on the server; `transaction` also begins and commits there. Errors
are psycopg's (syncserver/app.py maps them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from psycopg import AsyncConnection as DriverConnection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import TextClause


@cache
def driver_sql(statement: TextClause, dialect: Dialect) -> str:
    """The statement with the driver's `%(name)s` placeholders."""
    return str(statement.compile(dialect=dialect))


async def connection(conn: AsyncConnection) -> DriverConnection[Any]:
    """The psycopg connection under `conn`, in the same transaction."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, DriverConnection)
    return driver


async def rows(
    conn: AsyncConnection, statement: TextClause, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row `statement` returns (none for a statement without results)."""
    driver = await connection(conn)
    async with driver.cursor() as cur:
        await cur.execute(driver_sql(statement, conn.dialect), params, prepare=True)
        return [] if cur.description is None else await cur.fetchall()


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection in a transaction that psycopg begins and commits (or
    rolls back on an exception): SQLAlchemy's `begin()` and commit cost twice the
    CPU. Run every statement of the block through `rows`."""
    async with engine.connect() as conn:
        driver = await connection(conn)
        async with driver.transaction():
            yield conn
