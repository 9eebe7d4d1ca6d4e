"""Bearer tokens: issued once in clear, stored as SHA-256, checked on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schema.errors import Unauthorized
from schema.rights import BUILTIN_ADMIN_ID, Principal
from syncserver.identity import JwtVerifier, looks_like_jwt
from syncserver.storage import users as user_store

_ADMIN_SECRET = "admin_token_sha256"
_BLOB_SECRET = "blob_url_hmac_key"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return "fs_" + secrets.token_urlsafe(32)


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def bootstrap_admin(engine: AsyncEngine, admin_token: str | None) -> tuple[str, str | None]:
    """The admin token's hash, and the token itself if this call generated it (print it once)."""
    async with engine.begin() as conn:
        await user_store.ensure_builtin_admin(conn, BUILTIN_ADMIN_ID)
        if admin_token:
            return hash_token(admin_token), None
        stored = await user_store.secret(conn, _ADMIN_SECRET)
        if stored:
            return stored, None
        token = new_token()
        if await user_store.put_secret_once(conn, _ADMIN_SECRET, hash_token(token)):
            return hash_token(token), token
        stored = await user_store.secret(conn, _ADMIN_SECRET)
        assert stored is not None
        return stored, None


async def blob_secret(engine: AsyncEngine) -> bytes:
    """The key that signs blob URLs, shared by every server process (made once)."""
    async with engine.begin() as conn:
        await user_store.put_secret_once(conn, _BLOB_SECRET, secrets.token_hex(32))
        stored = await user_store.secret(conn, _BLOB_SECRET)
    assert stored is not None
    return bytes.fromhex(stored)


class Authenticator:
    def __init__(
        self, engine: AsyncEngine, admin_token_hash: str, jwt: JwtVerifier | None = None
    ) -> None:
        self._engine = engine
        self._admin_token_hash = admin_token_hash
        self._jwt = jwt

    async def principal(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("missing bearer token")
        if self._jwt is not None and looks_like_jwt(token):
            email = await self._jwt.email(token)
            return await self._user(
                user_store.active_by_email, email, "no active user has this email"
            )
        digest = hash_token(token)
        if hmac.compare_digest(digest, self._admin_token_hash):
            return Principal(BUILTIN_ADMIN_ID, "admin")
        return await self._user(
            user_store.principal_row, digest, "unknown, expired or revoked token"
        )

    async def _user(
        self,
        lookup: Callable[[AsyncConnection, str], Awaitable[tuple[str, str, list[str]] | None]],
        key: str,
        refusal: str,
    ) -> Principal:
        async with self._engine.connect() as conn:
            # One statement on its own: no BEGIN and ROLLBACK round trips around it.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = await lookup(conn, key)
        if row is None:
            raise Unauthorized(refusal)
        user_id, role, areas = row
        return Principal(user_id, role, tuple(areas))
