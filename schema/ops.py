"""Per-op validation: what can be checked from the op alone, without state.

`check_op` never raises: a bad op becomes a `CheckedOp` with an `invalid_op`
error, which the push path logs as rejected. The original op is kept as
JSON text for the device log, whatever it contains.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec

from schema.entities import ENTITIES, ID_PATTERN
from schema.wire import Op, OpError

_ID = re.compile(ID_PATTERN)
_FIELD_NAMES = {name: frozenset(spec.writable) for name, spec in ENTITIES.items()}
_ACTIONS = ("create", "update", "delete")
_op_encoder = msgspec.json.Encoder()


class CheckedOp(msgspec.Struct, frozen=True):
    op: Op
    text: str  # the op as JSON text, for the device log
    entity: str | None  # None when not a clean string
    entity_id: str | None
    action: str | None
    fields: dict[str, Any]
    error: OpError | None


_FINITE_TYPES = (str, int, bool, type(None))


def _non_finite(value: Any) -> bool:
    if isinstance(value, _FINITE_TYPES):
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def op_text(op: Op) -> str:
    """The op as JSON text. Lone surrogates and non-finite numbers come out escaped
    (`\\ud800`, `Infinity`), which msgspec would refuse or turn into null."""
    if not (
        _non_finite(op.fields)
        or _non_finite(op.base)
        or _non_finite(op.entity)
        or _non_finite(op.id)
        or _non_finite(op.action)
    ):
        try:
            return _op_encoder.encode(op).decode("utf-8")
        except UnicodeEncodeError:
            pass
    return json.dumps(msgspec.structs.asdict(op), ensure_ascii=True, allow_nan=True)


class _RawPush(msgspec.Struct):
    ops: list[msgspec.Raw]


_raw_push = msgspec.json.Decoder(_RawPush)


def op_texts(body: bytes) -> list[str] | None:
    """Each op of a JSON push body exactly as the device sent it, in order; None when
    the body does not decode that way (then `op_text` renders each op)."""
    try:
        return [str(raw, "utf-8") for raw in _raw_push.decode(body).ops]
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


def op_from_text(text: str) -> Op:
    return msgspec.convert(json.loads(text), Op)


def safe_text(value: object) -> str:
    """Text that PostgreSQL can store: NUL and lone surrogates escaped."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def _clean_str(value: Any) -> str | None:
    if not isinstance(value, str) or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _invalid(message: str) -> OpError:
    return OpError(code="invalid_op", message=safe_text(message))


def _text_problem(fields: dict[str, Any], names: frozenset[str]) -> str | None:
    """Text PostgreSQL cannot store, and numbers JSON cannot carry. (`names` are the
    entity's fields: known to be clean. ASCII text has no surrogates.)"""
    for name, value in fields.items():
        if name not in names and _clean_str(name) is None:
            return f"unknown field {safe_text(name)!r}"
        if isinstance(value, str):
            if "\x00" in value:
                return f"field `{name}`: text must not contain U+0000"
            if not value.isascii() and _clean_str(value) is None:
                return f"field `{name}`: text must be valid Unicode (lone surrogate)"
        elif isinstance(value, float) and not math.isfinite(value):
            return f"field `{name}`: number must be finite"
    return None


def _clean_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def _problem(op: Op, entity: str | None, entity_id: str | None) -> str | None:
    if entity is None or entity not in ENTITIES:
        return f"unknown entity {safe_text(op.entity)!r}"
    spec = ENTITIES[entity]
    if entity_id is None:
        return "id must be 1-64 characters of [A-Za-z0-9._-]"
    if op.action not in _ACTIONS:
        return f"action must be one of {', '.join(_ACTIONS)}"
    if isinstance(op.base, bool) or not isinstance(op.base, int) or op.base < 0:
        return "base must be a non-negative integer"
    fields = op.fields
    if op.action == "delete":
        if fields not in (None, {}):
            return "a delete carries no fields"
        return None
    if not isinstance(fields, dict):
        return "fields must be an object"
    if op.action == "update":
        if not spec.updatable:
            return f"{entity} can only be created and deleted"
        if not fields:
            return "an update must write at least one field"
    problem = _text_problem(fields, _FIELD_NAMES[entity])
    if problem:
        return problem
    try:
        msgspec.convert(fields, spec.fields_struct, strict=True)
    except msgspec.ValidationError as exc:
        return str(exc).replace("$.", "fields.")
    if op.action == "create":
        missing = sorted(spec.required - fields.keys())
        if missing:
            return "missing required field(s): " + ", ".join(f"`{m}`" for m in missing)
    for name in sorted(spec.required & fields.keys()):
        if fields[name] is None:
            return f"field `{name}` is required and cannot be null"
    return None


def check_op(op: Op, text: str | None = None) -> CheckedOp:
    """The op checked; `text` is the op as received (`op_texts`), if known."""
    entity = _clean_str(op.entity)
    entity_id = _clean_id(op.id)
    problem = _problem(op, entity, entity_id)
    action = op.action if op.action in _ACTIONS else None
    fields = op.fields if problem is None and isinstance(op.fields, dict) else {}
    return CheckedOp(
        op=op,
        text=op_text(op) if text is None else text,
        entity=entity,
        entity_id=entity_id,
        action=action,
        fields=fields,
        error=_invalid(problem) if problem else None,
    )
