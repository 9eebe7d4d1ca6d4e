// The Leaflet map of the map screen. Leaflet (vendor/leaflet.mjs) and its stylesheet
// load on first use, so the app's other screens never fetch them. One circle marker
// per job, coloured by status, with a popup (number, title, status, address and a
// link to the job page); markers follow the rows in place, so a live change keeps
// an open popup open. The map reports whether its tiles load: "ok" at the first
// tile, "failed" at a tile error before any loaded or when none loaded in 5 s.
import { html, render, useEffect, useRef, useState } from "./html.js";
import { jobHref } from "./router.js";
import { addressLine, statusLabel } from "./format.js";
import { OSM_ATTRIBUTION, isOpenStreetMap, markerStyle } from "./map-data.js";

export const TILE_TIMEOUT_MS = 5000;
const STYLESHEET = "/ui/vendor/leaflet.css";
const WORLD = { center: [20, 0], zoom: 2 };

let leaflet = null;

/** A stylesheet's <link>, added to the page once; resolves when it has loaded. */
function stylesheet(href) {
  const found = document.querySelector(`link[rel="stylesheet"][href="${href}"]`);
  if (found?.sheet) return Promise.resolve();
  const link = found ?? Object.assign(document.createElement("link"), { rel: "stylesheet", href });
  const loaded = new Promise((resolve, reject) => {
    link.addEventListener("load", resolve, { once: true });
    link.addEventListener("error", () => {
      link.remove(); // so that a later try adds it again
      reject(new Error(`${href} did not load`));
    }, { once: true });
  });
  if (!found) document.head.append(link);
  return loaded;
}

/** Leaflet's module, once its stylesheet is in the page. */
export function loadLeaflet() {
  leaflet ??= Promise.all([import("../vendor/leaflet.mjs"), stylesheet(STYLESHEET)]).then(
    ([L]) => L,
    (error) => {
      leaflet = null;
      throw error;
    },
  );
  return leaflet;
}

function Popup({ job, location }) {
  const number = job.job_number ?? "New job";
  return html`<div class="map-popup">
    <p><strong>${number}</strong> ${job.title}</p>
    <p>Status: ${statusLabel(job.status)}</p>
    ${location && html`<p>${addressLine(location)}</p>`}
    <p><a href=${jobHref(job.id)}>${job.job_number ? `Open job ${job.job_number}` : "Open the job"}</a></p>
  </div>`;
}

function popupContent(row) {
  const box = document.createElement("div");
  render(html`<${Popup} ...${row} />`, box);
  return box;
}

/** A Leaflet map in `holder` on the tile template; `report(state)` once, with "ok"
 * or "failed". Returns {show(rows), destroy()}. */
function createMap(L, holder, template, report) {
  const element = document.createElement("div");
  element.className = "map-canvas";
  element.setAttribute("role", "region");
  element.setAttribute("aria-label", "Map of job locations");
  element.setAttribute("aria-describedby", "map-keys");
  holder.append(element);
  const map = L.map(element, WORLD);
  const tiles = L.tileLayer(template, {
    maxZoom: 19,
    attribution: isOpenStreetMap(template) ? OSM_ATTRIBUTION : "",
  });
  let timer = 0;
  let settled = false;
  const settle = (state) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    report(state);
  };
  tiles.on("tileload", () => settle("ok"));
  tiles.on("tileerror", () => settle("failed"));
  timer = setTimeout(() => settle("failed"), TILE_TIMEOUT_MS);
  tiles.addTo(map);

  const layer = L.featureGroup().addTo(map);
  const markers = new Map(); // job id -> circle marker, whose `row` its popup shows
  let framed = null; // the jobs the view was last fitted to

  return {
    show(rows) {
      const ids = new Set();
      for (const row of rows) {
        const { job, location } = row;
        ids.add(job.id);
        const at = [location.lat, location.lng];
        let marker = markers.get(job.id);
        if (!marker) {
          marker = L.circleMarker(at, markerStyle(job.status)).bindPopup((m) => popupContent(m.row));
          markers.set(job.id, marker.addTo(layer));
        } else {
          marker.setLatLng(at).setStyle(markerStyle(job.status));
        }
        marker.row = row;
        if (marker.isPopupOpen()) marker.getPopup().update();
      }
      for (const [id, marker] of markers) {
        if (!ids.has(id)) {
          layer.removeLayer(marker);
          markers.delete(id);
        }
      }
      // Frame the jobs when the filters change which are shown, not on every change.
      const key = [...ids].sort().join(" ");
      if (key === framed) return;
      framed = key;
      if (rows.length) map.fitBounds(layer.getBounds(), { padding: [32, 32], maxZoom: 15 });
      else map.setView(WORLD.center, WORLD.zoom);
    },
    destroy() {
      settled = true;
      clearTimeout(timer);
      map.remove();
      element.remove();
    },
  };
}

/** The map of `rows` (each with a located `location`) on the tile `template`;
 * `onTiles("ok" | "failed")` says whether the tiles load. */
export function MapView({ template, rows, onTiles }) {
  const holder = useRef(null);
  const view = useRef(null);
  const [ready, setReady] = useState(false);
  const report = useRef(onTiles);
  report.current = onTiles;

  useEffect(() => {
    let alive = true;
    loadLeaflet().then(
      (L) => {
        if (!alive) return;
        view.current = createMap(L, holder.current, template, (state) => alive && report.current(state));
        setReady(true);
      },
      () => alive && report.current("failed"),
    );
    return () => {
      alive = false;
      view.current?.destroy();
      view.current = null;
    };
  }, [template]);

  useEffect(() => {
    if (ready) view.current?.show(rows);
  }, [ready, rows]);

  return html`<div class="map-holder" ref=${holder}></div>`;
}
