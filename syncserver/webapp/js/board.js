// The job board for dispatchers and admins, in its first form: every job on the
// device, a `Status` select and a `Search` box, pages of 50. (The console's full
// board, on the read API with more filters and sorting, grows from here.)
import { html, useMemo, useState } from "./html.js";
import { useView } from "./device.js";
import { jobHref } from "./router.js";
import { byScheduled } from "./myjobs.js";
import { STATUS_LABELS, stamp, statusLabel, priorityLabel } from "./format.js";

const PAGE = 50;

async function load(device) {
  const [jobs, customers] = await Promise.all([device.query("job"), device.query("customer")]);
  const names = new Map(customers.map((c) => [c.id, c.name]));
  return jobs.sort(byScheduled).map((job) => ({ job, customer: names.get(job.customer_id) ?? "" }));
}

export function JobBoard({ device }) {
  const { data } = useView(device, load);
  const [status, setStatus] = useState("");
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(0);
  const rows = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    return (data ?? []).filter(({ job, customer }) => {
      if (status && job.status !== status) return false;
      const text = [job.job_number, job.title, job.description, customer].join(" ").toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [data, status, search]);
  if (!data) return html`<p class="loading">Loading…</p>`;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const shown = rows.slice(page * PAGE, (page + 1) * PAGE);
  return html`<section>
    <h1>Jobs</h1>
    <div class="row">
      <div>
        <label for="board-status">Status</label>
        <select id="board-status" value=${status} onChange=${(e) => { setStatus(e.currentTarget.value); setPage(0); }}>
          <option value="">Any status</option>
          ${Object.entries(STATUS_LABELS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </div>
      <div style="flex: 1">
        <label for="board-search">Search</label>
        <input id="board-search" type="search" value=${search}
          onInput=${(e) => { setSearch(e.currentTarget.value); setPage(0); }} />
      </div>
    </div>
    <table aria-label="Jobs">
      <thead><tr><th scope="col">Job</th><th scope="col">Title</th><th scope="col">Customer</th>
        <th scope="col">Status</th><th scope="col">Priority</th><th scope="col">Scheduled</th></tr></thead>
      <tbody>
        ${shown.map(
          ({ job, customer }) => html`<tr key=${job.id}>
            <td><a href=${jobHref(job.id)}>${job.job_number ?? "(new)"}</a></td>
            <td>${job.title}</td><td>${customer}</td><td>${statusLabel(job.status)}</td>
            <td>${priorityLabel(job.priority)}</td><td>${job.scheduled_date ? stamp(job.scheduled_date) : "—"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="row">
      <button type="button" disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous page</button>
      <span>Page ${page + 1} of ${pages}</span>
      <button type="button" disabled=${page + 1 >= pages} onClick=${() => setPage(page + 1)}>Next page</button>
    </div>
  </section>`;
}
