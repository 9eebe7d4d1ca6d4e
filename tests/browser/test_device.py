"""The browser SDK (clients/js/fieldsync.js, docs/sdk.md) in a real Chromium
against a real server: offline writes that survive a reload, several tabs on one
device, conflict notices, live updates over the WebSocket, photos, re-stamping
after `clock_ahead`, and the module's own route.

Every page is on the server's origin (its /healthz), so the module and every
request the SDK makes are same-origin, as for an app served by the server."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Route

from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op

# Opens the device in the page as `window.d` and counts what it dispatches.
OPEN_DEVICE = """async ({token, deviceId, clockAheadMs}) => {
    const {Device} = await import("/sdk/fieldsync.js");
    window.Device = Device;
    const clock = () => Date.now() + clockAheadMs;
    window.d = await Device.open({url: location.origin, token, deviceId, clock});
    window.events = {change: 0, notice: [], status: [], error: []};
    d.addEventListener("change", () => events.change++);
    d.addEventListener("notice", (e) => events.notice.push(e.detail));
    d.addEventListener("status", (e) => events.status.push(e.detail));
    d.addEventListener("error", (e) => events.error.push(String(e.detail)));
}"""

# A sync's SyncError as plain data (null when the sync resolved).
SYNC_FAILURE = """() => d.sync().then(
    () => null,
    (e) => ({name: e.name, code: e.code, retryable: e.retryable}),
)"""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def user_token(server: ServerProcess, role: str = "dispatcher") -> str:
    api = server.api()
    user = api.create_user(role)
    return str(api.token_for(user["id"])["token"])


def make_job(api: Api, **extra: Any) -> tuple[str, int]:
    """A customer and a job written by an office device: (job id, its version)."""
    cid, jid = new_id("c-"), new_id("j-")
    r = api.push(
        new_id("office-"),
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid, **extra)),
        ],
    )
    assert r.status_code == 200, r.text
    return jid, int(r.json()["results"][-1]["version"])


def open_device(page: Page, token: str, device_id: str, clock_ahead_ms: int = 0) -> None:
    page.evaluate(
        OPEN_DEVICE, {"token": token, "deviceId": device_id, "clockAheadMs": clock_ahead_ms}
    )


def device_page(
    context: BrowserContext,
    server: ServerProcess,
    token: str,
    device_id: str,
    clock_ahead_ms: int = 0,
) -> Page:
    page = context.new_page()
    page.goto(server.base_url + "/healthz")
    open_device(page, token, device_id, clock_ahead_ms)
    return page


def server_job(api: Api, job_id: str) -> dict[str, Any]:
    r = api.get(f"/api/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def acked_seq(api: Api, device_id: str) -> int:
    (device,) = [d for d in api.list_all("/api/devices", 500) if d["device_id"] == device_id]
    return int(device["acked_seq"])


def test_a_write_made_offline_survives_a_reload_and_reaches_the_server_once_online(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    jid, version = make_job(api)
    token, dev = user_token(server), new_id("tab-")
    page = device_page(context, server, token, dev)
    assert page.evaluate("() => d.sync()")["pulled"] >= 2

    context.set_offline(True)
    seq = page.evaluate("(id) => d.update('job', id, {status: 'in_progress'})", jid)
    assert seq == 1
    assert page.evaluate(SYNC_FAILURE) == {
        "name": "SyncError",
        "code": "unavailable",
        "retryable": True,
    }
    assert page.evaluate("() => events.status.at(-1)") == {
        "online": False,
        "pending": 1,
        "syncing": False,
    }

    # Reload while the server stays out of reach: the page can load, sync cannot.
    context.set_offline(False)

    def unreachable(route: Route) -> None:
        route.abort()

    context.route("**/sync/**", unreachable)
    context.route("**/api/**", unreachable)
    page.reload()
    open_device(page, token, dev)
    assert page.evaluate("() => d.pending()") == 1
    view = page.evaluate("(id) => d.get('job', id)", jid)
    assert (view["status"], view["pending"], view["version"]) == ("in_progress", True, version)
    assert page.evaluate(SYNC_FAILURE)["code"] == "unavailable"

    context.unroute("**/sync/**")
    context.unroute("**/api/**")
    result = page.evaluate("() => d.sync()")
    assert result["pushed"] == 1
    assert server_job(api, jid)["status"] == "in_progress"
    assert acked_seq(api, dev) == 1
    view = page.evaluate("(id) => d.get('job', id)", jid)
    assert view["status"] == "in_progress" and view["pending"] is False
    assert view["version"] > version
    assert page.evaluate("() => d.pending()") == 0


def test_two_tabs_of_one_device_get_distinct_seqs_and_every_op_reaches_the_server_once(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    token, dev, tag = user_token(server), new_id("tab-"), new_id("tabs")
    n = 25
    tabs = [device_page(context, server, token, dev) for _ in range(2)]

    # Each tab starts n writes at once, then both wait: the writes interleave.
    for side, page in zip("ab", tabs, strict=True):
        page.evaluate(
            """([tag, side, n]) => {
                window.writes = Promise.all(Array.from({length: n}, (_, i) =>
                    d.create("customer", `${tag}-${side}${i}`,
                             {name: `${tag} ${side}${i}`, type: "commercial"})));
            }""",
            [tag, side, n],
        )
    seqs = [seq for page in tabs for seq in page.evaluate("() => window.writes")]
    assert sorted(seqs) == list(range(1, 2 * n + 1))
    assert [page.evaluate("() => d.pending()") for page in tabs] == [2 * n, 2 * n]

    # Both sync at once: one waits for the other, so nothing is pushed twice.
    for page in tabs:
        page.evaluate("() => { window.synced = d.sync(); }")
    results = [page.evaluate("() => window.synced") for page in tabs]
    assert sum(r["pushed"] for r in results) == 2 * n
    assert acked_seq(api, dev) == 2 * n
    on_server = api.list_all("/api/customers", 500, q=tag)
    expected = {f"{tag}-{side}{i}" for side in "ab" for i in range(n)}
    assert sorted(c["id"] for c in on_server) == sorted(expected)

    # A write in one tab is a `change` in the other, which sees it.
    a, b = tabs
    before = b.evaluate("() => events.change")
    a.evaluate("(id) => d.create('customer', id, {name: 'Late', type: 'utility'})", f"{tag}-late")
    b.wait_for_function("(before) => events.change > before", arg=before, timeout=5000)
    assert b.evaluate("(id) => d.get('customer', id)", f"{tag}-late")["pending"] is True
    assert b.evaluate("() => d.sync()")["pushed"] == 1
    assert acked_seq(api, dev) == 2 * n + 1


def test_a_lost_write_dispatches_its_notice_once_until_acknowledged(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    jid, version = make_job(api)
    token, dev = user_token(server), new_id("tab-")
    page = device_page(context, server, token, dev)
    page.evaluate("() => d.sync()")
    page.evaluate("(id) => d.update('job', id, {status: 'on_hold'})", jid)

    # Meanwhile another device, which had seen the same version, writes the same
    # field with a later clock: this device's write will lose.
    other = new_id("office-")
    later = op(1, "job", jid, "update", {"status": "completed"}, ts=now_ms() + 60_000, base=version)
    assert api.push(other, [later]).json()["results"][0]["status"] == "applied"

    result = page.evaluate("() => d.sync()")
    dispatched = page.evaluate("() => events.notice")
    assert len(dispatched) == 1, dispatched  # the push answer and the pull both carry it
    (notice,) = dispatched
    assert notice["entity_id"] == jid and notice["field"] == "status"
    assert (notice["loser"]["device_id"], notice["loser"]["value"]) == (dev, "on_hold")
    assert (notice["winner"]["device_id"], notice["winner"]["value"]) == (other, "completed")
    assert result["notices"] == [notice]
    (on_server,) = api.get("/api/conflicts", entity_id=jid).json()["items"]
    assert on_server["id"] == notice["id"]
    assert page.evaluate("() => d.notices()") == [notice]
    assert page.evaluate("(id) => d.get('job', id)", jid)["status"] == "completed"

    page.evaluate("() => d.sync()")
    assert len(page.evaluate("() => events.notice")) == 1
    page.evaluate("(id) => d.ackNotice(id)", notice["id"])
    assert page.evaluate("() => d.notices()") == []
    page.reload()
    open_device(page, token, dev)
    page.evaluate("() => d.sync()")
    assert page.evaluate("() => d.notices()") == []


def test_live_applies_another_clients_change_without_a_sync_call_until_stopped(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    jid, version = make_job(api, title="Before")
    token, dev = user_token(server), new_id("tab-")
    page = device_page(context, server, token, dev)
    page.evaluate(
        """(id) => {
            window.title = null;
            d.addEventListener("change", async () => {
                window.title = (await d.get("job", id))?.title ?? null;
            });
            d.live();
        }""",
        jid,
    )
    page.wait_for_function("() => window.title === 'Before'", timeout=10_000)

    edit = op(1, "job", jid, "update", {"title": "After"}, base=version)
    office = new_id("office-")
    assert api.push(office, [edit]).json()["results"][0]["status"] == "applied"
    page.wait_for_function("() => window.title === 'After'", timeout=5_000)
    assert page.evaluate("(id) => d.get('job', id)", jid)["title"] == "After"

    page.evaluate("() => d.stop()")
    again = op(2, "job", jid, "update", {"title": "Unseen"}, base=version)
    assert api.push(office, [again]).json()["results"][0]["status"] == "applied"
    page.wait_for_timeout(2_000)  # pokes come within about 600 ms
    assert page.evaluate("() => window.title") == "After"
    assert page.evaluate("() => events.error") == []


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_a_photo_is_queued_then_uploaded_and_written_by_sync(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    jid, _ = make_job(api)
    token, dev = user_token(server), new_id("tab-")
    page = device_page(context, server, token, dev)
    page.evaluate("() => d.sync()")
    png = _png()

    photo_id = page.evaluate(
        """async ([jobId, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const blob = new Blob([bytes], {type: "image/png"});
            return d.addPhoto(jobId, blob, {caption: "Meter", takenAt: "2025-01-02T03:04:05Z"});
        }""",
        [jid, base64.b64encode(png).decode()],
    )
    queued = page.evaluate("(id) => d.get('job_photo', id)", photo_id)
    assert queued["status"] == "queued" and queued["pending"] is True
    assert queued["sha256"] == hashlib.sha256(png).hexdigest() and queued["size"] == len(png)
    assert (queued["job_id"], queued["caption"]) == (jid, "Meter")
    assert page.evaluate("() => d.pending()") == 1
    listed = page.evaluate("(id) => d.query('job_photo', {job_id: id})", jid)
    assert [p["id"] for p in listed] == [photo_id]
    assert api.get(f"/api/photos/{photo_id}").status_code == 404

    result = page.evaluate("() => d.sync()")
    assert result["pushed"] == 1 and result["rejected"] == []
    r = api.get(f"/api/photos/{photo_id}")
    assert r.status_code == 200, r.text
    photo = r.json()
    assert (photo["job_id"], photo["sha256"], photo["size"]) == (
        jid,
        hashlib.sha256(png).hexdigest(),
        len(png),
    )
    assert photo["status"] == "available"
    assert httpx.get(photo["url"]).content == png
    assert photo_id in [p["id"] for p in server_job(api, jid)["photos"]]
    view = page.evaluate("(id) => d.get('job_photo', id)", photo_id)
    assert view["status"] == "available" and view["pending"] is False
    assert page.evaluate("() => d.pending()") == 0


def test_a_clock_ahead_device_stamps_its_ops_again_and_keeps_their_order(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    jid, _ = make_job(api)
    token, dev = user_token(server), new_id("tab-")
    # An hour ahead, and never synced: its first push is refused with clock_ahead.
    page = device_page(context, server, token, dev, clock_ahead_ms=3_600_000)
    page.evaluate("(id) => d.update('job', id, {status: 'in_progress'})", jid)
    page.evaluate("(id) => d.update('job', id, {status: 'on_hold'})", jid)
    assert page.evaluate("() => d.sync()")["pushed"] == 2
    job = server_job(api, jid)
    assert job["status"] == "on_hold"  # the later write still wins
    meta = job["fields_meta"]["status"]
    assert meta["device_id"] == dev and abs(meta["ts"] - now_ms()) < 60_000


def test_a_store_opened_for_another_server_is_refused(
    context: BrowserContext, server: ServerProcess
) -> None:
    token, dev = user_token(server), new_id("tab-")
    page = device_page(context, server, token, dev)
    page.evaluate("() => d.close()")
    refused = page.evaluate(
        """([token, deviceId]) => Device.open({url: "http://127.0.0.1:9", token, deviceId})
            .then(() => null, (e) => e.name)""",
        [token, dev],
    )
    assert refused == "ValueError"


def test_the_module_is_served_without_auth_as_javascript(server: ServerProcess) -> None:
    r = httpx.get(server.base_url + "/sdk/fieldsync.js")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == "text/javascript"
    assert "export class Device extends EventTarget" in r.text
