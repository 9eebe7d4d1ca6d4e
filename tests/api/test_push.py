"""Push over HTTP: the device log, LWW, notices, every status (docs/protocol.md,
"Ops and the device log" and "Push")."""

from __future__ import annotations

import time

from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_a_new_device_pushes_creates_and_they_are_applied_with_versions(
    server: ServerProcess,
) -> None:
    api = server.api()
    dev, cid, jid = new_id("dev-"), new_id("c-"), new_id("j-")
    r = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid)),
        ],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["acked_seq"] == 2
    assert [x["status"] for x in body["results"]] == ["applied", "applied"]
    assert body["results"][0]["version"] < body["results"][1]["version"]
    assert body["conflicts"] == []
    assert abs(body["server_time"] - now_ms()) < 60_000
    job = api.get(f"/api/jobs/{jid}").json()
    assert job["status"] == "unscheduled" and job["priority"] == "normal"
    assert job["job_number"].startswith("J-")
    assert job["customer"]["id"] == cid
    assert job["version"] == body["results"][1]["version"]
    assert job["fields_meta"]["title"]["device_id"] == dev


def test_job_numbers_are_unique(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    ops = [op(1, "customer", cid, fields=customer_fields())]
    ops += [op(i, "job", f"{cid}-{i}", fields=job_fields(cid)) for i in range(2, 12)]
    assert api.push(dev, ops).status_code == 200
    numbers = {api.get(f"/api/jobs/{cid}-{i}").json()["job_number"] for i in range(2, 12)}
    assert len(numbers) == 10


def test_resending_a_batch_reports_duplicates_and_changes_nothing(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    ops = [
        op(1, "customer", cid, fields=customer_fields()),
        op(2, "customer", cid, "update", {"name": "Renamed"}),
    ]
    first = api.push(dev, ops).json()
    again = api.push(dev, ops).json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["acked_seq"] == 2
    assert api.get(f"/api/customers/{cid}").json()["version"] == first["results"][1]["version"]


def test_a_batch_may_overlap_the_acknowledged_part_of_the_log(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    ops = [
        op(1, "customer", cid, fields=customer_fields()),
        op(2, "customer", cid, "update", {"phone": "1"}),
        op(3, "customer", cid, "update", {"phone": "2"}),
    ]
    api.push(dev, ops[:2])
    body = api.push(dev, ops).json()
    assert [r["status"] for r in body["results"]] == ["duplicate", "duplicate", "applied"]
    assert body["acked_seq"] == 3


def test_reusing_a_seq_for_different_content_fails_the_whole_request(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    api.push(dev, [op(1, "customer", cid, fields=customer_fields())])
    r = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields(name="Other")),
            op(2, "customer", cid, "update", {"phone": "5"}),
        ],
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "seq_reused"
    assert api.get(f"/api/customers/{cid}").json()["phone"] is None


def test_a_gap_in_seq_is_refused_with_the_expected_seq(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    r = api.push(dev, [op(2, "customer", cid, fields=customer_fields())])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "seq_gap"
    assert r.json()["error"]["details"]["expected"] == 1
    r = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(3, "customer", cid, "update", {"phone": "1"}),
        ],
    )
    assert r.json()["error"]["details"]["expected"] == 2
    assert api.get(f"/api/customers/{cid}").status_code == 404  # nothing recorded


def test_a_clock_far_ahead_is_refused_and_nothing_is_recorded(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    r = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "customer", cid, "update", {"phone": "1"}, ts=now_ms() + 3_600_000),
        ],
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "clock_ahead"
    assert abs(err["details"]["server_time"] - now_ms()) < 60_000
    assert api.get(f"/api/customers/{cid}").status_code == 404
    assert api.push(dev, [op(1, "customer", cid, fields=customer_fields())]).status_code == 200


