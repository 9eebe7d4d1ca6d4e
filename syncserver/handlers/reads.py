"""Read APIs over the projections (PROTOCOL.md sections 8 and 9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from syncserver.auth import Principal
from syncserver.errors import InvalidRequest, NotFound
from syncserver.handlers.common import caller, int_cursor, limit_param, raw_json, raw_page, server
from syncserver.storage import notices as notice_store
from syncserver.storage import reads


def _viewer(who: Principal) -> dict[str, object]:
    """An entity the caller may not see answers 404, exactly as one that does not exist."""
    return reads.viewer(who.user_id, who.role, who.service_areas)


async def list_jobs(request: Request) -> Response:
    state = server(request)
    seen_by = _viewer(await caller(request))
    limit = limit_param(request)
    after = request.query_params.get("cursor") or ""
    async with state.engine.connect() as conn:
        items, next_cursor = await reads.jobs_page(conn, after, limit, seen_by)
    return raw_page(items, next_cursor)


async def get_job(request: Request) -> Response:
    state = server(request)
    seen_by = _viewer(await caller(request))
    async with state.engine.connect() as conn:
        doc = await reads.job_detail(conn, request.path_params["job_id"], seen_by)
    if doc is None:
        raise NotFound("no such job")
    return raw_json(doc)


async def get_customer(request: Request) -> Response:
    state = server(request)
    seen_by = _viewer(await caller(request))
    async with state.engine.connect() as conn:
        doc = await reads.customer_detail(conn, request.path_params["customer_id"], seen_by)
    if doc is None:
        raise NotFound("no such customer")
    return raw_json(doc)


async def list_conflicts(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    params = request.query_params
    status = params.get("status") or None
    if status not in (None, "open", "resolved"):
        raise InvalidRequest("status must be open or resolved", {"field": "status"})
    limit = limit_param(request)
    async with state.engine.connect() as conn:
        items, next_cursor = await notice_store.page(
            conn,
            after=int_cursor(request),
            limit=limit,
            status=status,
            entity=params.get("entity") or None,
            entity_id=params.get("entity_id") or None,
            field=params.get("field") or None,
        )
    return raw_page(items, next_cursor)
