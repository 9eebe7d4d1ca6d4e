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
from syncserver.handlers import meta, reads, sync, users

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    request: Any = None
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
        "GET", "/api/users", users.list_users, "List users (admin, dispatcher)", response=wire.Page
    ),
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
        "DELETE", "/api/tokens/{token_id}", users.revoke_token, "Revoke a token (admin)", status=204
    ),
    Endpoint("GET", "/api/jobs", reads.list_jobs, "List jobs", response=wire.Page),
    Endpoint(
        "GET",
        "/api/jobs/{job_id}",
        reads.get_job,
        "One job with its related entities",
        response=dict[str, Any],
    ),
    Endpoint(
        "GET",
        "/api/customers/{customer_id}",
        reads.get_customer,
        "One customer",
        response=dict[str, Any],
    ),
    Endpoint(
        "GET",
        "/api/conflicts",
        reads.list_conflicts,
        "Conflict notices (admin)",
        response=wire.Page,
    ),
)

_PARAM = re.compile(r"{(\w+)}")


@cache
def openapi_document() -> dict[str, Any]:
    types = [t for e in ENDPOINTS for t in (e.request, e.response) if t is not None]
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
            ],
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
