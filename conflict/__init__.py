"""The merge: per-field last-write-wins by HLC, and when a concurrent write is noticed.

One pure function (`merge_batch`, conflict/merge.py); no I/O. The push, rebuild and
conflict resolution all run it, so the projection the server serves is its fold.
"""

from conflict.merge import DELETED, BatchNotice, BatchOutcome, EntityState, merge_batch, notice_id

__all__ = ["DELETED", "BatchNotice", "BatchOutcome", "EntityState", "merge_batch", "notice_id"]
