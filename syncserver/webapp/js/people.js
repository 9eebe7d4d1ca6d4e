// The people the console plans with: technicians and service providers (GET
// /api/users, which dispatchers and admins may read), loaded once per screen.
import { useEffect, useState } from "./html.js";
import { allPages } from "./api.js";

export const FIELD_ROLES = ["technician", "service_provider"];

/** Every user, by name; [] until loaded (or when the API cannot be reached:
 * offline, the screens still work without names). */
export function useUsers(session) {
  const [people, setPeople] = useState([]);
  useEffect(() => {
    let alive = true;
    allPages(session, "/api/users").then(
      (users) => alive && setPeople(users.sort((a, b) => a.name.localeCompare(b.name))),
      () => {},
    );
    return () => {
      alive = false;
    };
  }, [session.token]);
  return people;
}

/** Active technicians and service providers, by name. */
export function useTechnicians(session) {
  return useUsers(session).filter((u) => FIELD_ROLES.includes(u.role) && u.active);
}
