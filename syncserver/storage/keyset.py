"""The read APIs' cursors: keyset (the last row's sort key and id, opaque) for job
and customer lists, and a commit position for histories and notices."""

from __future__ import annotations

import base64

import msgspec

from schema.errors import InvalidRequest


def _not_ours() -> InvalidRequest:
    return InvalidRequest("cursor is not one this server issued", {"field": "cursor"})


class _Key(msgspec.Struct, array_like=True):
    key: int | str
    id: str


def encode(key: int | str, last_id: str) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(_Key(key, last_id))).decode().rstrip("=")


def decode(cursor: str, key_type: type[int] | type[str]) -> tuple[int | str, str]:
    """The key and id a keyset cursor carries; `invalid_request` if this server did not
    issue it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = msgspec.json.decode(raw, type=_Key)
    except (ValueError, msgspec.DecodeError):
        raise _not_ours() from None
    key = decoded.key
    if not isinstance(key, key_type) or (isinstance(key, int) and not -(2**63) <= key < 2**63):
        raise _not_ours()
    if isinstance(key, str) and "\x00" in key or "\x00" in decoded.id:
        raise _not_ours()
    return key, decoded.id


def position(cursor: str | None) -> int:
    """The commit position a history or notice cursor carries (0: from the start)."""
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise _not_ours()
    return int(cursor)


def page_statement(
    *,
    where: list[str],
    key: str,
    direction: str = "ASC",
    key_out: str | None = None,
    join: str = "",
) -> str:
    """One page of `entities p` rows matching `where`, in (key, id) order: the page's
    documents as a JSON array, the last row's key (as `key_out`) and id, and whether
    more rows follow. Binds `:limit`."""
    order = f"{key} {direction}, p.id {direction}"
    return f"""
    WITH page AS (
        SELECT p.id, p.data, {key_out or key} AS k, row_number() OVER (ORDER BY {order}) AS n
        FROM (SELECT p.* FROM entities p {join}
              WHERE {" AND ".join(where)}
              ORDER BY {order}
              LIMIT :limit + 1) AS p
    )
    SELECT coalesce(json_agg(data ORDER BY n) FILTER (WHERE n <= :limit), '[]')::text,
           (SELECT k FROM page WHERE n = :limit), (SELECT id FROM page WHERE n = :limit),
           count(*) > :limit
    FROM page
    """
