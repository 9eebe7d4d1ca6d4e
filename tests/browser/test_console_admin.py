"""The admin console's Devices and Users screens (issue 15, docs/protocol.md, "Auth and roles", 8
and 15) in a real Chromium against a real server: devices with their progress and
pending notices; users created, changed, deactivated and given tokens that are
shown once and revoked; what a dispatcher may not reach; axe-core, the keyboard and
screenshots of the users screen."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.test_webapp_quality import serious_violations
from tests.browser.webapp import ConsoleWatch, Office, person, sign_in
from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024)}


def admin_on(page: Page, server: ServerProcess, screen: str) -> None:
    """The built-in admin signed in on `page`, on the screen of that navigation link."""
    sign_in(page, server, server.api().token)
    page.get_by_role("navigation").get_by_role("link", name=screen, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(screen)


def row_of(table: Locator, text: str) -> Locator:
    return table.get_by_role("row").filter(has_text=text)


def cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.get_by_role("cell").all_inner_texts()]


def failed_loads(console: ConsoleWatch, *statuses: int) -> list[str]:
    """Console errors other than Chromium's "Failed to load resource" for answers of
    these statuses, which a test provokes on purpose (a duplicate email: 409)."""
    expected = [f"status of {status}" for status in statuses]
    return [e for e in console.errors if not any(x in e for x in expected)]


def clash(dana: Api, office: Api) -> tuple[str, str]:
    """Dana's device writes a job's status, then the office's a concurrent later one:
    Dana's device loses (one notice). Returns (Dana's device, the office's device)."""
    mine, theirs = new_id("tab-"), new_id("office-")
    cid, jid = new_id("c-"), new_id("j-")
    created = dana.push(
        mine,
        [
            op(1, "customer", cid, fields=customer_fields()),
            op(2, "job", jid, fields=job_fields(cid)),
        ],
    ).json()
    base = created["results"][-1]["version"]
    t = time.time_ns() // 1_000_000
    r = dana.push(mine, [op(3, "job", jid, "update", {"status": "on_hold"}, ts=t, base=base)])
    assert r.status_code == 200, r.text
    time.sleep(0.01)  # the office's push is the later activity
    r = office.push(
        theirs, [op(1, "job", jid, "update", {"status": "completed"}, ts=t + 1, base=base)]
    )
    assert len(r.json()["conflicts"]) == 1, r.text
    return mine, theirs


def test_devices_lists_each_device_with_its_owner_progress_and_pending_notices(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    admin = server.api()
    dana_api, dana = admin.user_api("dispatcher")
    mine, theirs = clash(dana_api, admin)
    page = context.new_page()
    admin_on(page, server, "Devices")

    table = page.get_by_role("table", name="Devices")
    expect(row_of(table, mine)).to_have_count(1)
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Device", "Owner", "Acked seq", "Last push", "Last pull", "Pending notices"]
    )
    device, owner, acked, push, pull, pending = cells(row_of(table, mine))
    assert device == mine and dana["name"] in owner and dana["email"] in owner
    assert (acked, pull, pending) == ("3", "Never", "1")
    assert push != "Never"
    _, owner, acked, _, pull, pending = cells(row_of(table, theirs))
    assert owner.startswith("Administrator") and (acked, pull, pending) == ("1", "Never", "0")
    # Most recent activity first: the office's push came after Dana's.
    ids = [cells(r)[0] for r in table.get_by_role("row").all()[1:]]
    assert ids.index(theirs) < ids.index(mine)

    # Dana's device pulls, then presents the cursor: its notice is acknowledged.
    first = dana_api.pull(mine).json()
    dana_api.pull(mine, first["cursor"])
    page.get_by_role("button", name="Refresh").click()
    expect(row_of(table, mine).get_by_role("cell").last).to_have_text("0")
    assert cells(row_of(table, mine))[4] != "Never"

    # A change the browser's device pulls reloads the list on its own (within 2 s).
    later = new_id("phone-")
    admin.push(later, [op(1, "customer", new_id("c-"), fields=customer_fields())])
    expect(row_of(table, later)).to_have_count(1, timeout=10_000)
    assert console.errors == []


