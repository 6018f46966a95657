// The inspector's phone (城管通, /field) on a phone's screen (390x844) with the GPS in Huangpu:
// a report made offline (Playwright's offline mode) with a camera photo waits on the phone, and
// once online is sent; the first answers of its case and of its photo are lost on the way back,
// so it is sent again with its Idempotency-Key, and exactly one case with one photo exists, also
// after a reload. The service worker keeps the page for opening without network, also cold: a new
// window opened offline takes the inspector the phone remembers, whose report waits and goes once
// online (once), or, when their session was ended meanwhile, after signing in again. A file that is
// no image, one too large and a place outside the city are refused with a message; a report the
// server refuses stays on the phone with the server's words, and corrected, goes. Today's tasks
// are the verifications and checks of the inspector's grids, decided on the phone. On patrol the
// phone records a position every interval (the server's, set to 5 s here) as the GPS moves (one
// kept on the phone while offline and sent after, the patrol picked up again after a reload), and
// off duty the shift lead sees the track drawn on the street map, in Chinese and in English; a
// dispatcher has no patrol page and the API refuses them.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, makePng, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi } from './harness.mjs'

// the phone records a position every 5 s (the least the server takes), so a patrol is short
process.env.CITYOPS_PATROL_INTERVAL_SECS ??= '5'

const TAG = `FD${Date.now().toString(36)}`
/** A point of Huangpu (小东门街道), and a walk from it to the north-east. */
const HUANGPU = { longitude: 121.4837, latitude: 31.2386 }
const WALK = [
  { longitude: 121.4837, latitude: 31.2386 },
  { longitude: 121.4849, latitude: 31.2395 },
  { longitude: 121.4861, latitude: 31.2404 },
  { longitude: 121.4873, latitude: 31.2413 },
]
const PHONE = { width: 390, height: 844 }
const HAN = /\p{Script=Han}/u

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const state = { number: null, caseId: null, patrol: null }

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}
const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `field-${name}.png`), fullPage: true })

function watch(page, who) {
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // what this test provokes: requests while offline or aborted, and the refusals it asks for
    if (/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_FAILED|net::/.test(m.text())) return
    errors.push(`${who}: ${m.text()}`)
  })
  page.setDefaultTimeout(30_000)
}

/** A phone (its own cookies) with the GPS at `at`; service workers blocked unless asked for (they hide requests from `page.route`). */
async function phone(who, { at = HUANGPU, serviceWorkers = 'block' } = {}) {
  const context = await chrome.browser.newContext({
    viewport: PHONE, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    permissions: ['geolocation'], geolocation: { ...at, accuracy: 8 }, serviceWorkers,
  })
  const page = await context.newPage()
  watch(page, who)
  return { context, page }
}

async function desktop(who) {
  const page = await (await chrome.newContext()).newPage()
  watch(page, who)
  return page
}

/** Waits until the page's service worker controls it and keeps the shell and the page's own files. */
async function workerKeeps(page) {
  await page.waitForFunction(() => !!navigator.serviceWorker?.controller, null, { timeout: 30_000 })
  const kept = () => page.evaluate(async () => {
    const shell = await caches.match('/field')
    const files = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/assets/') && /\.(js|css)$/.test(u))
    const found = await Promise.all(files.map((u) => caches.match(u, { ignoreVary: true })))
    return !!shell && files.some((u) => u.endsWith('.js')) && found.every(Boolean)
  })
  for (let i = 0; !(await kept()); i++) {
    assert.ok(i < 60, 'the service worker did not keep the page\'s files')
    await page.waitForTimeout(500)
  }
}

/** The reports waiting in the phone's outbox (IndexedDB), whoever made them. */
const outboxCount = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const open = indexedDB.open('cityops-field')
  open.onerror = () => reject(open.error)
  open.onsuccess = () => {
    const db = open.result
    const count = db.transaction('reports').objectStore('reports').count()
    count.onsuccess = () => { db.close(); resolve(count.result) }
    count.onerror = () => reject(count.error)
  }
}))

/**
 * The inspector, signed in on a phone whose service worker kept /field, closes the app and the
 * network goes: a new window (nothing in its sessionStorage) opened at /field without network.
 */
