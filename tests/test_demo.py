"""`syncserver serve --demo`: a week of battery-service work to try the web app on at
once, and the address and tokens to sign in with. A real `serve --demo` process."""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from tests.conftest import DatabaseFactory
from tests.support import Api, ServerProcess, free_port, new_id

DEMO_USERS = {
    "Ada Admin": "admin",
    "Dana Dispatcher": "dispatcher",
    "Tomas Technician": "technician",
    "Priya Patel": "technician",
    "Lars Berg": "technician",
}


@dataclass(frozen=True)
class DemoUser:
    role: str
    token: str


class DemoServer(ServerProcess):
    """`syncserver serve --demo` on a free port; `output` is what its last start printed."""

    def start(self, timeout: float = 30, *args: str) -> None:
        super().start(timeout, "--demo", *args)

    @property
    def web_app_url(self) -> str | None:
        found = re.search(r"^Open the web app at (\S+) and sign in", self.output, re.M)
        return found.group(1) if found else None

    @property
    def users(self) -> dict[str, DemoUser]:
        """The demo users printed, by name."""
        lines = re.finditer(r"^Demo (\w+) (.+): token (\S+)$", self.output, re.M)
        return {m.group(2): DemoUser(m.group(1), m.group(3)) for m in lines}

    def api_as(self, name: str) -> Api:
        return Api(self.base_url, self.users[name].token)


def pull_all(api: Api) -> list[dict[str, Any]]:
    """Everything the user sees, from a new device."""
    r = api.pull(new_id("dev-"))
    assert r.status_code == 200, r.text
    assert r.json()["has_more"] is False
    return list(r.json()["changes"])


def of_kind(changes: list[dict[str, Any]], entity: str) -> list[dict[str, Any]]:
    return [c["data"] for c in changes if c["entity"] == entity]


def day_of(rfc3339: str) -> date:
    return datetime.fromisoformat(rfc3339).date()


