"""What a failed sync raises."""

from __future__ import annotations


class SyncError(Exception):
    """A sync that did not finish. `retryable`: trying later may succeed (the network
    or the server was away); otherwise the app must act (a new token, another device
    id). Nothing in the device's store is lost either way."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
