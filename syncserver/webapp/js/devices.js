// Devices for admins (issue 15): every device the server knows (GET /api/devices,
// all pages) with its owner (GET /api/users: name and email, else the user id),
// its log's acked seq, its last push and pull, and the notices it lost and has not
// yet acknowledged by pull. Most recently active first. `Refresh` reloads, and so
// does a `change` of this browser's device, at most once per 2 s.
import { html, useCallback, useEffect, useRef, useState } from "./html.js";
import { allPages } from "./api.js";
import { useChanges } from "./device.js";
import { stamp } from "./format.js";

const CHANGE_RELOAD_MS = 2000;

const millis = (time) => (time ? Date.parse(time) || 0 : 0);
/** A device's last push or pull, whichever is later (0: never synced). */
export const lastActivity = (device) => Math.max(millis(device.last_push_at), millis(device.last_pull_at));

async function load(session) {
  const [devices, users] = await Promise.all([allPages(session, "/api/devices"), allPages(session, "/api/users")]);
  const owners = new Map(users.map((user) => [user.id, user]));
  return devices
    .map((device) => ({ ...device, owner: owners.get(device.user_id) ?? null }))
    .sort((a, b) => lastActivity(b) - lastActivity(a) || a.device_id.localeCompare(b.device_id));
}

/** {data, error, loading, loadedAt, reload}: loads never overlap; a reload asked for
 * during one runs once it ends. */
function useDevices(session) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true, loadedAt: null });
  const running = useRef(false);
  const again = useRef(false);
  const alive = useRef(true);
  const reload = useCallback(async () => {
    if (running.current) {
      again.current = true;
      return;
    }
    running.current = true;
    do {
      again.current = false;
      setState((old) => ({ ...old, loading: true }));
      try {
        const data = await load(session);
        if (alive.current) setState({ data, error: null, loading: false, loadedAt: new Date() });
      } catch (error) {
        if (alive.current) setState((old) => ({ ...old, error, loading: false }));
      }
    } while (again.current && alive.current);
    running.current = false;
  }, [session.token]);
  useEffect(() => {
    alive.current = true;
    reload();
    return () => {
      alive.current = false;
    };
  }, [reload]);
  return { ...state, reload };
}

function Owner({ device }) {
  const { owner } = device;
  if (!owner) return html`<code>${device.user_id}</code>`;
  return html`${owner.name}<br /><span class="hint">${owner.email}</span>`;
}

const when = (time) => (time ? stamp(time) : "Never");

export function Devices({ device, session }) {
  const { data, error, loading, loadedAt, reload } = useDevices(session);
  // The view changed (a pull brought changes): devices moved too. Once per 2 s at most.
  useChanges(device, reload, CHANGE_RELOAD_MS);

  return html`<section aria-labelledby="devices-title">
    <div class="row heading-row">
      <h1 id="devices-title">Devices</h1>
      <button type="button" onClick=${reload} aria-describedby="devices-loaded">Refresh</button>
    </div>
    <p id="devices-loaded" class="hint" aria-live="polite">
      ${loading ? "Loading…" : loadedAt ? `Updated ${loadedAt.toLocaleTimeString()}` : ""}
    </p>
    ${error && html`<p class="error" role="alert">Could not load the devices: ${error.message}</p>`}
    ${data && data.length === 0 && html`<p class="empty">No device has pushed or pulled yet.</p>`}
    ${data &&
    data.length > 0 &&
    html`<div class="table-wrap" tabindex="0" role="region" aria-label="Devices, scrolls sideways when narrow">
      <table aria-label="Devices">
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Owner</th><th scope="col">Acked seq</th>
          <th scope="col">Last push</th><th scope="col">Last pull</th><th scope="col">Pending notices</th>
        </tr></thead>
        <tbody>
          ${data.map(
            (d) => html`<tr key=${d.device_id}>
              <td><code style="word-break: break-all;">${d.device_id}</code></td>
              <td><${Owner} device=${d} /></td>
              <td>${d.acked_seq}</td>
              <td>${when(d.last_push_at)}</td>
              <td>${when(d.last_pull_at)}</td>
              <td>${d.pending_notices ?? 0}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`}
  </section>`;
}
