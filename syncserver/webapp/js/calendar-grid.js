// The calendar's grid: a table with a column per lane (Unassigned, then each
// technician) and a row per hour (day view) or per day (week view); each cell
// holds its jobs as cards in time order and takes a dropped card (HTML5 drag
// and drop). The `Not scheduled` list is a drop target too (it clears the date).
import { html, useState } from "./html.js";
import { jobHref } from "./router.js";
import { clock, dayKey, priorityLabel, statusLabel } from "./format.js";
import { HOURS, movable } from "./calendar-time.js";

const JOB_TYPE = "application/x-fieldsync-job";

/** What people call a job: its number, or its title before the server gave one. */
export const jobName = (job) => job.job_number ?? job.title;

/** The job id a drop carries (null for anything else dropped, e.g. text). */
export function droppedJob(event, dragging) {
  const data = event.dataTransfer;
  return (data && (data.getData(JOB_TYPE) || data.getData("text/plain"))) || dragging.current;
}

/** A job's card: number, time, title (a link to the job), status, whether it waits
 * to sync, and `Move` (the keyboard's way to do what dragging does). */
export function JobCard({ job, who, dragging, onMove }) {
  const canMove = movable(job);
  const start = (event) => {
    dragging.current = job.id;
    event.dataTransfer.setData(JOB_TYPE, job.id);
    event.dataTransfer.setData("text/plain", job.id);
    event.dataTransfer.effectAllowed = "move";
  };
  return html`<li class=${`cal-card${canMove ? " cal-movable" : ""}`} data-job=${job.id}
      draggable=${canMove ? "true" : "false"} onDragStart=${canMove ? start : undefined}
      onDragEnd=${() => { dragging.current = null; }}>
    <div class="cal-card-top">
      <span class="cal-number">${job.job_number ?? "New job"}</span>
      <span>${job.scheduled_date ? clock(job.scheduled_date) : "No time"}</span>
    </div>
    <a class="cal-title" href=${jobHref(job.id)} draggable="false">${job.title}</a>
    ${who && html`<div class="cal-who">${who}</div>`}
    <div class="cal-card-bottom">
      <span class=${`badge status-${job.status}`}>${statusLabel(job.status)}</span>
      ${(job.priority === "high" || job.priority === "urgent") &&
      html`<span class=${`badge priority-${job.priority}`}>${priorityLabel(job.priority)}</span>`}
      ${job.pending && html`<span class="badge pending-badge">Waiting to sync</span>`}
      ${canMove &&
      html`<button type="button" class="cal-move" data-move=${job.id} aria-label=${`Move ${jobName(job)}`}
        onClick=${() => onMove(job.id)}>Move</button>`}
    </div>
  </li>`;
}

/** Highlighting while a card is dragged over, and the drop itself. */
function useDropTarget(dragging, onDrop) {
  const [over, setOver] = useState(false);
  const handlers = {
    onDragOver: (event) => {
      if (!dragging.current && !event.dataTransfer.types.includes(JOB_TYPE)) return;
      event.preventDefault(); // this is a drop target
      event.dataTransfer.dropEffect = "move";
      if (!over) setOver(true);
    },
    onDragLeave: (event) => {
      if (!event.currentTarget.contains(event.relatedTarget)) setOver(false);
    },
    onDrop: (event) => {
      event.preventDefault();
      setOver(false);
      const id = droppedJob(event, dragging);
      dragging.current = null;
      if (id) onDrop(id);
    },
  };
  return [over, handlers];
}

function Cell({ lane, slot, jobs, today, dragging, onMove, onDrop }) {
  const [over, handlers] = useDropTarget(dragging, onDrop);
  const cls = ["cal-cell", over && "cal-over", today && "cal-today"].filter(Boolean).join(" ");
  return html`<td class=${cls} data-lane=${lane.id} data-slot=${slot} ...${handlers}>
    ${jobs.length > 0 &&
    html`<ul class="cal-cards">
      ${jobs.map((job) => html`<${JobCard} key=${job.id} job=${job} dragging=${dragging} onMove=${onMove} />`)}
    </ul>`}
  </td>`;
}

const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const hourLabel = (hour) => clock(new Date(2000, 0, 1, hour));

/** The day view's rows: one per hour slot. */
function hourRows(day) {
  return HOURS.map((hour) => ({ slot: String(hour), day, hour, label: hourLabel(hour), today: false }));
}

/** props: view ("day" | "week"), days (Date[]), lanes, cells (Map of
 * "lane|slot" to jobs), label, dragging, onMove(id), onDrop(id, lane, day, hour). */
export function CalendarGrid({ view, days, lanes, cells, label, dragging, onMove, onDrop }) {
  const todayKey = dayKey(new Date());
  const rows =
    view === "day"
      ? hourRows(days[0])
      : days.map((day) => ({
          slot: dayKey(day),
          day,
          hour: undefined,
          label: weekdayFormat.format(day),
          today: dayKey(day) === todayKey,
        }));
  return html`<div class="cal-scroll" role="region" aria-label=${label} tabindex="0">
    <table class="cal-table" style=${`min-width: calc(6.5rem + ${lanes.length} * 9.5rem)`}>
      <caption class="visually-hidden">${label}: a column for each technician, a row for each ${view === "day" ? "hour" : "day"}</caption>
      <thead>
        <tr>
          <th scope="col" class="cal-corner">${view === "day" ? "Time" : "Day"}</th>
          ${lanes.map((lane) => html`<th scope="col" key=${lane.id} data-lane=${lane.id}>${lane.name}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) => html`<tr key=${row.slot}>
            <th scope="row" class=${row.today ? "cal-today" : undefined}>
              ${row.label}${row.today && html`<span class="cal-today-word"> Today</span>`}
            </th>
            ${lanes.map(
              (lane) => html`<${Cell} key=${lane.id} lane=${lane} slot=${row.slot} today=${row.today}
                jobs=${cells.get(`${lane.id}|${row.slot}`) ?? []} dragging=${dragging} onMove=${onMove}
                onDrop=${(id) => onDrop(id, lane.id, row.day, row.hour)} />`,
            )}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The jobs without a date, to be planned: a list of cards, and a drop target
 * that takes a job off the calendar. props: jobs, laneName(job), dragging,
 * onMove(id), onDrop(id). */
export function NotScheduled({ jobs, laneName, dragging, onMove, onDrop }) {
  const [over, handlers] = useDropTarget(dragging, onDrop);
  return html`<section class=${`cal-unscheduled${over ? " cal-over" : ""}`} aria-labelledby="cal-not-scheduled" ...${handlers}>
    <h2 id="cal-not-scheduled">Not scheduled <span class="hint">(${jobs.length})</span></h2>
    <p class="hint">Jobs without a date. Drag one onto the calendar, or use its Move button; drop a job here to take its date away.</p>
    ${jobs.length === 0
      ? html`<p class="empty">Every open job has a date.</p>`
      : html`<ul class="cal-cards cal-unscheduled-list" aria-labelledby="cal-not-scheduled">
          ${jobs.map(
            (job) => html`<${JobCard} key=${job.id} job=${job} who=${laneName(job)} dragging=${dragging} onMove=${onMove} />`,
          )}
        </ul>`}
  </section>`;
}
