"""Random sequences of assignments, reassignments, area changes, role changes and
deletes: after every step, each user's pulled replica is exactly what they may see,
computed independently (tests/visible_model.py) from an admin's full replica."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import ServerProcess
from tests.visible_model import visible_keys
from tests.world import Office, job_with_note, site

USERS = ("alice", "bob", "pat")  # pat starts as a service provider
AREAS = ("x", "y", "z")
JOBS = ("j1", "j2", "j3", "j4")
LOCATIONS = ("l1", "l2", "l3")

assign = st.tuples(st.just("assign"), st.sampled_from(JOBS), st.sampled_from((*USERS, None)))
move = st.tuples(st.just("move"), st.sampled_from(LOCATIONS), st.sampled_from(AREAS))
relocate = st.tuples(st.just("relocate"), st.sampled_from(JOBS), st.sampled_from(LOCATIONS))
areas = st.tuples(st.just("areas"), st.sampled_from(USERS), st.sets(st.sampled_from(AREAS)))
role = st.tuples(
    st.just("role"),
    st.sampled_from(USERS),
    st.sampled_from(("technician", "service_provider", "dispatcher")),
)
delete = st.tuples(st.just("delete"), st.sampled_from(JOBS + LOCATIONS), st.none())
steps = st.lists(st.one_of(assign, move, relocate, areas, role, delete), min_size=1, max_size=8)


def _apply(office: Office, users: dict[str, dict[str, Any]], step: tuple[Any, ...]) -> None:
    kind, target, value = step
    if kind == "assign":
        # Only technicians and service providers can take a job; a dispatcher's turn unassigns.
        assignee = value and users[value]
        if assignee and assignee["role"] == "dispatcher":
            assignee = None
        office.write("job", target, "update", technician_id=assignee and assignee["id"])
    elif kind == "move":
        office.write("location", target, "update", service_area=office.area(value))
    elif kind == "relocate":
        # Every location belongs to customer c1, so any job may move to any of them.
        office.write("job", target, "update", location_id=office.id(value))
    elif kind == "delete":
        entity = "job" if target.startswith("j") else "location"
        office.write(entity, target, "delete")
    else:
        change = (
            {"service_areas": sorted(office.area(a) for a in value)}
            if kind == "areas"
            else {"role": value}
        )
        r = office.admin.http.patch(f"/api/users/{users[target]['id']}", json=change)
        assert r.status_code == 200, r.text
        users[target] = r.json()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, page=st.integers(1, 4))
def test_each_pull_holds_exactly_what_the_user_may_see(
    server: ServerProcess, steps: list[tuple[Any, ...]], page: int
) -> None:
    office = Office(server)
    users, devices = {}, {}
    for name in USERS:
        role_name = "service_provider" if name == "pat" else "technician"
        users[name], devices[name] = office.user(role_name, areas=["x"])
    site(office, "1", "x")
    for n, area in (("2", "y"), ("3", "z")):
        office.write("location", f"l{n}", "create", customer_id="@c1", address=n,
                     service_area=office.area(area))  # fmt: skip
    for j, name in zip(JOBS, ("alice", "bob", None, None), strict=True):
        job_with_note(office, j, "1", name and users[name]["id"])
    office.write("job", "j4", "update", location_id=office.id("l2"))

    for step in [("start", None, None), *steps]:
        if step[0] != "start":
            _apply(office, users, step)
        everything = office.everything()
        for name in USERS:
            device = devices[name]
            device.pull(limit=page)
            user = users[name]
            expected = visible_keys(everything, user["id"], user["role"], user["service_areas"])
            assert set(device.replica) == expected, (step, name, users[name]["role"])
            assert all(device.replica[key] == everything[key] for key in expected)
