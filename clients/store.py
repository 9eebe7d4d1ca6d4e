"""A device's durable store: one SQLite file holding the outbox, the replica and its
cursor, the HLC and server offset, notices, rejections and queued photos.

Every method that changes the store commits before it returns (WAL journal,
`synchronous=FULL`, so a commit survives a power loss). Each pulled page, each push
answer and each uploaded photo is applied in one transaction, so a crash at any
moment leaves the store at one of those boundaries.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from clients.clock import Clock, Stamp
from schema import wire

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    device_id TEXT NOT NULL,
    url TEXT NOT NULL,
    next_seq INTEGER NOT NULL,   -- the seq the next op gets
    hlc_ts INTEGER NOT NULL,     -- the last stamp given
    hlc_tc INTEGER NOT NULL,
    offset_ms INTEGER NOT NULL,  -- server time minus the local wall clock
    floor_ts INTEGER NOT NULL,   -- the stamp of the last acknowledged op
    floor_tc INTEGER NOT NULL,
    cursor TEXT
);
-- Each op as the JSON text it is sent as; its content never changes once written,
-- except for a re-stamp after `clock_ahead` (nothing of it was recorded then).
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_entity ON outbox (entity, entity_id);
-- Ops the server applied, kept over the replica until a pull brings their entity at
-- the version they made (or removes it): the view never steps back to a value older
-- than the device's own acknowledged write while that pull is still to come.
CREATE TABLE IF NOT EXISTS applied (
    seq INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applied_entity ON applied (entity, entity_id);
CREATE TABLE IF NOT EXISTS replica (
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,          -- the pull's `data`, as the server sent it
    PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;
-- Every notice id this device was given stays here, so one acknowledged is not
-- taken again when a pull delivers it again; `body` is dropped on acknowledgement.
CREATE TABLE IF NOT EXISTS notices (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    body TEXT
);
CREATE TABLE IF NOT EXISTS rejections (
    n INTEGER PRIMARY KEY,
    seq INTEGER,
    op TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS photos (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    fields TEXT NOT NULL,        -- the job_photo create's fields, but for `key`
    data BLOB NOT NULL
);
"""

_OPS_OF_ONE = """
SELECT seq, op, 0 FROM applied WHERE entity = ? AND entity_id = ?
UNION ALL
SELECT seq, op, 1 FROM outbox WHERE entity = ? AND entity_id = ?
ORDER BY seq
"""

_APPLIED_ALREADY_PULLED = """
DELETE FROM applied WHERE seq = ? AND entity = ? AND entity_id = ? AND version <= (
    SELECT version FROM replica WHERE entity = applied.entity AND entity_id = applied.entity_id
)
"""

_NAMED_OF_KIND = """
SELECT entity_id FROM applied WHERE entity = ?
UNION
SELECT entity_id FROM outbox WHERE entity = ?
"""

_json = msgspec.json.Encoder()
_decode = msgspec.json.decode
_page = msgspec.json.Decoder(list[wire.ChangeText])


@dataclass(frozen=True)
class QueuedPhoto:
    id: str
    fields: dict[str, Any]
    data: bytes


