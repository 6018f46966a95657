// The audit log for auditors: an auditor finds an action done moments before (a case accepted),
// checks the hash chain and sees it intact, and downloads the signed checkpoints; the page reads
// in English too. An operator, whom the API refuses, has no menu entry for it.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

let server, ui, chrome, api
const state = { id: null }
const errors = []

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
  // the action to look for: an operator accepts a hotline report
  const op = await api.login('operator')
  const created = await api.call('POST', '/cases', op, {
    source: 'hotline',
    description: `AUD${Date.now().toString(36)} 市民来电反映：南京东路一处上水井盖缺失`,
    location: { lon: 121.4837, lat: 31.2369 },
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  state.id = created.json.id
  const accepted = await api.call('POST', `/cases/${state.id}/accept`, op, { version: 1 })
  assert.equal(accepted.status, 200, JSON.stringify(accepted.json))
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

async function newPage(who) {
  const page = await (await chrome.newContext({ acceptDownloads: true })).newPage()
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.setDefaultTimeout(30_000)
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

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `audit-${name}.png`), fullPage: true })

describe('audit log', () => {
  it('an auditor finds the accepted case, sees the chain intact and downloads the checkpoints', async () => {
    const page = await newPage('auditor')
    await signIn(page, 'auditor')
    await page.getByTestId('nav-audit').click()
    await page.waitForURL(/\/audit/)
    await page.getByTestId('audit-table').waitFor()

    await page.getByLabel('操作人').fill('operator')
    await page.getByLabel('动作').fill('case.accept')
    await page.getByLabel('对象').fill(`case:${state.id}`)
    await page.getByTestId('audit-search-submit').click()
    const row = page.locator(`[data-testid="audit-row"][data-object="case:${state.id}"]`)
    await row.waitFor()
    assert.equal(await page.getByTestId('audit-row').count(), 1)
    assert.equal(await row.getAttribute('data-action'), 'case.accept')
    assert.match(await row.textContent(), /operator/)

    // a time range that ends before the setup finds nothing
    await page.getByLabel('截止时间').fill('2020-01-01T00:00')
    await page.getByTestId('audit-search-submit').click()
    await page.getByTestId('audit-empty').waitFor()
    await page.getByLabel('截止时间').fill('')
    await page.getByTestId('audit-search-submit').click()
    await row.waitFor()

    await page.getByTestId('audit-verify').click()
    const result = page.getByTestId('audit-verify-result')
    await result.waitFor()
    assert.equal(await result.getAttribute('data-intact'), 'true')
    assert.match(await result.textContent(), /日志完整/)

    const fromApi = (await api.call('GET', '/audit/checkpoints', await api.login('auditor'))).json
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-checkpoints-download').click()])
    assert.equal(download.suggestedFilename(), 'cityops-audit-checkpoints.json')
    const saved = JSON.parse(readFileSync(await download.path(), 'utf8'))
    assert.ok(Array.isArray(saved))
    // the file holds at least every checkpoint there was when the page loaded
    assert.ok(saved.length <= fromApi.length && saved.every((c) => typeof c.signature === 'string'), JSON.stringify(saved))
    await shot(page, 'auditor')

    await setLanguage(page, 'en')
    assert.match(await result.textContent(), /Intact/)
    await page.getByRole('heading', { name: 'Signed checkpoints' }).waitFor()
    await page.getByLabel('Actor').first().waitFor()
    await shot(page, 'auditor-en')
    assert.deepEqual(errors, [])
  })

  it('paging walks the log a page at a time', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await page.getByTestId('nav-audit').click()
    await page.getByTestId('audit-table').waitFor()
    const total = (await api.call('GET', '/audit?limit=1000', await api.login('admin'))).json.items.length
    if (total > 50) {
      const first = await page.getByTestId('audit-row').first().textContent()
      await page.getByTestId('audit-next').click()
      await page.waitForFunction(() => document.querySelector('[data-testid="audit-page"]')?.textContent?.includes('2'))
      assert.notEqual(await page.getByTestId('audit-row').first().textContent(), first)
      await page.getByTestId('audit-prev').click()
      await page.waitForFunction(() => document.querySelector('[data-testid="audit-page"]')?.textContent?.includes('1'))
    }
    // an admin has the most menu entries: in English they still fit on one line
    await setLanguage(page, 'en')
    const fits = await page.evaluate(() => {
      const header = document.querySelector('.app-header')
      const tops = [...header.querySelectorAll('.nav a')].map((a) => a.getBoundingClientRect().top)
      const who = header.querySelector('[data-testid="who"]').getBoundingClientRect().width
      return { oneRow: new Set(tops).size === 1, overflow: header.scrollWidth - header.clientWidth, whoShown: who >= 40 }
    })
    // ...and who is signed in still shows (shortened, whole on hover)
    assert.deepEqual(fits, { oneRow: true, overflow: 0, whoShown: true })
    await shot(page, 'admin-en')
    assert.deepEqual(errors, [])
  })

  it('an operator has no audit menu entry, and the API refuses them', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await page.getByTestId('nav-units').waitFor()
    assert.equal(await page.getByTestId('nav-audit').count(), 0)
    assert.equal((await api.call('GET', '/audit', await api.login('operator'))).status, 403)
    assert.deepEqual(errors, [])
  })
})
