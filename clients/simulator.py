"""The fleet simulator (docs/sdk.md): `syncserver simulate`.

    syncserver simulate --url URL --token ADMIN_TOKEN --devices N --minutes M
                        [--offline-ratio R] [--seed S] [--state-dir DIR]

It creates its own users (technicians, dispatchers, a service provider with an
area) and, through an admin SDK device, customers, locations, contacts and jobs.
Then N devices built on the Python SDK run for M minutes, each in its own thread
with its own SQLite store (simulator_fleet.py). At the end every device syncs,
twice over (the first round brings every device's last ops to the server, the
second brings them to every device), and the checks of simulator_check.py run:
convergence and exactly once. It prints a summary ending with one line of JSON, and
returns 0 only when nothing was lost, duplicated or diverged.

Figures: `ops` counts the writes of the N devices (creates, updates, photos; the
seed's creates apart); `ops_per_s` divides them by the run's seconds;
`sync_p50_ms`/`sync_p99_ms` are the wall times of the devices' own `sync` calls
during the run (those made inside `listen` on pokes are not timed);
`conflicts` is the notices delivered to the devices (the SDK's `notices()`);
`rejected` the ops and photos the server refused (the SDK's `rejected()`).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clients import Device
from clients.simulator_check import (
    DeviceRecord,
    check_exactly_once,
    differences,
    fetch_server_log,
    replica_of,
)
from clients.simulator_fleet import Journal, SimDevice, Write
from clients.simulator_rss import RssSampler
from clients.simulator_setup import (
    Api,
    SimulationError,
    create_users,
    plan_fleet,
    seed_ops,
    users_of,
)

KEYS = (
    "devices",
    "users",
    "ops",
    "ops_per_s",
    "sync_p50_ms",
    "sync_p99_ms",
    "conflicts",
    "rejected",
    "lost",
    "duplicated",
    "diverged",
    "server_rss_peak_mb",
)
FINAL_RETRY_S = 300.0


@dataclass
class Options:
    url: str
    token: str
    devices: int
    minutes: float
    offline_ratio: float = 0.3
    seed: int = 1
    state_dir: Path | None = None


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[k], 1)


def simulate(options: Options, echo: Callable[[str], None] = print) -> int:
    """Run the simulation; the process's exit code."""
    if options.state_dir is not None:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        return _simulate(options, options.state_dir, echo)
    with tempfile.TemporaryDirectory(prefix="fieldsync-sim-") as tmp:
        return _simulate(options, Path(tmp), echo)


