"""The simulated devices: each a thread driving one Python SDK `Device`.

Technicians (and the service provider) go offline for long stretches, write while
offline, and start, hold and complete their jobs, edit descriptions, add notes and
photos. Dispatchers create jobs, schedule, dispatch and reassign them and edit
them. Online devices sync after their writes; some hold the socket while idle
(`Device.listen`), syncing on every poke. Every write is journaled with the seq the
SDK returned, for the exactly-once check.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clients import Device, SyncError
from clients.simulator_setup import (
    PRIORITIES,
    PROVIDER_AREA,
    SERVICE_TYPES,
    DevicePlan,
    World,
    in_hours,
    photo_bytes,
    rfc3339,
)

OPEN = ("unscheduled", "scheduled", "dispatched")
WORDS = ("checked", "replaced", "filter", "valve", "panel", "wiring", "ok", "leak", "noted")


@dataclass(frozen=True)
class Write:
    entity: str
    id: str
    action: str
    fields: dict[str, Any] | None


@dataclass
class Journal:
    """Every write a device made: ops by the seq the SDK returned, photos by id."""

    writes: dict[int, Write] = field(default_factory=dict)
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)


def system_clock(skew_ms: int) -> Callable[[], int]:
    return lambda: time.time_ns() // 1_000_000 + skew_ms


class SimDevice:
    """One device of the fleet, with its journal and figures."""

    def __init__(
        self, plan: DevicePlan, url: str, token: str, path: Path, world: World, seed: int
    ) -> None:
        self.plan = plan
        self.world = world
        self.rng = random.Random(f"device:{seed}:{plan.index}")
        self.device = Device.open(
            url, token, plan.device_id, path, clock=system_clock(plan.skew_ms)
        )
        self.journal = Journal()
        self.sync_ms: list[float] = []
        self.sync_failures = 0
        self.errors: list[str] = []
        self.created_jobs: list[str] = []
        self._made = 0
        self.offline_s = 0.0  # seconds of the run spent offline

    @property
    def ops(self) -> int:
        return len(self.journal.writes) + len(self.journal.photos)

    # --- writes, journaled ------------------------------------------------------

    def create(self, entity: str, entity_id: str, fields: dict[str, Any]) -> None:
        seq = self.device.create(entity, entity_id, fields)
        self._journal(seq, Write(entity, entity_id, "create", dict(fields)))

    def update(self, entity: str, entity_id: str, fields: dict[str, Any]) -> None:
        seq = self.device.update(entity, entity_id, fields)
        self._journal(seq, Write(entity, entity_id, "update", dict(fields)))

    def _journal(self, seq: int, write: Write) -> None:
        if seq in self.journal.writes:
            self.errors.append(f"seq {seq} returned twice")
        self.journal.writes[seq] = write

    def add_photo(self, job_id: str) -> None:
        data, content_type = photo_bytes(self.rng)
        caption = f"photo {len(self.journal.photos) + 1}"
        photo_id = self.device.add_photo(
            job_id, data, content_type, caption=caption, taken_at=rfc3339()
        )
        self.journal.photos[photo_id] = {
            "job_id": job_id,
            "size": len(data),
            "content_type": content_type,
            "caption": caption,
        }

    def new_id(self, kind: str) -> str:
        self._made += 1
        return f"{self.plan.device_id}-{kind}{self._made}"

    # --- sync ---------------------------------------------------------------------

    def sync(self, retry_for: float = 30.0, *, timed: bool = True) -> bool:
        start = time.perf_counter()
        try:
            self.device.sync(retry_for=retry_for)
        except SyncError as exc:
            self.sync_failures += 1
            if not exc.retryable:
                self.errors.append(f"sync: {exc}")
            return False
        if timed:
            self.sync_ms.append((time.perf_counter() - start) * 1000)
        return True

    def listen_for(self, seconds: float) -> None:
        """Hold the socket for that long; the device is used by no other thread meanwhile."""
        stop = threading.Event()

        def listen() -> None:
            try:
                self.device.listen(stop)
            except Exception as exc:  # report, never kill the fleet
                self.errors.append(f"listen: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=listen, name=f"listen-{self.plan.device_id}")
        thread.start()
        stop.wait(seconds)
        stop.set()
        thread.join()

    # --- the run ------------------------------------------------------------------

    def online_at(self, elapsed: float) -> bool:
        plan = self.plan
        if plan.offline_ratio <= 0:
            return True
        at = (elapsed / plan.cycle_s + plan.phase) % 1.0
        return at >= plan.offline_ratio

    def run(self, start: float, end: float) -> None:
        try:
            self._run(start, end)
        except Exception as exc:  # one device's failure is reported, not fatal
            self.errors.append(f"run: {type(exc).__name__}: {exc}")

    def _run(self, start: float, end: float) -> None:
        if self.plan.skew_ms and self.plan.user.role == "dispatcher":
            # Write before the first sync, stamped by the skewed clock alone.
            self.dispatcher_step()
        self.sync()  # the day starts synced: the device learns its jobs
        was_online = True
        role = self.plan.user.role
        while (now := time.monotonic()) < end:
            online = self.online_at(now - start)
            if online and not was_online:
                self.sync()  # back online: catch up
            was_online = online
            wrote = self.dispatcher_step() if role == "dispatcher" else self.field_step()
            if online and wrote:
                self.sync()
            think = (
                self.rng.uniform(1.0, 3.0) if role == "dispatcher" else self.rng.uniform(1.5, 4.5)
            )
            if self.plan.listens:
                think *= 2.5
            think = max(0.0, min(think, end - time.monotonic()))
            if not online:
                self.offline_s += time.monotonic() - now + think
            if online and self.plan.listens and think > 0.5:
                self.listen_for(think)
            else:
                time.sleep(think)

    # --- technicians and service providers ------------------------------------------

    def field_step(self) -> bool:
        """One thing a technician does; False when there was nothing to do."""
        me = self.plan.user.id
        d = self.device
        if self.plan.user.role == "service_provider":
            jobs = d.query("job")  # its own and those in its area: it may write all of them
            unassigned = [j for j in jobs if j.get("technician_id") is None]
            if unassigned and self.rng.random() < 0.15:
                self.update("job", self.rng.choice(unassigned)["id"], {"technician_id": me})
                return True
        else:
            jobs = d.query("job", technician_id=me)
        jobs = [j for j in jobs if j.get("status") != "cancelled"]
        if not jobs:
            return False
        job = self.rng.choice(jobs)
        status = job.get("status")
        choices: list[tuple[float, Callable[[], None]]] = [
            (1.0, lambda: self.update("job", job["id"], {"description": self.sentence()})),
            (2.0, lambda: self.note(job["id"])),
            (0.6, lambda: self.add_photo(job["id"])),
        ]
        if status in OPEN:
            choices.append((3.0, lambda: self.update("job", job["id"], {"status": "in_progress"})))
        elif status == "in_progress":
            done = {"status": "completed", "completed_date": rfc3339()}
            choices.append((2.0, lambda: self.update("job", job["id"], done)))
            choices.append((1.0, lambda: self.update("job", job["id"], {"status": "on_hold"})))
        elif status == "on_hold":
            choices.append((2.0, lambda: self.update("job", job["id"], {"status": "in_progress"})))
        self.pick(choices)()
        return True

    def note(self, job_id: str) -> None:
        self.create("job_note", self.new_id("n"), {"job_id": job_id, "body": self.sentence()})

    def sentence(self) -> str:
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randrange(3, 9))]
        return " ".join(words).capitalize() + f" ({self.plan.device_id})."

    # --- dispatchers ---------------------------------------------------------------------

    def dispatcher_step(self) -> bool:
        rng = self.rng
        d = self.device
        known = self.world.job_ids + self.created_jobs
        job_id = rng.choice(known)
        job = d.get("job", job_id)
        if job is None or rng.random() < 0.2:
            self.create_job()
            return True
        status = job.get("status")
        closed = status in ("completed", "cancelled")
        choices: list[tuple[float, Callable[[], None]]] = [
            (1.0, lambda: self.update("job", job_id, {"description": self.sentence()})),
            (0.6, lambda: self.update("job", job_id, {"priority": rng.choice(PRIORITIES)})),
        ]
        if not closed:
            when = {"scheduled_date": in_hours(rng.randrange(1, 96))}
            if status == "unscheduled":
                when["status"] = "scheduled"
            choices.append((2.0, lambda: self.update("job", job_id, when)))
            choices.append((0.4, lambda: self.reassign(job_id)))
        if status == "scheduled" and job.get("technician_id"):
            choices.append((1.0, lambda: self.update("job", job_id, {"status": "dispatched"})))
        if status == "on_hold":
            choices.append((0.1, lambda: self.update("job", job_id, {"status": "cancelled"})))
        self.pick(choices)()
        return True

    def create_job(self) -> None:
        rng = self.rng
        site = rng.choice(self.world.sites)
        job_id = self.new_id("j")
        unassigned = rng.random() < 0.2
        fields: dict[str, Any] = {
            "title": f"{rng.choice(SERVICE_TYPES).title()} call {job_id[-6:]}",
            "service_type": rng.choice(SERVICE_TYPES + ("emergency",)),
            "priority": rng.choice(PRIORITIES),
            "customer_id": site.customer_id,
            "location_id": site.location_id,
            "technician_id": None if unassigned else rng.choice(self.world.assignees),
            "description": self.sentence(),
        }
        if not unassigned:
            fields |= {"status": "scheduled", "scheduled_date": in_hours(rng.randrange(1, 48))}
        self.create("job", job_id, fields)
        self.created_jobs.append(job_id)

    def reassign(self, job_id: str) -> None:
        self.update("job", job_id, {"technician_id": self.rng.choice(self.world.assignees)})

    def pick(self, choices: list[tuple[float, Callable[[], None]]]) -> Callable[[], None]:
        weights = [w for w, _ in choices]
        return self.rng.choices([c for _, c in choices], weights=weights)[0]


__all__ = ["PROVIDER_AREA", "Journal", "SimDevice", "Write"]
