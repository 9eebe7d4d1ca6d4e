"""The dispatcher's job board and job page (issue 15; docs/protocol.md, "Web app, SDK
module and docs") in a real Chromium against a real server: filters, search and
keyset pages over 120 jobs, a technician's change appearing live, a job planned
offline, a new job, and the job's history with who wrote each field."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.test_webapp_quality import SCREENSHOTS, serious_violations
from tests.browser.webapp import ConsoleWatch, Office, person, sign_in
from tests.support import ServerProcess, customer_fields, new_id, op

STATUSES = ["unscheduled", "scheduled", "dispatched", "in_progress", "on_hold", "completed"]


def seed_board(office: Office, technician_id: str, tag: str, n: int = 120) -> list[str]:
    """`n` jobs of one customer, titled "<tag> job NNN", scheduled a day apart, with
    statuses in turn; those in_progress are "<tag> job NNN pump" too (a search word)."""
    cid = new_id("c-")
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    writes = [("customer", cid, "create", customer_fields(name=f"{tag} Utilities"))]
    ids = []
    for i in range(n):
        status = STATUSES[i % len(STATUSES)]
        jid = f"{tag}-{i:03d}"
        ids.append(jid)
        fields = {
            "title": f"{tag} job {i:03d}" + (" pump" if status == "in_progress" else ""),
            "service_type": "maintenance",
            "customer_id": cid,
            "status": status,
            "scheduled_date": (start + timedelta(hours=i)).isoformat().replace("+00:00", "Z"),
        }
        if status != "unscheduled":
            fields["technician_id"] = technician_id
        writes.append(("job", jid, "create", fields))
    office.write_many(writes)
    return ids


def jobs_table(page: Page) -> Locator:
    """The board's table, once the page it shows is the one asked for."""
    table = page.get_by_role("table", name="Jobs")
    expect(table).to_have_attribute("aria-busy", "false")
    return table


def row_count(page: Page) -> int:
    return jobs_table(page).locator("tbody tr").count()


def first_cells(page: Page) -> list[str]:
    return jobs_table(page).locator("tbody tr td:first-child").all_inner_texts()


