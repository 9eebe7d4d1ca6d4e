"""The fleet simulator's checks, after every device synced at the end.

- Convergence: each device's replica (the SDK's view with an empty outbox) equals
  what the server serves its user (a fresh full pull under the same token).
- Exactly once: every op a device wrote is in the server's device log once, with
  the content the device wrote, and nothing else is: the device's acked_seq
  (GET /api/devices), each job op in its job's history (GET /api/jobs/{id}/history),
  each note and photo among its job's (GET /api/jobs/{id}).

The comparisons are pure functions of what was fetched, so tests can feed them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from clients.simulator_fleet import Journal
from clients.simulator_setup import Api

ENTITIES = ("customer", "location", "contact", "job", "job_note", "job_photo")
Key = tuple[str, str]


# --- convergence ----------------------------------------------------------------


def differences(
    replica: Mapping[Key, Mapping[str, Any]],
    served: Mapping[Key, Mapping[str, Any]],
    limit: int = 3,
) -> list[str]:
    """How the replica differs from what the server serves, at most `limit` lines."""
    out: list[str] = []
    for key in sorted(set(replica) | set(served)):
        mine, theirs = replica.get(key), served.get(key)
        if mine == theirs:
            continue
        if mine is None:
            out.append(f"{key[0]} {key[1]}: served, not in the replica")
        elif theirs is None:
            out.append(f"{key[0]} {key[1]}: in the replica, not served")
        else:
            fields = sorted(
                f for f in set(mine) | set(theirs) if mine.get(f, ...) != theirs.get(f, ...)
            )
            shown = ", ".join(f"{f}: {mine.get(f)!r} != {theirs.get(f)!r}" for f in fields[:3])
            out.append(f"{key[0]} {key[1]}: {shown}")
        if len(out) >= limit:
            break
    return out


def replica_of(device: Any) -> dict[Key, dict[str, Any]]:
    """The SDK's view of every entity kind, without its own `pending` key."""
    held: dict[Key, dict[str, Any]] = {}
    for entity in ENTITIES:
        for doc in device.query(entity):
            doc = dict(doc)
            doc.pop("pending", None)
            held[(entity, doc["id"])] = doc
    return held


# --- exactly once ---------------------------------------------------------------


@dataclass
class ServerLog:
    """What the server holds of the fleet's writes."""

    acked: dict[str, int] = field(default_factory=dict)  # device id -> acked_seq
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # job id -> items
    notes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # job -> id -> note
    photos: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass
class DeviceRecord:
    """One device's side: its journal and the rejections its SDK reported."""

    journal: Journal
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ExactlyOnce:
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


def _rejected_ids(record: DeviceRecord) -> tuple[set[int], set[str]]:
    """Seqs the server rejected, and ids of photos refused (at upload or push)."""
    seqs: set[int] = set()
    photo_ids: set[str] = set()
    for r in record.rejected:
        if r.get("seq") is not None:
            seqs.add(int(r["seq"]))
        op = r.get("op") or {}
        if (op.get("entity") == "job_photo" or r.get("seq") is None) and op.get("id"):
            photo_ids.add(str(op["id"]))
    return seqs, photo_ids


def _refused_at_upload(record: DeviceRecord) -> set[str]:
    return {
        str((r.get("op") or {}).get("id"))
        for r in record.rejected
        if r.get("seq") is None and (r.get("op") or {}).get("id")
    }


def check_exactly_once(devices: Mapping[str, DeviceRecord], server: ServerLog) -> ExactlyOnce:
    result = ExactlyOnce()
    seen: Counter[tuple[str, int]] = Counter()
    logged: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for job_id, items in server.history.items():
        for item in items:
            key = (item["device_id"], int(item["seq"]))
            if key[0] in devices:
                seen[key] += 1
                logged.setdefault(key, []).append({**item, "job_id": job_id})
    for device_id, record in devices.items():
        journal = record.journal
        rejected_seqs, refused_photos = _rejected_ids(record)
        # Seqs the device used: its journaled ops, and one per photo it uploaded.
        last = len(journal.writes) + len(set(journal.photos) - _refused_at_upload(record))
        acked = server.acked.get(device_id, 0)
        if acked < last:
            result.lost += last - acked
            result.problem(f"{device_id}: acked_seq {acked}, wrote {last} ops")
        elif acked > last:
            result.duplicated += acked - last
            result.problem(f"{device_id}: acked_seq {acked}, but wrote only {last} ops")
        for seq, write in journal.writes.items():
            if write.entity == "job":
                items = logged.get((device_id, seq), [])
                if not items:
                    result.lost += 1
                    result.problem(f"{device_id} seq {seq}: job op not in {write.id}'s history")
                    continue
                result.duplicated += len(items) - 1
                if len(items) > 1:
                    result.problem(f"{device_id} seq {seq}: {len(items)} times in the logs")
                first = items[0]
                if (first["job_id"], first["action"], first["fields"]) != (
                    write.id,
                    write.action,
                    write.fields,
                ):
                    result.lost += 1
                    result.problem(
                        f"{device_id} seq {seq}: logged as {first['action']} of "
                        f"{first['job_id']} {first['fields']!r}, written as {write.action} "
                        f"of {write.id} {write.fields!r}"
                    )
            elif write.entity == "job_note" and write.action == "create":
                if seq in rejected_seqs:
                    continue
                job_id = str((write.fields or {}).get("job_id"))
                note = server.notes.get(job_id, {}).get(write.id)
                if note is None or note.get("body") != (write.fields or {}).get("body"):
                    result.lost += 1
                    result.problem(f"{device_id} seq {seq}: note {write.id} not on {job_id}")
        for photo_id, fields in journal.photos.items():
            if photo_id in refused_photos:
                continue
            photo = server.photos.get(fields["job_id"], {}).get(photo_id)
            if photo is None or photo.get("size") != fields["size"]:
                result.lost += 1
                result.problem(f"{device_id}: photo {photo_id} not on {fields['job_id']}")
    # Job ops in the logs of the fleet's devices that no device journaled as a job op.
    for key, count in seen.items():
        device_id, seq = key
        journaled = devices[device_id].journal.writes.get(seq)
        if journaled is None or journaled.entity != "job":
            result.duplicated += count
            result.problem(f"{device_id} seq {seq}: in a job's history, not written as a job op")
    return result


def fetch_server_log(
    admin: Api, device_ids: Iterable[str], job_ids: Iterable[str], threads: int = 4
) -> ServerLog:
    """The admin read APIs' view of the fleet's devices and jobs."""
    wanted = set(device_ids)
    log = ServerLog()
    for item in admin.pages("/api/devices"):
        if item["device_id"] in wanted:
            log.acked[item["device_id"]] = int(item["acked_seq"])

    def fetch(job_id: str) -> None:
        log.history[job_id] = list(admin.pages(f"/api/jobs/{job_id}/history"))
        detail = admin.call("GET", f"/api/jobs/{job_id}", missing_ok=True) or {}
        log.notes[job_id] = {n["id"]: n for n in detail.get("notes") or []}
        log.photos[job_id] = {p["id"]: p for p in detail.get("photos") or []}

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fetch, sorted(set(job_ids))))
    return log
