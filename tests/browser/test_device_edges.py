"""The browser SDK where the network and the server get in its way: a write that
loses every field, a pull that fails after its push, a photo the bucket refuses, a
proxy with a smaller body limit, a captive portal answering 200, a tab stuck in a
sync, and a photo of a job made offline (the same cases as the Python SDK's
tests/clients/test_device_edges.py)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, Route

from tests.browser.test_device import (
    SYNC_FAILURE,
    _png,
    acked_seq,
    device_page,
    make_job,
    server_job,
    user_token,
)
from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id

ADD_PHOTO = """async ([jobId, b64]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return d.addPhoto(jobId, new Blob([bytes], {type: "image/png"}));
}"""


def synced_device(context: BrowserContext, server: ServerProcess) -> tuple[Api, str, str, Page]:
    """A job, and a dispatcher's device that has pulled it: (api, job id, device id, page)."""
    api = server.api()
    jid, _ = make_job(api)
    dev = new_id("tab-")
    page = device_page(context, server, user_token(server), dev)
    page.evaluate("() => d.sync()")
    return api, jid, dev, page


def test_a_write_that_loses_every_field_leaves_the_view_at_the_winner(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    jid, _ = make_job(api)
    token = user_token(server)
    ahead = device_page(context, server, token, new_id("tab-"), clock_ahead_ms=120_000)
    behind = device_page(context, server, token, new_id("tab-"))
    behind.evaluate("() => d.sync()")
    ahead.evaluate("(id) => d.update('job', id, {description: 'two minutes ahead'})", jid)
    ahead.evaluate("() => d.sync()")
    behind.evaluate("() => d.sync()")  # pulls the winner, then writes over it, stamped earlier
    behind.evaluate("(id) => d.update('job', id, {description: 'later, stamped earlier'})", jid)
    assert behind.evaluate("() => d.sync()")["rejected"] == []
    assert server_job(api, jid)["description"] == "two minutes ahead"
    assert behind.evaluate("(id) => d.get('job', id)", jid)["description"] == "two minutes ahead"


def test_a_write_stays_in_view_when_the_pull_after_its_push_fails(
    context: BrowserContext, server: ServerProcess
) -> None:
    api, jid, _, page = synced_device(context, server)
    page.evaluate("(id) => d.update('job', id, {status: 'completed'})", jid)

    def refuse(route: Route) -> None:
        route.abort()

    context.route("**/sync/pull", refuse)
    assert page.evaluate(SYNC_FAILURE)["code"] == "unavailable"
    assert page.evaluate("() => d.pending()") == 0  # acknowledged...
    shown = page.evaluate("(id) => d.get('job', id)", jid)
    assert (shown["status"], shown["pending"]) == ("completed", False)  # ...and still shown
    listed = page.evaluate("() => d.query('job', {status: 'completed'})")
    assert [j["id"] for j in listed] == [jid]

    context.unroute("**/sync/pull")
    page.evaluate("() => d.sync()")
    assert page.evaluate("() => d._read('applied', (s) => s.count())") == 0
    assert page.evaluate("(id) => d.get('job', id)", jid)["status"] == "completed"


def queued_photo_and_write(
    context: BrowserContext, server: ServerProcess, description: str
) -> tuple[Api, str, Page, str]:
    """A synced device with a photo queued for a job, then a write to that job:
    (api, job id, the device's page, photo id)."""
    api, jid, _, page = synced_device(context, server)
    photo_id = page.evaluate(ADD_PHOTO, [jid, base64.b64encode(_png()).decode()])
    page.evaluate("([id, text]) => d.update('job', id, {description: text})", [jid, description])
    return api, jid, page, photo_id


def bucket_answers(context: BrowserContext, answer: Callable[[Route], None]) -> None:
    """Every photo PUT gets `answer`; everything else goes through."""

    def route(r: Route) -> None:
        if r.request.method == "PUT":
            answer(r)
        else:
            r.continue_()

    context.route("**/*", route)


def test_a_photo_the_bucket_refuses_is_rejected_and_holds_back_nothing_else(
    context: BrowserContext, server: ServerProcess
) -> None:
    api, jid, page, photo_id = queued_photo_and_write(context, server, "with a photo")
    bucket_answers(context, lambda r: r.fulfill(status=400, body="<Error>BadDigest</Error>"))
    result = page.evaluate("() => d.sync()")
    context.unroute("**/*")
    (rejection,) = result["rejected"]
    assert rejection["seq"] is None and rejection["op"]["id"] == photo_id
    assert rejection["error"]["code"] == "http_400"
    assert server_job(api, jid)["description"] == "with a photo"
    assert page.evaluate("() => d.pending()") == 0
    assert page.evaluate("(id) => d.get('job_photo', id)", photo_id) is None


def test_a_photo_that_cannot_upload_now_stays_queued_while_the_outbox_goes(
    context: BrowserContext, server: ServerProcess
) -> None:
    api, jid, page, photo_id = queued_photo_and_write(context, server, "photo later")
    bucket_answers(context, lambda r: r.abort())
    failure = page.evaluate(SYNC_FAILURE)
    context.unroute("**/*")
    assert failure == {"name": "SyncError", "code": "unavailable", "retryable": True}
    assert server_job(api, jid)["description"] == "photo later"
    assert page.evaluate("(id) => d.get('job_photo', id)", photo_id)["status"] == "queued"
    assert page.evaluate("() => d.sync()")["rejected"] == []
    assert photo_id in [p["id"] for p in server_job(api, jid)["photos"]]


def test_a_photo_of_a_job_made_offline_is_uploaded_after_the_job(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    page = device_page(context, server, user_token(server), new_id("tab-"))
    cid, jid = new_id("c-"), new_id("j-")
    page.evaluate("([id, f]) => d.create('customer', id, f)", [cid, customer_fields()])
    page.evaluate("([id, f]) => d.create('job', id, f)", [jid, job_fields(cid)])
    photo_id = page.evaluate(ADD_PHOTO, [jid, base64.b64encode(_png()).decode()])
    result = page.evaluate("() => d.sync()")
    assert result["rejected"] == [] and page.evaluate("() => d.pending()") == 0
    assert api.get(f"/api/photos/{photo_id}").json()["job_id"] == jid


def test_a_proxy_refusing_a_big_push_gets_it_in_halves(
    context: BrowserContext, server: ServerProcess
) -> None:
    api, jid, dev, page = synced_device(context, server)
    n = 40
    page.evaluate(
        """async ([id, n]) => {
            for (let i = 0; i < n; i++) {
                await d.update('job', id, {description: `${i} ` + 'x'.repeat(2000)});
            }
        }""",
        [jid, n],
    )
    passed: list[int] = []
    refused: list[int] = []

    def small_limit(route: Route) -> None:  # a proxy in front with a 40 kB limit
        size = len(route.request.post_data_buffer or b"")
        if size > 40_000:
            refused.append(size)
            route.fulfill(status=413, body="<html>Request Entity Too Large</html>")
        else:
            passed.append(size)
            route.continue_()

    context.route("**/sync/push", small_limit)
    assert page.evaluate("() => d.sync()")["pushed"] == n
    context.unroute("**/sync/push")
    assert refused[0] > 80_000 and len(passed) >= 3
    assert acked_seq(api, dev) == n
    assert server_job(api, jid)["description"].startswith(f"{n - 1} ")


def test_a_captive_portal_answering_200_fails_the_sync_as_the_network_would(
    context: BrowserContext, server: ServerProcess
) -> None:
    api, jid, dev, page = synced_device(context, server)
    page.evaluate("(id) => d.update('job', id, {status: 'on_hold'})", jid)

    def portal(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<h1>Sign in to Wi-Fi</h1>")

    context.route("**/sync/**", portal)
    failure = page.evaluate(SYNC_FAILURE)
    context.unroute("**/sync/**")
    assert failure == {"name": "SyncError", "code": "unavailable", "retryable": True}
    assert page.evaluate("() => d.pending()") == 1
    assert page.evaluate("() => d.sync()")["pushed"] == 1
    assert acked_seq(api, dev) == 1 and server_job(api, jid)["status"] == "on_hold"


def test_a_sync_waiting_on_a_stuck_tab_gives_up_as_busy(
    context: BrowserContext, server: ServerProcess
) -> None:
    token, dev = user_token(server), new_id("tab-")
    stuck = device_page(context, server, token, dev)
    waiting = device_page(context, server, token, dev)
    stuck.evaluate(
        """(dev) => new Promise((held) => navigator.locks.request(
            `fieldsync-sync:${dev}`, () => { held(); return new Promise(() => {}); }))""",
        dev,
    )
    waiting.evaluate("() => { d.lockWaitMs = 500; }")
    busy = {"name": "SyncError", "code": "busy", "retryable": True}
    assert waiting.evaluate(SYNC_FAILURE) == busy
    stuck.close()  # the lock goes with the tab
    assert waiting.evaluate("() => d.sync()")["pushed"] == 0


def test_live_pushes_a_write_without_waiting_for_a_poke(
    context: BrowserContext, server: ServerProcess
) -> None:
    api, jid, dev, page = synced_device(context, server)
    page.evaluate("() => d.live()")
    page.wait_for_timeout(500)  # the first sync of live() is over
    page.evaluate("(id) => d.update('job', id, {status: 'on_hold'})", jid)
    deadline = time.monotonic() + 3
    while page.evaluate("() => d.pending()") > 0:
        assert time.monotonic() < deadline, "the write was not pushed"
        page.wait_for_timeout(100)
    assert server_job(api, jid)["status"] == "on_hold" and acked_seq(api, dev) == 1
    page.evaluate("() => d.stop()")
