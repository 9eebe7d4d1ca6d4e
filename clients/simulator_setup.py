"""The fleet simulator's plumbing: the admin HTTP client, the fleet's plan, its users
and seed data, and photo bytes.

Everything the simulator decides comes from `random.Random` seeded by `--seed`,
so two runs with one seed make the same fleet and the same choices (their timing
differs, and so does what each choice finds in the view).
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

AREAS = ("north", "south", "east", "west")
PROVIDER_AREA = "north"
SERVICE_TYPES = ("installation", "maintenance", "repair", "inspection", "replacement")
PRIORITIES = ("low", "normal", "high", "urgent")
CUSTOMER_TYPES = ("residential", "commercial", "industrial", "utility")
AHEAD_MS = 7 * 60_000  # past the server's 5-minute skew bound: exercises clock_ahead
OTHER_SKEWS_MS = (-4 * 60_000, 2 * 60_000, -10 * 60_000, 3 * 60_000, -90_000)
JOBS_PER_FIELD_USER = 4


class SimulationError(Exception):
    """The simulation could not go on (the server refused its setup, say)."""


def rfc3339(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")


def in_hours(hours: float) -> str:
    return rfc3339(datetime.now(UTC).replace(minute=0, second=0) + timedelta(hours=hours))


class Api:
    """A JSON HTTP client that rides out what may pass: connection errors, 429, 5xx."""

    def __init__(self, url: str, token: str, *, retry_for: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.retry_for = retry_for
        self.http = httpx.Client(
            base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The decoded answer; None for a 404 when `missing_ok`."""
        deadline = time.monotonic() + self.retry_for
        wait = 0.25
        while True:
            try:
                r = self.http.request(method, path, json=body, params=params)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                delay = wait
            else:
                if r.status_code < 300:
                    return r.json() if r.content else None
                if r.status_code == 404 and missing_ok:
                    return None
                if r.status_code != 429 and r.status_code < 500:
                    raise SimulationError(f"{method} {path}: {r.status_code} {r.text[:300]}")
                problem = f"{r.status_code} {r.text[:200]}"
                retry_after = r.headers.get("Retry-After", "")
                delay = max(wait, float(retry_after) if retry_after.isdigit() else 0.0)
            if time.monotonic() + delay > deadline:
                raise SimulationError(f"{method} {path}: gave up after {problem}")
            time.sleep(delay)
            wait = min(wait * 2, 5.0)

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following next_cursor."""
        cursor = None
        while True:
            query = {"limit": 500, **params} | ({"cursor": cursor} if cursor else {})
            page = self.call("GET", path, params=query)
            yield from page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def full_pull(self, device_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """What the server serves this token's user: pull from a null cursor until
        has_more is false, changes applied in order."""
        held: dict[tuple[str, str], dict[str, Any]] = {}
        cursor = None
        while True:
            page = self.call(
                "POST", "/sync/pull", {"device_id": device_id, "cursor": cursor, "limit": 1000}
            )
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change.get("removed"):
                    held.pop(key, None)
                else:
                    held[key] = {**change["data"], "id": change["id"], "version": change["version"]}
            cursor = page["cursor"]
            if not page["has_more"]:
                return held


# --- the plan -------------------------------------------------------------------


@dataclass
class UserPlan:
    key: int
    role: str  # technician, dispatcher, service_provider
    service_areas: list[str] = field(default_factory=list)
    id: str = ""
    token: str = ""


@dataclass
class DevicePlan:
    index: int
    device_id: str
    user: UserPlan
    skew_ms: int
    listens: bool  # holds the socket (Device.listen) while idle and online
    offline_ratio: float  # share of the run spent offline
    cycle_s: float  # one offline stretch and one online stretch
    phase: float  # where in its cycle the device starts, 0..1


def plan_fleet(
    devices: int, offline_ratio: float, minutes: float, seed: int, tag: str
) -> list[DevicePlan]:
    rng = random.Random(f"fleet:{seed}")
    dispatchers = max(1, round(devices * 0.15)) if devices >= 2 else 0
    providers = 1 if devices >= 8 else 0
    roles = ["dispatcher"] * dispatchers + ["service_provider"] * providers
    roles += ["technician"] * (devices - len(roles))
    rng.shuffle(roles)
    users: list[UserPlan] = []
    plans: list[DevicePlan] = []
    cycle = min(600.0, max(8.0, minutes * 60 / 2.5))
    previous_tech: UserPlan | None = None
    for i, role in enumerate(roles):
        if role == "technician" and previous_tech is not None and rng.random() < 0.1:
            user = previous_tech  # a second device of the same technician (phone and tablet)
            previous_tech = None
        else:
            areas = [f"{tag}-{PROVIDER_AREA}"] if role == "service_provider" else []
            user = UserPlan(len(users), role, areas)
            users.append(user)
            previous_tech = user if role == "technician" else None
        field_role = role != "dispatcher"
        listens = rng.random() < (0.34 if role == "dispatcher" else 0.12)
        plans.append(
            DevicePlan(
                index=i,
                device_id=f"sim-{tag}-{role[0]}{i:04d}",
                user=user,
                skew_ms=0,
                listens=listens,
                offline_ratio=offline_ratio if field_role else 0.0,
                cycle_s=cycle * rng.uniform(0.7, 1.3),
                phase=rng.random(),
            )
        )
    # A few clocks off by minutes. The one ahead past the skew bound is a dispatcher's
    # when there is one: a dispatcher can write before its first sync (a job create),
    # so its first push is stamped ahead and meets clock_ahead.
    skewed = rng.sample(plans, max(min(3, devices), devices // 25))
    ahead = next((p for p in plans if p.user.role == "dispatcher"), skewed[0])
    if ahead in skewed:
        skewed.remove(ahead)
    skewed.insert(0, ahead)
    skewed[0].skew_ms = AHEAD_MS
    for plan, skew in zip(skewed[1:], OTHER_SKEWS_MS * len(skewed), strict=False):
        plan.skew_ms = skew
    return plans


def users_of(plans: list[DevicePlan]) -> list[UserPlan]:
    seen: dict[int, UserPlan] = {}
    for plan in plans:
        seen.setdefault(plan.user.key, plan.user)
    return list(seen.values())


def create_users(admin: Api, users: list[UserPlan], tag: str) -> None:
    for user in users:
        made = admin.call(
            "POST",
            "/api/users",
            {
                "email": f"sim-{tag}-{user.key}@sim.example.com",
                "name": f"Sim {user.role} {user.key}",
                "role": user.role,
                "service_areas": user.service_areas,
            },
        )
        user.id = made["id"]
        user.token = admin.call("POST", f"/api/users/{user.id}/tokens", {})["token"]


# --- seed data ------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A customer and its one location."""

    customer_id: str
    location_id: str
    area: str


