// The map screen's parts beside the map itself: the legend of marker colours (the
// status in words beside each colour), the list named `Job locations` (the keyboard's
// way through the jobs, and the whole screen when the map cannot be shown), the note
// that says so, and the screen's styles (added to the page once, on first use).
import { html } from "./html.js";
import { jobHref } from "./router.js";
import { STATUS_LABELS, addressLine, statusLabel } from "./format.js";
import { swatchStyle } from "./map-data.js";
import { adoptStyles } from "./styles.js";

const STYLES = `
.map-layout { display: grid; gap: 0.5rem 1.25rem; }
@media (min-width: 900px) {
  .map-layout.with-map { grid-template-columns: minmax(0, 3fr) minmax(17rem, 2fr); align-items: start; }
  .map-layout.with-map .map-pane { position: sticky; top: 0.5rem; }
}
.map-holder { min-height: 18rem; }
.map-canvas { height: min(62vh, 34rem); min-height: 18rem; border: 1px solid var(--line); border-radius: 8px; background: var(--wash); }
.map-legend h2, .map-list h2 { margin: 0.75rem 0 0.35rem; }
.map-legend ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0; margin: 0; }
.map-legend li { display: flex; align-items: center; gap: 0.4rem; color: var(--ink); }
.map-swatch { display: inline-block; width: 1rem; height: 1rem; border-radius: 50%; flex: none; vertical-align: -0.15rem; margin-right: 0.3rem; }
.map-places { list-style: none; margin: 0; padding: 0; }
.map-places li { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.75rem; margin: 0 0 0.5rem; }
.map-places .place-title { font-weight: 600; }
.map-places .meta { color: var(--muted); font-size: 0.92rem; margin-top: 0.2rem; }
.map-note { background: var(--paper); border: 1px solid var(--line); border-left: 5px solid var(--warn); border-radius: 8px; padding: 0.5rem 1rem; margin: 0.75rem 0; }
.map-note p { margin: 0.25rem 0 0.5rem; }
.map-popup p { margin: 0.2rem 0; }
`;

/** The screen's styles, added to the page the first time the screen shows. */
export function addMapStyles() {
  adoptStyles("map", STYLES);
}

const Swatch = ({ status }) => html`<span class="map-swatch" style=${swatchStyle(status)} aria-hidden="true"></span>`;

/** Each status shown on the map, its colour and how many of its jobs are shown. */
export function Legend({ rows }) {
  const counts = new Map();
  for (const { job } of rows) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  if (counts.size === 0) return null;
  const order = Object.keys(STATUS_LABELS);
  const statuses = [...counts.keys()].sort((a, b) => (order.indexOf(a) >>> 0) - (order.indexOf(b) >>> 0));
  return html`<div class="map-legend">
    <h2 id="map-legend-title">Marker colours</h2>
    <ul aria-labelledby="map-legend-title">
      ${statuses.map((status) => html`<li key=${status}><${Swatch} status=${status} />${statusLabel(status)} (${counts.get(status)})</li>`)}
    </ul>
  </div>`;
}

/** The list named `Job locations`: per job its number (a link), title, status,
 * customer and address. */
export function LocationList({ rows, unplaced }) {
  return html`<div class="map-list">
    <h2 id="map-list-title">Job locations</h2>
    <p class="hint">
      ${rows.length === 1 ? "1 job" : `${rows.length} jobs`}${unplaced > 0 &&
      `; ${unplaced} more ${unplaced === 1 ? "matches" : "match"} the filters but ${unplaced === 1 ? "has" : "have"} no map position`}.
    </p>
    ${rows.length === 0 && html`<p class="empty">No job with a map position matches the filters.</p>`}
    <ul class="map-places" aria-labelledby="map-list-title">
      ${rows.map(
        ({ job, location, customer }) => html`<li key=${job.id}>
          <a href=${jobHref(job.id)}>${job.job_number ?? "New job"}</a>${" "}
          <span class="place-title">${job.title}</span>
          <div class="meta">
            <span class=${`badge status-${job.status}`}><${Swatch} status=${job.status} />${statusLabel(job.status)}</span>
            ${customer && html`<span>${customer.name} · </span>`}
            <span>${addressLine(location)}</span>
          </div>
        </li>`,
      )}
    </ul>
  </div>`;
}

/** Why the map is not there, and a button to try it again. */
export function TilesNote({ onRetry }) {
  return html`<div class="map-note" role="note">
    <p>The map cannot be shown: map tiles could not be loaded (offline, or the tile server cannot be
      reached). The job locations are listed below.</p>
    <button type="button" onClick=${onRetry}>Try the map again</button>
  </div>`;
}
