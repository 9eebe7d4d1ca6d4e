"""The dispatcher's calendar (issue 15) in a real Chromium against a real server:
day and week views with a column per technician and one for Unassigned, jobs
moved by drag and drop and by the keyboard's Move dialog (one op through the
device's outbox, offline too), read back through the API and the technician's
pull; axe-core, screenshots and console errors.

The browser runs in Asia/Kolkata (UTC+05:30), so local days, hours and half-hour
offsets are what the calendar must get right; the jobs' times are set in that
zone, so a run near midnight UTC still finds them on the day it expects."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.test_webapp_quality import serious_violations
from tests.browser.webapp import ConsoleWatch, Office, person, sign_in
from tests.support import Api, ServerProcess, new_id

ZONE = "Asia/Kolkata"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024)}


def new_context(browser: Browser, width: int = 1280, height: int = 800) -> BrowserContext:
    return browser.new_context(timezone_id=ZONE, viewport={"width": width, "height": height})


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile in the test's time zone, tall enough that a drag's source and
    target are both in view (Playwright's drag does not scroll in the middle of
    one); uncaught page errors fail the test."""
    ctx = new_context(browser, 1280, 2000)
    errors: list[str] = []
    ctx.on("page", lambda page: page.on("pageerror", lambda e: errors.append(str(e))))
    yield ctx
    ctx.close()
    assert errors == [], errors


def local_day(days: int = 0) -> date:
    return datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=days)


def local_time(days: int, hour: int, minute: int = 0) -> datetime:
    """That local time, `days` from today in ZONE, as an aware UTC datetime."""
    when = datetime.combine(local_day(days), datetime.min.time()).replace(
        hour=hour, minute=minute, tzinfo=ZoneInfo(ZONE)
    )
    return when.astimezone(UTC)


