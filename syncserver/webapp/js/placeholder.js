// Screens of the console that the web app does not have yet (the dispatcher and
// admin console grows here): say so, and where the same thing is today.
import { html } from "./html.js";

const WHAT = {
  calendar: ["Calendar", "/api/jobs"],
  map: ["Map", "/api/jobs"],
  conflicts: ["Conflicts", "/api/conflicts"],
  devices: ["Devices", "/api/devices"],
  users: ["Users", "/api/users"],
};

export function NotYetHere({ name }) {
  const [title, api] = WHAT[name] ?? ["This page", "/docs"];
  return html`<section>
    <h1>${title}</h1>
    <p>This screen is not in the web app yet. The same information is in the server's API at
      <code>${api}</code> (see <a href="/docs">the API documentation</a>).</p>
  </section>`;
}
