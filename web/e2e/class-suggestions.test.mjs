// Class suggestions (建议分类, `GET /class-suggestions`) under the class selects: an operator types
// a manhole-cover complaint in the intake console and sees the classes it most likely is, a
// manhole cover (101xx) among them, each with its code, confidence and the words that decided it;
// clicking the first sets the category select to it. A text too short asks nothing, and an
// enquiry has no class to suggest. The same once in English. A shift lead filing an inspector's
// report picks a suggestion for the description in the file form, files, and the case shows the
// class.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `CS${Date.now().toString(36)}`
const MANHOLE = '市民来电反映：小区门口人行道上的下水道井盖不见了，晚上很危险'

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
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `class-suggestions-${name}.png`), fullPage: true })

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}

async function run(who, c, command, body = {}) {
  const r = await call(who, 'POST', `/cases/${c.id}/${command}`, { version: c.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** What the server suggests for `text` now, as the forms ask it (three at most). */
async function suggested(who, text) {
  const r = await call(who, 'GET', `/class-suggestions?text=${encodeURIComponent(text)}&limit=3`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
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

/** The suggestions shown inside `scope` once the server answered, as chips by code. */
async function chipsIn(scope) {
  const box = scope.locator('[data-testid="class-suggestions"][data-state="found"]')
  await box.waitFor()
  const chips = box.locator('button[data-code]')
  const codes = await chips.evaluateAll((bs) => bs.map((b) => b.dataset.code))
  return { box, chips, codes }
}

/** Waits until the class select inside `scope` shows `label` as its value (not as a placeholder). */
async function selectShows(scope, label) {
  await scope.locator('.el-select__placeholder:not(.is-transparent)', { hasText: label }).first().waitFor()
}

/**
 * The operator's console: a manhole-cover complaint typed, the suggestions checked against what the
 * server suggests, the first clicked; `words` the page's language (`lang`, what a chip says).
 */
async function operatorPicksASuggestion(page, words) {
  await openConsole(page)
  await chooseKind(page, 'complaint')
  const category = page.locator('.fld', { has: page.getByTestId('intake-category') })

  // a text too short asks nothing and shows nothing
  const asked = []
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (url.pathname === '/api/v1/class-suggestions') asked.push(url.searchParams.get('text'))
  })
  await page.getByTestId('intake-description').fill('井盖')
  await page.waitForTimeout(700)
  assert.deepEqual(asked, [])
  assert.equal(await category.locator('[data-testid="class-suggestions"] button').count(), 0)

  // typed as a call is taken down: asked once the typing pauses, about the last text only
  await page.getByTestId('intake-description').fill('')
  await page.getByTestId('intake-description').pressSequentially(MANHOLE, { delay: 20 })
  const { box, chips, codes } = await chipsIn(category)
  assert.equal(asked.at(-1), MANHOLE)
  assert.ok(asked.length < [...MANHOLE].length / 2, `${asked.length} requests for ${[...MANHOLE].length} characters typed`)
  assert.ok(codes.length >= 1 && codes.length <= 3, codes.join(','))
  for (const code of codes) assert.match(code, /^\d{5}$/)
  assert.ok(codes.some((c) => c.startsWith('101')), `a manhole cover (101xx) among ${codes.join(',')}`)
  const server = await suggested('operator', MANHOLE)
  assert.deepEqual(codes, server.map((s) => s.category), 'the chips are the server\'s suggestions, in its order')
  assert.match(await text(box), new RegExp(`^${words.title}`))

  // each chip: the class's name in the page's language, its code, the confidence, the deciding words
  for (const [i, s] of server.entries()) {
    const chip = chips.nth(i)
    assert.equal(await chip.getAttribute('data-testid'), `class-suggestion-${s.category}`)
    assert.equal(await chip.getAttribute('type'), 'button')
    const said = await text(chip)
    const name = words.lang === 'en' ? s.en : s.zh
    assert.ok(said.startsWith(`${name} ${s.category} ${words.confidence} `), said)
    const pct = s.confidence > 0 && s.confidence < 0.005 ? '<1%' : `${Math.round(s.confidence * 100)}%`
    assert.ok(said.includes(`${words.confidence} ${pct}`), `${said} says ${pct}`)
    if (s.words.length) assert.ok(said.endsWith(`${words.because}${s.words.join(words.sep)}`), said)
  }
  const first = server[0]
  const firstName = words.lang === 'en' ? first.en : first.zh
  assert.equal(await chips.first().getAttribute('aria-pressed'), 'false')
  await shot(page, `${words.lang}-intake`)

  // the first picked, with the keyboard: the select shows its class
  await chips.first().focus()
  await page.keyboard.press('Enter')
  await selectShows(category, `${first.category} ${firstName}`)
  assert.equal(await chips.first().getAttribute('aria-pressed'), 'true')
  assert.equal(await page.getByTestId('intake-created').count(), 0, 'picking a class submits nothing')
  await shot(page, `${words.lang}-intake-picked`)
  return first
}

describe('class suggestions', { timeout: 180_000 }, () => {
  it('an operator sees the classes a manhole-cover complaint most likely is and picks the first; an enquiry has none', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    const first = await operatorPicksASuggestion(page, { lang: 'zh', title: '按描述推荐的类别', confidence: '可信度', because: '依据：', sep: '、' })

    // an enquiry is answered on the call: no class, nothing suggested; back to a case, they are there again
    await chooseKind(page, 'enquiry')
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    assert.equal(await page.getByTestId('class-suggestions').count(), 0)
    await chooseKind(page, 'complaint')
    await page.locator('[data-testid="intake-form"][data-mode="case"]').waitFor()
    await page.locator(`[data-testid="class-suggestions"] [data-testid="class-suggestion-${first.category}"]`).waitFor()
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('the suggestions speak English', async () => {
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await operatorPicksASuggestion(page, { lang: 'en', title: 'Likely classes from the description', confidence: 'confidence', because: 'because of: ', sep: ', ' })
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a shift lead filing an inspector\'s report picks a suggested class, and the case is filed under it', async () => {
    const description = `${TAG} 延安东路人行道上一处下水道井盖缺失，井口敞开，行人夜间容易踩空`
    const created = await call('inspector', 'POST', '/cases', {
      source: 'inspector', description, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
    })
    assert.equal(created.status, 201, JSON.stringify(created.json))
    assert.equal(created.json.category_hint ?? null, null)
    const accepted = await run('operator', created.json, 'accept')
    assert.equal(accepted.state, 'accepted')

    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await page.goto(`${ui.url}/cases/${accepted.id}`)
    await page.getByTestId('case-number').waitFor()
    await page.getByTestId('action-file').click()
    const form = page.locator('[data-testid="command-form"][data-command="file"]')
    await form.waitFor()
    const field = form.getByTestId('field-category')

    // the suggestions of the case's description, under the class select
    const { chips, codes } = await chipsIn(field)
    const server = await suggested('shiftlead', accepted.description)
    assert.deepEqual(codes, server.map((s) => s.category))
    assert.ok(codes.some((c) => c.startsWith('101')), `a manhole cover (101xx) among ${codes.join(',')}`)
    const first = server[0]
    assert.match(await text(chips.first()), new RegExp(`^${first.zh} ${first.category} 可信度 `))
    await shot(page, 'file-form')

    await chips.first().click()
    await selectShows(field, `${first.category} ${first.zh}`)
    assert.equal(await chips.first().getAttribute('aria-pressed'), 'true')
    await shot(page, 'file-picked')
    await form.getByTestId('command-submit').click()
    await form.waitFor({ state: 'detached' })
    await page.locator('[data-testid="case-state"][data-state="filed"]').waitFor()
    assert.match(await text(page.getByTestId('case-category')), new RegExp(`^${first.category} `))
    const held = await call('shiftlead', 'GET', `/cases/${accepted.id}`)
    assert.equal(held.status, 200, JSON.stringify(held.json))
    assert.equal(held.json.state, 'filed')
    assert.equal(held.json.category.code, first.category)
    await shot(page, 'filed')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('the API: a text too long names the text, a limit out of range names the limit; no session, no suggestions', async () => {
    const long = await call('operator', 'GET', `/class-suggestions?text=${encodeURIComponent('井'.repeat(2001))}`)
    assert.equal(long.status, 422, JSON.stringify(long.json))
    assert.equal(long.json.error.field, 'text')
    const limit = await call('operator', 'GET', `/class-suggestions?text=${encodeURIComponent(MANHOLE)}&limit=11`)
    assert.equal(limit.status, 422, JSON.stringify(limit.json))
    assert.equal(limit.json.error.field, 'limit')
    // a text with no word the model knows has nothing to suggest
    const none = await call('operator', 'GET', `/class-suggestions?text=${encodeURIComponent('zzqx vvkp')}`)
    assert.equal(none.status, 200, JSON.stringify(none.json))
    assert.deepEqual(none.json, [])
    const anon = await api.call('GET', `/class-suggestions?text=${encodeURIComponent(MANHOLE)}`)
    assert.equal(anon.status, 401, JSON.stringify(anon.json))
  })
})
