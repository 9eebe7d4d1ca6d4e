"""The merge in SQL: one statement applies a device's batch to the projection.

It mirrors `conflict.lww.apply_op` applied to the batch's ops one by one, in
position order, but set-based: every op of a batch comes from one device, so
a write's competitor is either the write the field held before the batch, or
an earlier write of the same batch. `tests/changelog/test_sql_merge_agrees.py`
checks the two agree on random workloads.

The batch arrives as one JSON document; PostgreSQL builds the stored
documents, the device log rows, the notices and the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema import wire
from schema.entities import ENTITIES
from syncserver.storage import pokes
from syncserver.storage.notices import NOTICE_JSON
from syncserver.timefmt import rfc3339_ms


class MergeOp(msgspec.Struct):
    """One op of the batch as the statement reads it."""

    pos: int  # commit position
    seq: int
    ts: int
    tc: int
    entity: str | None
    id: str | None
    action: str | None
    base: int
    fields: dict[str, Any] | None  # None when the op is rejected
    ok: bool
    error: dict[str, str] | None
    op: str  # the op as received, for the device log
    k: int = 0  # the batch's number for the op's entity (set by merge_batch)


@dataclass(frozen=True, slots=True)
class MergeResult:
    versions: dict[int, int]  # seq -> entity version after the op (applied ops)
    notices: list[wire.Notice]


@cache
def templates() -> str:
    """Each entity's served document before any write: every field null or its default."""
    docs = {}
    for name, spec in ENTITIES.items():
        doc: dict[str, Any] = {field: spec.defaults.get(field) for field in spec.writable}
        doc.update({field: None for field in spec.server_fields})
        docs[name] = doc
    return msgspec.json.encode(docs).decode()


# `entity_meta.meta` maps each field to the write holding it, compactly, as
# [ts, tc, device_id, user_id, seq, version]; this expands one entry `{v}`.
META_ENTRY = """jsonb_build_object('ts', {v} -> 0, 'tc', {v} -> 1, 'device_id', {v} -> 2,
    'user_id', {v} -> 3, 'seq', {v} -> 4, 'version', {v} -> 5)"""

_SIDE_OF_WRITE = """jsonb_build_object('value', {p}value, 'device_id', CAST(:device_id AS text),
    'user_id', CAST(:user_id AS text), 'seq', {p}seq, 'ts', {p}ts, 'tc', {p}tc)"""
_SIDE_OF_HELD = """jsonb_build_object('value', {p}h_value, 'device_id', {p}h_device,
    'user_id', {p}h_user, 'seq', {p}h_seq, 'ts', {p}h_ts, 'tc', {p}h_tc)"""

