"""The server's errors: one class per code, carrying its status (docs/protocol.md,
"Errors").

Raised where the problem is found, in any layer; `syncserver.app` turns every one
into the error body in one place, and the socket refuses with the same body
(`error_body`). Per-op failures inside a push are not exceptions: they are
`OpError` results. The code table (`ERROR_CODES`) is derived from the classes.
"""

from __future__ import annotations

from typing import Any

from schema.wire import ErrorBody, ErrorDetail


class SyncError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(
        self,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        status: int | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if status is not None:  # an HTTP-level error keeps its own status (405, say)
            self.status = status
        self.retry_after_s = retry_after_s  # sent as `Retry-After` (429, 503)


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


def error_body(error: SyncError) -> ErrorBody:
    """The body of every error answer, over HTTP or as a socket's refusal."""
    return ErrorBody(ErrorDetail(code=error.code, message=error.message, details=error.details))


def _codes(cls: type[SyncError]) -> dict[str, int]:
    codes = {cls.code: cls.status}
    for sub in cls.__subclasses__():
        codes.update(_codes(sub))
    return codes


# Every error code and its HTTP status; `tests/test_docs.py` checks each code is
# one class's, and that docs/protocol.md's "Errors" lists exactly these.
ERROR_CODES: dict[str, int] = _codes(SyncError)
