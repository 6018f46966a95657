// Likely duplicates (重复上报, `GET /duplicate-candidates`) in the intake console: an inspector has
// reported a missing manhole cover on 河南中路; an operator takes a call about it at the same place
// and, once the place is located, sees that case under the description (its number linking to
// the case in a new tab, its state, how far, how long ago, how likely), clicks “登记为重复”: the
// call is opened as a case and at once merged into the inspector's, and the operator is given
// the earlier case's number for the caller. A call about something else at the same place shows
// no candidates; a shift lead sees them and may record duplicates too (the workflow lets
// operators and shift leads merge); the panel once in English. e2e/merge.test.mjs goes further.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const HUANGPU = { lon: '121.4837', lat: '31.2369' }
/** What the inspector reported, at HUANGPU. */
const REPORTED = '河南中路人行道上的下水道井盖缺失，井口敞开，行人夜间容易踩空'
/** The caller's words about the same manhole. */
const CALLED = '市民来电：河南中路人行道上有个下水道井盖不见了，井口敞开很危险'
/** A call about something else at the same place: no word in common with the report. */
const OTHER = '广场边有商贩摆摊卖水果，占用盲道影响通行'

let server, ui, chrome, api
let first = null
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who, opts = {}) => openPage(chrome, who, errors, { timeout: 30_000, ...opts })
const signIn = (page, username) => signInAt(page, ui, username)

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

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `duplicates-${name}.png`), fullPage: true })

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}

/** The inspector's report at HUANGPU, made once for the file. */
async function reported() {
  if (first) return first
  const r = await call('inspector', 'POST', '/cases', {
    source: 'inspector', description: REPORTED, location: { lon: Number(HUANGPU.lon), lat: Number(HUANGPU.lat) }, category_hint: '10102',
  })
  assert.equal(r.status, 201, JSON.stringify(r.json))
  assert.equal(r.json.state, 'reported')
  first = r.json
  return first
}

async function openConsole(page) {
  await page.getByTestId('nav-intake').click()
  await page.waitForURL(/\/intake$/)
  await page.getByTestId('intake-form').waitFor()
}

async function chooseKind(page, kind) {
  await page.getByTestId('intake-kind').click()
  await page.locator(`.intake-kind-popper .el-select-dropdown__item[data-kind="${kind}"]`).click()
}

async function typePlace(page, { lon, lat }) {
  await page.getByTestId('intake-lon').fill(lon)
  await page.getByTestId('intake-lat').fill(lat)
}

/** A call typed at HUANGPU and located; resolves with the answer of the duplicates asked about `description`. */
async function takeCall(page, c) {
  if (c.name) await page.getByTestId('intake-name').fill(c.name)
  if (c.phone) await page.getByTestId('intake-phone').fill(c.phone)
  await chooseKind(page, c.kind)
  const answered = page.waitForResponse((r) => {
    const url = new URL(r.url())
    return url.pathname === '/api/v1/duplicate-candidates' && url.searchParams.get('text') === c.description && url.searchParams.has('lon')
  })
  await page.getByTestId('intake-description').fill(c.description)
  await typePlace(page, HUANGPU)
  await page.getByTestId('intake-located').waitFor()
  const answer = await answered
  assert.equal(answer.status(), 200, await answer.text())
  const url = new URL(answer.url())
  assert.equal(url.searchParams.get('lon'), HUANGPU.lon)
  assert.equal(url.searchParams.get('lat'), HUANGPU.lat)
  return answer.json()
}

const panel = (page) => page.getByTestId('duplicate-candidates')