def test_a_dispatcher_filters_searches_and_pages_the_board_and_sees_a_status_change_live(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    api = server.api()
    office = Office(api)
    tess, tess_token = person(server)
    _, token = person(server, "dispatcher")
    tag = new_id("b")
    ids = seed_board(office, tess["id"], tag)
    page = context.new_page()
    sign_in(page, server, token)
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(
        ["Jobs", "Calendar", "Map"]
    )
    search = page.get_by_role("searchbox", name="Search")
    search.fill(tag)
    assert row_count(page) == 50
    seen = set(first_cells(page))
    page.get_by_role("button", name="Next page").click()
    assert row_count(page) == 50
    seen |= set(first_cells(page))
    page.get_by_role("button", name="Next page").click()
    assert row_count(page) == 20
    seen |= set(first_cells(page))
    assert len(seen) == 120  # every job once, none twice
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    assert row_count(page) == 50

    page.get_by_label("Status").select_option("in_progress")
    assert row_count(page) == 20
    search.fill(f"{tag} pump")
    assert row_count(page) == 20
    page.get_by_label("Status").select_option("")
    number = api.get(f"/api/jobs/{ids[7]}").json()["job_number"]
    search.fill(number)
    assert row_count(page) == 1
    rows = page.get_by_role("table", name="Jobs").locator("tbody tr")
    expect(rows.first).to_contain_text("Scheduled")  # job 7: statuses go in turn

    # The technician's device pushes a status change: the board shows it, no reload.
    tech = server.api(tess_token)
    r = tech.push(new_id("tab-"), [op(1, "job", ids[7], "update", {"status": "in_progress"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    expect(rows.first).to_contain_text("In progress", timeout=10_000)
    assert console.errors == []


def test_a_dispatcher_plans_a_job_offline_and_the_server_has_it_once_online(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    api = server.api()
    office = Office(api)
    tess, _ = person(server)
    _, token = person(server, "dispatcher")
    jid = office.job("Commission battery bank", None)
    page = context.new_page()
    sign_in(page, server, token)
    page.get_by_role("searchbox", name="Search").fill("Commission battery bank")
    jobs_table(page).get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commission battery bank")
    expect(page.get_by_role("table", name="History")).to_be_visible()

    console.set_offline(context, True)
    when = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%d")
    page.get_by_label("Technician").select_option(tess["id"])
    page.get_by_label("Date").fill(when)
    page.get_by_label("Time").fill("10:30")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("Offline")
    expect(page.get_by_text("1 changes waiting")).to_be_visible()
    console.set_offline(context, False)
    expect(page.get_by_text("All changes synced")).to_be_visible(timeout=20_000)
    job = api.get(f"/api/jobs/{jid}").json()
    assert job["technician_id"] == tess["id"] and job["status"] == "dispatched"
    local = datetime.fromisoformat(job["scheduled_date"].replace("Z", "+00:00")).astimezone()
    assert (local.strftime("%Y-%m-%d"), local.strftime("%H:%M")) == (when, "10:30")
    meta = page.get_by_role("table", name="Fields")
    expect(meta.locator("tr", has_text="technician_id")).to_contain_text("web-", timeout=10_000)
    assert console.errors == []


def test_a_dispatcher_creates_a_job_with_the_customer_and_location_pickers(
    context: BrowserContext, server: ServerProcess
) -> None:
    api = server.api()
    office = Office(api)
    tess, tess_token = person(server)
    _, token = person(server, "dispatcher")
    customer_name = f"Picker {new_id()}"
    cid, lid = office.customer(customer_name)
    page = context.new_page()
    sign_in(page, server, token)
    page.get_by_role("button", name="New job").click()
    dialog = page.get_by_role("dialog", name="New job")
    dialog.get_by_label("Title").fill("Swap inverter fan")
    dialog.get_by_role("searchbox", name="Customer").fill(customer_name)
    dialog.get_by_role("button", name=customer_name).click()
    expect(dialog.get_by_label("Location")).to_have_value(lid)
    dialog.get_by_label("Technician").select_option(tess["id"])
    dialog.get_by_label("Date").fill((datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d"))
    dialog.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Swap inverter fan")
    deadline = time.monotonic() + 10
    while True:
        found = api.get("/api/jobs", q="Swap inverter fan").json()["items"]
        if found:
            break
        assert time.monotonic() < deadline, "the new job never reached the server"
        time.sleep(0.2)
    (job,) = found
    assert (job["customer_id"], job["location_id"], job["technician_id"]) == (cid, lid, tess["id"])
    assert job["status"] == "dispatched" and job["job_number"]
    tech = server.api(tess_token)
    assert tech.get(f"/api/jobs/{job['id']}").status_code == 200  # the technician sees it


def test_the_board_and_a_dispatchers_job_page_pass_axe_with_screenshots(
    browser: Browser, server: ServerProcess, axe_script: Path
) -> None:
    office = Office(server.api())
    tess, _ = person(server)
    _, token = person(server, "dispatcher")
    tag = new_id("s")
    seed_board(office, tess["id"], tag, n=30)
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in {"desktop": (1280, 800), "tablet": (768, 1024)}.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        sign_in(page, server, token)
        page.get_by_role("searchbox", name="Search").fill(tag)
        assert row_count(page) == 30
        assert serious_violations(page, axe_script) == [], "board"
        page.screenshot(path=SCREENSHOTS / f"board-{size}.png", full_page=True)
        jobs_table(page).get_by_role("link").first.click()
        expect(page.get_by_role("table", name="History")).to_be_visible()
        assert serious_violations(page, axe_script) == [], "job page"
        page.screenshot(path=SCREENSHOTS / f"office-job-{size}.png", full_page=True)
        context.close()
