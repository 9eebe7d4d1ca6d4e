"""Upgrading a database keeps what it holds: migrations run on data made by older ones."""

from __future__ import annotations

import json

import psycopg
from sqlalchemy import text

from changelog import devicelog
from changelog.serverlog import current
from schema.migrate import migrate, migrations
from schema.rights import Principal
from syncserver.db import create_engine
from syncserver.storage.jobs import history
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


def _database_at(databases: DatabaseFactory, number: int) -> str:
    """A new database with migrations 1 to `number` applied, as `migrate` records them."""
    url = databases.create()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (number int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in migrations()[:number]:
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (number, name) VALUES (%s, %s)",
                (migration.number, migration.name),
            )
    return url


def _database_at_migration_8(databases: DatabaseFactory) -> str:
    url = _database_at(databases, 8)
    with psycopg.connect(url) as conn:
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


# Device log rows as migrations 1 to 9 stored them, one row per op: two pushes of one
# device (transactions 5 and 7, positions xid * 1024 + k) and one of another.
_LOG_COLUMNS = (
    "device_id, seq, position, user_id, op, entity, entity_id, action, status, error,"
    " version, lost_fields, received_at"
)
_OLD_LOG = [
    ("phone-1", 1, 5121, "u-1", '{"seq":1, "entity":"job","id":"j-1"}', "job", "j-1",
     "create", "applied", None, 5121, None, "2026-11-20 10:00:00.123+00"),
    ("phone-1", 2, 5122, "u-1", '{"seq":2,"x":"\\ud800 \\u0000"}', None, None, None,
     "rejected", {"code": "invalid_op", "message": "bad \"text\""}, None, None,
     "2026-11-20 10:00:00.123+00"),
    ("phone-1", 3, 7169, "u-1", '{"seq":3}', "job", "j-1", "update", "applied", None, 7169,
     ["status"], "2026-11-20 10:05:00+00"),
    ("tablet-2", 1, 7170, "u-2", '{"seq":1}', "job", "j-2", "create", "applied", None, 7170,
     None, "2026-11-20 10:05:00+00"),
]  # fmt: skip


def test_upgrading_to_batched_device_logs_keeps_every_op(databases: DatabaseFactory) -> None:
    url = _database_at(databases, 9)
    with psycopg.connect(url) as conn:
        for row in _OLD_LOG:
            conn.execute(
                f"INSERT INTO device_log ({_LOG_COLUMNS}) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [json.dumps(v) if isinstance(v, dict | list) else v for v in row],
            )
        before = conn.execute(f"SELECT {_LOG_COLUMNS} FROM device_log ORDER BY position").fetchall()

    async def upgrade_and_read() -> tuple[list[str], dict[int, str], list[str]]:
        engine = create_engine(url, pool_size=1)
        try:
            applied = await migrate(engine)
            async with engine.connect() as conn:
                stored = await devicelog.stored_ops(conn, "phone-1", [1, 2, 3])
                items, _ = await history(conn, "j-1", 0, 10)
            return applied, stored, [f"{i.device_id}/{i.seq}/{i.lost_fields}" for i in items]
        finally:
            await engine.dispose()

    applied, stored, job_history = run_async(upgrade_and_read())

    assert applied == ["0010_device_log_batches.sql", "0011_job_status_index.sql"]
    with psycopg.connect(url) as conn:
        after = conn.execute(f"SELECT {_LOG_COLUMNS} FROM device_log ORDER BY position").fetchall()
        pushes = conn.execute(
            "SELECT device_id, first_seq, last_seq, position FROM device_log_batches"
            " ORDER BY position"
        ).fetchall()
    assert after == before
    assert pushes == [("phone-1", 1, 2, 5121), ("phone-1", 3, 3, 7169), ("tablet-2", 1, 1, 7170)]
    assert stored == {seq: op for _, seq, _, _, op, *_ in _OLD_LOG[:3]}
    assert job_history == ["phone-1/1/[]", "phone-1/3/['status']"]
