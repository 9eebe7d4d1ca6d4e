// Creating a job (dispatchers and admins): a dialog with the job's fields, a
// customer picker (the read API's customer search, or the device's replica when
// offline) and a location picker (the customer's sites). The job is one `create`
// op through the device, so it works offline too; the server gives its number.
import { html, useEffect, useRef, useState } from "./html.js";
import { api } from "./api.js";
import { jobHref } from "./router.js";
import { addressLine, PRIORITY_LABELS } from "./format.js";

const SERVICE_TYPES = ["installation", "maintenance", "repair", "inspection", "replacement", "emergency"];
const newId = () => crypto.randomUUID().replaceAll("-", "");

/** A local date and time ("YYYY-MM-DD", "HH:MM") as RFC 3339 UTC, or null. */
export function scheduledAt(date, time) {
  if (!date) return null;
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = (time || "08:00").split(":").map(Number);
  return new Date(y, m - 1, d, hh, mm).toISOString();
}

/** Customers whose name matches `q`: the API, or the device when it cannot be reached. */
async function findCustomers(session, device, q) {
  try {
    return (await api(session, "/api/customers", { query: { q: q || undefined, limit: 20 } })).items;
  } catch {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    const all = await device.query("customer");
    return all.filter((c) => words.every((w) => c.name.toLowerCase().includes(w))).slice(0, 20);
  }
}

export function NewJob({ device, session, technicians, onClose }) {
  const dialog = useRef(null);
  const [fields, setFields] = useState({ title: "", service_type: "maintenance", priority: "normal", description: "" });
  const [search, setSearch] = useState("");
  const [customers, setCustomers] = useState([]);
  const [customer, setCustomer] = useState(null);
  const [locations, setLocations] = useState([]);
  const [locationId, setLocationId] = useState("");
  const [technician, setTechnician] = useState("");
  const [date, setDate] = useState("");
  const [time, setTime] = useState("08:00");
  const [problem, setProblem] = useState(null);

  useEffect(() => {
    dialog.current.showModal();
    return () => dialog.current?.close();
  }, []);
  useEffect(() => {
    let alive = true;
    const timer = setTimeout(async () => {
      const found = await findCustomers(session, device, search);
      if (alive) setCustomers(found);
    }, 200);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [search]);
  useEffect(() => {
    if (!customer) return;
    device.query("location", { customer_id: customer.id }).then((found) => {
      setLocations(found);
      setLocationId(found[0]?.id ?? "");
    });
  }, [customer?.id]);

  const field = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });
  const submit = async (event) => {
    event.preventDefault();
    if (!customer) {
      setProblem("Choose a customer.");
      return;
    }
    const scheduled = scheduledAt(date, time);
    const job = {
      ...fields,
      title: fields.title.trim(),
      customer_id: customer.id,
      location_id: locationId || null,
      technician_id: technician || null,
      scheduled_date: scheduled,
      status: technician && scheduled ? "dispatched" : scheduled ? "scheduled" : "unscheduled",
    };
    if (!job.description) delete job.description;
    try {
      const id = newId();
      await device.create("job", id, job);
      onClose();
      location.hash = jobHref(id);
    } catch (error) {
      setProblem(`Not saved: ${error.message}`);
    }
  };
  return html`<dialog ref=${dialog} aria-labelledby="new-job-title" onClose=${onClose} class="dialog">
    <form onSubmit=${submit}>
      <h2 id="new-job-title">New job</h2>
      <label for="new-title">Title</label>
      <input id="new-title" type="text" required maxlength="200" value=${fields.title} onInput=${field("title")} />
      <div class="row">
        <div class="filter">
          <label for="new-service">Service type</label>
          <select id="new-service" value=${fields.service_type} onChange=${field("service_type")}>
            ${SERVICE_TYPES.map((s) => html`<option value=${s}>${s}</option>`)}
          </select>
        </div>
        <div class="filter">
          <label for="new-priority">Priority</label>
          <select id="new-priority" value=${fields.priority} onChange=${field("priority")}>
            ${Object.entries(PRIORITY_LABELS).map(([v, t]) => html`<option value=${v}>${t}</option>`)}
          </select>
        </div>
      </div>
      <label for="new-customer-search">Customer</label>
      <input id="new-customer-search" type="search" value=${search} placeholder="Search customers by name"
        onInput=${(e) => setSearch(e.currentTarget.value)} aria-describedby="new-customer-chosen" />
      <p id="new-customer-chosen" class="hint">${customer ? `Chosen: ${customer.name}` : "No customer chosen yet."}</p>
      <ul class="picker" aria-label="Customers found">
        ${customers.map(
          (c) => html`<li key=${c.id}><button type="button" aria-pressed=${customer?.id === c.id ? "true" : "false"}
            onClick=${() => setCustomer(c)}>${c.name}</button></li>`,
        )}
      </ul>
      ${customer && html`<label for="new-location">Location</label>
        <select id="new-location" value=${locationId} onChange=${(e) => setLocationId(e.currentTarget.value)}>
          <option value="">No location</option>
          ${locations.map((l) => html`<option value=${l.id}>${l.label ? `${l.label}: ` : ""}${addressLine(l)}</option>`)}
        </select>`}
      <label for="new-technician">Technician</label>
      <select id="new-technician" value=${technician} onChange=${(e) => setTechnician(e.currentTarget.value)}>
        <option value="">Not assigned</option>
        ${technicians.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
      </select>
      <div class="row">
        <div class="filter">
          <label for="new-date">Date</label>
          <input id="new-date" type="date" value=${date} onChange=${(e) => setDate(e.currentTarget.value)} />
        </div>
        <div class="filter">
          <label for="new-time">Time</label>
          <input id="new-time" type="time" value=${time} onChange=${(e) => setTime(e.currentTarget.value)} />
        </div>
      </div>
      <label for="new-description">Description</label>
      <textarea id="new-description" value=${fields.description} onInput=${field("description")}></textarea>
      ${problem && html`<p class="error" role="alert">${problem}</p>`}
      <div class="row">
        <button type="submit" class="primary">Create job</button>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  </dialog>`;
}
