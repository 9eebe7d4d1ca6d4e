"""A small, realistic demo dataset, pushed through the normal push path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from changelog.hlc import wall_ms
from schema import wire
from syncserver.auth import BUILTIN_ADMIN_ID, Principal, hash_token, new_token
from syncserver.push import push
from syncserver.storage import projection
from syncserver.storage import users as user_store

DEMO_DEVICE = "demo-seed"

_CUSTOMERS = [
    (
        "cust-harbor",
        "Harbor Cold Storage",
        "commercial",
        "ops@harbor.example",
        "Pier 4, Harbor Road 12",
        "Portside",
        "north",
    ),
    (
        "cust-lindqvist",
        "Anna Lindqvist",
        "residential",
        "anna@lindqvist.example",
        "Birch Lane 7",
        "Elmwood",
        "south",
    ),
    (
        "cust-gridco",
        "GridCo Utilities",
        "utility",
        "field@gridco.example",
        "Substation 9, Ridge Way",
        "Highmoor",
        "north",
    ),
    (
        "cust-forge",
        "Forge Metalworks",
        "industrial",
        "plant@forge.example",
        "Foundry Street 30",
        "Ironvale",
        "east",
    ),
]

_JOBS = [
    (
        "job-1001",
        "cust-harbor",
        "Install 200 kWh battery bank",
        "installation",
        "high",
        "scheduled",
    ),
    (
        "job-1002",
        "cust-lindqvist",
        "Annual inspection of home battery",
        "inspection",
        "normal",
        "dispatched",
    ),
    (
        "job-1003",
        "cust-gridco",
        "Replace failed inverter module",
        "replacement",
        "urgent",
        "in_progress",
    ),
    ("job-1004", "cust-forge", "Thermal alarm on rack 3", "emergency", "urgent", "unscheduled"),
    (
        "job-1005",
        "cust-harbor",
        "Firmware update and capacity test",
        "maintenance",
        "low",
        "unscheduled",
    ),
]


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    user_id: str
    token: str


async def _user(engine: AsyncEngine, email: str, name: str, role: str) -> DemoUser:
    async with engine.begin() as conn:
        try:
            user = await user_store.create(
                conn,
                str(uuid.uuid4()),
                wire.UserCreate(email=email, name=name, role=role),  # type: ignore[arg-type]
            )
            user_id = user.id
        except user_store.DuplicateEmail:
            user_id = await user_store.id_by_email(conn, email)
        token = new_token()
        await user_store.create_token(conn, str(uuid.uuid4()), user_id, hash_token(token), None)
    return DemoUser(name, role, user_id, token)


def _ops(technician_id: str) -> list[dict[str, object]]:
    ops: list[dict[str, object]] = []
    for cid, name, ctype, email, address, city, area in _CUSTOMERS:
        ops.append(
            {
                "entity": "customer",
                "id": cid,
                "action": "create",
                "fields": {"name": name, "type": ctype, "email": email},
            }
        )
        ops.append(
            {
                "entity": "location",
                "id": f"loc-{cid[5:]}",
                "action": "create",
                "fields": {
                    "customer_id": cid,
                    "label": "Main site",
                    "address": address,
                    "city": city,
                    "service_area": area,
                },
            }
        )
        ops.append(
            {
                "entity": "contact",
                "id": f"con-{cid[5:]}",
                "action": "create",
                "fields": {
                    "customer_id": cid,
                    "name": f"Site contact, {name}",
                    "role": "Facilities",
                },
            }
        )
    for jid, cid, title, stype, priority, status in _JOBS:
        fields: dict[str, object] = {
            "title": title,
            "service_type": stype,
            "priority": priority,
            "status": status,
            "customer_id": cid,
            "location_id": f"loc-{cid[5:]}",
            "scheduled_date": "2026-12-01T08:00:00Z",
        }
        if status in ("dispatched", "in_progress", "scheduled"):
            fields["technician_id"] = technician_id
        ops.append({"entity": "job", "id": jid, "action": "create", "fields": fields})
    ops.append(
        {
            "entity": "job_note",
            "id": "note-1003-a",
            "action": "create",
            "fields": {"job_id": "job-1003", "body": "Inverter shows fault code E-41."},
        }
    )
    return ops


async def seed_demo(engine: AsyncEngine) -> list[DemoUser]:
    """Create the demo users and data (data only once); returns users with fresh tokens."""
    dispatcher = await _user(engine, "dispatch@demo.fieldsync", "Dana Dispatcher", "dispatcher")
    technician = await _user(engine, "tech@demo.fieldsync", "Tomas Technician", "technician")
    async with engine.connect() as conn:
        seeded = await projection.get_document(conn, "customer", _CUSTOMERS[0][0]) is not None
    if seeded:
        return [dispatcher, technician]
    now = wall_ms()
    ops = [
        wire.Op(seq=i, ts=now, tc=i, base=0, **op)
        for i, op in enumerate(_ops(technician.user_id), start=1)
    ]
    await push(
        engine,
        Principal(BUILTIN_ADMIN_ID, "admin"),
        wire.PushRequest(device_id=DEMO_DEVICE, ops=ops),
        max_clock_skew_ms=300_000,
    )
    return [dispatcher, technician]