class Store:
    """The SQLite file of one device. Safe to call from several threads: each call
    holds the store's lock for its own statements only."""

    def __init__(self, path: str | Path, device_id: str, url: str, clock: Clock) -> None:
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._lock = threading.RLock()
        self.clock = clock
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        with self._transaction() as db:
            row = db.execute("SELECT device_id, url FROM state").fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO state VALUES (1, ?, ?, 1, 0, 0, 0, 0, 0, NULL)", (device_id, url)
                )
        if row is not None and tuple(row) != (device_id, url):
            self._db.close()
            raise ValueError(
                f"{path} is the store of device {row[0]!r} at {row[1]!r}, "
                f"not of {device_id!r} at {url!r}"
            )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- writing ops ----------------------------------------------------------

    def append(
        self, entity: str, entity_id: str, action: str, fields: dict[str, Any] | None
    ) -> int:
        """Append one op to the outbox and commit; returns its seq."""
        with self._transaction() as db:
            if action == "create":
                base = 0
            else:
                row = db.execute(
                    "SELECT version FROM replica WHERE entity = ? AND entity_id = ?",
                    (entity, entity_id),
                ).fetchone()
                base = row[0] if row else 0
            return self._append(db, entity, entity_id, action, fields, base)

    def _append(
        self,
        db: sqlite3.Connection,
        entity: str,
        entity_id: str,
        action: str,
        fields: dict[str, Any] | None,
        base: int,
    ) -> int:
        # The seq and the clock are read inside the transaction, not kept in memory:
        # another thread or process writing to this store gets the next ones.
        seq, ts, tc, offset = db.execute(
            "SELECT next_seq, hlc_ts, hlc_tc, offset_ms FROM state"
        ).fetchone()
        self.clock.restore(Stamp(ts, tc), offset)
        stamp = self.clock.tick()
        op: dict[str, Any] = {
            "seq": seq,
            "ts": stamp.ts,
            "tc": stamp.tc,
            "entity": entity,
            "id": entity_id,
            "action": action,
        }
        if fields is not None:
            op["fields"] = fields
        op["base"] = base
        db.execute(
            "INSERT INTO outbox VALUES (?, ?, ?, ?)",
            (seq, entity, entity_id, _json.encode(op).decode()),
        )
        db.execute(
            "UPDATE state SET next_seq = ?, hlc_ts = ?, hlc_tc = ?",
            (seq + 1, stamp.ts, stamp.tc),
        )
        return int(seq)

    def queue_photo(self, photo_id: str, fields: dict[str, Any], data: bytes) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO photos (id, fields, data) VALUES (?, ?, ?)",
                (photo_id, _json.encode(fields).decode(), data),
            )

    def queued_photos(self) -> list[QueuedPhoto]:
        with self._lock:
            rows = self._db.execute("SELECT id, fields, data FROM photos ORDER BY n").fetchall()
        return [QueuedPhoto(r[0], _decode(r[1]), bytes(r[2])) for r in rows]

    def photo_uploaded(self, photo: QueuedPhoto, key: str) -> int:
        """The photo's bytes are on the server: its create op replaces it, at once."""
        with self._transaction() as db:
            seq = self._append(db, "job_photo", photo.id, "create", {**photo.fields, "key": key}, 0)
            db.execute("DELETE FROM photos WHERE id = ?", (photo.id,))
        return seq

    def photo_refused(self, photo: QueuedPhoto, error: dict[str, Any]) -> dict[str, Any]:
        op = {"entity": "job_photo", "id": photo.id, "action": "create", "fields": photo.fields}
        rejection = {"seq": None, "op": op, "error": error}
        with self._transaction() as db:
            db.execute(
                "INSERT INTO rejections (seq, op, error) VALUES (NULL, ?, ?)",
                (_json.encode(op).decode(), _json.encode(error).decode()),
            )
            db.execute("DELETE FROM photos WHERE id = ?", (photo.id,))
        return rejection

    # --- the push ------------------------------------------------------------

    def outbox(self, limit: int) -> list[tuple[int, str]]:
        """The first `limit` ops of the outbox: (seq, op text)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, op FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def holds_seq(self, seq: int) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM outbox WHERE seq = ?", (seq,)).fetchone()
        return row is not None

    def acknowledge(
        self, sent: Sequence[tuple[int, str]], answer: wire.PushResponse, device_id: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Apply a push answer: drop what the server acknowledged, keep its rejections
        and this device's notices. Returns (new rejections, new notices)."""
        texts = dict(sent)
        rejections = []
        applied = []
        for result in answer.results:
            if result.seq not in texts:
                continue
            if result.status == "rejected":
                error = msgspec.to_builtins(result.error)
                op = _decode(texts[result.seq])
                rejections.append({"seq": result.seq, "op": op, "error": error})
            elif result.status == "applied" and result.version is not None:
                op = _decode(texts[result.seq])
                applied.append(
                    (result.seq, op["entity"], op["id"], result.version, texts[result.seq])
                )
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO rejections (seq, op, error) VALUES (?, ?, ?)",
                [
                    (r["seq"], texts[r["seq"]], _json.encode(r["error"]).decode())
                    for r in rejections
                ],
            )
            db.executemany("INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?, ?)", applied)
            # An op that changed nothing (every field lost) is answered with the entity's
            # current version: if the replica holds that already, no pull will bring it.
            db.executemany(_APPLIED_ALREADY_PULLED, [a[:3] for a in applied])
            last = db.execute(
                "SELECT op FROM outbox WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
                (answer.acked_seq,),
            ).fetchone()
            if last is not None:
                op = _decode(last[0])
                db.execute("UPDATE state SET floor_ts = ?, floor_tc = ?", (op["ts"], op["tc"]))
            db.execute("DELETE FROM outbox WHERE seq <= ?", (answer.acked_seq,))
            notices = self._take_notices(db, answer.conflicts, device_id)
            self._set_offset(db, answer.server_time)
        return rejections, notices

    def restamp(self, from_seq: int, server_time: int) -> None:
        """`clock_ahead`: set the offset from the server's time and stamp again every
        outbox op from `from_seq` on, in seq order, continuing from the stamp of the
        newest op before it, so the device's later writes still win over its earlier."""
        with self._transaction() as db:
            self._set_offset(db, server_time)
            before = db.execute(
                "SELECT op FROM outbox WHERE seq < ? ORDER BY seq DESC LIMIT 1", (from_seq,)
            ).fetchone()
            if before is not None:
                op = _decode(before[0])
                self.clock.last = Stamp(op["ts"], op["tc"])
            else:
                ts, tc = db.execute("SELECT floor_ts, floor_tc FROM state").fetchone()
                self.clock.last = Stamp(ts, tc)
            rows = db.execute(
                "SELECT seq, op FROM outbox WHERE seq >= ? ORDER BY seq", (from_seq,)
            ).fetchall()
            for seq, text in rows:
                op = _decode(text)
                stamp = self.clock.tick()
                op["ts"], op["tc"] = stamp.ts, stamp.tc
                db.execute(
                    "UPDATE outbox SET op = ? WHERE seq = ?", (_json.encode(op).decode(), seq)
                )
            db.execute(
                "UPDATE state SET hlc_ts = ?, hlc_tc = ?",
                (self.clock.last.ts, self.clock.last.tc),
            )

    # --- the pull ------------------------------------------------------------

    @property
    def cursor(self) -> str | None:
        with self._lock:
            cursor: str | None = self._db.execute("SELECT cursor FROM state").fetchone()[0]
        return cursor

    def apply_page(
        self, page: wire.PullResponse, device_id: str
    ) -> tuple[int, list[dict[str, Any]]]:
        """Apply one pulled page with its cursor and notices. Returns (changes applied,
        new notices)."""
        changes = _page.decode(page.changes)
        upserts = []
        removals = []
        for change in changes:
            if change.removed or not change.data:
                removals.append((change.entity, change.id))
            else:
                upserts.append(
                    (change.entity, change.id, change.version or 0, bytes(change.data).decode())
                )
        with self._transaction() as db:
            if removals:
                db.executemany("DELETE FROM replica WHERE entity = ? AND entity_id = ?", removals)
                db.executemany("DELETE FROM applied WHERE entity = ? AND entity_id = ?", removals)
            if upserts:
                db.executemany("INSERT OR REPLACE INTO replica VALUES (?, ?, ?, ?)", upserts)
                if db.execute("SELECT EXISTS (SELECT 1 FROM applied)").fetchone()[0]:
                    db.executemany(
                        "DELETE FROM applied WHERE entity = ? AND entity_id = ? AND version <= ?",
                        [u[:3] for u in upserts],
                    )
            db.execute("UPDATE state SET cursor = ?", (page.cursor,))
            notices = self._take_notices(db, page.notices, device_id)
            self._set_offset(db, page.server_time)
        return len(changes), notices

    def _take_notices(
        self, db: sqlite3.Connection, notices: Sequence[wire.Notice], device_id: str
    ) -> list[dict[str, Any]]:
        taken = []
        for notice in notices:
            if notice.loser.device_id != device_id:
                continue
            text = _json.encode(notice).decode()
            cursor = db.execute(
                "INSERT INTO notices (id, body) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                (notice.id, text),
            )
            if cursor.rowcount:
                taken.append(msgspec.to_builtins(notice))
        return taken

    def _set_offset(self, db: sqlite3.Connection, server_time: int) -> None:
        self.clock.offset = server_time - int(self.clock.wall())
        db.execute("UPDATE state SET offset_ms = ?", (self.clock.offset,))

    # --- reading -------------------------------------------------------------

    def entity(self, entity: str, entity_id: str) -> tuple[dict[str, Any] | None, list[Any], bool]:
        """What the view of one entity is made of: the replica's document, the ops to
        apply over it in seq order (applied ones still to be pulled, then the outbox's),
        and whether any of them is still in the outbox."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM replica WHERE entity = ? AND entity_id = ?",
                (entity, entity_id),
            ).fetchone()
            ops = self._db.execute(_OPS_OF_ONE, (entity, entity_id, entity, entity_id)).fetchall()
        doc = _decode(row[0]) if row else None
        return doc, [_decode(r[1]) for r in ops], any(r[2] for r in ops)

    def entities(
        self, entity: str, sql_equal: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, tuple[dict[str, Any] | None, list[Any], bool]]]:
        """The replica's documents of one kind whose fields equal `sql_equal` (names
        already checked to be plain) and that no op names; and for each entity of that
        kind that ops name, what `entity` answers. All read at one moment."""
        where = "".join(f" AND json_extract(data, '$.{name}') = ?" for name in sql_equal)
        with self._lock:
            rows = self._db.execute(
                f"SELECT entity_id, data FROM replica WHERE entity = ?{where}",
                (entity, *sql_equal.values()),
            ).fetchall()
            named = {r[0] for r in self._db.execute(_NAMED_OF_KIND, (entity, entity)).fetchall()}
            touched = {entity_id: self.entity(entity, entity_id) for entity_id in named}
        return [_decode(r[1]) for r in rows if r[0] not in touched], touched

    def queued_photo_fields(self, photo_id: str | None = None) -> dict[str, dict[str, Any]]:
        with self._lock:
            if photo_id is None:
                rows = self._db.execute("SELECT id, fields FROM photos").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT id, fields FROM photos WHERE id = ?", (photo_id,)
                ).fetchall()
        return {r[0]: _decode(r[1]) for r in rows}

    def pending(self) -> int:
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM photos)"
                ).fetchone()[0]
            )

    def notices(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM notices WHERE body IS NOT NULL ORDER BY n"
            ).fetchall()
        return [_decode(r[0]) for r in rows]

    def ack_notice(self, notice_id: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE notices SET body = NULL WHERE id = ?", (notice_id,))

    def rejected(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, op, error FROM rejections ORDER BY n").fetchall()
        return [{"seq": r[0], "op": _decode(r[1]), "error": _decode(r[2])} for r in rows]

    def clear_rejected(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM rejections")
