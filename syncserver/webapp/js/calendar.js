// The dispatcher's calendar (issue 15): a day view (hours 06:00-20:00) and a
// week view, a column for each technician and one for `Unassigned`, and the
// jobs without a date under `Not scheduled`. A job moves by dragging its card
// to another technician, hour or day, or with its `Move` button's dialog; either
// way one update op goes into the device's outbox, so a move works offline and
// shows at once (the optimistic view), its card saying `Waiting to sync` until
// pushed. Times are the browser's local time; days are local days.
import { html, useEffect, useMemo, useRef, useState } from "./html.js";
import { useView } from "./device.js";
import { byScheduled, dayKey } from "./format.js";
import { addDays, daysOf, dropTime, fromDayKey, moveFields, movable, placeOf, startOfDay, step } from "./calendar-time.js";
import { lanesFor, useFieldUsers } from "./calendar-people.js";
import { CalendarGrid, NotScheduled, jobName } from "./calendar-grid.js";
import { MoveDialog } from "./calendar-move.js";
import { addCalendarStyle } from "./calendar-style.js";

// The view and the day shown are kept for the tab, so coming back from a job
// page finds the calendar as it was left.
const VIEW_KEY = "fieldsync.calendar.view";
const DAY_KEY = "fieldsync.calendar.day";

const longDay = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const shortDay = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });
const whenFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

function rangeTitle(view, days) {
  if (view === "day") return longDay.format(days[0]);
  return shortDay.formatRange(days[0], days[days.length - 1]);
}

/** The jobs a view shows: {cells: Map "lane|slot" -> jobs, unscheduled, technicianIds}.
 * Cancelled jobs are left out; completed ones show but do not move. */