@pytest.fixture(scope="module")
def demo(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    server = DemoServer(databases.create(), tmp_path_factory.mktemp("demo") / "data")
    server.start()
    yield server
    server.stop()


def test_the_output_gives_the_web_app_address_and_a_working_token_per_user(
    demo: DemoServer,
) -> None:
    assert demo.web_app_url == f"{demo.base_url}/ui"
    assert {name: user.role for name, user in demo.users.items()} == DEMO_USERS
    for name, user in demo.users.items():
        me = demo.api_as(name).get("/api/me")
        assert me.status_code == 200, me.text
        assert (me.json()["name"], me.json()["role"]) == (name, user.role)


def test_the_dispatcher_sees_a_week_of_work(demo: DemoServer) -> None:
    changes = pull_all(demo.api_as("Dana Dispatcher"))
    jobs = of_kind(changes, "job")
    assert 25 <= len(jobs) <= 40
    scheduled = [j for j in jobs if j.get("scheduled_date")]
    today = min(day_of(j["scheduled_date"]) for j in scheduled)
    assert today in (datetime.now(UTC).date(), datetime.now(UTC).date() - timedelta(days=1))
    assert {day_of(j["scheduled_date"]) for j in scheduled} == {
        today + timedelta(days=n) for n in range(7)
    }
    for job in scheduled:
        start = datetime.fromisoformat(job["scheduled_date"])
        assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
        assert 7 <= start.hour <= 15, job
        assert job.get("technician_id"), job

    todays = [j for j in scheduled if day_of(j["scheduled_date"]) == today]
    assert {"dispatched", "in_progress", "on_hold", "completed"} <= {j["status"] for j in todays}
    completed = [j for j in jobs if j["status"] == "completed"]
    assert len(completed) == 1 and completed[0].get("completed_date")
    later = {j["status"] for j in scheduled if day_of(j["scheduled_date"]) > today}
    assert later == {"scheduled", "dispatched"}
    unplanned = [j for j in jobs if not j.get("scheduled_date")]
    assert 2 <= len(unplanned) <= 3
    assert all(j["status"] == "unscheduled" and not j.get("technician_id") for j in unplanned)
    assert len({j["technician_id"] for j in scheduled}) == 3
    assert len({j["service_type"] for j in jobs}) == 6
    assert len({j["priority"] for j in jobs}) == 4
    assert all(j["title"] and j.get("description") and j.get("job_number") for j in jobs)

    customers = of_kind(changes, "customer")
    assert len(customers) >= 8
    assert {c["type"] for c in customers} == {"residential", "commercial", "industrial", "utility"}
    locations = {loc["customer_id"]: loc for loc in of_kind(changes, "location")}
    for customer in customers:
        loc = locations[customer["id"]]
        assert loc["address"] and loc["city"] and loc["postal_code"] and loc["service_area"]
        assert 58.5 < loc["lat"] < 60.5 and 17 < loc["lng"] < 19.5  # around Stockholm
    contacts = of_kind(changes, "contact")
    assert {c["customer_id"] for c in contacts} == {c["id"] for c in customers}
    assert all(c["phone"] and "@" in c["email"] for c in contacts)
    notes = of_kind(changes, "job_note")
    assert len(notes) >= 10 and len({n["job_id"] for n in notes}) >= 5


def test_each_technician_pulls_their_own_jobs_over_several_days(demo: DemoServer) -> None:
    seen: set[str] = set()
    for name in ("Tomas Technician", "Priya Patel", "Lars Berg"):
        api = demo.api_as(name)
        me = api.get("/api/me").json()["id"]
        changes = pull_all(api)
        jobs = of_kind(changes, "job")
        assert len(jobs) >= 5, name
        assert all(j["technician_id"] == me for j in jobs), name
        assert len({day_of(j["scheduled_date"]) for j in jobs}) >= 3, name
        assert len(Counter(j["status"] for j in jobs)) >= 2, name
        customers = {c["id"] for c in of_kind(changes, "customer")}
        assert {j["customer_id"] for j in jobs} == customers
        job_ids = {j["id"] for j in jobs}
        assert {n["job_id"] for n in of_kind(changes, "job_note")} <= job_ids
        assert not seen & job_ids
        seen |= job_ids


def wait_for_thumbnail(api: Api, photo_id: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"/api/photos/{photo_id}")
        assert r.status_code == 200, r.text
        if r.json()["thumbnail_url"] or time.monotonic() > deadline:
            return dict(r.json())
        time.sleep(0.2)


def check_photos_are_available(server: DemoServer) -> None:
    dispatcher = server.api_as("Dana Dispatcher")
    photos = of_kind(pull_all(dispatcher), "job_photo")
    assert 1 <= len(photos) <= 3
    for photo in photos:
        assert photo["status"] == "available", photo
        shown = wait_for_thumbnail(dispatcher, photo["id"])
        assert shown["status"] == "available" and shown["thumbnail_url"], shown
        original = httpx.get(shown["url"], timeout=10)
        assert original.status_code == 200
        assert hashlib.sha256(original.content).hexdigest() == photo["sha256"]
        with Image.open(io.BytesIO(original.content)) as image:
            assert (image.format, image.size) == ("JPEG", (640, 480))
        thumbnail = httpx.get(shown["thumbnail_url"], timeout=10)
        assert thumbnail.status_code == 200
        with Image.open(io.BytesIO(thumbnail.content)) as image:
            assert image.format == "JPEG" and max(image.size) == 320


def test_demo_photos_are_available_with_thumbnails(demo: DemoServer) -> None:
    check_photos_are_available(demo)
    # The technician of a photo's job sees it too.
    for name in ("Tomas Technician", "Priya Patel", "Lars Berg"):
        api = demo.api_as(name)
        for photo in of_kind(pull_all(api), "job_photo"):
            assert api.get(f"/api/photos/{photo['id']}").json()["status"] == "available"


def test_a_restart_adds_no_data_and_prints_fresh_working_tokens(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    server = DemoServer(databases.create(), tmp_path / "data")
    server.start()
    try:
        first = server.users
        before = Counter(c["entity"] for c in pull_all(server.api_as("Dana Dispatcher")))
        users_before = server.api().list_all("/api/users", 100)
    finally:
        assert server.stop() == 0
    server.start()
    try:
        again = server.users
        assert again.keys() == first.keys()
        assert all(again[name].token != first[name].token for name in first)
        for name, user in again.items():
            assert server.api_as(name).get("/api/me").json()["role"] == user.role
        after = Counter(c["entity"] for c in pull_all(server.api_as("Dana Dispatcher")))
        assert after == before and after["job"] >= 25
        assert len(server.api().list_all("/api/users", 100)) == len(users_before)
    finally:
        assert server.stop() == 0


def test_demo_photos_in_an_s3_bucket(databases: DatabaseFactory, tmp_path: Path) -> None:
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
        s3.create_bucket(Bucket="fieldsync-demo")
        server = DemoServer(
            databases.create(),
            tmp_path / "data",
            SYNCSERVER_S3_BUCKET="fieldsync-demo",
            SYNCSERVER_S3_ENDPOINT=endpoint,
            SYNCSERVER_S3_REGION="us-east-1",
            SYNCSERVER_S3_ACCESS_KEY_ID=credentials["aws_access_key_id"],
            SYNCSERVER_S3_SECRET_ACCESS_KEY=credentials["aws_secret_access_key"],
        )
        server.start()
        try:
            check_photos_are_available(server)
        finally:
            server.stop()
    finally:
        moto.stop()