def _user_row(page: Page, email: str) -> Locator:
    return row_of(page.get_by_role("table", name="Users"), email)


def test_an_admin_creates_changes_tokens_revokes_and_deactivates_users(
    context: BrowserContext, server: ServerProcess
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    console = ConsoleWatch(context)
    page = context.new_page()
    admin_on(page, server, "Users")
    email = f"{new_id('tess-')}@example.com"

    form = page.get_by_role("form", name="New user")
    form.get_by_label("Name").fill("Tess Field")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Role").select_option("technician")
    form.get_by_role("button", name="Create user").click()
    row = _user_row(page, email)
    expect(row).to_have_count(1)
    assert cells(row)[:4] == [email, "Technician", "—", "Active"]
    # The same email again: the server's 409 message, next to the form.
    form.get_by_label("Name").fill("Tess Again")
    form.get_by_label("Email").fill(email)
    form.get_by_role("button", name="Create user").click()
    expect(form.get_by_role("alert")).to_contain_text(f"a user with email {email} exists")

    # Edit: role and areas in a dialog; Save; focus goes back to `Edit`.
    edit = row.get_by_role("button", name="Edit")
    edit.click()
    dialog = page.get_by_role("dialog", name="Edit Tess Field")
    dialog.get_by_label("Role").select_option("service_provider")
    dialog.get_by_label("Service areas").fill("north, harbour, north")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(row.get_by_role("cell").nth(1)).to_have_text("Service provider")
    assert cells(row)[2] == "north, harbour"
    expect(edit).to_be_focused()
    user = next(u for u in server.api().list_all("/api/users", limit=500) if u["email"] == email)
    assert (user["role"], user["service_areas"]) == ("service_provider", ["north", "harbour"])

    # Issue a token for 30 days: shown once, copied, signed in with.
    row.get_by_role("button", name="Issue token").click()
    dialog = page.get_by_role("dialog", name="Issue a token for Tess Field")
    dialog.get_by_label("Valid for (days)").fill("30")
    dialog.get_by_role("button", name="Issue token").click()
    dialog = page.get_by_role("dialog", name="New token for Tess Field")
    expect(dialog).to_contain_text("will not be shown again")
    token = dialog.get_by_label("New token").input_value()
    assert len(token) > 20
    expect(dialog.get_by_role("button", name="Copy")).to_be_focused()
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_text("Copied", exact=True)).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == token
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert token not in page.content()  # gone from the page once the dialog closed

    theirs = context.new_page()
    sign_in(theirs, server, token)
    expect(theirs.get_by_role("navigation").get_by_role("link", name="My jobs")).to_be_visible()
    expect(theirs.get_by_role("heading", level=1)).to_have_text("My jobs")
    theirs.close()  # before the revocation: its syncs would be refused from then on
    tess = Api(server.base_url, token)
    assert tess.get("/api/me").status_code == 200

    issued = page.get_by_role("table", name="Tokens issued here")
    issued.get_by_role("button", name="Revoke token").click()
    expect(issued.get_by_role("row").nth(1)).to_contain_text("Revoked")
    assert tess.get("/api/me").status_code == 401

    # Any token by its id.
    other = server.api().token_for(user["id"])
    assert Api(server.base_url, other["token"]).get("/api/me").status_code == 200
    by_id = page.get_by_role("form", name="Revoke a token by id")
    by_id.get_by_label("Token id").fill(other["id"])
    by_id.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text(f"Token {other['id']} revoked.")).to_be_visible()
    assert Api(server.base_url, other["token"]).get("/api/me").status_code == 401

    # The user's tokens as the server lists them: revoke one from the list.
    third = server.api().token_for(user["id"])
    page.get_by_label("Tokens of").select_option(user["id"])
    listed = page.get_by_role("table", name="Tokens of the user")
    expect(listed.get_by_role("row")).to_have_count(4)  # the header and three tokens
    listed.get_by_role("row", name=third["id"]).get_by_role("button", name="Revoke token").click()
    expect(listed.get_by_role("row", name=third["id"])).to_contain_text("Revoked")
    assert Api(server.base_url, third["token"]).get("/api/me").status_code == 401

    # Deactivate someone (confirmed in a dialog): their token is refused; Reactivate.
    victor, victor_token = person(server)
    page.reload()
    row = _user_row(page, victor["email"])
    row.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog", name="Deactivate Test User?")
    dialog.get_by_role("button", name="Confirm").click()
    expect(row.get_by_role("cell").nth(3)).to_have_text("Inactive")
    victor_api = Api(server.base_url, victor_token)
    assert victor_api.get("/api/me").status_code == 401
    reactivate = row.get_by_role("button", name="Reactivate")
    expect(reactivate).to_be_focused()
    reactivate.click()
    expect(row.get_by_role("cell").nth(3)).to_have_text("Active")
    assert victor_api.get("/api/me").status_code == 200
    assert failed_loads(console, 409) == []


