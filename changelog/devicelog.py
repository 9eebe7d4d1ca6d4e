"""SQL for the device logs (`device_log_batches`), the devices that own them, and
commit positions.

Commit positions come from transaction ids: a push's ops get `xid * 1024 + k`.
A push first takes advisory locks on its device and on every entity it
writes, and only then writes (which gives it its xid). So two pushes that
touch the same entity or device get xids in the order they commit, and a pull
that serves only positions below its snapshot's xmin never skips a change
(see changelog/pull.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import driver
from schema import wire
from schema.errors import SyncError
from schema.ops import log_columns

POSITIONS_PER_TRANSACTION = 1024  # more than the ops a push may carry (wire.MAX_PUSH_OPS)

# Positions below this are final in the statement's snapshot: every transaction
# with a smaller xid has ended, and any still to write gets a larger one. A pull
# serves only these (changelog/pages.py, changelog/restricted.py), and realtime
# pokes only once a pull would serve the change (changelog/pokes.py).
SAFE_POSITION = (
    f"pg_snapshot_xmin(pg_current_snapshot())::text::bigint * {POSITIONS_PER_TRANSACTION}"
)
_names = msgspec.json.Encoder()

# Lock names arrive as one JSON array (no per-name parameter work in the driver).
_LOCKED = """
    SELECT count(pg_advisory_xact_lock(k)) AS locks
    FROM (SELECT DISTINCT left(name, 1) AS class, hashtextextended(name, 0) AS k
          FROM jsonb_array_elements_text(CAST(:names AS jsonb)) AS name ORDER BY 1, 2) AS keys
"""

_LOCK = text(_LOCKED)

_CLAIM = text(
    """
    INSERT INTO devices AS d (device_id, user_id) VALUES (:device_id, :user_id)
    ON CONFLICT (device_id) DO UPDATE SET device_id = d.device_id
    RETURNING user_id, acked_seq, pg_current_xact_id()::text::bigint
    """
)

# Both in one statement: the insert reads its row from the lock aggregate, so every
# lock is held before the insert gives the transaction its xid.
_LOCK_AND_CLAIM = text(
    f"""
    WITH locked AS ({_LOCKED})
    INSERT INTO devices AS d (device_id, user_id)
    SELECT :device_id, :user_id FROM locked
    ON CONFLICT (device_id) DO UPDATE SET device_id = d.device_id
    RETURNING user_id, acked_seq, pg_current_xact_id()::text::bigint
    """
)

# Pull bookkeeping in one statement: claim the device (or find it is another user's),
# record the notices it acknowledges, and commit without waiting for the WAL flush.
_CLAIM_FOR_PULL = text(
    """
    WITH no_flush AS (SELECT set_config('synchronous_commit', 'off', true))
    INSERT INTO devices AS d (device_id, user_id, last_pull_at)
    SELECT :device_id, :user_id, now() FROM no_flush
    ON CONFLICT (device_id) DO UPDATE
        SET notices_acked = greatest(d.notices_acked, :acked), last_pull_at = now()
        WHERE d.user_id = excluded.user_id
    RETURNING notices_acked
    """
)

_CLAIM_FOR_SOCKET = text(
    """
    INSERT INTO devices AS d (device_id, user_id) VALUES (:device_id, :user_id)
    ON CONFLICT (device_id) DO UPDATE SET user_id = d.user_id
        WHERE d.user_id = excluded.user_id
    RETURNING 1
    """
)

# A device's log is stored one row per push (`device_log_batches`, keyed by its last
# seq), of fewer than POSITIONS_PER_TRANSACTION ops: the rows holding seqs lo..hi
# have their last seq in lo .. hi + POSITIONS_PER_TRANSACTION - 1.
_STORED_OPS = text(
    f"""
    SELECT first_seq, ops FROM device_log_batches
    WHERE device_id = :device_id
      AND last_seq BETWEEN :lo AND :hi + {POSITIONS_PER_TRANSACTION - 1} AND first_seq <= :hi
    """
)

_RECORD_PUSH = text("UPDATE devices SET last_push_at = now() WHERE device_id = :device_id")


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    user_id: str
    acked_seq: int
    first_position: int  # this transaction's ops take first_position + 1, + 2, ...


def _lock_names(
    device_id: str, keys: Iterable[tuple[str, str]], uploads: Iterable[str] = ()
) -> str:
    names = [f"a\x1f{key}" for key in uploads]
    names += [f"d\x1f{device_id}"] + [f"e\x1f{entity}\x1f{entity_id}" for entity, entity_id in keys]
    return _names.encode(names).decode()


async def lock_for_push(
    conn: AsyncConnection,
    device_id: str,
    keys: Iterable[tuple[str, str]],
    uploads: Iterable[str] = (),
) -> None:
    """Serialize pushes of this device, pushes writing these entities, and anything
    storing these uploads' bytes (syncserver/photos.py).

    Call before the transaction writes anything, so that its xid comes after the lock.
    Locks are taken in name order: uploads (`a`), then devices (`d`), then entities.
    """
    await conn.execute(_LOCK, {"names": _lock_names(device_id, keys, uploads)})


async def lock_and_claim(
    conn: AsyncConnection,
    device_id: str,
    user_id: str,
    keys: Iterable[tuple[str, str]],
    uploads: Iterable[str] = (),
) -> Device:
    """`lock_for_push` then `claim_device`, in one round trip: the transaction's
    first statement, so its xid comes after every lock."""
    (row,) = await driver.rows(
        conn,
        _LOCK_AND_CLAIM,
        {
            "names": _lock_names(device_id, keys, uploads),
            "device_id": device_id,
            "user_id": user_id,
        },
    )
    return Device(device_id, row[0], row[1], row[2] * POSITIONS_PER_TRANSACTION)


async def lock_upload(conn: AsyncConnection, key: str) -> None:
    """Serialize the storing of an upload's bytes with pushes of photos using it.

    Taken alone, first: every lock_for_push takes upload locks before any other."""
    await conn.execute(_LOCK, {"names": _names.encode([f"a\x1f{key}"]).decode()})


async def claim_device(conn: AsyncConnection, device_id: str, user_id: str) -> Device:
    """The device's row, created for `user_id` if new, locked until the transaction ends."""
    row = (await conn.execute(_CLAIM, {"device_id": device_id, "user_id": user_id})).one()
    return Device(device_id, row[0], row[1], row[2] * POSITIONS_PER_TRANSACTION)


