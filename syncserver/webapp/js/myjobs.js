// My jobs (docs/protocol.md, "Web app, SDK module and docs"): the technician's jobs for today and the
// coming days in scheduled order, as a list named `My jobs` with one link per
// job named by its title; a search box; what waits to sync.
import { html, useMemo, useState } from "./html.js";
import { useView } from "./device.js";
import { jobHref } from "./router.js";
import { waitingText } from "./statusline.js";
import { addressLine, byScheduled, clock, dayKey, dayName, priorityLabel, statusLabel } from "./format.js";

/** Whether a job belongs on the list: open ones, and those completed today. */
export function onMyList(job, today = dayKey(new Date())) {
  if (job.status === "cancelled") return false;
  if (job.status === "completed") return Boolean(job.completed_date) && dayKey(job.completed_date) === today;
  return true;
}

async function load(device, me) {
  const [jobs, customers, locations, pending] = await Promise.all([
    device.query("job", { technician_id: me.id }),
    device.query("customer"),
    device.query("location"),
    device.pending(),
  ]);
  const customerById = new Map(customers.map((c) => [c.id, c]));
  const locationById = new Map(locations.map((l) => [l.id, l]));
  const rows = jobs
    .filter((job) => onMyList(job))
    .sort(byScheduled)
    .map((job) => ({
      job,
      customer: customerById.get(job.customer_id) ?? null,
      location: job.location_id ? locationById.get(job.location_id) ?? null : null,
    }));
  return { rows, pending };
}

function searchable({ job, customer, location }) {
  return [job.title, job.job_number, job.description, customer?.name, addressLine(location)]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
}

/** The day heading a row goes under: earlier days not finished, each day by
 * name, then jobs without a date. */
function heading(row, today) {
  if (!row.job.scheduled_date) return "Not scheduled";
  const key = dayKey(row.job.scheduled_date);
  return key < today ? "Earlier, not finished" : dayName(key);
}

function JobItem({ job, customer, location, day }) {
  return html`<li>
    ${day && html`<h2 class="day">${day}</h2>`}
    <div class="job-card">
      <a class="title" href=${jobHref(job.id)}>${job.title}</a>
      <div class="meta">
        <span class=${`badge status-${job.status}`}>${statusLabel(job.status)}</span>
        ${job.priority && job.priority !== "normal" &&
        html`<span class=${`badge priority-${job.priority}`}>${priorityLabel(job.priority)} priority</span>`}
        ${job.pending && html`<span class="badge pending-badge">Waiting to sync</span>`}
      </div>
      <div class="meta">
        ${job.scheduled_date && html`<span>${clock(job.scheduled_date)} · </span>`}
        ${job.job_number && html`<span>${job.job_number} · </span>`}
        <span>${customer?.name ?? "Customer not on this device"}</span>
      </div>
      ${location && html`<div class="meta">${addressLine(location)}</div>`}
    </div>
  </li>`;
}

export function MyJobs({ device, session }) {
  const { data, error } = useView(device, (d) => load(d, session.me), [session.me.id]);
  const [search, setSearch] = useState("");
  const shown = useMemo(() => {
    if (!data) return [];
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    return data.rows.filter((row) => words.every((w) => searchable(row).includes(w)));
  }, [data, search]);

  const today = dayKey(new Date());
  if (!data) return html`<p class="loading">${error ? `Could not read the jobs: ${error.message}` : "Loading…"}</p>`;
  return html`<section aria-labelledby="my-jobs-title">
    <h1 id="my-jobs-title">My jobs</h1>
    <p class="hint">${data.rows.length} jobs · ${waitingText(data.pending)}</p>
    <label for="job-search">Search</label>
    <input id="job-search" type="search" value=${search} placeholder="Title, customer, address or number"
      onInput=${(e) => setSearch(e.currentTarget.value)} />
    ${shown.length === 0 &&
    html`<p class="empty">${data.rows.length === 0 ? "No jobs for you yet." : "No job matches the search."}</p>`}
    <ul class="jobs" aria-label="My jobs">
      ${shown.map((row, i) => {
        const day = heading(row, today);
        const first = i === 0 || heading(shown[i - 1], today) !== day;
        return html`<${JobItem} key=${row.job.id} ...${row} day=${first ? day : null} />`;
      })}
    </ul>
  </section>`;
}
