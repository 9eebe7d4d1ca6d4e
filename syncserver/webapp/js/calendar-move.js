// The keyboard's way to move a job on the calendar: a modal <dialog> (showModal,
// so focus moves into it and Escape cancels) with a `Technician` select, a
// `Date` and a `Time`, `Save` and `Cancel`. Where the focus goes after it closes
// is the caller's to say (back to the card's Move button).
import { html, useEffect, useRef, useState } from "./html.js";
import { dayKey } from "./format.js";
import { dialogTime, timeValue } from "./calendar-time.js";
import { jobName } from "./calendar-grid.js";

/** props: job, lanes (Unassigned first), onSave(technicianId, when), onClose(). */
export function MoveDialog({ job, lanes, onSave, onClose }) {
  const dialog = useRef(null);
  const [technician, setTechnician] = useState(job.technician_id ?? "");
  const [date, setDate] = useState(job.scheduled_date ? dayKey(job.scheduled_date) : "");
  const [time, setTime] = useState(job.scheduled_date ? timeValue(job.scheduled_date) : "");
  useEffect(() => {
    const element = dialog.current;
    element.showModal();
    return () => element.open && element.close();
  }, []);
  const save = (event) => {
    event.preventDefault();
    onSave(technician || null, dialogTime(date, time));
  };
  const name = jobName(job);
  return html`<dialog ref=${dialog} class="cal-dialog" aria-labelledby="cal-move-title" aria-describedby="cal-move-what"
      onCancel=${(event) => { event.preventDefault(); onClose(); }}>
    <form onSubmit=${save}>
      <h2 id="cal-move-title">Move ${name}</h2>
      <p id="cal-move-what" class="hint">${job.job_number ? job.title : "Not synced yet"}. A date without a time
        starts at 09:00; no date puts the job under Not scheduled.</p>
      <label for="cal-move-technician">Technician</label>
      <select id="cal-move-technician" value=${technician} onChange=${(e) => setTechnician(e.currentTarget.value)}>
        ${lanes.map((lane) => html`<option key=${lane.id} value=${lane.id}>${lane.name}</option>`)}
      </select>
      <div class="cal-when">
        <div>
          <label for="cal-move-date">Date</label>
          <input id="cal-move-date" type="date" value=${date} onInput=${(e) => setDate(e.currentTarget.value)} />
        </div>
        <div>
          <label for="cal-move-time">Time</label>
          <input id="cal-move-time" type="time" value=${time} onInput=${(e) => setTime(e.currentTarget.value)} />
        </div>
      </div>
      <div class="row" style="justify-content: flex-end; margin-top: 1rem;">
        <button type="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="primary">Save</button>
      </div>
    </form>
  </dialog>`;
}
