"""Photos (docs/protocol.md, "Photos"), with the embedded local blob store.

1. `POST /api/uploads` records the upload (job, type, size, sha256) and hands out
   a signed PUT URL with an unguessable key scoped to the job.
2. The device PUTs the bytes; the store keeps them only if size and sha256 match.
3. A job_photo create with that key is `available` if the bytes are already
   stored (the merge checks, schema/migrations/0005_photos.sql). If the op came
   first, storing the bytes appends an op to the server's device log that
   rewrites the photo's key, so the merge recomputes the status, every device
   pulls the change, and `rebuild` reproduces it.

Storing bytes and pushing a photo with that key take the same lock first
(changelog/devicelog.py), so whichever commits second sees the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from changelog import devicelog, serverlog
from changelog.hlc import wall_ms
from schema import wire
from schema.errors import Forbidden, InvalidRequest, NotFound
from schema.rights import BUILTIN_ADMIN_ID, Principal
from schema.timefmt import rfc3339_ms
from syncserver.auth import blob_secret
from syncserver.background import every
from syncserver.blobs import LocalBlobStore, S3BlobStore
from syncserver.config import Settings
from syncserver.storage import photos as photo_store
from syncserver.storage import reads
from syncserver.storage import users as user_store
from syncserver.thumbnails import SUFFIX, make_thumbnail, register_heic, thumbnail_key

if TYPE_CHECKING:
    from syncserver.routes import Call

BlobStore = LocalBlobStore | S3BlobStore


async def open_blob_store(engine: AsyncEngine, settings: Settings) -> BlobStore:
    """The bucket of the settings, or else the local store in the data directory."""
    if settings.s3_bucket:
        return S3BlobStore(
            settings.s3_bucket,
            settings.s3_endpoint,
            settings.s3_region,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
    return LocalBlobStore(Path(settings.data_dir) / "blobs", await blob_secret(engine))


_SERVER = Principal(BUILTIN_ADMIN_ID, "admin")
log = logging.getLogger("syncserver.photos")


async def request_upload(
    engine: AsyncEngine,
    store: BlobStore,
    who: Principal,
    body: wire.UploadRequest,
    base_url: str,
    ttl_s: int,
) -> wire.UploadTicket:
    key = f"jobs/{body.job_id}/{uuid.uuid4().hex}"
    async with engine.begin() as conn:
        if not await photo_store.live_job_seen(conn, body.job_id, reads.viewer(who)):
            raise NotFound("no such job")
        await photo_store.create_upload(
            conn,
            key=key,
            job_id=body.job_id,
            content_type=body.content_type,
            size=body.size,
            sha256=body.sha256,
            user_id=who.user_id,
        )
    expires = wall_ms() // 1000 + ttl_s
    url, headers = store.upload(base_url, key, body.content_type, body.size, body.sha256, expires)
    return wire.UploadTicket(
        key=key, method="PUT", url=url, headers=headers, expires_at=rfc3339_ms(expires * 1000)
    )


async def receive(
    engine: AsyncEngine,
    store: LocalBlobStore,
    key: str,
    chunks: AsyncIterator[bytes],
    signature: tuple[str | None, str | None],
) -> None:
    """Store an upload's bytes (only if they match) and make its photos available."""
    if not store.signed("PUT", key, *signature, now=wall_ms() // 1000):
        raise Forbidden("the upload URL is not valid, or it has expired")
    async with engine.connect() as conn:
        upload = await photo_store.upload(conn, key)
    if upload is None:
        raise NotFound("no such upload")
    await store.store(key, chunks, upload.size, upload.sha256)
    await _stored(engine, key)


async def _stored(engine: AsyncEngine, key: str) -> None:
    """The upload's bytes are stored and match: mark it, and its waiting photos available.

    One transaction's ops take at most `serverlog.MAX_OPS` commit positions, so the
    photos waiting for one upload (any number may name its key) go in chunks, each
    its own transaction; those of later chunks are checked again under the locks."""
    async with engine.begin() as conn:
        await devicelog.lock_upload(conn, key)
        photo_ids = await photo_store.pending_photos(conn, key)
        await photo_store.mark_stored(conn, key)
        await _make_available(conn, key, photo_ids[: serverlog.MAX_OPS])
    for start in range(serverlog.MAX_OPS, len(photo_ids), serverlog.MAX_OPS):
        async with engine.begin() as conn:
            await devicelog.lock_upload(conn, key)
            still = set(await photo_store.pending_photos(conn, key))
            chunk = photo_ids[start : start + serverlog.MAX_OPS]
            await _make_available(conn, key, [p for p in chunk if p in still])


async def _make_available(conn: AsyncConnection, key: str, photo_ids: list[str]) -> None:
    """Rewrite these photos' key through the server's device log: the write works out
    their status again, `available` now that the upload is stored."""
    await serverlog.lock(conn, [("job_photo", photo_id) for photo_id in photo_ids])
    ops = []
    for photo_id in photo_ids:
        version, _, meta = await serverlog.current(conn, "job_photo", photo_id)
        hlc = serverlog.later_than([meta["key"]] if "key" in meta else [], wall_ms())
        ops.append(
            serverlog.ServerWrite("job_photo", photo_id, "update", {"key": key}, hlc, version)
        )
    if ops:
        await serverlog.append(conn, _SERVER, ops, user_store.active_technicians)


async def blob_for_download(
    engine: AsyncEngine, store: LocalBlobStore, key: str, signature: tuple[str | None, str | None]
) -> tuple[Any, str]:
    """The stored file and its content type, for a validly signed GET."""
    if not store.signed("GET", key, *signature, now=wall_ms() // 1000):
        raise Forbidden("the photo URL is not valid, or it has expired")
    original = key.removesuffix(SUFFIX)
    async with engine.connect() as conn:
        upload = await photo_store.upload(conn, original)
    if upload is None or not upload.stored or not store.path(key).exists():
        raise NotFound("no such blob")
    return store.path(key), "image/jpeg" if key != original else upload.content_type


async def view(
    engine: AsyncEngine,
    store: BlobStore,
    who: Principal,
    photo_id: str,
    base_url: str,
    ttl_s: int,
) -> wire.PhotoView:
    async with engine.connect() as conn:
        doc = await photo_store.photo(conn, photo_id, reads.viewer(who))
    if doc is None:
        raise NotFound("no such photo")
    pending = doc.get("status") == "pending"
    if pending and isinstance(store, S3BlobStore) and await settle(engine, store, doc["key"]):
        async with engine.connect() as conn:
            doc = await photo_store.photo(conn, photo_id, reads.viewer(who)) or doc
    url = thumbnail_url = None
    if doc.get("status") == "available":
        key = doc["key"]
        async with engine.connect() as conn:
            upload = await photo_store.upload(conn, key)
        url = store.download_url(base_url, key, ttl_s)
        if upload is not None and upload.thumbnail:
            thumbnail_url = store.download_url(base_url, thumbnail_key(key), ttl_s)
    try:
        return msgspec.convert(doc | {"url": url, "thumbnail_url": thumbnail_url}, wire.PhotoView)
    except msgspec.ValidationError as exc:  # a photo written before its fields were checked
        raise InvalidRequest(f"the photo cannot be shown: {exc}") from None


async def settle(engine: AsyncEngine, store: S3BlobStore, key: str) -> bool:
    """Look in the bucket for an upload's bytes; if they are there and match, the upload
    is stored and its photos become available. Returns whether it is stored."""
    async with engine.connect() as conn:
        upload = await photo_store.upload(conn, key)
    if upload is None:
        return False
    if upload.stored:
        return True
    held = await asyncio.to_thread(store.holds, key, upload.size, upload.sha256)
    if held:
        await _stored(engine, key)
    else:
        async with engine.begin() as conn:
            await photo_store.note_check(conn, key)
    return held


async def create_upload(call: Call) -> wire.UploadTicket:
    """The service call of POST /api/uploads."""
    state = call.state
    return await request_upload(
        state.engine, state.blobs, call.who, call.body, call.base_url,
        state.settings.upload_url_ttl_s,
    )  # fmt: skip


async def get_photo(call: Call) -> wire.PhotoView:
    """The service call of GET /api/photos/{photo_id}."""
    state = call.state
    return await view(
        state.engine, state.blobs, call.who, call.path["photo_id"], call.base_url,
        state.settings.download_url_ttl_s,
    )  # fmt: skip


async def settle_photo_ops(engine: AsyncEngine, store: BlobStore, ops: list[wire.Op]) -> None:
    """Before a push merges photo ops, look for their bytes in the bucket (S3 mode), so
    a photo whose upload came first is available at once."""
    if not isinstance(store, S3BlobStore):
        return
    keys = {
        op.fields["key"]
        for op in ops
        if op.entity == "job_photo" and isinstance(op.fields, dict)
        and isinstance(op.fields.get("key"), str)
    }  # fmt: skip
    for key in sorted(keys):
        await settle(engine, store, key)


class _Every:
    """Photo work run every `interval` seconds in the background until stopped."""

    name = "background work"

    def __init__(self, engine: AsyncEngine, store: BlobStore, interval: float) -> None:
        self._engine = engine
        self._store = store
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(every(self._interval, self.tick, self.name))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def tick(self) -> None:
        raise NotImplementedError


class UploadChecker(_Every):
    """In S3 mode, looks in the bucket for the uploads photos wait for, with backoff, so a
    photo pushed before its bytes becomes available within seconds of the upload."""

    name = "upload check"

    async def tick(self) -> None:
        assert isinstance(self._store, S3BlobStore)
        async with self._engine.connect() as conn:
            keys = await photo_store.due_for_check(conn, 50)
        for key in keys:
            await settle(self._engine, self._store, key)


class Thumbnailer(_Every):
    """Makes the thumbnail of every verified upload, off the event loop."""

    name = "thumbnails"

    async def start(self) -> None:
        register_heic()
        await super().start()

    def _make(self, key: str) -> bool:
        try:
            thumbnail = make_thumbnail(self._store.read(key))
        except (OSError, ValueError) as exc:  # not an image Pillow can read
            log.info("no thumbnail for %s: %s", key, exc)
            return False
        self._store.write(thumbnail_key(key), thumbnail, "image/jpeg")
        return True

    async def tick(self) -> None:
        async with self._engine.connect() as conn:
            keys = await photo_store.due_for_thumbnail(conn, 20)
        for key in keys:
            made = await asyncio.to_thread(self._make, key)
            async with self._engine.begin() as conn:
                await photo_store.note_thumbnail(conn, key, made)


class Sweeper(_Every):
    """Removes blobs no photo needs: those of photos deleted `retention_s` ago (unless a
    live photo uses the key), and uploads no photo used within `orphan_ttl_s`."""

    name = "blob sweep"

    def __init__(
        self,
        engine: AsyncEngine,
        store: BlobStore,
        interval: float,
        retention_s: int,
        orphan_ttl_s: int,
    ) -> None:
        super().__init__(engine, store, interval)
        self._retention_s = retention_s
        self._orphan_ttl_s = orphan_ttl_s

    def _remove(self, key: str) -> None:
        self._store.delete(key)
        self._store.delete(thumbnail_key(key))

    async def tick(self) -> None:
        async with self._engine.connect() as conn:
            deleted = await photo_store.blobs_of_deleted_photos(conn, self._retention_s, 100)
            orphans = await photo_store.orphan_uploads(conn, self._orphan_ttl_s, 100)
        for key in deleted:
            await asyncio.to_thread(self._remove, key)
            async with self._engine.begin() as conn:
                await photo_store.forget_bytes(conn, key)
        for key in orphans:
            await asyncio.to_thread(self._remove, key)
            async with self._engine.begin() as conn:
                await photo_store.forget_upload(conn, key)
