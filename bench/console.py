"""The dispatcher's job board (/ui/#/jobs) in headless Chromium, with 100,000 jobs.

    python -m bench.console [--database-url URL] [--jobs 100000]

A server of its own (one worker) on a fresh database (embedded PostgreSQL unless
`--database-url`). Seeding, timed apart and not part of any figure: 200
technicians (POST /api/users, admin token), a dispatcher with a token, then
`--customers` (default a fifth of `--jobs`: 20,000) customers with one location
each, pushed as creates in batches of 1,000 ops from 2 office devices, then
`--jobs` jobs from 4 office devices (bench/ingest.py's pusher, 4 clients), then
VACUUM ANALYZE. Jobs are spread over the 7 statuses (completed 40%, scheduled
20%, dispatched 15%, unscheduled 8%, in progress 7%, on hold 5%, cancelled 5%),
6 service types, 4 priorities (half normal), the 200 technicians and a year of
scheduled dates that follow the status as on a real board: completed and
cancelled in the past half year, scheduled and dispatched in the next half year,
in progress and on hold within a week of today, unscheduled without a date or
technician. Titles name the service type, a part and the job's index.

Debian's Chromium (/usr/bin/chromium, the tests' executable and arguments from
tests/browser/conftest.py), one browser, one new context. Every time is taken
inside the page with performance.now(). "Rendered" is the moment a
MutationObserver sees the table `Jobs` with aria-busy="false" (board.js: the
rows shown answer the current filters and page) and its rows in the DOM.

(a) Cold, while the dispatcher's device pulls its backlog (everything a
    dispatcher may see: every customer, location and job, pages of 1,000 into
    IndexedDB):
    - sign-in: /ui/#/jobs, the token in `Token`, a click on `Sign in`; from that
      click (a capturing listener) to the board rendered with 50 rows. One
      sample.
    - renders during the catch-up: a second tab of the same browser (the same
      device; it signs in through the form too, the session being per tab)
      navigates to /ui/?cold=<i>#/jobs again and again while the first tab's
      sync pulls; each from the new document's navigation start to the board
      rendered with 50 rows. As many samples as the catch-up lasts for, none
      discarded.
    - the catch-up: from the `Sign in` click to the device's store
      `fieldsync:<device id>` holding the record the server wrote last (polled
      every 250 ms in the first tab straight through indexedDB; the pull goes in
      version order and applies each page in one transaction), then its replica
      counted: every customer, location and job. The store's size is
      navigator.storage.estimate() once it has caught up.
(b) Settled: once caught up, the status line says `All changes synced` and the
    page makes no request for 2 s (networkidle, then 2 s, then networkidle).
    Each figure discards its first 3 samples as warm-up.
    - first render: `--loads` fresh navigations of the first tab to
      /ui/?run=<i>#/jobs (a new document each, served through the service
      worker), from the navigation start (performance.now() = 0) to the board
      rendered with 50 rows (an init script installs the observer before the
      app's scripts run); after each, the page's own sync and requests finish
      (networkidle) before the next.
    - filter change: `--filters` changes of the `Status` select
      (#board-status) cycling through the 7 statuses, so each is a new query;
      from the `change` event (a capturing listener on the window) to the first
      mutation after the table went aria-busy="true" that leaves it
      aria-busy="false"; every row shown is checked to have the status chosen
      and there are 50 of them (or `No job matches`).
    - page turn: from no filter, `Next page` `--depth` times then `Previous
      page` as many times, repeated until `--pages` Next clicks are done; from
      the `click` event (capturing listener) to aria-busy="false" as above,
      checking the `Page N` label, 50 rows, and that a page shows the same jobs
      each time and not its neighbour's. The figure is both buttons together,
      with each apart beside it.

Beside each figure, its parts, from the browser's resource timing of the
/api/jobs request the rendered rows answer: when the request started after the
figure's start, its time to first byte and whole fetch, and the time from its
response's end to rendered (the JSON, the customers' names read from the
device's store, Preact's render). The first render also has its phases (median
and p95, ms after navigation start): the document's response, the app's modules
(those fetched before the device opened) and every module, the device open (the
status line in the DOM), the board mounted (its Status select in the DOM), the
API request's start and end, rendered. Then, as diagnostics and not figures: the
same fresh navigations with the requests bypassing the service worker
(`--no-sw-loads`, DevTools' Network.setBypassServiceWorker); the same reads from
Python with the dispatcher's token and nothing else running (p50/p99 of 20
each); and EXPLAIN ANALYZE of the first page for each status.

Each figure: p50, p95, p99, max, mean and every sample, in ms; p99 is held
against the issue's targets (first render 500 ms, filter change 300 ms, page
turn 300 ms). Prints the figures and writes bench/results/console.json with the
Chromium version, the commit, the machine, the seeding time, the catch-up time, the store's
size, and the 1-minute load average before and after (the server, PostgreSQL,
Chromium and the bench share the machine's cores).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from bench import ingest
from bench.common import (
    ADMIN_TOKEN,
    Record,
    create_ops,
    fresh_database,
    percentile,
    postgres,
    server,
    write_result,
)
from bench.workload import DeviceStream
from syncserver.storage import jobs as job_sql
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

TECHNICIANS = 200
BATCH = 1000
PAGE = 50  # the board's page size (board.js)
WARMUP = 3
TARGETS_MS = {"first_render": 500, "filter_change": 300, "page_turn": 300}
STATUSES = [
    "unscheduled",
    "scheduled",
    "dispatched",
    "in_progress",
    "on_hold",
    "completed",
    "cancelled",
]
STATUS_WEIGHTS = [8, 20, 15, 7, 5, 40, 5]
# A year of dates as a real board has them, by status (days from today, as range()'s
# arguments): done or cancelled in the past half year, planned in the next half
# year, under way around today; unscheduled jobs have no date (nor technician).
DAYS = {
    "unscheduled": (0, 1),
    "scheduled": (0, 183),
    "dispatched": (0, 183),
    "in_progress": (-7, 8),
    "on_hold": (-7, 8),
    "completed": (-182, 1),
    "cancelled": (-182, 1),
}
SERVICE_TYPES = ["installation", "maintenance", "repair", "inspection", "replacement", "emergency"]
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
WORDS = ["inverter", "battery rack", "panel array", "meter", "fuse box", "heat pump", "cabling"]
CITIES = ["Elmwood", "Birchfield", "Ashby", "Oakridge", "Maple Bay", "Fernhill", "Stonebridge"]

# Installed in every document of the context before the app's scripts run. Records,
# by performance.now() (time 0: the document's navigation start), when the device
# is open (the status line exists), when the board is mounted (its Status select
# exists) and when the table `Jobs` first has aria-busy="false" with `wanted` rows.
RENDER_WATCH = """
(() => {
  const wanted = %d;
  const marks = { device_open: null, board_mounted: null, rendered: null };
  window.__render = marks;
  const observer = new MutationObserver(() => {
    const now = performance.now();
    if (marks.device_open === null && document.querySelector('[role="status"]')) {
      marks.device_open = now;
    }
    if (marks.board_mounted === null && document.getElementById("board-status")) {
      marks.board_mounted = now;
    }
    const table = document.querySelector('table[aria-label="Jobs"]');
    if (table && table.getAttribute("aria-busy") === "false"
        && table.tBodies[0].rows.length >= wanted) {
      marks.rendered = now;
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true,
    attributeFilter: ["aria-busy"] });
})();
"""

# Arms one action on the board: its start is the first `eventType` event (a capturing
# listener on the window) whose target is inside `selector` (and, for a button,
# whose text is `text`); its end is the first mutation after the table `Jobs` went
# aria-busy="true" that leaves it aria-busy="false": the rows then answer the new
# filters or page (board.js). Records the rows shown, and clears the resource
# timings so the action's /api/jobs request is easy to find.
ARM_ACTION = """
([eventType, selector, text]) => {
  performance.clearResourceTimings();
  const act = { start: null, busy: null, done: null, rows: null, ids: null, statuses: null,
    empty: false, page_label: null };
  window.__act = act;
  const onEvent = (event) => {
    if (act.start !== null || !(event.target instanceof Element)) return;
    const el = event.target.closest(selector);
    if (el === null || (text !== null && el.textContent.trim() !== text)) return;
    act.start = performance.now();
  };
  addEventListener(eventType, onEvent, { capture: true });
  const observer = new MutationObserver(() => {
    if (act.start === null) return;
    const table = document.querySelector('table[aria-label="Jobs"]');
    if (!table) return;
    if (table.getAttribute("aria-busy") === "true") {
      if (act.busy === null) act.busy = performance.now();
      return;
    }
    if (act.busy === null) return;
    act.done = performance.now();
    observer.disconnect();
    removeEventListener(eventType, onEvent, { capture: true });
    const rows = [...table.tBodies[0].rows];
    act.rows = rows.length;
    act.ids = rows.map((row) => row.cells[0].textContent);
    act.statuses = rows.map((row) => row.querySelector(".badge")?.className ?? "");
    act.empty = document.querySelector("p.empty") !== null;
    act.page_label = [...document.querySelectorAll("span")]
      .map((s) => s.textContent).find((t) => /^Page \\d+$/.test(t)) ?? null;
  });
  observer.observe(document.getElementById("main") ?? document.body, { subtree: true,
    childList: true, characterData: true, attributes: true, attributeFilter: ["aria-busy"] });
}
"""

# The board's /api/jobs request that the rendered rows answer: the last one to end
# before `end`, started at or after `start` (ms, performance.now()). Its timing, ms:
# request start after `start`, time to first byte, whole fetch, and from its
# response's end to `end` (JSON, the customers' names from the device's store,
# Preact's render).
API_TIMING = """
([start, end]) => {
  const hits = performance.getEntriesByType("resource")
    .filter((r) => new URL(r.name).pathname === "/api/jobs" && r.startTime >= start
      && r.responseEnd <= end + 0.5)
    .sort((a, b) => a.responseEnd - b.responseEnd);
  const r = hits[hits.length - 1];
  if (!r) return null;
  return { requests: hits.length, request_start: r.startTime - start,
    ttfb: r.responseStart - r.requestStart, fetch: r.responseEnd - r.startTime,
    after_response: end - r.responseEnd, bytes: r.encodedBodySize };
}
"""

# Polls the device's IndexedDB store (opened without a version: it exists already)
# every 250 ms for the replica record of the entity the server wrote last (the pull
# is in version order and applies a page in one transaction, so once it is there
# the replica holds everything). Records when (performance.now()), then counts the
# replica's records, and its jobs.
CATCH_UP_WATCH = """
([name, entity, id]) => {
  const w = { done: null, count: null, jobs: null, polls: 0, error: null };
  window.__catchup = w;
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error); });
  (async () => {
    const db = await req(indexedDB.open(name));
    for (;;) {
      const store = db.transaction("replica", "readonly").objectStore("replica");
      w.polls += 1;
      if (await req(store.get([entity, id]))) break;
      await new Promise((ok) => setTimeout(ok, 250));
    }
    w.done = performance.now();
    const store = db.transaction("replica", "readonly").objectStore("replica");
    w.count = await req(store.count());
    w.jobs = await req(store.index("kind").count("job"));
    db.close();
  })().catch((e) => { w.error = String(e); });
}
"""


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "samples": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
        "mean_ms": round(statistics.fmean(values), 1),
        "runs_ms": [round(v, 1) for v in values],
    }


def short(values: list[float]) -> dict[str, float]:
    """p50/p99/max without the runs: for the parts of a figure."""
    return {
        "p50_ms": round(percentile(values, 50), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


def parts(timings: list[dict[str, Any] | None]) -> dict[str, Any]:
    """The API's share of a figure's samples, from the browser's resource timing."""
    found = [t for t in timings if t is not None]
    if not found:
        return {}
    return {
        "with_timing": len(found),
        "api_requests_per_sample_max": max(t["requests"] for t in found),
        "request_start_after_start": short([t["request_start"] for t in found]),
        "api_ttfb": short([t["ttfb"] for t in found]),
        "api_fetch": short([t["fetch"] for t in found]),
        "after_response_to_rendered": short([t["after_response"] for t in found]),
        "response_bytes_p50": round(statistics.median(t["bytes"] for t in found)),
    }


