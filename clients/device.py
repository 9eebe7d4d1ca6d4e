"""The Python device SDK (docs/sdk.md).

d = Device.open("https://sync.example.com", token, "tab-042", "tab-042.db")
d.update("job", job_id, {"status": "in_progress"})   # durable when it returns
d.get("job", job_id)                                 # the optimistic view
d.sync()                                             # when the network is back
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec
import websockets
from websockets.sync.client import ClientConnection, connect

from clients.clock import Clock
from clients.errors import SyncError
from clients.http import Transport, error_of
from clients.store import QueuedPhoto, Store
from clients.view import matches, overlay
from schema import wire

PUSH_BATCH = 1000  # the most ops one push may carry (docs/protocol.md, "Push")
PUSH_BYTES = 4 * 1024 * 1024  # below the server's default body limit of 5 MiB
PULL_PAGE = 1000
PERIODIC_SYNC_S = 60.0
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")

T = TypeVar("T")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PLAIN_FIELD = re.compile(r"^[a-z_]{1,64}$")
_push_answer = msgspec.json.Decoder(wire.PushResponse)
_pull_answer = msgspec.json.Decoder(wire.PullResponse)
_upload_answer = msgspec.json.Decoder(wire.UploadTicket)
_json = msgspec.json.Encoder()


@dataclass
class SyncResult:
    pushed: int = 0  # ops this call saw acknowledged: applied, rejected or duplicate
    pulled: int = 0  # changes applied to the replica
    notices: list[dict[str, Any]] = field(default_factory=list)  # newly delivered
    rejected: list[dict[str, Any]] = field(default_factory=list)  # newly rejected


class Device:
    """One device: its durable store, its optimistic view, and sync with the server."""

    on_notice: Callable[[dict[str, Any]], None] | None = None
    pull_limit: int = PULL_PAGE  # changes asked for per pull page (1..5000)

    def __init__(self, store: Store, transport: Transport, device_id: str) -> None:
        self._store = store
        self._http = transport
        self.device_id = device_id
        self._sync_lock = threading.Lock()
        self._written = threading.Event()  # wakes `listen` to push a new write

    @classmethod
    def open(
        cls,
        url: str,
        token: str,
        device_id: str,
        path: str | Path,
        *,
        clock: Callable[[], int] | None = None,
        timeout: float = 30.0,
    ) -> Device:
        """Open (or create) the device's store at `path`. A store of another device or
        server raises ValueError."""
        if not _ID.match(device_id):
            raise ValueError(f"device id {device_id!r}: 1-64 characters of [A-Za-z0-9._-]")
        url = url.rstrip("/")
        store = Store(path, device_id, url, Clock(clock))
        return cls(store, Transport(url, token, timeout), device_id)

    def close(self) -> None:
        self._store.close()
        self._http.close()

    # --- writes --------------------------------------------------------------

    def create(self, entity: str, id: str, fields: dict[str, Any]) -> int:
        return self._write(entity, id, "create", fields)

    def update(self, entity: str, id: str, fields: dict[str, Any]) -> int:
        if not fields:
            raise ValueError("an update writes at least one field")
        return self._write(entity, id, "update", fields)

    def delete(self, entity: str, id: str) -> int:
        return self._write(entity, id, "delete", None)

    def _write(
        self, entity: str, entity_id: str, action: str, fields: dict[str, Any] | None
    ) -> int:
        if not _ID.match(entity_id):
            raise ValueError(f"id {entity_id!r}: 1-64 characters of [A-Za-z0-9._-]")
        if fields is not None and not isinstance(fields, dict):
            raise TypeError("fields must be a dict")
        seq = self._store.append(entity, entity_id, action, fields)
        self._written.set()
        return seq

    def add_photo(
        self,
        job_id: str,
        data: bytes,
        content_type: str,
        *,
        caption: str | None = None,
        taken_at: str | None = None,
    ) -> str:
        """Queue a photo's bytes; sync uploads them, then writes the job_photo."""
        if content_type not in PHOTO_TYPES:
            raise ValueError(f"content type {content_type!r}: one of {', '.join(PHOTO_TYPES)}")
        photo_id = uuid.uuid4().hex
        fields: dict[str, Any] = {
            "job_id": job_id,
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if caption is not None:
            fields["caption"] = caption
        if taken_at is not None:
            fields["taken_at"] = taken_at
        self._store.queue_photo(photo_id, fields, bytes(data))
        self._written.set()
        return photo_id

    # --- the optimistic view -------------------------------------------------

    def get(self, entity: str, id: str) -> dict[str, Any] | None:
        doc, ops, pending = self._store.entity(entity, id)
        if entity == "job_photo" and not ops and doc is None:
            queued = self._store.queued_photo_fields(id)
            return _queued_photo(id, queued[id]) if queued else None
        return _shown(entity, id, doc, ops, pending)

    def query(self, entity: str, **equal: Any) -> list[dict[str, Any]]:
        # Plain values of plain field names narrow the replica in SQL; every
        # condition is checked again on the overlaid document.
        in_sql = {
            name: value
            for name, value in equal.items()
            if _PLAIN_FIELD.match(name) and isinstance(value, str)
        }
        docs, touched = self._store.entities(entity, in_sql)
        shown = {doc["id"]: {**doc, "pending": False} for doc in docs}
        for entity_id, (doc, ops, pending) in touched.items():
            view = _shown(entity, entity_id, doc, ops, pending)
            if view is not None:
                shown[entity_id] = view
        if entity == "job_photo":
            for photo_id, fields in self._store.queued_photo_fields().items():
                shown[photo_id] = _queued_photo(photo_id, fields)
        return [shown[k] for k in sorted(shown) if matches(shown[k], equal)]

    def pending(self) -> int:
        return self._store.pending()

    def notices(self) -> list[dict[str, Any]]:
        return self._store.notices()

    def ack_notice(self, notice_id: str) -> None:
        self._store.ack_notice(notice_id)

    def rejected(self) -> list[dict[str, Any]]:
        return self._store.rejected()

    def clear_rejected(self) -> None:
        self._store.clear_rejected()

    # --- sync ----------------------------------------------------------------

    def sync(self, *, retry_for: float = 30.0) -> SyncResult:
        """Push the outbox, upload queued photos and push their ops, then pull until
        caught up. (Pushing first lets a photo name a job this device created offline.)"""
        deadline = time.monotonic() + retry_for
        result = SyncResult()
        with self._sync_lock:
            self._push(result, deadline)
            failed = self._upload_photos(result, deadline)
            self._push(result, deadline)
            self._pull(result, deadline)
        if failed is not None:
            raise failed  # the photo stays queued; everything else went through
        return result

    def _upload_photos(self, result: SyncResult, deadline: float) -> SyncError | None:
        """Upload each queued photo; one that fails stays queued and the others go on.
        Returns the first failure."""
        failed = None
        for photo in self._store.queued_photos():
            try:
                self._upload(photo, result, deadline)
            except SyncError as exc:
                failed = failed or exc
        return failed

    def _heard(self, notices: list[dict[str, Any]], result: SyncResult) -> None:
        result.notices += notices
        if self.on_notice is not None:
            for notice in notices:
                self.on_notice(notice)

    def _upload(self, photo: QueuedPhoto, result: SyncResult, deadline: float) -> None:
        """Upload one queued photo, then write its op. A refused PUT (its URL expired
        while it was retried, say) asks for a new upload, three times at most. Bytes the
        store refuses (a PUT answered 400 or 422), or an upload refused for the job
        (403, 404, 422: gone, or no longer this user's) drop the photo into the
        rejections, since retrying would fail forever."""
        f = photo.fields
        ask = {k: f[k] for k in ("job_id", "content_type", "size", "sha256")}
        by_store = False  # the refusal came from the bucket, not this server
        for _ in range(3):
            answer = self._http.request("POST", "/api/uploads", deadline, content=_json.encode(ask))
            if answer.status_code != 201:
                for_good = answer.status_code in (403, 404, 422)
                break
            upload = _decoded(_upload_answer, answer)
            put = self._http.request(
                "PUT",
                upload.url,
                deadline,
                content=photo.data,
                headers=upload.headers,
                auth=False,
            )
            if put.status_code < 300:
                self._store.photo_uploaded(photo, upload.key)
                return
            answer, by_store = put, True
            for_good = put.status_code in (400, 422)
            if for_good:
                break
        code, message, _ = error_of(answer)
        if for_good:
            error = {"code": code, "message": message}
            result.rejected.append(self._store.photo_refused(photo, error))
            return
        if by_store:
            raise SyncError(code, f"the photo upload was refused: {message}", retryable=True)
        raise SyncError(code, message, retryable=False)

    def _push(self, result: SyncResult, deadline: float) -> None:
        clock_aheads = gaps = 0
        limit = PUSH_BYTES
        prefix = b'{"device_id":' + _json.encode(self.device_id) + b',"ops":['
        while batch := _batch(self._store.outbox(PUSH_BATCH), limit):
            body = prefix + b",".join(text.encode() for _, text in batch) + b"]}"
            answer = self._http.request(
                "POST",
                "/sync/push",
                deadline,
                content=body,
                headers={"Content-Type": "application/json"},
            )
            if answer.status_code == 200:
                push = _decoded(_push_answer, answer)
                if push.acked_seq < batch[-1][0]:
                    raise SyncError(
                        "internal",
                        f"the server acknowledged up to {push.acked_seq} of {batch[-1][0]}",
                        retryable=True,
                    )
                rejections, notices = self._store.acknowledge(batch, push, self.device_id)
                sent = {seq for seq, _ in batch}
                result.pushed += sum(1 for r in push.results if r.seq in sent)
                result.rejected += rejections
                self._heard(notices, result)
                continue
            code, message, details = error_of(answer)
            if code == "clock_ahead" and clock_aheads < 3:
                clock_aheads += 1
                self._store.restamp(int(details["seq"]), int(details["server_time"]))
                continue
            if answer.status_code == 413 and len(batch) > 1:
                limit = len(body) // 2  # a proxy's limit below the server's own
                continue
            if (
                code == "seq_gap"
                and gaps < 1
                and self._store.holds_seq(int(details.get("expected", 0)))
            ):
                # The outbox is sent from its front, so a gap means the server expects
                # an op the outbox no longer holds; try once, then say so.
                gaps += 1
                continue
            raise SyncError(code, message, retryable=code == "clock_ahead")

    def _pull(self, result: SyncResult, deadline: float) -> None:
        while True:
            ask = {
                "device_id": self.device_id,
                "cursor": self._store.cursor,
                "limit": self.pull_limit,
            }
            answer = self._http.request(
                "POST",
                "/sync/pull",
                deadline,
                content=_json.encode(ask),
                headers={"Content-Type": "application/json"},
            )
            if answer.status_code != 200:
                code, message, _ = error_of(answer)
                raise SyncError(code, message, retryable=False)
            page = _decoded(_pull_answer, answer)
            pulled, notices = self._store.apply_page(page, self.device_id)
            result.pulled += pulled
            self._heard(notices, result)
            if not page.has_more:
                return

    # --- realtime ------------------------------------------------------------

    def listen(self, stop: threading.Event) -> None:
        """Hold the WebSocket until `stop` is set, syncing when it opens, on each poke,
        after each write (within a quarter of a second), and every minute (sooner while
        writes wait after a failed sync); reconnect with backoff. A refused token or
        device raises SyncError."""
        url = self._http.url.replace("http", "ws", 1) + (
            f"/sync/ws?token={quote(self._http.token, safe='')}"
            f"&device_id={quote(self.device_id, safe='')}"
        )
        backoff = 0.25
        while not stop.is_set():
            try:
                with connect(url, open_timeout=10, close_timeout=1) as socket:
                    synced, due = self._sync_in_listen()
                    if synced:
                        backoff = 0.25  # reset only once a sync went through
                    self._hold(socket, stop, due)
            except websockets.InvalidStatus as exc:
                if exc.response.status_code in (401, 403):
                    raise SyncError(
                        "unauthorized" if exc.response.status_code == 401 else "device_taken",
                        "the server refused the socket",
                        retryable=False,
                    ) from exc
            except (OSError, websockets.WebSocketException):
                pass
            stop.wait(self._http.rng.uniform(0, backoff))
            backoff = min(30.0, backoff * 2)

    def _hold(self, socket: ClientConnection, stop: threading.Event, due: float) -> None:
        """Sync on pokes (several queued ones count once) and when `due`, until `stop`."""
        while not stop.is_set():
            poked = False
            try:
                message = socket.recv(timeout=0.25)
                poked = '"poke"' in (message if isinstance(message, str) else message.decode())
                while poked:  # drain what else came meanwhile: one sync serves all
                    socket.recv(timeout=0)
            except TimeoutError:
                pass
            wrote = self._written.is_set()
            if poked or wrote or time.monotonic() >= due:
                self._written.clear()
                _, due = self._sync_in_listen()

    def _sync_in_listen(self) -> tuple[bool, float]:
        """Sync once: (whether it went through, when the next one is due, in
        time.monotonic seconds)."""
        try:
            self.sync(retry_for=0)
        except SyncError as exc:
            if not exc.retryable:
                raise
            return False, time.monotonic() + (5 if self.pending() else PERIODIC_SYNC_S)
        return True, time.monotonic() + PERIODIC_SYNC_S


def _batch(ops: list[tuple[int, str]], limit: int) -> list[tuple[int, str]]:
    """The longest prefix of `ops` whose texts fit in `limit` bytes (at least one op)."""
    size = 0
    for n, (_, text) in enumerate(ops):
        size += len(text) + 1
        if size > limit and n > 0:
            return ops[:n]
    return ops


def _decoded(decoder: msgspec.json.Decoder[T], answer: httpx.Response) -> T:
    """A 200 answer's body; one that is not the server's (a captive portal's page, a
    proxy's) fails the sync as the network would, to be tried again."""
    try:
        return decoder.decode(answer.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SyncError("unavailable", f"not the server's answer: {exc}", retryable=True) from exc


def _shown(
    entity: str, entity_id: str, doc: dict[str, Any] | None, ops: list[Any], pending: bool
) -> dict[str, Any] | None:
    view = overlay(entity_id, doc, ops)
    if view is None:
        return None
    if entity == "job_photo" and doc is None:
        view.setdefault("status", "pending")  # uploaded; the server is checking the bytes
    view["pending"] = pending
    return view


def _queued_photo(photo_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "caption": None,
        "taken_at": None,
        **fields,
        "id": photo_id,
        "version": None,
        "status": "queued",
        "pending": True,
    }
