// Preact with htm: components as functions, markup as tagged templates. The one
// place the app imports its vendored libraries from (syncserver/webapp/vendor).
import { h, render } from "../vendor/preact.mjs";
import htm from "../vendor/htm.mjs";

export const html = htm.bind(h);
export { render };
export { useCallback, useEffect, useMemo, useRef, useState } from "../vendor/preact-hooks.mjs";
