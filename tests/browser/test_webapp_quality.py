"""The technician app's quality floor: axe-core finds no serious or critical
violation on sign-in, My jobs and a job page; the app answers the keyboard; and
screenshots of those screens at a phone's and a tablet's size are written to
tests/browser/screenshots/ (the README names the folder) for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.webapp import Office, person, sign_in
from tests.support import ServerProcess

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# The two sizes, and the narrowest phone the app is made for.
SIZES = {"phone": (390, 844), "tablet": (768, 1024), "narrow-phone": (360, 740)}


def serious_violations(page: Page, axe_script: Path) -> list[dict[str, Any]]:
    # Evaluated by the browser's devtools protocol, not as a <script>: the app's
    # Content-Security-Policy takes scripts from the server's own origin only.
    page.evaluate(axe_script.read_text() + "\n;undefined")
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target)}))"""
    )
    return list(found)


def test_sign_in_my_jobs_and_a_job_page_pass_axe_at_phone_and_tablet_sizes(
    browser: Browser, server: ServerProcess, axe_script: Path
) -> None:
    office = Office(server.api())
    tess, token = person(server)
    jid = office.job(
        "Replace inverter module", tess["id"], priority="urgent", description="Fault E-41."
    )
    office.job("Annual inspection", tess["id"], days=1)
    office.write("job_note", "note-" + jid, "create", {"job_id": jid, "body": "Gate code 4411."})
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(server.base_url + "/ui/")
        expect(page.get_by_label("Token")).to_be_visible()
        assert serious_violations(page, axe_script) == [], "sign-in"
        page.screenshot(path=SCREENSHOTS / f"sign-in-{size}.png", full_page=True)

        sign_in(page, server, token)
        expect(page.get_by_role("link", name="Annual inspection")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("All changes synced")
        assert serious_violations(page, axe_script) == [], "My jobs"
        page.screenshot(path=SCREENSHOTS / f"my-jobs-{size}.png", full_page=True)

        page.get_by_role("link", name="Replace inverter module").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Replace inverter module")
        expect(page.get_by_text("Gate code 4411.")).to_be_visible()
        assert serious_violations(page, axe_script) == [], "job page"
        page.screenshot(path=SCREENSHOTS / f"job-{size}.png", full_page=True)
        width_used = page.evaluate("() => document.documentElement.scrollWidth")
        assert width_used <= width, f"the job page scrolls sideways at {width} px"
        context.close()


def test_a_job_is_done_with_the_keyboard_alone(browser: Browser, server: ServerProcess) -> None:
    office = Office(server.api())
    tess, token = person(server)
    office.job("Replace inverter module", tess["id"])
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, token)
    link = page.get_by_role("link", name="Replace inverter module")
    expect(link).to_be_visible()
    for _ in range(20):  # Tab until the job's link has the focus, then open it
        page.keyboard.press("Tab")
        if link.evaluate("(el) => el === document.activeElement"):
            break
    page.keyboard.press("Enter")
    start = page.get_by_role("button", name="Start")
    start.focus()
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Complete")).to_be_visible()
    page.get_by_role("textbox", name="Note", exact=True).focus()
    page.keyboard.type("Done from the keyboard.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Add note
    expect(page.locator("#notes")).to_contain_text("Done from the keyboard.")
    context.close()
