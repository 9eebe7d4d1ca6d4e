// What an admin changes on a user (PATCH /api/users/{id}): `Edit` opens a dialog
// for the name, role and service areas (`Save`); `Deactivate` asks to `Confirm`
// first, since the user's tokens stop working at once. Each dialog shows the
// server's error inside it, next to its buttons.
import { html, useState } from "./html.js";
import { api } from "./api.js";
import { Modal, DialogButtons } from "./users-dialog.js";
import { RoleAndAreas, parseAreas } from "./users-form.js";

/** Run a PATCH of the user; {busy, error, patch(body) -> the user or null}. */
function usePatch(session, user, onSaved) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const patch = async (body) => {
    if (busy) return null;
    setBusy(true);
    setError(null);
    try {
      const saved = await api(session, `/api/users/${encodeURIComponent(user.id)}`, { method: "PATCH", body });
      setBusy(false);
      onSaved(saved);
      return saved;
    } catch (caught) {
      setError(`Not saved: ${caught.message}`);
      setBusy(false);
      return null;
    }
  };
  return { busy, error, patch };
}

/** props: session, user, opener, onSaved(user), onClose(). */
export function EditDialog({ session, user, opener, onSaved, onClose }) {
  const [name, setName] = useState(user.name);
  const [role, setRole] = useState(user.role);
  const [areas, setAreas] = useState(user.service_areas.join(", "));
  const { busy, error, patch } = usePatch(session, user, onSaved);
  const submit = async (event) => {
    event.preventDefault();
    if (await patch({ name: name.trim(), role, service_areas: parseAreas(areas) })) onClose();
  };
  return html`<${Modal} id="edit-user" title=${`Edit ${user.name}`} opener=${opener} fallback="users-title"
      busy=${busy} onClose=${onClose}>
    <form onSubmit=${submit}>
      <label for="edit-name">Name</label>
      <input id="edit-name" type="text" required maxlength="200" value=${name}
        onInput=${(e) => setName(e.currentTarget.value)} />
      <${RoleAndAreas} prefix="edit" role=${role} areas=${areas} onRole=${setRole} onAreas=${setAreas} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${DialogButtons} submit=${busy ? "Saving…" : "Save"} busy=${busy} onCancel=${onClose} />
    </form>
  <//>`;
}

/** props: session, user, opener, onSaved(user), onClose(). */
export function DeactivateDialog({ session, user, opener, onSaved, onClose }) {
  const { busy, error, patch } = usePatch(session, user, onSaved);
  const submit = async (event) => {
    event.preventDefault();
    if (await patch({ active: false })) onClose();
  };
  return html`<${Modal} id="deactivate-user" title=${`Deactivate ${user.name}?`} opener=${opener}
      fallback="users-title" busy=${busy} onClose=${onClose}>
    <form onSubmit=${submit}>
      <p>${user.name} (${user.email}) can no longer sign in or sync: every token of theirs is refused
        from now on. Changes their devices have not synced stay on those devices. Reactivating them
        lets their tokens work again.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${DialogButtons} submit=${busy ? "Deactivating…" : "Confirm"} busy=${busy} onCancel=${onClose} danger=${true} />
    </form>
  <//>`;
}

/** `Reactivate`: no dialog (it gives access back, taking nothing away). */
export async function reactivate(session, user) {
  return api(session, `/api/users/${encodeURIComponent(user.id)}`, { method: "PATCH", body: { active: true } });
}
