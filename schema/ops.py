"""An op from the push body to the merge: decoded once, then checked alone.

`decode_push` decodes a push body once: the envelope first, each op left as its
raw text, then each op into `schema.wire.Op`, the one op type of the server (the
merge, the device log, rebuild and the server's own ops all take it). The text
is kept exactly as the device sent it, for the device log; msgspec's error
paths name the op (`$.ops[3].seq`).

`check_op` never raises: a bad op gets an `invalid_op` error, which the push
logs as rejected. What it checks needs only the op: the entity, its id, the
action, and the fields against the entity's field Struct (schema/entities.py).
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from schema.entities import ENTITIES, ID_PATTERN
from schema.errors import InvalidRequest
from schema.wire import MAX_PUSH_OPS, DeviceId, Op, OpError, PushRequest

_ID = re.compile(ID_PATTERN)
_FIELD_NAMES = {name: frozenset(spec.writable) for name, spec in ENTITIES.items()}
_ACTIONS = ("create", "update", "delete")


class _PushEnvelope(msgspec.Struct):
    """A push body with its ops still raw: each is decoded on its own, once."""

    device_id: DeviceId
    ops: Annotated[list[msgspec.Raw], Meta(min_length=1, max_length=MAX_PUSH_OPS)]


_json_envelope = msgspec.json.Decoder(_PushEnvelope)
_json_op = msgspec.json.Decoder(Op)
_json_ops = msgspec.json.Decoder(list[Op])
_msgpack_envelope = msgspec.msgpack.Decoder(_PushEnvelope)
_msgpack_op = msgspec.msgpack.Decoder(Op)
_op_encoder = msgspec.json.Encoder()


def _at(exc: Exception, index: int) -> InvalidRequest:
    """msgspec's error for one op, with the op's place in the body in its path."""
    message = str(exc)
    where = f"$.ops[{index}]"
    if " - at `$" in message:
        head, _, path = message.rpartition(" - at `$")
        return InvalidRequest(f"{head} - at `{where}{path}")
    return InvalidRequest(f"{message} - at `{where}`")


TOO_DEEP = "the body is nested too deeply"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _lenient_json(body: bytes) -> Any:
    """Valid JSON that msgspec refuses (lone surrogates, numbers beyond float range),
    decoded anyway: the op holding it is then rejected and logged, not the request."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidRequest("body is not valid UTF-8") from None
    except ValueError as exc:
        raise InvalidRequest(f"malformed JSON: {exc}") from None


def _convert_op(value: Any, index: int) -> Op:
    try:
        return msgspec.convert(value, Op)
    except msgspec.ValidationError as exc:
        raise _at(exc, index) from None


def decode_push(body: bytes, *, msgpack: bool = False) -> tuple[PushRequest, list[str]]:
    """The push body as its Struct, and each op's JSON text in request order: exactly
    as sent, or rendered by `op_text` when the op came as MessagePack or in a body
    only the lenient decoder reads. Any failure is `invalid_request`, a body nested
    deeper than the decoders go included."""
    try:
        return _decode_push(body, msgpack)
    except RecursionError:
        raise InvalidRequest(TOO_DEEP) from None


def _decode_push(body: bytes, msgpack: bool) -> tuple[PushRequest, list[str]]:
    if msgpack:
        try:
            envelope = _msgpack_envelope.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise InvalidRequest(str(exc)) from None
        ops = []
        for i, raw in enumerate(envelope.ops):
            try:
                ops.append(_msgpack_op.decode(raw))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise _at(exc, i) from None
        return PushRequest(envelope.device_id, ops), [op_text(op) for op in ops]
    try:
        envelope = _json_envelope.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        return _decode_leniently(body)
    texts = [str(raw, "utf-8") for raw in envelope.ops]
    try:
        # The ops joined back into one array decode in one call: each op's error
        # path then reads `$[3]...`, which names the op as `$.ops[3]...`.
        ops = _json_ops.decode(b"[" + b",".join(envelope.ops) + b"]")
    except msgspec.ValidationError as exc:
        if "Number out of range" not in str(exc):
            raise InvalidRequest(str(exc).replace("`$[", "`$.ops[", 1)) from None
        ops = [_decode_op(raw, i) for i, raw in enumerate(envelope.ops)]
    return PushRequest(envelope.device_id, ops), texts


def _decode_op(raw: msgspec.Raw, index: int) -> Op:
    try:
        return _json_op.decode(raw)
    except msgspec.ValidationError as exc:
        if "Number out of range" not in str(exc):
            raise _at(exc, index) from None
    return _convert_op(_lenient_json(bytes(raw)), index)


def _decode_leniently(body: bytes) -> tuple[PushRequest, list[str]]:
    value = _lenient_json(body)
    try:
        envelope = msgspec.convert(value, _PushEnvelope_values)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc)) from None
    ops = [_convert_op(op, i) for i, op in enumerate(envelope.ops)]
    return PushRequest(envelope.device_id, ops), [op_text(op) for op in ops]


class _PushEnvelope_values(msgspec.Struct):  # noqa: N801 - the envelope, ops as values
    device_id: DeviceId
    ops: Annotated[list[Any], Meta(min_length=1, max_length=MAX_PUSH_OPS)]


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


def decode_logged(text: str) -> Op:
    """An op of a device log, from the text it was logged as."""
    try:
        return _json_op.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return msgspec.convert(json.loads(text), Op)


def logged_fields(text: str) -> dict[str, Any] | None:
    """A logged op's fields as a job's history shows them; None where there are none,
    or where the text does not decode whole (a rejected op with a lone surrogate, say:
    the device log keeps it escaped, and no response could carry it)."""
    try:
        fields = _json_op.decode(text).fields
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    return fields if isinstance(fields, dict) else None


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


def _problem(op: Op) -> str | None:
    entity = _clean_str(op.entity)
    entity_id = _clean_id(op.id)
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


def check_op(op: Op) -> OpError | None:
    """Why the op is invalid on its own (`invalid_op`), or None. An op that passes
    has a known `entity`, a valid `id`, an `action`, an integer `base`, and `fields`
    as an object its entity's Struct accepts (None or `{}` for a delete)."""
    problem = _problem(op)
    return None if problem is None else OpError(code="invalid_op", message=safe_text(problem))


def log_columns(op: Op) -> tuple[str | None, str | None, str | None]:
    """The op's entity, id and action as the device log's columns keep them: None
    where they are not clean text (the op is then rejected)."""
    action = op.action if op.action in _ACTIONS else None
    return _clean_str(op.entity), _clean_id(op.id), action


def fields_of(op: Op) -> dict[str, Any]:
    """The fields a checked op writes (none for a delete)."""
    return op.fields if isinstance(op.fields, dict) else {}
