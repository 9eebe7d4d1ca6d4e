// The admins' conflict review (issue 15, docs/protocol.md, "Conflict reports and resolution" and "Web app, SDK module and docs"): a table
// named `Conflicts` of the notices matching the filters, 50 a page, the winner and
// the loser side by side; per open notice `Keep winner`, `Apply loser` and `Set
// value`, each confirmed in a dialog; the summary charted by day and by field.
// Read from the API (not the device), and read again when the device's view
// changes (at most once a second) and every 5 s while shown, so new notices appear.
import { html, useCallback, useEffect, useRef, useState } from "./html.js";
import { api, allPages } from "./api.js";
import { useChanges } from "./device.js";
import { useUsers } from "./people.js";
import { jobHref } from "./router.js";
import { shownValue, stamp } from "./format.js";
import { SummaryCharts } from "./conflicts-chart.js";
import { ACTIONS, ResolveDialog } from "./conflicts-dialog.js";
import { ConflictFilters, NO_FILTERS, conflictQuery } from "./conflicts-filters.js";

const PAGE = 50;
const LIVE_EVERY_MS = 1000;
const POLL_EVERY_MS = 5000;

const OUTCOMES = { keep_winner: "kept the winner", apply_loser: "applied the loser", set: "set a value" };

/** Who a user id is, by name when the users list has them. */
const nameOf = (users, id) => users.find((u) => u.id === id)?.name ?? id;

function Side({ side, users }) {
  return html`<div style="overflow-wrap: anywhere;">
    <div><strong>${shownValue(side.value)}</strong></div>
    <div class="hint">User: ${nameOf(users, side.user_id)}</div>
    <div class="hint">Device: ${side.device_id}</div>
    <div class="hint">Written <time datetime=${new Date(side.ts).toISOString()}>${stamp(side.ts)}</time></div>
  </div>`;
}

function Resolution({ resolution, users }) {
  if (!resolution) return "—";
  const how = OUTCOMES[resolution.action] ?? resolution.action;
  const value = resolution.action === "keep_winner" ? "" : `: ${shownValue(resolution.value)}`;
  return html`<div style="overflow-wrap: anywhere;">
    <div>${how[0].toUpperCase()}${how.slice(1)}${value}</div>
    <div class="hint">By ${nameOf(users, resolution.resolved_by)}</div>
    <div class="hint">${stamp(resolution.resolved_at)}</div>
  </div>`;
}

/** The notice's subject: field, entity and id (a job's id links to its page), when detected. */
function Subject({ notice, id }) {
  return html`<div id=${id} style="overflow-wrap: anywhere;">
    <div><strong>${notice.field}</strong></div>
    <div>${notice.entity}${" "}
      ${notice.entity === "job" ? html`<a href=${jobHref(notice.entity_id)}>${notice.entity_id}</a>` : notice.entity_id}</div>
    <div class="hint">Detected <time datetime=${notice.detected_at}>${stamp(notice.detected_at)}</time></div>
  </div>`;
}

const CELL = "vertical-align: top;";
const ACTION_BUTTON = "white-space: nowrap; padding: 0.35rem 0.75rem;";

function NoticeRow({ notice, users, onResolve }) {
  const subject = `notice-${notice.id}`;
  return html`<tr>
    <td style=${CELL}><${Subject} notice=${notice} id=${subject} /></td>
    <td style=${CELL}><${Side} side=${notice.winner} users=${users} /></td>
    <td style=${CELL}><${Side} side=${notice.loser} users=${users} /></td>
    <td style=${CELL}>
      ${notice.status === "open"
        ? html`<div style="display: flex; flex-direction: column; gap: 0.35rem;">
            ${Object.entries(ACTIONS).map(
              ([action, { label }]) => html`<button key=${action} type="button" style=${ACTION_BUTTON}
                aria-describedby=${subject} onClick=${(e) => onResolve(notice, action, e.currentTarget)}>${label}</button>`,
            )}
          </div>`
        : html`<${Resolution} resolution=${notice.resolution} users=${users} />`}
    </td>
  </tr>`;
}