def rfc3339(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


def parsed(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def plan(office: Office, title: str, technician_id: str | None, when: datetime | None) -> str:
    """A job (Office.job), then scheduled at `when` (None: no date)."""
    jid = office.job(title, technician_id)
    office.write("job", jid, "update", {"scheduled_date": rfc3339(when)})
    return jid


def technician(server: ServerProcess, name: str) -> dict[str, Any]:
    return server.api().create_user("technician", name=name)


def open_calendar(page: Page, server: ServerProcess, token: str) -> None:
    sign_in(page, server, token)
    page.get_by_role("navigation").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar")
    expect(page.get_by_role("status")).to_contain_text("All changes synced")


def cell(page: Page, lane: str, slot: str) -> Locator:
    """A drop cell: lane = technician id ("" for Unassigned); slot = the hour (day
    view) or the day "YYYY-MM-DD" (week view)."""
    return page.locator(f'td[data-lane="{lane}"][data-slot="{slot}"]')


def card(where: Page | Locator, jid: str) -> Locator:
    return where.locator(f'li[data-job="{jid}"]')


def web_ops(api: Api, jid: str) -> list[dict[str, Any]]:
    """The ops the web app's device wrote to a job (its device ids start with web-)."""
    history = api.get(f"/api/jobs/{jid}/history").json()["items"]
    return [h for h in history if h["device_id"].startswith("web-")]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def test_the_calendar_passes_axe_in_day_and_week_views_and_with_the_move_dialog_open(
    browser: Browser, server: ServerProcess, axe_script: Path
) -> None:
    office = Office(server.api())
    _, token = person(server, "dispatcher")
    tess, theo = technician(server, "Tess Lind"), technician(server, "Theo Berg")
    plan(office, "Replace inverter module", tess["id"], local_time(0, 8, 30))
    plan(office, "Annual inspection", tess["id"], local_time(0, 13))
    plan(office, "Thermal alarm on rack 4", theo["id"], local_time(0, 10, 15))
    plan(office, "Battery swap", theo["id"], local_time(2, 9))
    done = plan(office, "Fan check", theo["id"], local_time(0, 7))
    office.write("job", done, "update", {"status": "completed"})
    plan(office, "Quote for solar roof", None, local_time(0, 11))
    waiting = plan(office, "Survey new site", None, None)
    number = server.api().get(f"/api/jobs/{waiting}").json()["job_number"]
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        context = new_context(browser, width, height)
        console = ConsoleWatch(context)
        page = context.new_page()
        open_calendar(page, server, token)
        expect(card(cell(page, theo["id"], "7"), done)).to_contain_text("Completed")
        expect(card(page.get_by_role("list", name="Not scheduled"), waiting)).to_be_visible()
        assert serious_violations(page, axe_script) == [], f"day view at {size}"
        page.screenshot(path=SCREENSHOTS / f"calendar-{size}.png", full_page=True)
        width_used = page.evaluate("() => document.documentElement.scrollWidth")
        assert width_used <= width, f"the calendar scrolls sideways at {width} px"

        page.get_by_role("button", name="Week", exact=True).click()
        expect(page.get_by_role("button", name="Week", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.get_by_role("button", name="Day", exact=True)).to_have_attribute(
            "aria-pressed", "false"
        )
        expect(cell(page, tess["id"], local_day().isoformat())).to_be_visible()
        assert serious_violations(page, axe_script) == [], f"week view at {size}"

        page.get_by_role("button", name=f"Move {number}").click()
        dialog = page.get_by_role("dialog", name=f"Move {number}")
        expect(dialog.get_by_label("Technician")).to_be_focused()
        assert serious_violations(page, axe_script) == [], f"Move dialog at {size}"
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("button", name=f"Move {number}")).to_be_focused()
        page.get_by_role("button", name="Day", exact=True).click()  # as the next size starts
        assert console.errors == []
        context.close()


def test_a_job_dragged_from_unassigned_to_a_technician_reaches_the_technicians_device(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    api = server.api()
    office = Office(api)
    _, token = person(server, "dispatcher")
    tess, tess_token = person(server)
    jid = plan(office, "Replace pump seal", None, local_time(0, 8, 15))
    page = context.new_page()
    open_calendar(page, server, token)
    source = card(cell(page, "", "8"), jid)
    expect(source).to_contain_text("Unscheduled")

    source.drag_to(cell(page, tess["id"], "14"))
    moved = card(cell(page, tess["id"], "14"), jid)
    expect(moved).to_contain_text("Scheduled")
    expect(card(page, jid)).to_have_count(1)
    expect(page.get_by_role("status")).to_contain_text("All changes synced")

    # One op, with only what changed: the technician, the time (its minutes kept)
    # and the status (`unscheduled` becomes `scheduled` once planned).
    (written,) = wait_for(lambda: web_ops(api, jid), "the move never reached the server")
    assert written["status"] == "applied"
    assert set(written["fields"]) == {"technician_id", "scheduled_date", "status"}

    tablet = Api(server.base_url, tess_token)
    pulled = tablet.pull(new_id("tess-phone-")).json()
    (job,) = [c["data"] for c in pulled["changes"] if c["entity"] == "job" and c["id"] == jid]
    assert job["technician_id"] == tess["id"]
    assert parsed(job["scheduled_date"]) == local_time(0, 14, 15)
    assert job["status"] == "scheduled"

    # Dropped on `Not scheduled`, the job loses its date and keeps the rest.
    moved.drag_to(page.get_by_role("heading", name="Not scheduled"))
    expect(card(page.get_by_role("list", name="Not scheduled"), jid)).to_contain_text("No time")
    expect(page.get_by_role("status")).to_contain_text("All changes synced")
    wait_for(lambda: len(web_ops(api, jid)) == 2, "the second move never reached the server")
    job = api.get(f"/api/jobs/{jid}").json()
    assert job["scheduled_date"] is None and job["technician_id"] == tess["id"]
    assert console.errors == []


def test_the_move_dialog_moves_a_job_offline_with_the_keyboard_and_the_server_gets_it(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    api = server.api()
    office = Office(api)
    _, token = person(server, "dispatcher")
    tess, _ = person(server)
    theo, _ = person(server)
    jid = plan(office, "Inspect rack", tess["id"], local_time(0, 10))
    number = api.get(f"/api/jobs/{jid}").json()["job_number"]
    page = context.new_page()
    open_calendar(page, server, token)
    expect(card(cell(page, tess["id"], "10"), jid)).to_be_visible()

    move = page.get_by_role("button", name=f"Move {number}", exact=True)
    move.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Move {number}")
    expect(dialog).to_be_visible()
    console.set_offline(context, True)
    dialog.get_by_label("Technician").select_option(theo["id"])
    dialog.get_by_label("Date").fill(local_day(1).isoformat())
    dialog.get_by_label("Time").fill("13:45")
    dialog.get_by_role("button", name="Save").press("Enter")
    expect(dialog).to_be_hidden()

    # The calendar follows the job to its new day; focus is back on its button.
    expect(page.locator(".cal-range")).to_have_text(re.compile(str(local_day(1).day)))
    moved = card(cell(page, theo["id"], "13"), jid)
    expect(moved).to_contain_text("Waiting to sync")
    expect(moved).to_contain_text("Dispatched")  # a dispatched job keeps its status
    expect(move).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("Offline")

    console.set_offline(context, False)
    expect(page.get_by_role("status")).to_contain_text("All changes synced", timeout=20_000)
    expect(moved).not_to_contain_text("Waiting to sync")
    job = api.get(f"/api/jobs/{jid}").json()
    assert job["technician_id"] == theo["id"]
    assert parsed(job["scheduled_date"]) == local_time(1, 13, 45)
    assert job["status"] == "dispatched"
    (written,) = web_ops(api, jid)
    assert set(written["fields"]) == {"technician_id", "scheduled_date"}
    assert console.errors == []


def test_the_week_view_puts_a_job_in_its_day_and_a_drag_keeps_its_time_of_day(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    api = server.api()
    office = Office(api)
    _, token = person(server, "dispatcher")
    tess, _ = person(server)
    jid = plan(office, "Battery swap", tess["id"], local_time(3, 10, 30))
    page = context.new_page()
    open_calendar(page, server, token)
    page.get_by_role("button", name="Week", exact=True).click()
    day = local_day(3).isoformat()
    expect(cell(page, tess["id"], local_day().isoformat())).to_be_visible()
    if not cell(page, tess["id"], day).count():
        page.get_by_role("button", name="Next", exact=True).click()  # in 3 days: next week
    expect(card(cell(page, tess["id"], day), jid)).to_contain_text("Battery swap")
    expect(page.locator(f'td[data-slot="{day}"] li[data-job]')).to_have_count(1)

    slots = [
        str(s)
        for s in page.locator(f'td[data-lane="{tess["id"]}"]').evaluate_all(
            "(cells) => cells.map((c) => c.dataset.slot)"
        )
    ]
    assert len(slots) == 7 and day in slots
    other = slots[0] if slots[0] != day else slots[-1]
    card(page, jid).drag_to(cell(page, tess["id"], other))
    expect(card(cell(page, tess["id"], other), jid)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("All changes synced")

    (written,) = wait_for(lambda: web_ops(api, jid), "the move never reached the server")
    assert set(written["fields"]) == {"scheduled_date"}  # same technician, same status
    moved_to = (date.fromisoformat(other) - local_day()).days
    job = api.get(f"/api/jobs/{jid}").json()
    assert parsed(job["scheduled_date"]) == local_time(moved_to, 10, 30)
    assert console.errors == []
