"""The service calls of /sync/push and /sync/pull: the engine's push and pull, with
what the service adds (photo bytes looked for first, the users table's lookup)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from changelog import pull as engine_pull
from changelog import push as engine_push
from schema import wire
from syncserver import photos
from syncserver.storage import users as user_store

if TYPE_CHECKING:
    from syncserver.routes import Call


class Pushed(NamedTuple):
    """A push body decoded once: its Struct, and each op's text as received."""

    request: wire.PushRequest
    texts: list[str]


async def push(call: Call) -> wire.PushResponse:
    state, pushed = call.state, call.body
    # A photo whose bytes reached the bucket before its op is available at once.
    await photos.settle_photo_ops(state.engine, state.blobs, pushed.request.ops)
    response = await engine_push.push(
        state.engine,
        call.who,
        pushed.request,
        pushed.texts,
        max_clock_skew_ms=state.settings.max_clock_skew_ms,
        technicians=user_store.active_technicians,
    )
    counts = Counter(result.status for result in response.results)
    for status, count in counts.items():
        state.metrics.push_ops.labels(status).inc(count)
    if response.conflicts:
        state.metrics.conflicts.inc(len(response.conflicts))
    return response


async def pull(call: Call) -> wire.PullResponse:
    page = await engine_pull.pull(call.state.engine, call.who, call.body)
    # Every entry PostgreSQL rendered opens so; no entry's data can hold it unescaped.
    changes = bytes(page.changes).count(b'{"entity":')
    if changes:
        call.state.metrics.pull_changes.inc(changes)
    return page
