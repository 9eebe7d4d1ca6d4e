// The job board (docs/protocol.md, "Web app, SDK module and docs") for dispatchers and admins, on the read
// API: a table named `Jobs` whose first cell is the job number as a link; filters
// for status, technician, service type, priority and a date range; the `Search`
// box (the API's `q`); a sort; keyset pages (`Previous page`, `Next page`). It
// follows the device: a poke makes the device pull, and each change of its view
// reloads the page shown (at most once a second), so a technician's status change
// shows within seconds. Names of customers come from the device's replica.
import { html, useEffect, useMemo, useRef, useState } from "./html.js";
import { api } from "./api.js";
import { useChanges } from "./device.js";
import { jobHref } from "./router.js";
import { useTechnicians } from "./people.js";
import { NewJob } from "./job-new.js";
import { PRIORITY_LABELS, STATUS_LABELS, priorityLabel, stamp, statusLabel } from "./format.js";

export const SERVICE_TYPES = ["installation", "maintenance", "repair", "inspection", "replacement", "emergency"];
const SORTS = { scheduled_date: "Scheduled date", priority: "Priority", updated_at: "Last changed" };
const PAGE = 50;

/** A local date ("YYYY-MM-DD") as the RFC 3339 instant of its local midnight,
 * `days` later. */
function localMidnight(date, days = 0) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}

/** The API's query for the board's filters. */
export function jobQuery(filters) {
  return {
    status: filters.status,
    technician_id: filters.technician,
    service_type: filters.serviceType,
    priority: filters.priority,
    scheduled_from: filters.from ? localMidnight(filters.from) : undefined,
    scheduled_to: filters.to ? localMidnight(filters.to, 1) : undefined, // the "to" day included
    q: filters.q.trim() || undefined,
    sort: filters.sort,
    limit: PAGE,
  };
}

const NO_FILTERS = { status: "", technician: "", serviceType: "", priority: "", from: "", to: "", q: "", sort: "scheduled_date" };

/** Customers' names for a page of jobs, from the device's replica. */
async function customerNames(device, jobs) {
  const ids = [...new Set(jobs.map((job) => job.customer_id))];
  const found = await Promise.all(ids.map((id) => device.get("customer", id)));
  return new Map(ids.map((id, i) => [id, found[i]?.name ?? ""]));
}

function Select({ id, label, value, onChange, options, any }) {
  return html`<div class="filter">
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${any}</option>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select>
  </div>`;
}