def test_a_dispatcher_has_no_admin_screens_and_the_api_refuses_them(
    context: BrowserContext, server: ServerProcess
) -> None:
    console = ConsoleWatch(context)
    _, token = person(server, "dispatcher")
    page = context.new_page()
    sign_in(page, server, token)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Jobs", exact=True)).to_be_visible()
    for name in ("Conflicts", "Devices", "Users"):
        expect(nav.get_by_role("link", name=name)).to_have_count(0)
    dispatcher = Api(server.base_url, token)
    body: dict[str, Any] = {"email": f"{new_id()}@example.com", "name": "X", "role": "admin"}
    for r in (dispatcher.get("/api/devices"), dispatcher.post("/api/users", body)):
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

    page.goto(server.base_url + "/ui/#/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    expect(page.get_by_role("table", name="Users")).to_have_count(0)
    expect(page.get_by_role("button", name="Create user")).to_have_count(0)
    assert console.errors == []


def test_users_and_devices_pass_axe_work_by_keyboard_and_are_photographed(
    browser: Browser, server: ServerProcess, axe_script: Path
) -> None:
    Office(server.api()).customer("Nordic Storage")  # a device with a push
    server.api().create_user("service_provider", name="Sam Provider", service_areas=["north"])
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        console = ConsoleWatch(context)
        page = context.new_page()
        admin_on(page, server, "Users")
        expect(page.get_by_role("table", name="Users")).to_contain_text("Sam Provider")
        assert serious_violations(page, axe_script) == [], f"users {size}"
        page.screenshot(path=SCREENSHOTS / f"users-{size}.png", full_page=True)
        width_used = page.evaluate("() => document.documentElement.scrollWidth")
        assert width_used <= width, f"the users screen scrolls sideways at {width} px"

        if size == "desktop":
            # The keyboard alone: Tab to a row's `Edit`, Enter opens the dialog with the
            # focus inside, Escape closes it and gives the focus back.
            edit = _user_row(page, "Sam Provider").get_by_role("button", name="Edit")
            for _ in range(40):
                page.keyboard.press("Tab")
                if edit.evaluate("(el) => el === document.activeElement"):
                    break
            style = "() => getComputedStyle(document.activeElement).outlineStyle"
            assert page.evaluate(style) != "none"
            page.keyboard.press("Enter")
            dialog = page.get_by_role("dialog", name="Edit Sam Provider")
            expect(dialog).to_be_visible()
            assert dialog.evaluate("(d) => d.contains(document.activeElement)")
            assert serious_violations(page, axe_script) == [], "edit dialog"
            page.keyboard.press("Escape")
            expect(dialog).to_have_count(0)
            expect(edit).to_be_focused()

        page.get_by_role("navigation").get_by_role("link", name="Devices").click()
        expect(page.get_by_role("table", name="Devices")).to_be_visible()
        assert serious_violations(page, axe_script) == [], f"devices {size}"
        assert console.errors == []
        context.close()
