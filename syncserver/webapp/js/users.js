// Users and tokens for admins (issue 15): a table named `Users` (name, email, role,
// service areas, active) from GET /api/users (all pages), a form to create one,
// and per user `Edit`, `Deactivate` (confirmed in a dialog) or `Reactivate`, and
// `Issue token`; then `Revoke token` for the tokens issued here or any by its id.
// Everything goes through the API as the signed-in admin.
import { html, useEffect, useState } from "./html.js";
import { allPages } from "./api.js";
import { CreateUserForm, roleLabel } from "./users-form.js";
import { DeactivateDialog, EditDialog, reactivate } from "./users-actions.js";
import { IssueTokenDialog, Tokens } from "./users-tokens.js";

const byName = (a, b) => a.name.localeCompare(b.name) || a.email.localeCompare(b.email);

const DIALOGS = { edit: EditDialog, deactivate: DeactivateDialog, token: IssueTokenDialog };

const ACTION_STYLE = "padding: 0.3rem 0.65rem;"; // 44 px high still, narrower for the table

function UserRow({ user, me, error, onOpen, onReactivate }) {
  const nameId = `user-${user.id}`;
  const open = (kind) => (event) => onOpen(kind, user, event.currentTarget);
  return html`<tr>
    <th scope="row" id=${nameId} style="font-weight: 600;">
      ${user.name}${user.id === me && html`<br /><span class="hint" style="font-weight: normal;">(you)</span>`}
    </th>
    <td style="overflow-wrap: anywhere; min-width: 12rem;">${user.email}</td>
    <td>${roleLabel(user.role)}</td>
    <td>${user.service_areas.length ? user.service_areas.join(", ") : "—"}</td>
    <td>${user.active ? "Active" : "Inactive"}</td>
    <td>
      <div class="row" style="margin: 0; gap: 0.35rem; min-width: 8.5rem; white-space: nowrap;">
        <button type="button" style=${ACTION_STYLE} aria-describedby=${nameId} onClick=${open("edit")}>Edit</button>
        ${user.id === me
          ? null
          : user.active
            ? html`<button type="button" style=${ACTION_STYLE} aria-describedby=${nameId} onClick=${open("deactivate")}>Deactivate</button>`
            : html`<button type="button" style=${ACTION_STYLE} aria-describedby=${nameId} onClick=${() => onReactivate(user)}>Reactivate</button>`}
        <button type="button" style=${ACTION_STYLE} aria-describedby=${nameId} onClick=${open("token")}>Issue token</button>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </td>
  </tr>`;
}

export function Users({ session }) {
  const [users, setUsers] = useState(undefined);
  const [loadError, setLoadError] = useState(null);
  const [rowErrors, setRowErrors] = useState({}); // by user id
  const [dialog, setDialog] = useState(null); // {kind, user, opener}
  const [issued, setIssued] = useState([]); // tokens issued on this page: ids only, never the token

  const load = () =>
    allPages(session, "/api/users").then(
      (all) => {
        setUsers(all.sort(byName));
        setLoadError(null);
      },
      (error) => setLoadError(error.message),
    );
  useEffect(() => {
    load();
  }, [session.token]);

  const saved = (user) => setUsers((old) => [...(old ?? []).filter((u) => u.id !== user.id), user].sort(byName));
  const onReactivate = async (user) => {
    setRowErrors((old) => ({ ...old, [user.id]: null }));
    try {
      saved(await reactivate(session, user));
    } catch (error) {
      setRowErrors((old) => ({ ...old, [user.id]: `Not reactivated: ${error.message}` }));
    }
  };
  const Dialog = dialog && DIALOGS[dialog.kind];

  return html`<section aria-labelledby="users-title">
    <h1 id="users-title" tabindex="-1">Users</h1>
    <${CreateUserForm} session=${session} onCreated=${saved} />
    <h2 id="users-list-title">All users</h2>
    ${loadError &&
    html`<div class="row"><p class="error" role="alert">Could not load the users: ${loadError}</p>
      <button type="button" onClick=${load}>Try again</button></div>`}
    ${users === undefined && !loadError && html`<p class="loading">Loading…</p>`}
    ${users &&
    html`<div class="table-wrap" tabindex="0" role="region" aria-label="Users, scrolls sideways when narrow">
      <table aria-label="Users">
        <thead><tr>
          <th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th>
          <th scope="col">Service areas</th><th scope="col">Active</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody>
          ${users.map(
            (user) => html`<${UserRow} key=${user.id} user=${user} me=${session.me.id} error=${rowErrors[user.id]}
              onOpen=${(kind, u, opener) => setDialog({ kind, user: u, opener })} onReactivate=${onReactivate} />`,
          )}
        </tbody>
      </table>
    </div>`}
    <${Tokens} session=${session} users=${users} issued=${issued}
      onRevoked=${(id) => setIssued((old) => old.map((t) => (t.id === id ? { ...t, revoked: true } : t)))} />
    ${Dialog &&
    html`<${Dialog} key=${`${dialog.kind}-${dialog.user.id}`} session=${session} user=${dialog.user}
      opener=${dialog.opener} onSaved=${saved} onIssued=${(t) => setIssued((old) => [...old, t])}
      onClose=${() => setDialog(null)} />`}
  </section>`;
}
