"""Applying a device's batch to the projection: read, merge, write.

1. Read the stored state of the entities the batch touches with
   `projection.existing` (a push has read it already, with its reference
   checks, and passes it in).
2. Merge in Python with `conflict.batch.merge_batch`, the pure rules.
3. Write in one statement: the changed entity rows (served document, pull
   entry and per-field metadata), the batch's row of the device log, the
   notices, the device's acknowledged seq, and the NOTIFY for realtime.

The caller holds the locks on every entity the batch writes (see
changelog/devicelog.py), so nothing changes between the read and the write.
`tests/changelog/test_sql_merge_agrees.py` checks the stored result against
`conflict.lww.apply_op` on random workloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import driver
from changelog.devicelog import POSITIONS_PER_TRANSACTION
from conflict.batch import BatchOutcome, EntityState
from conflict.batch import merge_batch as merge_ops
from schema import wire
from schema.entities import ENTITIES
from syncserver.storage import pokes, projection
from syncserver.storage.notices import NOTICE_JSON
from syncserver.timefmt import rfc3339_ms

Key = tuple[str, str]


class MergeOp(msgspec.Struct):
    """One op of the batch: its verdict so far and, for the device log, its text."""

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


@dataclass(frozen=True, slots=True)
class MergeResult:
    versions: dict[int, int]  # seq -> entity version after the op (applied ops)
    notices: list[wire.Notice]


@cache
def templates() -> dict[str, dict[str, Any]]:
    """Each entity's served document before any write: every field null or its default."""
    docs = {}
    for name, spec in ENTITIES.items():
        doc: dict[str, Any] = {field: spec.defaults.get(field) for field in spec.writable}
        doc.update({field: None for field in spec.server_fields})
        docs[name] = doc
    return docs


def _texts(param: str) -> str:
    """A `text[]` from a parameter holding a JSON array of strings (or nulls)."""
    return (
        f"ARRAY(SELECT v FROM json_array_elements_text(CAST({param} AS json))"
        " WITH ORDINALITY AS t(v, i) ORDER BY i)"
    )


