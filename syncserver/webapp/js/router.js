// Routes are the URL's fragment (#/my-jobs, #/jobs/<id>), so every page of the
// app is the same document: a reload, a bookmark or an offline start opens it.
import { useEffect, useState } from "./html.js";

const SCREEN_ROUTES = ["my-jobs", "jobs", "calendar", "map", "conflicts", "devices", "users"];

/** The current route: {name, id?}. */
export function parseRoute(hash = location.hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "jobs" && parts[1]) return { name: "job", id: parts[1] };
  if (SCREEN_ROUTES.includes(parts[0])) return { name: parts[0] };
  return { name: "home" };
}

export const jobHref = (id) => `#/jobs/${encodeURIComponent(id)}`;

export function useRoute() {
  const [route, setRoute] = useState(() => parseRoute());
  useEffect(() => {
    const onHash = () => setRoute(parseRoute());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  return route;
}
