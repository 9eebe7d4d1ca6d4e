// A job page's parts for dispatchers and admins: plan it (assign, schedule,
// priority, cancel; each an op through the device, offline too), and what the
// server knows of it (GET /api/jobs/{id} and /history, online): who wrote each
// field, when and from which device, and every op of the device logs that touched
// it, with refused ops and lost fields marked.
import { html, useEffect, useRef, useState } from "./html.js";
import { api, allPages } from "./api.js";
import { useTechnicians, useUsers } from "./people.js";
import { scheduledAt } from "./job-new.js";
import { PRIORITY_LABELS, shownValue, stamp } from "./format.js";

const pad = (n) => String(n).padStart(2, "0");
const localDate = (iso) => (iso ? `${new Date(iso).getFullYear()}-${pad(new Date(iso).getMonth() + 1)}-${pad(new Date(iso).getDate())}` : "");
const localTime = (iso) => (iso ? `${pad(new Date(iso).getHours())}:${pad(new Date(iso).getMinutes())}` : "08:00");

/** The fields of an assignment: a job that gets a technician and a date moves on
 * from `unscheduled`/`scheduled` to `dispatched`; one that gets only a date from
 * `unscheduled` to `scheduled`. Other statuses are the technician's to change. */
export function planFields(job, technicianId, scheduled) {
  const fields = {};
  if ((job.technician_id ?? null) !== technicianId) fields.technician_id = technicianId;
  if ((job.scheduled_date ?? null) !== scheduled) fields.scheduled_date = scheduled;
  if (technicianId && scheduled && ["unscheduled", "scheduled"].includes(job.status)) fields.status = "dispatched";
  else if (scheduled && job.status === "unscheduled") fields.status = "scheduled";
  return fields;
}

export function PlanCard({ device, session, job }) {
  const technicians = useTechnicians(session);
  const [technician, setTechnician] = useState(job.technician_id ?? "");
  const [date, setDate] = useState(localDate(job.scheduled_date));
  const [time, setTime] = useState(localTime(job.scheduled_date));
  const [message, setMessage] = useState(null);
  const confirm = useRef(null);
  useEffect(() => {
    setTechnician(job.technician_id ?? "");
    setDate(localDate(job.scheduled_date));
    setTime(localTime(job.scheduled_date));
  }, [job.technician_id, job.scheduled_date]);

  const write = async (fields, done) => {
    if (Object.keys(fields).length === 0) return;
    try {
      await device.update("job", job.id, fields);
      setMessage(done);
    } catch (error) {
      setMessage(`Not saved: ${error.message}`);
    }
  };
  const save = (event) => {
    event.preventDefault();
    write(planFields(job, technician || null, scheduledAt(date, time)), "Plan saved.");
  };
  const closed = ["completed", "cancelled"].includes(job.status);
  return html`<section class="card" aria-labelledby="plan-title">
    <h2 id="plan-title">Plan</h2>
    <form onSubmit=${save}>
      <label for="plan-technician">Technician</label>
      <select id="plan-technician" value=${technician} onChange=${(e) => setTechnician(e.currentTarget.value)}>
        <option value="">Not assigned</option>
        ${technicians.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
        ${job.technician_id && !technicians.some((t) => t.id === job.technician_id) &&
        html`<option value=${job.technician_id}>${job.technician_id}</option>`}
      </select>
      <div class="row">
        <div class="filter"><label for="plan-date">Date</label>
          <input id="plan-date" type="date" value=${date} onChange=${(e) => setDate(e.currentTarget.value)} /></div>
        <div class="filter"><label for="plan-time">Time</label>
          <input id="plan-time" type="time" value=${time} onChange=${(e) => setTime(e.currentTarget.value)} /></div>
      </div>
      <div class="row"><button type="submit">Save plan</button></div>
    </form>
    <label for="plan-priority">Priority</label>
    <select id="plan-priority" value=${job.priority}
      onChange=${(e) => write({ priority: e.currentTarget.value }, "Priority changed.")}>
      ${Object.entries(PRIORITY_LABELS).map(([v, t]) => html`<option value=${v}>${t}</option>`)}
    </select>
    ${!closed && html`<div class="row">
      <button type="button" onClick=${() => confirm.current.showModal()}>Cancel job</button>
    </div>`}
    ${message && html`<p class="hint" aria-live="polite">${message}</p>`}
    <dialog ref=${confirm} class="dialog" aria-labelledby="cancel-title">
      <h2 id="cancel-title">Cancel this job?</h2>
      <p>The job is cancelled on every device at their next sync.</p>
      <div class="row">
        <button type="button" class="primary" onClick=${() => {
          confirm.current.close();
          write({ status: "cancelled" }, "Job cancelled.");
        }}>Confirm</button>
        <button type="button" onClick=${() => confirm.current.close()}>Keep it</button>
      </div>
    </dialog>
  </section>`;
}

/** What the server knows of the job; reloaded when the device's view of it changes. */
export function ServerRecord({ session, job }) {
  const names = new Map(useUsers(session).map((u) => [u.id, u.name]));
  const [record, setRecord] = useState({ detail: null, history: null, error: null });
  useEffect(() => {
    let alive = true;
    const path = `/api/jobs/${encodeURIComponent(job.id)}`;
    Promise.all([api(session, path), allPages(session, `${path}/history`)]).then(
      ([detail, history]) => alive && setRecord({ detail, history, error: null }),
      (error) => alive && setRecord((old) => ({ ...old, error })),
    );
    return () => {
      alive = false;
    };
  }, [job.id, job.version]);
  const { detail, history, error } = record;
  if (!detail) {
    const why = error?.status === 0 ? "Offline: the job's history shows once online." : error ? error.message : "Loading…";
    return html`<section class="card"><h2>Who wrote what</h2><p class="hint">${why}</p></section>`;
  }
  const fields = Object.entries(detail.fields_meta).sort(([a], [b]) => a.localeCompare(b));
  return html`<section class="card" aria-labelledby="meta-title">
      <h2 id="meta-title">Who wrote what</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label="Fields, scrolls sideways"><table aria-label="Fields">
        <thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">User</th>
          <th scope="col">Device</th><th scope="col">When</th></tr></thead>
        <tbody>${fields.map(
          ([name, meta]) => html`<tr key=${name}><td>${name}</td><td>${shownValue(detail[name])}</td>
            <td>${names.get(meta.user_id) ?? meta.user_id}</td><td>${meta.device_id}</td><td>${stamp(meta.ts)}</td></tr>`,
        )}</tbody>
      </table></div>
    </section>
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label="History, scrolls sideways"><table aria-label="History">
        <thead><tr><th scope="col">Received</th><th scope="col">Device and user</th><th scope="col">Op</th>
          <th scope="col">Fields</th><th scope="col">Outcome</th></tr></thead>
        <tbody>${history.map(
          (item) => html`<tr key=${`${item.device_id}:${item.seq}`} class=${item.status === "rejected" ? "rejected-op" : ""}>
            <td>${stamp(item.received_at)}</td>
            <td>${item.device_id} #${item.seq}<br /><span class="hint">${names.get(item.user_id) ?? item.user_id}</span></td><td>${item.action ?? "—"}</td>
            <td>${item.fields ? shownValue(item.fields) : "—"}</td>
            <td>${item.status === "rejected"
              ? html`<span class="error">Refused: ${item.error?.message ?? ""} (${item.error?.code ?? ""})</span>`
              : item.lost_fields.length > 0
                ? html`<span class="lost">Lost: ${item.lost_fields.join(", ")}</span>`
                : "Applied"}</td>
          </tr>`,
        )}</tbody>
      </table></div>
    </section>`;
}
