// The status line (docs/protocol.md, "Web app, SDK module and docs"): role `status`, with `Offline` while
// the device cannot reach the server, `N changes waiting` or `All changes
// synced`, and the time of the last sync.
import { html } from "./html.js";
import { useSyncState } from "./device.js";
import { clock, stamp } from "./format.js";

/** The words for a number of ops waiting (photos included): the contract's
 * `N changes waiting` for any N, or `All changes synced`. */
export const waitingText = (pending) =>
  pending > 0 ? `${pending} changes waiting` : "All changes synced";

export function StatusLine({ device }) {
  const { online, pending, lastSync, error } = useSyncState(device);
  const sameDay = lastSync && new Date(lastSync).toDateString() === new Date().toDateString();
  return html`<div class="statusline" role="status">
    ${!online && html`<span class="offline">Offline</span>`}
    ${pending !== null &&
    html`<span class=${pending > 0 ? "waiting" : "synced"}>${waitingText(pending)}</span>`}
    <span>${lastSync ? `Last sync ${sameDay ? clock(lastSync) : stamp(lastSync)}` : "Not synced yet"}</span>
    ${online && error && !error.retryable && html`<span class="error">Sync stopped: ${error.message}</span>`}
  </div>`;
}