@dataclass
class World:
    """What every simulated device may refer to: the seed's sites and jobs, and the
    users a job may be assigned to."""

    sites: list[Site]
    job_ids: list[str]
    assignees: list[str]  # user ids of technicians and service providers


def seed_ops(
    tag: str, users: list[UserPlan], devices: int, seed: int
) -> tuple[World, list[tuple[str, str, dict[str, Any]]]]:
    """The seed's creates, as (entity, id, fields), and the world they make."""
    rng = random.Random(f"seed:{seed}")
    ops: list[tuple[str, str, dict[str, Any]]] = []
    sites: list[Site] = []
    for i in range(max(8, devices)):
        site = Site(f"{tag}-c{i}", f"{tag}-l{i}", f"{tag}-{AREAS[i % len(AREAS)]}")
        sites.append(site)
        ops.append(
            (
                "customer",
                site.customer_id,
                {
                    "name": f"Customer {i} {rng.choice(['Storage', 'Grid', 'Farms', 'Labs'])}",
                    "type": rng.choice(CUSTOMER_TYPES),
                    "phone": f"+1555{rng.randrange(10**6):06d}",
                },
            )
        )
        ops.append(
            (
                "location",
                site.location_id,
                {
                    "customer_id": site.customer_id,
                    "address": f"{rng.randrange(1, 999)} Main Street",
                    "city": "Springfield",
                    "service_area": site.area,
                    "lat": round(rng.uniform(-60, 60), 5),
                    "lng": round(rng.uniform(-150, 150), 5),
                },
            )
        )
        if i % 2 == 0:
            ops.append(
                (
                    "contact",
                    f"{tag}-k{i}",
                    {"customer_id": site.customer_id, "name": f"Contact {i}", "role": "owner"},
                )
            )
    assignees = [u.id for u in users if u.role in ("technician", "service_provider")]
    job_ids: list[str] = []

    def job(technician_id: str | None, site: Site) -> None:
        job_id = f"{tag}-j{len(job_ids)}"
        job_ids.append(job_id)
        fields: dict[str, Any] = {
            "title": f"{rng.choice(SERVICE_TYPES).title()} visit {len(job_ids)}",
            "service_type": rng.choice(SERVICE_TYPES),
            "priority": rng.choice(PRIORITIES),
            "customer_id": site.customer_id,
            "location_id": site.location_id,
            "technician_id": technician_id,
        }
        if technician_id is not None:
            fields |= {"status": "scheduled", "scheduled_date": in_hours(rng.randrange(1, 48))}
        ops.append(("job", job_id, fields))

    for assignee in assignees:
        for _ in range(JOBS_PER_FIELD_USER):
            job(assignee, rng.choice(sites))
    in_area = [s for s in sites if s.area == f"{tag}-{PROVIDER_AREA}"]
    for i in range(max(4, devices // 5)):
        job(None, rng.choice(in_area if i % 2 == 0 else sites))
    return World(sites, job_ids, assignees), ops


# --- photos ---------------------------------------------------------------------


def photo_bytes(rng: random.Random) -> tuple[bytes, str]:
    """A small real image (PNG or JPEG) of random colours."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (48, 32), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.randrange(40), rng.randrange(24)
        draw.rectangle((x, y, x + 8, y + 8), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    if rng.random() < 0.5:
        image.save(out, format="PNG")
        return out.getvalue(), "image/png"
    image.save(out, format="JPEG", quality=80)
    return out.getvalue(), "image/jpeg"
