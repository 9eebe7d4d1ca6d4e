// The conflict summary (GET /api/conflicts/summary) as two small bar charts, by
// day of detection and by field. No chart library: each chart is a <figure> whose
// bars are a list, every bar with its label and its count as text, so a screen
// reader reads the same numbers the bars draw.
import { html } from "./html.js";

const ROW = "display: grid; grid-template-columns: minmax(6rem, 10rem) 1fr 3rem; gap: 0.5rem; align-items: center; margin: 0.2rem 0;";
const TRACK = "background: var(--wash); border-radius: 4px; height: 1.1rem;";
const BAR = "background: var(--accent); border-radius: 4px; height: 100%; min-width: 2px;";
const LIST = "list-style: none; margin: 0; padding: 0;";

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

/** "Mon 3 Mar" for a UTC day key "YYYY-MM-DD" of the summary. */
function dayLabel(key) {
  const [y, m, d] = key.split("-").map(Number);
  return dayFormat.format(new Date(Date.UTC(y, m - 1, d)));
}

/** One chart: `bars` is [[label, count, key]]. */
export function BarChart({ id, caption, bars, unit = "notices" }) {
  const most = Math.max(1, ...bars.map(([, count]) => count));
  return html`<figure class="card" aria-labelledby=${id} style="margin: 0.75rem 0;">
    <figcaption id=${id}><strong>${caption}</strong></figcaption>
    ${bars.length === 0
      ? html`<p class="hint">No conflict notices yet.</p>`
      : html`<ul style=${LIST} aria-labelledby=${id}>
          ${bars.map(
            ([label, count, key]) => html`<li key=${key ?? label} style=${ROW}>
              <span style="overflow-wrap: anywhere;">${label}</span>
              <span style=${TRACK} aria-hidden="true">
                <span style=${`${BAR} display: block; width: ${(100 * count) / most}%;`}></span>
              </span>
              <span style="text-align: right; font-variant-numeric: tabular-nums;">
                ${count}<span class="visually-hidden"> ${unit}</span>
              </span>
            </li>`,
          )}
        </ul>`}
  </figure>`;
}

/** Both charts of a summary {by_day, by_field, by_status, by_entity}. The last
 * 14 days that had notices are shown; fields by count, the most first. */
export function SummaryCharts({ summary }) {
  if (!summary) return null;
  const days = Object.entries(summary.by_day ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(-14)
    .map(([key, count]) => [dayLabel(key), count, key]);
  const fields = Object.entries(summary.by_field ?? {})
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([field, count]) => [field, count, field]);
  const open = summary.by_status?.open ?? 0;
  const resolved = summary.by_status?.resolved ?? 0;
  return html`<section aria-labelledby="conflict-summary">
    <h2 id="conflict-summary">Summary</h2>
    <p class="hint">All notices, whatever the filters: ${open} open, ${resolved} resolved.</p>
    <div style="display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 0 1rem;">
      <${BarChart} id="chart-by-day" caption="Conflicts by day detected (UTC)" bars=${days} />
      <${BarChart} id="chart-by-field" caption="Conflicts by field" bars=${fields} />
    </div>
  </section>`;
}
