{% load static %}// The till's service worker (ADR 20): it keeps the cashier page and its static files so the
// till opens and sells with the server or the network down. The page is fetched from the network
// first and kept; static files come from the cache and are refreshed behind. API calls and posts
// are never touched: the page queues its sales in IndexedDB and sends them itself.
const PAGE = "{% url 'staff:cashier' as page %}{{ page|escapejs }}";
const STATIC = [
  "{% static 'console/console.css' as f %}{{ f|escapejs }}",
  "{% static 'console/favicon.svg' as f %}{{ f|escapejs }}",
  "{% static 'core/live.js' as f %}{{ f|escapejs }}",
  "{% static 'staff/till.js' as f %}{{ f|escapejs }}",
  "{% static 'staff/offline-till.js' as f %}{{ f|escapejs }}",
];
const STATIC_PREFIX = "{% get_static_prefix as prefix %}{{ prefix|escapejs }}";
const CACHE = `till-${STATIC.join("|").length}-${STATIC[STATIC.length - 1]}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(STATIC))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("till-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function keep(request, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE && request.mode === "navigate") {
    // Network first: the page carries the shift and the clerk's switches; the kept copy when down.
    event.respondWith(
      fetch(request)
        .then((response) => keep(PAGE, response))
        .catch(() => caches.match(PAGE).then((kept) => kept || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(
      caches.match(request).then((kept) => {
        const fresh = fetch(request)
          .then((response) => keep(request, response))
          .catch(() => kept || Response.error());
        return kept || fresh;
      }),
    );
  }
});
