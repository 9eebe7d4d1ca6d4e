"""A pull page's JSON text straight from PostgreSQL, as bytes.

A page is one text value of megabytes. Loaded the usual way, it would be
decoded to `str` and encoded back to bytes for the response: two passes
over every byte for nothing. This runs the page statement on the driver
connection with `text` results loaded as bytes; every other column
type loads as usual.
"""

from __future__ import annotations

from typing import Any

from psycopg.abc import Buffer
from psycopg.adapt import Loader
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from changelog.driver import connection, cursor, execute


class _TextAsBytes(Loader):
    def load(self, data: Buffer) -> bytes:
        return bytes(data)


async def one_row(
    conn: AsyncConnection, statement: TextClause, params: dict[str, Any]
) -> tuple[Any, ...]:
    """The single row `statement` returns, its text columns as bytes."""
    async with cursor(await connection(conn)) as cur:
        cur.adapters.register_loader("text", _TextAsBytes)
        await execute(cur, conn, statement, params)
        row = await cur.fetchone()
    assert row is not None
    return tuple(row)