_MERGE = text(
    f"""
WITH
input AS (
    SELECT o.* FROM jsonb_to_recordset(CAST(:ops AS jsonb)) AS o(
        pos bigint, seq bigint, ts bigint, tc bigint, entity text, id text, k int,
        action text, base bigint, fields jsonb, ok boolean, error jsonb, op text)
),
valid AS (SELECT * FROM input WHERE ok),
-- `k` numbers the batch's entities: joins and sorts below compare it, not (entity, id).
touched AS (SELECT k, entity, id, min(pos) AS first_pos FROM valid GROUP BY k, entity, id),
stored AS (
    SELECT t.k, e.version, e.deleted, e.data, m.meta, e.created_at
    FROM touched t
    JOIN entities e ON e.entity = t.entity AND e.id = t.id
    JOIN entity_meta m ON m.entity = t.entity AND m.id = t.id
),
-- Every field write of the batch; a create also writes deleted=false, a delete deleted=true.
writes AS (
    SELECT v.pos, v.seq, v.k, v.entity, v.id, v.action, v.ts, v.tc, v.base, f.key AS field,
           f.value
    FROM valid v
    CROSS JOIN LATERAL jsonb_each(CASE v.action
        WHEN 'delete' THEN '{{"deleted": true}}'::jsonb
        WHEN 'create' THEN v.fields || '{{"deleted": false}}'::jsonb
        ELSE v.fields END) AS f
),
-- The write each touched field held before the batch.
held AS (
    SELECT s.k, m.key AS field,
           CASE WHEN m.key = 'deleted' THEN to_jsonb(s.deleted)
                ELSE coalesce(s.data -> m.key, 'null'::jsonb) END AS value,
           m.value ->> 2 AS device_id, m.value ->> 3 AS user_id,
           (m.value ->> 4)::bigint AS seq, (m.value ->> 0)::bigint AS ts,
           (m.value ->> 1)::bigint AS tc, (m.value ->> 5)::bigint AS version
    FROM stored s CROSS JOIN LATERAL jsonb_each(s.meta) AS m
),
-- Each write with the held write and the best earlier write of the batch on its field.
raced AS (
    SELECT w.*, h.value AS h_value, h.device_id AS h_device, h.user_id AS h_user,
           h.seq AS h_seq, h.ts AS h_ts, h.tc AS h_tc, h.version AS h_version,
           max(ARRAY[w.ts, w.tc]) OVER (
               PARTITION BY w.k, w.field ORDER BY w.pos
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior
    FROM writes w
    LEFT JOIN held h ON h.k = w.k AND h.field = w.field
),
-- held_current: the held write still holds the field when this write is processed.
judged0 AS (
    SELECT r.*,
           (r.h_device IS NOT NULL AND (r.prior IS NULL
               OR ROW(r.prior[1], r.prior[2], CAST(:device_id AS text))
                  < ROW(r.h_ts, r.h_tc, r.h_device))) AS held_current
    FROM raced r
),
judged AS (
    SELECT j.*,
           CASE WHEN j.held_current
                THEN ROW(j.ts, j.tc, CAST(:device_id AS text)) > ROW(j.h_ts, j.h_tc, j.h_device)
                ELSE j.prior IS NULL OR ARRAY[j.ts, j.tc] > j.prior END AS wins,
           (j.held_current AND j.h_device <> CAST(:device_id AS text)
               AND j.h_version > j.base) AS conflict
    FROM judged0 j
),
op_changes AS (
    SELECT pos, k, bool_or(wins) AS changed,
           coalesce(jsonb_agg(field ORDER BY field) FILTER (WHERE NOT wins), '[]') AS lost
    FROM judged GROUP BY pos, k
),
op_versions AS (
    SELECT c.pos, c.lost,
           greatest(s.version, max(CASE WHEN c.changed THEN c.pos END) OVER (
               PARTITION BY c.k ORDER BY c.pos)) AS version
    FROM op_changes c LEFT JOIN stored s ON s.k = c.k
),
final_writes AS (
    SELECT DISTINCT ON (k, field) k, field, value, pos, seq, ts, tc
    FROM judged WHERE wins
    ORDER BY k, field, pos DESC
),
won AS (
    SELECT k, jsonb_object_agg(field, value) AS vals,
           jsonb_object_agg(field, jsonb_build_array(ts, tc, CAST(:device_id AS text),
               CAST(:user_id AS text), seq, pos)) AS metas,
           max(pos) AS version
    FROM final_writes GROUP BY k
),
new_jobs AS (
    SELECT t.id, t.first_pos
    FROM touched t LEFT JOIN stored s ON s.k = t.k
    WHERE s.k IS NULL AND t.entity = 'job'
),
-- A job keeps the number its first create got; a rebuild finds it here.
numbered AS (
    INSERT INTO job_numbers (job_id, number)
    SELECT n.id, nextval('job_number_seq')
    FROM (SELECT id FROM new_jobs
          WHERE id NOT IN (SELECT job_id FROM job_numbers) ORDER BY first_pos) AS n
    RETURNING job_id, number
),
job_number AS (
    SELECT job_id, number FROM numbered
    UNION ALL
    SELECT j.job_id, j.number FROM job_numbers j JOIN new_jobs n ON n.id = j.job_id
),
merged AS (
    SELECT t.entity, t.id, w.version,
           (w.vals ->> 'deleted')::boolean IS TRUE
               OR ((w.vals ->> 'deleted') IS NULL AND s.deleted IS TRUE) AS deleted,
           coalesce(s.data,
                    (CAST(:templates AS jsonb) -> t.entity) || jsonb_build_object('id', t.id)
                    || CASE t.entity
                           WHEN 'job' THEN jsonb_build_object('job_number',
                               'J-' || CASE WHEN nj.number < 1000000
                                            THEN lpad(nj.number::text, 6, '0')
                                            ELSE nj.number::text END)
                           WHEN 'job_note'
                               THEN jsonb_build_object('author_id', CAST(:user_id AS text))
                           WHEN 'job_photo' THEN '{{"status": "pending"}}'::jsonb
                           ELSE '{{}}'::jsonb END) || w.vals AS data,
           coalesce(s.meta, '{{}}'::jsonb) || w.metas AS meta,
           coalesce(s.created_at, to_timestamp(:received_at / 1000.0)) AS created_at
    FROM touched t
    JOIN won w ON w.k = t.k
    LEFT JOIN stored s ON s.k = t.k
    LEFT JOIN job_number nj ON t.entity = 'job' AND nj.job_id = t.id
),
rendered AS (
    SELECT m.entity, m.id, m.version, m.deleted, m.created_at,
           m.data || CASE WHEN m.entity = 'job_photo'
                          THEN jsonb_build_object('status', photo_status(m.data))
                          ELSE '{{}}'::jsonb END
                  || jsonb_build_object(
               'version', m.version, 'deleted', m.deleted,
               -- rfc3339(created_at), which a stored document already holds
               'created_at', coalesce(nullif(m.data -> 'created_at', 'null'),
                                      to_jsonb(CAST(:received_text AS text))),
               'updated_at', CAST(:received_text AS text)) AS data
    FROM merged m
),
upserted AS (
    INSERT INTO entities AS e (entity, id, version, deleted, data, change,
                               created_at, updated_at)
    SELECT r.entity, r.id, r.version, r.deleted, r.data,
           CASE WHEN r.deleted
                THEN json_build_object('entity', r.entity, 'id', r.id, 'removed', true)::text
                ELSE '{{"entity":' || to_json(r.entity)::text || ',"id":' || to_json(r.id)::text
                     || ',"version":' || r.version || ',"data":' || r.data::text || '}}'
           END,
           r.created_at, to_timestamp(:received_at / 1000.0)
    FROM rendered r
    ON CONFLICT (entity, id) DO UPDATE SET
        version = excluded.version, deleted = excluded.deleted, data = excluded.data,
        change = excluded.change, updated_at = excluded.updated_at
),
meta_upserted AS (
    INSERT INTO entity_meta AS m (entity, id, meta)
    SELECT entity, id, meta FROM merged
    ON CONFLICT (entity, id) DO UPDATE SET meta = excluded.meta
),
logged AS (
    INSERT INTO device_log (device_id, seq, position, user_id, op, entity, entity_id, action,
                            status, error, version, lost_fields, received_at)
    SELECT CAST(:device_id AS text), i.seq, i.pos, CAST(:user_id AS text), i.op, i.entity, i.id,
           i.action, CASE WHEN i.ok THEN 'applied' ELSE 'rejected' END, i.error,
           ov.version, ov.lost, to_timestamp(:received_at / 1000.0)
    FROM input i LEFT JOIN op_versions ov ON ov.pos = i.pos
    WHERE CAST(:log AS boolean)
),
acked AS (
    UPDATE devices SET acked_seq = greatest(acked_seq, (SELECT max(seq) FROM input)),
                       last_push_at = now()
    WHERE device_id = CAST(:device_id AS text) AND CAST(:log AS boolean)
),
-- Notices: a concurrent write lost on its field ...
field_notices AS (
    SELECT pos, 0 AS kind, entity, id, field,
           CASE WHEN wins THEN {_SIDE_OF_WRITE.format(p="")}
                ELSE {_SIDE_OF_HELD.format(p="")} END AS winner,
           CASE WHEN wins THEN {_SIDE_OF_HELD.format(p="")}
                ELSE {_SIDE_OF_WRITE.format(p="")} END AS loser
    FROM judged WHERE conflict
),
-- ... an update raced a delete it had not seen (the entity stays deleted) ...
held_deleted AS MATERIALIZED (
    SELECT * FROM held
    WHERE field = 'deleted' AND value = 'true'::jsonb
      AND device_id <> CAST(:device_id AS text)
),
update_vs_delete AS (
    SELECT v.pos, 1 AS kind, v.entity, v.id, 'deleted' AS field,
           jsonb_build_object('value', h.value, 'device_id', h.device_id,
               'user_id', h.user_id, 'seq', h.seq, 'ts', h.ts, 'tc', h.tc) AS winner,
           jsonb_build_object('value', false, 'device_id', CAST(:device_id AS text),
               'user_id', CAST(:user_id AS text), 'seq', v.seq, 'ts', v.ts, 'tc', v.tc) AS loser
    FROM held_deleted h
    JOIN valid v ON v.k = h.k
    WHERE v.action = 'update' AND h.version > v.base
      AND NOT EXISTS (
          SELECT 1 FROM writes w
          WHERE w.k = v.k AND w.field = 'deleted' AND w.pos < v.pos
            AND ROW(w.ts, w.tc, CAST(:device_id AS text)) > ROW(h.ts, h.tc, h.device_id))
),
-- ... or a winning delete raced writes it had not seen: one notice per such write.
winning_deletes AS MATERIALIZED (
    SELECT * FROM judged WHERE field = 'deleted' AND action = 'delete' AND wins
),
delete_vs_writes AS (
    SELECT DISTINCT ON (j.pos, h.device_id, h.seq)
           j.pos, 2 AS kind, j.entity, j.id, 'deleted' AS field,
           jsonb_build_object('value', true, 'device_id', CAST(:device_id AS text),
               'user_id', CAST(:user_id AS text), 'seq', j.seq, 'ts', j.ts, 'tc', j.tc) AS winner,
           jsonb_build_object('value', false, 'device_id', h.device_id,
               'user_id', h.user_id, 'seq', h.seq, 'ts', h.ts, 'tc', h.tc) AS loser
    FROM winning_deletes j
    JOIN held h ON h.k = j.k AND h.field <> 'deleted'
    WHERE h.device_id <> CAST(:device_id AS text) AND h.version > j.base
      AND NOT (j.conflict AND h.device_id = j.h_device AND h.seq = j.h_seq)
      AND NOT EXISTS (
          SELECT 1 FROM writes w
          WHERE w.k = h.k AND w.field = h.field AND w.pos < j.pos
            AND ROW(w.ts, w.tc, CAST(:device_id AS text)) > ROW(h.ts, h.tc, h.device_id))
    ORDER BY j.pos, h.device_id, h.seq, h.field
),
all_notices AS (
    SELECT n.*,
           n.pos * 1024 + row_number() OVER (
               PARTITION BY n.pos ORDER BY n.kind, n.field, n.loser ->> 'device_id',
                        (n.loser ->> 'seq')::bigint) AS seq,
           md5(concat_ws(chr(31), n.entity, n.id, n.field, n.loser ->> 'device_id',
                         n.loser ->> 'seq'))::uuid::text AS notice_id
    FROM (SELECT * FROM field_notices UNION ALL SELECT * FROM update_vs_delete
          UNION ALL SELECT * FROM delete_vs_writes) AS n
),
inserted_notices AS (
    INSERT INTO notices (seq, id, entity, entity_id, field, winner, loser, winner_device_id,
                         loser_device_id, winner_user_id, loser_user_id, position, detected_at)
    SELECT seq, notice_id, entity, id, field, winner, loser, winner ->> 'device_id',
           loser ->> 'device_id', winner ->> 'user_id', loser ->> 'user_id', pos,
           to_timestamp(:received_at / 1000.0)
    FROM all_notices ORDER BY seq
    ON CONFLICT (id) DO NOTHING
    RETURNING seq, id, entity, entity_id, field, status, winner, loser, detected_at, resolution
)
SELECT
    (SELECT coalesce(jsonb_object_agg(i.seq::text, ov.version), '{{}}'::jsonb)
     FROM input i JOIN op_versions ov ON ov.pos = i.pos)::text,
    (SELECT coalesce(json_agg({NOTICE_JSON} ORDER BY n.seq), '[]')
     FROM inserted_notices n)::text,
    -- Realtime: tell every server process once this commits, if anything was applied.
    (SELECT count(pg_notify(CAST(:channel AS text), CAST(:announce AS text)))
     WHERE CAST(:announce AS text) IS NOT NULL AND EXISTS (SELECT 1 FROM valid))
"""
)

