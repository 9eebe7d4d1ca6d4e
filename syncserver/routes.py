"""The route table: each JSON endpoint as data, and the one handler that runs them.

An endpoint declares its body Struct, its query Struct, the roles it admits and
one service call. The handler decodes, authorizes, calls and encodes, nothing
else; `syncserver.openapi` describes the same table. The socket, blob bytes and
the web app's files are not JSON in, JSON out: they are in `syncserver/handlers/`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import Response

from schema import wire
from schema.errors import InvalidRequest, NotFound, Unavailable
from schema.ops import decode_push
from schema.rights import Principal
from syncserver import conflicts, photos, reads, sync, users
from syncserver.auth import bearer
from syncserver.codec import RawJson, RawPage, decode, is_msgpack, read_body, respond, wants_msgpack
from syncserver.edge import user_of
from syncserver.state import ServerState

ANY_ROLE = ("admin", "dispatcher", "technician", "service_provider")
OFFICE = ("admin", "dispatcher")
ADMIN = ("admin",)
PUBLIC: tuple[str, ...] = ()  # no token needed


@dataclass(frozen=True, slots=True)
class Call:
    """What a service call gets: the server, the caller, and the request decoded."""

    state: ServerState
    who: Principal
    body: Any  # the body Struct (for a push: its Struct and each op's text)
    query: Any  # the query Struct
    path: dict[str, str]
    base_url: str  # the server's public address, for the URLs it hands out


Service = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    call: Service
    summary: str
    roles: tuple[str, ...] = ANY_ROLE
    body: Any = None  # the request body's Struct
    query: Any = None  # a Struct of query parameters
    response: Any = None  # what the call returns (for /openapi.json)
    status: int = 200
    empty_body_ok: bool = False  # an empty body reads as `{}`
    msgpack: bool = False  # answers in MessagePack when asked to (/sync/*)
    decoder: Callable[[bytes, bool], Any] | None = None  # instead of decoding into `body`


_NOBODY = Principal("", "")


def _path(request: Request) -> dict[str, str]:
    """The path parameters; one holding U+0000 names nothing that can exist."""
    params: dict[str, str] = request.path_params
    for name, value in params.items():
        if "\x00" in value:
            raise NotFound(f"no such {name.removesuffix('_id')}")
    return params


def _query(request: Request, type_: Any) -> Any:
    """The query string converted into its Struct; empty parameters count as absent."""
    params = {name: value for name, value in request.query_params.items() if value != ""}
    try:
        return msgspec.convert(params, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc).replace("$.", "query parameter ")) from None


def _encode(result: Any, status: int, msgpack: bool) -> Response:
    if result is None:
        return Response(status_code=204)
    if isinstance(result, RawJson):
        return Response(result.text.encode("utf-8"), status, media_type="application/json")
    if isinstance(result, RawPage):
        return Response(result.body(), status, media_type="application/json")
    return respond(result, status, msgpack=msgpack)


def handler(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """The handler of one endpoint: decode, authorize, call, encode."""

    async def handle(request: Request) -> Response:
        state: ServerState = request.state.server
        request.scope.setdefault("fieldsync", {})["route"] = endpoint.path
        who = _NOBODY
        if endpoint.roles:
            who = await state.auth.principal(bearer(request.headers.get("authorization")))
            user_of(request.scope, who.user_id)
            if who.role not in endpoint.roles:
                who.require(*endpoint.roles)
        path = _path(request)
        query = None if endpoint.query is None else _query(request, endpoint.query)
        body = None
        if endpoint.body is not None:
            raw = await read_body(request, state.settings.max_body_bytes)
            if endpoint.empty_body_ok and not raw.strip():
                raw = b"{}"
            # Every endpoint takes a MessagePack body; only /sync/* answer in it.
            msgpack = is_msgpack(request)
            if endpoint.decoder is not None:
                body = endpoint.decoder(raw, msgpack)
            else:
                body = decode(raw, endpoint.body, msgpack=msgpack)
        base_url = state.settings.public_url or str(request.base_url)
        result = await endpoint.call(Call(state, who, body, query, path, base_url))
        return _encode(result, endpoint.status, endpoint.msgpack and wants_msgpack(request))

    handle.__name__ = endpoint.call.__name__
    return handle


async def healthz(call: Call) -> wire.Health:
    return wire.Health(status="ok")


READY_TIMEOUT_S = 2.0


async def readyz(call: Call) -> wire.Health:
    """Ready while the database answers (for load balancers; /healthz says only that
    the process is up)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            async with call.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except (TimeoutError, OSError, DBAPIError, PoolTimeout, psycopg.Error):
        raise Unavailable("the database does not answer", retry_after_s=5) from None
    return wire.Health(status="ok")


