"""GET /api/jobs (docs/protocol.md, "Read APIs") against an independent model: a few
thousand random jobs, every filter combined freely, each sort, every page
boundary, and rows changing between pages."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import Api, ServerProcess, Tablet, new_id

STATUSES = ["unscheduled", "scheduled", "dispatched", "in_progress", "on_hold", "completed"]
SERVICE_TYPES = ["installation", "maintenance", "repair", "inspection"]
PRIORITIES = ["low", "normal", "high", "urgent"]
WORDS = ["battery", "inverter", "Cell", "north", "ÅSA", "fuse", "panel", "grid"]
RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
JOBS = 2000


def _when(rng: random.Random) -> str | None:
    """A scheduled date, or none; in several offsets, so text order is not time order."""
    if rng.random() < 0.2:
        return None
    at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
    offset = rng.choice([0, 2, -5])
    local = at.astimezone(UTC) + timedelta(hours=offset)
    suffix = "Z" if offset == 0 else f"{offset:+03d}:00"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + suffix


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


class World:
    def __init__(self, api: Api, rng: random.Random) -> None:
        self.api = api
        self.device = api.device(new_id("office-"))
        tag = new_id("t")  # this module's jobs only: other modules share the server
        self.technicians = [api.create_user("technician")["id"] for _ in range(4)]
        self.customers = {f"{tag}-c{i}": f"{rng.choice(WORDS)} Storage {i}" for i in range(30)}
        for cid, name in self.customers.items():
            self.device.write("customer", cid, "create", {"name": name, "type": "commercial"})
        for j in range(JOBS):
            fields = {
                "title": f"{rng.choice(WORDS)} job {j}",
                "description": " ".join(rng.sample(WORDS, 2)) if rng.random() < 0.7 else None,
                "status": rng.choice(STATUSES),
                "service_type": rng.choice(SERVICE_TYPES),
                "priority": rng.choice(PRIORITIES),
                "scheduled_date": _when(rng),
                "customer_id": rng.choice(list(self.customers)),
                "technician_id": rng.choice([*self.technicians, None]),
            }
            self.device.write("job", f"{tag}-j{j:05d}", "create", fields)
        self.device.push()
        self.tag = tag

    def jobs(self) -> list[dict[str, Any]]:
        """Every live job of this world, as an admin's pull holds it."""
        reader = self.api.device(new_id("reader-"))
        reader.pull(limit=5000)
        return [
            doc
            for (entity, _), doc in reader.replica.items()
            if entity == "job" and doc["id"].startswith(self.tag)
        ]


@pytest.fixture(scope="module")
def built(server: ServerProcess) -> World:
    return World(server.api(), random.Random(5))


@pytest.fixture
def world(built: World, server: ServerProcess) -> World:
    """The module's world, with HTTP clients of this test (each test's are closed after it)."""
    built.api = server.api()
    built.device = Tablet(
        server.base_url, built.api.token, built.device.device_id, built.device.path
    )
    return built


def _matches(job: dict[str, Any], customers: dict[str, str], params: dict[str, Any]) -> bool:
    for name in ("status", "technician_id", "customer_id", "service_type", "priority"):
        if name in params and job[name] != params[name]:
            return False
    at = _instant(job["scheduled_date"])
    if "scheduled_from" in params and (at is None or at < _instant(params["scheduled_from"])):
        return False
    if "scheduled_to" in params and (at is None or at >= _instant(params["scheduled_to"])):
        return False
    if "q" in params:
        hay = " ".join(
            filter(None, [job["job_number"], job["title"], job["description"],
                          customers[job["customer_id"]]])
        ).lower()  # fmt: skip
        return all(word in hay for word in params["q"].lower().split())
    return True