_WRITE = text(
    f"""
WITH
rows AS (
    SELECT x.* FROM jsonb_to_recordset(CAST(:entities AS jsonb)) AS x(
        n int, entity text, id text, version bigint, deleted boolean, data jsonb,
        change text, meta jsonb, new boolean)
),
new_jobs AS (SELECT n, id FROM rows WHERE new AND entity = 'job'),
-- A job keeps the number its first create got; a rebuild finds it here.
numbered AS (
    INSERT INTO job_numbers (job_id, number)
    SELECT j.id, nextval('job_number_seq')
    FROM (SELECT n, id FROM new_jobs
          WHERE id NOT IN (SELECT job_id FROM job_numbers) ORDER BY n) AS j
    RETURNING job_id, number
),
job_number AS (
    SELECT job_id, number FROM numbered
    UNION ALL
    SELECT j.job_id, j.number FROM job_numbers j JOIN new_jobs n ON n.id = j.job_id
),
-- What only the database knows: a new job's number, a photo's upload status. Those
-- rows come without their pull entry, rendered here.
completed AS (
    SELECT r.entity, r.id, r.version, r.deleted, r.change,
           CASE WHEN nj.number IS NOT NULL
                THEN r.data || jsonb_build_object('job_number',
                    'J-' || CASE WHEN nj.number < 1000000 THEN lpad(nj.number::text, 6, '0')
                                 ELSE nj.number::text END)
                WHEN r.entity = 'job_photo'
                THEN r.data || jsonb_build_object('status', photo_status(r.data))
                ELSE r.data END AS data
    FROM rows r LEFT JOIN job_number nj ON r.new AND r.entity = 'job' AND nj.job_id = r.id
),
upserted AS (
    INSERT INTO entities AS e (entity, id, version, deleted, data, change,
                               created_at, updated_at)
    SELECT c.entity, c.id, c.version, c.deleted, c.data,
           coalesce(c.change, CASE WHEN c.deleted
                THEN json_build_object('entity', c.entity, 'id', c.id, 'removed', true)::text
                ELSE '{{"entity":' || to_json(c.entity)::text || ',"id":' || to_json(c.id)::text
                     || ',"version":' || c.version || ',"data":' || c.data::text || '}}'
           END),
           to_timestamp(:received_at / 1000.0), to_timestamp(:received_at / 1000.0)
    FROM completed c
    ON CONFLICT (entity, id) DO UPDATE SET
        version = excluded.version, deleted = excluded.deleted, data = excluded.data,
        change = excluded.change, updated_at = excluded.updated_at
),
meta_upserted AS (
    INSERT INTO entity_meta AS m (entity, id, meta)
    SELECT entity, id, meta FROM rows
    ON CONFLICT (entity, id) DO UPDATE SET meta = excluded.meta
),
logged AS (
    INSERT INTO device_log_batches (device_id, first_seq, last_seq, position, user_id,
                                    received_at, ops, entities, entity_ids, actions, results)
    SELECT CAST(:device_id AS text), CAST(:first_seq AS bigint), CAST(:acked AS bigint),
           CAST(:first_position AS bigint), CAST(:user_id AS text),
           to_timestamp(:received_at / 1000.0),
           {_texts(":ops")}, {_texts(":op_entities")}, {_texts(":op_entity_ids")},
           {_texts(":op_actions")}, CAST(:results AS jsonb)
    WHERE CAST(:results AS jsonb) IS NOT NULL
),
acked AS (
    UPDATE devices SET acked_seq = greatest(acked_seq, CAST(:acked AS bigint)),
                       last_push_at = now()
    WHERE device_id = CAST(:device_id AS text) AND CAST(:acked AS bigint) IS NOT NULL
),
inserted_notices AS (
    INSERT INTO notices (seq, id, entity, entity_id, field, winner, loser, winner_device_id,
                         loser_device_id, winner_user_id, loser_user_id, position, detected_at)
    SELECT n.seq, n.id, n.entity, n.entity_id, n.field, n.winner, n.loser,
           n.winner ->> 'device_id', n.loser ->> 'device_id', n.winner ->> 'user_id',
           n.loser ->> 'user_id', n.pos, to_timestamp(:received_at / 1000.0)
    FROM jsonb_to_recordset(CAST(:notices AS jsonb)) AS n(
        seq bigint, id text, pos bigint, entity text, entity_id text, field text,
        winner jsonb, loser jsonb)
    ORDER BY n.seq
    ON CONFLICT (id) DO NOTHING
    RETURNING seq, id, entity, entity_id, field, status, winner, loser, detected_at, resolution
)
SELECT
    (SELECT coalesce(json_agg({NOTICE_JSON} ORDER BY n.seq), '[]')
     FROM inserted_notices n)::text,
    -- Realtime: tell every server process once this commits.
    (SELECT count(pg_notify(CAST(:channel AS text), CAST(:announce AS text)))
     WHERE CAST(:announce AS text) IS NOT NULL)
"""
)


class _Row(msgspec.Struct):
    """An entity row for the write statement."""

    n: int  # the order the batch first touched it (job numbers follow it)
    entity: str
    id: str
    version: int
    deleted: bool
    data: msgspec.Raw
    change: str | None  # None: rendered by the statement
    meta: dict[str, list[Any]]
    new: bool


_REJECTED = (None, None)  # a rejected op's version and lost fields

_notices = msgspec.json.Decoder(list[wire.Notice])
_encoder = msgspec.json.Encoder()


def _column(ops: list[MergeOp], name: str) -> str:
    """One attribute of every op, as a JSON array."""
    return _encoder.encode([getattr(o, name) for o in ops]).decode()


# The write's parameters for the batch's device log row, and for none.
_NO_LOG_ROW: dict[str, Any] = dict.fromkeys(
    ("ops", "op_entities", "op_entity_ids", "op_actions", "results", "first_seq",
     "first_position", "acked")
)  # fmt: skip