def test_invalid_ops_are_rejected_and_the_rest_of_the_batch_goes_on(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    r = api.push(
        dev,
        [
            op(1, "customer", cid, fields={"name": "No type"}),
            op(2, "spaceship", new_id(), fields={"name": "x"}),
            op(3, "customer", cid, fields=customer_fields(bogus=1)),
            op(4, "customer", cid, fields=customer_fields(type="martian")),
            op(5, "customer", cid, fields=customer_fields()),
        ],
    )
    body = r.json()
    assert body["acked_seq"] == 5
    statuses = [(x["status"], x.get("error", {}).get("code")) for x in body["results"]]
    assert statuses == [("rejected", "invalid_op")] * 4 + [("applied", None)]
    messages = [x["error"]["message"] for x in body["results"][:4]]
    assert "type" in messages[0] and "spaceship" in messages[1]
    assert "bogus" in messages[2] and "type" in messages[3]


def test_updates_and_references_to_unknown_entities_are_not_found(server: ServerProcess) -> None:
    api = server.api()
    dev = new_id("dev-")
    body = api.push(
        dev,
        [
            op(1, "customer", new_id(), "update", {"name": "x"}),
            op(2, "job", new_id(), fields=job_fields("no-such-customer")),
            op(3, "job", new_id(), "delete"),
        ],
    ).json()
    assert [x["error"]["code"] for x in body["results"]] == ["not_found"] * 3
    assert body["acked_seq"] == 3


def test_a_job_location_must_belong_to_the_jobs_customer(server: ServerProcess) -> None:
    api = server.api()
    dev, c1, c2, loc = new_id("dev-"), new_id("c-"), new_id("c-"), new_id("l-")
    body = api.push(
        dev,
        [
            op(1, "customer", c1, fields=customer_fields()),
            op(2, "customer", c2, fields=customer_fields()),
            op(3, "location", loc, fields={"customer_id": c1, "address": "Main St 1"}),
            op(4, "job", new_id(), fields=job_fields(c2, location_id=loc)),
            op(5, "job", new_id(), fields=job_fields(c1, location_id=loc)),
        ],
    ).json()
    assert [x["status"] for x in body["results"]] == ["applied"] * 3 + ["rejected", "applied"]


def test_technician_id_must_name_a_technician(server: ServerProcess) -> None:
    api = server.api()
    tech = api.create_user("technician")
    dispatcher = api.create_user("dispatcher")
    dev, cid = new_id("dev-"), new_id("c-")
    body = api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", new_id(), fields=job_fields(cid, technician_id=dispatcher["id"])),
            op(3, "job", new_id(), fields=job_fields(cid, technician_id=tech["id"])),
        ],
    ).json()
    assert [x["status"] for x in body["results"]] == ["applied", "rejected", "applied"]


def test_job_notes_cannot_be_updated_and_carry_their_author(server: ServerProcess) -> None:
    api = server.api()
    dispatcher_api, dispatcher = api.user_api("dispatcher")
    dev, cid, jid, nid = new_id("dev-"), new_id("c-"), new_id("j-"), new_id("n-")
    body = dispatcher_api.push(
        dev,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid)),
            op(3, "job_note", nid, fields={"job_id": jid, "body": "Checked the inverter"}),
            op(4, "job_note", nid, "update", {"body": "edited"}),
        ],
    ).json()
    assert [x["status"] for x in body["results"]] == ["applied"] * 3 + ["rejected"]
    [note] = api.get(f"/api/jobs/{jid}").json()["notes"]
    assert note["author_id"] == dispatcher["id"] and note["body"] == "Checked the inverter"


def test_concurrent_writes_from_two_devices_produce_one_notice(server: ServerProcess) -> None:
    api = server.api()
    a, b, cid, jid = new_id("a-"), new_id("b-"), new_id("c-"), new_id("j-")
    created = api.push(
        a,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid)),
        ],
    ).json()
    base = created["results"][1]["version"]
    t = now_ms()
    first = api.push(
        a, [op(3, "job", jid, "update", {"status": "completed"}, ts=t, base=base)]
    ).json()
    assert first["conflicts"] == []
    second = api.push(
        b,
        [
            op(
                1,
                "job",
                jid,
                "update",
                {"status": "on_hold", "priority": "high"},
                ts=t - 10,
                base=base,
            )
        ],
    ).json()
    assert second["results"][0]["status"] == "applied"
    [notice] = second["conflicts"]
    assert notice["field"] == "status" and notice["status"] == "open"
    assert notice["winner"]["value"] == "completed" and notice["winner"]["device_id"] == a
    assert notice["loser"]["value"] == "on_hold" and notice["loser"]["device_id"] == b
    assert notice["loser"]["seq"] == 1 and notice["resolution"] is None
    job = api.get(f"/api/jobs/{jid}").json()
    assert (job["status"], job["priority"]) == ("completed", "high")
    listed = api.get("/api/conflicts", entity_id=jid).json()
    assert [n["id"] for n in listed["items"]] == [notice["id"]]


