// The 12345 exchange: an operator imports the hotline system's tickets from a CSV file (a bad
// row refuses the file, naming its line), sees the cases opened, and exports the tickets'
// results for the period, as the CSV the 12345 system takes back.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

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
  const context = await chrome.newContext()
  const page = await context.newPage()
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

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `hotline-${name}.png`), fullPage: true })

// Today in Beijing, the day the default period ends on.
const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date())
const HEADER = 'ticket_id,received_at,kind,caller_name,caller_phone,description,address,lon,lat,area'

describe('12345 tickets', () => {
  it('an operator imports tickets from CSV and exports their results', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await page.getByTestId('nav-hotline').click()
    await page.waitForURL(/\/hotline/)

    const bad = join(ARTIFACTS, 'hotline-bad.csv')
    writeFileSync(bad, `${HEADER}\nE2E-1,${today} 00:00:01,投诉,李女士,13812345678,南京东路夜间施工噪音,,121.4837,31.2369,\nE2E-2,${today} 00:00:02,咨询,,call me,询问,,,,\n`)
    await page.getByTestId('hotline-import-file').setInputFiles(bad)
    await page.getByTestId('hotline-import-submit').click()
    assert.match(await page.getByTestId('hotline-import-error').textContent(), /line 3: caller_phone/)
    await shot(page, 'refused')

    const good = join(ARTIFACTS, 'hotline-tickets.csv')
    writeFileSync(good, `\ufeff${HEADER}\nE2E-1,${today} 00:00:01,投诉,李女士,13812345678,南京东路夜间施工噪音,,121.4837,31.2369,\nE2E-2,${today} 00:00:02,咨询,,,询问办事时间,,,,\n`)
    await page.getByTestId('hotline-import-file').setInputFiles(good)
    await page.getByTestId('hotline-import-submit').click()
    await page.getByTestId('hotline-import-result').waitFor()
    assert.match(await page.getByTestId('hotline-import-result').textContent(), /2/)
    assert.equal(await page.locator('[data-testid="hotline-import-cases"] li').count(), 1)
    const number = (await page.locator('[data-testid="hotline-import-cases"] li').first().textContent()).trim()
    assert.match(number, /^\d{19}$/)

    // The same file again changes nothing.
    await page.getByTestId('hotline-import-submit').click()
    await page.waitForFunction(() => /0\D+2/.test(document.querySelector('[data-testid="hotline-import-result"]')?.textContent ?? ''))
    const answer = await api.call('GET', `/cases/${number}`, await api.login('operator'))
    assert.equal(answer.json.hotline_ticket, 'E2E-1')
    assert.equal(answer.json.reporter_phone, '138****5678')

    // The period defaults to this month up to today: both tickets are in it.
    await page.getByTestId('hotline-preview').click()
    await page.getByTestId('hotline-rows').waitFor()
    assert.equal(await page.locator('[data-testid="hotline-rows"] tr[data-ticket="E2E-1"]').count(), 1)
    assert.equal(await page.locator('[data-testid="hotline-rows"] tr[data-ticket="E2E-2"]').count(), 1)
    await shot(page, 'results')

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('hotline-export-csv').click(),
    ])
    assert.match(download.suggestedFilename(), /^12345-results-.*\.csv$/)
    const csv = readFileSync(await download.path(), 'utf8')
    assert.ok(csv.startsWith('\ufeffticket_id,kind,received_at,case_number,state,reply,satisfied,closed_at'), csv)
    const row = csv.split('\n').find((l) => l.startsWith('E2E-1,'))
    assert.ok(row && row.includes(`,${number},reported,`), csv)
    assert.deepEqual(errors, [])
  })
})
