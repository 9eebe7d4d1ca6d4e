"""The minimal read APIs: job list paging, job and customer detail, conflicts by entity."""

from __future__ import annotations

from tests.support import ServerProcess, customer_fields, job_fields, new_id, op


def test_the_job_list_pages_without_gaps_or_repeats_and_hides_deleted_jobs(
    fresh_server: ServerProcess,
) -> None:
    api = fresh_server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    ops = [op(1, "customer", cid, fields=customer_fields())]
    ops += [op(i, "job", f"job-{i:03d}", fields=job_fields(cid)) for i in range(2, 40)]
    ops.append(op(40, "job", "job-007", "delete"))
    assert api.push(dev, ops).status_code == 200
    seen = [job["id"] for job in api.list_all("/api/jobs", limit=5)]
    expected = [f"job-{i:03d}" for i in range(2, 40) if i != 7]
    assert seen == expected
    assert api.get("/api/jobs/job-007").status_code == 404


def test_the_job_list_limit_is_1_to_500(server: ServerProcess) -> None:
    api = server.api()
    for limit in ("0", "501", "x"):
        r = api.get("/api/jobs", limit=limit)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")


def test_a_customer_comes_with_its_locations_contacts_and_jobs(server: ServerProcess) -> None:
    api = server.api()
    dev, cid, lid, kid, jid = (new_id(p) for p in ("dev-", "c-", "l-", "k-", "j-"))
    api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "location", lid, fields={"customer_id": cid, "address": "Quay 1"}),
            op(3, "contact", kid, fields={"customer_id": cid, "name": "Ines"}),
            op(4, "job", jid, fields=job_fields(cid, location_id=lid)),
        ],
    )
    doc = api.get(f"/api/customers/{cid}").json()
    assert [x["id"] for x in doc["locations"]] == [lid]
    assert [x["id"] for x in doc["contacts"]] == [kid]
    assert [x["id"] for x in doc["jobs"]] == [jid]
    job = api.get(f"/api/jobs/{jid}").json()
    assert job["location"]["id"] == lid and job["notes"] == [] and job["photos"] == []
    assert api.get("/api/customers/nobody").status_code == 404


def test_conflicts_can_be_listed_by_status_and_only_by_admins(server: ServerProcess) -> None:
    api = server.api()
    dispatcher, _ = api.user_api("dispatcher")
    assert dispatcher.get("/api/conflicts").json()["error"]["code"] == "forbidden"
    assert api.get("/api/conflicts", status="resolved").json()["items"] == []
    r = api.get("/api/conflicts", status="maybe")
    assert r.status_code == 422
