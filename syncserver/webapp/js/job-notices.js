// What clashed and what was refused, on the job it concerns: a notice says what
// this device wrote, what won, by whom and when, until acknowledged; a rejection
// gives the server's reason.
import { html } from "./html.js";
import { shownValue, stamp } from "./format.js";

const FIELD_NAMES = { description: "description", status: "status", completed_date: "completion date", deleted: "deletion" };

function who(side, me) {
  if (side.user_id === me.id) return "you, on another device";
  return `user ${side.user_id}`;
}

export function Notices({ device, notices, me }) {
  if (notices.length === 0) return null;
  return html`<section aria-label="Conflicts on this job">
    ${notices.map(
      (n) => html`<div key=${n.id} class="card notice">
        <h2>Your change to the ${FIELD_NAMES[n.field] ?? n.field} was overwritten</h2>
        <dl class="facts">
          <dt>You wrote</dt><dd>${shownValue(n.loser.value)}</dd>
          <dt>Kept</dt><dd>${shownValue(n.winner.value)}</dd>
          <dt>Written by</dt><dd>${who(n.winner, me)} (device ${n.winner.device_id})</dd>
          <dt>When</dt><dd>${stamp(n.winner.ts)}</dd>
        </dl>
        <div class="row"><button type="button" onClick=${() => device.ackNotice(n.id)}>Acknowledge</button></div>
      </div>`,
    )}
  </section>`;
}

export function Rejections({ device, rejected }) {
  if (rejected.length === 0) return null;
  return html`<section class="card rejection" aria-labelledby="rejected-title">
    <h2 id="rejected-title">Changes the server refused</h2>
    <ul class="notes">
      ${rejected.map(
        (r, i) => html`<li key=${r.seq ?? `photo-${i}`}>
          <div><strong>${r.op.action} ${r.op.entity}</strong>${r.op.fields ? `: ${shownValue(r.op.fields)}` : ""}</div>
          <div class="error">${r.error.message} (${r.error.code})</div>
        </li>`,
      )}
    </ul>
    <div class="row">
      <button type="button" onClick=${() => device.clearRejected()}>Dismiss refused changes</button>
    </div>
  </section>`;
}
