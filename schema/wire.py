"""Every wire shape of docs/protocol.md, one msgspec Struct each.

Handlers decode request bodies straight into these and encode responses from
them. New fields always get a default, so last month's devices still decode.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from schema.entities import (
    ID_PATTERN,
    CustomerType,
    JobStatus,
    PhotoType,
    Priority,
    ServiceType,
    Timestamp,
)

DeviceId = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
PlainText = Annotated[str, Meta(pattern=r"^[^\x00]*$")]
Role = Literal["admin", "dispatcher", "technician", "service_provider"]
ServiceArea = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]


# --- sync: push -------------------------------------------------------------


class Op(msgspec.Struct, kw_only=True):
    """One op as a device sends it.

    Only what is needed to place the op in the device log is checked here;
    everything else is checked per op, so a bad op is rejected and logged
    instead of failing the whole request.
    """

    seq: Annotated[int, Meta(ge=1, le=2**62)]
    ts: Annotated[int, Meta(ge=0, le=2**62)]
    tc: Annotated[int, Meta(ge=0, le=2**62)] = 0
    entity: Any = None
    id: Any = None
    action: Any = None
    fields: Any = None
    base: Any = 0


MAX_PUSH_OPS = 1000  # ops in one push (docs/protocol.md, "Ops and the device log")


class PushRequest(msgspec.Struct):
    device_id: DeviceId
    ops: Annotated[list[Op], Meta(min_length=1, max_length=MAX_PUSH_OPS)]


class OpError(msgspec.Struct):
    code: str
    message: str


class OpResult(msgspec.Struct, omit_defaults=True):
    seq: int
    status: Literal["applied", "rejected", "duplicate"]
    version: int | None = None
    error: OpError | None = None


class NoticeSide(msgspec.Struct):
    value: Any
    device_id: str
    user_id: str
    seq: int
    ts: int
    tc: int


class Notice(msgspec.Struct):
    id: str
    entity: str
    entity_id: str
    field: str
    status: Literal["open", "resolved"]
    winner: NoticeSide
    loser: NoticeSide
    detected_at: str
    resolution: Any = None


class PushResponse(msgspec.Struct):
    acked_seq: int
    server_time: int
    results: list[OpResult]
    conflicts: list[Notice]


# --- sync: pull -------------------------------------------------------------


class PullRequest(msgspec.Struct):
    device_id: DeviceId
    cursor: str | None = None
    limit: Annotated[int, Meta(ge=1, le=5000)] = 1000


class Change(msgspec.Struct, omit_defaults=True):
    """One entry of `changes`: the entity's current state, or its removal."""

    entity: str
    id: str
    version: int | None = None
    data: dict[str, Any] | None = None
    removed: bool = False


class ChangeText(msgspec.Struct):
    """`Change` as a device's store reads it (clients/store.py): `data` stays the JSON
    text the server sent, stored without being decoded and encoded again."""

    entity: str
    id: str
    version: int | None = None
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # empty when removed
    removed: bool = False


class PullResponse(msgspec.Struct):
    cursor: str
    has_more: bool
    server_time: int
    # Assembled by PostgreSQL as JSON text; its shape is `list[Change]`.
    changes: Annotated[
        msgspec.Raw,
        Meta(extra_json_schema={"type": "array", "items": {"$ref": "#/components/schemas/Change"}}),
    ]
    notices: list[Notice]


# --- users and tokens -------------------------------------------------------


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
    role: Role
    service_areas: list[ServiceArea] = []


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[^\x00]*$")] | UnsetType = (
        UNSET
    )
    role: Role | UnsetType = UNSET
    service_areas: list[ServiceArea] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class User(msgspec.Struct):
    id: str
    email: str
    name: str
    role: Role
    service_areas: list[str]
    active: bool
    created_at: str
    updated_at: str


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    ttl_s: Annotated[int, Meta(ge=1, le=10 * 365 * 86400)] | None = None


class TokenIssued(msgspec.Struct):
    id: str
    token: str
    expires_at: str | None


class TokenInfo(msgspec.Struct):
    """A token as listed: never its secret."""

    id: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class TokenList(msgspec.Struct):
    items: list[TokenInfo]


class Page(msgspec.Struct):
    items: list[Any]
    next_cursor: str | None


# --- read APIs (query parameters are Structs too: handlers convert into them) --

Limit = Annotated[int, Meta(ge=1, le=500)]
SearchText = Annotated[str, Meta(max_length=200, pattern=r"^[^\x00]*$")]
QueryId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
QueryText = Annotated[str, Meta(max_length=1000, pattern=r"^[^\x00]*$")]


