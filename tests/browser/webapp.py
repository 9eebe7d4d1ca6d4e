"""What the web app's end-to-end tests share: an office that writes jobs through
the API, signing in through the page, and waiting for what the page shows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.support import Api, ServerProcess, customer_fields, job_fields, new_id, op


class Office:
    """A dispatcher's desk: one office device writing customers and jobs by push."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.device_id = new_id("office-")
        self._seq = itertools.count(1)

    def write(
        self, entity: str, entity_id: str, action: str, fields: dict[str, Any], **kw: Any
    ) -> int:
        r = self.api.push(
            self.device_id, [op(next(self._seq), entity, entity_id, action, fields, **kw)]
        )
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        assert result["status"] == "applied", result
        return int(result["version"])

    def write_many(self, writes: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """(entity, id, action, fields) ops in one push, every one applied."""
        ops = [op(next(self._seq), *write) for write in writes]
        r = self.api.push(self.device_id, ops)
        assert r.status_code == 200, r.text
        assert {x["status"] for x in r.json()["results"]} == {"applied"}, r.text

    def customer(self, name: str) -> tuple[str, str]:
        """A customer with a contact and a located site: (customer id, location id)."""
        cid, lid = new_id("c-"), new_id("l-")
        self.write("customer", cid, "create", customer_fields(name=name, phone="+46 8 555 0100"))
        self.write(
            "location",
            lid,
            "create",
            {
                "customer_id": cid,
                "address": "Birch Lane 7",
                "postal_code": "123 45",
                "city": "Elmwood",
                "lat": 59.33,
                "lng": 18.06,
            },
        )
        self.write(
            "contact",
            new_id("p-"),
            "create",
            {
                "customer_id": cid,
                "name": "Sam Site",
                "phone": "+46 70 111 22 33",
                "email": "sam@example.com",
            },
        )
        return cid, lid

    def job(self, title: str, technician_id: str | None, *, days: int = 0, **extra: Any) -> str:
        cid, lid = self.customer(f"{title} customer")
        when = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
            days=days
        )
        jid = new_id("j-")
        fields = job_fields(
            cid,
            title=title,
            location_id=lid,
            technician_id=technician_id,
            status="dispatched" if technician_id else "unscheduled",
            scheduled_date=when.isoformat().replace("+00:00", "Z"),
            **extra,
        )
        self.write("job", jid, "create", fields)
        return jid


def person(server: ServerProcess, role: str = "technician") -> tuple[dict[str, Any], str]:
    """A new user of that role and a token of theirs."""
    api = server.api()
    user = api.create_user(role)
    return user, str(api.token_for(user["id"])["token"])


class ConsoleWatch:
    """Console errors of the app's pages; network failures while the test has put
    the browser offline are expected and not counted."""

    def __init__(self, context: BrowserContext) -> None:
        self.errors: list[str] = []
        self.offline = False
        context.on("console", self._seen)

    def _seen(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if self.offline and "net::ERR_" in message.text:
            return
        self.errors.append(f"{message.text} ({message.location.get('url')})")

    def set_offline(self, context: BrowserContext, offline: bool) -> None:
        self.offline = offline or self.offline
        context.set_offline(offline)


def sign_in(page: Page, server: ServerProcess, token: str) -> None:
    page.goto(server.base_url + "/ui/")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def my_job_titles(page: Page) -> list[str]:
    return page.get_by_role("list", name="My jobs").get_by_role("link").all_inner_texts()


def status_line(page: Page) -> str:
    return page.get_by_role("status").inner_text()
