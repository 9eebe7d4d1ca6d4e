// The calendar's lanes: who jobs are planned for. Technicians and service
// providers come from GET /api/users (dispatchers and admins may list users),
// kept in sessionStorage for the tab so an offline reload still names them.
import { useEffect, useState } from "./html.js";
import { allPages } from "./api.js";
import { FIELD_ROLES } from "./calendar-time.js";

const KEY = (userId) => `fieldsync.calendar.users.${userId}`;

function cached(userId) {
  try {
    return JSON.parse(sessionStorage.getItem(KEY(userId)) ?? "null");
  } catch {
    return null;
  }
}

/** {users, problem}: every user that can be given a job (active or not), or
 * null until known; `problem` is the last failed load's error (offline). */
export function useFieldUsers(session) {
  const [state, setState] = useState(() => ({ users: cached(session.me.id), problem: null }));
  useEffect(() => {
    let alive = true;
    const load = () =>
      allPages(session, "/api/users").then(
        (all) => {
          const users = all
            .filter((u) => FIELD_ROLES.includes(u.role))
            .map(({ id, name, email, role, active }) => ({ id, name, email, role, active }));
          sessionStorage.setItem(KEY(session.me.id), JSON.stringify(users));
          if (alive) setState({ users, problem: null });
        },
        (problem) => alive && setState((old) => ({ users: old.users, problem })),
      );
    load();
    addEventListener("online", load); // offline at the start: try again once back
    return () => {
      alive = false;
      removeEventListener("online", load);
    };
  }, [session.token]);
  return state;
}

/** The lanes of the calendar: `Unassigned` first, then the active technicians by
 * name (with their email when two share a name), then anyone else a shown job
 * is assigned to (inactive, or not known while offline). */
export function lanesFor(users, technicianIds) {
  const active = (users ?? []).filter((u) => u.active !== false).sort((a, b) => a.name.localeCompare(b.name));
  const names = new Map();
  for (const u of active) names.set(u.name, (names.get(u.name) ?? 0) + 1);
  const lanes = [{ id: "", name: "Unassigned" }];
  for (const u of active) lanes.push({ id: u.id, name: names.get(u.name) > 1 ? `${u.name} (${u.email})` : u.name });
  const known = new Map((users ?? []).map((u) => [u.id, u]));
  const inLanes = new Set(lanes.map((lane) => lane.id));
  for (const id of technicianIds) {
    if (!id || inLanes.has(id)) continue;
    inLanes.add(id);
    const user = known.get(id);
    lanes.push({ id, name: user ? `${user.name} (inactive)` : `Technician ${id}` });
  }
  return lanes;
}
