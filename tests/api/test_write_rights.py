"""Write rights per role (docs/protocol.md, "Pull"), over HTTP: every role against
every entity and action, with the fields a role may and may not write."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op

A, F = "applied", "forbidden"


def _photo(job_id: str) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "key": f"jobs/{job_id}/{new_id()}.jpg",
        "content_type": "image/jpeg",
        "size": 1000,
        "sha256": "a" * 64,
    }


# case -> (entity, action, target, fields); targets name the world built below:
# `own` is assigned to the writer, `open` is unassigned in the writer's area,
# `other` belongs to another technician outside it. Order matters: later cases
# may depend on earlier ones (the claims), deletes come last.
CASES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "customer create": ("customer", "create", "new", customer_fields()),
    "customer update": ("customer", "update", "customer", {"name": "Renamed"}),
    "location create": ("location", "create", "new", {"customer_id": "@customer", "address": "x"}),
    "location update": ("location", "update", "loc_north", {"city": "Lund"}),
    "contact create": ("contact", "create", "new", {"customer_id": "@customer", "name": "Kim"}),
    "contact update": ("contact", "update", "contact", {"phone": "123"}),
    "job create": ("job", "create", "new", job_fields("@customer")),
    "own job: status": ("job", "update", "own", {"status": "in_progress"}),
    "own job: description, completed_date": (
        "job",
        "update",
        "own",
        {"description": "done", "completed_date": "2026-11-25T10:00:00Z"},
    ),
    "own job: status and title": ("job", "update", "own", {"status": "completed", "title": "x"}),
    "own job: priority": ("job", "update", "own", {"priority": "urgent"}),
    "own job: unassign": ("job", "update", "own", {"technician_id": None}),
    "other's job: status": ("job", "update", "other", {"status": "on_hold"}),
    "open job in area: status": ("job", "update", "open", {"status": "scheduled"}),
    "open job in area: assign to someone else": (
        "job",
        "update",
        "open",
        {"technician_id": "@someone"},
    ),
    "open job in area: claim": ("job", "update", "open", {"technician_id": "@self"}),
    "other's job: claim": ("job", "update", "other", {"technician_id": "@self"}),
    "note on own job": ("job_note", "create", "new", {"job_id": "@own", "body": "ok"}),
    "note on other's job": ("job_note", "create", "new", {"job_id": "@other", "body": "no"}),
    "note on a job that does not exist": (
        "job_note",
        "create",
        "new",
        {"job_id": "no-such-job", "body": "?"},
    ),
    "photo on own job": ("job_photo", "create", "new", _photo("@own")),
    "photo on other's job": ("job_photo", "create", "new", _photo("@other")),
    "delete a note on own job": ("job_note", "delete", "note", {}),
    "delete own job": ("job", "delete", "own", {}),
    "delete customer": ("customer", "delete", "customer", {}),
}

ONLY_FIELD_WORK = {
    "own job: status": A,
    "own job: description, completed_date": A,
    "note on own job": A,
    "photo on own job": A,
}
EXPECTED: dict[str, dict[str, str]] = {
    # Only a technician or service provider can be assigned a job.
    "admin": dict.fromkeys(CASES, A)
    | dict.fromkeys(
        ["note on a job that does not exist", "open job in area: claim", "other's job: claim"],
        "not_found",
    ),
    "technician": dict.fromkeys(CASES, F) | ONLY_FIELD_WORK,
    "service_provider": dict.fromkeys(CASES, F)
    | ONLY_FIELD_WORK
    | {"open job in area: status": A, "open job in area: claim": A},
}
EXPECTED["dispatcher"] = EXPECTED["admin"]


def _world(admin: Api, writer_id: str, writer_role: str, someone_id: str) -> dict[str, str]:
    """A customer with a job each: the writer's, an open one in `north`, another's in `south`."""
    ids = {name: new_id(f"{name}-") for name in ("customer", "loc_north", "loc_south")}
    ids |= {name: new_id(f"{name}-") for name in ("contact", "own", "open", "other", "note")}
    c, north, south = ids["customer"], ids["loc_north"], ids["loc_south"]
    # Only technicians and service providers can be assigned: an office writer's "own" job
    # goes to someone else (it makes no difference to what an office writer may do).
    assignee = writer_id if writer_role in ("technician", "service_provider") else someone_id
    other = someone_id
    ops = [
        op(1, "customer", c, fields=customer_fields()),
        op(2, "location", north, fields=dict(customer_id=c, address="1", service_area="north")),
        op(3, "location", south, fields=dict(customer_id=c, address="2", service_area="south")),
        op(4, "contact", ids["contact"], fields={"customer_id": c, "name": "Kim"}),
        op(5, "job", ids["own"], fields=job_fields(c, location_id=north, technician_id=assignee)),
        op(6, "job", ids["open"], fields=job_fields(c, location_id=north)),
        op(7, "job", ids["other"], fields=job_fields(c, location_id=south, technician_id=other)),
        op(8, "job_note", ids["note"], fields={"job_id": ids["own"], "body": "first"}),
    ]  # fmt: skip
    r = admin.push(new_id("office-"), ops)
    assert r.status_code == 200 and all(x["status"] == A for x in r.json()["results"]), r.text
    return ids | {"self": writer_id, "someone": someone_id}


def _resolve(fields: dict[str, Any], world: dict[str, str]) -> dict[str, Any]:
    return {
        name: world[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for name, value in fields.items()
    }


@pytest.mark.parametrize("role", ["admin", "dispatcher", "technician", "service_provider"])
def test_every_role_writes_exactly_what_section_6_allows(server: ServerProcess, role: str) -> None:
    admin = server.api()
    writer = admin.create_user(role, service_areas=["north"])
    someone = admin.create_user("technician")
    writer_api = Api(admin.base_url, admin.token_for(writer["id"])["token"])
    world = _world(admin, writer["id"], role, someone["id"])
    device = new_id("writer-")
    outcome = {}
    for seq, (case, (entity, action, target, fields)) in enumerate(CASES.items(), start=1):
        entity_id = new_id("new-") if target == "new" else world[target]
        body = _resolve(fields, world) or None
        r = writer_api.push(device, [op(seq, entity, entity_id, action, body)])
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        outcome[case] = result["status"] if result["status"] == A else result["error"]["code"]
    assert outcome == EXPECTED[role]


def test_a_forbidden_op_is_kept_in_the_device_log_and_the_rest_of_the_batch_goes_on(
    server: ServerProcess,
) -> None:
    admin = server.api()
    tech_api, tech = admin.user_api("technician")
    world = _world(admin, tech["id"], "technician", admin.create_user("technician")["id"])
    device = new_id("tab-")
    rename = op(1, "job", world["own"], "update", {"title": "Not mine to rename"})
    r = tech_api.push(
        device, [rename, op(2, "job", world["own"], "update", {"status": "completed"})]
    )
    assert r.status_code == 200
    body = r.json()
    assert body["acked_seq"] == 2
    assert [x["status"] for x in body["results"]] == ["rejected", "applied"]
    assert body["results"][0]["error"]["code"] == "forbidden"
    assert "title" in body["results"][0]["error"]["message"]
    job = admin.get(f"/api/jobs/{world['own']}").json()
    assert job["status"] == "completed" and job["title"] == "Install battery"
    # The device log kept the forbidden op: sent again, it is a duplicate.
    again = tech_api.push(device, [rename])
    assert again.status_code == 200 and again.json()["results"] == [
        {"seq": 1, "status": "duplicate"}
    ]


def test_rights_follow_the_assignment_as_it_changes(server: ServerProcess) -> None:
    admin = server.api()
    tech_api, tech = admin.user_api("technician")
    world = _world(admin, tech["id"], "technician", admin.create_user("technician")["id"])
    device = new_id("tab-")
    office = new_id("office-")
    assert (
        tech_api.push(
            device, [op(1, "job", world["own"], "update", {"status": "dispatched"})]
        ).json()["results"][0]["status"]
        == A
    )
    r = admin.push(office, [op(1, "job", world["own"], "update", {"technician_id": None})])
    assert r.json()["results"][0]["status"] == A
    r = tech_api.push(device, [op(2, "job", world["own"], "update", {"status": "completed"})])
    assert r.json()["results"][0]["error"]["code"] == F
