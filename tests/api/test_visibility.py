"""What each role sees (docs/protocol.md, "Pull") in pulls and read APIs, and how a
pull follows assignments, areas, roles and deletes as they change."""

from __future__ import annotations

from typing import Any

from tests.support import Api, ServerProcess, Tablet, job_fields
from tests.world import Office, job_with_note, site


def _holds(device: Tablet) -> set[tuple[str, str]]:
    device.pull(limit=2)  # small pages: entering and leaving across page boundaries
    return set(device.replica)


def test_a_technician_pulls_their_jobs_with_customer_location_contacts_and_notes(
    server: ServerProcess,
) -> None:
    office = Office(server)
    tech, tablet = office.user("technician", areas=["north"])  # a technician's areas mean nothing
    site(office, "1", "north")
    site(office, "2", "north")
    job_with_note(office, "mine", "1", tech["id"])
    job_with_note(office, "theirs", "2")
    assert office.names(_holds(tablet)) == {"mine", "mine-note", "c1", "l1", "k1"}
    assert _holds(tablet) == office.expected(tech)
    # The data is the current state, the same an admin sees.
    everything = office.everything()
    assert all(tablet.replica[key] == everything[key] for key in tablet.replica)


def test_reassignment_moves_the_job_and_what_hangs_off_it(server: ServerProcess) -> None:
    office = Office(server)
    alice, alice_tab = office.user("technician")
    bob, bob_tab = office.user("technician")
    site(office, "1", "north")
    job_with_note(office, "j1", "1", alice["id"])
    job_with_note(office, "j2", "1", alice["id"])
    assert office.names(_holds(alice_tab)) == {"j1", "j1-note", "j2", "j2-note", "c1", "l1", "k1"}
    assert _holds(bob_tab) == set()

    office.write("job", "j1", "update", technician_id=bob["id"])
    # Bob gets j1 whole, with its customer and the rest, though they did not change.
    assert office.names(_holds(bob_tab)) == {"j1", "j1-note", "c1", "l1", "k1"}
    # Alice keeps the customer, location and contact: j2 still uses them.
    assert office.names(_holds(alice_tab)) == {"j2", "j2-note", "c1", "l1", "k1"}

    office.write("job", "j2", "update", technician_id=None)
    assert _holds(alice_tab) == set()
    office.write("job", "j1", "delete")
    assert _holds(bob_tab) == set()


def test_a_provider_sees_its_areas_and_area_and_role_changes_reach_the_next_pull(
    server: ServerProcess,
) -> None:
    office = Office(server)
    provider, phone = office.user("service_provider", areas=["south"])
    site(office, "1", "south")
    site(office, "2", "north")
    job_with_note(office, "j1", "1")
    job_with_note(office, "j2", "2")
    assert office.names(_holds(phone)) == {"j1", "j1-note", "c1", "l1", "k1"}

    office.write(
        "location", "l2", "update", service_area=office.area("south")
    )  # j2 moves into the area
    assert office.names(_holds(phone)) >= {"j2", "j2-note", "c2", "l2", "k2"}

    r = office.admin.http.patch(
        f"/api/users/{provider['id']}", json={"service_areas": [office.area("east")]}
    )
    assert r.status_code == 200
    assert _holds(phone) == set()

    office.admin.http.patch(f"/api/users/{provider['id']}", json={"role": "dispatcher"})
    assert _holds(phone) == set(office.everything())

    office.admin.http.patch(
        f"/api/users/{provider['id']}",
        json={"role": "technician", "service_areas": [office.area("south")]},
    )
    assert _holds(phone) == set()  # a technician with no jobs sees nothing, areas or not


def test_a_retried_pull_whose_answer_was_lost_gets_the_same_changes(server: ServerProcess) -> None:
    office = Office(server)
    tech, tablet = office.user("technician")
    site(office, "1", "north")
    job_with_note(office, "j1", "1", tech["id"])
    tablet.pull()
    cursor = tablet.cursor
    office.write("job", "j1", "update", technician_id=None)

    def pull_from(cursor: str | None) -> list[dict[str, Any]]:
        r = Api(office.admin.base_url, tablet.token).pull(tablet.device_id, cursor)
        assert r.status_code == 200, r.text
        return list(r.json()["changes"])

    first = pull_from(cursor)
    assert {c["id"] for c in first if c.get("removed")} == {
        office.id(n) for n in ("j1", "j1-note", "c1", "l1", "k1")
    }
    assert pull_from(cursor) == first  # the answer was lost; the same cursor again


def test_read_apis_answer_404_for_what_the_caller_may_not_see(server: ServerProcess) -> None:
    office = Office(server)
    tech, tablet = office.user("technician")
    tech_api = Api(office.admin.base_url, tablet.token)
    site(office, "1", "north")
    site(office, "2", "north")
    job_with_note(office, "mine", "1", tech["id"])
    job_with_note(office, "theirs", "2")
    office.write("job", "gone", "create", **job_fields("@c1"), technician_id=tech["id"])
    office.write("job", "gone", "delete")

    assert tech_api.get(f"/api/jobs/{office.id('mine')}").status_code == 200
    for path in (f"/api/jobs/{office.id('theirs')}", f"/api/customers/{office.id('c2')}",
                 f"/api/jobs/{office.id('gone')}", "/api/jobs/no-such-job"):  # fmt: skip
        r = tech_api.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    listed = {job["id"] for job in tech_api.list_all("/api/jobs", limit=1)}
    assert listed == {office.id("mine")}

    customer = tech_api.get(f"/api/customers/{office.id('c1')}").json()
    assert [j["id"] for j in customer["jobs"]] == [office.id("mine")]
    assert [x["id"] for x in customer["locations"]] == [office.id("l1")]
    assert [x["id"] for x in customer["contacts"]] == [office.id("k1")]

    job = tech_api.get(f"/api/jobs/{office.id('mine')}").json()
    assert job["customer"]["id"] == office.id("c1") and len(job["notes"]) == 1

    for path in ("/api/conflicts", "/api/users"):
        r = tech_api.get(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", path


def test_a_deactivated_user_is_locked_out_at_once(server: ServerProcess) -> None:
    office = Office(server)
    tech, tablet = office.user("technician")
    tablet.pull()
    office.admin.http.patch(f"/api/users/{tech['id']}", json={"active": False})
    r = Api(office.admin.base_url, tablet.token).pull(tablet.device_id, tablet.cursor)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_a_device_belongs_to_its_first_user(server: ServerProcess) -> None:
    office = Office(server)
    _, tablet = office.user("technician")
    _, other = office.user("service_provider")
    tablet.pull()
    r = Api(office.admin.base_url, other.token).pull(tablet.device_id)
    assert r.status_code == 403 and r.json()["error"]["code"] == "device_taken"