function arrange(jobs, view, days) {
  const shownDays = new Set(days.map(dayKey));
  const cells = new Map();
  const unscheduled = [];
  const technicianIds = new Set();
  for (const job of jobs) {
    if (job.status === "cancelled") continue;
    const place = placeOf(job, view);
    if (!place) {
      if (job.status !== "completed") {
        unscheduled.push(job);
        technicianIds.add(job.technician_id);
      }
      continue;
    }
    if (!shownDays.has(place.day)) continue;
    technicianIds.add(job.technician_id);
    const key = `${job.technician_id ?? ""}|${place.slot}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(job);
  }
  for (const list of cells.values()) list.sort(byScheduled);
  unscheduled.sort(byScheduled);
  return { cells, unscheduled, technicianIds };
}

/** Keeps asking to focus a job's Move button until it is there: a move re-draws
 * the card in another cell, so the button the dialog came from may be gone. */
function useFocusReturn() {
  const wanted = useRef(null);
  const tryFocus = () => {
    const want = wanted.current;
    if (!want) return;
    if (Date.now() - want.since > 5000) {
      wanted.current = null;
      return;
    }
    const active = document.activeElement;
    const button = document.querySelector(`button[data-move="${CSS.escape(want.id)}"]`);
    if (!button || active === button) return;
    if (active && active !== document.body && !active.closest("dialog")) {
      wanted.current = null; // the person has gone on elsewhere
      return;
    }
    button.focus();
  };
  useEffect(tryFocus);
  return (id) => {
    wanted.current = { id, since: Date.now() };
    tryFocus();
  };
}

export function Calendar({ device, session }) {
  addCalendarStyle();
  const [view, setView] = useState(() => (sessionStorage.getItem(VIEW_KEY) === "week" ? "week" : "day"));
  const [anchor, setAnchor] = useState(() => {
    const kept = sessionStorage.getItem(DAY_KEY);
    return kept && /^\d{4}-\d{2}-\d{2}$/.test(kept) ? fromDayKey(kept) : startOfDay(new Date());
  });
  const { data: jobs, error } = useView(device, (d) => d.query("job"));
  const { users, problem } = useFieldUsers(session);
  const [movingId, setMovingId] = useState(null);
  const [said, setSaid] = useState("");
  const [failure, setFailure] = useState(null);
  const dragging = useRef(null);
  const focusMove = useFocusReturn();

  useEffect(() => sessionStorage.setItem(VIEW_KEY, view), [view]);
  useEffect(() => sessionStorage.setItem(DAY_KEY, dayKey(anchor)), [anchor]);

  const days = useMemo(() => daysOf(view, anchor), [view, anchor.getTime()]);
  const arranged = useMemo(() => arrange(jobs ?? [], view, days), [jobs, view, days]);
  const lanes = useMemo(() => lanesFor(users, arranged.technicianIds), [users, arranged.technicianIds]);
  const laneName = (id) => lanes.find((lane) => lane.id === (id ?? ""))?.name ?? `Technician ${id}`;

  if (!jobs) return html`<p class="loading">${error ? `Could not read the jobs: ${error.message}` : "Loading…"}</p>`;
  const byId = new Map(jobs.map((job) => [job.id, job]));

  /** Write the move as one op, and say what it did. */
  const move = async (job, technicianId, when) => {
    const fields = moveFields(job, technicianId, when);
    if (!fields) return;
    try {
      await device.update("job", job.id, fields);
      setFailure(null);
      const where = when ? whenFormat.format(when) : "not scheduled";
      setSaid(`${jobName(job)} moved to ${laneName(technicianId)}, ${where}.`);
    } catch (e) {
      setFailure(`${jobName(job)} could not be moved: ${e.message}`);
    }
  };
  const onDrop = (id, laneId, day, hour) => {
    const job = byId.get(id);
    if (!job || !movable(job)) return;
    const place = placeOf(job, view);
    const sameCell =
      place && (job.technician_id ?? "") === laneId && place.slot === (view === "day" ? String(hour) : dayKey(day));
    if (!sameCell) move(job, laneId || null, dropTime(job, day, hour));
  };
  const onUnschedule = (id) => {
    const job = byId.get(id);
    if (job && movable(job) && job.scheduled_date) move(job, job.technician_id ?? null, null);
  };
  const moving = movingId ? byId.get(movingId) : null;
  const closeDialog = () => {
    const id = movingId;
    setMovingId(null);
    focusMove(id);
  };
  const title = rangeTitle(view, days);
  const shift = (n) => setAnchor(addDays(anchor, n * step(view)));
  const onThisView = [...arranged.cells.values()].reduce((n, list) => n + list.length, 0);
  const summary = [
    `${onThisView} ${onThisView === 1 ? "job" : "jobs"} ${view === "day" ? "this day" : "this week"}`,
    `${arranged.unscheduled.length} not scheduled`,
    `times in your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`,
  ].join(" · ") + " Drag a card to move it, or use its Move button.";

  return html`<section class="cal-screen" aria-labelledby="cal-title">
    <h1 id="cal-title">Calendar</h1>
    <div class="cal-toolbar">
      <div class="cal-group" role="group" aria-label="View">
        <button type="button" aria-pressed=${view === "day" ? "true" : "false"} onClick=${() => setView("day")}>Day</button>
        <button type="button" aria-pressed=${view === "week" ? "true" : "false"} onClick=${() => setView("week")}>Week</button>
      </div>
      <div class="cal-group" role="group" aria-label="Dates">
        <button type="button" onClick=${() => shift(-1)}>Previous</button>
        <button type="button" onClick=${() => setAnchor(startOfDay(new Date()))}>Today</button>
        <button type="button" onClick=${() => shift(1)}>Next</button>
      </div>
      <h2 class="cal-range" aria-live="polite">${title}</h2>
    </div>
    <p class="hint">${summary}</p>
    ${problem && !users && html`<p class="hint">Technicians cannot be listed now (${problem.message}): only those with jobs show.</p>`}
    ${failure && html`<p class="error" role="alert">${failure}</p>`}
    <p class="visually-hidden" aria-live="polite">${said}</p>
    <${CalendarGrid} view=${view} days=${days} lanes=${lanes} cells=${arranged.cells}
      label=${`${view === "day" ? "Day" : "Week"} of ${title}`} dragging=${dragging}
      onMove=${setMovingId} onDrop=${onDrop} />
    <${NotScheduled} jobs=${arranged.unscheduled} laneName=${(job) => laneName(job.technician_id)}
      dragging=${dragging} onMove=${setMovingId} onDrop=${onUnschedule} />
    ${moving &&
    html`<${MoveDialog} key=${moving.id} job=${moving} lanes=${lanes}
      onSave=${(technicianId, when) => {
        move(moving, technicianId, when);
        // A job moved to a day not shown: go there, so the card (and the focus) follow it.
        if (when && !days.some((day) => dayKey(day) === dayKey(when))) setAnchor(startOfDay(when));
        closeDialog();
      }}
      onClose=${closeDialog} />`}
  </section>`;
}
