"""Pull over HTTP (docs/protocol.md, "Pull"): cursors, paging, removals, notices."""

from __future__ import annotations

import time

import msgspec

from tests.support import ServerProcess, customer_fields, job_fields, new_id, op


def pull_all(api, device_id, cursor=None, limit=1000):  # type: ignore[no-untyped-def]
    changes, notices = [], []
    while True:
        r = api.pull(device_id, cursor, limit)
        assert r.status_code == 200, r.text
        body = r.json()
        changes += body["changes"]
        notices += body["notices"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, notices, cursor


def replica(changes):  # type: ignore[no-untyped-def]
    state = {}
    for c in changes:
        key = (c["entity"], c["id"])
        if c.get("removed"):
            state.pop(key, None)
        else:
            state[key] = c["data"]
    return state


def test_a_null_cursor_pages_through_everything_oldest_first(fresh_server: ServerProcess) -> None:
    api = fresh_server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    ops = [op(1, "customer", cid, fields=customer_fields())]
    ops += [op(i, "job", f"job-{i}", fields=job_fields(cid)) for i in range(2, 26)]
    ops.append(op(26, "job", "job-2", "delete"))
    api.push(dev, ops)
    changes, _, _ = pull_all(api, new_id("reader-"), limit=7)
    versions = [c["version"] for c in changes]
    assert versions == sorted(versions)
    ids = [c["id"] for c in changes]
    assert len(ids) == len(set(ids)) == 24  # job-2 was deleted before the sync began
    assert "job-2" not in ids and not any(c.get("removed") for c in changes)
    job = next(c for c in changes if c["id"] == "job-3")["data"]
    assert job["job_number"].startswith("J-") and job["deleted"] is False
    assert set(job) >= {
        "title",
        "description",
        "status",
        "service_type",
        "priority",
        "scheduled_date",
        "completed_date",
        "customer_id",
        "location_id",
        "technician_id",
        "version",
        "created_at",
        "updated_at",
        "deleted",
        "id",
    }


def test_an_incremental_pull_has_only_what_changed_and_removals(server: ServerProcess) -> None:
    api = server.api()
    writer, reader, cid, j1, j2 = (
        new_id("w-"),
        new_id("r-"),
        new_id("c-"),
        new_id("j-"),
        new_id("j-"),
    )
    api.push(
        writer,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", j1, fields=job_fields(cid)),
            op(3, "job", j2, fields=job_fields(cid)),
        ],
    )
    _, _, cursor = pull_all(api, reader)
    api.push(
        writer, [op(4, "job", j1, "update", {"status": "scheduled"}), op(5, "job", j2, "delete")]
    )
    changes, _, cursor = pull_all(api, reader, cursor)
    assert [(c["id"], c.get("removed", False)) for c in changes] == [(j1, False), (j2, True)]
    assert changes[0]["data"]["status"] == "scheduled"
    assert changes[1] == {"entity": "job", "id": j2, "removed": True}
    again, _, _ = pull_all(api, reader, cursor)
    assert again == []


def test_pulling_everything_yields_the_servers_state(server: ServerProcess) -> None:
    api = server.api()
    writer = new_id("w-")
    device = api.device(new_id("reader-"))
    cid = new_id("c-")
    api.push(
        writer,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "customer", cid, "update", {"phone": "555"}),
        ],
    )
    device.pull(limit=3)
    doc = api.get(f"/api/customers/{cid}").json()
    for key in ("locations", "contacts", "jobs"):
        doc.pop(key)
    assert device.replica[("customer", cid)] == doc


def test_notices_reach_the_losing_device_exactly_once(server: ServerProcess) -> None:
    api = server.api()
    a, b, cid = new_id("a-"), new_id("b-"), new_id("c-")
    base = api.push(a, [op(1, "customer", cid, fields=customer_fields())]).json()["results"][0][
        "version"
    ]
    t = time.time_ns() // 1_000_000
    api.push(a, [op(2, "customer", cid, "update", {"name": "A wins"}, ts=t, base=base)])
    pushed = api.push(
        b, [op(1, "customer", cid, "update", {"name": "B loses"}, ts=t - 5, base=base)]
    ).json()
    [notice] = pushed["conflicts"]

    _, a_notices, _ = pull_all(api, a)
    assert a_notices == []  # the winner is not told

    first = api.pull(b).json()
    assert [n["id"] for n in first["notices"]] == [notice["id"]]
    assert first["notices"][0] == notice
    # The response was lost: the same cursor delivers the notice again.
    assert [n["id"] for n in api.pull(b).json()["notices"]] == [notice["id"]]
    # Presenting the cursor that carried it acknowledges it.
    after = api.pull(b, first["cursor"]).json()
    assert after["notices"] == []
    assert api.pull(b).json()["notices"] == []  # not even from a null cursor again


def test_msgpack_pull_carries_the_same_changes(server: ServerProcess) -> None:
    api = server.api()
    dev, cid = new_id("dev-"), new_id("c-")
    api.push(dev, [op(1, "customer", cid, fields=customer_fields())])
    as_json = api.pull(dev).json()
    r = api.http.post(
        "/sync/pull",
        content=msgspec.msgpack.encode({"device_id": dev, "cursor": None}),
        headers={"Content-Type": "application/msgpack", "Accept": "application/msgpack"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/msgpack"
    as_msgpack = msgspec.msgpack.decode(r.content)
    assert as_msgpack["changes"] == as_json["changes"]
    assert api.pull(dev, as_msgpack["cursor"]).json()["changes"] == []


def test_a_cursor_the_server_did_not_issue_is_invalid(server: ServerProcess) -> None:
    api = server.api()
    for cursor in ("garbage", "v1.1.2", "v1.-1.0.0", "v1.99999999999999999999.0.0"):
        r = api.pull(new_id("dev-"), cursor)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), cursor


def test_pull_limit_must_be_1_to_5000(server: ServerProcess) -> None:
    api = server.api()
    for limit in (0, 5001):
        r = api.pull(new_id("dev-"), None, limit)
        assert r.status_code == 422