async function coldOffline(who, before) {
  const { context, page } = await phone(who, { serviceWorkers: 'allow' })
  await signInAt(page, ui, 'inspector')
  await setLanguage(page, 'zh')
  await page.goto(`${ui.url}/field`)
  await page.getByTestId('field-tasks').waitFor()
  await workerKeeps(page)
  // the account the phone remembers: the public profile, nothing to sign in with
  const remembered = JSON.parse(await page.evaluate(() => localStorage.getItem('cityops.field.account')))
  assert.deepEqual(Object.keys(remembered).sort(), ['display_name', 'id', 'role', 'scope', 'unit', 'username'])
  assert.equal(remembered.username, 'inspector')
  assert.equal(remembered.role, 'inspector')
  await page.close()
  await context.setOffline(true)
  await before?.(context)
  const cold = await context.newPage()
  watch(cold, who)
  await cold.goto(`${ui.url}/field?tab=report`)
  await cold.getByTestId('field-page').waitFor()
  assert.equal(new URL(cold.url()).pathname, '/field')
  assert.equal(await cold.evaluate(() => sessionStorage.getItem('cityops.session')), null)
  await cold.locator('[data-testid="field-online"][data-online="false"]').waitFor()
  const banner = cold.getByTestId('field-remembered')
  await banner.waitFor()
  assert.equal(await text(banner), '离线工作中：使用本机记住的账号')
  assert.equal(await text(cold.getByTestId('field-who')), '王监督员')
  return { context, page: cold }
}

/** A report made on the phone without network (the GPS's point, no photo): it waits in the outbox. */
async function reportOffline(page, description) {
  await page.getByTestId('field-report').waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="field-lon"]')?.value && document.querySelector('[data-testid="field-lat"]')?.value)
  await page.getByTestId('field-description').fill(description)
  await page.getByTestId('field-submit').click()
  await page.locator('[data-testid="field-saved"][data-saved="stored"]').waitFor()
  await page.locator('[data-testid="outbox-entry"][data-status="waiting"]').waitFor()
  assert.equal(await page.getByTestId('field-pending').getAttribute('data-count'), '1')
  assert.equal(await outboxCount(page), 1)
  await page.waitForTimeout(1000)
  assert.equal((await casesWith(description)).length, 0)
}

