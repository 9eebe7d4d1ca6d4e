// The calendar's lanes: who jobs are planned for, the technicians and service
// providers of people.js.
import { FIELD_ROLES, useUserList } from "./people.js";

/** {users, problem}: every user that can be given a job (active or not), or
 * null until known; `problem` is the last failed load's error (offline). */
export function useFieldUsers(session) {
  const { users, problem } = useUserList(session);
  return { users: users && users.filter((u) => FIELD_ROLES.includes(u.role)), problem };
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
