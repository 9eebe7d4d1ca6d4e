"""The server's errors: one base class carrying status and code (PROTOCOL.md section 11).

Handlers raise these; `syncserver.app` turns every one into the error body in
one place. Per-op failures inside a push are not exceptions: they are
`OpError` results.
"""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthorized(SyncError):
    status, code = 401, "unauthorized"


class Forbidden(SyncError):
    status, code = 403, "forbidden"


class DeviceTaken(SyncError):
    status, code = 403, "device_taken"


class NotFound(SyncError):
    status, code = 404, "not_found"


class Conflict(SyncError):
    status, code = 409, "conflict"


class SeqGap(SyncError):
    status, code = 409, "seq_gap"


class SeqReused(SyncError):
    status, code = 409, "seq_reused"


class ClockAhead(SyncError):
    status, code = 409, "clock_ahead"


class PayloadTooLarge(SyncError):
    status, code = 413, "payload_too_large"


class InvalidRequest(SyncError):
    status, code = 422, "invalid_request"


class RateLimited(SyncError):
    status, code = 429, "rate_limited"


class Unavailable(SyncError):
    status, code = 503, "unavailable"


ERROR_CODES: dict[str, int] = {
    cls.code: cls.status
    for cls in (
        SyncError,
        Unauthorized,
        Forbidden,
        DeviceTaken,
        NotFound,
        Conflict,
        SeqGap,
        SeqReused,
        ClockAhead,
        PayloadTooLarge,
        InvalidRequest,
        RateLimited,
        Unavailable,
    )
}