async def claim_for_pull(
    conn: AsyncConnection, device_id: str, user_id: str, acked: int
) -> int | None:
    """Claim the device for a pull and acknowledge notices up to `acked`; returns the
    device's acknowledged notice seq, or None if the device belongs to another user.

    A crash may forget this (a notice then comes again: clients dedupe by id)."""
    rows = await driver.rows(
        conn, _CLAIM_FOR_PULL, {"device_id": device_id, "user_id": user_id, "acked": acked}
    )
    return int(rows[0][0]) if rows else None


async def claim_for_socket(conn: AsyncConnection, device_id: str, user_id: str) -> bool:
    """Claim the device for a realtime socket; False if it belongs to another user."""
    row = await conn.execute(_CLAIM_FOR_SOCKET, {"device_id": device_id, "user_id": user_id})
    return row.first() is not None


async def stored_ops(conn: AsyncConnection, device_id: str, seqs: list[int]) -> dict[int, str]:
    """The ops the device log holds under these seqs, as received."""
    if not seqs:
        return {}
    rows = await driver.rows(
        conn, _STORED_OPS, {"device_id": device_id, "lo": min(seqs), "hi": max(seqs)}
    )
    wanted = set(seqs)
    return {first + i: op for first, ops in rows for i, op in enumerate(ops) if first + i in wanted}


async def record_push(conn: AsyncConnection, device_id: str) -> None:
    """Note a push that appended nothing (all duplicates). A push that appends ops
    acknowledges them in the merge's write (syncserver/storage/merge.py)."""
    await driver.rows(conn, _RECORD_PUSH, {"device_id": device_id})


def _texts(param: str) -> str:
    """A `text[]` from a parameter holding a JSON array of strings (or nulls)."""
    return (
        f"ARRAY(SELECT v FROM json_array_elements_text(CAST({param} AS json))"
        " WITH ORDINALITY AS t(v, i) ORDER BY i)"
    )


# A batch appended to its device log, and acknowledged on the device, as CTEs of the
# merge's one statement (changelog/merge.py). Binds `append_params`, `:device_id`,
# `:user_id` and `:received_at`.
APPEND_CTES = f"""
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
)
"""

_REJECTED = (None, None)  # a rejected op's version and lost fields
_encoder = msgspec.json.Encoder()

# `APPEND_CTES`'s parameters when nothing is appended (a rebuild's replay).
NO_APPEND: dict[str, Any] = dict.fromkeys(
    ("ops", "op_entities", "op_entity_ids", "op_actions", "results", "first_seq",
     "first_position", "acked")
)  # fmt: skip


def append_params(
    ops: Sequence[wire.Op],
    errors: Sequence[wire.OpError | None],
    texts: Sequence[str],
    first_position: int,
    verdicts: Mapping[int, tuple[Any, Any]],
) -> dict[str, Any]:
    """`APPEND_CTES`'s parameters: the batch's ops as received, and what became of
    each. The row keeps only the first seq and position: the rest follow one by one,
    within the transaction's positions."""
    if first_position % POSITIONS_PER_TRANSACTION + len(ops) > POSITIONS_PER_TRANSACTION:
        raise SyncError("a batch's positions must stay within its transaction's")
    # An op that passed its checks has clean text in each column; the others are cleaned.
    columns = [
        (op.entity, op.id, op.action) if error is None else log_columns(op)
        for op, error in zip(ops, errors, strict=True)
    ]
    results = [
        (error is None, error, *(verdicts.get(op.seq, _REJECTED) if error is None else _REJECTED))
        for op, error in zip(ops, errors, strict=True)
    ]
    return {
        "ops": _encoder.encode(list(texts)).decode(),
        "op_entities": _encoder.encode([c[0] for c in columns]).decode(),
        "op_entity_ids": _encoder.encode([c[1] for c in columns]).decode(),
        "op_actions": _encoder.encode([c[2] for c in columns]).decode(),
        "results": _encoder.encode(results).decode(),
        "first_seq": ops[0].seq,
        "first_position": first_position,
        "acked": ops[-1].seq,
    }
