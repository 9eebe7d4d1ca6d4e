"""SQL for photo uploads (docs/protocol.md, "Photos")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog.visibility import JOB_VISIBLE


@dataclass(frozen=True, slots=True)
class Upload:
    key: str
    job_id: str
    content_type: str
    size: int
    sha256: str
    stored: bool
    thumbnail: bool


_CREATE = text(
    """
    INSERT INTO uploads (key, job_id, content_type, size, sha256, user_id)
    VALUES (:key, :job_id, :content_type, :size, lower(:sha256), :user_id)
    """
)
_GET = text(
    "SELECT key, job_id, content_type, size, sha256, stored_at IS NOT NULL,"
    " thumbnail_at IS NOT NULL FROM uploads WHERE key = :key"
)
_STORED = text("UPDATE uploads SET stored_at = coalesce(stored_at, now()) WHERE key = :key")
_TO_CHECK = text(
    """
    SELECT u.key FROM uploads u
    WHERE u.stored_at IS NULL
      AND u.created_at > now() - interval '7 days'
      AND (u.checked_at IS NULL
           OR u.checked_at < now() - least(power(2, u.checks), 300) * interval '1 second')
      AND EXISTS (SELECT 1 FROM entities ph
                  WHERE ph.entity = 'job_photo' AND ph.data ->> 'key' = u.key
                    AND NOT ph.deleted)
    ORDER BY u.checked_at NULLS FIRST
    LIMIT :limit
    """
)
_TO_THUMBNAIL = text(
    """
    SELECT key FROM uploads
    WHERE stored_at IS NOT NULL AND thumbnail_at IS NULL AND thumbnail_failures < 3
    ORDER BY stored_at LIMIT :limit
    """
)
_THUMBNAIL_DONE = text("UPDATE uploads SET thumbnail_at = now() WHERE key = :key")
_THUMBNAIL_FAILED = text(
    "UPDATE uploads SET thumbnail_failures = thumbnail_failures + 1 WHERE key = :key"
)
_DELETED_PHOTOS_BLOBS = text(
    """
    SELECT u.key FROM uploads u
    WHERE u.stored_at IS NOT NULL
      AND EXISTS (SELECT 1 FROM entities ph
                  WHERE ph.entity = 'job_photo' AND ph.data ->> 'key' = u.key)
      AND NOT EXISTS (SELECT 1 FROM entities ph
                      WHERE ph.entity = 'job_photo' AND ph.data ->> 'key' = u.key
                        AND (NOT ph.deleted
                             OR ph.updated_at > now() - :retention * interval '1 second'))
    LIMIT :limit
    """
)
_ORPHANS = text(
    """
    SELECT u.key FROM uploads u
    WHERE u.created_at < now() - :ttl * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM entities ph
                      WHERE ph.entity = 'job_photo' AND ph.data ->> 'key' = u.key)
    LIMIT :limit
    """
)
_FORGET_BYTES = text("UPDATE uploads SET stored_at = NULL, thumbnail_at = NULL WHERE key = :key")
_FORGET_UPLOAD = text("DELETE FROM uploads WHERE key = :key")
_CHECKED = text("UPDATE uploads SET checked_at = now(), checks = checks + 1 WHERE key = :key")
_PENDING = text(
    """
    SELECT id FROM entities
    WHERE entity = 'job_photo' AND data ->> 'key' = :key AND NOT deleted
      AND data ->> 'status' = 'pending'
    ORDER BY id
    """
)
_LIVE_JOB = text(
    f"""
    SELECT EXISTS (SELECT 1 FROM entities p
                   WHERE p.entity = 'job' AND p.id = :job_id AND NOT p.deleted
                     AND (NOT :restricted OR {JOB_VISIBLE.format(j="p")}))
    """
)
_PHOTO = text(
    f"""
    SELECT ph.data FROM entities ph
    JOIN entities p ON p.entity = 'job' AND p.id = ph.data ->> 'job_id'
    WHERE ph.entity = 'job_photo' AND ph.id = :id AND NOT ph.deleted
      AND (NOT :restricted OR (NOT p.deleted AND {JOB_VISIBLE.format(j="p")}))
    """
)


async def create_upload(
    conn: AsyncConnection,
    *,
    key: str,
    job_id: str,
    content_type: str,
    size: int,
    sha256: str,
    user_id: str,
) -> None:
    await conn.execute(
        _CREATE,
        {
            "key": key,
            "job_id": job_id,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "user_id": user_id,
        },
    )


async def upload(conn: AsyncConnection, key: str) -> Upload | None:
    row = (await conn.execute(_GET, {"key": key})).first()
    return None if row is None else Upload(*row)


async def mark_stored(conn: AsyncConnection, key: str) -> None:
    await conn.execute(_STORED, {"key": key})


async def due_for_check(conn: AsyncConnection, limit: int) -> list[str]:
    """Keys of uploads that photos wait for, not yet seen stored, whose next try is due:
    1, 2, 4 ... up to 300 s after the last, for a week."""
    return [key for (key,) in await conn.execute(_TO_CHECK, {"limit": limit})]


async def due_for_thumbnail(conn: AsyncConnection, limit: int) -> list[str]:
    """Stored uploads without a thumbnail (three failed tries and it is given up)."""
    return [key for (key,) in await conn.execute(_TO_THUMBNAIL, {"limit": limit})]


async def note_thumbnail(conn: AsyncConnection, key: str, made: bool) -> None:
    await conn.execute(_THUMBNAIL_DONE if made else _THUMBNAIL_FAILED, {"key": key})


async def blobs_of_deleted_photos(conn: AsyncConnection, retention_s: int, limit: int) -> list[str]:
    """Stored uploads whose every photo was deleted more than `retention_s` ago."""
    rows = await conn.execute(_DELETED_PHOTOS_BLOBS, {"retention": retention_s, "limit": limit})
    return [key for (key,) in rows]


async def orphan_uploads(conn: AsyncConnection, ttl_s: int, limit: int) -> list[str]:
    """Uploads older than `ttl_s` that no photo ever used."""
    return [key for (key,) in await conn.execute(_ORPHANS, {"ttl": ttl_s, "limit": limit})]


async def forget_bytes(conn: AsyncConnection, key: str) -> None:
    """The bytes are gone: a photo revived later with this key is `pending` again."""
    await conn.execute(_FORGET_BYTES, {"key": key})


async def forget_upload(conn: AsyncConnection, key: str) -> None:
    await conn.execute(_FORGET_UPLOAD, {"key": key})


async def note_check(conn: AsyncConnection, key: str) -> None:
    await conn.execute(_CHECKED, {"key": key})


async def pending_photos(conn: AsyncConnection, key: str) -> list[str]:
    """Live photos with this key still `pending`."""
    return [photo_id for (photo_id,) in await conn.execute(_PENDING, {"key": key})]


async def live_job_seen(conn: AsyncConnection, job_id: str, seen_by: dict[str, object]) -> bool:
    return bool((await conn.execute(_LIVE_JOB, {"job_id": job_id, **seen_by})).scalar())


async def photo(
    conn: AsyncConnection, photo_id: str, seen_by: dict[str, object]
) -> dict[str, Any] | None:
    """A live photo's document, if the user sees its job."""
    return (await conn.execute(_PHOTO, {"id": photo_id, **seen_by})).scalar()
