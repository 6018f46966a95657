// The intake console (来电受理): an operator takes a citizen's call down as a hotline case, the
// place found by name (南京东路 → 南京东路街道, the point its centroid) and then moved on the
// street's map, located to district, street, community and unit grid; the call's kind and the
// reply owed show on the case page, masked. A lost answer and a double click retried with the
// call's idempotency key open one case; a bad phone is named beside the phone and sends
// nothing; choosing 咨询 turns the console into an enquiry (e2e/knowledge.test.mjs records
// them) and back; a point outside the city stops the submit. A component of the census found by
// its id (as printed on a manhole cover) puts the point at its own and the case is about it; a
// failed component search leaves the areas found. An enquiry whose answer is lost, retried with a
// double click, is recorded once (its own idempotency key). The shift lead takes calls too; a
// dispatcher has no link and is told the page is not theirs. The operator's call once more in
// English, and a component found in English.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `IN${Date.now().toString(36)}`
const NANJING_EAST = '310101002'
const HUANGPU = { lon: '121.4837', lat: '31.2369' }
const REPLY = '三个工作日内回电 13900001111 告知处理结果'
/** Around 121.48,31.235 in Huangpu: where the test looks for a component of the demo census. */
const HUANGPU_BOX = '121.475,31.23,121.485,31.24'
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
/** Chinese characters: the English UI's own labels have none. */
const HAN = /\p{Script=Han}/u
const MASKED_PHONE = '139****1111'

