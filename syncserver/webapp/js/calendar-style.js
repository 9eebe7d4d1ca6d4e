// The calendar's styles, on top of app.css (its colours and controls): one
// stylesheet, put into the page once, the first time the calendar shows.

import { adoptStyles } from "./styles.js";

const CSS = `
.cal-toolbar { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; margin: 0.5rem 0 0.75rem; }
.cal-group { display: flex; gap: 0.35rem; }
.cal-group button[aria-pressed="true"] { background: var(--accent); color: #fff; }
.cal-range { margin: 0; font-size: 1.1rem; }
.cal-scroll { overflow: auto; max-height: max(24rem, calc(100vh - 15rem)); border: 1px solid var(--line); border-radius: 8px; background: var(--paper); }
.cal-table { table-layout: fixed; border-collapse: separate; border-spacing: 0; width: 100%; }
.cal-table th, .cal-table td { border-bottom: 1px solid var(--line); border-right: 1px solid var(--line); vertical-align: top; padding: 0.3rem; }
.cal-table thead th { position: sticky; top: 0; z-index: 2; background: var(--wash); overflow-wrap: anywhere; }
.cal-table tbody th { position: sticky; left: 0; z-index: 1; background: var(--wash); font-weight: 600; font-size: 0.9rem; }
.cal-table .cal-corner { left: 0; z-index: 3; width: 6.5rem; }
.cal-table tbody th.cal-today { color: var(--brand); }
.cal-today-word { display: block; font-size: 0.8rem; }
.cal-cell { height: 3rem; }
.cal-cell.cal-today { background: #f7fafd; }
.cal-over { outline: 3px dashed var(--accent); outline-offset: -3px; background: #e6f0fa !important; }
.cal-cards { list-style: none; margin: 0; padding: 0; }
.cal-card { background: var(--paper); border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px;
  padding: 0.3rem 0.45rem; margin: 0 0 0.3rem; font-size: 0.88rem; line-height: 1.3; }
.cal-card.cal-movable { cursor: grab; }
.cal-card:not(.cal-movable) { border-left-color: var(--line); }
.cal-card-top { display: flex; justify-content: space-between; gap: 0.35rem; color: var(--muted); font-size: 0.82rem; }
.cal-number { font-weight: 600; }
.cal-title { display: block; font-weight: 600; overflow-wrap: anywhere; }
.cal-who { color: var(--muted); font-size: 0.82rem; }
.cal-card-bottom { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem; margin-top: 0.2rem; }
.cal-card-bottom .badge { margin-right: 0; font-size: 0.78rem; }
.cal-move { min-height: 32px; padding: 0.1rem 0.6rem; font-size: 0.85rem; margin-left: auto; }
.cal-unscheduled { margin-top: 1rem; padding: 0.25rem 0.75rem 0.75rem; border: 1px dashed var(--muted); border-radius: 8px; background: var(--paper); }
.cal-unscheduled h2 { margin-top: 0.5rem; }
.cal-unscheduled-list { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 0.4rem; }
.cal-unscheduled-list .cal-card { margin: 0; }
.cal-dialog { max-width: 28rem; width: calc(100% - 2rem); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; }
.cal-dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
.cal-dialog h2 { margin-top: 0; }
.cal-when { display: flex; flex-wrap: wrap; gap: 0 1rem; }
.cal-when > div { flex: 1 1 10rem; }
.cal-dialog input[type="date"], .cal-dialog input[type="time"] { font: inherit; width: 100%; padding: 0.5rem 0.7rem;
  border: 1px solid var(--muted); border-radius: 6px; background: var(--paper); color: var(--ink); }
`;

/** Put the calendar's styles into the page, once. */
export function addCalendarStyle() {
  adoptStyles("calendar", CSS);
}
