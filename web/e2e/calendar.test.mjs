// The working calendar: every signed-in staff member sees a year's holidays and make-up working
// days; an admin imports a new year from a file (CSV here, the format an office keeps in Excel)
// and sees it at once, and a bad file is refused naming its line. Others get no import form. The
// page in English: months, weekdays, the legend and the holidays by their English names.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, setLanguage, startCityops, startUi } from './harness.mjs'

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

async function signIn(page, username) {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill('cityops-demo')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/screen/)
}

/**
 * Picks `year` in the page's year picker (an Element Plus select); under load its list may close
 * under the click, so it is opened again until the select shows the year.
 */
async function pickYear(page, year) {
  const select = page.getByTestId('calendar-year')
  for (let attempt = 0; attempt < 3; attempt++) {
    await select.click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: String(year) }).first().click()
    try {
      await page.waitForFunction((y) => new URL(location.href).searchParams.get('year') === String(y) &&
        document.querySelector('[data-testid="calendar-year"]')?.textContent?.includes(String(y)), year, { timeout: 3_000 })
      await page.locator(`[data-testid="calendar-known"]`).waitFor()
      return
    } catch { /* the list was still opening: choose again */ }
  }
  throw new Error(`year ${year} could not be chosen`)
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `calendar-${name}.png`), fullPage: true })