let server, ui, chrome, api
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
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `intake-${name}.png`), fullPage: true })

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}
/** The cases whose description holds `text` (the operator sees the whole city). */
async function casesWith(text) {
  const r = await call('operator', 'GET', `/cases?q=${encodeURIComponent(text)}&limit=50`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json.items
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

/** The place found by name: the option of area `code` chosen from what `text` finds. */
async function findPlace(page, text, code) {
  await page.getByTestId('intake-place-search').fill(text)
  const option = page.locator(`[data-testid="intake-place-option"][data-code="${code}"]`)
  await option.waitFor()
  await option.click()
  await page.locator(`[data-testid="intake-place-chosen"][data-code="${code}"]`).waitFor()
}

async function typePlace(page, { lon, lat }) {
  await page.getByTestId('intake-lon').fill(lon)
  await page.getByTestId('intake-lat').fill(lat)
}

/** Everything of a call but its place. */
async function describeCall(page, c) {
  if (c.name) await page.getByTestId('intake-name').fill(c.name)
  if (c.phone) await page.getByTestId('intake-phone').fill(c.phone)
  await chooseKind(page, c.kind)
  await page.getByTestId('intake-description').fill(c.description)
  if (c.reply) await page.getByTestId('intake-reply').fill(c.reply)
}

const located = (page) => page.getByTestId('intake-located')

/** A component of the demo census in Huangpu, and its small class (names in both languages). */
async function aComponent() {
  const r = await call('operator', 'GET', `/components?limit=1&bbox=${HUANGPU_BOX}`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  const [c] = r.json.items
  assert.ok(c, `the demo census has a component in ${HUANGPU_BOX}`)
  assert.match(c.id, /^\d{16}$/)
  const categories = await call('operator', 'GET', '/categories')
  const cls = categories.json.small.find((k) => k.code === c.class)
  assert.ok(cls, `class ${c.class} is in the catalogue`)
  return { c, cls }
}

/** The component `c` found by its id in the place search and chosen. */
async function findComponent(page, c) {
  await page.getByTestId('intake-place-search').fill(c.id)
  const option = page.locator(`[data-testid="intake-place-option"][data-kind="component"][data-code="${c.id}"]`)
  await option.waitFor()
  return option
}

/** The enquiries of the last seven days whose question holds `text`. */
async function enquiriesWith(text) {
  const r = await call('operator', 'GET', '/enquiries?limit=500')
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json.filter((e) => e.question.includes(text))
}

/** Chooses the class `code` in the console's class select and waits until the select shows it
 * (a click that lands while the list is still opening is tried again). */
async function pickClass(page, code) {
  const select = page.getByTestId('intake-category')
  for (let attempt = 0; attempt < 3; attempt++) {
    await select.click()
    await page.locator('.intake-category-popper .el-select-dropdown__item:visible', { hasText: new RegExp(`^\\s*${code}\\s`) }).first().click()
    try {
      await page.waitForFunction(([c]) => document.querySelector('[data-testid="intake-category"]')?.textContent?.includes(c), [code], { timeout: 3_000 })
      return
    } catch { /* the list was still opening: choose again */ }
  }
  throw new Error(`class ${code} could not be chosen`)
}

/** A unit grid of `street` other than `not`, and a point inside it (its centroid, when that lies in it). */
async function anotherGrid(street, not) {
  const grids = await api.call('GET', `/geo/areas?level=grid&parent=${street}`)
  for (const code of grids.json.features.map((f) => f.properties.code).filter((c) => c !== not)) {
    const [lon, lat] = (await api.call('GET', `/geo/areas/${code}`)).json.centroid
    const at = await api.call('GET', `/geo/locate?lon=${lon}&lat=${lat}`)
    if (at.json?.unit_grid === code) return [code, [lon, lat]]
  }
  throw new Error(`no other unit grid of ${street} holds its centroid`)
}

async function submitted(page) {
  await page.getByTestId('intake-submit').click()
  await page.getByTestId('intake-created').waitFor()
  const number = (await page.getByTestId('intake-created-number').textContent()).trim()
  assert.match(number, /^\d{19}$/)
  return number
}

/** The operator's call, in the page's language (`words` for the labels checked). */
async function operatorTakesACall(page, words, description) {
  await openConsole(page)
  assert.equal(await text(page.locator('h1')), words.title)
  await describeCall(page, { name: '王小明', phone: '+86 139-0000-1111', kind: 'complaint', description, reply: REPLY })

  // 南京东路 finds the street first among the areas named so; choosing it puts the point at its centroid
  await findPlace(page, '南京东路', NANJING_EAST)
  const option = page.locator('[data-testid="intake-place-option"]')
  assert.equal(await option.count(), 0, 'the list closes once a place is chosen')
  await page.locator(`[data-testid="intake-located"][data-street="${NANJING_EAST}"]`).waitFor()
  const shape = await api.call('GET', `/geo/areas/${NANJING_EAST}`)
  assert.equal(Number(await page.getByTestId('intake-lon').inputValue()), Math.round(shape.json.centroid[0] * 1e6) / 1e6)
  assert.equal(Number(await page.getByTestId('intake-lat').inputValue()), Math.round(shape.json.centroid[1] * 1e6) / 1e6)
  assert.equal(await text(page.getByTestId('intake-located-district')), '黄浦区')
  assert.equal(await text(page.getByTestId('intake-located-street')), '南京东路街道')
  assert.ok((await text(page.getByTestId('intake-located-community'))).length > 0)
  const first = await located(page).getAttribute('data-grid')
  assert.match(first, /^\d{14}$/)
  assert.equal(await text(page.getByTestId('intake-located-grid')), first)

  // the street's map: a click on another unit grid moves the point there
  const map = page.locator(`[data-testid="case-map"][data-street="${NANJING_EAST}"]`)
  await page.locator(`[data-testid="case-map"][data-ready="true"][data-grid="${first}"]`).waitFor()
  const [other, target] = await anotherGrid(NANJING_EAST, first)
  const [x, y] = await map.evaluate((el, at) => el.cityopsPixel(at), target)
  await map.click({ position: { x, y } })
  await page.locator(`[data-testid="intake-located"][data-grid="${other}"]`).waitFor()
  assert.equal(await located(page).getAttribute('data-street'), NANJING_EAST)
  await page.locator(`[data-testid="case-map"][data-ready="true"][data-grid="${other}"]`).waitFor()
  await shot(page, `${words.lang}-form`)

  const number = await submitted(page)
  assert.equal(await page.getByTestId('intake-created-kind').getAttribute('data-kind'), 'complaint')
  assert.equal(await text(page.getByTestId('intake-created-kind')), words.complaint)
  const reply = await text(page.getByTestId('intake-created-reply'))
  assert.ok(reply.includes(MASKED_PHONE) && !reply.includes('13900001111'), reply)
  assert.ok((await text(page.getByTestId('intake-created-reporter'))).includes(MASKED_PHONE))
  await shot(page, `${words.lang}-created`)

  // what the server holds: a hotline case at the point picked, with the call
  const held = await call('operator', 'GET', `/cases/${number}`)
  assert.equal(held.status, 200, JSON.stringify(held.json))
  assert.equal(held.json.source, 'hotline')
  assert.equal(held.json.description, description)
  assert.equal(held.json.unit_grid, other)
  assert.equal(held.json.call.kind, 'complaint')
  assert.equal(held.json.call.reply_owed, reply)
  assert.equal(held.json.reporter_phone, MASKED_PHONE)

  // the case page says the call's kind and the reply owed, masked
  await page.getByTestId('intake-created-link').click()
  await page.waitForURL(new RegExp(`/cases/${number}$`))
  const shown = page.getByTestId('case-call')
  await shown.waitFor()
  assert.equal(await shown.getAttribute('data-kind'), 'complaint')
  assert.equal(await text(page.getByTestId('case-call-kind')), words.complaint)
  const replyShown = await text(page.getByTestId('case-call-reply'))
  assert.ok(replyShown.startsWith(words.replyOwed) && replyShown.includes(MASKED_PHONE) && !replyShown.includes('13900001111'), replyShown)
  await shot(page, `${words.lang}-case`)
  return number
}

describe('the intake console', () => {
  it('an operator takes a call: the place found by name, moved on the map, located; the case shows the call', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    const description = `南京东路步行街夜间施工噪音扰民 ${TAG}-op`
    await operatorTakesACall(page, { lang: 'zh', title: '来电受理', complaint: '投诉', replyOwed: '答复口径：' }, description)
    assert.equal((await casesWith(`${TAG}-op`)).length, 1)
    assert.deepEqual(errors, [])
  })

  it('a lost answer and a double click retried open one case; the next call has a new key', async () => {
    // the lost answer is a failed request in the console
    const page = await newPage('operator', { consoleErrors: false })
    await signIn(page, 'operator')
    await openConsole(page)
    const description = `河南中路窨井盖缺失 ${TAG}-retry`
    await describeCall(page, { name: '李女士', phone: '13812345678', kind: 'request', description })
    await typePlace(page, HUANGPU)
    await located(page).waitFor()

    const keys = []
    let lost = null
    await page.route((url) => url.pathname === '/api/v1/cases', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback()
      keys.push(route.request().headers()['idempotency-key'])
      if (lost) return route.fallback()
      // the server opens the case, the answer never reaches the page
      const answer = await route.fetch()
      lost = { status: answer.status(), body: await answer.json() }
      return route.abort('failed')
    })
    await page.getByTestId('intake-submit').click()
    const failed = page.getByTestId('intake-error')
    await failed.waitFor()
    assert.match(await text(failed), /网络中断/)
    assert.equal(lost.status, 201, JSON.stringify(lost.body))
    assert.equal(await page.getByTestId('intake-created').count(), 0)
    await shot(page, 'lost')

    // changed after the lost answer, the call is refused: its key opened a case with the words before
    await page.getByTestId('intake-description').fill(`${description} 补充`)
    await page.getByTestId('intake-submit').click()
    await page.getByTestId('intake-as-new').waitFor()
    assert.match(await text(failed), /可能已经立案/)
    assert.equal(await page.getByTestId('intake-created').count(), 0)
    await shot(page, 'reused')
    await page.getByTestId('intake-description').fill(description)

    // the operator tries again as it was, clicking twice
    await page.getByTestId('intake-submit').dblclick()
    await page.getByTestId('intake-created').waitFor()
    const number = (await page.getByTestId('intake-created-number').textContent()).trim()
    assert.equal(number, lost.body.number, 'the retry answers the case the lost attempt opened')
    assert.ok(keys.length >= 3, `${keys.length} attempts`)
    assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.deepEqual(new Set(keys), new Set([keys[0]]), 'every attempt of the call carries its key')
    const found = await casesWith(`${TAG}-retry`)
    assert.deepEqual(found.map((c) => c.number), [number])

    // the next call starts empty, with a key of its own
    await page.getByTestId('intake-next').click()
    await page.getByTestId('intake-form').waitFor()
    for (const id of ['intake-name', 'intake-phone', 'intake-description', 'intake-reply', 'intake-lon', 'intake-lat', 'intake-place-search']) {
      assert.equal(await page.getByTestId(id).inputValue(), '', id)
    }
    assert.equal(await located(page).count(), 0)
    await describeCall(page, { kind: 'suggestion', description: `建议增设非机动车停放点 ${TAG}-next` })
    await typePlace(page, HUANGPU)
    await located(page).waitFor()
    const next = await submitted(page)
    assert.notEqual(next, number)
    assert.notEqual(keys.at(-1), keys[0])
    assert.equal((await casesWith(`${TAG}-next`)).length, 1)
    assert.equal((await casesWith(`${TAG}-retry`)).length, 1)
    assert.deepEqual(errors, [])
  })

  it('a component found by its id: the point is its own, the case is about it; a failed component search leaves the areas', async () => {
    const { c, cls } = await aComponent()
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openConsole(page)
    const description = `井盖松动，车辆经过有响声 ${TAG}-comp`
    await describeCall(page, { phone: '13600002222', kind: 'request', description })

    // the id printed on the cover finds it, labelled as a component of its class
    const option = await findComponent(page, c)
    assert.equal(await page.locator('[data-testid="intake-place-option"]').count(), 1, 'a component id finds that component only')
    assert.equal(await option.getAttribute('data-class'), c.class)
    const shown = await text(option)
    assert.ok(shown.startsWith('部件') && shown.includes(c.name) && shown.includes(cls.zh) && shown.includes(c.id), shown)
    await option.click()
    const chosen = page.locator(`[data-testid="intake-component-chosen"][data-id="${c.id}"]`)
    await chosen.waitFor()
    assert.equal(await page.locator('[data-testid="intake-place-option"]').count(), 0, 'the list closes once the component is chosen')
    assert.equal(await page.getByTestId('intake-place-search').inputValue(), c.name)
    assert.equal(await text(page.getByTestId('intake-component-id')), c.id)
    assert.ok((await text(page.getByTestId('intake-component-name'))).includes(c.name))
    if (c.location_text) assert.equal(await text(page.getByTestId('intake-component-where')), c.location_text)
    // the point is exactly the component's, not an area's centroid
    assert.equal(Number(await page.getByTestId('intake-lon').inputValue()), c.location.lon)
    assert.equal(Number(await page.getByTestId('intake-lat').inputValue()), c.location.lat)
    assert.equal(await page.getByTestId('intake-place-chosen').count(), 0)
    // located where it stands: its community and unit grid; the street map is there
    const here = page.locator(`[data-testid="intake-located"][data-community="${c.area}"]`)
    await here.waitFor()
    if (c.unit_grid) {
      assert.equal(await here.getAttribute('data-grid'), c.unit_grid)
      assert.equal(await text(page.getByTestId('intake-component-grid')), c.unit_grid)
    }
    await page.locator(`[data-testid="case-map"][data-street="${c.area.slice(0, 9)}"]`).waitFor()
    await shot(page, 'component')

    const number = await submitted(page)
    const held = await call('operator', 'GET', `/cases/${number}`)
    assert.equal(held.status, 200, JSON.stringify(held.json))
    assert.equal(held.json.component_id, c.id, 'the case is about the component chosen')
    assert.equal(held.json.area, c.area)
    if (c.unit_grid) assert.equal(held.json.unit_grid, c.unit_grid)
    assert.ok(Math.abs(held.json.location.lon - c.location.lon) < 1e-9 && Math.abs(held.json.location.lat - c.location.lat) < 1e-9,
      JSON.stringify(held.json.location))
    assert.equal((await casesWith(`${TAG}-comp`)).length, 1)

    // the next call: the component moved away from is no longer linked
    await page.getByTestId('intake-next').click()
    await page.getByTestId('intake-form').waitFor()
    assert.equal(await page.getByTestId('intake-component-chosen').count(), 0)
    await findComponent(page, c).then((o) => o.click())
    await chosen.waitFor()
    await typePlace(page, HUANGPU)
    await page.waitForFunction(() => !document.querySelector('[data-testid="intake-component-chosen"]'))

    // the census search failing: the areas are listed all the same, the failure said
    const census = (url) => url.pathname === '/api/v1/components'
    await page.route(census, (route) => route.fulfill({
      status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'census offline' } }),
    }))
    await page.getByTestId('intake-place-search').fill('南京东路')
    await page.locator(`[data-testid="intake-place-option"][data-kind="area"][data-code="${NANJING_EAST}"]`).waitFor()
    assert.match(await text(page.getByTestId('intake-place-search-error')), /部件搜索失败：census offline/)
    assert.equal(await page.locator('[data-testid="intake-place-option"][data-kind="component"]').count(), 0)
    await shot(page, 'component-search-failed')
    await page.unroute(census)
    assert.deepEqual(errors.filter((e) => !e.includes('503')), [])
    errors.length = 0
  })

  it('an enquiry whose answer is lost, retried with a double click, is recorded once; the next has a new key', async () => {
    // the lost answer is a failed request in the console
    const page = await newPage('operator', { consoleErrors: false })
    await signIn(page, 'operator')
    await openConsole(page)
    await chooseKind(page, 'enquiry')
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    const question = `小区门口的旧衣回收箱归谁管 ${TAG}-enq`
    const answer = '旧衣回收箱由区绿化市容局统一设置，可拨打 12345 反映。'
    await page.getByTestId('intake-enquiry-question').fill(question)
    await page.getByTestId('intake-enquiry-answer').fill(answer)

    const keys = []
    let lost = null
    await page.route((url) => url.pathname === '/api/v1/enquiries', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback()
      keys.push(route.request().headers()['idempotency-key'])
      if (lost) return route.fallback()
      // the server records the enquiry, the answer never reaches the page
      const answered = await route.fetch()
      lost = { status: answered.status(), body: await answered.json() }
      return route.abort('failed')
    })
    await page.getByTestId('intake-enquiry-submit').click()
    const failed = page.getByTestId('intake-error')
    await failed.waitFor()
    assert.match(await text(failed), /网络中断.*请直接再次登记/)
    assert.equal(lost.status, 201, JSON.stringify(lost.body))
    assert.equal(await page.getByTestId('intake-enquiry-done').count(), 0)

    // changed after the lost answer, it is refused: its key recorded the words before
    await page.getByTestId('intake-enquiry-answer').fill(`${answer} 补充`)
    await page.getByTestId('intake-enquiry-submit').click()
    const asNew = page.getByTestId('intake-as-new')
    await asNew.waitFor()
    assert.match(await text(failed), /可能已经登记/)
    assert.equal(await text(asNew), '作为新咨询登记')
    await page.getByTestId('intake-enquiry-answer').fill(answer)

    // tried again as it was, clicking twice
    await page.getByTestId('intake-enquiry-submit').dblclick()
    const done = page.getByTestId('intake-enquiry-done')
    await done.waitFor()
    assert.equal(await done.getAttribute('data-id'), lost.body.id, 'the retry answers the enquiry the lost attempt recorded')
    assert.ok(keys.length >= 3, `${keys.length} attempts`)
    assert.match(keys[0], UUID_V4)
    assert.deepEqual(new Set(keys), new Set([keys[0]]), 'every attempt of the enquiry carries its key')
    const held = await enquiriesWith(`${TAG}-enq`)
    assert.deepEqual(held.map((e) => e.id), [lost.body.id], 'one enquiry recorded')

    // the next enquiry, double-clicked at once: recorded once, with a key of its own
    await page.getByTestId('intake-next').click()
    await page.locator('[data-testid="intake-form"][data-mode="case"]').waitFor()
    await chooseKind(page, 'enquiry')
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    await page.getByTestId('intake-enquiry-question').fill(`大件垃圾怎么预约清运 ${TAG}-enq2`)
    await page.getByTestId('intake-enquiry-answer').fill('可通过居委会或物业预约大件垃圾清运。')
    const before = keys.length
    await page.getByTestId('intake-enquiry-submit').dblclick()
    await done.waitFor()
    const next = keys.slice(before)
    assert.ok(next.length >= 1)
    assert.match(next[0], UUID_V4)
    assert.notEqual(next[0], keys[0], 'the next enquiry has a new key')
    assert.deepEqual(new Set(next), new Set([next[0]]))
    const second = await enquiriesWith(`${TAG}-enq2`)
    assert.equal(second.length, 1, 'a double click records one enquiry')
    assert.equal(await done.getAttribute('data-id'), second[0].id)
    assert.equal((await enquiriesWith(`${TAG}-enq`)).length, 2, 'the two enquiries, once each')
    await shot(page, 'enquiry-once')
    assert.deepEqual(errors, [])
  })

  it('a bad phone is named beside the phone and sends nothing; an enquiry is no case; a point outside the city stops the submit', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openConsole(page)
    const posts = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/cases') posts.push(r.url())
    })
    const description = `外滩观景平台护栏松动 ${TAG}-phone`
    await describeCall(page, { name: '张先生', phone: 'call me', kind: 'complaint', description })
    await typePlace(page, HUANGPU)
    await located(page).waitFor()
    // said as soon as the phone is left
    const beside = page.locator('.fld', { has: page.getByTestId('intake-phone') }).getByTestId('intake-error-contact-phone')
    await beside.waitFor()
    assert.match(await text(beside), /电话号码格式不正确/)
    await page.getByTestId('intake-submit').click()
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'intake-phone')
    assert.equal(await page.getByTestId('intake-phone').getAttribute('aria-invalid'), 'true')
    assert.equal(await page.getByTestId('intake-created').count(), 0)
    await shot(page, 'bad-phone')
    assert.deepEqual(posts, [])
    assert.equal((await casesWith(`${TAG}-phone`)).length, 0)
    // a phone of the server's pattern clears it
    await page.getByTestId('intake-phone').fill('021-6321 0000')
    assert.equal(await page.getByTestId('intake-error-contact-phone').count(), 0)

    // an enquiry is answered on the call: choosing it turns the console into one (no place, no
    // case to submit), the description its question; back to a complaint, the case's form is as it was
    await page.getByTestId('intake-kind').click()
    const enquiry = page.locator('.intake-kind-popper .el-select-dropdown__item[data-kind="enquiry"]')
    assert.doesNotMatch(await enquiry.getAttribute('class'), /is-disabled/)
    assert.match(await text(enquiry), /咨询\s*直接答复，不立案/)
    await enquiry.click()
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    assert.match(await text(page.getByTestId('intake-enquiry-hint')), /咨询：在电话中直接答复并登记，不立案/)
    assert.equal(await page.getByTestId('intake-enquiry-question').inputValue(), description)
    assert.equal(await page.getByTestId('intake-place').count(), 0)
    assert.equal(await page.getByTestId('intake-submit').count(), 0)
    await chooseKind(page, 'complaint')
    await page.locator('[data-testid="intake-form"][data-mode="case"]').waitFor()
    assert.equal(await page.getByTestId('intake-description').inputValue(), description)
    assert.equal(await page.getByTestId('intake-phone').inputValue(), '021-6321 0000')
    await located(page).waitFor()

    // Beijing is not this city: the point is refused and the submit disabled
    await typePlace(page, { lon: '116.3975', lat: '39.9087' })
    await page.locator('[data-testid="intake-place"][data-state="outside"]').waitFor()
    assert.match(await text(page.getByTestId('intake-error-location')), /不在本市范围内/)
    assert.equal(await page.getByTestId('intake-submit').isDisabled(), true)
    assert.equal(await located(page).count(), 0)
    assert.equal(await page.getByTestId('case-map').count(), 0, 'no street map for a point outside the city')
    await shot(page, 'outside')
    await typePlace(page, HUANGPU)
    await located(page).waitFor()
    assert.equal(await page.getByTestId('intake-submit').isDisabled(), false)
    assert.deepEqual(posts, [])
    assert.deepEqual(errors.filter((e) => !e.includes('404')), [])
    errors.length = 0
  })

  it('the shift lead takes a call too, hinting its class', async () => {
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openConsole(page)
    const description = `延安东路人行道井盖破损 ${TAG}-lead`
    await describeCall(page, { phone: '13700001234', kind: 'request', description, reply: '当日派人查看' })
    await pickClass(page, '10101')
    await typePlace(page, HUANGPU)
    await located(page).waitFor()
    // the class's questions, if it asks any, are optional here
    const number = await submitted(page)
    const held = await call('shiftlead', 'GET', `/cases/${number}`)
    assert.equal(held.status, 200, JSON.stringify(held.json))
    assert.equal(held.json.category_hint, '10101')
    assert.deepEqual(held.json.call, { kind: 'request', reply_owed: '当日派人查看' })
    assert.equal(held.json.reporter_phone, '137****1234')
    assert.equal(held.json.reporter_name ?? null, null)
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no link to the console and is told it is not theirs', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await page.getByTestId('nav-alarms').waitFor()
    assert.equal(await page.getByTestId('nav-intake').count(), 0)
    await page.goto(`${ui.url}/intake`)
    const refused = page.getByTestId('intake-no-access')
    await refused.waitFor()
    assert.match(await text(refused), /受理员和值班长/)
    assert.equal(await page.getByTestId('intake-form').count(), 0)
    await shot(page, 'dispatcher')
    assert.deepEqual(errors, [])
  })

  it('the operator takes a call in English', async () => {
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    assert.equal(await text(page.getByTestId('nav-intake')), 'Intake')
    await openConsole(page)
    const fieldset = (legend) => page.locator('fieldset', { has: page.locator('legend', { hasText: legend }) })
    assert.equal(await fieldset('Caller').count(), 1)
    assert.equal(await fieldset('Place').count(), 1)
    assert.match(await text(fieldset('The call')), /Ticket kind/)
    assert.match(await text(page.getByTestId('intake-enquiry-hint')), /Enquiry: answered on the call and recorded, no case is opened/)
    assert.equal(await page.getByTestId('intake-submit').textContent().then((s) => s.trim()), 'Submit case')
    // the place search names the level in English
    await page.getByTestId('intake-place-search').fill('南京东路')
    const option = page.locator(`[data-testid="intake-place-option"][data-code="${NANJING_EAST}"]`)
    await option.waitFor()
    assert.match(await text(option), /南京东路街道\s*Street · 黄浦区/)
    await page.getByTestId('intake-place-search').fill('')
    const description = `Construction noise at night on Nanjing Road East ${TAG}-en`
    await operatorTakesACall(page, { lang: 'en', title: 'Intake console', complaint: 'Complaint', replyOwed: 'Reply owed:' }, description)
    assert.equal((await casesWith(`${TAG}-en`)).length, 1)

    // a component found in English: its labels are English (its name and the district's are the census's)
    const { c, cls } = await aComponent()
    await openConsole(page)
    await page.locator(`label[for="intake-search"]`, { hasText: 'Search a place or component' }).waitFor()
    // the placeholder's one Chinese word is the example of a place name to type
    const placeholder = await page.getByTestId('intake-place-search').getAttribute('placeholder')
    assert.match(placeholder, /component's name or id/)
    assert.doesNotMatch(placeholder.replace('南京东路', ''), HAN, placeholder)
    const found = await findComponent(page, c)
    assert.equal(await text(found.locator('.place-kind')), 'Component')
    const side = await text(found.locator('.place-side'))
    assert.ok(side.startsWith(cls.en) && side.endsWith(c.id), side)
    await found.click()
    const card = page.locator(`[data-testid="intake-component-chosen"][data-id="${c.id}"]`)
    await card.waitFor()
    const labels = [await text(card.locator('.lbl')), ...await card.locator('dt').allTextContents(), await text(page.getByTestId('intake-component-unlink'))]
    assert.deepEqual(labels.slice(0, 3), ['Component chosen', 'Name', 'Component id'])
    for (const label of labels) assert.doesNotMatch(label, HAN, label)
    assert.doesNotMatch((await text(card.locator('.hint'))), HAN)
    assert.ok((await text(page.getByTestId('intake-component-name'))).includes(cls.en))
    await shot(page, 'en-component')
    assert.deepEqual(errors, [])
  })
})
