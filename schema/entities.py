"""The six synced entities and their writable fields (docs/protocol.md, "Entities").

Each entity's writable fields are one msgspec Struct; an op's `fields` are
validated by converting them into it. Values are stored exactly as sent: the
Struct only checks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"

Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
Text50 = Annotated[str, Meta(max_length=50)]
Text64 = Annotated[str, Meta(max_length=64)]
Text100 = Annotated[str, Meta(max_length=100)]
Text200 = Annotated[str, Meta(max_length=200)]
Text254 = Annotated[str, Meta(max_length=254)]
Text500 = Annotated[str, Meta(max_length=500)]
Text5000 = Annotated[str, Meta(max_length=5000)]
Text10000 = Annotated[str, Meta(max_length=10000)]
Timestamp = Annotated[datetime, Meta(tz=True)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]

CustomerType = Literal["residential", "commercial", "industrial", "utility"]
JobStatus = Literal[
    "unscheduled", "scheduled", "dispatched", "in_progress", "on_hold", "completed", "cancelled"
]
ServiceType = Literal[
    "installation", "maintenance", "repair", "inspection", "replacement", "emergency"
]
Priority = Literal["low", "normal", "high", "urgent"]
PhotoType = Literal["image/jpeg", "image/png", "image/webp", "image/heic"]

_Fields = {"forbid_unknown_fields": True, "omit_defaults": True, "kw_only": True}


class CustomerFields(msgspec.Struct, **_Fields):
    name: Text200 | UnsetType = UNSET
    email: Text254 | None | UnsetType = UNSET
    phone: Text50 | None | UnsetType = UNSET
    type: CustomerType | UnsetType = UNSET


class LocationFields(msgspec.Struct, **_Fields):
    customer_id: Id | UnsetType = UNSET
    label: Text200 | None | UnsetType = UNSET
    address: Text500 | UnsetType = UNSET
    city: Text100 | None | UnsetType = UNSET
    postal_code: Annotated[str, Meta(max_length=20)] | None | UnsetType = UNSET
    service_area: Text64 | None | UnsetType = UNSET
    lat: Latitude | None | UnsetType = UNSET
    lng: Longitude | None | UnsetType = UNSET


class ContactFields(msgspec.Struct, **_Fields):
    customer_id: Id | UnsetType = UNSET
    name: Text200 | UnsetType = UNSET
    email: Text254 | None | UnsetType = UNSET
    phone: Text50 | None | UnsetType = UNSET
    role: Text100 | None | UnsetType = UNSET


class JobFields(msgspec.Struct, **_Fields):
    title: Text200 | UnsetType = UNSET
    description: Text10000 | None | UnsetType = UNSET
    status: JobStatus | UnsetType = UNSET
    service_type: ServiceType | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    scheduled_date: Timestamp | None | UnsetType = UNSET
    completed_date: Timestamp | None | UnsetType = UNSET
    customer_id: Id | UnsetType = UNSET
    location_id: Id | None | UnsetType = UNSET
    technician_id: Id | None | UnsetType = UNSET


class JobNoteFields(msgspec.Struct, **_Fields):
    job_id: Id | UnsetType = UNSET
    body: Text5000 | UnsetType = UNSET


class JobPhotoFields(msgspec.Struct, **_Fields):
    job_id: Id | UnsetType = UNSET
    key: Annotated[str, Meta(min_length=1, max_length=1024)] | UnsetType = UNSET
    content_type: PhotoType | UnsetType = UNSET
    size: Annotated[int, Meta(ge=1, le=26214400)] | UnsetType = UNSET
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{64}$")] | UnsetType = UNSET
    caption: Text500 | None | UnsetType = UNSET
    taken_at: Timestamp | None | UnsetType = UNSET


@dataclass(frozen=True)
class EntitySpec:
    """What the server knows about one entity kind."""

    name: str
    fields_struct: type[msgspec.Struct]
    required: frozenset[str]
    defaults: dict[str, object]
    # field -> entity kind it references ("user" for users)
    refs: dict[str, str]
    updatable: bool = True
    # server-set fields served in `data`, with their initial value
    server_fields: tuple[str, ...] = ()

    @property
    def writable(self) -> tuple[str, ...]:
        return tuple(self.fields_struct.__struct_fields__)


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("customer", CustomerFields, frozenset({"name", "type"}), {}, {}),
        EntitySpec(
            "location",
            LocationFields,
            frozenset({"customer_id", "address"}),
            {},
            {"customer_id": "customer"},
        ),
        EntitySpec(
            "contact",
            ContactFields,
            frozenset({"customer_id", "name"}),
            {},
            {"customer_id": "customer"},
        ),
        EntitySpec(
            "job",
            JobFields,
            frozenset({"title", "service_type", "customer_id"}),
            {"status": "unscheduled", "priority": "normal"},
            {
                "customer_id": "customer",
                "location_id": "location",
                "technician_id": "user",
            },
            server_fields=("job_number",),
        ),
        EntitySpec(
            "job_note",
            JobNoteFields,
            frozenset({"job_id", "body"}),
            {},
            {"job_id": "job"},
            updatable=False,
            server_fields=("author_id",),
        ),
        EntitySpec(
            "job_photo",
            JobPhotoFields,
            frozenset({"job_id", "key", "content_type", "size", "sha256"}),
            {},
            {"job_id": "job"},
            server_fields=("status",),
        ),
    )
}