def _expected(jobs: list[dict[str, Any]], customers: dict[str, str], params: dict[str, Any]):  # type: ignore[no-untyped-def]
    chosen = [j for j in jobs if _matches(j, customers, params)]
    sort = params.get("sort", "scheduled_date")
    if sort == "scheduled_date":
        far = datetime.max.replace(tzinfo=UTC)
        chosen.sort(key=lambda j: (_instant(j["scheduled_date"]) or far, j["id"]))
    elif sort == "priority":
        chosen.sort(key=lambda j: (RANK[j["priority"]], j["id"]))
    else:
        chosen.sort(key=lambda j: (j["updated_at"], j["id"]), reverse=True)
    return [j["id"] for j in chosen]


def _random_params(rng: random.Random, world: World, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    params: dict[str, Any] = {"sort": rng.choice(["scheduled_date", "updated_at", "priority"])}
    sample = rng.choice(jobs)
    for name in ("status", "technician_id", "customer_id", "service_type", "priority"):
        if rng.random() < 0.3 and sample[name] is not None:
            params[name] = sample[name]
    if rng.random() < 0.3:
        start = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 30))
        if rng.random() < 0.7:
            params["scheduled_from"] = start.isoformat()
        if rng.random() < 0.7:
            params["scheduled_to"] = (start + timedelta(days=rng.randrange(1, 10))).isoformat()
    if rng.random() < 0.4:
        params["q"] = " ".join(rng.sample([*WORDS, "job 1", "J-0", "storage"], rng.randint(1, 2)))
    return params


def _ids_of_world(api: Api, world: World, limit: int, params: dict[str, Any]) -> list[str]:
    return [j["id"] for j in api.list_all("/api/jobs", limit=limit, **params)
            if j["id"].startswith(world.tag)]  # fmt: skip


def test_every_filter_mix_and_sort_matches_the_model_across_page_boundaries(
    world: World,
) -> None:
    rng = random.Random(9)
    jobs = world.jobs()
    assert len(jobs) == JOBS
    for _ in range(40):
        params = _random_params(rng, world, jobs)
        if "customer_id" not in params:
            # Keep to this world's jobs with a filter of its own when none is chosen.
            params["customer_id"] = rng.choice(list(world.customers))
        expected = _expected(jobs, world.customers, params)
        limit = rng.choice([1, 3, 7, 50, 500])
        assert _ids_of_world(world.api, world, limit, params) == expected, params


def test_a_page_boundary_neither_repeats_nor_skips_while_other_rows_change(world: World) -> None:
    rng = random.Random(3)
    customer = next(iter(world.customers))
    params = {"customer_id": customer, "sort": "scheduled_date"}
    before = _expected(world.jobs(), world.customers, params)
    seen: list[str] = []
    cursor = None
    while True:
        page_params = params | {"limit": 4} | ({"cursor": cursor} if cursor else {})
        r = world.api.get("/api/jobs", **page_params)
        assert r.status_code == 200, r.text
        seen += [j["id"] for j in r.json()["items"]]
        # Between pages: other writes land, none of them moving a job's sort key.
        job = rng.choice(before)
        world.device.write("job", job, "update", {"description": f"visit {rng.random()}"})
        new = {"title": "New", "service_type": "repair", "customer_id": customer}
        world.device.write("job", new_id(f"{world.tag}-new-"), "create", new)
        world.device.push()
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)


def test_bad_query_parameters_answer_422_naming_the_parameter(server: ServerProcess) -> None:
    api = server.api()
    for params in ({"status": "lost"}, {"limit": 0}, {"limit": 501}, {"sort": "title"},
                   {"scheduled_from": "yesterday"}, {"cursor": "not-a-cursor"}):  # fmt: skip
        r = api.get("/api/jobs", **params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == "invalid_request"


def test_deleted_jobs_are_listed_only_for_admins_who_ask(
    world: World, server: ServerProcess
) -> None:
    job = world.jobs()[0]
    world.device.write("job", job["id"], "delete")
    world.device.push()
    api = world.api
    assert job["id"] not in _ids_of_world(api, world, 500, {"customer_id": job["customer_id"]})
    listed = _ids_of_world(
        api, world, 500, {"customer_id": job["customer_id"], "include_deleted": "true"}
    )
    assert job["id"] in listed
    dispatcher, _ = api.user_api("dispatcher")
    r = dispatcher.get("/api/jobs", include_deleted="true")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