def _push_body(raw: bytes, msgpack: bool) -> sync.Pushed:
    return sync.Pushed(*decode_push(raw, msgpack=msgpack))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", healthz, "Liveness", roles=PUBLIC, response=wire.Health),
    Endpoint(
        "GET", "/readyz", readyz, "Readiness: 200 while the database answers, else 503",
        roles=PUBLIC, response=wire.Health,
    ),
    Endpoint(
        "POST", "/sync/push", sync.push, "Append ops to a device log",
        body=wire.PushRequest, decoder=_push_body, response=wire.PushResponse, msgpack=True,
    ),
    Endpoint(
        "POST", "/sync/pull", sync.pull, "Changes and notices after a cursor",
        body=wire.PullRequest, response=wire.PullResponse, msgpack=True,
    ),
    Endpoint(
        "POST", "/api/users", users.create_user, "Create a user (admin)",
        roles=ADMIN, body=wire.UserCreate, response=wire.User, status=201,
    ),
    Endpoint(
        "GET", "/api/users", users.list_users, "List users (admin, dispatcher)",
        roles=OFFICE, query=wire.PageQuery, response=wire.UserPage,
    ),
    Endpoint("GET", "/api/me", users.me, "The caller's own user (any role)", response=wire.User),
    Endpoint(
        "PATCH", "/api/users/{user_id}", users.update_user, "Change a user (admin)",
        roles=ADMIN, body=wire.UserPatch, response=wire.User,
    ),
    Endpoint(
        "POST", "/api/users/{user_id}/tokens", users.issue_token, "Issue a token (admin)",
        roles=ADMIN, body=wire.TokenCreate, empty_body_ok=True, response=wire.TokenIssued,
        status=201,
    ),
    Endpoint(
        "GET", "/api/users/{user_id}/tokens", users.list_tokens,
        "A user's tokens, never their secrets (admin)", roles=ADMIN, response=wire.TokenList,
    ),
    Endpoint(
        "DELETE", "/api/tokens/{token_id}", users.revoke_token, "Revoke a token (admin)",
        roles=ADMIN, status=204,
    ),
    Endpoint(
        "GET", "/api/jobs", reads.list_jobs, "List jobs, filtered and sorted",
        query=wire.JobQuery, response=wire.JobPage,
    ),
    Endpoint(
        "GET", "/api/jobs/{job_id}", reads.get_job,
        "One job with its customer, location, notes, photos and field metadata",
        response=wire.JobDetail,
    ),
    Endpoint(
        "GET", "/api/jobs/{job_id}/history", reads.job_history,
        "Every op that touched the job, in commit order",
        query=wire.PageQuery, response=wire.HistoryPage,
    ),
    Endpoint(
        "GET", "/api/customers", reads.list_customers, "List customers by name",
        query=wire.CustomerQuery, response=wire.CustomerPage,
    ),
    Endpoint(
        "GET", "/api/customers/{customer_id}", reads.get_customer,
        "One customer with its locations, contacts and jobs", response=wire.CustomerDetail,
    ),
    Endpoint(
        "POST", "/api/uploads", photos.create_upload, "A signed URL to PUT a photo's bytes to",
        body=wire.UploadRequest, response=wire.UploadTicket, status=201,
    ),
    Endpoint(
        "GET", "/api/photos/{photo_id}", photos.get_photo,
        "A photo with a short-lived signed URL of its bytes", response=wire.PhotoView,
    ),
    Endpoint(
        "GET", "/api/devices", reads.list_devices, "Devices and their logs' progress (admin)",
        roles=ADMIN, query=wire.PageQuery, response=wire.DevicePage,
    ),
    Endpoint(
        "GET", "/api/conflicts", conflicts.list_conflicts, "Conflict notices (admin)",
        roles=ADMIN, query=wire.ConflictQuery, response=wire.NoticePage,
    ),
    Endpoint(
        "GET", "/api/conflicts/summary", conflicts.conflicts_summary,
        "Notice counts by entity, field, status and day (admin)",
        roles=ADMIN, response=wire.ConflictSummary,
    ),
    Endpoint(
        "GET", "/api/conflicts/{notice_id}", conflicts.get_conflict, "One conflict notice (admin)",
        roles=ADMIN, response=wire.Notice,
    ),
    Endpoint(
        "POST", "/api/conflicts/{notice_id}/resolve", conflicts.resolve_conflict,
        "Resolve a conflict notice (admin)", roles=ADMIN, body=wire.Resolve,
        response=wire.Notice,
    ),
)  # fmt: skip
