// Personal data in what citizens write: masked on every screen, details of a report only on the
// reporter's device, the clear text read by an operator for a call-back, in Chinese and English.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

const HUANGPU = { lon: '121.4837', lat: '31.2369' }
const TAG = `PD${Date.now().toString(36)}`
const SAID = `${TAG} 我叫王小明，电话 139-0000-1111，车牌沪A12345的车天天停在人行道上`

let server, ui, chrome, api
const state = { number: null, id: null }
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
  page.setDefaultTimeout(15_000)
  return page
}

async function setLanguage(page, lang) {
  const now = await page.evaluate(() => document.documentElement.lang)
  if (!now.startsWith(lang)) await page.getByTestId('lang-toggle').click()
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang)
}

async function signIn(page, username) {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill('cityops-demo')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/screen/)
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `pd-${name}.png`), fullPage: true })

describe('personal data in free text', () => {
  it('a citizen reports with their phone in the text; only their device sees the details, masked', async () => {
    const page = await newPage('citizen')
    await page.goto(`${ui.url}/citizen`)
    await page.locator('[data-kind="parking"]').click()
    await page.getByTestId('lon').fill(HUANGPU.lon)
    await page.getByTestId('lat').fill(HUANGPU.lat)
    await page.getByTestId('description').fill(SAID)
    await page.getByTestId('submit').click()
    await page.getByTestId('report-done').waitFor()
    state.number = (await page.getByTestId('case-number').textContent()).trim()
    await page.getByTestId('follow-link').click()
    const description = page.getByTestId('follow-description')
    await description.waitFor()
    const shown = await description.textContent()
    assert.ok(shown.includes('139****1111') && shown.includes('人行道'), shown)
    for (const clear of ['王小明', '0000-1111', '沪A12345']) assert.ok(!shown.includes(clear), `${clear} in ${shown}`)
    await page.getByTestId('follow-steps').waitFor()
    await shot(page, 'citizen-follow')

    // Someone else with only the number sees the state, nothing of the report.
    const stranger = await newPage('stranger')
    await stranger.goto(`${ui.url}/citizen/${state.number}`)
    await stranger.getByTestId('follow-state').waitFor()
    await stranger.getByTestId('follow-no-details').waitFor()
    assert.equal(await stranger.getByTestId('follow-description').count(), 0)
    assert.equal(await stranger.getByTestId('follow-steps').count(), 0)
    assert.ok(!(await stranger.content()).includes('人行道'))
    await setLanguage(stranger, 'en')
    assert.match(await stranger.getByTestId('follow-no-details').textContent(), /Only the status is shown/)
    await shot(stranger, 'stranger-follow-en')
  })

  it('an operator sees it masked and reads it in clear for a call-back (Chinese, then English)', async () => {
    assert.ok(state.number)
    const op = await api.login('operator')
    const found = await api.call('GET', `/cases/${state.number}`, op)
    state.id = found.json.id
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/cases/${state.id}`)
    await page.getByTestId('case-number').waitFor()
    const before = await page.content()
    for (const clear of ['王小明', '0000-1111', '沪A12345']) assert.ok(!before.includes(clear), `${clear} on the case page`)
    await page.getByTestId('contact-purpose').selectOption('callback')
    await page.getByTestId('contact-reveal-button').click()
    await page.getByTestId('contact-clear').waitFor()
    const text = await page.getByTestId('contact-text').first().textContent()
    assert.ok(text.includes('139-0000-1111') && text.includes('沪A12345'), text)
    await shot(page, 'operator-reveal-zh')

    await setLanguage(page, 'en')
    await page.reload()
    await page.getByTestId('contact-reveal').waitFor()
    assert.match(await page.getByTestId('contact-reveal').textContent(), /Reporter contact/)
    await page.getByTestId('contact-purpose').selectOption('clarification')
    await page.getByTestId('contact-reveal-button').click()
    await page.getByTestId('contact-text').first().waitFor()
    await shot(page, 'operator-reveal-en')

    // Each read is on the audit log, with its purpose.
    const auditor = await api.login('auditor')
    const log = await api.call('GET', `/audit?action=pii.read&limit=50`, auditor)
    const mine = log.json.items.filter((e) => e.object === `case:${state.id}`)
    assert.ok(mine.some((e) => /purpose callback/.test(e.detail)) && mine.some((e) => /purpose clarification/.test(e.detail)), JSON.stringify(mine))
  })

  it('a dispatcher, who does not call citizens back, is not offered the clear text', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await page.goto(`${ui.url}/cases/${state.id}`)
    await page.getByTestId('case-number').waitFor()
    assert.equal(await page.getByTestId('contact-reveal').count(), 0)
    assert.ok(!(await page.content()).includes('王小明'))
  })

  it('no page errors', () => {
    assert.deepEqual(errors, [])
  })
})
