// Imports on the administration page. An admin uploads a large census CSV whose last line has a
// longitude that is no number: the upload's progress bar moves (the browser's upload is slowed),
// the server checks, and the refusal names line and column; nothing was imported (the API's
// census is as it was). A small valid CSV of two new components inside a demo unit grid is
// imported and counted. A boundary file with an unclosed ring is refused, naming the feature,
// and no boundary changed. The section speaks English: a GeoJSON census with a wrong unit grid
// is refused naming the feature and property, a boundary file with a bad code names its
// feature. A dispatcher has no way in and the API refuses their imports. Last (it replaces the
// demo's whole community level), an admin re-imports one street's communities after a
// confirmation naming the level and the file's count, and follows the relocation to its end.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, sessionsOf, setLanguage, signIn as signInAt } from './harness.mjs'
import { assertNoAdminWayIn, focused, openAdminSection, recordingPage, startStage, stopStage, text } from './adminKit.mjs'

const HEADER = 'id,class,name,lon,lat,unit_grid,owner_unit,maintainer_unit,supervising_department,status,setting,location_text,initial_date,change_date,source'
const STREET = '310101002'
const OTHER_STREET = '310101013'

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const signIn = (page, username) => signInAt(page, ui, username)
/** The refusals the tests provoke are logged by the browser as failed loads: those alone are expected. */
const EXPECTED = /Failed to load resource: the server responded with a status of (422|403)/
const newPage = (who, options = {}) => recordingPage(chrome, who, errors, { expected: EXPECTED, ...options })

before(async () => ({ server, ui, chrome, api } = await startStage()))
after(() => stopStage({ server, ui, chrome }))

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `admin-imports-${name}.png`), fullPage: true })

/** From the header's menu to the imports section. */
const openImports = (page) => openAdminSection(page, 'imports', 'admin-imports')

async function get(path, who = 'admin') {
  const r = await api.call('GET', path, await tokenOf(who))
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** Sends a file as the UI would, with a bearer token instead of the cookie. */
async function put(path, who, contentType, body) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method: 'PUT', headers: { authorization: `Bearer ${await tokenOf(who)}`, 'content-type': contentType }, body,
  })
  return { status: res.status, json: await res.json().catch(() => null) }
}

/** Components in the census: the rows of its CSV export, header left out. */
async function censusSize() {
  const res = await fetch(`${server.url}/api/v1/components.csv`, { headers: { authorization: `Bearer ${await tokenOf('admin')}` } })
  assert.equal(res.status, 200)
  return (await res.text()).split('\n').filter((l) => l.trim()).length - 1
}

const componentStatus = async (id) => (await api.call('GET', `/components/${id}`, await tokenOf('admin'))).status

/** A new component's row at an existing one's place (so inside its unit grid), with its maintainer. */
const row = (id, name, c, lon = c.location.lon) =>
  [id, c.class, name, lon, c.location.lat, c.unit_grid, c.owner_unit ?? '', c.maintainer_unit ?? '', '', 'in_use', '人行道', '', '2026-12-01', '', 'e2e'].join(',')
/** Ids of the demo's first class (10101): area 310101, class 0101, and a sequence the demo does not use. */
const newId = (n) => `3101010101${String(900000 + n)}`

/** One street's communities as an import file: the map's features, each with its parent. */
async function communitiesOf(street) {
  const collection = await get(`/geo/areas?level=community&parent=${street}`)
  for (const f of collection.features) f.properties.parent = street
  return collection
}
const communityCount = async (street) => (await get(`/geo/areas?level=community&parent=${street}`)).features.length

