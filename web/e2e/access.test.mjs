// Who may come in: a citizen's report carries a proof of work the browser solves on its own; a
// staff member who mistypes the password too often is asked to wait a few seconds on this device
// (the account is not locked), in Chinese and English, and then signs in.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

const HUANGPU = { lon: '121.4837', lat: '31.2369' }
const TAG = `AC${Date.now().toString(36)}`

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
  page.setDefaultTimeout(30_000)
  return page
}

async function setLanguage(page, lang) {
  const now = await page.evaluate(() => document.documentElement.lang)
  if (!now.startsWith(lang)) await page.getByTestId('lang-toggle').click()
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang)
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `access-${name}.png`), fullPage: true })

describe('access', () => {
  it('a citizen files a report; the browser solves its challenge', async () => {
    const page = await newPage('citizen')
    const sent = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/public/reports')) sent.push(JSON.parse(r.postData() || '{}'))
    })
    await page.goto(`${ui.url}/citizen`)
    await page.locator('[data-kind="road"]').click()
    await page.getByTestId('lon').fill(HUANGPU.lon)
    await page.getByTestId('lat').fill(HUANGPU.lat)
    await page.getByTestId('description').fill(`${TAG} 人行道地砖松动，雨天会溅水`)
    await page.getByTestId('submit').click()
    await page.getByTestId('report-done').waitFor()
    const number = (await page.getByTestId('case-number').textContent()).trim()
    assert.match(number, /^\d{19}$/)
    assert.equal(sent.length, 1, JSON.stringify(sent))
    assert.ok(sent[0].challenge && /^\d+$/.test(sent[0].nonce), JSON.stringify(sent[0]))
    await shot(page, 'citizen-done')

    // The report is in the city's queue.
    const op = await api.login('operator')
    const found = await api.call('GET', `/cases/${number}`, op)
    assert.equal(found.status, 200)
    assert.ok(found.json.description.includes(TAG))

    // A script replaying the browser's proof gets nothing more in.
    const replay = await api.call('POST', '/public/reports', null, sent[0])
    assert.equal(replay.status, 403)
    assert.equal(replay.json.error.code, 'challenge_failed')
  })

  it('repeated wrong passwords make this device wait, in Chinese and English; then the right one signs in', async () => {
    const page = await newPage('evaluator')
    await page.goto(`${ui.url}/login`)
    await setLanguage(page, 'zh')
    await page.getByTestId('username').fill('evaluator')
    const attempt = async (password) => {
      await page.getByTestId('password').fill(password)
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST')
      await page.getByTestId('login-submit').click()
      return (await answer).status()
    }
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push(await attempt('not the password'))
    assert.deepEqual(statuses, [401, 401, 401, 429])
    const zh = await page.getByTestId('login-error').textContent()
    assert.match(zh, /登录失败次数过多，请 \d+ 秒后再试/)
    await shot(page, 'throttled-zh')

    await setLanguage(page, 'en')
    // Even the right password is not heard while this device waits.
    assert.equal(await attempt('cityops-demo'), 429)
    const en = await page.getByTestId('login-error').textContent()
    const wait = Number(en.match(/try again in (\d+) s/)?.[1])
    assert.ok(wait >= 1 && wait <= 2, en)
    await shot(page, 'throttled-en')

    await page.waitForTimeout(wait * 1000 + 200)
    await page.getByTestId('password').fill('cityops-demo')
    await page.getByTestId('login-submit').click()
    await page.waitForURL(/\/screen/)
    assert.deepEqual(errors, [])
  })
})
