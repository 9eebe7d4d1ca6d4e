// Who is signed in on this tab, and which device this browser is for them.
//
// The token and the caller's user (GET /api/me) are kept in sessionStorage: for
// this tab's session, and across a reload while offline. The device id is kept
// in localStorage per user, so one browser is one stable device for each person
// who signs in on it. Signing out deletes the device's store and forgets its id:
// a new store must start with a new device id (docs/sdk.md).

const SESSION_KEY = "fieldsync.session";
const DEVICE_KEY = (userId) => `fieldsync.device.${userId}`;

/** {token, me} of this tab, or null. */
export function currentSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY));
    return session?.token && session?.me?.id ? session : null;
  } catch {
    return null;
  }
}

/** An error the sign-in form shows. */
export class SignInError extends Error {}

/** Check a token with the server; keep it for this tab. Resolves with {token, me}. */
export async function signIn(token) {
  token = token.trim();
  if (!token) throw new SignInError("Enter your token.");
  let response;
  try {
    response = await fetch("/api/me", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch {
    throw new SignInError("The server cannot be reached. Signing in needs a connection.");
  }
  if (response.status === 401) throw new SignInError("This token is not valid (wrong, expired or revoked).");
  if (!response.ok) throw new SignInError(`The server answered ${response.status}. Try again.`);
  const session = { token, me: await response.json() };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** This browser's device id for a user, made on first use. */
export function deviceIdFor(userId) {
  let id = localStorage.getItem(DEVICE_KEY(userId));
  if (!id) {
    const random = crypto.randomUUID().replaceAll("-", "").slice(0, 20);
    id = `web-${random}`;
    localStorage.setItem(DEVICE_KEY(userId), id);
  }
  return id;
}

/** Forget the tab's session but keep the device (a token that stopped working:
 * its unsynced changes stay for the next sign-in of the same user). */
export function endSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Sign out: close the device, delete its store and its id, end the session. */
export async function signOut(session, device) {
  const deviceId = deviceIdFor(session.me.id);
  await device?.close();
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(`fieldsync:${deviceId}`);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  localStorage.removeItem(DEVICE_KEY(session.me.id));
  endSession();
}