describe('likely duplicates in the intake console', { timeout: 240_000 }, () => {
  it('an operator sees the case reported at the place and records the call as its duplicate', async () => {
    const master = await reported()
    // what the server proposes for the call
    const proposed = await call('operator', 'GET',
      `/duplicate-candidates?text=${encodeURIComponent(CALLED)}&lon=${HUANGPU.lon}&lat=${HUANGPU.lat}`)
    assert.equal(proposed.status, 200, JSON.stringify(proposed.json))
    assert.equal(proposed.json[0]?.case?.number, master.number, JSON.stringify(proposed.json.map((c) => [c.case.number, c.score])))

    const page = await newPage('operator')
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.url })
    await signIn(page, 'operator')
    await openConsole(page)
    // nothing asked before the place is known
    const asked = []
    page.on('request', (r) => {
      const url = new URL(r.url())
      if (url.pathname === '/api/v1/duplicate-candidates') asked.push(url.searchParams)
    })
    await chooseKind(page, 'complaint')
    await page.getByTestId('intake-description').fill(CALLED)
    await page.waitForTimeout(900)
    assert.equal(asked.length, 0, 'no place, nothing asked')
    assert.equal(await panel(page).getAttribute('data-state'), 'idle')
    await page.getByTestId('intake-description').fill('')

    const answer = await takeCall(page, { name: '陈先生', phone: '13912345678', kind: 'complaint', description: CALLED })
    assert.equal(answer[0].case.number, master.number)
    await page.locator('[data-testid="duplicate-candidates"][data-state="found"]').waitFor()
    assert.equal(await text(page.getByTestId('duplicate-candidates-title')), '可能重复的案件')
    const rows = panel(page).locator('li[data-number]')
    assert.deepEqual(await rows.evaluateAll((ls) => ls.map((l) => l.dataset.number)), answer.slice(0, 5).map((c) => c.case.number))

    // the inspector's case: its number opens it in a new tab, its state, one line of its description, how far, how long ago, how likely
    const row = page.getByTestId(`duplicate-candidate-${master.number}`)
    const link = row.getByTestId('duplicate-candidate-link')
    assert.equal(await text(link), master.number)
    assert.equal(await link.getAttribute('href'), `/cases/${master.number}`)
    assert.equal(await link.getAttribute('target'), '_blank')
    assert.equal(await row.locator('.badge[data-state="reported"]').count(), 1)
    assert.equal(await text(row.getByTestId('duplicate-candidate-description')), REPORTED)
    assert.equal(await row.getByTestId('duplicate-candidate-description').evaluate((el) => getComputedStyle(el).whiteSpace), 'nowrap')
    assert.match(await text(row.getByTestId('duplicate-candidate-distance')), /^距离 \d+ 米$/)
    assert.match(await text(row.getByTestId('duplicate-candidate-ago')), /^上报 (刚刚|\d+ 分钟前)$/)
    assert.equal(await text(row.getByTestId('duplicate-candidate-score')), `相似度 ${Math.round(answer[0].score * 100)}%`)
    assert.ok(answer[0].score >= 0.5, String(answer[0].score))
    await shot(page, 'zh-panel')

    // recorded as a duplicate: the call is opened as a case and merged into the earlier one at once
    const posts = []
    page.on('request', (r) => {
      const url = new URL(r.url())
      if (r.method() === 'POST' && url.pathname.startsWith('/api/v1/cases')) posts.push([url.pathname, r.headers()['idempotency-key'], r.postDataJSON()])
    })
    const record = page.getByTestId(`duplicate-record-${master.number}`)
    assert.equal(await text(record), '登记为重复')
    await record.click()
    const done = page.getByTestId('intake-duplicate-done')
    await done.waitFor()
    assert.equal(await text(page.getByTestId('intake-duplicate-master')), master.number)
    const number = await text(page.getByTestId('intake-duplicate-number'))
    assert.match(number, /^\d{19}$/)
    assert.notEqual(number, master.number)
    assert.match(await text(done), /请告知来电人/)
    assert.equal(posts.length, 2, JSON.stringify(posts))
    const [opened, merged] = posts
    assert.equal(opened[0], '/api/v1/cases')
    assert.match(opened[1], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'the call carries its idempotency key')
    assert.equal(opened[2].source, 'hotline')
    assert.equal(opened[2].description, CALLED)
    assert.deepEqual(opened[2].location, { lon: Number(HUANGPU.lon), lat: Number(HUANGPU.lat) })
    assert.match(merged[0], /^\/api\/v1\/cases\/[^/]+\/merge$/)
    assert.equal(merged[2].master, master.number)
    assert.equal(merged[2].opinion, `与 ${master.number} 为同一问题（来电受理时合并）`)
    assert.equal(await text(page.getByTestId('intake-duplicate-title')), `已合并到 ${master.number}`)

    // the earlier case's number, copied for the caller
    await page.getByTestId('intake-duplicate-copy').click()
    await page.waitForFunction(() => document.querySelector('[data-testid="intake-duplicate-copy"]')?.textContent?.includes('已复制'))
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), master.number)
    await shot(page, 'zh-recorded')

    // what the server holds: the call's case merged into the inspector's, which is still open
    const held = await call('operator', 'GET', `/cases/${number}`)
    assert.equal(held.status, 200, JSON.stringify(held.json))
    assert.equal(held.json.state, 'merged')
    assert.deepEqual(held.json.merged_into, { id: master.id, number: master.number })
    assert.equal(held.json.source, 'hotline')
    assert.equal(held.json.description, CALLED)
    assert.equal(held.json.call?.kind, 'complaint')
    const timeline = await call('operator', 'GET', `/cases/${held.json.id}/timeline`)
    assert.equal(timeline.status, 200, JSON.stringify(timeline.json))
    const merge = timeline.json.find((e) => e.to === 'merged')
    assert.ok(merge, JSON.stringify(timeline.json))
    assert.equal(merge.action, 'merge')
    assert.equal(merge.username, 'operator')
    assert.equal(merge.details.master, master.number)
    assert.ok(JSON.stringify(merge.details).includes(`与 ${master.number} 为同一问题`), JSON.stringify(merge.details))
    const still = await call('operator', 'GET', `/cases/${master.id}`)
    assert.equal(still.json.state, 'reported')
    assert.ok(still.json.merged_reports.some((r) => r.number === number), JSON.stringify(still.json.merged_reports))

    // the next call starts empty, with no candidates
    await page.getByTestId('intake-next').click()
    await page.getByTestId('intake-form').waitFor()
    for (const id of ['intake-name', 'intake-phone', 'intake-description', 'intake-lon', 'intake-lat']) {
      assert.equal(await page.getByTestId(id).inputValue(), '', id)
    }
    assert.equal(await panel(page).getAttribute('data-state'), 'idle')
    assert.equal(await panel(page).locator('li').count(), 0)
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a call about something else at the same place shows no candidates', async () => {
    const master = await reported()
    const page = await newPage('operator-other')
    await signIn(page, 'operator')
    await openConsole(page)
    const answer = await takeCall(page, { kind: 'complaint', description: OTHER })
    assert.deepEqual(answer.map((c) => [c.case.number, c.score]), [], 'nothing looks alike')
    await page.locator('[data-testid="duplicate-candidates"][data-state="none"]').waitFor({ state: 'attached' })
    assert.equal(await text(panel(page)), '')
    assert.equal(await page.getByTestId(`duplicate-candidate-${master.number}`).count(), 0)
    assert.equal(await page.locator('[data-testid^="duplicate-record-"]').count(), 0)
    await shot(page, 'zh-other')

    // the caller goes on about the manhole cover: the inspector's case comes up
    await page.getByTestId('intake-description').fill(CALLED)
    await page.getByTestId(`duplicate-candidate-${master.number}`).waitFor()
    assert.equal(await page.getByTestId('intake-created').count(), 0, 'nothing was submitted')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a merge that fails after the case was opened is said, the new case linked; a retry records the duplicate', async () => {
    const master = await reported()
    // the refused merge is a failed request in the console
    const page = await newPage('operator-retry', { consoleErrors: false })
    await signIn(page, 'operator')
    await openConsole(page)
    await takeCall(page, { kind: 'complaint', description: CALLED })
    let refuse = true
    await page.route((url) => url.pathname.endsWith('/merge'), (route) => (refuse
      ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal', message: 'service unavailable' } }) })
      : route.fallback()))
    await page.getByTestId(`duplicate-record-${master.number}`).click()
    const failed = page.getByTestId('intake-duplicate-failed')
    await failed.waitFor()
    const number = await text(page.getByTestId('intake-created-number'))
    assert.match(number, /^\d{19}$/)
    assert.match(await text(page.getByTestId('intake-duplicate-error')), new RegExp(`已立案（${number}）.*未能合并到 ${master.number}`))
    assert.equal(await page.getByTestId('intake-duplicate-link').getAttribute('href'), `/cases/${number}`)
    const open = await call('operator', 'GET', `/cases/${number}`)
    assert.equal(open.json.state, 'reported', 'the call is kept as a case')
    await shot(page, 'zh-merge-failed')

    refuse = false
    await page.getByTestId('intake-duplicate-retry').click()
    await page.locator(`[data-testid="intake-duplicate-done"][data-number="${number}"]`).waitFor()
    assert.equal(await text(page.getByTestId('intake-duplicate-master')), master.number)
    const held = await call('operator', 'GET', `/cases/${number}`)
    assert.equal(held.json.state, 'merged')
    assert.equal(held.json.merged_into?.number, master.number)
    await page.context().close()
  })

  it('a shift lead sees the candidates and may record the call as a duplicate too', async () => {
    const master = await reported()
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openConsole(page)
    await takeCall(page, { kind: 'request', description: CALLED })
    await page.getByTestId(`duplicate-candidate-${master.number}`).waitFor()
    assert.equal(await text(page.getByTestId(`duplicate-record-${master.number}`)), '登记为重复')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('the panel speaks English', async () => {
    const master = await reported()
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await openConsole(page)
    await takeCall(page, { kind: 'complaint', description: CALLED })
    await page.locator('[data-testid="duplicate-candidates"][data-state="found"]').waitFor()
    assert.equal(await text(page.getByTestId('duplicate-candidates-title')), 'Possibly the same problem')
    const row = page.getByTestId(`duplicate-candidate-${master.number}`)
    assert.match(await text(row.getByTestId('duplicate-candidate-distance')), /^Distance \d+ m$/)
    assert.match(await text(row.getByTestId('duplicate-candidate-ago')), /^Reported (just now|\d+ minutes? earlier)$/)
    assert.match(await text(row.getByTestId('duplicate-candidate-score')), /^Likeness \d+%$/)
    assert.equal(await text(page.getByTestId(`duplicate-record-${master.number}`)), 'Record as duplicate')
    await shot(page, 'en-panel')
    assert.deepEqual(errors, [])
    await page.context().close()
  })
})