def test_an_update_racing_a_delete_keeps_the_entity_deleted(server: ServerProcess) -> None:
    api = server.api()
    a, b, cid = new_id("a-"), new_id("b-"), new_id("c-")
    base = api.push(a, [op(1, "customer", cid, fields=customer_fields())]).json()["results"][0][
        "version"
    ]
    api.push(a, [op(2, "customer", cid, "delete", base=base)])
    body = api.push(b, [op(1, "customer", cid, "update", {"name": "Late edit"}, base=base)]).json()
    assert body["results"][0]["status"] == "applied"
    [notice] = body["conflicts"]
    assert notice["field"] == "deleted" and notice["winner"]["value"] is True
    assert api.get(f"/api/customers/{cid}").status_code == 404


def test_a_create_of_an_existing_id_merges_like_an_update(server: ServerProcess) -> None:
    api = server.api()
    a, b, cid = new_id("a-"), new_id("b-"), new_id("c-")
    t = now_ms()
    api.push(a, [op(1, "customer", cid, fields=customer_fields(name="First"), ts=t)])
    body = api.push(
        b, [op(1, "customer", cid, fields=customer_fields(name="Second", phone="9"), ts=t + 1)]
    ).json()
    assert body["results"][0]["status"] == "applied"
    doc = api.get(f"/api/customers/{cid}").json()
    assert (doc["name"], doc["phone"]) == ("Second", "9")


def test_msgpack_push_speaks_the_same_shapes(server: ServerProcess) -> None:
    import msgspec

    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    body = msgspec.msgpack.encode(
        {"device_id": dev, "ops": [op(1, "customer", cid, fields=customer_fields())]}
    )
    r = api.http.post(
        "/sync/push",
        content=body,
        headers={"Content-Type": "application/msgpack", "Accept": "application/msgpack"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/msgpack"
    decoded = msgspec.msgpack.decode(r.content)
    assert decoded["acked_seq"] == 1 and decoded["results"][0]["status"] == "applied"


def test_the_device_log_keeps_each_op_as_the_device_sent_it(server: ServerProcess) -> None:
    import msgspec
    import psycopg

    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    # Key order, spacing and escapes of the device's own JSON, an invalid op among them.
    sent = [
        '{ "fields": {"type": "commercial", "name": "Caf\\u00e9 \u00c5s"},'
        f' "seq": 1, "ts": {now_ms()}, "entity": "customer", "id": "{cid}",'
        ' "action": "create" }',
        f'{{"seq":2,"ts":{now_ms()},"entity":"customer","id":"{cid}","action":"update",'
        '"fields":{"name":"nul \\u0000 here"}}',
    ]
    body = f'{{"device_id": "{dev}", "ops": [{", ".join(sent)}]}}'.encode()
    r = api.http.post("/sync/push", content=body, headers={"Content-Type": "application/json"})
    assert [x["status"] for x in r.json()["results"]] == ["applied", "rejected"]
    # MessagePack has no JSON to keep: the op is stored as its JSON rendering.
    packed = {"device_id": dev, "ops": [op(3, "customer", cid, "update", {"name": "Bo"})]}
    r = api.http.post(
        "/sync/push",
        content=msgspec.msgpack.encode(packed),
        headers={"Content-Type": "application/msgpack"},
    )
    assert r.json()["results"][0]["status"] == "applied"
    with psycopg.connect(server.database_url or "") as conn:
        logged = conn.execute(
            "SELECT op FROM device_log WHERE device_id = %s ORDER BY seq", (dev,)
        ).fetchall()
    assert [text for (text,) in logged[:2]] == sent
    assert msgspec.json.decode(logged[2][0]) == {"base": 0, **packed["ops"][0]}


def test_a_device_belongs_to_its_first_user(server: ServerProcess) -> None:
    api = server.api()
    other, _ = api.user_api("dispatcher")
    dev, cid = new_id("dev-"), new_id("c-")
    assert api.push(dev, [op(1, "customer", cid, fields=customer_fields())]).status_code == 200
    r = other.push(dev, [op(2, "customer", cid, "update", {"name": "x"})])
    assert (r.status_code, r.json()["error"]["code"]) == (403, "device_taken")
    r = other.pull(dev)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "device_taken")


def _unused(api: Api) -> None:  # keeps the import list honest for type checkers
    del api
