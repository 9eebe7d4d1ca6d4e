// The web app's entry: sign-in, then the device and the screen of the route.
import { html, render, useEffect, useState } from "./html.js";
import { currentSession, endSession, signOut } from "./session.js";
import { openDevice } from "./device.js";
import { useRoute } from "./router.js";
import { Shell, linksFor } from "./shell.js";
import { SignIn } from "./signin.js";
import { MyJobs } from "./myjobs.js";
import { JobPage } from "./job.js";
import { lazy } from "./lazy.js";
import { UpdateBanner } from "./update.js";

// Each screen is a component ({device, session, name}) in a module of its own;
// the console's are imported when first shown.
const SCREENS = {
  "my-jobs": MyJobs,
  jobs: lazy(() => import("./board.js"), "JobBoard"),
  calendar: lazy(() => import("./calendar.js"), "Calendar"),
  map: lazy(() => import("./map.js"), "JobMap"),
  conflicts: lazy(() => import("./conflicts.js"), "Conflicts"),
  devices: lazy(() => import("./devices.js"), "Devices"),
  users: lazy(() => import("./users.js"), "Users"),
};

function App() {
  const [session, setSession] = useState(currentSession);
  const [device, setDevice] = useState(null);
  const [problem, setProblem] = useState(null);
  const route = useRoute();

  useEffect(() => {
    if (!session) return undefined;
    // The role's first screen loads while the device opens, not after it.
    SCREENS[linksFor(session.me.role)[0]?.route]?.preload?.();
    let opened = null;
    let alive = true;
    openDevice(session).then(
      (d) => {
        opened = d;
        if (alive) setDevice(d);
        else d.close();
        d.addEventListener("error", (event) => {
          if (event.detail?.status === 401) {
            // The token stopped working: sign in again; unsynced changes stay.
            endSession();
            d.close();
            setDevice(null);
            setSession(null);
            setProblem("Your sign-in has ended. Sign in again; changes not yet synced are kept.");
          }
        });
      },
      (error) => setProblem(`This browser cannot keep Fieldsync's data: ${error.message}`),
    );
    return () => {
      alive = false;
      opened?.close();
    };
  }, [session]);

  if (!session) {
    return html`<${SignIn} reason=${problem} onSignedIn=${(s) => { setProblem(null); setSession(s); }} />`;
  }
  if (!device) return html`<p class="loading">${problem ?? "Opening your jobs…"}</p>`;

  const links = linksFor(session.me.role);
  let screen;
  if (route.name === "job") {
    screen = html`<${JobPage} key=${route.id} device=${device} session=${session} jobId=${route.id} />`;
  } else {
    const name = links.some((link) => link.route === route.name) ? route.name : links[0]?.route;
    const Screen = SCREENS[name] ?? MyJobs;
    screen = html`<${Screen} device=${device} session=${session} name=${name} />`;
  }
  const onSignOut = async () => {
    await signOut(session, device);
    setDevice(null);
    setSession(null);
    location.hash = "";
  };
  return html`<${Shell} session=${session} device=${device} route=${route} onSignOut=${onSignOut}>${screen}<//>`;
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/ui/sw.js", { scope: "/ui", type: "classic" }).catch(() => {
    // Without it the app still works online; it just cannot open offline.
  });
}
const root = document.getElementById("app");
root.textContent = ""; // the "Loading" line of index.html
render(html`<${UpdateBanner} /><${App} />`, root);
