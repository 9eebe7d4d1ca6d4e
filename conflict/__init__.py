"""Merge rules: per-field last-write-wins by HLC, and conflict detection.

Pure functions over plain data; no I/O. The push path and `syncserver rebuild`
both call these, so the projection the server serves is exactly their fold.
"""

from conflict.lww import (
    EntityState,
    FieldWrite,
    Notice,
    OpOutcome,
    WriteOp,
    apply_op,
    fold,
    is_later,
    notice_id,
)

__all__ = [
    "EntityState",
    "FieldWrite",
    "Notice",
    "OpOutcome",
    "WriteOp",
    "apply_op",
    "fold",
    "is_later",
    "notice_id",
]
