"""The optimistic view: a replica's document with the outbox's pending ops applied on top.

Pure functions, shared by `Device.get` and `Device.query` and checked against the
server by tests/clients/test_view.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def overlay(
    entity_id: str, doc: Mapping[str, Any] | None, ops: Iterable[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The entity as the device shows it: `doc` (the replica's document, or None when
    the replica does not hold it) with `ops` applied in seq order, field by field.

    A create of an unknown id makes a new entity of its fields; a create of a known id
    and an update set their fields; an update of an entity the view does not hold
    changes nothing (the server would answer `not_found`); a delete removes it."""
    view = dict(doc) if doc is not None else None
    for op in ops:
        action = op["action"]
        fields = op.get("fields") or {}
        if action == "delete":
            view = None
        elif action == "create":
            if view is None:
                view = {"id": entity_id, "version": None}
            view.update(fields)
        elif view is not None:
            view.update(fields)
    return view


def matches(doc: Mapping[str, Any], equal: Mapping[str, Any]) -> bool:
    """Whether every given field of `doc` equals the given value (a missing field is
    None, as the server serves an unset optional field)."""
    return all(_same(doc.get(name), value) for name, value in equal.items())


def _same(held: Any, wanted: Any) -> bool:
    # JSON has one number type, and True == 1 in Python: keep booleans apart.
    return bool(held == wanted and isinstance(held, bool) == isinstance(wanted, bool))