export function JobBoard({ device, session }) {
  const [filters, setFilters] = useState(NO_FILTERS);
  const [typed, setTyped] = useState("");
  const [cursors, setCursors] = useState([null]); // the cursor of each page seen
  const [state, setState] = useState({ page: null, names: new Map(), error: null, key: null });
  const [creating, setCreating] = useState(false);
  const technicians = useTechnicians(session);
  const [tick, setTick] = useState(0); // the device's changes reload the page shown
  useChanges(device, () => setTick((t) => t + 1), 1000);
  const cursor = cursors[cursors.length - 1];
  const query = useMemo(() => jobQuery(filters), [filters]);
  const request = useRef(0);

  const set = (name) => (value) => {
    if (filters[name] === value) return;
    setFilters((old) => ({ ...old, [name]: value }));
    setCursors([null]);
  };
  useEffect(() => {
    const timer = setTimeout(() => set("q")(typed), 250); // search as one types
    return () => clearTimeout(timer);
  }, [typed]);

  // What the page shown answers, so that `aria-busy` is right from the very render
  // that asks for another one.
  const key = JSON.stringify([query, cursor, tick]);
  useEffect(() => {
    const mine = ++request.current;
    (async () => {
      try {
        const page = await api(session, "/api/jobs", { query: { ...query, cursor } });
        const names = await customerNames(device, page.items);
        if (mine === request.current) setState({ page, names, error: null, key });
      } catch (error) {
        if (mine === request.current) setState((old) => ({ ...old, error, key }));
      }
    })();
  }, [key]);
  // Busy while the page shown is not the one asked for, or the search typed is
  // not yet asked for.
  const busy = state.key !== key || typed !== filters.q;

  const techName = new Map(technicians.map((t) => [t.id, t.name]));
  const { page, names, error } = state;
  return html`<section>
    <div class="row heading-row">
      <h1>Jobs</h1>
      <button type="button" class="primary" onClick=${() => setCreating(true)}>New job</button>
    </div>
    ${creating && html`<${NewJob} device=${device} session=${session} technicians=${technicians}
      onClose=${() => setCreating(false)} />`}
    <div class="filters" role="search" aria-label="Filter jobs">
      <div class="filter wide">
        <label for="board-search">Search</label>
        <input id="board-search" type="search" value=${typed} placeholder="Number, title, description, customer"
          onInput=${(e) => setTyped(e.currentTarget.value)} />
      </div>
      <${Select} id="board-status" label="Status" value=${filters.status} onChange=${set("status")}
        any="Any status" options=${Object.entries(STATUS_LABELS)} />
      <${Select} id="board-technician" label="Technician" value=${filters.technician} onChange=${set("technician")}
        any="Anyone" options=${technicians.map((t) => [t.id, t.name])} />
      <${Select} id="board-service" label="Service type" value=${filters.serviceType} onChange=${set("serviceType")}
        any="Any service" options=${SERVICE_TYPES.map((s) => [s, s])} />
      <${Select} id="board-priority" label="Priority" value=${filters.priority} onChange=${set("priority")}
        any="Any priority" options=${Object.entries(PRIORITY_LABELS)} />
      <div class="filter">
        <label for="board-from">Scheduled from</label>
        <input id="board-from" type="date" value=${filters.from} onChange=${(e) => set("from")(e.currentTarget.value)} />
      </div>
      <div class="filter">
        <label for="board-to">Scheduled to</label>
        <input id="board-to" type="date" value=${filters.to} onChange=${(e) => set("to")(e.currentTarget.value)} />
      </div>
      <div class="filter">
        <label for="board-sort">Sort by</label>
        <select id="board-sort" value=${filters.sort} onChange=${(e) => set("sort")(e.currentTarget.value)}>
          ${Object.entries(SORTS).map(([v, text]) => html`<option value=${v}>${text}</option>`)}
        </select>
      </div>
    </div>
    ${error && html`<p class="error" role="alert">Could not load the jobs: ${error.message}</p>`}
    ${!page && !error && html`<p class="loading">Loading…</p>`}
    ${page && html`<div class="table-wrap" tabindex="0" role="region" aria-label="Jobs, scrolls sideways"><table aria-label="Jobs" aria-busy=${busy ? "true" : "false"}>
      <thead><tr>
        <th scope="col">Job</th><th scope="col">Title</th><th scope="col">Customer</th>
        <th scope="col">Status</th><th scope="col">Priority</th><th scope="col">Technician</th>
        <th scope="col">Scheduled</th>
      </tr></thead>
      <tbody>
        ${page.items.map(
          (job) => html`<tr key=${job.id}>
            <td><a href=${jobHref(job.id)}>${job.job_number ?? job.id}</a></td>
            <td>${job.title}</td>
            <td>${names.get(job.customer_id)}</td>
            <td><span class=${`badge status-${job.status}`}>${statusLabel(job.status)}</span></td>
            <td>${priorityLabel(job.priority)}</td>
            <td>${job.technician_id ? techName.get(job.technician_id) ?? job.technician_id : "—"}</td>
            <td>${job.scheduled_date ? stamp(job.scheduled_date) : "—"}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${page.items.length === 0 && html`<p class="empty">No job matches these filters.</p>`}
    <div class="row">
      <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
      <span>Page ${cursors.length}</span>
      <button type="button" disabled=${!page.next_cursor} onClick=${() => setCursors([...cursors, page.next_cursor])}>Next page</button>
    </div>`}
  </section>`;
}
