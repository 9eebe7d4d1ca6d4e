"""Read APIs over the projections (PROTOCOL.md sections 8 and 9).

Every read is filtered by what the caller may see (schema/visibility.py): an
entity they may not see answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from schema import wire
from syncserver import resolve
from syncserver.auth import Principal
from syncserver.codec import decode_request, respond
from syncserver.errors import Forbidden, InvalidRequest, NotFound
from syncserver.handlers.common import caller, path_param, query, raw_json, raw_page, server
from syncserver.storage import jobs, reads
from syncserver.storage import notices as notice_store


def _words(q: str | None) -> tuple[str, ...]:
    return tuple(q.lower().split()) if q else ()


def _deleted_allowed(who: Principal, include_deleted: bool) -> None:
    if include_deleted and who.role != "admin":
        raise Forbidden("include_deleted is for admins")


def _position(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidRequest("cursor is not one this server issued", {"field": "cursor"})
    return int(cursor)


async def list_jobs(request: Request) -> Response:
    state = server(request)
    who = await caller(request)
    params = query(request, wire.JobQuery)
    _deleted_allowed(who, params.include_deleted)
    found = jobs.JobFilter(
        status=params.status,
        technician_id=params.technician_id,
        customer_id=params.customer_id,
        service_type=params.service_type,
        priority=params.priority,
        scheduled_from=params.scheduled_from,
        scheduled_to=params.scheduled_to,
        words=_words(params.q),
        include_deleted=params.include_deleted,
        sort=params.sort,
        seen_by=reads.viewer(who),
    )
    async with state.engine.connect() as conn:
        try:
            items, next_cursor = await jobs.page(conn, found, params.limit, params.cursor)
        except ValueError as exc:
            raise InvalidRequest(str(exc), {"field": "cursor"}) from None
    return raw_page(items, next_cursor)


async def get_job(request: Request) -> Response:
    state = server(request)
    seen_by = reads.viewer(await caller(request))
    async with state.engine.connect() as conn:
        doc = await reads.job_detail(conn, path_param(request, "job_id"), seen_by)
    if doc is None:
        raise NotFound("no such job")
    return raw_json(doc)


async def job_history(request: Request) -> Response:
    state = server(request)
    who = await caller(request)
    params = query(request, wire.PageQuery)
    job_id = path_param(request, "job_id")
    async with state.engine.connect() as conn:
        # Admins and dispatchers may read a deleted job's history; others see no deleted job.
        if not await reads.job_exists(conn, job_id, reads.viewer(who)):
            raise NotFound("no such job")
        items, next_cursor = await jobs.history(
            conn, job_id, _position(params.cursor), params.limit
        )
    return respond(wire.HistoryPage(items=items, next_cursor=next_cursor))


async def list_customers(request: Request) -> Response:
    state = server(request)
    who = await caller(request)
    params = query(request, wire.CustomerQuery)
    _deleted_allowed(who, params.include_deleted)
    async with state.engine.connect() as conn:
        try:
            items, next_cursor = await reads.customers_page(
                conn,
                words=_words(params.q),
                type_=params.type,
                include_deleted=params.include_deleted,
                limit=params.limit,
                cursor=params.cursor,
                seen_by=reads.viewer(who),
            )
        except ValueError as exc:
            raise InvalidRequest(str(exc), {"field": "cursor"}) from None
    return raw_page(items, next_cursor)


async def get_customer(request: Request) -> Response:
    state = server(request)
    seen_by = reads.viewer(await caller(request))
    async with state.engine.connect() as conn:
        doc = await reads.customer_detail(conn, path_param(request, "customer_id"), seen_by)
    if doc is None:
        raise NotFound("no such customer")
    return raw_json(doc)


async def list_devices(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    params = query(request, wire.PageQuery)
    async with state.engine.connect() as conn:
        items, next_cursor = await reads.devices_page(conn, params.cursor or "", params.limit)
    return respond(wire.DevicePage(items=items, next_cursor=next_cursor))


async def list_conflicts(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    params = query(request, wire.ConflictQuery)
    filters = msgspec.structs.asdict(params)
    for name in ("limit", "cursor"):
        filters.pop(name)
    async with state.engine.connect() as conn:
        items, next_cursor = await notice_store.page(
            conn, filters, _position(params.cursor), params.limit
        )
    return raw_page(items, next_cursor)


async def get_conflict(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    async with state.engine.connect() as conn:
        doc = await notice_store.get(conn, path_param(request, "notice_id"))
    if doc is None:
        raise NotFound("no such conflict notice")
    return raw_json(doc)


async def conflicts_summary(request: Request) -> Response:
    state = server(request)
    (await caller(request)).require("admin")
    async with state.engine.connect() as conn:
        return raw_json(await notice_store.summary(conn))


async def resolve_conflict(request: Request) -> Response:
    state = server(request)
    who = await caller(request)
    who.require("admin")
    body = await decode_request(request, wire.Resolve, state.settings.max_body_bytes)
    doc = await resolve.resolve(state.engine, who, path_param(request, "notice_id"), body)
    return raw_json(doc)