/** The cases whose description holds `text`. */
async function casesWith(q) {
  const r = await call('operator', 'GET', `/cases?q=${encodeURIComponent(q)}&limit=50`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json.items
}

describe('the inspector\'s phone', { timeout: 300_000 }, () => {
  it('a report made offline waits on the phone and is sent once online: one case, one photo, whatever was lost', async () => {
    const { context, page } = await phone('inspector')
    await signInAt(page, ui, 'inspector')
    await setLanguage(page, 'zh')
    // the nav offers the inspector their phone's page
    await page.getByTestId('nav-field').waitFor({ state: 'attached' })
    await page.goto(`${ui.url}/field?tab=report`)
    await page.locator('[data-testid="field-online"][data-online="true"]').waitFor()
    assert.equal(await text(page.getByTestId('field-who')), '王监督员')
    assert.equal(await text(page.getByTestId('field-tab-report')), '上报问题')
    // the GPS's point, its accuracy, and where it lies
    await page.getByTestId('field-accuracy').waitFor()
    assert.equal(await page.getByTestId('field-accuracy').getAttribute('data-accuracy'), '8')
    assert.equal(await text(page.getByTestId('field-accuracy')), '精度 ±8 米')
    assert.equal(await page.getByTestId('field-lon').inputValue(), '121.4837')
    assert.equal(await page.getByTestId('field-lat').inputValue(), '31.2386')
    const located = page.getByTestId('field-located')
    await located.waitFor()
    assert.match(await text(located), /黄浦区/)
    const street = await located.getAttribute('data-street')
    assert.equal((await call('inspector', 'GET', '/geo/locate?lon=121.4837&lat=31.2386')).json.street.code, street)

    // the network goes
    await context.setOffline(true)
    await page.locator('[data-testid="field-online"][data-online="false"]').waitFor()
    await page.getByTestId('field-description').fill(`${TAG} 人行道井盖缺失，已有行人绊倒`)
    await page.getByTestId('field-class').selectOption('10101')
    const png = await makePng()
    await page.getByTestId('field-photos').setInputFiles({ name: 'manhole.png', mimeType: 'image/png', buffer: png })
    await page.locator('[data-testid="field-thumbs"][data-count="1"]').waitFor()
    assert.equal(await page.getByTestId('field-photo-error').count(), 0)
    assert.equal(await text(page.getByTestId('field-submit')), '保存，联网后发送')
    await page.getByTestId('field-submit').click()
    await page.locator('[data-testid="field-saved"][data-saved="stored"]').waitFor()
    const entry = page.locator('[data-testid="outbox-entry"][data-status="waiting"]')
    await entry.waitFor()
    assert.equal(await page.getByTestId('field-pending').getAttribute('data-count'), '1')
    assert.equal(await text(page.getByTestId('field-pending')), '待发送 1')
    assert.match(await text(entry), new RegExp(`${TAG}.*1 张照片`))
    // the form is empty again, ready for the next
    assert.equal(await page.getByTestId('field-description').inputValue(), '')
    assert.equal(await page.getByTestId('field-thumb').count(), 0)
    await shot(page, 'offline-waiting')
    // nothing reached the server
    await page.waitForTimeout(1000)
    assert.equal((await casesWith(TAG)).length, 0)

    // the first answers of the case and of its photo are lost on their way back: the server did
    // the work, the phone does not know, and sends again with the same key
    const keys = []
    let caseLost = false
    let photoLost = false
    let uploads = 0
    await page.route((url) => url.pathname === '/api/v1/cases', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback()
      keys.push(route.request().headers()['idempotency-key'])
      if (caseLost) return route.fallback()
      caseLost = true
      const answer = await route.fetch()
      assert.equal(answer.status(), 201)
      return route.abort('failed')
    })
    await page.route((url) => /^\/api\/v1\/cases\/[^/]+\/attachments$/.test(url.pathname), async (route) => {
      if (route.request().method() !== 'POST') return route.fallback()
      uploads += 1
      if (photoLost) return route.fallback()
      photoLost = true
      const answer = await route.fetch()
      assert.equal(answer.status(), 201)
      return route.abort('failed')
    })

    // back online: the `online` event sends it; its answer is lost, so it waits
    await context.setOffline(false)
    await page.locator('[data-testid="field-online"][data-online="true"]').waitFor()
    await page.locator('[data-testid="outbox-entry"][data-status="waiting"] [data-testid="outbox-last-error"]').waitFor()
    assert.equal(keys.length, 1)
    // sent again: the same case; the photo's answer is lost
    await page.getByTestId('field-send-now').click()
    await page.locator('[data-testid="outbox-entry"]:not([data-case=""])').waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid="outbox-entry"]')?.textContent?.includes('1 张照片待上传'))
    // and once more: the photo the server holds already is answered, and the report leaves the phone
    await page.getByTestId('field-send-now').click()
    const sent = page.getByTestId('field-sent')
    await sent.waitFor()
    await page.locator('[data-testid="field-outbox"][data-count="0"]').waitFor({ state: 'attached' })
    assert.equal(await page.getByTestId('field-pending').getAttribute('data-count'), '0')
    assert.equal(keys.length, 2)
    assert.equal(keys[0], keys[1], 'one key for every attempt')
    assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(uploads, 2)
    state.number = await sent.getAttribute('data-number')
    assert.equal(await text(sent.locator('a')), `案件 ${state.number}`)

    const found = await casesWith(TAG)
    assert.equal(found.length, 1, JSON.stringify(found.map((c) => c.number)))
    assert.equal(found[0].number, state.number)
    assert.equal(found[0].source, 'inspector')
    assert.deepEqual(found[0].location, { lon: 121.4837, lat: 31.2386 })
    // the GPS fix's accuracy went with it
    assert.equal(found[0].location_accuracy_m, 8)
    state.caseId = found[0].id
    const photos = await call('operator', 'GET', `/cases/${state.caseId}/attachments`)
    assert.equal(photos.status, 200)
    assert.equal(photos.json.length, 1, JSON.stringify(photos.json))
    assert.equal(photos.json[0].file_name, 'manhole.png')
    await shot(page, 'sent')

    // a reload finds nothing waiting and sends nothing
    await page.unrouteAll()
    const posted = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/api/v1/cases')) posted.push(r.url())
    })
    await page.reload()
    await page.locator('[data-testid="field-online"][data-online="true"]').waitFor()
    await page.locator('[data-testid="field-outbox"][data-count="0"]').waitFor({ state: 'attached' })
    await page.waitForTimeout(1500)
    assert.deepEqual(posted, [])
    assert.equal((await casesWith(TAG)).length, 1)
    assert.equal((await call('operator', 'GET', `/cases/${state.caseId}/attachments`)).json.length, 1)
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('the page is kept by its service worker and opens without network', async () => {
    const { context, page } = await phone('inspector-sw', { serviceWorkers: 'allow' })
    await signInAt(page, ui, 'inspector')
    await page.goto(`${ui.url}/field`)
    await page.getByTestId('field-tasks').waitFor()
    // the shell and the page's own files are kept
    await workerKeeps(page)
    const manifest = await page.evaluate(() => document.querySelector('link[rel="manifest"]')?.getAttribute('href'))
    assert.equal(manifest, '/manifest.webmanifest')
    const app = await (await fetch(`${ui.url}/manifest.webmanifest`)).json()
    assert.equal(app.start_url, '/field')
    assert.equal(app.display, 'standalone')
    assert.deepEqual(app.icons.map((i) => i.sizes).slice(0, 2), ['192x192', '512x512'])

    await context.setOffline(true)
    await page.reload()
    await page.getByTestId('field-page').waitFor()
    await page.locator('[data-testid="field-online"][data-online="false"]').waitFor()
    await page.getByTestId('field-tab-report').click()
    await page.getByTestId('field-report').waitFor()
    await shot(page, 'offline-reload')
    await context.setOffline(false)
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('opened cold without network (a new window), the remembered inspector reports; online again it is sent, once', async () => {
    const { context, page } = await coldOffline('inspector-cold')
    const description = `${TAG} 冷启动离线上报：路灯杆倾斜`
    await reportOffline(page, description)
    await shot(page, 'cold-offline')

    // the network is back: the server says the session holds, and the report goes
    await context.setOffline(false)
    await page.locator('[data-testid="field-online"][data-online="true"]').waitFor()
    await page.getByTestId('field-sent').waitFor()
    await page.getByTestId('field-remembered').waitFor({ state: 'detached' })
    await page.locator('[data-testid="field-outbox"][data-count="0"]').waitFor({ state: 'attached' })
    assert.equal(await outboxCount(page), 0)
    assert.equal(JSON.parse(await page.evaluate(() => sessionStorage.getItem('cityops.session'))).user.username, 'inspector')
    const found = await casesWith(description)
    assert.equal(found.length, 1, JSON.stringify(found.map((c) => c.number)))
    assert.equal(found[0].number, await page.getByTestId('field-sent').getAttribute('data-number'))
    assert.equal(found[0].source, 'inspector')
    // other pages are the server's again
    await page.getByTestId('field-workbench').click()
    await page.waitForURL(/\/workbench/)
    await page.waitForTimeout(1000)
    assert.equal((await casesWith(description)).length, 1)
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('the remembered account whose session was ended meanwhile: online again, the login page; signed in, the waiting report goes once', async () => {
    const { context, page } = await coldOffline('inspector-revoked', async (ctx) => {
      // the session ends elsewhere (signed out through the API with its own token); the phone's cookie stays
      const cookie = (await ctx.cookies(ui.url)).find((c) => c.name === 'cityops_session')
      assert.ok(cookie, 'the session cookie')
      const out = await api.call('DELETE', '/sessions/current', cookie.value)
      assert.ok([200, 204].includes(out.status), JSON.stringify(out.json))
      assert.equal((await api.call('GET', '/me', cookie.value)).status, 401)
    })
    const description = `${TAG} 会话已结束的离线上报：垃圾满溢`
    await reportOffline(page, description)

    // online: the server says the session is over, so the login page, back to /field after
    await context.setOffline(false)
    await page.waitForURL((url) => url.pathname === '/login')
    const url = new URL(page.url())
    assert.equal(url.searchParams.get('redirect')?.split('?')[0], '/field')
    assert.equal(await text(page.getByTestId('login-error')), '登录已过期，请重新登录')
    assert.equal(await page.evaluate(() => localStorage.getItem('cityops.field.account')), null)
    // what waited is still on the phone, and nothing reached the server
    assert.equal(await outboxCount(page), 1)
    assert.equal((await casesWith(description)).length, 0)
    await shot(page, 'cold-expired')

    await page.getByTestId('username').fill('inspector')
    await page.getByTestId('password').fill('cityops-demo')
    await page.getByTestId('login-submit').click()
    await page.waitForURL((u) => u.pathname === '/field')
    await page.getByTestId('field-sent').waitFor()
    await page.locator('[data-testid="field-outbox"][data-count="0"]').waitFor({ state: 'attached' })
    assert.equal(await outboxCount(page), 0)
    await page.waitForTimeout(1500)
    const found = await casesWith(description)
    assert.equal(found.length, 1, JSON.stringify(found.map((c) => c.number)))
    assert.equal(found[0].number, await page.getByTestId('field-sent').getAttribute('data-number'))
    // remembered again for the next time
    assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('cityops.field.account'))).username, 'inspector')
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('refuses a file that is no image, one too large, and a place outside the city', async () => {
    const { context, page } = await phone('inspector-refusals')
    await signInAt(page, ui, 'inspector')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/field?tab=report`)
    await page.getByTestId('field-accuracy').waitFor()
    const input = page.getByTestId('field-photos')
    await input.setInputFiles({ name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is a text, not a photo\n') })
    const refused = page.locator('[data-testid="field-photo-error"][data-problem="not_image"]')
    await refused.waitFor()
    assert.equal(await text(refused), 'notes.jpg：不是图片，只能上传 JPEG、PNG 或 WebP 格式的照片')
    assert.equal(await page.getByTestId('field-thumb').count(), 0)
    const png = await makePng()
    const huge = Buffer.concat([png, Buffer.alloc(10 * 1024 * 1024)])
    await input.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: huge })
    const large = page.locator('[data-testid="field-photo-error"][data-problem="too_large"]')
    await large.waitFor()
    assert.equal(await text(large), 'huge.png：超过 10 MB，不能上传')
    assert.equal(await page.getByTestId('field-thumb').count(), 0)

    // a place outside the city, typed: refused beside the place, and nothing is stored
    await page.getByTestId('field-description').fill(`${TAG} 海上漂浮物`)
    await page.getByTestId('field-lon').fill('122.9')
    await page.getByTestId('field-lat').fill('31.2386')
    const outside = page.getByTestId('field-error-location')
    await outside.waitFor()
    assert.equal(await text(outside), '该位置不在本市范围内')
    await page.getByTestId('field-submit').click()
    await page.waitForTimeout(500)
    assert.equal(await page.getByTestId('outbox-entry').count(), 0)
    assert.equal(await text(page.getByTestId('field-error-location')), '该位置不在本市范围内')

    // the same in English
    await page.getByTestId('lang-toggle').click()
    await page.waitForFunction(() => document.documentElement.lang === 'en')
    await input.setInputFiles({ name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('still no photo') })
    await page.locator('[data-testid="field-photo-error"][data-problem="not_image"]').waitFor()
    assert.equal(await text(page.getByTestId('field-photo-error')), 'notes.jpg: not an image; only JPEG, PNG or WebP photos can be uploaded')
    const tabs = (await page.locator('[data-testid="field-tabs"] [role="tab"]').allTextContents()).map((s) => s.trim())
    assert.deepEqual(tabs, ['Today\'s tasks', 'Report', 'Patrol'])
    // the inspector's name is theirs, and the language switch says 中文 in Chinese
    const chrome = await text(page.locator('.field-head'))
    assert.ok(!HAN.test(chrome.replace('王监督员', '').replace('中文', '')), chrome)
    // the form's own words are English; the words of the description a suggestion was made from are the inspector's
    await page.locator('[data-testid="field-error-location"]', { hasText: 'This position is not in the city' }).waitFor()
    const form = await page.evaluate(() => {
      const copy = document.querySelector('[data-testid="field-report"]').cloneNode(true)
      copy.querySelectorAll('[data-testid="class-suggestion-words"]').forEach((n) => n.remove())
      return copy.textContent
    })
    assert.ok(!HAN.test(form), form)
    await shot(page, 'refusals-en')
    await page.getByTestId('lang-toggle').click()
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('a report the server refuses is shown with its words, corrected and sent', async () => {
    const { context, page } = await phone('inspector-refused')
    await signInAt(page, ui, 'inspector')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/field?tab=report`)
    await page.getByTestId('field-accuracy').waitFor()
    // offline, a point within the city's rough bounds but on none of its unit grids (the sea off Fengxian)
    await context.setOffline(true)
    await page.locator('[data-testid="field-online"][data-online="false"]').waitFor()
    await page.getByTestId('field-description').fill(`${TAG} 护栏缺失`)
    await page.getByTestId('field-lon').fill('121.9')
    await page.getByTestId('field-lat').fill('30.7')
    await page.getByTestId('field-unplaced').waitFor()
    const png = await makePng()
    await page.getByTestId('field-photos').setInputFiles({ name: 'rail.png', mimeType: 'image/png', buffer: png })
    await page.getByTestId('field-submit').click()
    await page.locator('[data-testid="outbox-entry"][data-status="waiting"]').waitFor()
    await context.setOffline(false)
    // the server refuses it: it stays on the phone with the server's words, and is not tried again by itself
    const failed = page.locator('[data-testid="outbox-entry"][data-status="failed"]')
    await failed.waitFor()
    const refusal = failed.getByTestId('outbox-error')
    assert.equal(await refusal.getAttribute('data-code'), 'outside_city')
    assert.match(await text(refusal), /^服务器拒绝：.+/)
    assert.equal(await page.getByTestId('field-pending').getAttribute('data-failed'), '1')
    assert.match(await text(page.getByTestId('field-pending')), /失败 1/)
    await shot(page, 'refused')
    // back in the form, the refusal beside the place; corrected, it goes
    await failed.getByTestId('outbox-edit').click()
    await page.locator('[data-testid="field-outbox"][data-count="0"]').waitFor({ state: 'attached' })
    assert.equal(await page.getByTestId('field-description').inputValue(), `${TAG} 护栏缺失`)
    await page.locator('[data-testid="field-thumbs"][data-count="1"]').waitFor()
    await page.getByTestId('field-error-location').waitFor()
    await page.getByTestId('field-lon').fill(String(HUANGPU.longitude))
    await page.getByTestId('field-lat').fill(String(HUANGPU.latitude))
    await page.getByTestId('field-located').waitFor()
    await page.getByTestId('field-submit').click()
    const sent = page.getByTestId('field-sent')
    await sent.waitFor()
    const found = await casesWith(`${TAG} 护栏缺失`)
    assert.equal(found.length, 1)
    assert.equal(found[0].number, await sent.getAttribute('data-number'))
    assert.equal((await call('operator', 'GET', `/cases/${found[0].id}/attachments`)).json.length, 1)
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('today\'s tasks are the verifications and checks of the inspector\'s grids, decided on the phone', async () => {
    // two calls in 南京东路街道, whose grids the demo gives the inspector: one to verify, one to check
    const open = async (what) => {
      const created = await call('operator', 'POST', '/cases', {
        source: 'hotline', description: `${TAG} 市民来电：${what}`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
      })
      assert.equal(created.status, 201, JSON.stringify(created.json))
      assert.equal(created.json.grid_inspector?.username, 'inspector', JSON.stringify(created.json.grid_inspector))
      return created.json
    }
    const run = async (who, c, command, body = {}) => {
      const r = await call(who, 'POST', `/cases/${c.id}/${command}`, { version: c.version, ...body })
      assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
      return r.json
    }
    let toVerify = await open('路灯不亮')
    toVerify = await run('operator', toVerify, 'accept')
    toVerify = await run('operator', toVerify, 'request-verification')
    let toCheck = await open('井盖破损')
    for (const [who, command, body] of [
      ['operator', 'accept'], ['operator', 'request-verification'], ['inspector', 'verify', { exists: true }],
      ['shiftlead', 'file', { category: '10101' }], ['dispatcher', 'dispatch', { unit: '310101-ZLS' }], ['water', 'sign'],
      ['water', 'feedback', { opinion: '已更换井盖' }], ['operator', 'send-check'],
    ]) toCheck = await run(who, toCheck, command, body)
    assert.equal(toVerify.state, 'verifying')
    assert.equal(toCheck.state, 'checking')

    const { context, page } = await phone('inspector-tasks')
    await signInAt(page, ui, 'inspector')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/field`)
    assert.equal(await page.getByTestId('field-tab-tasks').getAttribute('aria-selected'), 'true')
    const verifying = page.locator(`[data-testid="field-task"][data-number="${toVerify.number}"]`)
    const checking = page.locator(`[data-testid="field-task"][data-number="${toCheck.number}"]`)
    await verifying.waitFor()
    await checking.waitFor()
    assert.equal(await verifying.getAttribute('data-state'), 'verifying')
    assert.match(await text(verifying), /核实.*路灯不亮/)
    assert.match(await text(checking), /核查.*井盖破损/)
    assert.equal(await text(page.getByTestId(`field-task-yes-${toVerify.number}`)), '属实')
    assert.equal(await text(page.getByTestId(`field-task-yes-${toCheck.number}`)), '通过')
    // every task listed is of the inspector's grids
    const numbers = await page.locator('[data-testid="field-task"]').evaluateAll((els) => els.map((e) => e.dataset.number))
    const mine = await call('inspector', 'GET', '/cases?mine=true&state=verifying,checking&limit=100')
    assert.deepEqual([...numbers].sort(), mine.json.items.map((c) => c.number).sort())
    await shot(page, 'tasks')

    await page.getByTestId(`field-task-opinion-${toVerify.number}`).fill('现场确有路灯不亮')
    await page.getByTestId(`field-task-yes-${toVerify.number}`).click()
    await verifying.waitFor({ state: 'detached' })
    assert.equal(await text(page.getByTestId('field-task-notice')), `已提交案件 ${toVerify.number} 的核实结果`)
    await page.getByTestId(`field-task-yes-${toCheck.number}`).click()
    await checking.waitFor({ state: 'detached' })
    const verified = (await call('operator', 'GET', `/cases/${toVerify.id}`)).json
    assert.notEqual(verified.state, 'verifying')
    const timeline = (await call('operator', 'GET', `/cases/${toVerify.id}/timeline`)).json
    assert.ok(timeline.some((e) => e.action === 'verify'), JSON.stringify(timeline.map((e) => e.action)))
    assert.equal((await call('operator', 'GET', `/cases/${toCheck.id}`)).json.state, 'checked')
    assert.deepEqual(errors, [])
    await context.close()
  })

  it('on patrol the phone records the walk; the shift lead sees the track drawn, in Chinese and in English', async () => {
    const { context, page } = await phone('inspector-patrol', { at: WALK[0] })
    await signInAt(page, ui, 'inspector')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/field?tab=patrol`)
    const toggle = page.getByTestId('patrol-toggle')
    await page.locator('[data-testid="field-patrol"][data-on-duty="false"]').waitFor()
    assert.equal(await text(toggle), '上岗')
    await toggle.click()
    await page.locator('[data-testid="field-patrol"][data-on-duty="true"]').waitFor()
    assert.equal(await text(page.getByTestId('patrol-status')), '在岗')
    assert.equal(await page.getByTestId('patrol-interval').getAttribute('data-seconds'), '5')
    state.patrol = await page.getByTestId('patrol-figures').getAttribute('data-patrol')
    // the walk: a position each interval as the GPS moves; each step is on the server's track before the next
    const count = () => page.getByTestId('patrol-positions').getAttribute('data-count').then(Number)
    const onTrack = async (at) => {
      for (let i = 0; i < 60; i++) {
        const track = await call('inspector', 'GET', `/patrols/${state.patrol}`)
        const coords = track.json?.geometry?.type === 'LineString' ? track.json.geometry.coordinates
          : track.json?.geometry ? [track.json.geometry.coordinates] : []
        if (coords.some(([lon, lat]) => lon === at.longitude && lat === at.latitude)) return
        await page.waitForTimeout(500)
      }
      assert.fail(`${at.longitude},${at.latitude} never reached the track`)
    }
    await onTrack(WALK[0])
    for (const [i, at] of WALK.slice(1).entries()) {
      await context.setGeolocation({ ...at, accuracy: 8 })
      if (i === 1) {
        // a dead zone: the position waits on the phone, and goes once the network is back
        await context.setOffline(true)
        await page.locator(`[data-testid="patrol-last"][data-lon="${at.longitude}"]`).waitFor({ timeout: 20_000 })
        await page.locator('[data-testid="patrol-positions"]:not([data-waiting="0"])').waitFor({ timeout: 20_000 })
        assert.match(await text(page.getByTestId('patrol-waiting')), /个待发送/)
        await context.setOffline(false)
      }
      await onTrack(at)
      if (i === 0) {
        // a reload on the way: the patrol is picked up again and goes on recording
        await page.reload()
        await page.locator(`[data-testid="field-patrol"][data-on-duty="true"] [data-testid="patrol-figures"][data-patrol="${state.patrol}"]`).waitFor()
      }
    }
    await page.locator('[data-testid="patrol-positions"][data-waiting="0"]').waitFor()
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="patrol-positions"]')?.getAttribute('data-count')) >= n, WALK.length)
    assert.ok((await count()) >= WALK.length)
    const last = page.getByTestId('patrol-last')
    assert.equal(Number(await last.getAttribute('data-lon')), WALK.at(-1).longitude)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="patrol-distance"]')?.getAttribute('data-m')) > 0)
    await shot(page, 'patrol-on-duty')
    await toggle.click()
    await page.locator('[data-testid="field-patrol"][data-on-duty="false"]').waitFor()
    assert.equal(await text(page.getByTestId('patrol-status')), '未上岗')
    const mine = await call('inspector', 'GET', '/patrols')
    assert.equal(mine.status, 200, JSON.stringify(mine.json))
    const patrol = mine.json.find((p) => p.id === state.patrol)
    assert.ok(patrol?.ended_at, JSON.stringify(mine.json))
    assert.ok(patrol.positions >= WALK.length, JSON.stringify(patrol))
    // about 3 × 150 m walked
    assert.ok(patrol.distance_m > 300 && patrol.distance_m < 800, JSON.stringify(patrol))
    await context.close()

    // the shift lead: the patrol listed, its track drawn on the street map
    const lead = await desktop('shiftlead')
    await signInAt(lead, ui, 'shiftlead')
    await setLanguage(lead, 'zh')
    await lead.getByTestId('nav-patrols').click()
    await lead.waitForURL(/\/patrols/)
    const row = lead.locator(`[data-testid="patrol-row"][data-id="${state.patrol}"]`)
    await row.waitFor()
    assert.equal(await row.getAttribute('data-username'), 'inspector')
    await row.click()
    await lead.locator(`[data-testid="patrol-row"][data-id="${state.patrol}"][data-selected="true"]`).waitFor()
    const track = lead.locator(`[data-testid="patrol-track"][data-id="${state.patrol}"]:not([data-points="0"])`)
    await track.waitFor()
    assert.equal(Number(await track.getAttribute('data-points')), patrol.positions)
    const map = lead.locator('[data-testid="case-map"][data-ready="true"]')
    await map.waitFor()
    assert.equal(Number(await map.getAttribute('data-track')), patrol.positions)
    assert.ok(Number(await lead.getByTestId('track-distance').getAttribute('data-m')) > 0)
    assert.match(await text(lead.getByTestId('track-distance')), /^\d+ 米$/)
    assert.ok(await drawn(lead, WALK), 'the track is drawn on the map')
    await shot(lead, 'track-zh')

    // in English
    await setLanguage(lead, 'en')
    await lead.locator('h1.title', { hasText: 'Patrol tracks' }).waitFor()
    const headers = (await lead.locator('[data-testid="patrols-table"] thead th').allTextContents()).map((h) => h.trim())
    assert.deepEqual(headers, ['Inspector', 'On duty', 'Off duty', 'Positions', 'Distance'])
    assert.match(await text(lead.getByTestId('track-distance')), /^\d+ m$/)
    // the page's own words are English (the place's names are the map's data)
    const page2 = await lead.evaluate(() => {
      const main = document.querySelector('.patrols').cloneNode(true)
      main.querySelectorAll('[data-testid="track-place"]').forEach((n) => n.remove())
      return main.textContent
    })
    assert.ok(!HAN.test(page2), page2)
    await shot(lead, 'track-en')
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no patrol page, and the API refuses them', async () => {
    const page = await desktop('dispatcher')
    await signInAt(page, ui, 'dispatcher')
    await setLanguage(page, 'zh')
    await page.getByTestId('nav-alarms').waitFor()
    assert.equal(await page.getByTestId('nav-patrols').count(), 0)
    assert.equal(await page.getByTestId('nav-field').count(), 0)
    await page.goto(`${ui.url}/patrols`)
    await page.getByTestId('patrols-no-access').waitFor()
    assert.equal(await page.getByTestId('patrols-table').count(), 0)
    await page.goto(`${ui.url}/field`)
    await page.getByTestId('field-no-access').waitFor()
    const refused = await call('dispatcher', 'GET', '/patrols')
    assert.equal(refused.status, 403, JSON.stringify(refused.json))
    if (state.patrol) {
      const track = await call('dispatcher', 'GET', `/patrols/${state.patrol}`)
      assert.equal(track.status, 404, JSON.stringify(track.json))
    }
    assert.deepEqual(errors, [])
  })
})

