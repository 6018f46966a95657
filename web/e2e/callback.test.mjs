// The call-back (回访) of 12345 hotline cases on the case page: the caller's number offered only
// during the call-back (each read on the audit log), a failed attempt and then a reached caller
// basically satisfied, closed by a shift lead; three failed attempts closing a case as
// unreachable; the same in English. Each test prepares its own checked hotline case through the API.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

const TAG = `CB${Date.now().toString(36)}`
const CALLER = { name: '王小明', phone: '+86 139-0000-1111' }
const CLEAR_PHONE = '13900001111'

let server, ui, chrome, api
const errors = []

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

async function newPage(who) {
  const page = await (await chrome.newContext()).newPage()
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${who}: ${m.text()}`)
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

async function setLanguage(page, lang) {
  const now = await page.evaluate(() => document.documentElement.lang)
  if (!now.startsWith(lang)) await page.getByTestId('lang-toggle').click()
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang)
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `callback-${name}.png`), fullPage: true })

// One session per user for the whole file: signing in for every call would spend the sign-in
// budget of the address (30 a minute), and the browser's own sign-ins would then get 429.
const tokens = new Map()
async function tokenOf(who) {
  if (!tokens.has(who)) tokens.set(who, await api.login(who))
  return tokens.get(who)
}

/** A command through the API as `who`, with the case's version; the case as it is after. */
async function run(who, c, command, body = {}) {
  const r = await api.call('POST', `/cases/${c.id}/${command}`, await tokenOf(who), { version: c.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** A 12345 case with the caller's contact, taken along the happy path to `checked`: ready for its call-back. */
async function checkedHotlineCase(what) {
  const created = await api.call('POST', '/cases', await tokenOf('operator'), {
    source: 'hotline', description: `${TAG} 市民来电：${what}`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
    contact: CALLER,
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  let c = created.json
  c = await run('operator', c, 'accept')
  c = await run('operator', c, 'request-verification')
  c = await run('inspector', c, 'verify', { exists: true })
  c = await run('shiftlead', c, 'file', { category: '10101' })
  c = await run('dispatcher', c, 'dispatch', { unit: '310101-ZLS' })
  c = await run('water', c, 'sign')
  c = await run('water', c, 'feedback', { opinion: '已更换井盖' })
  c = await run('operator', c, 'send-check')
  c = await run('inspector', c, 'check', { passed: true })
  assert.equal(c.state, 'checked')
  return c
}

async function openCase(page, c) {
  await page.goto(`${ui.url}/cases/${c.id}`)
  await page.getByTestId('case-number').waitFor()
}

/** Open a command's form, fill it, submit it and wait for it to close. */
async function command(page, name, fill) {
  await page.getByTestId(`action-${name}`).click()
  const form = page.locator(`[data-testid="command-form"][data-command="${name}"]`)
  await form.waitFor()
  if (fill) await fill(form)
  await form.getByTestId('command-submit').click()
  await form.waitFor({ state: 'detached' })
}

const expectState = (page, s) => page.locator(`[data-testid="case-state"][data-state="${s}"]`).waitFor()
const attempts = (page, failed) => page.locator(`[data-testid="callback-attempts"][data-failed="${failed}"]`)

describe('the call-back of 12345 cases', { timeout: 120_000 }, () => {
  it('(a) an operator calls back, reads the number only during the call-back, fails once, then reaches a basically satisfied caller; a shift lead closes', async () => {
    const c = await checkedHotlineCase('河南中路上水井盖缺失')
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openCase(page, c)
    await expectState(page, 'checked')

    // Before the call-back: the page says why the number is not offered, and the server refuses it.
    const reveal = page.getByTestId('contact-reveal')
    await reveal.getByTestId('contact-callback-only').waitFor()
    assert.equal(await reveal.getAttribute('data-offered'), 'false')
    assert.equal(await page.getByTestId('contact-reveal-button').count(), 0)
    assert.match(await reveal.textContent(), /仅在回访期间显示/)
    const refused = await api.call('GET', `/cases/${c.id}/contact?purpose=callback`, await tokenOf('operator'))
    assert.equal(refused.status, 409, JSON.stringify(refused.json))
    assert.equal(refused.json.error.code, 'precondition_failed')
    assert.ok(!(await page.content()).includes(CLEAR_PHONE))
    await shot(page, 'a1-checked')

    await command(page, 'start-callback')
    await expectState(page, 'callback')
    assert.match(await page.locator('[data-testid="case-stage"][data-stage="callback"]').textContent(), /回访/)
    assert.equal(await attempts(page, 0).getAttribute('data-allowed'), '3')

    // During the call-back: the purpose is the call-back, and the clear number shows.
    await page.getByTestId('contact-purpose-fixed').waitFor()
    assert.equal(await page.getByTestId('contact-purpose').count(), 0)
    await page.getByTestId('contact-reveal-button').click()
    assert.equal((await page.getByTestId('contact-phone').textContent()).trim(), CLEAR_PHONE)
    assert.equal((await page.getByTestId('contact-name').textContent()).trim(), CALLER.name)
    await shot(page, 'a2-revealed')

    // No answer: the attempt counts, the case stays in its call-back.
    await command(page, 'callback', async (f) => {
      await f.getByTestId('satisfaction-satisfied').waitFor()
      await f.getByTestId('outcome-no_answer').click()
      await f.getByTestId('field-satisfaction').waitFor({ state: 'detached' })
    })
    await attempts(page, 1).waitFor()
    assert.match(await attempts(page, 1).textContent(), /第 1 次 \/ 共 3 次/)
    assert.equal(await page.locator('[data-testid="callback-last-outcome"][data-outcome="no_answer"]').textContent(), '无人接听')
    await expectState(page, 'callback')
    await shot(page, 'a3-no-answer')

    // Reached: basically satisfied. The satisfaction must be picked first.
    await page.getByTestId('action-callback').click()
    const form = page.locator('[data-testid="command-form"][data-command="callback"]')
    await form.waitFor()
    assert.ok(await form.getByTestId('outcome-reached').locator('input').isChecked())
    await form.getByTestId('command-submit').click()
    assert.equal(await form.getByTestId('field-error-satisfaction').textContent(), '必填')
    await form.getByTestId('satisfaction-basically_satisfied').click()
    await form.locator('textarea').fill('市民表示基本满意')
    await shot(page, 'a4-reached-form')
    await form.getByTestId('command-submit').click()
    await form.waitFor({ state: 'detached' })
    await expectState(page, 'checked')
    const graded = page.locator('[data-testid="callback-satisfaction"][data-satisfaction="basically_satisfied"]')
    await graded.waitFor()
    assert.equal((await graded.textContent()).trim(), '基本满意')
    // the call-back is over: the number left the page and is not offered again
    assert.equal(await page.getByTestId('contact-clear').count(), 0)
    assert.equal(await page.getByTestId('contact-reveal-button').count(), 0)
    assert.equal(await page.locator('[data-testid="timeline"] > li[data-action="callback"]').count(), 2)
    assert.equal(await page.getByTestId('callback-unreachable').count(), 0)
    await shot(page, 'a5-basically-satisfied')

    // The shift lead closes it.
    const lead = await newPage('shiftlead')
    await signIn(lead, 'shiftlead')
    await openCase(lead, c)
    await command(lead, 'close')
    await expectState(lead, 'closed')
    assert.equal((await lead.getByTestId('callback-satisfaction').textContent()).trim(), '基本满意')
    await shot(lead, 'a6-closed')

    // The read is on the audit log, with its purpose.
    const log = await api.call('GET', `/audit?action=pii.read&object=case:${c.id}&limit=50`, await tokenOf('auditor'))
    assert.equal(log.status, 200, JSON.stringify(log.json))
    const reads = log.json.items.filter((e) => e.object === `case:${c.id}`)
    assert.equal(reads.length, 1, JSON.stringify(reads))
    assert.match(reads[0].detail, /purpose callback/)
  })

  it('(b) three failed attempts close a case as unreachable', async () => {
    const c = await checkedHotlineCase('西藏中路路灯不亮')
    const page = await newPage('operator-b')
    await signIn(page, 'operator')
    await openCase(page, c)
    await command(page, 'start-callback')
    await expectState(page, 'callback')
    for (const [n, outcome] of [[1, 'no_answer'], [2, 'wrong_number'], [3, 'no_answer']]) {
      await command(page, 'callback', (f) => f.getByTestId(`outcome-${outcome}`).click())
      await attempts(page, n).waitFor()
      if (n < 3) await expectState(page, 'callback')
    }
    await expectState(page, 'closed')
    const mark = page.getByTestId('callback-unreachable')
    await mark.waitFor()
    assert.equal((await mark.textContent()).trim(), '无法联系')
    assert.match(await attempts(page, 3).textContent(), /第 3 次 \/ 共 3 次/)
    assert.equal(await page.getByTestId('callback-satisfaction').count(), 0)
    assert.equal(await page.getByTestId('no-actions').count(), 1)
    assert.equal(await page.getByTestId('contact-reveal-button').count(), 0)
    await shot(page, 'b-unreachable')

    const view = (await api.call('GET', `/cases/${c.id}`, await tokenOf('operator'))).json
    assert.equal(view.callback.unreachable, true)
    assert.equal(view.callback.failed_attempts, 3)

    // the mark reads in English too
    await setLanguage(page, 'en')
    assert.equal((await mark.textContent()).trim(), 'Unreachable')
    assert.match(await attempts(page, 3).textContent(), /3 of 3/)
  })

  it('(c) in English: the hint, the call-back form and the grade', async () => {
    const c = await checkedHotlineCase('人行道积水')
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await openCase(page, c)
    assert.equal((await page.getByTestId('contact-callback-only').textContent()).trim(),
      "A 12345 caller's number is shown only during the call-back, and only for it.")
    await command(page, 'start-callback')
    await expectState(page, 'callback')
    assert.match(await page.locator('[data-testid="case-stage"][data-stage="callback"]').textContent(), /Call-back/)
    assert.match(await attempts(page, 0).textContent(), /none yet \(of 3\)/)
    assert.equal((await page.getByTestId('contact-purpose-fixed').textContent()).trim(), 'Purpose: call-back')
    await page.getByTestId('contact-reveal-button').click()
    assert.equal((await page.getByTestId('contact-phone').textContent()).trim(), CLEAR_PHONE)

    await page.getByTestId('action-callback').click()
    const form = page.locator('[data-testid="command-form"][data-command="callback"]')
    await form.waitFor()
    const labels = async (prefix) => (await form.locator(`[data-testid^="${prefix}-"]`).allTextContents()).map((s) => s.trim())
    assert.deepEqual(await labels('outcome'), ['Reached', 'No answer', 'Wrong number'])
    assert.deepEqual(await labels('satisfaction'), ['Satisfied', 'Basically satisfied', 'Unsatisfied'])
    await form.getByTestId('satisfaction-unsatisfied').click()
    await shot(page, 'c-form-en')
    await form.getByTestId('command-submit').click()
    await form.waitFor({ state: 'detached' })
    // unsatisfied: back to the unit for rework
    await expectState(page, 'dispatched')
    assert.equal((await page.locator('[data-testid="callback-satisfaction"][data-satisfaction="unsatisfied"]').textContent()).trim(), 'Unsatisfied')
    assert.equal(await page.getByTestId('contact-clear').count(), 0)
    await shot(page, 'c-unsatisfied-en')
  })

  it('no page errors', () => {
    assert.deepEqual(errors, [])
  })
})