class JobQuery(msgspec.Struct, kw_only=True):
    status: JobStatus | None = None
    technician_id: QueryId | None = None
    customer_id: QueryId | None = None
    service_type: ServiceType | None = None
    priority: Priority | None = None
    scheduled_from: Timestamp | None = None  # inclusive
    scheduled_to: Timestamp | None = None  # exclusive
    q: SearchText | None = None
    sort: Literal["scheduled_date", "updated_at", "priority"] = "scheduled_date"
    include_deleted: bool = False  # admin
    limit: Limit = 50
    cursor: QueryText | None = None


class CustomerQuery(msgspec.Struct, kw_only=True):
    q: SearchText | None = None
    type: CustomerType | None = None
    include_deleted: bool = False  # admin
    limit: Limit = 50
    cursor: QueryText | None = None


class PageQuery(msgspec.Struct, kw_only=True):
    limit: Limit = 50
    cursor: QueryText | None = None


class ConflictQuery(msgspec.Struct, kw_only=True):
    status: Literal["open", "resolved"] | None = None
    entity: QueryText | None = None
    entity_id: QueryText | None = None
    field: QueryText | None = None
    device_id: QueryText | None = None  # either side
    user_id: QueryText | None = None  # either side
    since: Timestamp | None = None  # detected at or after
    limit: Limit = 50
    cursor: QueryText | None = None


class Job(msgspec.Struct):
    id: str
    job_number: str | None
    title: str
    description: str | None
    status: JobStatus
    service_type: ServiceType
    priority: Priority
    scheduled_date: str | None
    completed_date: str | None
    customer_id: str
    location_id: str | None
    technician_id: str | None
    version: int
    deleted: bool
    created_at: str
    updated_at: str


class JobPage(msgspec.Struct):
    items: list[Job]
    next_cursor: str | None


class FieldMeta(msgspec.Struct):
    device_id: str
    user_id: str
    ts: int
    tc: int
    version: int


class JobDetail(Job):
    customer: dict[str, Any] | None
    location: dict[str, Any] | None
    notes: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    fields_meta: dict[str, FieldMeta]


class HistoryItem(msgspec.Struct):
    device_id: str
    user_id: str
    seq: int
    action: str | None
    fields: dict[str, Any] | None
    status: Literal["applied", "rejected"]
    error: OpError | None
    lost_fields: list[str]
    version: int | None
    received_at: str


class HistoryPage(msgspec.Struct):
    items: list[HistoryItem]
    next_cursor: str | None


class Customer(msgspec.Struct):
    id: str
    name: str
    email: str | None
    phone: str | None
    type: CustomerType
    version: int
    deleted: bool
    created_at: str
    updated_at: str


class CustomerPage(msgspec.Struct):
    items: list[Customer]
    next_cursor: str | None


class CustomerDetail(Customer):
    locations: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    jobs: list[Job]


class Device(msgspec.Struct):
    device_id: str
    user_id: str
    acked_seq: int
    last_push_at: str | None
    last_pull_at: str | None
    # Notices this device lost and has not yet acknowledged by pull (docs/protocol.md).
    pending_notices: int = 0


class DevicePage(msgspec.Struct):
    items: list[Device]
    next_cursor: str | None


class NoticePage(msgspec.Struct):
    items: list[Notice]
    next_cursor: str | None


class ConflictSummary(msgspec.Struct):
    by_entity: dict[str, int]
    by_field: dict[str, int]
    by_status: dict[str, int]
    by_day: dict[str, int]  # YYYY-MM-DD (UTC) of detected_at


class Resolve(msgspec.Struct, forbid_unknown_fields=True):
    action: Literal["keep_winner", "apply_loser", "set"]
    value: Any = UNSET  # required for `set`


class UserPage(msgspec.Struct):
    items: list[User]
    next_cursor: str | None


# --- photos -----------------------------------------------------------------


class UploadRequest(msgspec.Struct, forbid_unknown_fields=True):
    job_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
    content_type: PhotoType
    size: Annotated[int, Meta(ge=1, le=26214400)]
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{64}$")]


class UploadTicket(msgspec.Struct):
    key: str
    method: Literal["PUT"]
    url: str  # absolute
    headers: dict[str, str]
    expires_at: str


class PhotoView(msgspec.Struct):
    id: str
    job_id: str
    key: str
    content_type: str
    size: int
    sha256: str
    caption: str | None
    taken_at: str | None
    status: Literal["pending", "available"]
    version: int
    deleted: bool
    created_at: str
    updated_at: str
    url: str | None  # signed GET URL, absolute and short-lived; null while pending
    thumbnail_url: str | None


# --- errors -----------------------------------------------------------------


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class Health(msgspec.Struct):
    status: str