def _log_row(ops: list[MergeOp], verdicts: Mapping[int, tuple[Any, Any]]) -> dict[str, Any]:
    """The device log row of a batch: its ops, and what became of each. The row keeps
    only the first seq and position (`device_log_batches`): the rest must follow one
    by one, within the transaction's positions."""
    first = ops[0]
    if any(o.seq != first.seq + i or o.pos != first.pos + i for i, o in enumerate(ops)):
        raise ValueError("a batch to log must have consecutive seqs and positions")
    if first.pos % POSITIONS_PER_TRANSACTION + len(ops) > POSITIONS_PER_TRANSACTION:
        raise ValueError("a batch's positions must stay within its transaction's")
    results = [
        (o.ok, o.error, *(verdicts.get(o.seq, _REJECTED) if o.ok else _REJECTED)) for o in ops
    ]
    return {
        "ops": _column(ops, "op"),
        "op_entities": _column(ops, "entity"),
        "op_entity_ids": _column(ops, "id"),
        "op_actions": _column(ops, "action"),
        "results": _encoder.encode(results).decode(),
        "first_seq": first.seq,
        "first_position": first.pos,
        "acked": ops[-1].seq,
    }


def _entity_rows(
    outcome: BatchOutcome, stored: Mapping[Key, EntityState], user_id: str, received: str
) -> list[_Row]:
    rows = []
    for n, ((entity, entity_id), state) in enumerate(outcome.entities.items()):
        if not state.changed:
            continue
        new = (entity, entity_id) not in stored
        if new:
            doc = {**templates()[entity], "id": entity_id, **state.values}
            if entity == "job_note":
                doc["author_id"] = user_id
            elif entity == "job_photo":
                doc["status"] = "pending"
        else:
            doc = state.values
        deleted = doc.get("deleted") is True
        doc["version"] = state.version
        doc["deleted"] = deleted
        if doc.get("created_at") is None:
            doc["created_at"] = received
        doc["updated_at"] = received
        data = _encoder.encode(doc)
        change: str | None = None
        if not (new and entity == "job") and entity != "job_photo":
            change = (
                b'{"entity":%b,"id":%b,"removed":true}'
                % (_encoder.encode(entity), _encoder.encode(entity_id))
                if deleted
                else b'{"entity":%b,"id":%b,"version":%d,"data":%b}'
                % (_encoder.encode(entity), _encoder.encode(entity_id), state.version, data)
            ).decode()
        rows.append(
            _Row(
                n=n,
                entity=entity,
                id=entity_id,
                version=state.version,
                deleted=deleted,
                data=msgspec.Raw(data),
                change=change,
                meta=state.holders,
                new=new,
            )
        )
    return rows


async def merge_batch(
    conn: AsyncConnection,
    *,
    device_id: str,
    user_id: str,
    received_at: int,
    ops: list[MergeOp],
    log: bool = True,
    announce: pokes.Announcement | None = None,
    stored: Mapping[Key, EntityState] | None = None,
) -> MergeResult:
    """Merge the applied ones of `ops` (in seq order, the device log's next ones) and,
    if `log`, append all of them to the device log as one row and acknowledge them on
    the device; if any was applied, NOTIFY `announce` (storage/pokes.py).

    `stored` is the state of the entities the applied ops touch, read after the
    locks; without it, it is read here. Call after the push's locks
    (`devicelog.lock_and_claim`, or `lock_for_push`), with positions from this
    transaction's xid.
    """
    if stored is None:
        keys = {(o.entity, o.id) for o in ops if o.ok and o.entity is not None and o.id is not None}
        stored = (await projection.existing(conn, keys, keys)).stored
    outcome = merge_ops(stored, ops, device_id, user_id)
    received = rfc3339_ms(received_at)
    verdicts = outcome.verdicts
    ((notices, _),) = await driver.rows(
        conn,
        _WRITE,
        {
            "entities": _encoder.encode(_entity_rows(outcome, stored, user_id, received)).decode(),
            **(_log_row(ops, verdicts) if log and ops else _NO_LOG_ROW),
            "notices": _encoder.encode(outcome.notices).decode(),
            "device_id": device_id,
            "user_id": user_id,
            "received_at": received_at,
            "channel": pokes.CHANNEL,
            "announce": None if announce is None or not verdicts else pokes.payload(announce),
        },
    )
    return MergeResult(
        versions={seq: version for seq, (version, _) in verdicts.items()},
        notices=_notices.decode(notices),
    )
