// The map of job locations (issue 15) for dispatchers and admins: every job of the
// device's optimistic view whose site has a latitude and longitude, filtered by
// `Status` and `Date`, as circle markers coloured by status (with a legend) on the
// server's tiles, and always as the list named `Job locations`. When the tiles
// cannot load (offline, a tile error, or no tile within 5 s) the map gives way to a
// note and the list is the whole screen; back online, the map tries again.
import { html, useEffect, useMemo, useRef, useState } from "./html.js";
import { useView } from "./device.js";
import { STATUS_LABELS } from "./format.js";
import { DATE_FILTERS, hasPosition, loadJobPlaces, passes, tileTemplate } from "./map-data.js";
import { Legend, LocationList, TilesNote, addMapStyles } from "./map-parts.js";
import { MapView } from "./map-view.js";

/** "loading", "ok" or "failed", and `attempt`, which a new try of the map bumps. */
function useTiles() {
  const [tiles, setTiles] = useState(() => ({ state: navigator.onLine ? "loading" : "failed", attempt: 0 }));
  const retry = () => setTiles((old) => ({ state: "loading", attempt: old.attempt + 1 }));
  const settle = (state) => setTiles((old) => (old.state === "loading" ? { ...old, state } : old));
  const current = useRef(tiles);
  current.current = tiles;
  useEffect(() => {
    const offline = () => setTiles((old) => ({ ...old, state: "failed" }));
    const online = () => current.current.state === "failed" && retry();
    addEventListener("offline", offline);
    addEventListener("online", online);
    return () => {
      removeEventListener("offline", offline);
      removeEventListener("online", online);
    };
  }, []);
  return { ...tiles, retry, settle };
}

/** The server's tile URL template, once /ui/config.json has answered. */
function useTileTemplate() {
  const [template, setTemplate] = useState(null);
  useEffect(() => {
    let alive = true;
    tileTemplate().then((url) => alive && setTemplate(url));
    return () => {
      alive = false;
    };
  }, []);
  return template;
}

export function JobMap({ device }) {
  addMapStyles();
  const { data, error } = useView(device, loadJobPlaces);
  const [status, setStatus] = useState("");
  const [date, setDate] = useState("all");
  const template = useTileTemplate();
  const tiles = useTiles();
  const { placed, unplaced } = useMemo(() => {
    const now = new Date();
    const matching = (data ?? []).filter(({ job }) => passes(job, { status, date }, now));
    const placed = matching.filter(({ location }) => hasPosition(location));
    return { placed, unplaced: matching.length - placed.length };
  }, [data, status, date]);

  if (!data) return html`<p class="loading">${error ? `Could not read the jobs: ${error.message}` : "Loading…"}</p>`;
  const failed = tiles.state === "failed";
  return html`<section aria-labelledby="map-title">
    <h1 id="map-title">Map</h1>
    <div class="filters">
      <div class="filter">
        <label for="map-status">Status</label>
        <select id="map-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="">Any status</option>
          ${Object.entries(STATUS_LABELS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </div>
      <div class="filter">
        <label for="map-date">Date</label>
        <select id="map-date" value=${date} onChange=${(e) => setDate(e.currentTarget.value)}>
          ${Object.entries(DATE_FILTERS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </div>
    </div>
    ${failed && html`<${TilesNote} onRetry=${tiles.retry} />`}
    <div class=${failed ? "map-layout" : "map-layout with-map"}>
      ${!failed && html`<div class="map-pane">
        ${template && html`<${MapView} key=${tiles.attempt} template=${template} rows=${placed} onTiles=${tiles.settle} />`}
        <p class="hint" id="map-keys">With the map focused, the arrow keys pan it and + and − zoom. Every job on the
          map is in the list of job locations.</p>
        <${Legend} rows=${placed} />
      </div>`}
      <${LocationList} rows=${placed} unplaced=${unplaced} />
    </div>
  </section>`;
}
