"""Write rights per op (PROTOCOL.md section 6), as a pure function.

Admins and dispatchers write everything. A technician may update only
`status`, `description` and `completed_date` of jobs assigned to them, and
create notes and photos on those jobs. A service provider has the same rights
on every job it sees (assigned to it, or in one of its areas), and may set
`technician_id` to itself on an unassigned job in its area. Anything else is
`forbidden`.

Rights follow the job's assignment and area, not whether it is deleted: a
technician's update that races a delete is a conflict (PROTOCOL.md section 5),
not a forbidden op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schema.visibility import SEES_EVERYTHING

FIELD_WORK = frozenset({"status", "description", "completed_date"})


@dataclass(frozen=True, slots=True)
class Writer:
    user_id: str
    role: str
    service_areas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobScope:
    """What decides who may work on a job: its assignee and its location's area."""

    technician_id: str | None
    service_area: str | None  # None when the job has no (live) location


def _works_on(writer: Writer, job: JobScope) -> bool:
    return job.technician_id == writer.user_id or _in_area(writer, job)


def _in_area(writer: Writer, job: JobScope) -> bool:
    return (
        writer.role == "service_provider"
        and job.service_area is not None
        and job.service_area in writer.service_areas
    )


def write_problem(
    writer: Writer,
    entity: str,
    action: str,
    fields: dict[str, Any],
    job: JobScope | None,
) -> str | None:
    """Why `writer` may not make this op, or None if it may.

    `job` is the job the op writes (entity `job`) or the job a note or photo
    belongs to, as the server holds it; None if there is no such job.
    """
    if writer.role in SEES_EVERYTHING:
        return None
    if entity in ("job_note", "job_photo"):
        if action != "create":
            return f"a {writer.role} may only create a {entity}"
        if job is None or not _works_on(writer, job):
            return f"field `job_id`: not a job of this {writer.role}"
        return None
    if entity != "job" or action != "update":
        return f"a {writer.role} may not {action} a {entity}"
    if job is None or not _works_on(writer, job):
        return f"job is not one of this {writer.role}'s"
    for name, value in fields.items():
        if name in FIELD_WORK:
            continue
        if name == "technician_id" and value == writer.user_id:
            if job.technician_id == writer.user_id:
                continue  # already theirs: a retried claim changes nothing
            if writer.role == "service_provider" and job.technician_id is None:
                if _in_area(writer, job):
                    continue
                return "field `technician_id`: the job is not in this provider's areas"
        return f"field `{name}`: a {writer.role} may not write it"
    return None
