"""Who the caller is, and the write rights per op, as a pure function
(docs/protocol.md, "Who sees what, who writes what").

Admins and dispatchers write everything. A technician may update only
`status`, `description` and `completed_date` of jobs assigned to them, and
create notes and photos on those jobs. A service provider has the same rights
on every job it sees (assigned to it, or in one of its areas), and may set
`technician_id` to itself on an unassigned job in its area. Anything else is
`forbidden`.

Rights follow the job's assignment and area, not whether it is deleted: a
technician's update that races a delete is a conflict (docs/protocol.md, "Push"),
not a forbidden op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schema.errors import Forbidden

SEES_EVERYTHING = ("admin", "dispatcher")
TECHNICIAN_ROLES = frozenset({"technician", "service_provider"})
FIELD_WORK = frozenset({"status", "description", "completed_date"})
BUILTIN_ADMIN_ID = "admin"  # the user of the admin token from the settings


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: a user, their role and (for a service provider) areas."""

    user_id: str
    role: str
    service_areas: tuple[str, ...] = ()

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}")

    @property
    def areas(self) -> list[str]:
        """The service areas that widen what this user sees (a technician's mean nothing)."""
        return list(self.service_areas) if self.role == "service_provider" else []


@dataclass(frozen=True, slots=True)
class JobScope:
    """What decides who may work on a job: its assignee and its location's area."""

    technician_id: str | None
    service_area: str | None  # None when the job has no (live) location


def _works_on(who: Principal, job: JobScope) -> bool:
    return job.technician_id == who.user_id or _in_area(who, job)


def _in_area(who: Principal, job: JobScope) -> bool:
    return (
        who.role == "service_provider"
        and job.service_area is not None
        and job.service_area in who.service_areas
    )


def write_problem(
    who: Principal,
    entity: str,
    action: str,
    fields: dict[str, Any],
    job: JobScope | None,
) -> str | None:
    """Why `who` may not make this op, or None if it may.

    `job` is the job the op writes (entity `job`) or the job a note or photo
    belongs to, as the server holds it; None if there is no such job.
    """
    if who.role in SEES_EVERYTHING:
        return None
    if entity in ("job_note", "job_photo"):
        if action != "create":
            return f"a {who.role} may only create a {entity}"
        if job is None or not _works_on(who, job):
            return f"field `job_id`: not a job of this {who.role}"
        return None
    if entity != "job" or action != "update":
        return f"a {who.role} may not {action} a {entity}"
    if job is None or not _works_on(who, job):
        return f"job is not one of this {who.role}'s"
    for name, value in fields.items():
        if name in FIELD_WORK:
            continue
        if name == "technician_id" and value == who.user_id:
            if job.technician_id == who.user_id:
                continue  # already theirs: a retried claim changes nothing
            if who.role == "service_provider" and job.technician_id is None:
                if _in_area(who, job):
                    continue
                return "field `technician_id`: the job is not in this provider's areas"
        return f"field `{name}`: a {who.role} may not write it"
    return None
