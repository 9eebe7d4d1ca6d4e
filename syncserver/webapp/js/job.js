// A job page (docs/protocol.md, "Web app, SDK module and docs"): the job's title as the level-1 heading,
// its facts, customer and contacts, location, notes and photos, what clashed or
// was refused, and the technician's actions. Everything is read from the device's
// optimistic view, so it works offline and shows a write at once.
import { html } from "./html.js";
import { useView } from "./device.js";
import { StatusActions, DescriptionForm, NoteForm, PhotoForm } from "./job-actions.js";
import { CustomerCard, LocationCard, NotesCard, PhotosCard } from "./job-parts.js";
import { Notices, Rejections } from "./job-notices.js";
import { lazy } from "./lazy.js";
import { priorityLabel, stamp, statusLabel } from "./format.js";

// The dispatcher's parts, loaded for dispatchers and admins only.
const PlanCard = lazy(() => import("./job-office.js"), "PlanCard");
const ServerRecord = lazy(() => import("./job-office.js"), "ServerRecord");

/** Whether a rejection or notice is about this job (the job, or its notes and photos). */
const aboutJob = (jobId, noteAndPhotoIds) => (entity, id, fields) =>
  (entity === "job" && id === jobId) || fields?.job_id === jobId || noteAndPhotoIds.has(id);

async function load(device, jobId) {
  const job = await device.get("job", jobId);
  if (!job) return { job: null };
  const [customer, location, contacts, notes, photos, notices, rejected] = await Promise.all([
    device.get("customer", job.customer_id),
    job.location_id ? device.get("location", job.location_id) : null,
    device.query("contact", { customer_id: job.customer_id }),
    device.query("job_note", { job_id: jobId }),
    device.query("job_photo", { job_id: jobId }),
    device.notices(),
    device.rejected(),
  ]);
  const about = aboutJob(jobId, new Set([...notes, ...photos].map((x) => x.id)));
  return {
    job,
    customer,
    location,
    contacts,
    notes: notes.sort((a, b) => String(a.created_at ?? "~").localeCompare(String(b.created_at ?? "~"))),
    photos,
    notices: notices.filter((n) => about(n.entity, n.entity_id)),
    rejected: rejected.filter((r) => about(r.op.entity, r.op.id, r.op.fields)),
  };
}

function Facts({ job }) {
  return html`<dl class="facts">
    <dt>Job number</dt><dd>${job.job_number ?? "Given by the server on sync"}</dd>
    <dt>Status</dt><dd><span class=${`badge status-${job.status}`}>${statusLabel(job.status)}</span>
      ${job.pending && html`<span class="badge pending-badge">Waiting to sync</span>`}</dd>
    <dt>Scheduled</dt><dd>${job.scheduled_date ? stamp(job.scheduled_date) : "Not scheduled"}</dd>
    ${job.completed_date && html`<dt>Completed</dt><dd>${stamp(job.completed_date)}</dd>`}
    <dt>Priority</dt><dd>${priorityLabel(job.priority)}</dd>
    <dt>Service</dt><dd>${job.service_type}</dd>
  </dl>`;
}

export function JobPage({ device, session, jobId }) {
  const { data, error } = useView(device, (d) => load(d, jobId), [jobId]);
  if (!data) return html`<p class="loading">${error ? `Could not read the job: ${error.message}` : "Loading…"}</p>`;
  const { job } = data;
  const office = ["admin", "dispatcher"].includes(session.me.role);
  if (!job) {
    return html`<section>
      <h1>Job not on this device</h1>
      <p>This job is not among the jobs this device holds: it may have been reassigned, or not synced yet.</p>
      <p><a href="#/">Back to the list</a></p>
    </section>`;
  }
  return html`<article aria-labelledby="job-title">
    <p><a href="#/">← All jobs</a></p>
    <h1 id="job-title">${job.title}</h1>
    <${Notices} device=${device} notices=${data.notices} me=${session.me} />
    <${Rejections} device=${device} rejected=${data.rejected} />
    <div class="job-columns">
      <div>
        <section class="card" aria-labelledby="job-facts">
          <h2 id="job-facts">Job</h2>
          <${Facts} job=${job} />
          <${StatusActions} device=${device} job=${job} />
        </section>
        <${DescriptionForm} device=${device} job=${job} />
        <${NotesCard} notes=${data.notes} me=${session.me}>
          <${NoteForm} device=${device} job=${job} />
        <//>
        <${PhotosCard} device=${device} session=${session} photos=${data.photos}>
          <${PhotoForm} device=${device} job=${job} />
        <//>
      </div>
      <div>
        ${office && html`<${PlanCard} device=${device} session=${session} job=${job} />`}
        <${CustomerCard} customer=${data.customer} contacts=${data.contacts} />
        <${LocationCard} location=${data.location} />
      </div>
    </div>
    ${office && html`<${ServerRecord} session=${session} job=${job} />`}
  </article>`;
}