describe('imports', { timeout: 180_000 }, () => {
  let sample
  before(async () => {
    sample = (await get('/components?limit=2&class=10101')).items
    assert.equal(sample.length, 2)
    assert.ok(sample.every((c) => c.unit_grid && c.maintainer_unit), JSON.stringify(sample))
  })

  it('an admin sees a large census refused at its bad line, imports a good one, and a boundary file with an unclosed ring is refused', async () => {
    const before = await censusSize()
    const page = await newPage('admin', { downloads: true })
    await signIn(page, 'admin')
    await openImports(page)
    assert.equal(await page.getByTestId('admin-tab-imports').getAttribute('aria-current'), 'page')
    assert.equal(await text(page.getByTestId('admin-section-title')), '数据导入')
    assert.equal(await page.getByTestId('imports-census-current-csv').getAttribute('href'), '/api/v1/components.csv')
    assert.equal(await page.getByTestId('imports-census-current-geojson').getAttribute('href'), '/api/v1/components.geojson')
    // the empty template is the header, as the server wants it
    const [template] = await Promise.all([page.waitForEvent('download'), page.getByTestId('imports-census-template').click()])
    assert.equal(readFileSync(await template.path(), 'utf8'), `\uFEFF${HEADER}\r\n`)
    await shot(page, 'section')

    // ~600 KB: thousands of good rows, then a longitude that is no number on the last line
    const good = Array.from({ length: 6000 }, (_, i) => row(newId(i), `E2E井盖${i}`, sample[i % 2]))
    const bad = `${HEADER}\n${good.join('\n')}\n${row(newId(6000), 'E2E井盖坏', sample[0], 'east')}\n`
    const badLine = good.length + 2
    // the upload is slowed so that its progress shows; what the bar and the status said is kept
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 })
    await page.evaluate(() => {
      const seen = (window.__seen = { values: [], checking: false })
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid="imports-census-progress"]')
        const now = bar?.getAttribute('aria-valuenow')
        if (now !== null && now !== undefined && seen.values.at(-1) !== Number(now)) seen.values.push(Number(now))
        if (document.querySelector('[data-testid="imports-census-checking"]')) seen.checking = true
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] })
    })
    await page.getByTestId('imports-census-file').setInputFiles({ name: 'census-bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) })
    await page.getByTestId('imports-census-submit').click()
    await page.getByTestId('imports-census-progress').waitFor()
    const bar = page.getByTestId('imports-census-progress')
    assert.equal(await bar.getAttribute('role'), 'progressbar')
    await shot(page, 'uploading')
    const refusal = page.getByTestId('imports-census-error')
    await refusal.waitFor()
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    const seen = await page.evaluate(() => window.__seen)
    assert.ok(seen.values.some((v) => v > 0 && v < 100), `the bar moved: ${JSON.stringify(seen.values)}`)
    assert.deepEqual([...seen.values].sort((a, b) => a - b), seen.values, 'the bar never goes back')
    assert.ok(seen.checking, 'the server was checking once the file was sent')

    assert.equal(await refusal.getAttribute('role'), 'alert')
    assert.match(await text(refusal), /^导入被拒绝，未导入任何数据。/)
    const problem = page.getByTestId('imports-census-problem')
    assert.equal(await problem.count(), 1)
    assert.equal(await problem.getAttribute('data-line'), String(badLine))
    assert.equal(await problem.getAttribute('data-column'), 'lon')
    assert.equal(await text(problem), `第 ${badLine} 行 · 列 lon：'east' is not a number`)
    await focused(page, 'imports-census-error')
    await shot(page, 'census-refused')
    // all or nothing: not even the good lines are in
    assert.equal(await componentStatus(newId(0)), 404)
    assert.equal(await censusSize(), before)

    // two new components inside the demo's unit grids, chosen and sent from the keyboard
    const small = `\uFEFF${HEADER}\n${row(newId(7001), 'E2E上水井盖A', sample[0])}\n${row(newId(7002), 'E2E上水井盖B', sample[1])}\n`
    await page.getByTestId('imports-census-file').setInputFiles({ name: 'census.csv', mimeType: 'text/csv', buffer: Buffer.from(small) })
    assert.equal(await page.getByTestId('imports-census-error').count(), 0)
    await page.getByTestId('imports-census-submit').focus()
    await page.keyboard.press('Enter')
    const result = page.getByTestId('imports-census-result')
    await result.waitFor()
    assert.equal(await page.getByTestId('imports-census-imported').getAttribute('data-imported'), '2')
    assert.equal(await text(page.getByTestId('imports-census-imported')), '已导入 2 个部件')
    // what changed: two new components, nothing replaced
    const counts = Object.fromEntries(await page.getByTestId('imports-census-counts').locator('[data-key]')
      .evaluateAll((items) => items.map((item) => [item.dataset.key, item.dataset.count])))
    assert.deepEqual(counts, { added: '2', replaced: '0', unchanged: '0' })
    assert.match(await text(page.getByTestId('imports-census-counts')), /新增\s*2/)
    await focused(page, 'imports-census-result')
    await shot(page, 'census-imported')
    const made = await get(`/components/${newId(7001)}`)
    assert.deepEqual([made.name, made.unit_grid, made.maintainer_unit], ['E2E上水井盖A', sample[0].unit_grid, sample[0].maintainer_unit])
    assert.equal(await componentStatus(newId(7002)), 200)
    assert.equal(await censusSize(), before + 2)

    // a community whose ring does not close: the feature is named, no boundary changes
    const communitiesBefore = [await communityCount(STREET), await communityCount(OTHER_STREET)]
    const file = await communitiesOf(STREET)
    const ring = file.features[1].geometry.coordinates[0][0]
    file.features[1].geometry.coordinates[0][0] = ring.slice(0, -1)
    await page.getByTestId('imports-boundaries-file').setInputFiles({ name: 'communities.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) })
    // read in the browser: the count, and the level its codes have, chosen for the admin
    const summary = page.getByTestId('imports-boundaries-file-summary')
    await summary.waitFor()
    assert.equal(await summary.getAttribute('data-features'), String(file.features.length))
    assert.equal(await text(summary), `${file.features.length} 个要素 · 代码为居村级（12 位）`)
    assert.equal(await page.locator('[data-testid="imports-boundaries-level-communities"] input').isChecked(), true)
    await page.getByTestId('imports-boundaries-submit').click()
    const dialog = page.getByTestId('imports-replace-dialog')
    await dialog.waitFor()
    assert.equal(await text(page.locator('.el-dialog__title')), '替换全部居村边界？')
    assert.match(await text(dialog), new RegExp(`文件“communities.geojson”含 ${file.features.length} 个要素。确认后，现有的全部居村边界将被这 ${file.features.length} 个替换`))
    // the focus starts on 取消
    await focused(page, 'imports-replace-dialog-cancel')
    await page.getByTestId('imports-replace-dialog-confirm').click()
    const refused = page.getByTestId('imports-boundaries-error')
    await refused.waitFor()
    const feature = page.getByTestId('imports-boundaries-problem')
    assert.deepEqual([await feature.getAttribute('data-feature'), await feature.getAttribute('data-column'), await feature.getAttribute('data-field')], ['1', 'geometry', 'features[1]'])
    assert.equal(await text(feature), '第 2 个要素（features[1]） · 几何图形：coordinates are not closed rings of [lon, lat] numbers')
    assert.match(await text(refused), /^导入被拒绝，未导入任何数据。/)
    assert.equal(await page.getByTestId('imports-relocation').count(), 0)
    await shot(page, 'boundaries-refused')
    assert.deepEqual([await communityCount(STREET), await communityCount(OTHER_STREET)], communitiesBefore)
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the section speaks English: a GeoJSON census with a wrong unit grid and a boundary file with a bad code are refused, naming the feature', async () => {
    const before = await censusSize()
    const page = await newPage('admin-en')
    await signIn(page, 'admin')
    await setLanguage(page, 'en')
    await openImports(page)
    assert.equal(await text(page.getByTestId('admin-tab-imports')), 'Imports')
    assert.equal(await text(page.getByTestId('admin-section-title')), 'Imports')
    assert.equal(await text(page.locator('#imports-census-title')), 'Component census')
    assert.equal(await text(page.locator('#imports-boundaries-title')), 'Boundaries')

    const point = (id, c, properties = {}) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: [c.location.lon, c.location.lat] },
      properties: { id, class: c.class, name: `E2E ${id}`, unit_grid: c.unit_grid, maintainer_unit: c.maintainer_unit, ...properties },
    })
    const wrongGrid = sample[0].unit_grid === sample[1].unit_grid ? '31010100200199' : sample[1].unit_grid
    const census = { type: 'FeatureCollection', features: [point(newId(8001), sample[0]), point(newId(8002), sample[0], { unit_grid: wrongGrid })] }
    await page.getByTestId('imports-census-file').setInputFiles({ name: 'census.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(census)) })
    await page.getByTestId('imports-census-submit').click()
    const problem = page.getByTestId('imports-census-problem')
    await problem.waitFor()
    assert.deepEqual([await problem.getAttribute('data-feature'), await problem.getAttribute('data-column')], ['1', 'unit_grid'])
    assert.equal(await text(problem), `Feature 2 (features[1]) · property unit_grid: the location lies in unit grid ${sample[0].unit_grid}, not ${wrongGrid}`)
    const said = (await page.getByTestId('imports-census-error').innerText()).split('\n').map((l) => l.trim()).filter(Boolean)
    assert.deepEqual([said[0], said.at(-1)], ['Import refused: nothing was imported.', 'Correct the file and import it again.'])
    await shot(page, 'english-census-refused')
    assert.equal(await componentStatus(newId(8001)), 404)

    // the good feature alone is imported
    census.features.pop()
    await page.getByTestId('imports-census-file').setInputFiles({ name: 'census.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(census)) })
    await page.getByTestId('imports-census-submit').click()
    await page.getByTestId('imports-census-result').waitFor()
    assert.equal(await text(page.getByTestId('imports-census-imported')), '1 component imported')
    assert.match(await text(page.getByTestId('imports-census-counts')), /Added\s*1/)
    assert.equal(await componentStatus(newId(8001)), 200)
    assert.equal(await censusSize(), before + 1)

    // a community code with a letter in it
    const file = await communitiesOf(STREET)
    file.features[2].properties.code = '31010100200X'
    await page.getByTestId('imports-boundaries-level-communities').click()
    await page.getByTestId('imports-boundaries-file').setInputFiles({ name: 'bad-code.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) })
    const summary = page.getByTestId('imports-boundaries-file-summary')
    await summary.waitFor()
    // codes of several lengths: no level is said of the file
    assert.equal(await text(summary), `${file.features.length} features`)
    await page.getByTestId('imports-boundaries-submit').click()
    await page.getByTestId('imports-replace-dialog').waitFor()
    assert.equal(await text(page.locator('.el-dialog__title')), 'Replace all communities?')
    // Escape leaves without importing, and the focus is back on the button
    await page.keyboard.press('Escape')
    await page.getByTestId('imports-replace-dialog').waitFor({ state: 'detached' })
    await focused(page, 'imports-boundaries-submit')
    assert.equal(await page.getByTestId('imports-boundaries-error').count(), 0)
    await page.keyboard.press('Enter')
    await page.getByTestId('imports-replace-dialog-confirm').click()
    const feature = page.getByTestId('imports-boundaries-problem')
    await feature.waitFor()
    assert.deepEqual([await feature.getAttribute('data-feature'), await feature.getAttribute('data-column')], ['2', 'code'])
    assert.equal(await text(feature), "Feature 3 (features[2]) · property code: properties.code '31010100200X' is not a 12-digit code of communities")
    await shot(page, 'english-boundaries-refused')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no way in, and the API refuses their imports', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await assertNoAdminWayIn(page, ui, 'imports', 'admin-imports')
    await shot(page, 'dispatcher-no-access')
    await page.context().close()

    const census = await put('/components', 'dispatcher', 'text/csv', `${HEADER}\n${row(newId(9001), 'E2E', sample[0])}\n`)
    assert.equal(census.status, 403, JSON.stringify(census.json))
    assert.equal(census.json.error.code, 'forbidden')
    const boundaries = await put('/geo/boundaries/communities', 'dispatcher', 'application/geo+json', JSON.stringify(await communitiesOf(STREET)))
    assert.equal(boundaries.status, 403, JSON.stringify(boundaries.json))
    assert.equal(await componentStatus(newId(9001)), 404)
    assert.deepEqual(errors, [])
  })

  // last: it replaces the demo's whole community level with one street's
  it("an admin replaces the community level with one street's communities and follows the relocation to its end", async () => {
    const file = await communitiesOf(STREET)
    assert.ok(await communityCount(OTHER_STREET) > 0)
    const page = await newPage('admin-relocation', { downloads: true })
    await signIn(page, 'admin')
    await openImports(page)
    await page.getByTestId('imports-boundaries-level-communities').click()
    // the current communities as an import file: each with its parent
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('imports-boundaries-template').click()])
    assert.equal(download.suggestedFilename(), 'cityops-boundaries-communities.geojson')
    const current = JSON.parse(readFileSync(await download.path(), 'utf8'))
    const ours = current.features.find((f) => f.properties.code === file.features[0].properties.code)
    assert.deepEqual(ours.properties, { code: file.features[0].properties.code, parent: STREET, name: file.features[0].properties.name })

    await page.getByTestId('imports-boundaries-file').setInputFiles({ name: 'nanjing-east.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) })
    await page.getByTestId('imports-boundaries-file-summary').waitFor()
    await page.getByTestId('imports-boundaries-submit').click()
    await page.getByTestId('imports-replace-dialog').waitFor()
    assert.match(await text(page.getByTestId('imports-replace-dialog')), new RegExp(`含 ${file.features.length} 个要素`))
    await page.getByTestId('imports-replace-dialog-confirm').click()
    const result = page.getByTestId('imports-boundaries-imported')
    await result.waitFor()
    assert.equal(await text(result), `已导入 ${file.features.length} 个居村边界`)
    assert.equal(await result.getAttribute('data-level'), 'communities')

    const relocation = page.getByTestId('imports-relocation')
    await relocation.waitFor()
    const jobId = await relocation.getAttribute('data-job')
    await page.locator('[data-testid="imports-relocation"][data-state="done"]').waitFor({ timeout: 60_000 })
    await shot(page, 'relocation-done')
    assert.match(await text(page.getByTestId('imports-relocation-status')), /^重新定位完成，用时 [\d.]+ 秒。$/)
    assert.equal(await page.getByTestId('imports-relocation-progress').count(), 0)
    // what the page shows is what the job says
    const job = await get(`/geo/relocations/${jobId}`)
    assert.equal(job.state, 'done')
    for (const kind of ['cases', 'devices', 'components']) {
      const shown = page.locator(`[data-testid="imports-relocation-counts"] tr[data-kind="${kind}"]`)
      assert.deepEqual([await shown.getAttribute('data-checked'), await shown.getAttribute('data-moved')], [String(job[kind].checked), String(job[kind].moved)], kind)
    }
    assert.ok(job.components.checked > 0)
    assert.equal(await page.getByTestId('imports-relocation-left').getAttribute('data-count'), String(job.cases_in_another_district.length))
    // the level is the file's now
    assert.equal(await communityCount(STREET), file.features.length)
    assert.equal(await communityCount(OTHER_STREET), 0)
    await page.context().close()
    assert.deepEqual(errors, [])
  })
})