/**
 * Whether the map's canvas shows the track's colour between the walk's points: ECharts draws on
 * a canvas, so the line is looked for in its pixels, at the middle of each step.
 */
async function drawn(page, walk) {
  return page.evaluate((points) => {
    const el = document.querySelector('[data-testid="case-map"]')
    const canvas = el?.querySelector('canvas')
    if (!el || !canvas || typeof el.cityopsPixel !== 'function') return false
    const g = canvas.getContext('2d')
    const scale = canvas.width / canvas.clientWidth
    const purple = ([r, gr, b]) => r > 100 && gr < 100 && b > 120
    let hits = 0
    for (let i = 1; i < points.length; i++) {
      const a = el.cityopsPixel([points[i - 1].longitude, points[i - 1].latitude])
      const b = el.cityopsPixel([points[i].longitude, points[i].latitude])
      if (!a || !b) continue
      const [x, y] = [((a[0] + b[0]) / 2) * scale, ((a[1] + b[1]) / 2) * scale]
      const data = g.getImageData(Math.round(x) - 3, Math.round(y) - 3, 7, 7).data
      for (let k = 0; k < data.length; k += 4) {
        if (purple([data[k], data[k + 1], data[k + 2]])) {
          hits += 1
          break
        }
      }
    }
    return hits === points.length - 1
  }, walk)
}
