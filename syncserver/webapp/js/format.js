// How the app writes dates, statuses and other values for people.

export const STATUS_LABELS = {
  unscheduled: "Unscheduled",
  scheduled: "Scheduled",
  dispatched: "Dispatched",
  in_progress: "In progress",
  on_hold: "On hold",
  completed: "Completed",
  cancelled: "Cancelled",
};

export const PRIORITY_LABELS = { low: "Low", normal: "Normal", high: "High", urgent: "Urgent" };

export const statusLabel = (status) => STATUS_LABELS[status] ?? status ?? "Unknown";
export const priorityLabel = (priority) => PRIORITY_LABELS[priority] ?? priority ?? "";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const stampFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The local calendar day of a date, as "YYYY-MM-DD" (for grouping). */
export function dayKey(date) {
  const d = new Date(date);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "Today", "Tomorrow" or the weekday and date of a day key. */
export function dayName(key, now = new Date()) {
  const today = dayKey(now);
  const tomorrow = dayKey(new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1));
  if (key === today) return "Today";
  if (key === tomorrow) return "Tomorrow";
  const [y, m, d] = key.split("-").map(Number);
  return dayFormat.format(new Date(y, m - 1, d));
}

export const clock = (date) => timeFormat.format(new Date(date));
export const stamp = (date) => stampFormat.format(new Date(date));

/** A field's value as text: null and empty as a dash, objects as JSON. */
export function shownValue(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

/** An address on one line: street, postal code and city. */
export function addressLine(location) {
  if (!location) return "";
  const city = [location.postal_code, location.city].filter(Boolean).join(" ");
  return [location.address, city].filter(Boolean).join(", ");
}

/** Scheduled order: by scheduled time, unscheduled last, then by job number. */
export function byScheduled(a, b) {
  const at = a.scheduled_date ? Date.parse(a.scheduled_date) : Infinity;
  const bt = b.scheduled_date ? Date.parse(b.scheduled_date) : Infinity;
  if (at !== bt) return at < bt ? -1 : 1;
  return String(a.job_number ?? a.id).localeCompare(String(b.job_number ?? b.id));
}
