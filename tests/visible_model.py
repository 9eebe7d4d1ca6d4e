"""An independent model of docs/protocol.md, "Pull" visibility, for checking pulls.

It works on a full replica (what an admin's pull holds) and the users' roles and
areas, in plain Python, without the server's SQL.
"""

from __future__ import annotations

from typing import Any

Key = tuple[str, str]


def visible_keys(
    replica: dict[Key, dict[str, Any]], user_id: str, role: str, areas: list[str]
) -> set[Key]:
    """The entities `user_id` may see, given every live entity in `replica`."""
    live = {key: doc for key, doc in replica.items() if not doc.get("deleted")}
    if role in ("admin", "dispatcher"):
        return set(live)
    area_set = set(areas) if role == "service_provider" else set()
    jobs = set()
    for (entity, entity_id), doc in live.items():
        if entity != "job":
            continue
        location = live.get(("location", doc.get("location_id") or ""))
        in_area = location is not None and location.get("service_area") in area_set
        if doc.get("technician_id") == user_id or in_area:
            jobs.add(entity_id)
    customers = {live[("job", j)]["customer_id"] for j in jobs}
    locations = {live[("job", j)]["location_id"] for j in jobs} - {None}
    seen: set[Key] = {("job", j) for j in jobs}
    seen |= {("customer", c) for c in customers} | {("location", x) for x in locations}
    for (entity, entity_id), doc in live.items():
        if entity == "contact" and doc["customer_id"] in customers:
            seen.add((entity, entity_id))
        if entity in ("job_note", "job_photo") and doc["job_id"] in jobs:
            seen.add((entity, entity_id))
    return seen & set(live)
