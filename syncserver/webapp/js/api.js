// The server's read and admin APIs (docs/protocol.md, "Auth and roles", 8, 9), as the signed-in
// user. Writes to entities never go here: they are ops through the device (SDK).

/** An error answer of the API: `status`, and docs/protocol.md, "Errors"'s `code`. */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** `path` with the query's non-empty values. */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** One request; resolves with the JSON answer (null for 204), rejects with an
 * ApiError (status 0: the server could not be reached). */
export async function api(session, path, { method = "GET", query, body } = {}) {
  const headers = { Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(withQuery(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, "unavailable", `The server cannot be reached (${error.message}).`);
  }
  if (response.status === 204) return null;
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    // not JSON: described by the status below
  }
  if (!response.ok) {
    const error = answer?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, error.details);
  }
  return answer;
}

/** Every item of a list endpoint, following `next_cursor` (docs/protocol.md, "Read APIs"). */
export async function allPages(session, path, query = {}) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(session, path, { query: { ...query, limit: 500, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** The app's settings from the server (/ui/config.json), e.g. the map's tile URL. */
export async function appConfig() {
  const response = await fetch("/ui/config.json");
  return response.json();
}
