"""Read APIs over the projections (docs/protocol.md, "Read APIs"): the service calls
of /api/jobs, /api/customers and /api/devices.

Every read is filtered by what the caller may see (changelog/visibility.py): an
entity they may not see answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schema import wire
from schema.errors import Forbidden, NotFound
from schema.rights import Principal
from syncserver.codec import RawJson, RawPage
from syncserver.storage import jobs, keyset, reads

if TYPE_CHECKING:
    from syncserver.routes import Call


def _words(q: str | None) -> tuple[str, ...]:
    return tuple(q.lower().split()) if q else ()


def _deleted_allowed(who: Principal, include_deleted: bool) -> None:
    if include_deleted and who.role != "admin":
        raise Forbidden("include_deleted is for admins")


async def list_jobs(call: Call) -> RawPage:
    params = call.query
    _deleted_allowed(call.who, params.include_deleted)
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
        seen_by=reads.viewer(call.who),
    )
    async with call.state.engine.connect() as conn:
        return RawPage(*await jobs.page(conn, found, params.limit, params.cursor))


async def get_job(call: Call) -> RawJson:
    async with call.state.engine.connect() as conn:
        doc = await reads.job_detail(conn, call.path["job_id"], reads.viewer(call.who))
    if doc is None:
        raise NotFound("no such job")
    return RawJson(doc)


async def job_history(call: Call) -> wire.HistoryPage:
    job_id = call.path["job_id"]
    after = keyset.position(call.query.cursor)
    async with call.state.engine.connect() as conn:
        # Admins and dispatchers may read a deleted job's history; others see no deleted job.
        if not await reads.job_exists(conn, job_id, reads.viewer(call.who)):
            raise NotFound("no such job")
        items, next_cursor = await jobs.history(conn, job_id, after, call.query.limit)
    return wire.HistoryPage(items=items, next_cursor=next_cursor)


async def list_customers(call: Call) -> RawPage:
    params = call.query
    _deleted_allowed(call.who, params.include_deleted)
    async with call.state.engine.connect() as conn:
        return RawPage(
            *await reads.customers_page(
                conn,
                words=_words(params.q),
                type_=params.type,
                include_deleted=params.include_deleted,
                limit=params.limit,
                cursor=params.cursor,
                seen_by=reads.viewer(call.who),
            )
        )


async def get_customer(call: Call) -> RawJson:
    async with call.state.engine.connect() as conn:
        doc = await reads.customer_detail(conn, call.path["customer_id"], reads.viewer(call.who))
    if doc is None:
        raise NotFound("no such customer")
    return RawJson(doc)


async def list_devices(call: Call) -> wire.DevicePage:
    async with call.state.engine.connect() as conn:
        items, next_cursor = await reads.devices_page(
            conn, call.query.cursor or "", call.query.limit
        )
    return wire.DevicePage(items=items, next_cursor=next_cursor)
