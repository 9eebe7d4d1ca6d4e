"""Routes as data, and the OpenAPI document generated from the same Structs."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from schema import wire
from syncserver.errors import ERROR_CODES
from syncserver.handlers import meta, photos, reads, sync, users

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    request: Any = None
    query: Any = None  # a Struct of query parameters
    response: Any = None
    status: int = 200
    auth: bool = True


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", meta.healthz, "Liveness", response=wire.Health, auth=False),
    Endpoint(
        "POST",
        "/sync/push",
        sync.push,
        "Append ops to a device log",
        request=wire.PushRequest,
        response=wire.PushResponse,
    ),
    Endpoint(
        "POST",
        "/sync/pull",
        sync.pull,
        "Changes and notices after a cursor",
        request=wire.PullRequest,
        response=wire.PullResponse,
    ),
    Endpoint(
        "POST",
        "/api/users",
        users.create_user,
        "Create a user (admin)",
        request=wire.UserCreate,
        response=wire.User,
        status=201,
    ),
    Endpoint(
        "GET",
        "/api/users",
        users.list_users,
        "List users (admin, dispatcher)",
        query=wire.PageQuery,
        response=wire.UserPage,
    ),
    Endpoint("GET", "/api/me", users.me, "The caller's own user (any role)", response=wire.User),
    Endpoint(
        "PATCH",
        "/api/users/{user_id}",
        users.update_user,
        "Change a user (admin)",
        request=wire.UserPatch,
        response=wire.User,
    ),
    Endpoint(
        "POST",
        "/api/users/{user_id}/tokens",
        users.issue_token,
        "Issue a token (admin)",
        request=wire.TokenCreate,
        response=wire.TokenIssued,
        status=201,
    ),
    Endpoint(
        "GET",
        "/api/users/{user_id}/tokens",
        users.list_tokens,
        "A user's tokens, never their secrets (admin)",
        response=wire.TokenList,
    ),
    Endpoint(
        "DELETE", "/api/tokens/{token_id}", users.revoke_token, "Revoke a token (admin)", status=204
    ),
    Endpoint(
        "GET",
        "/api/jobs",
        reads.list_jobs,
        "List jobs, filtered and sorted",
        query=wire.JobQuery,
        response=wire.JobPage,
    ),
    Endpoint(
        "GET",
        "/api/jobs/{job_id}",
        reads.get_job,
        "One job with its customer, location, notes, photos and field metadata",
        response=wire.JobDetail,
    ),
    Endpoint(
        "GET",
        "/api/jobs/{job_id}/history",
        reads.job_history,
        "Every op that touched the job, in commit order",
        query=wire.PageQuery,
        response=wire.HistoryPage,
    ),
    Endpoint(
        "GET",
        "/api/customers",
        reads.list_customers,
        "List customers by name",
        query=wire.CustomerQuery,
        response=wire.CustomerPage,
    ),
    Endpoint(
        "GET",
        "/api/customers/{customer_id}",
        reads.get_customer,
        "One customer with its locations, contacts and jobs",
        response=wire.CustomerDetail,
    ),
    Endpoint(
        "POST",
        "/api/uploads",
        photos.create_upload,
        "A signed URL to PUT a photo's bytes to",
        request=wire.UploadRequest,
        response=wire.UploadTicket,
        status=201,
    ),
    Endpoint(
        "GET",
        "/api/photos/{photo_id}",
        photos.get_photo,
        "A photo with a short-lived signed URL of its bytes",
        response=wire.PhotoView,
    ),
    Endpoint(
        "GET",
        "/api/devices",
        reads.list_devices,
        "Devices and their logs' progress (admin)",
        query=wire.PageQuery,
        response=wire.DevicePage,
    ),
    Endpoint(
        "GET",
        "/api/conflicts",
        reads.list_conflicts,
        "Conflict notices (admin)",
        query=wire.ConflictQuery,
        response=wire.NoticePage,
    ),
    Endpoint(
        "GET",
        "/api/conflicts/summary",
        reads.conflicts_summary,
        "Notice counts by entity, field, status and day (admin)",
        response=wire.ConflictSummary,
    ),
    Endpoint(
        "GET",
        "/api/conflicts/{notice_id}",
        reads.get_conflict,
        "One conflict notice (admin)",
        response=wire.Notice,
    ),
    Endpoint(
        "POST",
        "/api/conflicts/{notice_id}/resolve",
        reads.resolve_conflict,
        "Resolve a conflict notice (admin)",
        request=wire.Resolve,
        response=wire.Notice,
    ),
)

_PARAM = re.compile(r"{(\w+)}")


def _query_parameters(struct: Any, components: dict[str, Any]) -> list[dict[str, Any]]:
    """One `in: query` parameter per field of the query Struct."""
    schema = components[struct.__name__]
    return [
        {"name": name, "in": "query", "required": False, "schema": field_schema}
        for name, field_schema in schema["properties"].items()
    ]


@cache
def openapi_document() -> dict[str, Any]:
    types = [t for e in ENDPOINTS for t in (e.request, e.response, e.query) if t is not None]
    types += [wire.ErrorBody, wire.Change]
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    schema_of = dict(zip([id(t) for t in types], schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    error = {"content": {"application/json": {"schema": schema_of[id(wire.ErrorBody)]}}}
    for e in ENDPOINTS:
        operation: dict[str, Any] = {
            "summary": e.summary,
            "operationId": e.handler.__name__,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _PARAM.findall(e.path)
            ]
            + (_query_parameters(e.query, components) if e.query is not None else []),
            "responses": {
                str(e.status): {"description": "success"}
                | (
                    {"content": {"application/json": {"schema": schema_of[id(e.response)]}}}
                    if e.response is not None
                    else {}
                ),
                "default": {"description": "error", **error},
            },
        }
        if e.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema_of[id(e.request)]}},
            }
        if e.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fieldsync sync server",
            "version": "1",
            "description": "Error codes: "
            + ", ".join(f"`{code}` {status}" for code, status in ERROR_CODES.items()),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
