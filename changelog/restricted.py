"""Pull for technicians and service providers: changes within what the user sees.

What a user sees changes without the entities changing: a job is assigned to
them, moves into their area, or their areas change. So the server keeps, per
device, the set of entities it holds (`pull_sets`; the cursor names it). A page
compares that set with what the user sees now (schema/visibility.py):

- seen now, not held: sent whole (it entered the user's view);
- held, not seen now (deleted, or out of view): sent as `removed`;
- held and seen, with a version after the cursor: sent whole (it changed).

Candidates go out oldest version first, below the same `safe` bound as every
pull (changelog/pages.py), so a page is a prefix of them and the cursor's
`after` never passes a change not yet delivered. When a page enters or removes
anything, or the request presented no set, the statement stores the device's
new set and the cursor names it;
the set the request presented stays until a later cursor is presented, so a
retried pull (its answer lost) finds the same set again.

A set records the role and areas it was made for, and whether its page left
nothing behind (`complete`): presenting a complete set for the same role and
areas when no entity changed since the cursor skips computing the view.

A cursor without a set (issued while the user saw everything) or naming a set
that is gone is read conservatively: the device may hold every entity that is
not deleted or changed after the cursor, so each of those it may not see now
is sent as `removed`.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import pagetext
from changelog.cursor import Cursor
from changelog.devicelog import SAFE_POSITION
from changelog.pages import ChangesPage
from changelog.visibility import VISIBLE_CTES

_PAGE = text(
    f"""
    WITH
    bound AS (
        SELECT {SAFE_POSITION} AS safe
    ),
    presented AS (
        SELECT s.entities, s.ids, s.view, s.complete FROM pull_sets s
        WHERE s.id = CAST(:held AS bigint) AND s.device_id = :device_id
    ),
    -- Nothing to compare when the set is complete for this same role and areas and
    -- no entity has changed since the cursor: a quiet poll skips computing the view.
    needed AS (
        SELECT NOT EXISTS (SELECT 1 FROM presented WHERE view = :view AND complete)
            OR EXISTS (SELECT 1 FROM entities
                       WHERE version > :after AND version < (SELECT safe FROM bound))
            AS needed
    ),
    {VISIBLE_CTES},
    visible AS (
        SELECT e.entity, e.id, e.version, e.change
        FROM visible_keys v JOIN entities e ON e.entity = v.entity AND e.id = v.id
        WHERE NOT e.deleted AND (SELECT needed FROM needed)
    ),
    held AS (
        SELECT m.entity, m.id
        FROM presented p, unnest(p.entities, p.ids) AS m(entity, id)
        WHERE (SELECT needed FROM needed)
        UNION ALL
        SELECT e.entity, e.id FROM entities e
        WHERE :resumed AND NOT EXISTS (SELECT 1 FROM presented)
          AND (NOT e.deleted OR e.version > :after)
    ),
    candidates AS (
        SELECT v.entity, v.id, v.version, v.change, h.id IS NULL AS entering, false AS removed
        FROM visible v LEFT JOIN held h ON h.entity = v.entity AND h.id = v.id
        WHERE h.id IS NULL OR v.version > :after
        UNION ALL
        -- The version by key lookup: a join would let the planner push the page's
        -- `version < safe` down into a range scan of every entity.
        SELECT h.entity, h.id,
               (SELECT e.version FROM entities e WHERE e.entity = h.entity AND e.id = h.id),
               json_build_object('entity', h.entity, 'id', h.id, 'removed', true)::text,
               false, true
        FROM held h
        LEFT JOIN visible v ON v.entity = h.entity AND v.id = h.id
        WHERE v.id IS NULL
    ),
    page AS (
        SELECT * FROM candidates
        WHERE version < (SELECT safe FROM bound)
        ORDER BY version
        LIMIT :limit + 1
    ),
    delivered AS (
        SELECT * FROM page ORDER BY version LIMIT :limit
    ),
    new_set AS (
        INSERT INTO pull_sets (device_id, entities, ids, view, complete)
        SELECT :device_id, coalesce(array_agg(k.entity), '{{}}'), coalesce(array_agg(k.id), '{{}}'),
               :view, (SELECT count(*) FROM page) <= :limit
        FROM ((SELECT entity, id FROM held
               EXCEPT SELECT entity, id FROM delivered WHERE removed)
              UNION SELECT entity, id FROM delivered WHERE entering) AS k
        HAVING EXISTS (SELECT 1 FROM delivered WHERE entering OR removed)
            OR NOT EXISTS (SELECT 1 FROM presented)
        RETURNING id
    ),
    completed AS (
        UPDATE pull_sets SET complete = true, view = :view
        WHERE id = CAST(:held AS bigint) AND device_id = :device_id
          AND NOT (complete AND view = :view) AND (SELECT count(*) FROM page) <= :limit
          AND NOT EXISTS (SELECT 1 FROM new_set)
    ),
    pruned AS (
        DELETE FROM pull_sets
        WHERE device_id = :device_id AND id < CAST(:held AS bigint)
    )
    SELECT coalesce(string_agg(d.change, ',' ORDER BY d.version), ''),
           max(d.version),
           (SELECT count(*) FROM page) > :limit,
           (SELECT safe FROM bound),
           coalesce((SELECT id FROM new_set),
                    (SELECT CAST(:held AS bigint) WHERE EXISTS (SELECT 1 FROM presented)))
    FROM delivered d
    """
)


async def restricted_page(
    conn: AsyncConnection,
    *,
    device_id: str,
    user_id: str,
    role: str,
    areas: list[str],
    cursor: Cursor | None,
    limit: int,
    notices_acked: int,
) -> ChangesPage:
    """One page of changes within what `user_id` sees, after `cursor` (None: from scratch)."""
    after = cursor.after if cursor else 0
    row = await pagetext.one_row(
        conn,
        _PAGE,
        {
            "device_id": device_id,
            "user_id": user_id,
            "areas": areas,
            "view": f"{role}|{','.join(sorted(areas))}",
            "after": after,
            "held": cursor.held if cursor else None,
            "resumed": cursor is not None,
            "limit": limit,
        },
    )
    entries, last, has_more, safe, held = row
    notices = cursor.notices if cursor else notices_acked
    return ChangesPage(
        entries,
        Cursor(after if last is None else max(after, int(last)), 0, notices, held),
        bool(has_more),
        int(safe),
    )
