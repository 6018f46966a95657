// The evaluation page: an evaluator ranks the districts and the units of the last thirty days
// with grades, opens the cases behind a unit's numbers (its late handling where there is
// some), downloads the XLSX and a real reader (openpyxl) finds the ranking and the chart
// sheet; a district's composite by month drawn as a chart, and the ranking as CSV (UTF-8 with
// a BOM, for Excel); the page in English; a center leader has it too, an operator neither the
// menu entry nor the API.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
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

/** The records of a CSV text (RFC 4180: quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text) {
  const records = []
  let record = [], field = '', quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++ } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') { record.push(field); field = '' } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      record.push(field); records.push(record); record = []; field = ''
    } else field += ch
  }
  if (field || record.length) { record.push(field); records.push(record) }
  return records
}

/** The API's figures for the chart's months: each month up to the period's end (YYYY-MM-DD). */
async function monthly(level, key, months, to) {
  const token = await tokenOf('evaluator')
  return Promise.all(months.map(async (m) => {
    const [y, mm] = m.split('-').map(Number)
    const last = new Date(Date.UTC(y, mm, 0)).toISOString().slice(0, 10)
    const r = await api.call('GET', `/evaluation?level=${level}&from=${m}-01&to=${last > to ? to : last}`, token)
    assert.equal(r.status, 200, JSON.stringify(r.json))
    return r.json.rows.find((row) => row.key === key)?.composite ?? null
  }))
}


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

  it('(b) an evaluator sees a district\'s composite by month as a chart, and downloads the ranking as CSV', async () => {
    const page = await newPage('evaluator')
    await signIn(page, 'evaluator')
    await page.getByTestId('nav-evaluation').click()
    await page.waitForURL(/\/evaluation/)
    await page.getByTestId('preset-last_30').click()
    await page.locator('[data-testid="evaluation-result"][data-level="district"]').waitFor()
    await page.getByTestId('evaluation-row').first().waitFor()
    const from = await page.getByTestId('evaluation-from').inputValue()
    const to = await page.getByTestId('evaluation-to').inputValue()
    const shown = await page.getByTestId('evaluation-row').evaluateAll((rows) => rows.map((r) => ({
      key: r.dataset.key,
      rank: r.querySelector('td').textContent.trim(),
      subject: r.querySelectorAll('td')[1].textContent,
      grade: r.dataset.grade,
      composite: r.querySelector('[data-testid="evaluation-composite"]').textContent.trim(),
    })))
    assert.ok(shown.length > 0)

    // The trend of a district with figures in more than one of the chart's six months (up to
    // the period's), where one of the first ranked has: its points as the API counts them.
    const months = []
    for (let i = 5; i >= 0; i--) {
      const [y, m] = to.split('-').map(Number)
      const d = new Date(Date.UTC(y, m - 1 - i, 1))
      months.push(d.toISOString().slice(0, 7))
    }
    let pick = null
    for (const row of shown.slice(0, 5)) {
      const expected = await monthly('district', row.key, months, to)
      const n = expected.filter((v) => v !== null).length
      if (n > (pick?.n ?? 0)) pick = { row, expected, n }
      if (n > 1) break
    }
    assert.ok(pick, 'a district has a composite in one of the months')
    await page.locator(`[data-testid="evaluation-row"][data-key="${pick.row.key}"]`).getByTestId('evaluation-trend').click()
    const panel = page.getByTestId('evaluation-trend-panel')
    await panel.waitFor()
    assert.equal(await panel.getAttribute('data-key'), pick.row.key)
    const chart = panel.getByTestId('evaluation-trend-chart')
    await page.locator('[data-testid="evaluation-trend-chart"][data-ready="true"]').waitFor()
    assert.deepEqual((await chart.getAttribute('data-months')).split(' '), months)
    const values = (await chart.getAttribute('data-values')).split(' ').map((v) => (v === '' ? null : Number(v)))
    assert.deepEqual(values, pick.expected)
    assert.match(await panel.locator('h2').textContent(), /：各月综合指标值$/)
    assert.match(await chart.getByRole('img').getAttribute('aria-label'), /：各月综合指标值$/)
    // ECharts drew it: a canvas the size of the box, with the series' coloured line and points on
    // it (the ground is white, the axes and their labels grey).
    const canvas = chart.locator('canvas').first()
    await canvas.waitFor()
    const box = await canvas.boundingBox()
    assert.ok(box.width > 200 && box.height > 100, JSON.stringify(box))
    await page.waitForFunction((el) => {
      const { data } = el.getContext('2d').getImageData(0, 0, el.width, el.height)
      let n = 0
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]]
        if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++
      }
      return n > 4
    }, await canvas.elementHandle())
    await shot(page, 'b-trend')

    // The ranking as CSV: UTF-8 with a byte-order mark (Excel reads it as UTF-8 then), a header,
    // and a line for every district the table shows, with its rank, grade and composite.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('evaluation-csv').click()])
    assert.equal(download.suggestedFilename(), `evaluation-district-${from}-${to}.csv`)
    const file = join(ARTIFACTS, 'evaluation-districts.csv')
    await download.saveAs(file)
    const bytes = readFileSync(file)
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf])
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3))
    const [header, ...records] = parseCsv(text).filter((r) => r.length > 1 || r[0] !== '')
    assert.deepEqual(header.slice(0, 6), ['rank', 'key', 'name', 'role', 'grade', 'composite'])
    assert.ok(records.every((r) => r.length === header.length), 'every line has every column')
    assert.ok(records.length >= shown.length)
    const byKey = new Map(records.map((r) => [r[1], r]))
    for (const row of shown) {
      const line = byKey.get(row.key)
      assert.ok(line, `${row.key} is in the CSV`)
      assert.equal(line[0], row.rank === '—' ? '' : row.rank, row.key)
      assert.equal(line[4], row.grade, row.key)
      assert.equal(line[5], row.composite === '—' ? '' : row.composite, row.key)
      // Chinese names arrive intact, as the table shows them.
      assert.match(line[2], /[\u4e00-\u9fff]/)
      assert.ok(row.subject.includes(line[2]), `${line[2]} in ${row.subject}`)
    }
    await page.context().close()
  })

  it('(c) the page in English, and a center leader has it too', async () => {
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
    // A person's trend, its title and the chart's label in English.
    await page.getByTestId('evaluation-row').first().getByTestId('evaluation-trend').click()
    await page.locator('[data-testid="evaluation-trend-chart"][data-ready="true"]').waitFor()
    assert.match(await page.getByTestId('evaluation-trend-panel').locator('h2').textContent(), /: composite by month$/)
    assert.match(await page.getByTestId('evaluation-trend-chart').getByRole('img').getAttribute('aria-label'), /: composite by month$/)
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

  it('(d) an operator has no evaluation menu entry, and the API refuses them', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await page.getByTestId('nav-units').waitFor()
    assert.equal(await page.getByTestId('nav-evaluation').count(), 0)
    const refused = await api.call('GET', '/evaluation?level=district&from=2026-11-01&to=2026-11-30', await tokenOf('operator'))
    assert.equal(refused.status, 403)
    await page.context().close()
  })

  it('(e) no errors in any browser console but the refused period\'s 422', () => {
    assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), [])
  })
})
