// The conflict review's filters (GET /api/conflicts's query, docs/protocol.md, "Conflict reports and resolution"):
// entity, field, device, user, since and status. Selects and the date apply at
// once; the device and user boxes after a short pause in typing.
import { html, useEffect, useRef, useState } from "./html.js";

export const NO_FILTERS = { status: "open", entity: "", field: "", device_id: "", user_id: "", since: "" };

const ENTITIES = ["job", "customer", "location", "contact", "job_note", "job_photo"];
const TYPING_PAUSE_MS = 400;

/** The API's query for the filters: `since` (a local day) as that day's local midnight. */
export function conflictQuery(filters) {
  let since = "";
  if (filters.since) {
    const [y, m, d] = filters.since.split("-").map(Number);
    since = new Date(y, m - 1, d).toISOString();
  }
  return { ...filters, since };
}

function Select({ id, label, value, options, onChange }) {
  return html`<div>
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${options.map(([v, text]) => html`<option key=${v} value=${v}>${text}</option>`)}
    </select>
  </div>`;
}

/** A text box whose value is applied after a pause in typing (or on Enter / leaving it). */
function Typed({ id, label, value, suggestions, onChange }) {
  const [draft, setDraft] = useState(value);
  const timer = useRef(null);
  useEffect(() => setDraft(value), [value]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const apply = (text) => {
    clearTimeout(timer.current);
    if (text.trim() !== value) onChange(text.trim());
  };
  return html`<div>
    <label for=${id}>${label}</label>
    <input id=${id} type="text" list=${`${id}-list`} value=${draft} autocomplete="off" spellcheck="false"
      onInput=${(e) => {
        const text = e.currentTarget.value;
        setDraft(text);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => apply(text), TYPING_PAUSE_MS);
      }}
      onChange=${(e) => apply(e.currentTarget.value)} />
    <datalist id=${`${id}-list`}>
      ${suggestions.map(([v, text]) => html`<option key=${v} value=${v}>${text}</option>`)}
    </datalist>
  </div>`;
}

/** props: filters, fields (names known from the summary), users, devices, onChange(filters). */
export function ConflictFilters({ filters, fields, users, devices, onChange }) {
  const set = (name) => (value) => onChange({ ...filters, [name]: value });
  const fieldNames = [...new Set([...fields, filters.field].filter(Boolean))].sort();
  return html`<div class="row" style="align-items: flex-end;" role="group" aria-label="Filters">
    <${Select} id="conflicts-status" label="Status" value=${filters.status} onChange=${set("status")}
      options=${[["open", "Open"], ["resolved", "Resolved"]]} />
    <${Select} id="conflicts-entity" label="Entity" value=${filters.entity} onChange=${set("entity")}
      options=${[["", "Any entity"], ...ENTITIES.map((e) => [e, e])]} />
    <${Select} id="conflicts-field" label="Field" value=${filters.field} onChange=${set("field")}
      options=${[["", "Any field"], ...fieldNames.map((f) => [f, f])]} />
    <${Typed} id="conflicts-device" label="Device" value=${filters.device_id} onChange=${set("device_id")}
      suggestions=${devices.map((d) => [d.device_id, d.user_id])} />
    <${Typed} id="conflicts-user" label="User" value=${filters.user_id} onChange=${set("user_id")}
      suggestions=${users.map((u) => [u.id, u.name])} />
    <div>
      <label for="conflicts-since">Since</label>
      <input id="conflicts-since" type="date" value=${filters.since}
        style="font: inherit; padding: 0.45rem 0.6rem; border: 1px solid var(--muted); border-radius: 6px;"
        onChange=${(e) => set("since")(e.currentTarget.value)} />
    </div>
    <button type="button" onClick=${() => onChange(NO_FILTERS)}>Clear filters</button>
  </div>`;
}