describe('working calendar', () => {
  it('a dispatcher sees a shipped year with its holidays and make-up days, and no import form', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await page.getByTestId('nav-calendar').click()
    await page.waitForURL(/\/calendar/)
    await pickYear(page, 2026)
    assert.equal(await page.getByTestId('calendar-known').getAttribute('data-known'), 'true')
    await page.getByTestId('calendar-grid').waitFor()
    // 2026-02-17 is the Spring Festival; Saturday 2026-02-14 is a make-up working day.
    assert.equal(await page.locator('.day[data-date="2026-02-17"]').getAttribute('data-kind'), 'holiday')
    assert.equal(await page.locator('.day[data-date="2026-02-14"]').getAttribute('data-kind'), 'make_up_workday')
    assert.equal(await page.locator('.day[data-date="2026-03-07"]').getAttribute('data-kind'), 'weekend')
    assert.match(await page.getByTestId('calendar-hours').textContent(), /08:30-12:00, 13:30-17:30/)
    const api2026 = (await api.call('GET', '/calendar/2026', await api.login('dispatcher'))).json
    assert.equal((await page.getByTestId('calendar-working-days').textContent()).trim(), String(api2026.working_days))
    assert.equal(await page.getByTestId('calendar-import').count(), 0)
    await shot(page, 'dispatcher-2026')
    assert.deepEqual(errors, [])
  })

  it('an admin imports 2027 from CSV and sees it; a bad file is refused naming its line', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await page.goto(`${ui.url}/calendar?year=2027`)
    await page.getByTestId('calendar-known').waitFor()
    assert.equal(await page.getByTestId('calendar-known').getAttribute('data-known'), 'false')

    const bad = join(ARTIFACTS, 'calendar-2027-bad.csv')
    writeFileSync(bad, 'date,name,off\n2027-01-01,元旦,true\n2027-01-01,元旦,true\n')
    await page.getByTestId('calendar-import-file').setInputFiles(bad)
    await page.getByTestId('calendar-import-submit').click()
    const refused = await page.getByTestId('calendar-import-error').textContent()
    assert.match(refused, /line 3: date/)
    assert.equal(await page.getByTestId('calendar-known').getAttribute('data-known'), 'false')
    await shot(page, 'admin-refused')

    // Made-up days on the right weekdays: 2027's notice is not published yet.
    const good = join(ARTIFACTS, 'calendar-2027.csv')
    writeFileSync(good, '\ufeffdate,name,off\n2027-01-01,元旦,true\n2027-02-06,春节,false\n2027-02-08,春节,true\n2027-02-09,春节,true\n')
    await page.getByTestId('calendar-import-file').setInputFiles(good)
    await page.getByTestId('calendar-import-submit').click()
    await page.getByTestId('calendar-import-result').waitFor()
    assert.equal(await page.getByTestId('calendar-known').getAttribute('data-known'), 'true')
    assert.equal(await page.locator('.day[data-date="2027-02-08"]').getAttribute('data-kind'), 'holiday')
    assert.equal(await page.locator('.day[data-date="2027-02-06"]').getAttribute('data-kind'), 'make_up_workday')
    assert.equal(await page.locator('[data-testid="calendar-days"] tbody tr').count(), 4)
    await shot(page, 'admin-imported')

    // It is the server's calendar now, for everyone.
    const stored = await api.call('GET', '/calendar/2027', await api.login('operator'))
    assert.equal(stored.json.known, true)
    assert.equal(stored.json.make_up_workdays, 1)
    assert.deepEqual(errors, [])
  })

  it('the page in English: month names, weekdays, the legend, a holiday and a make-up working day', async () => {
    const page = await newPage('dispatcher-en')
    await signIn(page, 'dispatcher')
    await setLanguage(page, 'en')
    await page.getByTestId('nav-calendar').click()
    await page.waitForURL(/\/calendar/)
    await pickYear(page, 2026)
    await page.getByTestId('calendar-grid').waitFor()
    assert.equal((await page.locator('h1').textContent()).trim(), 'Working calendar')
    assert.match(await page.getByTestId('calendar-known').textContent(), /^\s*The official holiday schedule of 2026 is loaded\s*$/)
    const facts = await page.getByTestId('calendar-facts').textContent()
    for (const label of ['Working hours', 'Working days', 'Days off', 'Weekday holidays', 'Make-up working days']) assert.ok(facts.includes(label), label)
    assert.match(facts, /Time zone Asia\/Shanghai, 450 minutes a working day/)

    // The months by name, January first; each month's weekdays Monday first.
    const months = await page.getByTestId('calendar-month').allTextContents()
    assert.deepEqual(months.map((m) => m.trim()), ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
      'September', 'October', 'November', 'December'])
    const february = page.locator('section.month', { has: page.locator('[data-testid="calendar-month"][data-month="2"]') })
    assert.deepEqual((await february.locator('thead th').allTextContents()).map((w) => w.trim()), ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'])
    // 2026-02-01 is a Sunday: six blanks before it.
    assert.equal(await february.locator('tbody tr').first().locator('td').nth(6).locator('.day').getAttribute('data-date'), '2026-02-01')
    assert.deepEqual((await page.locator('ul.legend li').allTextContents()).map((l) => l.trim()),
      ['Working day', 'Weekend', 'Holiday', 'Make-up working day'])

    // The Spring Festival off on Tuesday 2026-02-17, worked on Saturday 2026-02-14; a plain
    // weekend and a plain working day.
    const holiday = page.locator('.day[data-date="2026-02-17"]')
    const makeUp = page.locator('.day[data-date="2026-02-14"]')
    assert.equal(await holiday.getAttribute('data-kind'), 'holiday')
    assert.equal(await holiday.getAttribute('title'), 'Spring Festival · Holiday')
    assert.equal(await makeUp.getAttribute('data-kind'), 'make_up_workday')
    assert.equal(await makeUp.getAttribute('title'), 'Spring Festival · Make-up working day')
    assert.equal(await page.locator('.day[data-date="2026-03-07"]').getAttribute('title'), 'Weekend')
    assert.equal(await page.locator('.day[data-date="2026-03-09"]').getAttribute('title'), 'Working day')
    // The days the notice lists, in English.
    const listed = page.getByTestId('calendar-days')
    assert.deepEqual((await listed.locator('thead th').allTextContents()).map((h) => h.trim()), ['Date', 'Name', 'Kind'])
    const cells = async (date) => (await listed.locator(`tr[data-date="${date}"] td`).allTextContents()).map((c) => c.trim())
    assert.deepEqual(await cells('2026-02-17'), ['2026-02-17', 'Spring Festival', 'Holiday'])
    assert.deepEqual(await cells('2026-02-14'), ['2026-02-14', 'Spring Festival', 'Make-up working day'])
    assert.deepEqual(await cells('2026-01-01'), ['2026-01-01', "New Year's Day", 'Holiday'])
    assert.deepEqual(await cells('2026-10-01'), ['2026-10-01', 'National Day', 'Holiday'])
    assert.doesNotMatch(await listed.textContent(), /[\u4e00-\u9fff]/, 'no Chinese left in the list')
    await shot(page, 'dispatcher-2026-en')

    // Back in Chinese, the same days by their Chinese names and marks.
    await setLanguage(page, 'zh')
    await page.waitForFunction(() => document.querySelector('[data-testid="calendar-month"]')?.textContent?.trim() === '1月')
    assert.equal(await holiday.getAttribute('title'), '春节 · 节假日')
    assert.equal(await makeUp.getAttribute('title'), '春节 · 调休上班')
    assert.deepEqual(await cells('2026-02-14'), ['2026-02-14', '春节', '调休上班'])
    assert.equal((await february.locator('thead th').first().textContent()).trim(), '一')
    assert.deepEqual(errors, [])
  })
})
