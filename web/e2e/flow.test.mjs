// The whole life of a citizen report through the UI, plus the city screen.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, makePng, startCityops, startUi } from './harness.mjs'

const HUANGPU = { lon: '121.4837', lat: '31.2369' }
const TAG = `E2E${Date.now().toString(36)}`

let server, ui, chrome, api
const caps = {}
const state = { number: null, id: null }
const consoleErrors = []
const pages = {}

async function probe(path, init) {
  const res = await fetch(`${server.url}/api/v1${path}`, init).catch(() => null)
  return res && res.status !== 404
}

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
  const op = await api.login('operator')
  caps.stats = await probe('/stats', { headers: { authorization: `Bearer ${op}` } })
  caps.vitals = await probe('/vital-signs', { headers: { authorization: `Bearer ${op}` } })
  caps.geo = await probe('/geo/areas?level=district')
  caps.publicReports = (await fetch(`${server.url}/api/v1/public/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status !== 404
  const list = await api.call('GET', '/cases?limit=1', op)
  caps.actions = Array.isArray(list.json?.items?.[0]?.actions) ||
    Array.isArray((await api.call('GET', `/cases/${list.json?.items?.[0]?.id}`, op)).json?.actions)
  console.log(`# ui ${ui.url} api ${server.url} capabilities ${JSON.stringify(caps)}`)
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

/** A page per person, each in its own browser context: the session cookie of one never reaches another. */
async function pageFor(who) {
  if (pages[who]) return pages[who]
  const page = await (await chrome.newContext()).newPage()
  pages[who] = page
  page.on('pageerror', (e) => consoleErrors.push(`${who}: pageerror ${e.message} ${e.stack?.split('\n').slice(1, 4).join(' | ') ?? ''}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // a 404 from an endpoint the server does not have yet is reported by the capability probe instead
    if (/Failed to load resource.*404/.test(m.text())) return
    // the citizen step types a point outside the city on purpose: /geo/locate answers 422
    if (who === 'citizen' && /Failed to load resource.*422/.test(m.text())) return
    consoleErrors.push(`${who}: ${m.text()}`)
  })
  page.setDefaultTimeout(15_000)
  return page
}

async function signIn(page, username) {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill('cityops-demo')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/screen/)
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

/** Open the case from the user's workbench queue, by searching for the test's tag and pressing Enter on the row. */
async function openFromQueue(page, queue) {
  await page.goto(`${ui.url}/workbench?queue=${queue}`)
  await page.getByTestId('filter-q').fill(TAG)
  await page.getByTestId('filter-apply').click()
  const row = page.locator(`tr[data-number="${state.number}"]`)
  await row.waitFor()
  await row.focus()
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/cases\//)
  await page.getByTestId('case-number').waitFor()
}

async function command(page, name, fill) {
  await page.getByTestId(`action-${name}`).click()
  const form = page.locator(`[data-testid="command-form"][data-command="${name}"]`)
  await form.waitFor()
  if (fill) await fill(form)
  await form.getByTestId('command-submit').click()
  await form.waitFor({ state: 'detached' })
}

async function pickOption(page, field, popper, text) {
  await page.getByTestId(`field-${field}`).locator('.el-select').click()
  await page.getByTestId(`field-${field}`).locator('input').fill(text)
  await page.locator(`.${popper} .el-select-dropdown__item`, { hasText: text }).first().click()
}

const expectState = (page, s) => page.locator(`[data-testid="case-state"][data-state="${s}"]`).waitFor()

describe('CityOps web', { timeout: 240_000 }, () => {
  it('(a) city screen: map of 16 districts, KPI tiles, live feed', async (t) => {
    if (!caps.stats || !caps.geo) return t.skip(`waiting for ${[!caps.stats && '/api/v1/stats', !caps.geo && '/api/v1/geo/areas'].filter(Boolean).join(' and ')}`)
    const page = await pageFor('leader')
    await signIn(page, 'leader')
    await page.goto('about:blank')
    const t0 = Date.now()
    await page.goto(`${ui.url}/screen`)
    await page.locator('[data-testid="city-map"][data-ready="true"]').waitFor()
    await page.locator('[data-testid="kpi-tiles"][data-filled="true"]').waitFor()
    const ms = Date.now() - t0
    console.log(`city-screen-ready-ms: ${ms}`)
    assert.ok(ms < 2000, `city screen took ${ms} ms`)
    const areas = (await page.getByTestId('city-map').getAttribute('data-areas')).split(',')
    assert.equal(areas.length, 16, areas.join(','))
    for (const name of ['黄浦区', '浦东新区', '崇明区']) assert.ok(areas.includes(name), name)

    // a change made by another client shows up in the ticker
    const op = await api.login('operator')
    const created = await api.call('POST', '/cases', op, {
      source: 'hotline', description: `${TAG} 市民来电：南京东路路灯不亮`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
    })
    assert.equal(created.status, 201, JSON.stringify(created.json))
    await page.locator(`[data-testid="feed-ticker"] [data-number="${created.json.number}"]`).waitFor({ timeout: 10_000 })

    // digital vital signs: the map colours by alarms on request; the demo's simulator feeds the tiles within seconds
    if (caps.vitals) {
      await page.getByTestId('map-mode-alarms').click()
      await page.locator('[data-testid="map-mode"][data-mode="alarms"]').waitFor()
      await page.locator('[data-testid="city-map"][data-mode="colors"][data-ready="true"]').waitFor()
      await page.getByTestId('alarm-legend').waitFor()
      await page.getByTestId('alarm-ticker').waitFor()
      await page.locator('[data-testid="alarm-kpis"][data-filled="true"]').waitFor({ timeout: 10_000 })
      await page.locator('[data-testid="vital-tiles"] [data-testid="vital-tile"]').first().waitFor({ timeout: 15_000 })
      const tile = page.locator('[data-testid="vital-tile"]').first()
      assert.ok(Number(await tile.getAttribute('data-devices')) > 0)
      await tile.click()
      await page.locator(`[data-testid="vital-trend"][data-indicator="${await tile.getAttribute('data-indicator')}"]`).waitFor()
      await page.waitForTimeout(300)
      await shot(page, '01c-city-screen-alarms')
      await page.getByTestId('map-mode-cases').click()
      await page.locator('[data-testid="city-map"][data-mode="values"]').waitFor()
    }
    await page.setViewportSize({ width: 1366, height: 768 })
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(ARTIFACTS, '01-city-screen-1366x768.png') })
    await page.setViewportSize({ width: 1920, height: 1080 })
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(ARTIFACTS, '01-city-screen-1920x1080.png') })
    await page.setViewportSize({ width: 1366, height: 900 })

    // drill down by clicking the map: Huangpu's streets, then a street's communities with its unit grids
    const leaderToken = await api.login('leader')
    const clickArea = async (code) => {
      const shape = await fetch(`${server.url}/api/v1/geo/areas/${code}`).then((r) => r.json())
      const map = page.getByTestId('city-map')
      const px = await map.evaluate((el, c) => el.cityopsPixel(c), shape.centroid)
      assert.ok(Array.isArray(px), `no pixel for ${code}`)
      const box = await map.boundingBox()
      await page.mouse.click(box.x + px[0], box.y + px[1])
    }
    await clickArea('310101')
    await page.waitForURL(/area=310101(&|$)/)
    const streetMap = page.locator('[data-testid="city-map"][data-map="street:310101"][data-ready="true"]')
    await streetMap.waitFor()
    const streets = await api.call('GET', '/areas?parent=310101', leaderToken)
    assert.equal(Number(await streetMap.getAttribute('data-features')), streets.json.length)
    assert.equal(await page.getByTestId('crumb-area').textContent(), '黄浦区')
    await page.locator('[data-testid="screen-cases"][data-area="310101"]').waitFor()
    await page.locator('[data-testid="kpi-tiles"][data-filled="true"]').waitFor()
    await shot(page, '02-city-screen-huangpu')

    const street = streets.json.find((a) => a.code === '310101002') ?? streets.json[0]
    await clickArea(street.code)
    await page.waitForURL(new RegExp(`area=${street.code}`))
    const communityMap = page.locator(`[data-testid="city-map"][data-map="community:${street.code}"][data-ready="true"]:not([data-overlay="0"])`)
    await communityMap.waitFor()
    const communities = await api.call('GET', `/areas?parent=${street.code}`, leaderToken)
    assert.equal(Number(await communityMap.getAttribute('data-features')), communities.json.length)
    const grids = await fetch(`${server.url}/api/v1/geo/areas?level=grid&parent=${street.code}`).then((r) => r.json())
    assert.equal(Number(await communityMap.getAttribute('data-overlay')), grids.features.length)
    assert.equal(await page.getByTestId('crumb-area').textContent(), street.name)
    assert.equal(await page.getByTestId('crumb-district').textContent(), '黄浦区')
    await page.waitForTimeout(300)
    await shot(page, '02b-city-screen-street')

    // the breadcrumb goes back up: the district (drawn from the cache), then the city
    await page.getByTestId('crumb-district').click()
    await page.locator('[data-testid="city-map"][data-map="street:310101"][data-ready="true"]').waitFor()
    await page.getByTestId('crumb-city').click()
    await page.waitForURL((u) => !u.search.includes('area='))
    await page.locator('[data-testid="city-map"][data-map="district"][data-ready="true"]').waitFor()
  })

  it('(b) a citizen reports a problem and gets a number', async () => {
    const page = await pageFor('citizen')
    await page.goto(`${ui.url}/citizen`)
    await page.locator('[data-kind="manhole"]').click()
    // a point outside the city is refused next to the location fields
    await page.getByTestId('lon').fill('100')
    await page.getByTestId('lat').fill(HUANGPU.lat)
    await page.getByTestId('error-location').waitFor()
    // a point in Huangpu is placed in its street and community
    await page.getByTestId('lon').fill(HUANGPU.lon)
    const where = await fetch(`${server.url}/api/v1/geo/locate?lon=${HUANGPU.lon}&lat=${HUANGPU.lat}`).then((r) => r.json())
    const located = page.locator(`[data-testid="located"][data-street="${where.street.code}"]`)
    await located.waitFor()
    assert.ok((await located.textContent()).includes(where.street.name), await located.textContent())
    assert.equal(await page.getByTestId('error-location').count(), 0)
    await page.getByTestId('address').fill('南京东路步行街')
    await page.getByTestId('description').fill(`${TAG} 南京东路步行街东侧一处井盖缺失，行人容易踩空`)
    await shot(page, '03-citizen-form')
    if (!caps.publicReports) {
      // the public endpoint is not there yet: the same report enters through the staff API so the workflow can be tested
      console.log('# (b) skipped in the UI: waiting for /api/v1/public/reports; case created through the staff API')
      const op = await api.login('operator')
      const r = await api.call('POST', '/cases', op, {
        source: 'photo', description: `${TAG} 南京东路步行街东侧一处井盖缺失，行人容易踩空`, address: '南京东路步行街',
        location: { lon: 121.4919, lat: 31.215 }, area: '310101002001', category_hint: '10101',
      })
      assert.equal(r.status, 201, JSON.stringify(r.json))
      state.number = r.json.number
      return
    }
    await page.getByTestId('submit').click()
    await page.getByTestId('report-done').waitFor()
    state.number = (await page.getByTestId('case-number').textContent()).trim()
    assert.match(state.number, /^\d{19}$/)
    await shot(page, '04-citizen-done')
  })

  it('(c)-(h) the case goes through the workflow on the case page', async (t) => {
    assert.ok(state.number, 'no case from (b)')
    if (!caps.actions) return t.skip('waiting for `actions` in CaseView')
    const png = await makePng()

    // (c) operator accepts and asks for verification; the inspector verifies
    let page = await pageFor('operator')
    await signIn(page, 'operator')
    await openFromQueue(page, 'to_accept')
    // the case page places the case in its unit grid and draws it on its street
    const caseId = page.url().split('/cases/')[1]
    const view = (await api.call('GET', `/cases/${caseId}`, await api.login('operator'))).json
    assert.match(view.unit_grid ?? '', /^\d{14}$/, JSON.stringify(view.unit_grid))
    await page.locator(`[data-testid="case-grid"]`, { hasText: view.unit_grid }).waitFor()
    await page.getByTestId('case-street').waitFor()
    const caseMap = page.locator(`[data-testid="case-map"][data-ready="true"][data-grid="${view.unit_grid}"]`)
    await caseMap.waitFor()
    assert.ok(Number(await caseMap.getAttribute('data-grids')) > 0)
    await page.waitForTimeout(300)
    await shot(page, '05-case-operator')
    await caseMap.screenshot({ path: join(ARTIFACTS, '05b-case-map.png') })
    await command(page, 'accept')
    await expectState(page, 'accepted')
    await command(page, 'request-verification', (f) => f.locator('textarea').fill('请监督员现场核实'))
    await expectState(page, 'verifying')
    state.id = page.url().split('/cases/')[1]

    page = await pageFor('inspector')
    await signIn(page, 'inspector')
    await openFromQueue(page, 'to_verify')
    await command(page, 'verify', (f) => f.locator('textarea').fill('现场属实'))
    await expectState(page, 'accepted')

    // (d) shift lead files it
    page = await pageFor('shiftlead')
    await signIn(page, 'shiftlead')
    await openFromQueue(page, 'to_file')
    await command(page, 'file', (f) => pickOption(page, 'category', 'cmd-category-popper', '10101'))
    await expectState(page, 'filed')
    assert.match(await page.getByTestId('case-category').textContent(), /10101/)

    // (e) dispatcher sends it to the water company: the routing card proposes it and the form comes prefilled
    page = await pageFor('dispatcher')
    await signIn(page, 'dispatcher')
    // a city dispatcher also has the city's coordination queue
    await page.goto(`${ui.url}/workbench?queue=coordination`)
    await page.locator('[data-testid="queue-tabs"] [data-queue="coordination"][aria-selected="true"]').waitFor()
    await openFromQueue(page, 'to_dispatch')
    const routingCard = page.locator('[data-testid="case-routing"][data-unit="310101-ZLS"]')
    await routingCard.waitFor()
    assert.match(await routingCard.getByTestId('routing-unit').textContent(), /310101-ZLS/)
    assert.ok((await routingCard.getByTestId('routing-reason').textContent()).trim().length > 0)
    await shot(page, '05c-case-routing')
    await command(page, 'dispatch', async (f) => {
      await f.getByTestId('unit-proposal').waitFor()
      await f.getByTestId('field-unit').locator('.el-select__selected-item', { hasText: '310101-ZLS' }).first().waitFor()
    })
    await expectState(page, 'dispatched')
    assert.equal((await page.getByTestId('case-unit').textContent()).trim(), '310101-ZLS')

    // (f) the water company signs, uploads a photo and feeds back with it
    page = await pageFor('water')
    await signIn(page, 'water')
    await openFromQueue(page, 'to_sign')
    await command(page, 'sign')
    await expectState(page, 'handling')
    await page.getByTestId('photo-input').setInputFiles({ name: 'after.png', mimeType: 'image/png', buffer: png })
    await page.locator('[data-testid="case-photos"] img').first().waitFor()
    await command(page, 'feedback', async (f) => {
      await f.locator('textarea').fill('已更换新井盖')
      assert.equal(await f.locator('.el-checkbox.is-checked').count(), 1)
    })
    await expectState(page, 'handled')
    await shot(page, '06-case-handled')

    // (g) operator sends the check, the inspector passes it
    page = await pageFor('operator')
    await openFromQueue(page, 'to_send_check')
    await command(page, 'send-check')
    await expectState(page, 'checking')
    page = await pageFor('inspector')
    await openFromQueue(page, 'to_check')
    await command(page, 'check')
    await expectState(page, 'checked')

    // (h) photo reports get no call-back: the shift lead closes
    page = await pageFor('shiftlead')
    await openFromQueue(page, 'to_close')
    assert.equal(await page.getByTestId('action-start-callback').count(), 0)
    await command(page, 'close')
    await expectState(page, 'closed')
    assert.equal(await page.getByTestId('no-actions').count(), 1)
    const timeline = await page.getByTestId('timeline').locator(':scope > li').count()
    assert.ok(timeline >= 10, `timeline has ${timeline} entries`)
    await shot(page, '07-case-closed')

    // the workbench itself
    await page.goto(`${ui.url}/workbench`)
    await page.getByTestId('case-table').waitFor()
    await shot(page, '08-workbench')
  })

  it('(i) the citizen sees the case closed and rates it 5', async (t) => {
    if (!caps.publicReports) return t.skip('waiting for /api/v1/public/cases')
    assert.ok(state.number)
    const page = await pageFor('citizen')
    await page.goto(`${ui.url}/citizen/${state.number}`)
    if (!caps.actions) return t.skip('the case could not be closed: waiting for `actions` in CaseView')
    await page.locator('[data-testid="follow-state"][data-state="closed"]').waitFor()
    await page.locator('[data-star="5"]').click()
    await page.getByTestId('rating-comment').fill('处理很快，谢谢！')
    await page.getByTestId('rating-submit').click()
    await page.getByTestId('rating-done').waitFor()
    await shot(page, '09-citizen-rated')
  })

  it('(j) the operator bulk-accepts two new reports from the queue', async (t) => {
    if (!caps.actions) return t.skip('waiting for `actions` in CaseView')
    const op = await api.login('operator')
    const tag = `${TAG}BULK`
    const created = []
    for (const what of ['人行道积水', '垃圾满溢']) {
      const r = await api.call('POST', '/cases', op, {
        source: 'hotline', description: `${tag} 市民来电：${what}`, location: { lon: 121.4837, lat: 31.2369 },
      })
      assert.equal(r.status, 201, JSON.stringify(r.json))
      assert.ok(r.json.actions?.includes('accept') ?? true, JSON.stringify(r.json.actions))
      created.push(r.json)
    }
    const fresh = !pages.operator
    const page = await pageFor('operator')
    if (fresh) await signIn(page, 'operator')
    await page.goto(`${ui.url}/workbench?queue=to_accept`)
    await page.getByTestId('filter-q').fill(tag)
    await page.getByTestId('filter-apply').click()
    for (const c of created) await page.locator(`tr[data-number="${c.number}"]`).waitFor()
    assert.equal(await page.locator('tr.row').count(), 2)
    // one by mouse, one by keyboard (focus the row, Space selects it)
    await page.getByTestId(`select-${created[0].number}`).check()
    await page.locator(`tr[data-number="${created[1].number}"]`).focus()
    await page.keyboard.press('Space')
    await page.locator('[data-testid="bulk-bar"][data-selected="2"]').waitFor()
    assert.ok(await page.getByTestId(`select-${created[1].number}`).isChecked())
    // only what both cases allow, and nothing that needs per-case input
    assert.equal(await page.getByTestId('bulk-action-reject').count(), 0)
    await page.getByTestId('bulk-action-accept').click()
    const form = page.locator('[data-testid="bulk-form"][data-command="accept"]')
    await form.waitFor()
    await form.locator('textarea').fill('批量受理')
    await shot(page, '08a-workbench-bulk-form')
    await form.getByTestId('bulk-submit').click()
    const result = page.locator('[data-testid="bulk-result"][data-command="accept"]')
    await result.waitFor()
    assert.equal(await result.getAttribute('data-succeeded'), '2')
    assert.equal(await result.getAttribute('data-failed'), '0')
    // the queue reloads: both left the to-accept queue
    await page.getByTestId('queue-empty').waitFor()
    await shot(page, '08b-workbench-bulk')
    for (const c of created) {
      const v = (await api.call('GET', `/cases/${c.id}`, op)).json
      assert.equal(v.state, 'accepted', `${c.number} is ${v.state}`)
      assert.equal(v.version, c.version + 1)
    }
  })

  it('(k) the alarms page lists IoT alarms and a leader acknowledges one', async (t) => {
    if (!caps.vitals) return t.skip('waiting for /api/v1/vital-signs')
    const page = await pageFor('leader')
    if (!(await page.evaluate(() => !!sessionStorage.getItem('cityops.session')).catch(() => false))) await signIn(page, 'leader')
    await page.goto(`${ui.url}/screen`)
    await page.getByTestId('nav-alarms').click()
    await page.waitForURL(/\/alarms/)
    await page.getByTestId('alarm-table').waitFor()
    await page.getByTestId('alarm-filter-acknowledged').waitFor()
    await page.locator('[data-testid="alarm-row"], [data-testid="alarm-empty"]').first().waitFor()
    const ack = page.locator('[data-testid="alarm-row"][data-acknowledged="false"] [data-testid="alarm-ack"]').first()
    if (await ack.count()) {
      const id = await ack.getAttribute('data-id')
      await ack.click()
      await page.locator(`[data-testid="alarm-row"][data-id="${id}"][data-acknowledged="true"]`).waitFor()
    }
    await shot(page, '11-alarms')
  })

  it('(l) the UI session is an HttpOnly cookie and signing out ends it on the server', async () => {
    const page = await pageFor('session')
    await signIn(page, 'inspector')
    // what the page keeps and can read: no session token anywhere
    const stored = JSON.parse(await page.evaluate(() => sessionStorage.getItem('cityops.session')))
    assert.deepEqual(Object.keys(stored).sort(), ['csrf_token', 'expires_at', 'user'])
    assert.equal(stored.user.username, 'inspector')
    const cookies = await page.context().cookies(ui.url)
    const session = cookies.find((c) => c.name === 'cityops_session')
    const csrf = cookies.find((c) => c.name === 'cityops_csrf')
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', JSON.stringify(session))
    assert.ok(csrf && !csrf.httpOnly, JSON.stringify(csrf))
    assert.equal(csrf.value, stored.csrf_token)
    const readable = await page.evaluate(() => document.cookie)
    assert.ok(!readable.includes('cityops_session') && !readable.includes(session.value), readable)
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: `cityops_session=${session.value}` } })
    assert.equal(me.status, 200)

    // from a quiet workbench, not the screen: no stream, poll or load in flight to meet the ended session
    await page.goto(`${ui.url}/workbench`)
    await page.locator('tr.row, [data-testid="queue-empty"]').first().waitFor()
    await page.waitForLoadState('networkidle')
    await page.getByTestId('sign-out').click()
    await page.waitForURL(/\/login/)
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cityops.session')), null)
    const left = (await page.context().cookies(ui.url)).map((c) => c.name)
    assert.ok(!left.includes('cityops_session') && !left.includes('cityops_csrf'), left.join(','))
    const replay = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: `cityops_session=${session.value}` } })
    assert.equal(replay.status, 401, 'a signed-out cookie must be refused')
    await page.goto(`${ui.url}/workbench`)
    await page.waitForURL(/\/login/)
  })

  it('the language toggle switches to English and back', async () => {
    const page = await pageFor('citizen')
    await page.goto(`${ui.url}/citizen`)
    await page.getByText('市民随手拍').first().waitFor()
    await page.getByTestId('lang-toggle').click()
    await page.getByText('Report a city problem').first().waitFor()
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
    await shot(page, '10-citizen-en')
    await page.getByTestId('lang-toggle').click()
    await page.getByText('市民随手拍').first().waitFor()
  })

  it('no console errors on any page', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
