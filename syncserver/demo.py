"""A realistic demo week for `syncserver serve --demo`, pushed through the normal push path.

Five users (an admin, a dispatcher, three technicians), eight customers around
Stockholm, thirty battery-service jobs over the seven days from today (UTC), notes,
and two job photos whose bytes are stored as a device's upload would be, so they
are `available` and get thumbnails. The data goes in once; every start gives each
demo user a fresh token.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.ext.asyncio import AsyncEngine

from changelog import projection
from changelog.hlc import wall_ms
from changelog.push import push
from schema import wire
from schema.errors import Conflict
from schema.rights import BUILTIN_ADMIN_ID, Principal
from syncserver import photos
from syncserver.auth import hash_token, new_token
from syncserver.blobs import LocalBlobStore
from syncserver.storage import photos as photo_store
from syncserver.storage import users as user_store

DEMO_DEVICE = "demo-seed"
Op = dict[str, object]

# --- the data ---------------------------------------------------------------------

# (key, email, name, role), in the order they are printed.
_USERS: tuple[tuple[str, str, str, wire.Role], ...] = (
    ("admin", "admin@demo.fieldsync", "Ada Admin", "admin"),
    ("dispatcher", "dispatch@demo.fieldsync", "Dana Dispatcher", "dispatcher"),
    ("tomas", "tech@demo.fieldsync", "Tomas Technician", "technician"),
    ("priya", "tech2@demo.fieldsync", "Priya Patel", "technician"),
    ("lars", "tech3@demo.fieldsync", "Lars Berg", "technician"),
)


class _Contact(NamedTuple):
    name: str
    role: str
    phone: str
    email: str


class _Customer(NamedTuple):
    slug: str  # ids: cust-SLUG, loc-SLUG, con-SLUG-N
    name: str
    type: str
    email: str
    phone: str
    address: str
    city: str
    postal_code: str
    service_area: str
    lat: float
    lng: float
    contacts: tuple[_Contact, ...]


class _Job(NamedTuple):
    number: int  # id job-NUMBER
    day: int | None  # days after today; None: unscheduled
    start: str | None  # "HH:MM" UTC
    technician: str | None  # a key of _USERS
    customer: str  # a customer slug
    service_type: str
    priority: str
    status: str
    title: str
    description: str


class _Photo(NamedTuple):
    job: int
    caption: str
    taken_after_start: timedelta
    faulty_modules: tuple[tuple[int, int], ...]  # (shelf, slot) drawn red


_CUSTOMERS = (
    _Customer(
        "harbor", "Frihamnen Cold Storage", "commercial", "ops@frihamnen-cold.example",
        "+46 8 555 101 20", "Frihamnsgatan 30", "Stockholm", "115 56", "central",
        59.3422, 18.1183,
        (
            _Contact("Karin Ek", "Facilities manager", "+46 70 555 12 34",
                     "karin.ek@frihamnen-cold.example"),
            _Contact("Johan Berg", "Night shift lead", "+46 70 555 98 10",
                     "johan.berg@frihamnen-cold.example"),
        ),
    ),
    _Customer(
        "lindqvist", "Anna Lindqvist", "residential", "anna@lindqvist.example",
        "+46 73 555 44 21", "Björkvägen 7", "Lidingö", "181 43", "east", 59.3645, 18.1472,
        (_Contact("Anna Lindqvist", "Homeowner", "+46 73 555 44 21", "anna@lindqvist.example"),),
    ),
    _Customer(
        "norrgrid", "Norrgrid Energi", "utility", "field@norrgrid.example", "+46 8 555 300 00",
        "Transformatorvägen 9", "Sollentuna", "192 72", "north", 59.4282, 17.9508,
        (
            _Contact("Mikael Strand", "Substation engineer", "+46 72 555 30 41",
                     "mikael.strand@norrgrid.example"),
            _Contact("Control room", "24/7 operations", "+46 8 555 300 99",
                     "control@norrgrid.example"),
        ),
    ),
    _Customer(
        "metallverk", "Södertälje Metallverk", "industrial", "plant@sodertalje-metall.example",
        "+46 8 555 620 00", "Verkstadsvägen 30", "Södertälje", "151 38", "south",
        59.1958, 17.6251,
        (_Contact("Eva Lund", "Plant maintenance", "+46 70 555 62 15",
                  "eva.lund@sodertalje-metall.example"),),
    ),
    _Customer(
        "kista", "Kista Data Hall 2", "commercial", "noc@kista-dh.example", "+46 8 555 750 00",
        "Isafjordsgatan 22", "Kista", "164 40", "north", 59.4036, 17.9447,
        (
            _Contact("Omar Haddad", "Data centre operations", "+46 76 555 75 02",
                     "omar.haddad@kista-dh.example"),
            _Contact("Security desk", "Access and badges", "+46 8 555 750 10",
                     "security@kista-dh.example"),
        ),
    ),
    _Customer(
        "holm", "Erik and Sofia Holm", "residential", "holm@holmfamily.example",
        "+46 70 555 11 22", "Enskedevägen 112", "Enskede", "122 63", "south", 59.2874, 18.0718,
        (_Contact("Sofia Holm", "Homeowner", "+46 70 555 11 22", "sofia@holmfamily.example"),),
    ),
    _Customer(
        "nacka", "Nacka Solar Park", "utility", "ops@nackasolar.example", "+46 8 555 470 00",
        "Solparksvägen 3", "Nacka", "131 54", "east", 59.3108, 18.1637,
        (_Contact("Henrik Sjöberg", "Site manager", "+46 73 555 47 08",
                  "henrik.sjoberg@nackasolar.example"),),
    ),
    _Customer(
        "arlanda", "Arlanda Logistics Centre", "industrial", "facilities@arlanda-logistics.example",
        "+46 8 555 590 00", "Pyramidvägen 7", "Arlanda", "190 60", "north", 59.6365, 17.9160,
        (
            _Contact("Maria Nilsson", "Facilities", "+46 70 555 59 31",
                     "maria.nilsson@arlanda-logistics.example"),
            _Contact("Goods-in supervisor", "Deliveries and crane bookings", "+46 8 555 590 40",
                     "goodsin@arlanda-logistics.example"),
        ),
    ),
)  # fmt: skip

_JOBS = (
    # Today: work done, under way, waiting and still to come.
    _Job(1001, 0, "07:00", "tomas", "lindqvist", "inspection", "normal", "completed",
         "Annual inspection of home battery",
         "Yearly check of the 13.5 kWh wall battery and its inverter: terminals, firmware, "
         "cell balance and ventilation."),
    _Job(1002, 0, "09:30", "tomas", "harbor", "repair", "high", "in_progress",
         "Repair BMS fault on cold-store backup battery",
         "The backup bank for the freezer halls reports intermittent BMS communication loss. "
         "Check the CAN wiring and the master controller."),
    _Job(1003, 0, "13:30", "tomas", "holm", "maintenance", "normal", "dispatched",
         "Clean and torque-check battery terminals",
         "Customer noticed a burning smell near the garage battery cabinet last week. Check "
         "the terminals, torque to spec and take a thermal image."),
    _Job(1004, 0, "08:00", "priya", "norrgrid", "replacement", "urgent", "in_progress",
         "Replace failed inverter module at substation",
         "Inverter module 2 of the grid-support battery tripped and will not reset. Swap the "
         "module and run the commissioning test."),
    _Job(1005, 0, "11:00", "priya", "kista", "repair", "high", "on_hold",
         "Repair UPS battery string 3",
         "String 3 of the UPS battery room has two modules below 3.0 V. On hold until the "
         "replacement modules arrive from the supplier."),
    _Job(1006, 0, "14:30", "priya", "nacka", "inspection", "normal", "dispatched",
         "Quarterly inspection of container battery",
         "Visual inspection, HVAC filter check and BMS log review of container battery 1."),
    _Job(1007, 0, "07:30", "lars", "metallverk", "emergency", "urgent", "dispatched",
         "Thermal alarm on rack 3",
         "Rack 3 of the peak-shaving battery raised a high-temperature alarm at 05:40. The "
         "site has isolated the rack. Find the cause before it is restarted."),
    _Job(1008, 0, "12:00", "lars", "arlanda", "installation", "high", "dispatched",
         "Install 200 kWh battery bank, day 1 of 2",
         "Mount the racks, land the DC cabling and set up the BMS. Crane booked 12:00-14:00 "
         "at goods-in."),
    # Tomorrow.
    _Job(1009, 1, "08:00", "lars", "arlanda", "installation", "high", "dispatched",
         "Commission 200 kWh battery bank, day 2 of 2",
         "Insulation test, BMS configuration, first charge and handover to facilities."),
    _Job(1010, 1, "09:00", "tomas", "harbor", "maintenance", "normal", "dispatched",
         "Firmware update and capacity test",
         "Update the BMS firmware to 4.2.1 and run a full discharge capacity test."),
    _Job(1011, 1, "13:00", "priya", "kista", "replacement", "high", "scheduled",
         "Replace UPS modules in string 3",
         "Fit the two modules ordered on the first visit and rebalance the string."),
    _Job(1012, 1, "14:00", "priya", "norrgrid", "inspection", "normal", "scheduled",
         "Post-repair inspection of inverter cooling",
         "Check fan speeds and heat-sink temperatures a day after the module swap."),
    # The rest of the week.
    _Job(1013, 2, "07:00", "lars", "metallverk", "repair", "high", "scheduled",
         "Replace cooling fans on rack 3",
         "Two of the four fans on rack 3 are worn out. Replace all four."),
    _Job(1014, 2, "10:00", "tomas", "nacka", "maintenance", "normal", "scheduled",
         "Balance cells in container battery 2",
         "Cell voltage spread has grown to 45 mV. Run a balancing cycle and check again."),
    _Job(1015, 2, "13:00", "priya", "harbor", "inspection", "low", "scheduled",
         "Inspect battery room ventilation",
         "Yearly inspection of the battery room extract fans and gas detection."),
    _Job(1016, 2, "15:00", "lars", "kista", "maintenance", "normal", "scheduled",
         "Thermal scan of battery racks",
         "Thermal imaging of all UPS battery racks under load."),
    _Job(1017, 3, "08:00", "tomas", "lindqvist", "installation", "normal", "scheduled",
         "Install second battery module",
         "Customer is adding a second 13.5 kWh module. Mount beside the first and pair it."),
    _Job(1018, 3, "09:30", "priya", "arlanda", "maintenance", "normal", "scheduled",
         "Set up remote monitoring for new battery bank",
         "Connect the new BMS to the monitoring portal and set the alarm thresholds."),
    _Job(1019, 3, "13:00", "lars", "norrgrid", "replacement", "high", "scheduled",
         "Replace contactor in battery disconnect",
         "The main DC contactor shows contact wear. Replace it during the planned outage."),
    _Job(1020, 4, "07:30", "lars", "nacka", "inspection", "normal", "scheduled",
         "Fire-suppression check in battery containers",
         "Check the aerosol suppression units and smoke detectors in both containers."),
    _Job(1021, 4, "10:00", "tomas", "metallverk", "maintenance", "normal", "scheduled",
         "Quarterly maintenance of peak-shaving battery",
         "Torque check, filter change and BMS log review on racks 1, 2 and 4."),
    _Job(1022, 4, "14:00", "priya", "holm", "repair", "normal", "scheduled",
         "Repair app connection of home battery",
         "The battery has not reported to the customer's app since the router was replaced."),
    _Job(1023, 5, "09:00", "priya", "kista", "inspection", "normal", "scheduled",
         "Annual insurance inspection of UPS batteries",
         "The insurer's checklist: capacity, ventilation, signage and emergency stop."),
    _Job(1024, 5, "11:00", "tomas", "arlanda", "repair", "normal", "scheduled",
         "Fix earth-fault warning on DC bus",
         "The BMS logs an earth-fault warning a few times a day. Find the leakage path."),
    _Job(1025, 5, "13:30", "lars", "harbor", "replacement", "normal", "scheduled",
         "Replace battery monitoring sensors",
         "Replace the 12 temperature sensors of the old monitoring system."),
    _Job(1026, 6, "08:00", "lars", "norrgrid", "maintenance", "low", "scheduled",
         "Capacity test of grid-support battery",
         "Six-monthly capacity test, coordinated with the control room."),
    _Job(1027, 6, "10:00", "tomas", "nacka", "installation", "normal", "scheduled",
         "Install battery for new inverter string",
         "Install and commission a 50 kWh battery for the park's new inverter string."),
    # Not yet planned: for the dispatcher to schedule and assign.
    _Job(1028, None, None, None, "metallverk", "replacement", "low", "unscheduled",
         "Replace lead-acid batteries in forklift charging room",
         "The forklift chargers' backup batteries are at end of life."),
    _Job(1029, None, None, None, "holm", "inspection", "low", "unscheduled",
         "Site survey for battery expansion",
         "Customer is asking about doubling capacity before winter."),
    _Job(1030, None, None, None, "kista", "emergency", "urgent", "unscheduled",
         "Swollen cell reported in battery room",
         "Security reports a bulging cell casing on rack B during the night round."),
)  # fmt: skip

# (job number, body); ids note-NUMBER-a, -b, ...
_NOTES = (
    (1001, "All 16 cells within 12 mV. Firmware updated to 4.2.1. Customer happy."),
    (1001, "Ventilation grille partly blocked by storage boxes; asked the customer to keep "
           "30 cm clear."),
    (1002, "BMS master loses the CAN heartbeat every few minutes. Suspect connector J4."),
    (1002, "Night shift says the alarm has been coming and going since Monday."),
    (1003, "Customer is home after 13:00; the garage code is 4417."),
    (1004, "Module 2 shows fault code E-41 and will not reset."),
    (1004, "Spare module picked up from the warehouse this morning."),
    (1005, "Modules 3-2 and 3-3 at 2.9 V. Ordered two replacement modules, two days."),
    (1005, "String 3 isolated; the UPS runs on strings 1, 2 and 4 meanwhile."),
    (1007, "Site isolated rack 3 at 05:45. Highest cell temperature logged: 58 C."),
    (1008, "Crane confirmed for 12:00. Bring the long DC cables (35 m)."),
    (1028, "Customer would also like a quote for lithium replacements."),
)  # fmt: skip

_PHOTOS = (
    _Photo(1002, "BMS master controller, connector J4", timedelta(minutes=40), ((1, 0),)),
    _Photo(1005, "String 3: modules 3-2 and 3-3 at 2.9 V", timedelta(minutes=25), ((2, 1), (2, 2))),
)


# --- users ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    user_id: str
    token: str


async def _user(engine: AsyncEngine, email: str, name: str, role: wire.Role) -> DemoUser:
    """The user with this email, created if new, with a fresh token."""
    async with engine.begin() as conn:
        try:
            user = await user_store.create(
                conn, str(uuid.uuid4()), wire.UserCreate(email=email, name=name, role=role)
            )
            user_id = user.id
        except Conflict:  # a user with this email exists
            user_id = await user_store.id_by_email(conn, email)
        token = new_token()
        await user_store.create_token(conn, str(uuid.uuid4()), user_id, hash_token(token), None)
    return DemoUser(name, role, user_id, token)


# --- ops --------------------------------------------------------------------------


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(today: date, day: int, hhmm: str) -> datetime:
    return datetime.combine(today + timedelta(days=day), time.fromisoformat(hhmm), UTC)


def _customer_ops(c: _Customer) -> list[Op]:
    customer_id = f"cust-{c.slug}"
    ops: list[Op] = [
        {
            "entity": "customer",
            "id": customer_id,
            "action": "create",
            "fields": {"name": c.name, "type": c.type, "email": c.email, "phone": c.phone},
        },
        {
            "entity": "location",
            "id": f"loc-{c.slug}",
            "action": "create",
            "fields": {
                "customer_id": customer_id,
                "label": "Main site",
                "address": c.address,
                "city": c.city,
                "postal_code": c.postal_code,
                "service_area": c.service_area,
                "lat": c.lat,
                "lng": c.lng,
            },
        },
    ]
    for n, contact in enumerate(c.contacts, start=1):
        ops.append(
            {
                "entity": "contact",
                "id": f"con-{c.slug}-{n}",
                "action": "create",
                "fields": {"customer_id": customer_id, **contact._asdict()},
            }
        )
    return ops


def _job_op(job: _Job, today: date, user_ids: dict[str, str]) -> Op:
    fields: dict[str, object] = {
        "title": job.title,
        "description": job.description,
        "service_type": job.service_type,
        "priority": job.priority,
        "status": job.status,
        "customer_id": f"cust-{job.customer}",
        "location_id": f"loc-{job.customer}",
    }
    if job.technician is not None:
        fields["technician_id"] = user_ids[job.technician]
    if job.day is not None and job.start is not None:
        start = _at(today, job.day, job.start)
        fields["scheduled_date"] = _rfc3339(start)
        if job.status == "completed":
            fields["completed_date"] = _rfc3339(start + timedelta(minutes=95))
    return {"entity": "job", "id": f"job-{job.number}", "action": "create", "fields": fields}


def _note_ops() -> list[Op]:
    ops: list[Op] = []
    per_job: dict[int, int] = {}
    for number, body in _NOTES:
        n = per_job[number] = per_job.get(number, 0) + 1
        ops.append(
            {
                "entity": "job_note",
                "id": f"note-{number}-{'abcdefgh'[n - 1]}",
                "action": "create",
                "fields": {"job_id": f"job-{number}", "body": body},
            }
        )
    return ops


def _photo_op(photo: _Photo, key: str, data: bytes, today: date) -> Op:
    job = next(j for j in _JOBS if j.number == photo.job)
    assert job.day is not None and job.start is not None
    return {
        "entity": "job_photo",
        "id": f"photo-{photo.job}-a",
        "action": "create",
        "fields": {
            "job_id": f"job-{photo.job}",
            "key": key,
            "content_type": "image/jpeg",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "caption": photo.caption,
            "taken_at": _rfc3339(_at(today, job.day, job.start) + photo.taken_after_start),
        },
    }


# --- photos -----------------------------------------------------------------------


def battery_rack_jpeg(caption: str, faulty: tuple[tuple[int, int], ...]) -> bytes:
    """A 640x480 JPEG of a battery rack: four shelves of four modules, the faulty ones
    with a red light, and a caption bar."""
    image = Image.new("RGB", (640, 480), (206, 210, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 400, 640, 480), fill=(120, 118, 112))  # floor
    draw.rectangle((150, 30, 490, 410), fill=(52, 56, 62), outline=(20, 20, 24), width=6)
    small = ImageFont.load_default(size=14)
    for shelf in range(4):
        top = 50 + shelf * 88
        draw.rectangle((160, top + 74, 480, top + 80), fill=(90, 94, 100))
        for slot in range(4):
            left = 170 + slot * 77
            module = (left, top, left + 68, top + 72)
            draw.rectangle(module, fill=(232, 232, 226), outline=(30, 30, 30))
            draw.rectangle((left + 6, top + 8, left + 62, top + 22), fill=(40, 90, 160))
            light = (210, 40, 30) if (shelf, slot) in faulty else (40, 180, 70)
            draw.ellipse((left + 50, top + 52, left + 62, top + 64), fill=light)
            draw.text((left + 8, top + 48), f"{shelf + 1}-{slot + 1}", fill=(20,) * 3, font=small)
    draw.rectangle((0, 430, 640, 480), fill=(20, 24, 30))
    draw.text((16, 440), caption, fill=(255, 255, 255), font=ImageFont.load_default(size=22))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(engine: AsyncEngine, store: photos.BlobStore, job_id: str, data: bytes) -> str:
    """Record an upload for the job and store its bytes as a device's upload would be
    stored and verified; returns its key. A photo pushed with it is `available`."""
    key = f"jobs/{job_id}/{uuid.uuid4().hex}"
    async with engine.begin() as conn:
        await photo_store.create_upload(
            conn,
            key=key,
            job_id=job_id,
            content_type="image/jpeg",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            user_id=BUILTIN_ADMIN_ID,
        )
    if isinstance(store, LocalBlobStore):  # the path of a signed PUT to /blobs/
        expires = wall_ms() // 1000 + 60
        signature = (str(expires), store.signature("PUT", key, expires))
        await photos.receive(engine, store, key, _one_chunk(data), signature)
    else:  # S3: put the object, then check the bucket as the upload checker does
        await asyncio.to_thread(store.write, key, data, "image/jpeg")
        await photos.settle(engine, store, key)
    return key


# --- seeding ----------------------------------------------------------------------


async def _seeded(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return await projection.get_document(conn, "customer", "cust-harbor") is not None


async def seed_demo(
    engine: AsyncEngine, store: photos.BlobStore, today: date | None = None
) -> list[DemoUser]:
    """Create the demo users, each with a fresh token, and the demo week (once: a second
    call adds no data). `today` defaults to the server clock's UTC date."""
    users = {key: await _user(engine, email, name, role) for key, email, name, role in _USERS}
    if await _seeded(engine):
        return list(users.values())
    if today is None:
        today = datetime.fromtimestamp(wall_ms() / 1000, UTC).date()
    user_ids = {key: user.user_id for key, user in users.items()}
    ops = [op for customer in _CUSTOMERS for op in _customer_ops(customer)]
    ops += [_job_op(job, today, user_ids) for job in _JOBS]
    ops += _note_ops()
    for photo in _PHOTOS:
        data = battery_rack_jpeg(photo.caption, photo.faulty_modules)
        key = await _upload(engine, store, f"job-{photo.job}", data)
        ops.append(_photo_op(photo, key, data, today))
    now = wall_ms()
    response = await push(
        engine,
        Principal(BUILTIN_ADMIN_ID, "admin"),
        wire.PushRequest(
            device_id=DEMO_DEVICE,
            ops=[wire.Op(seq=i, ts=now, tc=i, base=0, **op) for i, op in enumerate(ops, 1)],
        ),
        max_clock_skew_ms=300_000,
        technicians=user_store.active_technicians,
    )
    rejected = [r for r in response.results if r.status == "rejected"]
    if rejected:
        raise RuntimeError(f"the demo data was refused: {rejected[0]}")
    return list(users.values())
