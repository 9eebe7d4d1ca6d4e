"""A world of customers, sites and jobs built over HTTP by an office device, and the
users who look at it; with what each of them should see (tests/visible_model.py)."""

from __future__ import annotations

from typing import Any

from tests.support import Api, ServerProcess, Tablet, customer_fields, job_fields, new_id
from tests.visible_model import visible_keys


class Office:
    """A dispatcher's device that builds the world, and an admin view of it."""

    def __init__(self, server: ServerProcess) -> None:
        self.admin = server.api()
        self.device = self.admin.device(new_id("office-"))
        self.ids: dict[str, str] = {}

    def id(self, name: str) -> str:
        return self.ids.setdefault(name, new_id(f"{name}-"))

    def write(self, entity: str, name: str, action: str, /, **fields: Any) -> None:
        refs = {k: self.id(v[1:]) if isinstance(v, str) and v.startswith("@") else v
                for k, v in fields.items()}  # fmt: skip
        self.device.write(entity, self.id(name), action, refs or None)
        synced = self.device.sync()
        assert synced.pushed == 1 and synced.rejected == [], synced

    def area(self, name: str) -> str:
        """An area name of this test's own (tests share a server)."""
        return self.id(f"area-{name}")

    def user(self, role: str, areas: list[str] | None = None) -> tuple[dict[str, Any], Tablet]:
        user = self.admin.create_user(role, service_areas=[self.area(a) for a in areas or []])
        api = Api(self.admin.base_url, self.admin.token_for(user["id"])["token"])
        return user, api.device(new_id(f"{role}-"))

    def everything(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every entity, live or deleted, as an admin's fresh pull holds it (live only)."""
        reader = self.admin.device(new_id("reader-"))
        reader.pull()
        return reader.replica

    def expected(self, user: dict[str, Any]) -> set[tuple[str, str]]:
        return visible_keys(self.everything(), user["id"], user["role"], user["service_areas"])

    def names(self, keys: set[tuple[str, str]]) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[entity_id] for _, entity_id in keys}


def site(office: Office, n: str, area: str) -> None:
    """Customer c{n} with location l{n} in `area`, contact k{n}."""
    office.write("customer", f"c{n}", "create", **customer_fields())
    office.write("location", f"l{n}", "create", customer_id=f"@c{n}", address="1 Road",
                 service_area=office.area(area))  # fmt: skip
    office.write("contact", f"k{n}", "create", customer_id=f"@c{n}", name="Kim")


def job_with_note(office: Office, name: str, n: str, technician_id: str | None = None) -> None:
    office.write("job", name, "create", **job_fields(f"@c{n}"), location_id=f"@l{n}",
                 technician_id=technician_id)  # fmt: skip
    office.write("job_note", f"{name}-note", "create", job_id=f"@{name}", body="Bring a ladder")
