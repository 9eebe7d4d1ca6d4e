"""SQL for users, tokens and the server's own secrets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from changelog import driver
from schema import wire
from schema.errors import Conflict
from schema.rights import TECHNICIAN_ROLES
from schema.timefmt import rfc3339

_COLUMNS = "id, email, name, role, service_areas, active, created_at, updated_at"

_PRINCIPAL = text(
    """
    SELECT u.id, u.role, u.service_areas
    FROM tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.active
    """
)

_ACTIVE_WITH_ROLES = text(
    "SELECT id FROM users WHERE id = ANY(:ids) AND active AND role = ANY(:roles)"
)

_INSERT = text(
    f"""
    INSERT INTO users (id, email, name, role, service_areas)
    VALUES (:id, :email, :name, :role, :service_areas)
    RETURNING {_COLUMNS}
    """
)

_ENSURE = text(
    """
    INSERT INTO users (id, email, name, role) VALUES (:id, :email, :name, 'admin')
    ON CONFLICT DO NOTHING
    """
)

_GET = text(f"SELECT {_COLUMNS} FROM users WHERE id = :id")

_PAGE = text(f"SELECT {_COLUMNS} FROM users WHERE id > :after ORDER BY id LIMIT :limit")

_UPDATE = text(
    f"""
    UPDATE users SET
        name = coalesce(CAST(:name AS text), name),
        role = coalesce(CAST(:role AS text), role),
        service_areas = coalesce(CAST(:service_areas AS text[]), service_areas),
        active = coalesce(CAST(:active AS boolean), active),
        updated_at = now()
    WHERE id = :id
    RETURNING {_COLUMNS}
    """
)

_INSERT_TOKEN = text(
    """
    INSERT INTO tokens (id, user_id, token_hash, expires_at)
    VALUES (:id, :user_id, :token_hash, :expires_at)
    """
)

_TOKENS_OF = text(
    """
    SELECT id, created_at, expires_at, revoked_at FROM tokens
    WHERE user_id = :user_id ORDER BY created_at DESC, id
    """
)

_REVOKE_TOKEN = text(
    "UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id RETURNING user_id"
)

_SECRET_GET = text("SELECT value FROM server_secrets WHERE name = :name")
_SECRET_PUT = text(
    "INSERT INTO server_secrets (name, value) VALUES (:name, :value) "
    "ON CONFLICT (name) DO NOTHING RETURNING value"
)


def _user(row: Any) -> wire.User:
    created: datetime = row[6]
    updated: datetime = row[7]
    return wire.User(
        id=row[0],
        email=row[1],
        name=row[2],
        role=row[3],
        service_areas=list(row[4]),
        active=row[5],
        created_at=rfc3339(created),
        updated_at=rfc3339(updated),
    )


async def principal_row(
    conn: AsyncConnection, token_hash: str
) -> tuple[str, str, list[str]] | None:
    rows = await driver.rows(conn, _PRINCIPAL, {"token_hash": token_hash})
    return (rows[0][0], rows[0][1], list(rows[0][2])) if rows else None


_ACTIVE_BY_EMAIL = text(
    "SELECT id, role, service_areas FROM users WHERE lower(email) = lower(:email) AND active"
)


async def active_by_email(conn: AsyncConnection, email: str) -> tuple[str, str, list[str]] | None:
    """The active user with this email (case aside): id, role and areas."""
    row = (await conn.execute(_ACTIVE_BY_EMAIL, {"email": email})).first()
    return None if row is None else (row[0], row[1], list(row[2]))


async def active_technicians(conn: AsyncConnection, ids: Iterable[str]) -> set[str]:
    """Which of these users are active technicians or service providers (those a job
    may be assigned to): the lookup the push's reference checks are handed."""
    ids = list(ids)
    if not ids:
        return set()
    rows = await driver.rows(
        conn, _ACTIVE_WITH_ROLES, {"ids": ids, "roles": sorted(TECHNICIAN_ROLES)}
    )
    return {user_id for (user_id,) in rows}


async def ensure_builtin_admin(conn: AsyncConnection, user_id: str) -> None:
    await conn.execute(
        _ENSURE, {"id": user_id, "email": f"{user_id}@fieldsync.invalid", "name": "Administrator"}
    )


async def create(conn: AsyncConnection, user_id: str, body: wire.UserCreate) -> wire.User:
    try:
        async with conn.begin_nested():
            row = (
                await conn.execute(
                    _INSERT,
                    {
                        "id": user_id,
                        "email": body.email,
                        "name": body.name,
                        "role": body.role,
                        "service_areas": body.service_areas,
                    },
                )
            ).one()
    except IntegrityError as exc:
        raise Conflict(f"a user with email {body.email} exists", {"field": "email"}) from exc
    return _user(row)


async def get(conn: AsyncConnection, user_id: str) -> wire.User | None:
    row = (await conn.execute(_GET, {"id": user_id})).first()
    return None if row is None else _user(row)


async def page(conn: AsyncConnection, after: str, limit: int) -> list[wire.User]:
    return [_user(r) for r in await conn.execute(_PAGE, {"after": after, "limit": limit})]


async def update(conn: AsyncConnection, user_id: str, changes: dict[str, Any]) -> wire.User | None:
    params = {"id": user_id, "name": None, "role": None, "service_areas": None, "active": None}
    params.update(changes)
    row = (await conn.execute(_UPDATE, params)).first()
    return None if row is None else _user(row)


async def create_token(
    conn: AsyncConnection, token_id: str, user_id: str, token_hash: str, expires_at: datetime | None
) -> None:
    await conn.execute(
        _INSERT_TOKEN,
        {"id": token_id, "user_id": user_id, "token_hash": token_hash, "expires_at": expires_at},
    )


async def tokens_of(conn: AsyncConnection, user_id: str) -> list[wire.TokenInfo]:
    """A user's tokens, newest first (their ids and times, never a secret)."""
    rows = (await conn.execute(_TOKENS_OF, {"user_id": user_id})).all()
    return [
        wire.TokenInfo(
            id=r.id,
            created_at=rfc3339(r.created_at),
            expires_at=None if r.expires_at is None else rfc3339(r.expires_at),
            revoked_at=None if r.revoked_at is None else rfc3339(r.revoked_at),
        )
        for r in rows
    ]


async def revoke_token(conn: AsyncConnection, token_id: str) -> str | None:
    """Revoke the token; returns its user's id, or None if there is no such token."""
    return (await conn.execute(_REVOKE_TOKEN, {"id": token_id})).scalar()


async def secret(conn: AsyncConnection, name: str) -> str | None:
    return (await conn.execute(_SECRET_GET, {"name": name})).scalar()


async def put_secret_once(conn: AsyncConnection, name: str, value: str) -> bool:
    """Store a secret unless one exists; True when this call stored it."""
    return (await conn.execute(_SECRET_PUT, {"name": name, "value": value})).first() is not None


async def id_by_email(conn: AsyncConnection, email: str) -> str:
    return str(
        (
            await conn.execute(
                text("SELECT id FROM users WHERE lower(email) = lower(:email)"), {"email": email}
            )
        ).scalar_one()
    )
