// The calendar's time arithmetic, in the browser's local time zone: days are
// local days, the day view has hour slots from 06:00 to 20:00, a week starts on
// the locale's first weekday. And the rule of what moving a job writes.
import { dayKey } from "./format.js";

export const FIRST_HOUR = 6;
export const END_HOUR = 20; // the last slot is 19:00-20:00
/** A job without a time that is put on a day (week view, or the dialog without a time) starts at 09:00. */
export const DEFAULT_HOUR = 9;
export const HOURS = Array.from({ length: END_HOUR - FIRST_HOUR }, (_, i) => FIRST_HOUR + i);

export const startOfDay = (date) => {
  const d = new Date(date);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
};

/** `n` local days after `date`'s day (a whole day across a clock change too). */
export const addDays = (date, n) => {
  const d = new Date(date);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
};

/** The local midnight of a "YYYY-MM-DD" day key (format.js's dayKey). */
export function fromDayKey(key) {
  const [y, m, d] = key.split("-").map(Number);
  return new Date(y, m - 1, d);
}

/** The locale's first day of the week as Date.getDay() counts (0 Sunday); Monday if unknown. */
function firstWeekday() {
  try {
    const locale = new Intl.Locale(navigator.language);
    const info = locale.getWeekInfo?.() ?? locale.weekInfo;
    if (info?.firstDay) return info.firstDay % 7;
  } catch {
    // an unknown locale: Monday
  }
  return 1;
}

export function startOfWeek(date) {
  const day = startOfDay(date);
  return addDays(day, -((day.getDay() - firstWeekday() + 7) % 7));
}

/** The days a view shows around `anchor`: one, or the seven of its week. */
export function daysOf(view, anchor) {
  if (view === "day") return [startOfDay(anchor)];
  const first = startOfWeek(anchor);
  return Array.from({ length: 7 }, (_, i) => addDays(first, i));
}

/** How far Previous and Next go. */
export const step = (view) => (view === "day" ? 1 : 7);

/** The day view's slot (an hour) for a time: its hour; earlier times in the first
 * slot and later ones in the last (the card shows its own time). */
export function hourSlot(date) {
  return Math.min(END_HOUR - 1, Math.max(FIRST_HOUR, new Date(date).getHours()));
}

/** Where a job is drawn in a view: {day, slot} (slot: the hour in the day view,
 * the day key in the week view), or null without a date. */
export function placeOf(job, view) {
  if (!job.scheduled_date) return null;
  const day = dayKey(job.scheduled_date);
  return { day, slot: view === "day" ? String(hourSlot(job.scheduled_date)) : day };
}

/** The time a job gets when dropped on a day (and, in the day view, an hour):
 * the day's date with the job's own time of day (week view), or with the hour
 * changed and its minutes kept (day view); a job without a date gets
 * DEFAULT_HOUR, or the hour dropped on, at :00. */
export function dropTime(job, day, hour) {
  const old = job.scheduled_date ? new Date(job.scheduled_date) : null;
  let when;
  if (old) {
    when = new Date(old);
    when.setFullYear(day.getFullYear(), day.getMonth(), day.getDate());
  } else {
    when = new Date(day.getFullYear(), day.getMonth(), day.getDate(), DEFAULT_HOUR, 0, 0, 0);
  }
  if (hour !== undefined) when.setHours(hour);
  return when;
}

/** The time of the Move dialog's `Date` ("YYYY-MM-DD") and `Time` ("HH:MM"):
 * null without a date; DEFAULT_HOUR without a time. */
export function dialogTime(date, time) {
  if (!date) return null;
  const [hours, minutes] = time ? time.split(":").map(Number) : [DEFAULT_HOUR, 0];
  const day = fromDayKey(date);
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hours, minutes);
}

/** "HH:MM" of a time, local (the `Time` input's value). */
export function timeValue(date) {
  const d = new Date(date);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

const minute = (ms) => Math.floor(ms / 60000);

/** The fields of the one update op that moves `job` to `technicianId` (null:
 * unassigned) at `when` (a Date, or null: not scheduled); null when nothing
 * changes. Only the fields that change are written; times are compared to the
 * minute (the calendar's precision), and written as RFC 3339 UTC.
 *
 * The status rule: a job that is `unscheduled` and after the move has both a
 * technician and a date becomes `scheduled` (it is now planned). Every other
 * status stays as it is: a dispatched, started or held job keeps its status
 * when it moves, and so does a job moved to Unassigned or to Not scheduled (the
 * dispatcher sets the status on the job page if it should change). */
export function moveFields(job, technicianId, when) {
  const fields = {};
  const technician = technicianId || null;
  if ((job.technician_id ?? null) !== technician) fields.technician_id = technician;
  const old = job.scheduled_date ? Date.parse(job.scheduled_date) : null;
  const next = when ? when.getTime() : null;
  if (old === null || next === null ? old !== next : minute(old) !== minute(next)) {
    fields.scheduled_date = when ? when.toISOString() : null;
  }
  if (Object.keys(fields).length === 0) return null;
  if (job.status === "unscheduled" && technician && when) fields.status = "scheduled";
  return fields;
}

/** Whether the calendar offers to move a job: not once it is completed or cancelled. */
export const movable = (job) => job.status !== "completed" && job.status !== "cancelled";
