"""Upgrading a database keeps what it holds: migrations run on data made by older ones."""

from __future__ import annotations

import json

import psycopg
from sqlalchemy import text

from schema.migrate import migrate, migrations
from syncserver.auth import Principal
from syncserver.db import create_engine
from syncserver.serverlog import current
from syncserver.storage.reads import job_detail, viewer
from tests.conftest import DatabaseFactory
from tests.support import run_async

# A job as migrations 1 to 8 stored it: who wrote each field was an object per field,
# kept in `entities.meta`.
_OLD_JOB = {
    "data": {"id": "j-1", "title": "Swap inverter", "status": "scheduled", "deleted": False},
    "meta": {
        "title": {
            "device_id": "phone-1",
            "user_id": "u-1",
            "seq": 3,
            "ts": 1764000000123,
            "tc": 2,
            "version": 5121,
        },
        "status": {
            "device_id": "~server",
            "user_id": "admin",
            "seq": 9,
            "ts": 1764000000999,
            "tc": 0,
            "version": 7169,
        },
    },
}


def _database_at_migration_8(databases: DatabaseFactory) -> str:
    url = databases.create()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (number int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in migrations()[:8]:
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (number, name) VALUES (%s, %s)",
                (migration.number, migration.name),
            )
        conn.execute(
            "INSERT INTO entities (entity, id, version, deleted, data, meta, change, created_at,"
            " updated_at) VALUES ('job', 'j-1', 7169, false, %s, %s, '{}', now(), now())",
            (json.dumps(_OLD_JOB["data"]), json.dumps(_OLD_JOB["meta"])),
        )
    return url


def test_upgrading_to_entity_meta_keeps_who_wrote_each_field(databases: DatabaseFactory) -> None:
    url = _database_at_migration_8(databases)

    async def upgrade_and_read() -> tuple[list[str], dict[str, object], dict[str, object]]:
        engine = create_engine(url, pool_size=1)
        try:
            applied = await migrate(engine)
            async with engine.connect() as conn:
                _, _, meta = await current(conn, "job", "j-1")
                detail = await job_detail(conn, "j-1", viewer(Principal("admin", "admin")))
                columns = (
                    await conn.execute(
                        text(
                            "SELECT column_name FROM information_schema.columns"
                            " WHERE table_name = 'entities' AND column_name = 'meta'"
                        )
                    )
                ).all()
            assert columns == [], "the wide column is gone from entities"
            assert detail is not None
            return applied, meta, json.loads(detail)["fields_meta"]
        finally:
            await engine.dispose()

    applied, meta, fields_meta = run_async(upgrade_and_read())

    assert applied[0] == "0009_entity_meta.sql"
    assert meta == _OLD_JOB["meta"]
    assert fields_meta == {
        field: {k: v for k, v in write.items() if k != "seq"}
        for field, write in _OLD_JOB["meta"].items()
    }
