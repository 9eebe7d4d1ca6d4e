// Screens loaded when first shown: a technician's phone never fetches the console's
// modules on the way to My jobs (the service worker still keeps them for offline).
import { html, useEffect, useState } from "./html.js";

/** A component that imports `load()`'s module on first render and then renders
 * its export `name` with the same props. */
export function lazy(load, name) {
  let loaded = null; // the component, once imported
  let loading = null; // the import under way
  const start = () => {
    loading ??= load().then((module) => (loaded = module[name]));
    return loading;
  };
  function Lazy(props) {
    const [Component, setComponent] = useState(() => loaded);
    const [error, setError] = useState(null);
    useEffect(() => {
      if (Component) return;
      start().then(
        (component) => setComponent(() => component),
        (caught) => setError(caught),
      );
    }, []);
    if (error) return html`<p class="error" role="alert">This screen could not be loaded: ${error.message}</p>`;
    if (!Component) return html`<p class="loading">Loading…</p>`;
    return html`<${Component} ...${props} />`;
  }
  /** Start the import now (the screen about to be shown), without waiting. */
  Lazy.preload = () => {
    start().catch(() => {}); // a failure shows when the screen renders
  };
  return Lazy;
}
