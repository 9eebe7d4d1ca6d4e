// The people the console names and plans with (GET /api/users, which dispatchers
// and admins may read), kept in sessionStorage for the tab so that an offline
// reload still names them.
import { useEffect, useState } from "./html.js";
import { allPages } from "./api.js";

export const FIELD_ROLES = ["technician", "service_provider"];

const KEY = (userId) => `fieldsync.users.${userId}`;

function cached(userId) {
  try {
    return JSON.parse(sessionStorage.getItem(KEY(userId)) ?? "null");
  } catch {
    return null;
  }
}

/** {users, problem}: every user, or null until known; `problem` is the last failed
 * load's error (offline: loaded again once back online). */
export function useUserList(session) {
  const [state, setState] = useState(() => ({ users: cached(session.me.id), problem: null }));
  useEffect(() => {
    let alive = true;
    const load = () =>
      allPages(session, "/api/users").then(
        (all) => {
          const users = all.sort((a, b) => a.name.localeCompare(b.name));
          sessionStorage.setItem(KEY(session.me.id), JSON.stringify(users));
          if (alive) setState({ users, problem: null });
        },
        (problem) => alive && setState((old) => ({ users: old.users, problem })),
      );
    load();
    addEventListener("online", load);
    return () => {
      alive = false;
      removeEventListener("online", load);
    };
  }, [session.token]);
  return state;
}

/** Every user, by name; [] until known. */
export function useUsers(session) {
  return useUserList(session).users ?? [];
}

/** Active technicians and service providers, by name. */
export function useTechnicians(session) {
  return useUsers(session).filter((u) => FIELD_ROLES.includes(u.role) && u.active);
}