def _simulate(options: Options, state_dir: Path, echo: Callable[[str], None]) -> int:
    url = options.url.rstrip("/")
    tag = uuid.uuid4().hex[:6]  # names only: several runs may share one server
    admin = Api(url, options.token)
    rss = RssSampler(url)
    rss.start()
    fleet: list[SimDevice] = []
    setup: Device | None = None
    try:
        plans = plan_fleet(
            options.devices, options.offline_ratio, options.minutes, options.seed, tag
        )
        users = users_of(plans)
        t0 = time.monotonic()
        create_users(admin, users, tag)
        world, creates = seed_ops(tag, users, options.devices, options.seed)
        setup = Device.open(url, options.token, f"sim-{tag}-setup", state_dir / "setup.db")
        setup_journal = Journal()
        for entity, entity_id, fields in creates:
            seq = setup.create(entity, entity_id, fields)
            setup_journal.writes[seq] = Write(entity, entity_id, "create", fields)
        setup.sync(retry_for=FINAL_RETRY_S)
        echo(
            f"setup: {len(users)} users, {len(creates)} seed creates "
            f"({len(world.job_ids)} jobs) in {time.monotonic() - t0:.1f} s"
        )
        for plan in plans:
            path = state_dir / f"{plan.device_id}.db"
            fleet.append(SimDevice(plan, url, plan.user.token, path, world, options.seed))

        # The run.
        start = time.monotonic()
        end = start + options.minutes * 60
        threads = [
            threading.Thread(target=d.run, args=(start, end), name=d.plan.device_id) for d in fleet
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        run_s = time.monotonic() - start
        ops = sum(d.ops for d in fleet)
        echo(f"run: {len(fleet)} devices wrote {ops} ops in {run_s:.1f} s")

        # Every device syncs: once to push its last ops, once more to pull everyone's.
        t1 = time.monotonic()
        everyone: list[tuple[str, Device]] = [(d.plan.device_id, d.device) for d in fleet]
        everyone.append((f"sim-{tag}-setup", setup))
        unsynced = _final_syncs(everyone)
        unsynced = _final_syncs(everyone)
        echo(f"final syncs: {time.monotonic() - t1:.1f} s, {len(unsynced)} failed")

        # Convergence.
        tokens = {d.plan.device_id: d.plan.user.token for d in fleet}
        tokens[f"sim-{tag}-setup"] = options.token
        diverged, first_diff, compared = _converged(url, everyone, tokens, unsynced)
        for line in first_diff[:8]:
            echo(f"  diverged: {line}")

        # Exactly once.
        records = {d.plan.device_id: DeviceRecord(d.journal, d.device.rejected()) for d in fleet}
        records[f"sim-{tag}-setup"] = DeviceRecord(setup_journal, setup.rejected())
        job_ids = set(world.job_ids)
        for d in fleet:
            for w in d.journal.writes.values():
                job_ids.add(w.id if w.entity == "job" else str((w.fields or {}).get("job_id")))
            job_ids.update(str(p["job_id"]) for p in d.journal.photos.values())
        server_log = fetch_server_log(admin, records, job_ids)
        once = check_exactly_once(records, server_log)
        for line in once.problems[:8]:
            echo(f"  exactly-once: {line}")

        conflicts = sum(len(d.device.notices()) for d in fleet)
        rejected = sum(len(r.rejected) for r in records.values())
        summary = admin.call("GET", "/api/conflicts/summary") or {}
        server_notices = sum((summary.get("by_status") or {}).values())
        sync_ms = [ms for d in fleet for ms in d.sync_ms]
        failures = sum(d.sync_failures for d in fleet)
        errors = [f"{d.plan.device_id}: {e}" for d in fleet for e in d.errors]
        peak = rss.stop()
        result: dict[str, Any] = {
            "devices": len(fleet),
            "users": len(users),
            "ops": ops,
            "ops_per_s": round(ops / run_s, 1) if run_s > 0 else 0.0,
            "sync_p50_ms": percentile(sync_ms, 50),
            "sync_p99_ms": percentile(sync_ms, 99),
            "conflicts": conflicts,
            "rejected": rejected,
            "lost": once.lost,
            "duplicated": once.duplicated,
            "diverged": diverged,
            "server_rss_peak_mb": peak,
        }
        roles = {r: sum(1 for p in plans if p.user.role == r) for r in _ROLES}
        echo(
            "fleet: "
            + ", ".join(f"{n} {r}" for r, n in roles.items())
            + f"; {sum(1 for p in plans if p.listens)} listening, "
            + "skewed clocks "
            + ", ".join(f"{p.skew_ms // 1000:+d} s" for p in plans if p.skew_ms)
        )
        field = [d for d in fleet if d.plan.offline_ratio > 0]
        if field:
            share = sum(d.offline_s for d in field) / (run_s * len(field))
            echo(f"offline: field devices spent {share:.0%} of the run offline")
        echo(
            f"syncs: {len(sync_ms)} timed, p50 {result['sync_p50_ms']} ms, "
            f"p99 {result['sync_p99_ms']} ms; {failures} failed during the run"
        )
        reasons = Counter(
            f"{(r.get('op') or {}).get('entity')} {(r.get('error') or {}).get('code')}"
            for rec in records.values()
            for r in rec.rejected
        )
        echo(
            f"conflicts: {conflicts} notices delivered to the devices "
            f"({server_notices} notices on the server in all); rejected: {rejected}"
            + (f" ({', '.join(f'{k}: {n}' for k, n in reasons.most_common())})" if reasons else "")
        )
        for line in errors[:5]:
            echo(f"  device error: {line}")
        echo(
            f"checks: lost {once.lost}, duplicated {once.duplicated}, diverged {diverged} "
            f"of {len(everyone)} devices (the seed's device included; {compared} entities "
            f"compared, {sum(len(h) for h in server_log.history.values())} job ops in "
            f"{len(server_log.history)} histories)"
        )
        echo(json.dumps({k: result[k] for k in KEYS}))
        return 0 if once.lost == once.duplicated == diverged == 0 else 1
    finally:
        rss.stop()
        for d in fleet:
            d.device.close()
        if setup is not None:
            setup.close()
        admin.close()


_ROLES = ("technician", "service_provider", "dispatcher")


def _final_syncs(devices: list[tuple[str, Device]]) -> set[str]:
    """Sync every device, 32 at a time; the ids of those that failed."""

    def one(item: tuple[str, Device]) -> str | None:
        device_id, device = item
        try:
            device.sync(retry_for=FINAL_RETRY_S)
        except Exception:
            return device_id
        return None

    with ThreadPoolExecutor(min(32, len(devices))) as pool:
        return {r for r in pool.map(one, devices) if r is not None}


def _converged(
    url: str, devices: list[tuple[str, Device]], tokens: dict[str, str], unsynced: set[str]
) -> tuple[int, list[str], int]:
    """How many devices' replicas differ from a fresh full pull of their user, the
    first differences, and how many entities were compared."""
    check_tag = uuid.uuid4().hex[:4]

    def one(item: tuple[str, Device]) -> tuple[list[str], int]:
        device_id, device = item
        if device_id in unsynced or device.pending():
            return [f"{device_id}: {device.pending()} writes pending after the final sync"], 0
        api = Api(url, tokens[device_id])
        try:
            served = api.full_pull(f"{device_id[:55]}-v{check_tag}")
        finally:
            api.close()
        lines = differences(replica_of(device), served)
        return [f"{device_id}: {line}" for line in lines], len(served)

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(one, devices))
    return (
        sum(1 for lines, _ in found if lines),
        [line for lines, _ in found for line in lines],
        sum(n for _, n in found),
    )


def main(options: Options) -> int:
    try:
        return simulate(options)
    except SimulationError as exc:
        print(f"simulate: {exc}")
        return 2
