"""The technician app at /ui (issue 14; docs/protocol.md, "Web app, SDK module and
docs") in a real Chromium against a real server: sign-in, My jobs that follow the
dispatcher's changes live, a job done offline from a reload, conflicts shown and
acknowledged."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.webapp import ConsoleWatch, Office, my_job_titles, person, sign_in
from tests.conftest import DatabaseFactory
from tests.support import ServerProcess


def on_a_job_page(
    context: BrowserContext, server: ServerProcess, **job: Any
) -> tuple[Office, str, Page]:
    """A technician signed in on the page of their job "Replace inverter":
    (the office that wrote it, the job's id, the page)."""
    office = Office(server.api())
    tess, token = person(server)
    jid = office.job("Replace inverter", tess["id"], **job)
    page = context.new_page()
    sign_in(page, server, token)
    page.get_by_role("link", name="Replace inverter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replace inverter")
    return office, jid, page


def test_a_technician_sees_exactly_their_jobs_and_a_reassignment_live(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    office = Office(server.api())
    tess, token = person(server)
    other, _ = person(server)
    mine = [
        office.job("Replace inverter", tess["id"]),
        office.job("Inspect rack", tess["id"], days=1),
    ]
    theirs = office.job("Thermal alarm", other["id"])
    page = context.new_page()
    sign_in(page, server, token)
    expect(page.get_by_role("list", name="My jobs").get_by_role("link")).to_have_count(2)
    assert my_job_titles(page) == ["Replace inverter", "Inspect rack"]  # scheduled order
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(["My jobs"])

    office.write("job", mine[0], "update", {"technician_id": other["id"]})
    office.write("job", theirs, "update", {"technician_id": tess["id"]})
    expect(page.get_by_role("list", name="My jobs").get_by_role("link")).to_have_text(
        ["Thermal alarm", "Inspect rack"], timeout=10_000
    )
    expect(page.get_by_role("status")).to_contain_text("All changes synced")
    assert console.errors == []


def test_sign_out_clears_the_device_and_asks_for_a_token_again(
    context: BrowserContext, server: ServerProcess
) -> None:
    office = Office(server.api())
    tess, token = person(server)
    office.job("Replace inverter", tess["id"])
    page = context.new_page()
    sign_in(page, server, token)
    expect(page.get_by_role("link", name="Replace inverter")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Token")).to_be_visible()
    databases = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert not [name for name in databases if re.match(r"fieldsync:", name)]
    page.reload()
    expect(page.get_by_label("Token")).to_be_visible()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_a_job_done_offline_after_a_reload_reaches_the_server_once_online(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    api = server.api()
    office = Office(api)
    tess, token = person(server)
    jid = office.job("Replace inverter", tess["id"])
    page = context.new_page()
    sign_in(page, server, token)
    expect(page.get_by_role("link", name="Replace inverter")).to_be_visible()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    console.set_offline(context, True)
    reloaded = page.reload()
    assert reloaded is not None and reloaded.from_service_worker
    status = page.get_by_role("status")
    expect(status).to_contain_text("Offline")
    page.get_by_role("link", name="Replace inverter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replace inverter")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".badge.status-completed")).to_have_text("Completed")
    page.get_by_role("textbox", name="Note", exact=True).fill("Swapped module 3; tested at 48 V.")
    page.get_by_role("button", name="Add note").click()
    photo = _png()
    page.get_by_label("Take or attach a photo").set_input_files(
        {"name": "rack.png", "mimeType": "image/png", "buffer": photo}
    )
    expect(page.locator(".photos img")).to_have_count(1)  # from the local bytes
    expect(status).to_contain_text("Offline")
    expect(status).to_contain_text("4 changes waiting")  # start, complete, note, photo

    console.set_offline(context, False)
    expect(status).to_contain_text("All changes synced", timeout=20_000)
    expect(status).not_to_contain_text("Offline")
    job = api.get(f"/api/jobs/{jid}").json()
    assert job["status"] == "completed" and job["completed_date"]
    assert [n["body"] for n in job["notes"]] == ["Swapped module 3; tested at 48 V."]
    (served,) = job["photos"]
    assert served["size"] == len(photo)
    deadline = time.monotonic() + 10
    while api.get(f"/api/photos/{served['id']}").json()["status"] != "available":
        assert time.monotonic() < deadline, "the photo never became available"
        time.sleep(0.2)
    assert console.errors == []


def test_a_dispatchers_later_write_wins_and_the_technician_acknowledges_the_conflict(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    office, jid, page = on_a_job_page(context, server, description="As ordered.")
    api = office.api
    version = int(api.get(f"/api/jobs/{jid}").json()["version"])
    description = page.get_by_role("textbox", name="Description")
    expect(description).to_have_value("As ordered.")

    console.set_offline(context, True)
    description.fill("Module 3 swapped, the rest are fine.")
    page.get_by_role("button", name="Save description").click()
    expect(page.get_by_role("status")).to_contain_text("1 changes waiting")
    # Meanwhile the dispatcher, who had not seen it, writes the field with a later clock.
    later = int(time.time() * 1000) + 60_000
    office.write(
        "job", jid, "update", {"description": "Replace all four modules."}, ts=later, base=version
    )
    console.set_offline(context, False)

    notice = page.get_by_role("region", name="Conflicts on this job")
    expect(notice).to_contain_text("Module 3 swapped, the rest are fine.", timeout=20_000)
    expect(notice).to_contain_text("Replace all four modules.")
    expect(notice).to_contain_text(office.device_id)
    expect(description).to_have_value("Replace all four modules.")
    (conflict,) = api.get("/api/conflicts", entity_id=jid).json()["items"]
    assert conflict["loser"]["value"] == "Module 3 swapped, the rest are fine."

    page.get_by_role("button", name="Acknowledge").click()
    expect(notice).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replace inverter")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    assert console.errors == []


def test_a_write_the_server_refuses_is_shown_on_the_job_with_its_reason(
    context: BrowserContext, server: ServerProcess
) -> None:
    _, _, page = on_a_job_page(context, server)
    page.get_by_role("textbox", name="Note", exact=True).fill("x" * 5001)  # the limit is 5,000
    page.get_by_role("button", name="Add note").click()
    refused = page.get_by_role("region", name="Changes the server refused")
    expect(refused).to_contain_text("invalid_op", timeout=10_000)
    expect(refused).to_contain_text("body")
    expect(page.get_by_role("status")).to_contain_text("All changes synced")
    page.get_by_role("button", name="Dismiss refused changes").click()
    expect(refused).to_have_count(0)


def test_a_release_while_the_app_is_open_offers_a_reload_and_keeps_the_changes(
    browser: Browser, databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The server restarts with other settings (a new /ui/config.json, so a new app
    version and service worker) while a technician has the app open with a change
    waiting: the page says it was updated; a reload runs the new version, the
    change still waiting."""
    release = ServerProcess(databases.create(), tmp_path_factory.mktemp("release"))
    release.start()
    context = browser.new_context()
    try:
        office = Office(release.api())
        tess, token = person(release)
        office.job("Replace inverter", tess["id"])
        page = context.new_page()
        sign_in(page, release, token)
        expect(page.get_by_role("link", name="Replace inverter")).to_be_visible()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.get_by_role("link", name="Replace inverter").click()
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_role("status")).to_contain_text("1 changes waiting")

        release.stop()
        release.extra_env["SYNCSERVER_MAP_TILE_URL"] = "http://tiles.test/{z}/{x}/{y}.png"
        release.start()
        context.set_offline(False)  # `online`: the app asks the worker to look for a release
        banner = page.get_by_role("alert").filter(has_text="Fieldsync has been updated")
        expect(banner).to_be_visible(timeout=15_000)
        banner.get_by_role("button", name="Reload").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Replace inverter")
        config = page.evaluate("() => fetch('/ui/config.json').then((r) => r.json())")
        assert config["map_tile_url"].startswith("http://tiles.test/")
        expect(page.get_by_role("alert").filter(has_text="updated")).to_have_count(0)
        expect(page.get_by_role("status")).to_contain_text("All changes synced", timeout=15_000)
        assert release.api().get("/api/jobs", q="Replace inverter").json()["items"][0][
            "status"
        ] == ("in_progress")
    finally:
        context.close()
        release.stop()
