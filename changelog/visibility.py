"""Who sees what (docs/protocol.md, "Pull"), as SQL over the `entities` table.

Admins and dispatchers see everything. A technician sees the jobs assigned to
them; a service provider also sees the jobs whose location's `service_area` is
one of theirs. Either sees, for each such job, its customer, its location, the
customer's contacts, and the job's notes and photos. Deleted entities are seen
by no one (a pull sends them as `removed`); a deleted location puts its jobs in
no area.

The rule is written once, in two parts: which jobs a user sees (`ASSIGNED`,
`IN_AREAS`) and what each job brings into view with it (`HANGS_OFF_JOB`). Every
form the server needs is derived from those: a job row's visibility for the
read APIs (`JOB_VISIBLE`, `seen_through_jobs`), the whole view for a restricted
pull (`VISIBLE_CTES`), and its inverse, who may care about a change, for
realtime pokes (`AUDIENCE`). `tests/changelog/test_pokes_follow_pulls.py`
checks that whoever's pull a change alters is among those poked.

The fragments take the bind parameters `:user_id` and `:areas` (text[]; empty
for a technician, whose `service_areas` mean nothing).
"""

from __future__ import annotations

# Job row `{j}` is assigned to the user; location row `{l}` is in one of their areas.
ASSIGNED = "{j}.data ->> 'technician_id' = :user_id"
IN_AREAS = "{l}.data ->> 'service_area' = ANY (CAST(:areas AS text[]))"

# What a visible job brings into view: for each kind, the key of its row `{x}` that
# equals the key of job row `{j}` it hangs off.
HANGS_OFF_JOB: dict[str, tuple[str, str]] = {
    "customer": ("{x}.id", "{j}.data ->> 'customer_id'"),
    "location": ("{x}.id", "{j}.data ->> 'location_id'"),
    "contact": ("{x}.data ->> 'customer_id'", "{j}.data ->> 'customer_id'"),
    "job_note": ("{x}.data ->> 'job_id'", "{j}.id"),
    "job_photo": ("{x}.data ->> 'job_id'", "{j}.id"),
}


def _hangs(entity: str, x: str, j: str) -> str:
    x_key, j_key = HANGS_OFF_JOB[entity]
    return f"{x_key.format(x=x)} = {j_key.format(j=j)}"


def _brought_by_visible_jobs(kinds: list[str], x_key: str, j_key: str) -> str:
    """The keys of the rows of these kinds (hanging off a job the same way) that the
    visible jobs bring into view. A kind keyed by its id comes from the jobs alone;
    the others by their index on the job's key (one index serves notes and photos,
    so they are asked for together)."""
    if x_key == "{x}.id":
        (entity,) = kinds
        key = j_key.format(j="j")
        return f"SELECT '{entity}', {key} FROM visible_jobs j WHERE {key} IS NOT NULL"
    names = ", ".join(f"'{kind}'" for kind in kinds)
    return f"""SELECT x.entity, x.id FROM entities x
    WHERE x.entity IN ({names}) AND {x_key.format(x="x")} IN (
        SELECT {j_key.format(j="j")} FROM visible_jobs j)"""


def _by_relation() -> dict[tuple[str, str], list[str]]:
    kinds: dict[tuple[str, str], list[str]] = {}
    for entity, relation in HANGS_OFF_JOB.items():
        kinds.setdefault(relation, []).append(entity)
    return kinds


# Whether job row `{j}` is visible: assigned to the user, or in one of their areas.
# (A format string: `{j}` stays for the caller to name its row.)
JOB_VISIBLE = f"""
    ({ASSIGNED}
     OR EXISTS (SELECT 1 FROM entities area_l
                WHERE area_l.entity = 'location' AND {_hangs("location", "area_l", "{j}")}
                  AND NOT area_l.deleted AND {IN_AREAS.format(l="area_l")}))
"""


def seen_through_jobs(entity: str, x: str) -> str:
    """Whether row `x` (a customer or location) is seen: a visible job uses it."""
    return f"""EXISTS (
    SELECT 1 FROM entities vj
    WHERE vj.entity = 'job' AND NOT vj.deleted AND {_hangs(entity, x, "vj")}
      AND {JOB_VISIBLE.format(j="vj")})"""


_HANGING = "\n    UNION\n    ".join(
    _brought_by_visible_jobs(kinds, *relation) for relation, kinds in _by_relation().items()
)

# CTEs `visible_jobs` (id, data) and `visible_keys` (entity, id): every entity the
# user sees, deleted ones included (join `entities` and drop them where it matters).
# The jobs come from two index lookups, the assigned ones and those at locations in
# the user's areas, rather than `JOB_VISIBLE` over every job.
VISIBLE_CTES = f"""
visible_jobs AS (
    SELECT j.id, j.data FROM entities j
    WHERE j.entity = 'job' AND NOT j.deleted AND {ASSIGNED.format(j="j")}
    UNION
    SELECT j.id, j.data FROM entities l
    JOIN entities j ON j.entity = 'job' AND {_hangs("location", "l", "j")} AND NOT j.deleted
    WHERE l.entity = 'location' AND NOT l.deleted AND {IN_AREAS.format(l="l")}
),
visible_keys AS (
    SELECT 'job'::text AS entity, id FROM visible_jobs
    UNION
    {_HANGING}
)
"""

_CHANGED_JOBS = "\n    UNION ALL\n".join(
    f"""    SELECT j.data FROM changed x
    JOIN entities j ON j.entity = 'job' AND {_hangs(entity, "x", "j")}
    WHERE x.entity = '{entity}'"""
    for entity in HANGS_OFF_JOB
)

# The inverse, for realtime: the technicians and service providers who may see, or
# hold, what changed in positions (:lo, :hi]. The jobs each change hangs off give
# their assignees (`ASSIGNED`) and the providers of their location's area
# (`IN_AREAS`); the devices holding a changed entity give their owners (that covers
# an entity leaving a view). Admins and dispatchers see everything.
AUDIENCE = f"""
    WITH changed AS (
        SELECT entity, id, data FROM entities WHERE version > :lo AND version <= :hi
    ),
    jobs AS (
        SELECT data FROM changed WHERE entity = 'job'
        UNION ALL
{_CHANGED_JOBS}
    )
    SELECT data ->> 'technician_id' FROM jobs WHERE data ->> 'technician_id' IS NOT NULL
    UNION
    SELECT u.id FROM jobs j
    JOIN entities l ON l.entity = 'location' AND l.id = j.data ->> 'location_id'
    JOIN users u ON u.role = 'service_provider'
                AND l.data ->> 'service_area' = ANY (u.service_areas)
    UNION
    SELECT d.user_id FROM pull_sets s JOIN devices d ON d.device_id = s.device_id
    WHERE s.ids && ARRAY(SELECT id FROM changed)
"""
