"""The OpenAPI document, generated from the route table (syncserver/routes.py) and the
Structs it names. An op is described per entity and action, from the entities' field
Structs; the socket and the blob URLs, which are not JSON endpoints, are added here."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec

from schema import wire
from schema.entities import ENTITIES, ID_PATTERN
from schema.errors import ERROR_CODES
from syncserver.routes import ENDPOINTS

_PARAM = re.compile(r"{(\w+)}")


def _query_parameters(struct: Any, components: dict[str, Any]) -> list[dict[str, Any]]:
    """One `in: query` parameter per field of the query Struct."""
    schema = components[struct.__name__]
    return [
        {"name": name, "in": "query", "required": False, "schema": field_schema}
        for name, field_schema in schema["properties"].items()
    ]


_INT = {"type": "integer", "minimum": 0, "maximum": 2**62}


def _op_variants(components: dict[str, Any]) -> None:
    """`Op` as one schema per entity and action, replacing the wire Struct's untyped
    `entity`, `action` and `fields` (an op that matches none is still taken: it is
    logged as rejected, with `invalid_op`)."""
    _, field_schemas = msgspec.json.schema_components(
        [spec.fields_struct for spec in ENTITIES.values()],
        ref_template="#/components/schemas/{name}",
    )
    components.update(field_schemas)
    variants = []
    for name, spec in ENTITIES.items():
        fields_ref = {"$ref": f"#/components/schemas/{spec.fields_struct.__name__}"}
        for action in ("create", "update", "delete") if spec.updatable else ("create", "delete"):
            if action == "create":
                fields: dict[str, Any] = {"allOf": [fields_ref], "required": sorted(spec.required)}
            elif action == "update":
                fields = {"allOf": [fields_ref], "minProperties": 1}
            else:
                fields = {"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]}
            variant = f"Op_{name}_{action}"
            components[variant] = {
                "title": f"{action} a {name}",
                "type": "object",
                "properties": {
                    "seq": _INT | {"minimum": 1},
                    "ts": _INT,
                    "tc": _INT | {"default": 0},
                    "entity": {"const": name},
                    "id": {"type": "string", "pattern": ID_PATTERN},
                    "action": {"const": action},
                    "base": _INT | {"default": 0},
                    "fields": fields,
                },
                "required": ["seq", "ts", "entity", "id", "action"]
                + ([] if action == "delete" else ["fields"]),
                "additionalProperties": False,
            }
            variants.append({"$ref": f"#/components/schemas/{variant}"})
    components["Op"] = {"description": wire.Op.__doc__, "oneOf": variants}


def _error_response(error_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "error",
        "content": {"application/json": {"schema": error_schema}},
    }


def _socket_and_blobs(error_schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The two routes that are not JSON in, JSON out (syncserver/handlers/)."""
    query = [
        {"name": name, "in": "query", "required": True, "schema": {"type": "string"}}
        for name in ("token", "device_id")
    ]
    signed = [
        {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "expires", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "sig", "in": "query", "required": True, "schema": {"type": "string"}},
    ]
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/sync/ws": {
            "get": {
                "summary": "A WebSocket that receives pokes: text messages "
                '`{"type": "poke", "version": V}`, pull now',
                "operationId": "socket",
                "parameters": query,
                "responses": {
                    "101": {"description": "switching to the WebSocket protocol"},
                    "default": _error_response(error_schema),
                },
            }
        },
        "/blobs/{key}": {
            "put": {
                "summary": "A photo's bytes, to the signed URL of its upload (local store)",
                "operationId": "put_blob",
                "parameters": signed,
                "requestBody": {"required": True, "content": {"*/*": binary}},
                "responses": {
                    "204": {"description": "stored"},
                    "default": _error_response(error_schema),
                },
            },
            "get": {
                "summary": "A photo's bytes or thumbnail, from a signed URL (local store)",
                "operationId": "get_blob",
                "parameters": signed,
                "responses": {
                    "200": {"description": "the bytes", "content": {"image/*": binary}},
                    "default": _error_response(error_schema),
                },
            },
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    types = [t for e in ENDPOINTS for t in (e.body, e.response, e.query) if t is not None]
    types += [wire.ErrorBody, wire.Change]
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    schema_of = dict(zip([id(t) for t in types], schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    _op_variants(components)
    error_schema = schema_of[id(wire.ErrorBody)]
    for e in ENDPOINTS:
        operation: dict[str, Any] = {
            "summary": e.summary,
            "operationId": e.call.__name__,
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
                "default": _error_response(error_schema),
            },
        }
        if e.body is not None:
            operation["requestBody"] = {
                "required": not e.empty_body_ok,
                "content": {"application/json": {"schema": schema_of[id(e.body)]}},
            }
        if e.roles:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    paths.update(_socket_and_blobs(error_schema))
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
