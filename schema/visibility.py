"""Who sees what (PROTOCOL.md section 6), as SQL over the `entities` table.

Admins and dispatchers see everything. A technician sees the jobs assigned to
them; a service provider also sees the jobs whose location's `service_area` is
one of theirs. Either sees, for each such job, its customer, its location, the
customer's contacts, and the job's notes and photos. Deleted entities are seen
by no one (a pull sends them as `removed`); a deleted location puts its jobs in
no area.

The fragments take the bind parameters `:user_id` and `:areas` (text[]; empty
for a technician, whose `service_areas` mean nothing).
"""

from __future__ import annotations

SEES_EVERYTHING = ("admin", "dispatcher")


def areas_of(role: str, service_areas: tuple[str, ...]) -> list[str]:
    """The service areas that widen what this role sees."""
    return list(service_areas) if role == "service_provider" else []


# Whether job row `{j}` is visible: assigned to the user, or in one of their areas.
JOB_VISIBLE = """
    ({j}.data ->> 'technician_id' = :user_id
     OR EXISTS (SELECT 1 FROM entities area_l
                WHERE area_l.entity = 'location' AND area_l.id = {j}.data ->> 'location_id'
                  AND NOT area_l.deleted
                  AND area_l.data ->> 'service_area' = ANY (CAST(:areas AS text[]))))
"""

# CTEs `visible_jobs` (id, data) and `visible_keys` (entity, id): every entity the
# user sees, deleted ones included (join `entities` and drop them where it matters).
VISIBLE_CTES = """
visible_jobs AS (
    SELECT j.id, j.data FROM entities j
    WHERE j.entity = 'job' AND NOT j.deleted AND j.data ->> 'technician_id' = :user_id
    UNION
    SELECT j.id, j.data FROM entities l
    JOIN entities j ON j.entity = 'job' AND j.data ->> 'location_id' = l.id AND NOT j.deleted
    WHERE l.entity = 'location' AND NOT l.deleted
      AND l.data ->> 'service_area' = ANY (CAST(:areas AS text[]))
),
visible_keys AS (
    SELECT 'job'::text AS entity, id FROM visible_jobs
    UNION
    SELECT 'customer', data ->> 'customer_id' FROM visible_jobs
    UNION
    SELECT 'location', data ->> 'location_id' FROM visible_jobs
    WHERE data ->> 'location_id' IS NOT NULL
    UNION
    SELECT 'contact', c.id FROM entities c
    WHERE c.entity = 'contact'
      AND c.data ->> 'customer_id' IN (SELECT data ->> 'customer_id' FROM visible_jobs)
    UNION
    SELECT x.entity, x.id FROM entities x
    WHERE x.entity IN ('job_note', 'job_photo')
      AND x.data ->> 'job_id' IN (SELECT id FROM visible_jobs)
)
"""