# --- seeding ---------------------------------------------------------------------


def create_users(url: str) -> tuple[list[str], str]:
    """200 technicians (no tokens), and a dispatcher with a token."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    techs = []
    with httpx.Client(base_url=url, headers=admin, timeout=60) as http:
        for i in range(TECHNICIANS):
            r = http.post(
                "/api/users",
                json={
                    "email": f"tech-{i:03d}-{uuid.uuid4().hex[:6]}@bench.io",
                    "name": f"Technician {i + 1:03d}",
                    "role": "technician",
                },
            )
            r.raise_for_status()
            techs.append(str(r.json()["id"]))
        r = http.post(
            "/api/users",
            json={
                "email": f"dispatch-{uuid.uuid4().hex[:8]}@bench.io",
                "name": "Dana Dispatcher",
                "role": "dispatcher",
            },
        )
        r.raise_for_status()
        r = http.post(f"/api/users/{r.json()['id']}/tokens", json={})
        r.raise_for_status()
        return techs, str(r.json()["token"])


def _streams(groups: list[list[Record]], devices: int, prefix: str, ts: int) -> list[DeviceStream]:
    """Groups of records dealt round-robin over `devices` office devices, as creates
    (a group's records stay in order on one device)."""
    streams = []
    for d in range(devices):
        records = [record for group in groups[d::devices] for record in group]
        ops = create_ops(records, ts)
        batches = [ops[i : i + BATCH] for i in range(0, len(ops), BATCH)]
        streams.append(DeviceStream(f"{prefix}-{d}-{uuid.uuid4().hex[:6]}", batches))
    return streams


def seed(url: str, database_url: str, jobs: int, customers: int) -> dict[str, Any]:
    """Users, then customers with a location each, then jobs, pushed as creates from
    office devices in batches of 1,000; then VACUUM ANALYZE, as after any bulk load."""
    start = time.perf_counter()
    techs, token = create_users(url)
    users_s = time.perf_counter() - start
    rng = random.Random(21)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    sites: list[list[Record]] = []
    for c in range(customers):
        cid, lid = f"cu{c:05d}", f"lo{c:05d}"
        customer: Record = (
            "customer",
            cid,
            {
                "name": f"{rng.choice(['Nordic', 'Baltic', 'Green', 'Alder'])} "
                f"{rng.choice(['Energy', 'Storage', 'Farms', 'Homes'])} {c}",
                "type": rng.choice(["commercial", "residential"]),
                "phone": f"+46 8 555 {c % 10000:04d}",
            },
        )
        location: Record = (
            "location",
            lid,
            {
                "customer_id": cid,
                "address": f"Birch Lane {c % 400 + 1}",
                "postal_code": f"{10000 + c % 90000}",
                "city": rng.choice(CITIES),
                "lat": 59.0 + rng.random(),
                "lng": 17.5 + rng.random(),
            },
        )
        sites.append([customer, location])
    work: list[list[Record]] = []
    for j in range(jobs):
        c = rng.randrange(customers)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        when = today + timedelta(
            days=rng.randrange(*DAYS[status]),
            hours=rng.randrange(7, 18),
            minutes=rng.choice([0, 15, 30, 45]),
        )
        service = rng.choice(SERVICE_TYPES)
        work.append(
            [
                (
                    "job",
                    f"job{j:06d}",
                    {
                        "title": f"{service.title()}: {rng.choice(WORDS)} #{j}",
                        "description": "Check the {} and the {}.".format(*rng.sample(WORDS, 2)),
                        "status": status,
                        "service_type": service,
                        "priority": rng.choice(PRIORITIES),
                        "scheduled_date": None if status == "unscheduled" else iso(when),
                        "customer_id": f"cu{c:05d}",
                        "location_id": f"lo{c:05d}",
                        "technician_id": None if status == "unscheduled" else rng.choice(techs),
                    },
                )
            ]
        )
    ts = int(time.time() * 1000) - 3_600_000
    # Each customer's location follows it on the same device; the jobs wait until
    # every customer and location is in.
    pushed_sites = ingest.run(url, ADMIN_TOKEN, _streams(sites, 2, "office-sites", ts), clients=2)
    pushed_jobs = ingest.run(url, ADMIN_TOKEN, _streams(work, 4, "office-jobs", ts), clients=4)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        rows = conn.execute(
            "SELECT entity, count(*) FROM entities WHERE NOT deleted GROUP BY entity"
        ).fetchall()
        counts = {str(entity): int(n) for entity, n in rows}
        last = conn.execute(
            "SELECT entity, id FROM entities ORDER BY version DESC LIMIT 1"
        ).fetchone()
        assert last is not None
    want = {"customer": customers, "location": customers, "job": jobs}
    if counts != want:
        raise RuntimeError(f"seeded {counts}, not {want} (refused ops?)")
    return {
        "token": token,
        "last_written": [str(last[0]), str(last[1])],
        "counts": counts,
        "technicians": TECHNICIANS,
        "seconds": round(time.perf_counter() - start, 1),
        "users_seconds": round(users_s, 1),
        "sites_ops_per_s": pushed_sites["ops_per_s"],
        "jobs_ops_per_s": pushed_jobs["ops_per_s"],
    }


# --- the browser -------------------------------------------------------------------


def sign_in_form(page: Page, token: str) -> None:
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def wait_rendered(page: Page, timeout_ms: float = 60_000) -> dict[str, Any]:
    page.wait_for_function("() => window.__render?.rendered != null", timeout=timeout_ms)
    marks: dict[str, Any] = page.evaluate(
        """() => {
          const marks = window.__render;
          const js = performance.getEntriesByType("resource").filter((r) =>
            /[.]m?js$/.test(new URL(r.name).pathname) && r.responseEnd <= marks.rendered);
          const end = (list) => Math.max(0, ...list.map((r) => r.responseEnd));
          return { ...marks,
            response_end: performance.getEntriesByType("navigation")[0]?.responseEnd ?? null,
            app_modules_loaded: end(js.filter((r) => r.startTime < marks.device_open)),
            modules_loaded: end(js),
          };
        }"""
    )
    marks["api"] = page.evaluate(API_TIMING, [0, marks["rendered"]])
    if marks["api"] is not None:
        marks["api_start"] = marks["api"]["request_start"]
        marks["api_end"] = marks["api"]["request_start"] + marks["api"]["fetch"]
    return marks


def cold(context: BrowserContext, url: str, token: str, seeded: dict[str, Any]) -> dict[str, Any]:
    """(a): sign-in, the first render while the device's catch-up runs, more renders in
    a second tab during it, and the catch-up's time."""
    page = context.new_page()
    page.goto(url + "/ui/#/jobs")
    page.get_by_label("Token").fill(token)
    page.evaluate(
        """() => addEventListener("click", (e) => {
          if (e.target.closest("button")?.textContent.trim() === "Sign in"
              && window.__signIn === undefined) window.__signIn = performance.now();
        }, { capture: true })"""
    )
    page.get_by_role("button", name="Sign in").click()
    marks = wait_rendered(page, 120_000)
    clicked = float(page.evaluate("() => window.__signIn"))
    first = {
        "sign_in_to_rendered_ms": round(marks["rendered"] - clicked, 1),
        "sign_in_to_device_open_ms": round(marks["device_open"] - clicked, 1),
        "sign_in_to_board_mounted_ms": round(marks["board_mounted"] - clicked, 1),
        "api": page.evaluate(API_TIMING, [clicked, marks["rendered"]]),
    }
    # The device's store exists once the status line shows (the device is open).
    user_id = page.evaluate("() => JSON.parse(sessionStorage.getItem('fieldsync.session')).me.id")
    device_id = page.evaluate(f"() => localStorage.getItem('fieldsync.device.{user_id}')")
    entity, entity_id = seeded["last_written"]
    page.evaluate(CATCH_UP_WATCH, [f"fieldsync:{device_id}", entity, entity_id])

    # A second tab of the same browser (the same device): fresh navigations to the
    # board while the first tab's sync pulls the backlog. Signing in there too (the
    # session is per tab) finds the same device id.
    other = context.new_page()
    other.goto(url + "/ui/#/jobs")
    sign_in_form(other, token)
    wait_rendered(other, 120_000)
    renders: list[float] = []
    timings: list[dict[str, Any] | None] = []
    progress: list[int] = []
    i = 0
    while page.evaluate("() => window.__catchup.done") is None and len(renders) < 300:
        other.goto(f"{url}/ui/?cold={i}#/jobs")
        got = wait_rendered(other, 120_000)
        renders.append(got["rendered"])
        timings.append(got["api"])
        progress.append(int(page.evaluate("() => window.__catchup.polls")))
        i += 1
        other.wait_for_timeout(250)
    other.close()
    page.wait_for_function("() => window.__catchup.count !== null", timeout=600_000)
    caught = page.evaluate("() => window.__catchup")
    if caught["error"]:
        raise RuntimeError(f"watching the store failed: {caught['error']}")
    total = sum(seeded["counts"].values())
    if caught["count"] != total or caught["jobs"] != seeded["counts"]["job"]:
        raise RuntimeError(f"the replica holds {caught}, not {total} records")
    return {
        "page": page,
        "device_id": device_id,
        "first_render_after_sign_in": first,
        "catch_up_s": round((caught["done"] - clicked) / 1000, 1),
        "replica_records": caught["count"],
        "replica_jobs": caught["jobs"],
        "renders_during_catch_up": (
            summary(renders) | {"api": parts(timings)} if renders else {"samples": 0}
        ),
    }


def settle(page: Page) -> None:
    """The device has caught up: the status line says `All changes synced` and the
    page makes no request for 2 s."""
    expect(page.get_by_role("status")).to_contain_text("All changes synced", timeout=120_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(2000)
    page.wait_for_load_state("networkidle")


def settled_loads(page: Page, url: str, loads: int, tag: str = "run") -> dict[str, Any]:
    renders: list[float] = []
    timings: list[dict[str, Any] | None] = []
    phases: dict[str, list[float]] = {
        "response_end": [],
        "app_modules_loaded": [],
        "modules_loaded": [],
        "device_open": [],
        "board_mounted": [],
        "api_start": [],
        "api_end": [],
        "rendered": [],
    }
    for i in range(loads):
        page.goto(f"{url}/ui/?{tag}={i}#/jobs")
        got = wait_rendered(page)
        # Let the sync this load started (and the technicians' list) finish.
        page.wait_for_load_state("networkidle")
        if i < WARMUP:
            continue
        renders.append(got["rendered"])
        timings.append(got["api"])
        for name, values in phases.items():
            if got.get(name) is not None:
                values.append(got[name])
    return summary(renders) | {
        "warmup_runs": WARMUP,
        "api": parts(timings),
        "phases_p50_ms": {k: round(percentile(v, 50), 1) for k, v in phases.items()},
        "phases_p95_ms": {k: round(percentile(v, 95), 1) for k, v in phases.items()},
    }


def loads_without_service_worker(context: BrowserContext, page: Page, url: str, loads: int) -> Any:
    """A diagnostic, not a figure: the same fresh navigations with the page's requests
    bypassing the service worker (DevTools' Network.setBypassServiceWorker), to see
    its share of the first render."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setBypassServiceWorker", {"bypass": True})
    try:
        got = settled_loads(page, url, loads, tag="nosw")
        workers = page.evaluate(
            "() => performance.getEntriesByType('resource').filter((r) => r.workerStart > 0).length"
        )
        return got | {"requests_through_the_worker_in_last_load": workers}
    finally:
        cdp.send("Network.setBypassServiceWorker", {"bypass": False})
        cdp.detach()


def act(page: Page, arm: list[Any], do: Any) -> dict[str, Any]:
    page.evaluate(ARM_ACTION, arm)
    do()
    page.wait_for_function("() => window.__act.done !== null", timeout=60_000)
    got: dict[str, Any] = page.evaluate("() => window.__act")
    got["api"] = page.evaluate(API_TIMING, [got["start"], got["done"]])
    return got


def filter_changes(page: Page, url: str, changes: int) -> dict[str, Any]:
    page.goto(f"{url}/ui/?filters#/jobs")
    wait_rendered(page)
    page.wait_for_load_state("networkidle")
    times: list[float] = []
    timings: list[dict[str, Any] | None] = []
    by_status: dict[str, list[float]] = {status: [] for status in STATUSES}
    empty = 0
    for i in range(changes):
        status = STATUSES[i % len(STATUSES)]
        got = act(
            page,
            ["change", "#board-status", None],
            lambda s=status: page.select_option("#board-status", s),
        )
        wrong = [c for c in got["statuses"] if c != f"badge status-{status}"]
        if wrong or not (got["rows"] == PAGE or (got["rows"] == 0 and got["empty"])):
            raise RuntimeError(f"status {status}: {got['rows']} rows, {wrong[:3]}")
        empty += got["rows"] == 0
        if i < WARMUP:
            continue
        times.append(got["done"] - got["start"])
        timings.append(got["api"])
        by_status[status].append(got["done"] - got["start"])
    return summary(times) | {
        "warmup_runs": WARMUP,
        "statuses": STATUSES,
        "by_status": {k: short(v) for k, v in by_status.items() if v},
        "empty_results": empty,
        "api": parts(timings),
    }


def page_turns(page: Page, url: str, turns: int, depth: int) -> dict[str, Any]:
    page.goto(f"{url}/ui/?pages#/jobs")
    first = wait_rendered(page)
    del first
    page.wait_for_load_state("networkidle")
    ids: dict[int, list[str]] = {
        1: page.evaluate(
            """() => [...document.querySelector('table[aria-label="Jobs"]').tBodies[0].rows]
                .map((row) => row.cells[0].textContent)"""
        )
    }
    where = 1
    results: dict[str, list[float]] = {"Next page": [], "Previous page": []}
    timings: dict[str, list[dict[str, Any] | None]] = {"Next page": [], "Previous page": []}
    done = 0
    while len(results["Next page"]) < turns - WARMUP:
        for button in ["Next page"] * depth + ["Previous page"] * depth:
            got = act(
                page,
                ["click", "button", button],
                lambda b=button: page.get_by_role("button", name=b).click(),
            )
            where += 1 if button == "Next page" else -1
            if got["page_label"] != f"Page {where}" or got["rows"] != PAGE:
                raise RuntimeError(f"{button}: {got['page_label']}, {got['rows']} rows")
            if where in ids and ids[where] != got["ids"]:
                raise RuntimeError(f"page {where} shows other jobs than before")
            if got["ids"] == ids.get(where - 1) or got["ids"] == ids.get(where + 1):
                raise RuntimeError(f"page {where} shows its neighbour's jobs")
            ids[where] = got["ids"]
            done += 1
            if done <= WARMUP:
                continue
            results[button].append(got["done"] - got["start"])
            timings[button].append(got["api"])
    both = results["Next page"] + results["Previous page"]
    return summary(both) | {
        "warmup_runs": WARMUP,
        "depth": depth,
        "next_page": summary(results["Next page"]) | {"api": parts(timings["Next page"])},
        "previous_page": summary(results["Previous page"])
        | {"api": parts(timings["Previous page"])},
        "api": parts(timings["Next page"] + timings["Previous page"]),
    }


def run_browser(url: str, seeded: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            errors: list[str] = []
            context.on("weberror", lambda e: errors.append(str(e.error)))
            console: list[str] = []
            context.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            context.add_init_script(RENDER_WATCH % min(PAGE, args.jobs))
            got = cold(context, url, seeded["token"], seeded)
            page: Page = got.pop("page")
            settle(page)
            storage = page.evaluate("() => navigator.storage.estimate()")
            result: dict[str, Any] = {
                "chromium": browser.version,
                "cold": got,
                "storage_estimate": {
                    "usage_mb": round(storage["usage"] / 1e6, 1),
                    "indexeddb_mb": round(
                        storage.get("usageDetails", {}).get("indexedDB", 0) / 1e6, 1
                    ),
                },
            }
            print(
                f"caught up in {got['catch_up_s']} s; store "
                f"{result['storage_estimate']}; measuring settled",
                flush=True,
            )
            result["settled"] = {
                "first_render": settled_loads(page, url, args.loads),
                "filter_change": filter_changes(page, url, args.filters),
                "page_turn": page_turns(page, url, args.pages, args.depth),
            }
            if args.no_sw_loads:
                result["diagnostic_first_render_without_service_worker"] = (
                    loads_without_service_worker(context, page, url, args.no_sw_loads)
                )
            result["page_errors"] = errors
            result["console_errors"] = console
            context.close()
            return result
        finally:
            browser.close()


def api_direct(url: str, token: str, rounds: int = 20) -> dict[str, Any]:
    """The same reads as the board's, from Python on one kept-alive connection, with
    nothing else running: the server's own time for them."""
    headers = {"Authorization": f"Bearer {token}"}
    found: dict[str, list[float]] = {"first page": [], "status filter": [], "next page": []}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for i in range(rounds):
            start = time.perf_counter()
            r = http.get("/api/jobs", params={"sort": "scheduled_date", "limit": PAGE})
            found["first page"].append(time.perf_counter() - start)
            r.raise_for_status()
            cursor = r.json()["next_cursor"]
            start = time.perf_counter()
            http.get(
                "/api/jobs",
                params={"sort": "scheduled_date", "limit": PAGE, "cursor": cursor},
            ).raise_for_status()
            found["next page"].append(time.perf_counter() - start)
            start = time.perf_counter()
            http.get(
                "/api/jobs",
                params={
                    "sort": "scheduled_date",
                    "limit": PAGE,
                    "status": STATUSES[i % len(STATUSES)],
                },
            ).raise_for_status()
            found["status filter"].append(time.perf_counter() - start)
    return {name: short([v * 1000 for v in values]) for name, values in found.items()}


def status_plans(database_url: str) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the board's first page for each Status (and none), in the
    default sort: the scan, the rows it read and dropped, the execution time."""
    found: dict[str, Any] = {}
    with psycopg.connect(database_url) as conn:
        for status in [None, *STATUSES]:
            f = job_sql.JobFilter(status=status)
            sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", job_sql._statement(f, after=False))
            params: dict[str, Any] = {
                "limit": PAGE,
                "restricted": False,
                "user_id": "",
                "areas": [],
            }
            if status:
                params["status"] = status
            rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params).fetchall()
            plan = [str(r[0]) for r in rows]
            scans = [
                line.strip().removeprefix("->  ")
                for line in plan
                if re.search(r"(Index|Index Only|Seq|Bitmap Index) Scan", line)
            ]
            removed = [
                int(m.group(1))
                for line in plan
                if (m := re.search(r"Rows Removed by Filter: (\d+)", line))
            ]
            took = next((line for line in plan if "Execution Time" in line), "")
            found[status or "any"] = {
                "scans": scans,
                "rows_removed_by_filter": sum(removed),
                "execution_ms": float(took.split(":")[1].split("ms")[0]) if took else None,
            }
    return found


def commit() -> str:
    """The checkout measured (the app is served from the working tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "syncserver", "clients"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes to syncserver/ or clients/" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--customers", type=int, help="default: a fifth of --jobs")
    parser.add_argument(
        "--loads", type=int, default=103, help=f"fresh navigations ({WARMUP} warm-up)"
    )
    parser.add_argument(
        "--filters", type=int, default=103, help=f"Status changes ({WARMUP} warm-up)"
    )
    parser.add_argument(
        "--pages", type=int, default=103, help=f"Next page clicks ({WARMUP} warm-up)"
    )
    parser.add_argument("--depth", type=int, default=5, help="pages forward before going back")
    parser.add_argument(
        "--no-sw-loads",
        type=int,
        default=23,
        help="diagnostic: navigations bypassing the service worker (0: none)",
    )
    args = parser.parse_args()
    customers = args.customers or max(1, args.jobs // 5)
    load_before = os.getloadavg()
    if load_before[0] > 1:
        print(f"warning: the machine is busy (load average {load_before[0]:.2f}): slower figures")
    started = time.perf_counter()
    with postgres(args.database_url) as admin_url:
        database_url = fresh_database(admin_url)
        with server(database_url) as srv:
            seeded = seed(srv.url, database_url, args.jobs, customers)
            print(f"seeded {seeded['counts']} in {seeded['seconds']} s", flush=True)
            result: dict[str, Any] = {
                "commit": commit(),
                "seeding": {k: v for k, v in seeded.items() if k != "token"},
            }
            result.update(run_browser(srv.url, seeded, args))
            result["api_direct"] = api_direct(srv.url, seeded["token"])
            result["status_plans"] = status_plans(database_url)
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["load_average_1m"] = {
        "before": round(load_before[0], 2),
        "after": round(os.getloadavg()[0], 2),
    }
    settled = result["settled"]
    coldr = result["cold"]
    result["targets_ms"] = TARGETS_MS
    result["meets_p99"] = {
        "cold_first_render_after_sign_in": coldr["first_render_after_sign_in"][
            "sign_in_to_rendered_ms"
        ]
        < TARGETS_MS["first_render"],
        **(
            {
                "cold_first_render_during_catch_up": coldr["renders_during_catch_up"]["p99_ms"]
                < TARGETS_MS["first_render"]
            }
            if coldr["renders_during_catch_up"]["samples"]
            else {}
        ),
        "settled_first_render": settled["first_render"]["p99_ms"] < TARGETS_MS["first_render"],
        "settled_filter_change": settled["filter_change"]["p99_ms"] < TARGETS_MS["filter_change"],
        "settled_page_turn": settled["page_turn"]["p99_ms"] < TARGETS_MS["page_turn"],
    }
    report(result)
    print("wrote", write_result("console", result))


def line(name: str, s: dict[str, Any], target: int) -> str:
    return (
        f"{name:42} n={s['samples']:3}  p50 {s['p50_ms']:7.1f}  p95 {s['p95_ms']:7.1f}  "
        f"p99 {s['p99_ms']:7.1f}  max {s['max_ms']:7.1f} ms  (p99 target < {target} ms: "
        f"{'met' if s['p99_ms'] < target else 'NOT met'})"
    )


def report(result: dict[str, Any]) -> None:
    coldr, settled = result["cold"], result["settled"]
    seeding = result["seeding"]
    print(
        f"Chromium {result['chromium']}; seeded {seeding['counts']} and "
        f"{seeding['technicians']} technicians in {seeding['seconds']} s (not in the figures)"
    )
    first = coldr["first_render_after_sign_in"]
    print(
        f"cold: sign-in -> board rendered {first['sign_in_to_rendered_ms']} ms "
        f"(target < {TARGETS_MS['first_render']} ms); API {first['api']}"
    )
    during = coldr["renders_during_catch_up"]
    if during["samples"]:
        print(line("cold: navigation -> rendered (catch-up)", during, TARGETS_MS["first_render"]))
        print(f"  parts: {during['api']}")
    print(
        f"catch-up: sign-in -> replica holds all {coldr['replica_records']} records "
        f"in {coldr['catch_up_s']} s; storage {result['storage_estimate']}"
    )
    for name, key, target in [
        ("settled: navigation -> rendered", "first_render", TARGETS_MS["first_render"]),
        ("settled: Status change -> rendered", "filter_change", TARGETS_MS["filter_change"]),
        ("settled: page turn -> rendered", "page_turn", TARGETS_MS["page_turn"]),
    ]:
        print(line(name, settled[key], target))
        print(f"  parts: {settled[key]['api']}")
    print(
        "  Status change by status, p50/max ms:",
        {k: (v["p50_ms"], v["max_ms"]) for k, v in settled["filter_change"]["by_status"].items()},
    )
    print("  settled first render phases, p50 ms:", settled["first_render"]["phases_p50_ms"])
    print("  settled first render phases, p95 ms:", settled["first_render"]["phases_p95_ms"])
    nosw = result.get("diagnostic_first_render_without_service_worker")
    if nosw:
        print(line("diagnostic: the same, no service worker", nosw, TARGETS_MS["first_render"]))
        print("  phases, p50 ms:", nosw["phases_p50_ms"])
    for key in ["next_page", "previous_page"]:
        print(line(f"  {key}", settled["page_turn"][key], TARGETS_MS["page_turn"]))
    print("API alone, from Python:", result["api_direct"])
    for status, plan in result["status_plans"].items():
        print(
            f"  plan, first page, status {status}: {plan['execution_ms']} ms, "
            f"{plan['rows_removed_by_filter']} rows read and dropped; {'; '.join(plan['scans'])}"
        )
    print("meets (p99):", result["meets_p99"])
    print(f"whole run {result['total_s']} s; load average {result['load_average_1m']}")
    if result["page_errors"] or result["console_errors"]:
        print("page errors:", result["page_errors"], "console errors:", result["console_errors"])


if __name__ == "__main__":
    main()
