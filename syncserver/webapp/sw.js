// The web app's service worker: the app opens without a network.
//
// The server prepends VERSION (a hash of the app's files and the SDK module) and
// OFFLINE_FILES (every file the app loads) to this script, so a release is a new
// service worker with a new cache. Files are fetched from the network first, and
// the cache answers when the network cannot: online, the app is always the
// server's current one; offline, it is the last one seen. Only the app's own
// files go through here; the SDK's requests (/sync, /api, uploads) are the SDK's
// business, and the device's data lives in IndexedDB, not in this cache.

const CACHE = `fieldsync-ui-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(OFFLINE_FILES.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("fieldsync-ui-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

/** Whether a request is for one of the app's files (or a page of the app). */
function isAppFile(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  return request.mode === "navigate" || url.pathname.startsWith("/ui/") || url.pathname === "/sdk/fieldsync.js";
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (!isAppFile(request)) return;
  // Every page of the app is index.html (the app routes by the fragment): one entry.
  const key = request.mode === "navigate" ? "/ui/" : request;
  event.respondWith(
    (async () => {
      try {
        const response = await fetch(request);
        if (response.ok) {
          // Kept for offline use without holding up the answer.
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        }
        return response;
      } catch (error) {
        const cached = await caches.match(key, { cacheName: CACHE, ignoreSearch: true });
        if (cached) return cached;
        throw error;
      }
    })(),
  );
});
