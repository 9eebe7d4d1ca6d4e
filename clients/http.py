"""HTTP to the server with the SDK's retry rule.

What may succeed later (connection errors, timeouts, 429, 503 and other 5xx) is
tried again with exponential backoff and full jitter, never sooner than a
`Retry-After`, until a deadline; then `SyncError` with `retryable` true.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec

from clients.errors import SyncError

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 10.0


def error_of(response: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    """(code, message, details) of an error answer (docs/protocol.md, "Errors")."""
    try:
        error = msgspec.json.decode(response.content)["error"]
        return str(error["code"]), str(error["message"]), dict(error.get("details") or {})
    except (msgspec.DecodeError, KeyError, TypeError):
        return f"http_{response.status_code}", response.text[:200], {}


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait, from `Retry-After` as seconds or as an HTTP date (RFC 9110)."""
    value = response.headers.get("Retry-After")
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


class Transport:
    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url = url
        self.token = token
        self.http = httpx.Client(
            base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )
        self.rng = random.Random()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        url: str,
        deadline: float,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """The first answer that is not worth retrying (2xx or a final 4xx), trying
        again until `deadline` (time.monotonic)."""
        attempt = 0
        while True:
            wait = 0.0
            try:
                if auth:
                    response = self.http.request(method, url, content=content, headers=headers)
                else:  # a signed URL: its signature is the authorization
                    request = self.http.build_request(method, url, content=content, headers=headers)
                    request.headers.pop("Authorization", None)
                    response = self.http.send(request)
            except httpx.TransportError as exc:
                code, message = "unavailable", f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                code, message, _ = error_of(response)
                wait = _retry_after(response)
            backoff = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)
            wait = max(wait, self.rng.uniform(0, backoff))
            if time.monotonic() + wait > deadline:
                raise SyncError(code, f"gave up retrying: {message}", retryable=True)
            time.sleep(wait)
            attempt += 1
