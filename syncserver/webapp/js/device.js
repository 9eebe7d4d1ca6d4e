// The browser SDK in the app: opening this browser's device, and hooks that keep
// a screen's data in step with the device's optimistic view.
import { Device } from "/sdk/fieldsync.js";
import { deviceIdFor } from "./session.js";
import { useEffect, useRef, useState } from "./html.js";

/** Open the signed-in user's device and keep it syncing while the app is open. */
export async function openDevice(session) {
  const device = await Device.open({ token: session.token, deviceId: deviceIdFor(session.me.id) });
  device.live();
  return device;
}

/** `load(device)` now and again after every `change` of the view (in this tab or
 * another). Loads never overlap: changes during one make one more. Returns
 * {data, error}; `data` is undefined until the first load resolves. */
export function useView(device, load, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null });
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let alive = true;
    let running = false;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      do {
        again = false;
        try {
          const data = await latest.current(device);
          if (alive) setState({ data, error: null });
        } catch (error) {
          if (alive) setState((old) => ({ data: old.data, error }));
        }
      } while (again && alive);
      running = false;
    };
    run();
    device.addEventListener("change", run);
    return () => {
      alive = false;
      device.removeEventListener("change", run);
    };
  }, [device, ...deps]);
  return state;
}

const LAST_SYNC_KEY = (deviceId) => `fieldsync.lastSync.${deviceId}`;

/** {online, pending, syncing, lastSync, error} of the device, as the status line
 * shows it. `lastSync` (ms) survives a reload; `error` is the last failed sync's
 * SyncError until a sync succeeds. */
export function useSyncState(device) {
  const [state, setState] = useState(() => ({
    online: navigator.onLine,
    pending: null,
    syncing: false,
    lastSync: Number(localStorage.getItem(LAST_SYNC_KEY(device.deviceId))) || null,
    error: null,
  }));
  useEffect(() => {
    const onStatus = (event) => setState((old) => ({ ...old, ...event.detail }));
    const onSynced = (event) => {
      localStorage.setItem(LAST_SYNC_KEY(device.deviceId), String(event.detail.at));
      setState((old) => ({ ...old, lastSync: event.detail.at, error: null }));
    };
    const onError = (event) => setState((old) => ({ ...old, error: event.detail }));
    device.addEventListener("status", onStatus);
    device.addEventListener("synced", onSynced);
    device.addEventListener("error", onError);
    device.pending().then((pending) => setState((old) => (old.pending === null ? { ...old, pending } : old)));
    return () => {
      device.removeEventListener("status", onStatus);
      device.removeEventListener("synced", onSynced);
      device.removeEventListener("error", onError);
    };
  }, [device]);
  return state;
}

/** Calls `run` after each `change` of the device's view (in this tab or another),
 * at most once per `every` ms (a change within that time makes one more call when
 * it is over); with `poll`, also every `poll` ms while the page is visible. For
 * screens that read the server's APIs: the device pulls on pokes, so its changes
 * say the server's data moved. */
export function useChanges(device, run, every, poll = 0) {
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => {
    let last = 0;
    let timer = null;
    const onChange = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        latest.current();
      }, Math.max(0, last + every - Date.now()));
    };
    const ticker = poll
      ? setInterval(() => {
          if (document.visibilityState === "visible" && Date.now() - last >= poll) onChange();
        }, poll)
      : null;
    device.addEventListener("change", onChange);
    return () => {
      clearTimeout(timer);
      clearInterval(ticker);
      device.removeEventListener("change", onChange);
    };
  }, [device, every, poll]);
}
