// The service worker of the inspector's phone (城管通, /field), registered by that page alone with
// the scope /field: it keeps the app's shell so the page opens without network. Conservative:
//  - a navigation goes to the network first; the shell kept is the answer only when there is none;
//  - /api is never touched (a report waits in the page's IndexedDB outbox, not here);
//  - hashed build files (/assets/) are answered from the cache once fetched (a new build has new names);
//  - nothing else is cached.
const CACHE = 'cityops-field-v1'
const SHELL = '/field'
const PRECACHE = [SHELL, '/manifest.webmanifest', '/icons/field-192.png', '/icons/field-512.png', '/favicon.svg']

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(PRECACHE.map((url) => cache.add(url).catch(() => undefined))))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('cityops-field-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

/** Same-origin files that may be kept: build files and the shell's own, never the API. */
function keepable(url) {
  return url.origin === self.location.origin && !url.pathname.startsWith('/api/') &&
    (url.pathname.startsWith('/assets/') || PRECACHE.includes(url.pathname))
}

// the page tells what it loaded before this worker controlled it
self.addEventListener('message', (event) => {
  const data = event.data
  if (!data || data.type !== 'cache' || !Array.isArray(data.urls)) return
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE)
    await Promise.all(data.urls.map(async (href) => {
      let url
      try {
        url = new URL(href, self.location.origin)
      } catch {
        return
      }
      if (!keepable(url) || (await cache.match(url.pathname === SHELL ? SHELL : url.href, { ignoreVary: true }))) return
      try {
        const res = await fetch(url.href, { credentials: 'same-origin' })
        if (res.ok) await cache.put(url.pathname === SHELL ? SHELL : url.href, res)
      } catch {
        /* offline: kept the next time */
      }
    }))
  })())
})

self.addEventListener('fetch', (event) => {
  const req = event.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return
  if (req.mode === 'navigate') {
    event.respondWith(navigation(req))
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(build(req))
  } else if (PRECACHE.includes(url.pathname)) {
    event.respondWith(fromNetwork(req))
  }
})

/** The network's page (kept as the shell: every route answers the same index.html), else the shell kept. */
async function navigation(req) {
  const cache = await caches.open(CACHE)
  try {
    const res = await fetch(req)
    if (res.ok && (res.headers.get('content-type') || '').includes('text/html')) await cache.put(SHELL, res.clone())
    return res
  } catch (e) {
    const kept = await cache.match(SHELL)
    if (kept) return kept
    throw e
  }
}

/** A build file: kept once fetched (its name changes with its content). */
async function build(req) {
  const cache = await caches.open(CACHE)
  // a module script's request carries an Origin header the worker's own fetch did not: the same file
  const kept = await cache.match(req, { ignoreVary: true })
  if (kept) return kept
  const res = await fetch(req)
  if (res.ok) await cache.put(req, res.clone())
  return res
}

/** The manifest and icons: the network's, the kept copy without one. */
async function fromNetwork(req) {
  const cache = await caches.open(CACHE)
  try {
    const res = await fetch(req)
    if (res.ok) await cache.put(req, res.clone())
    return res
  } catch (e) {
    const kept = await cache.match(req, { ignoreSearch: true, ignoreVary: true })
    if (kept) return kept
    throw e
  }
}
