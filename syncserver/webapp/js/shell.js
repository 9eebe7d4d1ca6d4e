// The signed-in frame: the top bar with the role's navigation and `Sign out`,
// the status line, and the screen of the current route.
import { html } from "./html.js";
import { StatusLine } from "./statusline.js";

const LINKS = [
  { route: "jobs", label: "Jobs", roles: ["admin", "dispatcher"] },
  { route: "calendar", label: "Calendar", roles: ["admin", "dispatcher"] },
  { route: "map", label: "Map", roles: ["admin", "dispatcher"] },
  { route: "my-jobs", label: "My jobs", roles: ["technician", "service_provider"] },
  { route: "conflicts", label: "Conflicts", roles: ["admin"] },
  { route: "devices", label: "Devices", roles: ["admin"] },
  { route: "users", label: "Users", roles: ["admin"] },
];

/** The screens a role has, in the order of its navigation. */
export const linksFor = (role) => LINKS.filter((link) => link.roles.includes(role));

export function Shell({ session, device, route, onSignOut, children }) {
  const links = linksFor(session.me.role);
  const current = route.name === "job" ? null : route.name;
  return html`<div>
    <header class="topbar">
      <span class="brand">Fieldsync</span>
      <nav aria-label="Main">
        <ul>
          ${links.map(
            (link) => html`<li key=${link.route}>
              <a href=${`#/${link.route}`} aria-current=${current === link.route ? "page" : undefined}>${link.label}</a>
            </li>`,
          )}
        </ul>
      </nav>
      <span class="who">${session.me.name}</span>
      <button type="button" onClick=${onSignOut}>Sign out</button>
    </header>
    <${StatusLine} device=${device} />
    <main id="main">${children}</main>
  </div>`;
}
