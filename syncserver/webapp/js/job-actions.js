// What a technician does on a job, offline as online: each action is one op in
// the device's outbox, shown at once by the optimistic view.
import { html, useEffect, useState } from "./html.js";

const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic"];
const newId = () => crypto.randomUUID().replaceAll("-", "");

/** The status moves a technician may make from each status: [button, fields]. */
export function statusMoves(status, now = new Date()) {
  const moves = [];
  if (["scheduled", "dispatched", "on_hold"].includes(status)) {
    moves.push(["Start", { status: "in_progress" }]);
  }
  if (status === "in_progress") moves.push(["Put on hold", { status: "on_hold" }]);
  if (["in_progress", "on_hold"].includes(status)) {
    moves.push(["Complete", { status: "completed", completed_date: now.toISOString() }]);
  }
  return moves;
}

/** Run a write; its failure (a store that cannot write) as text. */
function useWrite() {
  const [problem, setProblem] = useState(null);
  const run = async (write) => {
    try {
      setProblem(null);
      await write();
      return true;
    } catch (error) {
      setProblem(`Not saved: ${error.message}`);
      return false;
    }
  };
  return [problem, run];
}

export function StatusActions({ device, job }) {
  const [problem, run] = useWrite();
  const moves = statusMoves(job.status);
  if (moves.length === 0) return null;
  return html`<div class="row" role="group" aria-label="Status">
    ${moves.map(
      ([label, fields]) => html`<button key=${label} type="button" class=${label === "Complete" ? "primary" : ""}
        onClick=${() => run(() => device.update("job", job.id, fields))}>${label}</button>`,
    )}
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
  </div>`;
}

export function DescriptionForm({ device, job }) {
  const saved = job.description ?? "";
  const [text, setText] = useState(saved);
  const [editing, setEditing] = useState(false);
  const [problem, run] = useWrite();
  useEffect(() => {
    if (!editing) setText(saved); // follow the view (a pull, another tab) unless being edited
  }, [saved, editing]);
  const submit = async (event) => {
    event.preventDefault();
    if (await run(() => device.update("job", job.id, { description: text }))) setEditing(false);
  };
  return html`<form class="card" onSubmit=${submit}>
    <h2><label for="description">Description</label></h2>
    <textarea id="description" value=${text}
      onInput=${(e) => { setEditing(true); setText(e.currentTarget.value); }}></textarea>
    <div class="row">
      <button type="submit" disabled=${!editing || text === saved}>Save description</button>
      ${editing && text !== saved && html`<span class="hint">Not saved yet</span>`}
    </div>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
  </form>`;
}

export function NoteForm({ device, job }) {
  const [body, setBody] = useState("");
  const [problem, run] = useWrite();
  const submit = async (event) => {
    event.preventDefault();
    const text = body.trim();
    if (!text) return;
    if (await run(() => device.create("job_note", newId(), { job_id: job.id, body: text }))) setBody("");
  };
  return html`<form onSubmit=${submit}>
    <label for="note">Note</label>
    <textarea id="note" value=${body} onInput=${(e) => setBody(e.currentTarget.value)}></textarea>
    <div class="row"><button type="submit" disabled=${!body.trim()}>Add note</button></div>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
  </form>`;
}

export function PhotoForm({ device, job }) {
  const [problem, run] = useWrite();
  const [busy, setBusy] = useState(false);
  const chosen = async (event) => {
    const input = event.currentTarget;
    const files = [...input.files];
    setBusy(true);
    for (const file of files) {
      if (!PHOTO_TYPES.includes(file.type)) {
        await run(async () => {
          throw new Error(`${file.name} is not a JPEG, PNG, WebP or HEIC photo`);
        });
        continue;
      }
      await run(() => device.addPhoto(job.id, file, { takenAt: new Date(file.lastModified || Date.now()) }));
    }
    input.value = "";
    setBusy(false);
  };
  return html`<div>
    <label for="photo">Take or attach a photo</label>
    <input id="photo" type="file" accept=${PHOTO_TYPES.join(",")} capture="environment" multiple
      disabled=${busy} onChange=${chosen} />
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
  </div>`;
}
