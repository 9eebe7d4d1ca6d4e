// A release while the app is open: the server's new service worker takes over
// the page (sw.js: skipWaiting, clients.claim), but the page still runs the
// modules it loaded. Say so, with a way to reload into the new version. The
// worker is also asked to look for a release when the browser comes back online
// and every hour, since a phone may keep the app open all day.
import { html, useEffect, useState } from "./html.js";

const CHECK_EVERY_MS = 60 * 60 * 1000;

export function UpdateBanner() {
  const [updated, setUpdated] = useState(false);
  useEffect(() => {
    const workers = navigator.serviceWorker;
    if (!workers) return undefined;
    let hadController = Boolean(workers.controller); // the first install is no update
    const onChange = () => {
      if (hadController) setUpdated(true);
      hadController = true;
    };
    const check = () => workers.getRegistration().then((r) => r?.update()).catch(() => {});
    workers.addEventListener("controllerchange", onChange);
    addEventListener("online", check);
    const timer = setInterval(check, CHECK_EVERY_MS);
    return () => {
      workers.removeEventListener("controllerchange", onChange);
      removeEventListener("online", check);
      clearInterval(timer);
    };
  }, []);
  if (!updated) return null;
  return html`<div class="update-banner" role="alert">
    <span>Fieldsync has been updated. Reload to use the new version (your changes are kept).</span>
    <button type="button" onClick=${() => location.reload()}>Reload</button>
  </div>`;
}
