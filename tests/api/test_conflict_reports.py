"""Conflict reports and resolution, job history and the devices list, over HTTP
(docs/protocol.md, "Conflict reports and resolution" and "Read APIs")."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from schema import wire
from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op


def _clash(api: Api, field: str = "status", values: tuple[Any, Any] = ("on_hold", "completed")):  # type: ignore[no-untyped-def]
    """Two devices write one field of a job without seeing each other: b's later write wins.
    Returns (job id, device a, device b, the notice)."""
    office, a, b = new_id("office-"), new_id("a-"), new_id("b-")
    cid, jid = new_id("c-"), new_id("j-")
    created = api.push(
        office,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid)),
        ],
    ).json()
    base = created["results"][-1]["version"]
    t = time.time_ns() // 1_000_000
    api.push(a, [op(1, "job", jid, "update", {field: values[0]}, ts=t, base=base)])
    pushed = api.push(b, [op(1, "job", jid, "update", {field: values[1]}, ts=t + 1, base=base)])
    (notice,) = pushed.json()["conflicts"]
    return jid, a, b, notice


def test_apply_loser_writes_the_losing_value_which_every_device_then_pulls(
    server: ServerProcess,
) -> None:
    api = server.api()
    jid, a, _, notice = _clash(api)
    assert (notice["winner"]["value"], notice["loser"]["value"]) == ("completed", "on_hold")
    tablet = api.device(new_id("tablet-"))
    tablet.pull()

    r = api.post(f"/api/conflicts/{notice['id']}/resolve", {"action": "apply_loser"})
    assert r.status_code == 200, r.text
    resolved = msgspec.convert(r.json(), wire.Notice)
    assert resolved.status == "resolved"
    assert resolved.resolution["action"] == "apply_loser"
    assert resolved.resolution["resolved_by"] == "admin"
    assert resolved.resolution["op"]["device_id"] == "~server"

    tablet.pull()
    assert tablet.replica[("job", jid)]["status"] == "on_hold"
    assert api.get(f"/api/jobs/{jid}").json()["fields_meta"]["status"]["device_id"] == "~server"
    # The losing device learns the outcome too, and no new notice came of it.
    assert api.get("/api/conflicts", entity_id=jid).json()["items"] == [r.json()]

    again = api.post(f"/api/conflicts/{notice['id']}/resolve", {"action": "keep_winner"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_set_writes_a_chosen_value_and_keep_winner_writes_nothing(server: ServerProcess) -> None:
    api = server.api()
    jid, _, _, notice = _clash(api, "title", ("Swap cells", "Replace inverter"))
    bad = api.post(f"/api/conflicts/{notice['id']}/resolve", {"action": "set", "value": 42})
    assert bad.status_code == 422 and "title" in bad.json()["error"]["message"]
    missing = api.post(f"/api/conflicts/{notice['id']}/resolve", {"action": "set"})
    assert missing.status_code == 422
    r = api.post(f"/api/conflicts/{notice['id']}/resolve", {"action": "set", "value": "Both"})
    assert r.status_code == 200 and r.json()["resolution"]["value"] == "Both"
    assert api.get(f"/api/jobs/{jid}").json()["title"] == "Both"

    jid2, _, _, notice2 = _clash(api)
    version = api.get(f"/api/jobs/{jid2}").json()["version"]
    r = api.post(f"/api/conflicts/{notice2['id']}/resolve", {"action": "keep_winner"})
    assert r.status_code == 200 and r.json()["resolution"]["op"] is None
    assert api.get(f"/api/jobs/{jid2}").json()["version"] == version


def test_only_admins_read_and_resolve_conflicts(server: ServerProcess) -> None:
    api = server.api()
    _, _, _, notice = _clash(api)
    dispatcher, _ = api.user_api("dispatcher")
    for r in (
        dispatcher.get(f"/api/conflicts/{notice['id']}"),
        dispatcher.get("/api/conflicts/summary"),
        dispatcher.post(f"/api/conflicts/{notice['id']}/resolve", {"action": "keep_winner"}),
        dispatcher.get("/api/devices"),
    ):
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert api.get("/api/conflicts/nope").status_code == 404
    missing = api.post("/api/conflicts/nope/resolve", {"action": "keep_winner"})
    assert missing.status_code == 404


def test_conflicts_filter_by_either_side_and_time_and_sum_up(server: ServerProcess) -> None:
    api = server.api()
    jid, a, b, notice = _clash(api)
    by = {
        "device a": api.get("/api/conflicts", device_id=a),
        "device b": api.get("/api/conflicts", device_id=b),
        "user": api.get("/api/conflicts", user_id="admin", entity_id=jid),
        "field": api.get("/api/conflicts", field="status", entity="job", entity_id=jid),
    }
    for name, r in by.items():
        assert [n["id"] for n in r.json()["items"]] == [notice["id"]], name
    assert api.get("/api/conflicts", since="2999-01-01T00:00:00Z").json()["items"] == []
    assert api.get("/api/conflicts", device_id="nobody").json()["items"] == []

    summary = msgspec.convert(api.get("/api/conflicts/summary").json(), wire.ConflictSummary)
    assert summary.by_entity["job"] >= 1 and summary.by_field["status"] >= 1
    day = notice["detected_at"][:10]
    assert summary.by_day[day] >= 1
    assert sum(summary.by_status.values()) == sum(summary.by_entity.values())


def test_history_lists_every_op_on_the_job_in_commit_order(server: ServerProcess) -> None:
    api = server.api()
    jid, a, b, _ = _clash(api)
    technician, _ = api.user_api("technician")
    forbidden = technician.push(new_id("t-"), [op(1, "job", jid, "update", {"title": "mine"})])
    assert forbidden.json()["results"][0]["status"] == "rejected"

    items = api.list_all(f"/api/jobs/{jid}/history", limit=1)
    history = [msgspec.convert(x, wire.HistoryItem) for x in items]
    assert [(h.action, h.status) for h in history] == [
        ("create", "applied"),
        ("update", "applied"),
        ("update", "applied"),
        ("update", "rejected"),
    ]
    assert [h.device_id for h in history[1:3]] == [a, b]
    assert history[1].lost_fields == ["status"] and history[2].lost_fields == []
    assert history[3].error is not None and history[3].error.code == "forbidden"
    assert history[1].fields == {"status": "on_hold"}
    # Only those who may see the job may read its history.
    assert technician.get(f"/api/jobs/{jid}/history").status_code == 404
    assert api.get("/api/jobs/nope/history").status_code == 404


def test_history_picks_the_jobs_ops_out_of_pushes_that_carry_others(
    server: ServerProcess,
) -> None:
    api = server.api()
    phone, cid, jid, other = new_id("phone-"), new_id("c-"), new_id("j-"), new_id("j-")
    t = time.time_ns() // 1_000_000
    api.push(
        phone,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid), ts=t),
            op(3, "job", other, fields=job_fields(cid), ts=t),
            op(4, "job", jid, "update", {"title": "Swap the inverter"}, ts=t + 2),
            op(5, "job", other, "update", {"title": "Not this one"}, ts=t + 2),
        ],
    )
    # An older write of the title arrives after the newer one: lost at arrival.
    late = api.push(phone, [op(6, "job", jid, "update", {"title": "Old title"}, ts=t + 1)])
    assert late.json()["results"][0]["status"] == "applied"

    items = api.list_all(f"/api/jobs/{jid}/history", limit=1)
    history = [msgspec.convert(x, wire.HistoryItem) for x in items]

    assert [(h.seq, h.action, h.lost_fields) for h in history] == [
        (2, "create", []),
        (4, "update", []),
        (6, "update", ["title"]),
    ]
    assert history[1].fields == {"title": "Swap the inverter"}


def test_devices_list_shows_each_log_and_its_progress(server: ServerProcess) -> None:
    api = server.api()
    _, a, b, _ = _clash(api)
    devices = {d["device_id"]: d for d in api.list_all("/api/devices", limit=2)}
    assert devices[a]["acked_seq"] == 1 and devices[a]["user_id"] == "admin"
    assert devices[b]["last_push_at"] is not None and devices[b]["last_pull_at"] is None


def test_devices_list_counts_the_notices_each_device_has_not_acknowledged_by_pull(
    server: ServerProcess,
) -> None:
    api = server.api()
    _, a, b, _ = _clash(api)
    _, a2, _, _ = _clash(api)

    def pending() -> dict[str, int]:
        listed = api.list_all("/api/devices", limit=3)
        return {d["device_id"]: d["pending_notices"] for d in listed if d["device_id"] in (a, b)}

    assert pending() == {a: 1, b: 0}  # the loser's notice waits; the winner has none
    first = api.pull(a).json()
    assert len(first["notices"]) == 1
    assert pending() == {a: 1, b: 0}  # delivered, not yet acknowledged
    api.pull(a, first["cursor"])  # presenting the cursor acknowledges it
    assert pending() == {a: 0, b: 0}
    other = {d["device_id"]: d for d in api.list_all("/api/devices", limit=50)}[a2]
    assert other["pending_notices"] == 1 and other["last_pull_at"] is None


def test_customers_list_by_name_with_search_and_type(server: ServerProcess) -> None:
    api = server.api()
    dev = new_id("office-")
    tag = new_id("")
    names = [f"Volt {tag} North", f"Amp {tag} South", f"Volt {tag} East"]
    api.push(dev, [op(i + 1, "customer", f"{tag}-{i}", fields=customer_fields(name=n,
              type="utility" if i else "industrial")) for i, n in enumerate(names)])  # fmt: skip
    found = api.list_all("/api/customers", limit=1, q=f"volt {tag.upper()}")
    assert [c["name"] for c in found] == sorted([names[0], names[2]])
    typed = api.list_all("/api/customers", limit=5, q=tag, type="utility")
    assert {c["name"] for c in typed} == {names[1], names[2]}
