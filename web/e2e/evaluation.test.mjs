// The evaluation page: an evaluator ranks the districts and the units of the last thirty days
// with grades, opens the cases behind a unit's numbers (its late handling where there is
// some), downloads the XLSX and a real reader (openpyxl) finds the ranking and the chart
// sheet; the page in English; a center leader has it too, an operator neither the menu entry
// nor the API.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who) => openPage(chrome, who, errors, { downloads: true })
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




const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `evaluation-${name}.png`), fullPage: true })


describe('the evaluation page', { timeout: 120_000 }, () => {
  it('(a) an evaluator ranks districts and units, drills into a unit\'s cases and exports XLSX', async () => {
    const page = await newPage('evaluator')
    await signIn(page, 'evaluator')
    await page.getByTestId('nav-evaluation').click()
    await page.waitForURL(/\/evaluation/)
    await page.getByTestId('preset-last_30').click()
    const result = page.locator('[data-testid="evaluation-result"][data-level="district"]')
    await result.waitFor()
    const from = await page.getByTestId('evaluation-from').inputValue()
    const to = await page.getByTestId('evaluation-to').inputValue()
    const districts = (await api.call('GET', `/evaluation?level=district&from=${from}&to=${to}`, await tokenOf('evaluator'))).json
    assert.ok(districts.rows.length > 0, 'the seeded city has figures')
    const rows = page.getByTestId('evaluation-row')
    assert.equal(await rows.count(), districts.rows.length)
    const first = districts.rows[0]
    const firstRow = page.locator(`[data-testid="evaluation-row"][data-key="${first.key}"]`)
    assert.equal(await firstRow.getAttribute('data-grade'), first.grade ?? '')
    assert.equal((await firstRow.getByTestId('evaluation-composite').textContent()).trim(), first.composite.toFixed(2))
    await shot(page, 'a-districts')

    // Units: the cases behind a unit's handling, its late ones where it has some.
    await page.locator('[data-testid="evaluation-levels"] [data-level="unit"]').click()
    await page.locator('[data-testid="evaluation-result"][data-level="unit"]').waitFor()
    const units = (await api.call('GET', `/evaluation?level=unit&from=${from}&to=${to}`, await tokenOf('evaluator'))).json
    const late = units.rows.find((r) => (r.figures.handled ?? 0) > (r.figures.handled_on_time ?? 0))
    const unit = late ?? units.rows.find((r) => (r.figures.handled ?? 0) > 0)
    assert.ok(unit, JSON.stringify(units.rows.slice(0, 3)))
    const row = page.locator(`[data-testid="evaluation-row"][data-key="${unit.key}"]`)
    const counter = late ? 'late-handled' : 'count-handled'
    await row.getByTestId(counter).click()
    const drill = page.getByTestId('evaluation-drill')
    await drill.waitFor()
    await drill.getByTestId('evaluation-case').first().waitFor()
    const listed = await drill.getByTestId('evaluation-case').evaluateAll((els) => els.map((e) => e.dataset.number))
    const behind = (await api.call('GET',
      `/evaluation/cases?level=unit&key=${unit.key}&counter=handled${late ? '&except=handled_on_time' : ''}&from=${from}&to=${to}`,
      await tokenOf('evaluator'))).json
    assert.deepEqual(listed.sort(), behind.map((c) => c.number).sort())
    assert.equal(listed.length, late ? unit.figures.handled - unit.figures.handled_on_time : behind.length)
    await shot(page, 'b-units-drill')

    // The workbook: its ranking sheet and its chart sheet, read back by openpyxl.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('evaluation-xlsx').click()])
    assert.equal(download.suggestedFilename(), `evaluation-unit-${from}-${to}.xlsx`)
    // openpyxl goes by the file's extension.
    const file = join(ARTIFACTS, 'evaluation-units.xlsx')
    await download.saveAs(file)
    const read = execFileSync('python3', ['-c', `
import json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
sheet = book["ranking"]
rows = [[c.value for c in r] for r in sheet.iter_rows()]
print(json.dumps({"sheets": book.sheetnames, "charts": len(book.chartsheets), "header": rows[0], "keys": [r[1] for r in rows[1:]]}))
`, file]).toString()
    const book = JSON.parse(read)
    assert.deepEqual(book.sheets, ['ranking', 'chart'])
    assert.equal(book.charts, 1)
    assert.deepEqual(book.header.slice(0, 6), ['rank', 'key', 'name', 'role', 'grade', 'composite'])
    assert.deepEqual(book.keys, units.rows.map((r) => r.key))
    await page.context().close()
  })

  it('(b) the page in English, and a center leader has it too', async () => {
    const page = await newPage('leader')
    await signIn(page, 'leader')
    await setLanguage(page, 'en')
    await page.getByTestId('nav-evaluation').click()
    await page.locator('[data-testid="evaluation-result"]').waitFor()
    assert.match(await page.locator('h1').textContent(), /Evaluation/)
    assert.equal((await page.locator('[data-testid="evaluation-levels"] [data-level="unit"]').textContent()).trim(), 'Units')
    await page.locator('[data-testid="evaluation-levels"] [data-level="position"]').click()
    await page.locator('[data-testid="evaluation-result"][data-level="position"]').waitFor()
    await page.getByTestId('evaluation-row').first().waitFor()
    assert.match(await page.locator('[data-testid="evaluation-table"] thead').textContent(), /Composite/)
    // A bad period is refused, naming the field.
    await page.getByTestId('evaluation-from').fill('2026-12-31')
    await page.getByTestId('evaluation-to').fill('2026-01-01')
    await page.getByTestId('evaluation-run').click()
    await page.getByTestId('evaluation-error').waitFor()
    assert.match(await page.getByTestId('evaluation-error').textContent(), /from/)
    await shot(page, 'c-positions-en')
    await setLanguage(page, 'zh')
    await page.context().close()
  })

  it('(c) an operator has no evaluation menu entry, and the API refuses them', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await page.getByTestId('nav-units').waitFor()
    assert.equal(await page.getByTestId('nav-evaluation').count(), 0)
    const refused = await api.call('GET', '/evaluation?level=district&from=2026-11-01&to=2026-11-30', await tokenOf('operator'))
    assert.equal(refused.status, 403)
    await page.context().close()
  })

  it('(d) no errors in any browser console but the refused period\'s 422', () => {
    assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), [])
  })
})