export function Conflicts({ device, session }) {
  const [filters, setFilters] = useState(NO_FILTERS);
  const [cursors, setCursors] = useState([null]); // the cursor of each page up to this one
  const [list, setList] = useState({ items: undefined, next: null, error: null });
  const [summary, setSummary] = useState(null);
  const users = useUsers(session);
  const [devices, setDevices] = useState([]);
  const [pending, setPending] = useState(null); // {notice, action}: the dialog open
  const [resolving, setResolving] = useState({ busy: false, error: null });
  const [message, setMessage] = useState(null); // {text, bad}
  const heading = useRef(null);
  const opener = useRef(null); // where the focus goes back when the dialog closes
  const asked = useRef(0);
  const cursor = cursors[cursors.length - 1];
  // Which filters and page the list shows: paging waits until it is the one asked for.
  const shownKey = JSON.stringify([filters, cursor]);

  const reload = useCallback(async () => {
    const mine = ++asked.current;
    const key = shownKey;
    const query = { ...conflictQuery(filters), limit: PAGE, cursor };
    const [page, counts] = await Promise.allSettled([
      api(session, "/api/conflicts", { query }),
      api(session, "/api/conflicts/summary"),
    ]);
    if (mine !== asked.current) return; // a later reload is on its way
    if (page.status === "fulfilled") {
      if (page.value.items.length === 0 && cursors.length > 1) {
        setCursors((old) => old.slice(0, -1)); // this page emptied: back to the one before
        return;
      }
      setList({ items: page.value.items, next: page.value.next_cursor, error: null, key });
    } else {
      setList((old) => ({ ...old, error: page.reason }));
    }
    if (counts.status === "fulfilled") setSummary(counts.value);
  }, [session, filters, cursors, shownKey]);

  useEffect(() => {
    reload();
  }, [reload]);
  // A write that lost on every field changes nothing on this device, yet makes a
  // notice: poll as well while the page is visible.
  useChanges(device, reload, LIVE_EVERY_MS, POLL_EVERY_MS);

  useEffect(() => {
    let alive = true;
    allPages(session, "/api/devices").then(
      (devices) => alive && setDevices(devices),
      () => {},
    );
    return () => {
      alive = false;
    };
  }, [session]);

  const openDialog = (notice, action, button) => {
    opener.current = button;
    setResolving({ busy: false, error: null });
    setPending({ notice, action });
  };
  const closeDialog = (focusTo) => {
    setPending(null);
    const target = focusTo?.isConnected ? focusTo : heading.current;
    setTimeout(() => target?.focus()); // once the dialog is gone
  };
  const resolve = async (value) => {
    const { notice, action } = pending;
    setResolving({ busy: true, error: null });
    const body = action === "set" ? { action, value } : { action };
    const what = `the ${notice.field} of ${notice.entity} ${notice.entity_id}`;
    try {
      await api(session, `/api/conflicts/${encodeURIComponent(notice.id)}/resolve`, { method: "POST", body });
      setMessage({ text: `Resolved ${what}: ${OUTCOMES[action]}.`, bad: false });
      closeDialog(null);
      await reload();
    } catch (error) {
      if (error.status === 409 && error.code === "conflict") {
        // Resolved meanwhile, by someone else or in another tab: say so, and read the list again.
        setMessage({ text: `Could not resolve ${what}: ${error.message}. The list is read again.`, bad: true });
        closeDialog(null);
        await reload();
      } else {
        setResolving({ busy: false, error: `The server refused: ${error.message} (${error.code}).` });
        return;
      }
    }
    setResolving({ busy: false, error: null });
  };

  const changeFilters = (next) => {
    setFilters(next);
    setCursors([null]);
  };
  const resolved = filters.status === "resolved";
  const { items, next, error } = list;
  const current = list.key === shownKey;
  return html`<section aria-labelledby="conflicts-title">
    <h1 id="conflicts-title" tabindex="-1" ref=${heading}>Conflicts</h1>
    <p class="hint">A notice is a write that lost to a concurrent one from another device (neither had seen
      the other): the later write won. Keep the winner, apply the loser, or set a value of your own.</p>
    <div aria-live="polite">${message && html`<p class=${message.bad ? "error" : ""}>${message.text}</p>`}</div>
    <${ConflictFilters} filters=${filters} fields=${Object.keys(summary?.by_field ?? {})}
      users=${users} devices=${devices} onChange=${changeFilters} />
    ${error && html`<p class="error" role="alert">Could not read the conflicts: ${error.message} (${error.code})</p>`}
    ${items === undefined
      ? html`<p class="loading">Loading…</p>`
      : html`<table aria-label="Conflicts" aria-describedby="conflicts-shown" aria-busy=${current ? "false" : "true"}>
          <thead><tr>
            <th scope="col">Notice</th><th scope="col">Winner</th><th scope="col">Loser</th>
            <th scope="col">${resolved ? "Resolution" : "Resolve"}</th>
          </tr></thead>
          <tbody>
            ${items.map((n) => html`<${NoticeRow} key=${n.id} notice=${n} users=${users} onResolve=${openDialog} />`)}
          </tbody>
        </table>
        <p id="conflicts-shown" class="hint">
          ${items.length === 0
            ? `No ${resolved ? "resolved" : "open"} notices match these filters.`
            : `${items.length} ${resolved ? "resolved" : "open"} notices on this page, oldest first.`}
        </p>
        <div class="row">
          <button type="button" disabled=${cursors.length === 1 || !current} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
          <span>Page ${cursors.length}</span>
          <button type="button" disabled=${!next || !current} onClick=${() => setCursors([...cursors, next])}>Next page</button>
        </div>`}
    <${SummaryCharts} summary=${summary} />
    ${pending &&
    html`<${ResolveDialog} key=${`${pending.notice.id}-${pending.action}`} notice=${pending.notice} action=${pending.action}
      busy=${resolving.busy} error=${resolving.error} onConfirm=${resolve}
      onCancel=${() => closeDialog(opener.current)} />`}
  </section>`;
}
