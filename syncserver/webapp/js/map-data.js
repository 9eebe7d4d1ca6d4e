// The map's data (issue 15): the device's jobs with their sites and customers, which
// of them the map can place (a location with lat/lng), the `Status` and `Date`
// filters, each status's marker colour, and the tile settings (the server's URL
// template from /ui/config.json; OpenStreetMap's attribution).
import { appConfig } from "./api.js";
import { byScheduled } from "./format.js";

export const OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
export const OSM_ATTRIBUTION =
  '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>';

/** Every job of the device's optimistic view with its location and customer (null
 * when not on the device), in scheduled order. */
export async function loadJobPlaces(device) {
  const [jobs, locations, customers] = await Promise.all([
    device.query("job"),
    device.query("location"),
    device.query("customer"),
  ]);
  const locationById = new Map(locations.map((l) => [l.id, l]));
  const customerById = new Map(customers.map((c) => [c.id, c]));
  return jobs.sort(byScheduled).map((job) => ({
    job,
    location: (job.location_id && locationById.get(job.location_id)) || null,
    customer: customerById.get(job.customer_id) ?? null,
  }));
}

const inRange = (value, limit) => typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= limit;

/** Whether the map can place a location: it has a latitude and a longitude. */
export const hasPosition = (location) => Boolean(location) && inRange(location.lat, 90) && inRange(location.lng, 180);

export const DATE_FILTERS = { all: "All dates", today: "Scheduled today", week: "Scheduled this week" };

/** [from, to) of a date filter in local time (the week starts on Monday); null for all. */
export function dateRange(which, now = new Date()) {
  if (which !== "today" && which !== "week") return null;
  const back = which === "week" ? (now.getDay() + 6) % 7 : 0;
  const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - back);
  const to = new Date(from.getFullYear(), from.getMonth(), from.getDate() + (which === "week" ? 7 : 1));
  return [from, to];
}

/** Whether a job passes the filters ({status, date}; "" and "all" pass everything). */
export function passes(job, { status, date }, now = new Date()) {
  if (status && job.status !== status) return false;
  const range = dateRange(date, now);
  if (!range) return true;
  if (!job.scheduled_date) return false;
  const when = new Date(job.scheduled_date);
  return when >= range[0] && when < range[1];
}

// Marker colours: each at least 4.5:1 on white (and 3:1 on map tiles), told apart
// by hue; open jobs are solid dots, closed ones (completed, cancelled) rings. The
// legend and the list say the status in words as well.
export const STATUS_COLOURS = {
  unscheduled: "#5c6670",
  scheduled: "#0b5cad",
  dispatched: "#6a3d9a",
  in_progress: "#00727a",
  on_hold: "#b04a00",
  completed: "#1d6b38",
  cancelled: "#a4161a",
};
const CLOSED = new Set(["completed", "cancelled"]);

export const statusColour = (status) => STATUS_COLOURS[status] ?? "#1b1f24";

/** Leaflet path options of a status's circle marker. */
export function markerStyle(status) {
  const colour = statusColour(status);
  return CLOSED.has(status)
    ? { radius: 9, color: colour, weight: 4, fillColor: "#ffffff", fillOpacity: 0.95 }
    : { radius: 9, color: "#ffffff", weight: 2, fillColor: colour, fillOpacity: 0.95 };
}

/** The same look for a swatch in the legend and the list (an inline style). */
export function swatchStyle(status) {
  const colour = statusColour(status);
  return CLOSED.has(status)
    ? `background: #ffffff; border: 3px solid ${colour}`
    : `background: ${colour}; border: 3px solid ${colour}`;
}

let template = null;

/** The tile URL template the server is set up with (OpenStreetMap's by default). */
export function tileTemplate() {
  template ??= appConfig().then(
    (config) => config?.map_tile_url || OSM_TILES,
    () => {
      template = null; // ask again next time
      return OSM_TILES;
    },
  );
  return template;
}

/** Whether a template is OpenStreetMap's tile server (its attribution is then due). */
export function isOpenStreetMap(url) {
  try {
    const host = new URL(url.replace(/\{s\}/g, "a")).hostname;
    return host === "openstreetmap.org" || host.endsWith(".openstreetmap.org");
  } catch {
    return false;
  }
}
