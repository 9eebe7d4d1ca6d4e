// The fields of a user on the Users screen: roles and their labels, service areas
// typed comma-separated, and the form that creates a user (POST /api/users; a
// duplicate email answers 409 with the server's message, shown under the form).
import { html, useState } from "./html.js";
import { api } from "./api.js";

export const ROLES = {
  admin: "Admin",
  dispatcher: "Dispatcher",
  technician: "Technician",
  service_provider: "Service provider",
};

export const roleLabel = (role) => ROLES[role] ?? role;

// app.css styles text inputs but not email ones: the same look, inline.
const EMAIL_STYLE =
  "font: inherit; width: 100%; padding: 0.55rem 0.7rem; border: 1px solid var(--muted); border-radius: 6px; " +
  "background: var(--paper); color: var(--ink);";

/** "north, harbour ,," -> ["north", "harbour"] (each once, in order). */
export const parseAreas = (text) => [...new Set(text.split(",").map((a) => a.trim()).filter(Boolean))];

/** `Role` and `Service areas`, ids prefixed by `prefix` (several forms share a page). */
export function RoleAndAreas({ prefix, role, areas, onRole, onAreas }) {
  return html`
    <label for=${`${prefix}-role`}>Role</label>
    <select id=${`${prefix}-role`} value=${role} onChange=${(e) => onRole(e.currentTarget.value)}>
      ${Object.entries(ROLES).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
    </select>
    <label for=${`${prefix}-areas`}>Service areas</label>
    <input id=${`${prefix}-areas`} type="text" value=${areas} autocomplete="off"
      aria-describedby=${`${prefix}-areas-hint`} onInput=${(e) => onAreas(e.currentTarget.value)} />
    <p id=${`${prefix}-areas-hint`} class="hint">Comma-separated, e.g. <code>north, harbour</code>.
      A service provider also sees every job in their areas.</p>`;
}

/** props: session, onCreated(user). */
export function CreateUserForm({ session, onCreated }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("technician");
  const [areas, setAreas] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [taken, setTaken] = useState(false); // the error is the email's: 409, a duplicate
  const [done, setDone] = useState("");
  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setTaken(false);
    setDone("");
    try {
      const body = { name: name.trim(), email: email.trim(), role, service_areas: parseAreas(areas) };
      const user = await api(session, "/api/users", { method: "POST", body });
      onCreated(user);
      setDone(`Created ${user.name} (${roleLabel(user.role)}).`);
      setName("");
      setEmail("");
      setAreas("");
    } catch (caught) {
      setTaken(caught.status === 409);
      setError(caught.status === 409 ? caught.message : `Not created: ${caught.message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card" onSubmit=${submit} aria-labelledby="new-user-title">
    <h2 id="new-user-title">New user</h2>
    <div class="row" style="align-items: flex-start;">
      <div style="flex: 1 1 14rem;">
        <label for="new-name">Name</label>
        <input id="new-name" type="text" required maxlength="200" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} />
      </div>
      <div style="flex: 1 1 14rem;">
        <label for="new-email">Email</label>
        <input id="new-email" type="email" required maxlength="254" autocomplete="off" value=${email}
          aria-describedby=${taken ? "new-user-error" : undefined} aria-invalid=${taken ? "true" : undefined}
          onInput=${(e) => setEmail(e.currentTarget.value)} style=${EMAIL_STYLE} />
      </div>
    </div>
    <${RoleAndAreas} prefix="new" role=${role} areas=${areas} onRole=${setRole} onAreas=${setAreas} />
    ${error && html`<p id="new-user-error" class="error" role="alert">${error}</p>`}
    <div class="row">
      <button type="submit" class="primary" aria-disabled=${busy ? "true" : undefined}>${busy ? "Creating…" : "Create user"}</button>
      <span class="hint" aria-live="polite">${done}</span>
    </div>
  </form>`;
}
