"""Bearer JWTs from an external identity provider (docs/protocol.md, "Auth and roles").

When `SYNCSERVER_JWT_JWKS_URL` is set, a bearer token that is a JWT is verified
instead of looked up: an RS256 or ES256 signature by a key of that JWKS, `exp`
(required) and `nbf` with 60 s leeway, `iss` and `aud` when the settings name
them. The claim `SYNCSERVER_JWT_EMAIL_CLAIM` names the caller, by email.

The key set is fetched over HTTP when first needed and kept; a token signed by a
key it does not hold fetches it again, at most once a minute (a provider's key
rotation), so that tokens with made-up key ids cannot make the server hammer the
provider.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from typing import Any

import httpx
import jwt

from schema.errors import Unauthorized, Unavailable

ALGORITHMS = ("RS256", "ES256")
LEEWAY_S = 60
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts: the server's own tokens (`fs_...`) never are."""
    return _JWT.match(token) is not None


class JwtVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        email_claim: str = "email",
        refetch_after_s: float = 60.0,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.email_claim = email_claim
        self.refetch_after_s = refetch_after_s
        self._keys: dict[str | None, Any] = {}
        self._fetched_at = -math.inf
        self._lock = asyncio.Lock()

    async def email(self, token: str) -> str:
        """The verified token's email claim; `unauthorized` for anything else."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthorized("token algorithm not accepted")
        key = await self._key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"token refused: {exc}") from None
        email = claims.get(self.email_claim)
        if not isinstance(email, str) or not email:
            raise Unauthorized(f"token has no `{self.email_claim}` claim")
        return email

    async def _key(self, kid: str | None) -> Any:
        if kid not in self._keys:
            async with self._lock:
                due = time.monotonic() - self._fetched_at >= self.refetch_after_s
                if kid not in self._keys and due:
                    await self._fetch()
        if kid not in self._keys:
            raise Unauthorized("token signed by a key the identity provider does not list")
        return self._keys[kid]

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.get(self.jwks_url)
                answer.raise_for_status()
                listed = answer.json().get("keys", [])
        except (httpx.HTTPError, ValueError, AttributeError):
            raise Unavailable(
                "the identity provider's keys cannot be fetched", retry_after_s=5
            ) from None
        keys: dict[str | None, Any] = {}
        for entry in listed if isinstance(listed, list) else []:
            try:
                keys[entry.get("kid")] = jwt.PyJWK(entry).key
            except (jwt.PyJWTError, AttributeError, TypeError, ValueError):
                continue  # a key of a kind this server does not take
        self._keys = keys
