"""Whoever's pull a change alters is among the users realtime pokes for it.

The poke audience (changelog/visibility.py `AUDIENCE`) is the visibility rule read
backwards. Each change below is pushed by an admin; then every technician and
service provider pulls from where they were, and each one whose pull brings
something (an entity entering, changing or leaving their view) must have been in
the audience of that change's positions.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from changelog import pokes
from changelog.pull import pull
from changelog.push import push
from schema import wire
from schema.rights import Principal
from syncserver.db import create_engine
from syncserver.storage import users as user_store
from tests.changelog.database import migrated_database
from tests.conftest import DatabaseFactory

ADMIN = Principal("u-admin", "admin")
FIELD_USERS = {
    "t1": Principal("t1", "technician"),
    "t2": Principal("t2", "technician"),
    "p1": Principal("p1", "service_provider", ("north",)),
    "p2": Principal("p2", "service_provider", ("south",)),
}

SEED = [
    ("customer", "c1", "create", {"name": "Ann", "type": "commercial"}),
    ("customer", "c2", "create", {"name": "Bo", "type": "residential"}),
    ("location", "l1", "create", {"customer_id": "c1", "address": "1", "service_area": "north"}),
    ("location", "l2", "create", {"customer_id": "c2", "address": "2", "service_area": "south"}),
    ("location", "l3", "create", {"customer_id": "c1", "address": "3"}),
    ("contact", "k1", "create", {"customer_id": "c1", "name": "Kim"}),
    ("contact", "k2", "create", {"customer_id": "c2", "name": "Lo"}),
    ("job", "j1", "create", {"title": "A", "service_type": "repair", "customer_id": "c1",
                             "location_id": "l1", "technician_id": "t1"}),
    ("job", "j2", "create", {"title": "B", "service_type": "repair", "customer_id": "c2",
                             "location_id": "l2"}),
    ("job", "j3", "create", {"title": "C", "service_type": "repair", "customer_id": "c1",
                             "location_id": "l3", "technician_id": "t2"}),
    ("job_note", "n1", "create", {"job_id": "j1", "body": "gate code"}),
]  # fmt: skip

# Each change, in order, with what it does to whose view.
CHANGES: list[tuple[str, list[tuple[str, str, str, dict[str, Any] | None]]]] = [
    ("a job's field", [("job", "j1", "update", {"status": "scheduled"})]),
    ("a note on a job", [("job_note", "n2", "create", {"job_id": "j3", "body": "ladder"})]),
    ("a customer's name", [("customer", "c1", "update", {"name": "Ann B"})]),
    ("a contact of a customer", [("contact", "k3", "create", {"customer_id": "c2", "name": "M"})]),
    ("a contact moving customer", [("contact", "k1", "update", {"customer_id": "c2"})]),
    ("a job assigned to someone else", [("job", "j1", "update", {"technician_id": "t2"})]),
    ("a job unassigned", [("job", "j3", "update", {"technician_id": None})]),
    ("a location moving area", [("location", "l1", "update", {"service_area": "south"})]),
    ("a job moving location", [("job", "j2", "update", {"location_id": None})]),
    ("a location deleted", [("location", "l2", "delete", None)]),
    ("a job moving customer", [("job", "j1", "update", {"customer_id": "c2"})]),
    ("a note deleted", [("job_note", "n1", "delete", None)]),
    ("a job deleted", [("job", "j1", "delete", None)]),
]


@pytest.fixture(scope="module")
def database_url(databases: DatabaseFactory) -> str:
    return migrated_database(databases, [ADMIN, *FIELD_USERS.values()])


class _Admin:
    def __init__(self) -> None:
        self.seq = 0
        self.ts = 1_000

    def request(self, ops: list[tuple[str, str, str, dict[str, Any] | None]]) -> wire.PushRequest:
        batch = []
        for entity, entity_id, action, fields in ops:
            self.seq += 1
            self.ts += 1
            batch.append(
                wire.Op(seq=self.seq, ts=self.ts, entity=entity, id=entity_id, action=action,
                        fields=fields, base=0)
            )  # fmt: skip
        return wire.PushRequest(device_id="office", ops=batch)


async def _pull_all(engine: Any, who: Principal, cursor: str | None) -> tuple[list[Any], str]:
    """Everything the user's device gets from `cursor` on, and its cursor after."""
    changes: list[Any] = []
    while True:
        page = await pull(
            engine, who, wire.PullRequest(device_id=f"dev-{who.user_id}", cursor=cursor)
        )
        changes += msgspec.json.decode(page.changes)
        cursor = page.cursor
        if not page.has_more:
            return changes, cursor


def test_every_user_whose_pull_a_change_alters_is_poked(database_url: str) -> None:
    async def run() -> None:
        engine = create_engine(database_url, pool_size=2)
        admin = _Admin()
        settings = {"max_clock_skew_ms": 10**15, "technicians": user_store.active_technicians}
        try:
            seeded = await push(engine, ADMIN, admin.request(SEED), **settings)
            assert {r.status for r in seeded.results} == {"applied"}
            cursors = {}
            for name, who in FIELD_USERS.items():
                _, cursors[name] = await _pull_all(engine, who, None)
            altered_any: set[str] = set()
            for label, ops in CHANGES:
                response = await push(engine, ADMIN, admin.request(ops), **settings)
                versions = [r.version for r in response.results if r.status == "applied"]
                assert len(versions) == len(ops), (label, response.results)
                async with engine.connect() as conn:
                    audience = await pokes.interested_users(conn, min(versions) - 1, max(versions))
                altered = set()
                for name, who in FIELD_USERS.items():
                    changes, cursors[name] = await _pull_all(engine, who, cursors[name])
                    if changes:
                        altered.add(name)
                assert altered <= audience, (label, altered - audience)
                altered_any |= altered
            # The changes reach every kind of user, so the check above checked each.
            assert altered_any == set(FIELD_USERS)
        finally:
            await engine.dispose()

    asyncio.run(run())
