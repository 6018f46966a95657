// A citizen's request about their personal data: a data steward finds what is held under the
// phone the citizen reported with, exports it as JSON, erases it after a confirmation naming the
// cases, and a second search finds nothing. Other roles have no menu entry; the page reads in English.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

// a phone of its own per run, so no other test's reports are found under it
const PHONE = `137${String(Date.now()).slice(-8)}`
const NAME = '李小红'
const TAG = `PDR${Date.now().toString(36)}`
const REQUEST = `XF-${TAG}`

let server, ui, chrome, api
const state = { number: null }
const errors = []

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
  // a hotline call with the caller's contact, found invalid: a finished case holding a name and phone
  const op = await api.login('operator')
  const created = await api.call('POST', '/cases', op, {
    source: 'hotline',
    description: `${TAG} 市民来电反映：南京东路一处井盖松动`,
    location: { lon: 121.4837, lat: 31.2369 },
    contact: { name: NAME, phone: PHONE },
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  state.number = created.json.number
  const rejected = await api.call('POST', `/cases/${created.json.id}/reject`, op, { version: 1, reject_reason: 'invalid', opinion: '不属实' })
  assert.equal(rejected.status, 200, JSON.stringify(rejected.json))
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

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `pdr-${name}.png`), fullPage: true })

describe('personal data requests', () => {
  it('a steward finds a citizen\'s data by phone, exports it, erases it, and finds nothing after', async () => {
    const page = await newPage('steward')
    await signIn(page, 'steward')
    await page.getByTestId('nav-personal-data').click()
    await page.waitForURL(/\/personal-data/)

    // the request being answered is asked first: the audit log records why the data was read
    await page.getByLabel('电话号码').fill(PHONE)
    await page.getByTestId('pd-find').click()
    await page.getByTestId('pd-error').waitFor()
    assert.match(await page.getByTestId('pd-error').textContent(), /申请的编号/)
    await page.getByLabel('申请编号').fill(REQUEST)

    // a bad phone is refused by the API, naming the field
    await page.getByLabel('电话号码').fill('abc')
    await page.getByTestId('pd-find').click()
    await page.getByTestId('pd-error').waitFor()
    assert.match(await page.getByTestId('pd-error').textContent(), /phone/)

    await page.getByLabel('电话号码').fill(PHONE)
    await page.getByTestId('pd-find').click()
    const row = page.locator(`[data-testid="pd-case"][data-number="${state.number}"]`)
    await row.waitFor()
    assert.equal(await page.getByTestId('pd-case').count(), 1)
    const text = await row.textContent()
    assert.ok(text.includes(NAME) && text.includes(TAG), text)
    assert.match(await page.getByTestId('pd-request-shown').textContent(), new RegExp(REQUEST))

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('pd-export').click()])
    assert.match(download.suggestedFilename(), /^personal-data-137xxxx\d{4}-\d{4}-\d{2}-\d{2}\.json$/)
    const saved = JSON.parse(readFileSync(await download.path(), 'utf8'))
    assert.equal(saved.phone, PHONE)
    assert.equal(saved.cases.length, 1)
    assert.equal(saved.cases[0].number, state.number)
    assert.equal(saved.cases[0].name, NAME)
    await shot(page, 'found')

    // erasing asks first, naming the cases; cancel changes nothing
    await page.getByTestId('pd-erase').click()
    const confirm = page.getByTestId('pd-confirm')
    await confirm.waitFor()
    assert.ok((await confirm.textContent()).includes(state.number))
    await page.getByTestId('pd-erase-cancel').click()
    assert.equal(await confirm.count(), 0)
    await page.getByTestId('pd-erase').click()
    await page.getByTestId('pd-erase-confirm').click()
    await page.getByTestId('pd-erased').waitFor()
    assert.match(await page.getByTestId('pd-erased').textContent(), /1 个已结束案件/)

    await page.getByTestId('pd-find').click()
    await page.getByTestId('pd-none').waitFor()
    assert.equal(await page.getByTestId('pd-case').count(), 0)

    await setLanguage(page, 'en')
    assert.match(await page.getByTestId('pd-none').textContent(), /Nothing is held under this phone/)
    await page.getByLabel('Phone number').waitFor()
    await page.getByRole('button', { name: 'Find' }).waitFor()
    await shot(page, 'erased-en')

    // the erasure is on the audit log
    const log = (await api.call('GET', '/audit?action=pii.&limit=1000', await api.login('auditor'))).json.items
    assert.ok(log.some((e) => e.action === 'pii.export' && e.actor === 'steward' && String(e.detail).includes(`request ${REQUEST}`)),
      JSON.stringify(log.slice(-3)))
    assert.deepEqual(errors, [])
  })

  it('an operator has no personal-data menu entry, and the API refuses them', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await page.getByTestId('nav-units').waitFor()
    assert.equal(await page.getByTestId('nav-personal-data').count(), 0)
    assert.equal((await api.call('GET', `/personal-data?phone=${PHONE}`, await api.login('operator'))).status, 403)
    assert.deepEqual(errors, [])
  })
})