_versions = msgspec.json.Decoder(dict[str, int])
_notices = msgspec.json.Decoder(list[wire.Notice])
_ops_encoder = msgspec.json.Encoder()


async def merge_batch(
    conn: AsyncConnection,
    *,
    device_id: str,
    user_id: str,
    received_at: int,
    ops: list[MergeOp],
    log: bool = True,
    announce: pokes.Announcement | None = None,
) -> MergeResult:
    """Append `ops` to the device log (if `log`, also acknowledging them on the device)
    and merge the applied ones; if any was applied, NOTIFY `announce` (storage/pokes.py).

    Call after the push's locks (`devicelog.lock_and_claim`, or `lock_for_push`), with
    positions from this transaction's xid.
    """
    numbers: dict[tuple[str | None, str | None], int] = {}
    for o in ops:
        o.k = numbers.setdefault((o.entity, o.id), len(numbers))
    versions, notices, _ = (
        await conn.execute(
            _MERGE,
            {
                "ops": _ops_encoder.encode(ops).decode(),
                "device_id": device_id,
                "user_id": user_id,
                "received_at": received_at,
                "received_text": rfc3339_ms(received_at),
                "templates": templates(),
                "log": log,
                "channel": pokes.CHANNEL,
                "announce": None if announce is None else pokes.payload(announce),
            },
        )
    ).one()
    return MergeResult(
        versions={int(seq): v for seq, v in _versions.decode(versions).items()},
        notices=_notices.decode(notices),
    )
