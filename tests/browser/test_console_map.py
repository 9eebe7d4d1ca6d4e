"""The dispatcher's map of job locations (issue 15) in a real Chromium against a real
server: without tiles (the test machine cannot reach OpenStreetMap) the map gives way
to a note and the list named `Job locations`, which filters and follows changes live;
with a server whose tile URL is a local endpoint (answered by the test with a PNG)
the map shows one marker per located job, coloured by status with a legend, and a
marker's popup links to its job; offline, or with tiles that never answer (5 s), it
gives way again. Both variants pass axe-core; the working map is photographed at a
desktop's and a tablet's size."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect

from tests.browser.test_webapp_quality import SCREENSHOTS, serious_violations
from tests.browser.webapp import ConsoleWatch, Office, person, sign_in
from tests.conftest import DatabaseFactory
from tests.support import ServerProcess, customer_fields, job_fields, new_id

OSM = "https://tile.openstreetmap.org/"
TILES = "http://tiles.test/"
NOTE = "The map cannot be shown: map tiles could not be loaded"
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024)}


def png(width: int = 256, height: int = 256) -> bytes:
    """A light map-coloured tile with a darker edge, as PNG bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    edge, fill = b"\xc9\xd1\xda", b"\xee\xf1\xe9"
    rows = b"".join(
        b"\0" + b"".join(edge if 0 in (x, y) else fill for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


TILE = png()


@pytest.fixture(scope="module")
def tile_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server of its own whose map tiles come from TILES (SYNCSERVER_MAP_TILE_URL)."""
    proc = ServerProcess(
        databases.create(),
        tmp_path_factory.mktemp("tiles-data"),
        SYNCSERVER_MAP_TILE_URL=TILES + "{z}/{x}/{y}.png",
    )
    proc.start()
    yield proc
    proc.stop()


def located_job(
    office: Office,
    title: str,
    *,
    status: str,
    at: tuple[float, float] | None,
    days: int = 0,
) -> str:
    """A job of a customer of its own at a site of its own (`at`: lat and lng, or
    None for a site without a position), scheduled at 09:00 UTC `days` from today."""
    cid, lid, jid = new_id("c-"), new_id("l-"), new_id("j-")
    office.write("customer", cid, "create", customer_fields(name=f"{title} Ltd"))
    site: dict[str, Any] = {
        "customer_id": cid,
        "address": f"{title} Road 1",
        "postal_code": "123 45",
    }
    if at is not None:
        site.update(lat=at[0], lng=at[1])
    office.write("location", lid, "create", {**site, "city": "Elmwood"})
    when = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    when += timedelta(days=days)
    office.write(
        "job",
        jid,
        "create",
        job_fields(
            cid,
            title=title,
            location_id=lid,
            status=status,
            scheduled_date=when.isoformat().replace("+00:00", "Z"),
        ),
    )
    return jid


JOBS = {  # kind: (title, status, position, days from today)
    "today": ("Replace inverter", "dispatched", (59.33, 18.06), 0),
    "week": ("Inspect battery rack", "in_progress", (59.40, 17.95), None),
    "later": ("Annual service", "scheduled", (59.25, 18.20), 14),
    "done": ("Swap cooling fan", "completed", (59.36, 18.30), -14),
    "nowhere": ("Quote a new site", "scheduled", None, 0),
}


def seed(server: ServerProcess, tag: str) -> dict[str, tuple[str, str]]:
    """JOBS, each title ending in `tag`: {kind: (title, job id)}. "today" is
    scheduled today, "week" on another day of this week (Monday to Sunday), "later"
    and "done" two weeks away; "nowhere" has a site without a position."""
    office = Office(server.api())
    other_day = 1 if datetime.now(UTC).weekday() < 6 else -1
    made = {}
    for kind, (title, status, at, days) in JOBS.items():
        title = f"{title} {tag}"
        days = other_day if days is None else days
        made[kind] = (title, located_job(office, title, status=status, at=at, days=days))
    return made


class MapConsoleWatch(ConsoleWatch):
    """ConsoleWatch, not counting failed loads of OpenStreetMap's tiles either (the
    test machine has no internet)."""

    def _seen(self, message: ConsoleMessage) -> None:
        if not message.location.get("url", "").startswith(OSM):
            super()._seen(message)


@contextmanager
def browsing(
    browser: Browser, width: int = 1280, height: int = 800
) -> Iterator[tuple[BrowserContext, MapConsoleWatch]]:
    """A fresh context in UTC (the date filters' days are the test's) and its console
    watch. Uncaught page errors and console errors fail the test."""
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC")
    console = MapConsoleWatch(context)
    context.on("page", lambda page: page.on("pageerror", lambda e: console.errors.append(str(e))))
    try:
        yield context, console
    finally:
        context.close()
    assert console.errors == [], console.errors


def open_map(page: Page, server: ServerProcess, token: str) -> None:
    sign_in(page, server, token)
    page.get_by_role("navigation").get_by_role("link", name="Map").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Map")
    expect(page.get_by_role("status")).to_contain_text("All changes synced")


def places(page: Page, tag: str) -> list[str]:
    """The titles in the list `Job locations` of this test's jobs, sorted."""
    titles = page.get_by_role("list", name="Job locations").locator(".place-title")
    return sorted(t for t in titles.all_inner_texts() if t.endswith(f" {tag}"))


def titles(jobs: dict[str, tuple[str, str]], *kinds: str) -> list[str]:
    return sorted(jobs[kind][0] for kind in kinds)


def test_without_tiles_the_map_gives_way_to_the_list_of_job_locations(
    browser: Browser, server: ServerProcess, axe_script: Path
) -> None:
    tag = new_id()[:5]
    jobs = seed(server, tag)
    _, token = person(server, "dispatcher")
    with browsing(browser) as (context, console):
        page = context.new_page()
        open_map(page, server, token)
        note = page.get_by_role("note")
        expect(note).to_contain_text(NOTE, timeout=8_000)
        expect(note).to_contain_text("The job locations are listed below.")
        expect(page.locator(".leaflet-container")).to_have_count(0)

        listed = page.get_by_role("list", name="Job locations")
        expect(listed.get_by_role("listitem").filter(has_text=tag)).to_have_count(4)
        assert places(page, tag) == titles(jobs, "today", "week", "later", "done")
        title, jid = jobs["week"]
        item = listed.get_by_role("listitem").filter(has_text=title)
        expect(item).to_contain_text("In progress")
        expect(item).to_contain_text(f"{title} Road 1, 123 45 Elmwood")
        expect(item.get_by_role("link")).to_have_attribute("href", f"#/jobs/{jid}")
        expect(
            page.get_by_text("1 more matches the filters but has no map position")
        ).to_be_visible()
        assert serious_violations(page, axe_script) == [], "map without tiles"

        # The filters: a status, then the days.
        page.get_by_label("Status").select_option("completed")
        expect(listed.get_by_role("listitem").filter(has_text=tag)).to_have_count(1)
        assert places(page, tag) == titles(jobs, "done")
        page.get_by_label("Status").select_option("")
        page.get_by_label("Date").select_option("today")
        expect(listed.get_by_role("listitem").filter(has_text=tag)).to_have_count(1)
        assert places(page, tag) == titles(jobs, "today")
        page.get_by_label("Date").select_option("week")
        expect(listed.get_by_role("listitem").filter(has_text=tag)).to_have_count(2)
        assert places(page, tag) == titles(jobs, "today", "week")

        # The list follows the device's view live.
        Office(server.api()).write("job", jid, "update", {"status": "on_hold"})
        expect(item).to_contain_text("On hold", timeout=10_000)

        # The list is the keyboard's way: Tab from the filters reaches its links.
        page.get_by_label("Date").focus()
        first = listed.get_by_role("link").first
        for _ in range(6):
            page.keyboard.press("Tab")
            if first.evaluate("(el) => el === document.activeElement"):
                break
        else:
            pytest.fail("Tab from the filters does not reach the list of job locations")


def test_with_tiles_the_map_shows_a_marker_per_located_job_and_a_popup_links_to_it(
    browser: Browser, tile_server: ServerProcess, axe_script: Path
) -> None:
    jobs = seed(tile_server, new_id()[:5])
    located = len(jobs) - 1  # all but "nowhere"
    _, token = person(tile_server, "dispatcher")
    tiles: list[str] = []

    def tile(route: Route) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=TILE)

    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        with browsing(browser, width, height) as (context, console):
            tiles.clear()
            context.route(TILES + "**", tile)
            page = context.new_page()
            open_map(page, tile_server, token)
            markers = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
            expect(markers).to_have_count(located)
            expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
            assert tiles, "no tile was asked for"
            expect(page.get_by_role("note")).to_have_count(0)
            legend = page.get_by_role("list", name="Marker colours")
            expect(legend.get_by_role("listitem")).to_have_text(
                ["Scheduled (1)", "Dispatched (1)", "In progress (1)", "Completed (1)"]
            )
            listed = page.get_by_role("list", name="Job locations")
            expect(listed.get_by_role("listitem")).to_have_count(located)
            # Not OpenStreetMap's tiles: not its attribution either.
            attribution = page.locator(".leaflet-control-attribution")
            expect(attribution).not_to_contain_text("OpenStreetMap")
            assert serious_violations(page, axe_script) == [], f"map with tiles ({size})"
            page.screenshot(path=SCREENSHOTS / f"map-{size}.png", full_page=True)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            if size == "tablet":
                continue

            # Tab goes through the map and its controls on to the list: no trap.
            page.get_by_label("Date").focus()
            first = listed.get_by_role("link").first
            for _ in range(10):
                page.keyboard.press("Tab")
                if first.evaluate("(el) => el === document.activeElement"):
                    break
            else:
                pytest.fail("Tab from the filters does not get past the map to the list")

            # Offline, the map gives way to the note; back online, it returns.
            console.set_offline(context, True)
            expect(page.get_by_role("note")).to_contain_text(NOTE)
            expect(page.locator(".leaflet-container")).to_have_count(0)
            expect(listed.get_by_role("listitem")).to_have_count(located)
            console.set_offline(context, False)
            expect(page.get_by_role("note")).to_have_count(0)
            expect(markers).to_have_count(located)
            expect(page.get_by_role("status")).to_contain_text("All changes synced")

            # A marker's popup names the job, its status, and links to its page.
            markers.first.click()
            popup = page.locator(".leaflet-popup-content")
            link = popup.get_by_role("link")
            expect(link).to_have_text(re.compile(r"^Open job J-\d+$"))
            href = link.get_attribute("href")
            title = next(title for title, jid in jobs.values() if href == f"#/jobs/{jid}")
            expect(popup).to_contain_text(title)
            expect(popup).to_contain_text("Status: ")
            link.click()
            expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_when_no_tile_loads_within_5_s_the_map_gives_way_to_the_list(
    browser: Browser, tile_server: ServerProcess
) -> None:
    """Tiles that never answer (a tile server that hangs): the note after 5 s."""
    _, token = person(tile_server, "dispatcher")
    with browsing(browser) as (context, console):
        context.route(TILES + "**", lambda route: None)  # never answered
        page = context.new_page()
        open_map(page, tile_server, token)
        expect(page.locator(".leaflet-container")).to_have_count(1)
        expect(page.get_by_role("note")).to_have_count(0)
        expect(page.get_by_role("note")).to_contain_text(NOTE, timeout=8_000)
        expect(page.locator(".leaflet-container")).to_have_count(0)
        expect(page.get_by_role("heading", name="Job locations")).to_be_visible()
        expect(page.get_by_role("list", name="Job locations")).to_be_attached()


def test_with_openstreetmap_tiles_the_map_credits_its_contributors(
    browser: Browser, server: ServerProcess
) -> None:
    """OpenStreetMap's template (the default), its tiles answered by the test: the
    attribution "© OpenStreetMap contributors" is a link to its copyright page."""
    _, token = person(server, "dispatcher")
    with browsing(browser) as (context, console):
        context.route(OSM + "**", lambda route: route.fulfill(content_type="image/png", body=TILE))
        page = context.new_page()
        open_map(page, server, token)
        credit = page.locator(".leaflet-control-attribution").get_by_role(
            "link", name="© OpenStreetMap contributors"
        )
        expect(credit).to_have_attribute("href", "https://www.openstreetmap.org/copyright")
        expect(page.get_by_role("note")).to_have_count(0)
