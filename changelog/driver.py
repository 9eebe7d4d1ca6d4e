"""Hot-path statements run straight on the psycopg connection.

SQLAlchemy's own work per statement (cache key, execution context, the
greenlet hop, result wrapping) costs more CPU than psycopg's own, and a push
makes three statements (bench/README.md has the figures).
These helpers run the same `text()` statements on the driver connection
inside the caller's SQLAlchemy transaction, prepared on the server;
`transaction` also begins and commits there.

They use PostgreSQL's own `$1` placeholders (a raw cursor), converted once
per statement: psycopg caches its own conversion only for statements under
4 kB, and re-parsed the longer ones on every call. Errors are psycopg's
(syncserver/app.py maps them).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from psycopg import AsyncConnection as DriverConnection
from psycopg import AsyncRawCursor, pq
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import TextClause

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@cache
def native_sql(statement: TextClause, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The statement with `$n` placeholders, and the parameter name of each n."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        return f"${names.setdefault(match.group(1), len(names) + 1)}"

    sql = _PLACEHOLDER.sub(number, str(statement.compile(dialect=dialect)))
    return sql, tuple(names)


async def connection(conn: AsyncConnection) -> DriverConnection[Any]:
    """The psycopg connection under `conn`, in the same transaction."""
    sync = conn.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        # Established: reading it does no I/O, so no hop into SQLAlchemy's greenlet
        # (`get_raw_connection` makes one, and a push asks four times).
        raw = sync.connection
    else:
        raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, DriverConnection)
    return driver


def cursor(driver: DriverConnection[Any]) -> AsyncRawCursor[Any]:
    return AsyncRawCursor(driver)


async def execute(
    cur: AsyncRawCursor[Any], conn: AsyncConnection, statement: TextClause, params: dict[str, Any]
) -> None:
    """Run `statement` on a cursor of `cursor`, prepared."""
    sql, names = native_sql(statement, conn.dialect)
    await cur.execute(sql, [params[name] for name in names], prepare=True)


async def rows(
    conn: AsyncConnection, statement: TextClause, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row `statement` returns (none for a statement without results)."""
    async with cursor(await connection(conn)) as cur:
        await execute(cur, conn, statement, params)
        result = cur.pgresult
        if result is None or result.status != pq.ExecStatus.TUPLES_OK:
            return []
        return await cur.fetchall()


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection in a transaction that psycopg begins and commits (or
    rolls back on an exception): SQLAlchemy's `begin()` and commit cost more
    CPU. Run every statement of the block through `rows`."""
    async with engine.connect() as conn:
        driver = await connection(conn)
        async with driver.transaction():
            yield conn
