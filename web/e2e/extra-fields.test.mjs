// Extra fields per class (表单构建, issue 18 item 5) through the UI: an admin gives 10102 (污水井盖)
// a required number, a choice, a day and a photo in the class dialog, a repeated key named
// beside it before anything is sent; an operator's report of the class (through the API: there
// is no staff intake form yet) shows them on the case page, and the operator fills them with
// 补充信息, picking a photo uploaded there; the shift lead's filing asks the required diameter;
// the values show, in English too. A dispatcher is offered no such form and the API refuses
// one. A citizen answers the questions of 10101's class on the citizen page, and an answer the
// class no longer takes is named beside its question.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, makePng, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `XF${Date.now().toString(36)}`
const CODE = '10102'
const HUANGPU = { lon: '121.4837', lat: '31.2369' }

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who) => openPage(chrome, who, errors, { consoleErrors: false, timeout: 30_000 })
const signIn = (page, username) => signInAt(page, ui, username)
/** What the tests hand on to each other: the case, its photo. */
const state = {}

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

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `extra-fields-${name}.png`), fullPage: true })
const focused = (page, testId) => page.waitForFunction((id) => document.activeElement?.dataset?.testid === id, testId)

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}
async function category(code = CODE) {
  const r = await call('admin', 'GET', `/categories/${code}`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}
async function caseNow() {
  const r = await call('operator', 'GET', `/cases/${state.id}`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}

/** Picks the option labelled exactly `label` in the Element Plus select `select`. */
/** Opens `select` and chooses `label`; when the list closes under the click (it can while it
 * is still opening on a busy machine), opens it again, up to three times. */
async function pick(page, select, label) {
  const item = page.locator('.el-select-dropdown__item:visible', { hasText: new RegExp(`^\\s*${label}\\s*$`) }).first()
  for (let attempt = 0; ; attempt++) {
    await select.click()
    try {
      await item.click({ timeout: 5_000 })
      return
    } catch (error) {
      if (attempt === 2) throw error
    }
  }
}

async function openCase(page) {
  await page.goto(`${ui.url}/cases/${state.id}`)
  await page.getByTestId('case-number').waitFor()
}
const extra = (page, key) => page.locator(`[data-testid="case-extra-fields"] [data-testid="extra-field"][data-key="${key}"]`)
const expectState = (page, s) => page.locator(`[data-testid="case-state"][data-state="${s}"]`).waitFor()

/** The cells of one CSV line (no line breaks inside cells in these rows). */
function csvCells(line) {
  const cells = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted && c === '"' && line[i + 1] === '"') { cell += '"'; i++ }
    else if (c === '"') quoted = !quoted
    else if (c === ',' && !quoted) { cells.push(cell); cell = '' }
    else cell += c
  }
  cells.push(cell)
  return cells
}

describe('extra fields per class', { timeout: 240_000 }, () => {
  it('an admin gives 10102 a required number, a choice, a day and a photo; a repeated key is named beside it', async () => {
    assert.deepEqual((await category()).fields, [], 'the demo catalogue already has fields on 10102')
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await page.getByTestId('nav-admin').click()
    await page.getByTestId('admin-tab-categories').click()
    await page.waitForURL(/\/admin\/categories/)
    await page.getByTestId('categories-q').fill(CODE)
    const row = page.locator(`[data-testid="categories-table"] tr[data-code="${CODE}"]`)
    await page.waitForFunction((c) => {
      const rows = [...document.querySelectorAll('[data-testid="categories-table"] tbody tr')]
      return rows.length === 1 && rows[0].dataset.code === c
    }, CODE)
    assert.equal(await row.getByTestId('category-row-fields').getAttribute('data-count'), '0')

    await row.getByTestId('category-edit').click()
    await focused(page, 'category-zh')
    await page.getByTestId('category-fields-empty').waitFor()
    const fields = page.locator('[data-testid="category-field"]')
    /** Adds a row (its key takes the focus) and fills it. */
    async function add({ key, zh, en, kind, required, choices }) {
      await page.getByTestId('category-field-add').click()
      await focused(page, 'category-field-key')
      await page.keyboard.type(key)
      const f = fields.last()
      await f.getByTestId('category-field-zh').fill(zh)
      await f.getByTestId('category-field-en').fill(en)
      if (kind) await pick(page, f.getByTestId('category-field-kind'), kind)
      if (required) await f.getByTestId('category-field-required').click()
      if (choices) await f.getByTestId('category-field-choices').fill(choices)
    }
    await add({ key: 'diameter_mm', zh: '管径（毫米）', en: 'Diameter (mm)', kind: '数字', required: true })
    await add({ key: 'material', zh: '材质', en: 'Material', kind: '单选', choices: '铸铁\n复合材料' })
    // the photo's key repeats the material's at first
    await add({ key: 'material', zh: '近景照片', en: 'Close-up', kind: '照片' })
    await add({ key: 'installed', zh: '安装日期', en: 'Installed', kind: '日期' })
    assert.equal(await fields.count(), 4)
    await page.getByTestId('category-save').click()
    const refused = fields.nth(2).getByTestId('category-field-error-key')
    await refused.waitFor()
    assert.equal(await text(refused), '键名与前面的字段重复')
    assert.equal(await refused.getAttribute('data-field'), 'fields[2].key')
    assert.equal(await fields.nth(2).getByTestId('category-field-key').getAttribute('aria-invalid'), 'true')
    assert.deepEqual((await category()).fields, [], 'nothing was sent')
    await shot(page, 'admin-refused')
    await fields.nth(2).getByTestId('category-field-key').fill('close_up')

    // the day goes before the photo, from the keyboard
    await fields.nth(3).getByTestId('category-field-up').focus()
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="category-field"]')].map((r) => r.dataset.key).join() === 'diameter_mm,material,installed,close_up')
    await focused(page, 'category-field-up')
    // the problem named by its row's place went with the move
    assert.equal(await page.locator('[data-testid="category-field-error-key"]').count(), 0)
    assert.equal(await fields.nth(3).getByTestId('category-field-key').getAttribute('aria-invalid'), 'false')
    await shot(page, 'admin-fields')
    await fields.nth(0).getByTestId('category-field-key').press('Enter')

    await page.locator('[data-testid="categories-notice"]', { hasText: `已保存类别 ${CODE}` }).waitFor()
    await page.getByTestId('category-form').waitFor({ state: 'detached' })
    await row.locator('[data-testid="category-row-fields"][data-count="4"]').waitFor()
    assert.equal(await text(row.getByTestId('category-row-fields')), '4 项 必填 1 项')
    const saved = await category()
    assert.deepEqual(saved.fields, [
      { key: 'diameter_mm', zh: '管径（毫米）', en: 'Diameter (mm)', kind: 'number', required: true, choices: [] },
      { key: 'material', zh: '材质', en: 'Material', kind: 'choice', required: false, choices: ['铸铁', '复合材料'] },
      { key: 'installed', zh: '安装日期', en: 'Installed', kind: 'date', required: false, choices: [] },
      { key: 'close_up', zh: '近景照片', en: 'Close-up', kind: 'photo', required: false, choices: [] },
    ])
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('an operator sees the fields of a report of the class and fills them, picking a photo uploaded there', async () => {
    const created = await call('operator', 'POST', '/cases', {
      source: 'department', description: `${TAG} 中山东一路一处污水井盖破损`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
      category_hint: CODE, fields: { material: '铸铁' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.json))
    assert.deepEqual(created.json.fields, { material: '铸铁' })
    const accepted = await call('operator', 'POST', `/cases/${created.json.id}/accept`, { version: created.json.version })
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json))
    state.id = created.json.id

    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openCase(page)
    await page.getByTestId('case-extra-fields').waitFor()
    const keys = await page.locator('[data-testid="case-extra-fields"] [data-testid="extra-field"]').evaluateAll((es) => es.map((e) => e.dataset.key))
    assert.deepEqual(keys, ['diameter_mm', 'material', 'installed', 'close_up'])
    assert.equal(await text(page.locator('[data-testid="case-extra-fields"] dt').first()), '管径（毫米）')
    assert.equal(await text(extra(page, 'material')), '铸铁')
    assert.equal(await text(extra(page, 'installed')), '—')
    // the required diameter is missing, and the page says it is needed to file
    assert.equal(await extra(page, 'diameter_mm').getAttribute('data-missing'), 'true')
    assert.equal(await text(extra(page, 'diameter_mm').getByTestId('extra-missing')), '立案前必填')

    // a photo first, then the form
    await page.getByTestId('photo-input').setInputFiles({ name: 'close-up.png', mimeType: 'image/png', buffer: await makePng() })
    await page.locator('[data-testid="case-photos"] img').first().waitFor()
    const photo = (await caseNow()).attachments[0]
    assert.ok(photo, 'the photo is on the case')
    state.photo = photo

    assert.equal(await text(page.getByTestId('action-set-fields')), '补充信息')
    await page.getByTestId('action-set-fields').click()
    const form = page.locator('[data-testid="command-form"][data-command="set-fields"]')
    await form.waitFor()
    const kinds = await form.locator('[data-testid="extra-input"]').evaluateAll((es) => es.map((e) => `${e.dataset.key}:${e.dataset.kind}`))
    assert.deepEqual(kinds, ['diameter_mm:number', 'material:choice', 'installed:date', 'close_up:photo'])
    // a diameter that is no number is named before sending
    await form.getByTestId('extra-value-diameter_mm').fill('七百')
    await form.getByTestId('command-submit').click()
    assert.equal(await text(form.getByTestId('extra-error-diameter_mm')), '请输入数字')
    await form.getByTestId('extra-value-diameter_mm').fill('')
    await pick(page, form.getByTestId('extra-value-material'), '复合材料')
    await form.getByTestId('extra-value-installed').fill('2019-05-01')
    await form.locator(`[data-testid="extra-photo"][data-attachment="${photo}"] img`).waitFor()
    await form.locator(`[data-testid="extra-photo"][data-attachment="${photo}"]`).click()
    await shot(page, 'operator-form')
    const sent = page.waitForRequest((r) => r.url().endsWith(`/cases/${state.id}/set-fields`))
    await form.getByTestId('command-submit').click()
    assert.deepEqual((await sent).postDataJSON().fields, { material: '复合材料', installed: '2019-05-01', close_up: photo })
    await form.waitFor({ state: 'detached' })

    await page.locator('[data-testid="extra-field"][data-key="installed"][data-value="2019-05-01"]').waitFor()
    assert.equal(await text(extra(page, 'installed')), '2019年5月1日')
    assert.equal(await text(extra(page, 'material')), '复合材料')
    await extra(page, 'close_up').locator(`[data-attachment="${photo}"] img`).waitFor()
    assert.equal(await extra(page, 'diameter_mm').getAttribute('data-missing'), 'true')
    const entry = page.locator('[data-testid="timeline"] > li[data-action="set_fields"]')
    await entry.waitFor()
    assert.match(await text(entry.getByTestId('timeline-fields')), /^补充信息：材质 复合材料；安装日期 2019年5月1日；近景照片 已选照片$/)
    const now = await caseNow()
    assert.deepEqual(now.fields, { material: '复合材料', installed: '2019-05-01', close_up: photo })
    await shot(page, 'operator-filled')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the shift lead files it: the filing asks the required diameter; once filed it cannot be cleared', async () => {
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openCase(page)
    await page.getByTestId('action-file').click()
    const form = page.locator('[data-testid="command-form"][data-command="file"]')
    await form.getByTestId('file-asks-fields').waitFor()
    assert.match(await text(form.getByTestId('file-asks-fields')), new RegExp(`类别 ${CODE} 立案前须填写`))
    const asked = await form.locator('[data-testid="extra-input"]').evaluateAll((es) => es.map((e) => e.dataset.key))
    assert.deepEqual(asked, ['diameter_mm'])
    await form.getByTestId('command-submit').click()
    assert.equal(await text(form.getByTestId('extra-error-diameter_mm')), '必填')
    await form.getByTestId('extra-value-diameter_mm').fill('700')
    await shot(page, 'file-form')
    const sent = page.waitForRequest((r) => r.url().endsWith(`/cases/${state.id}/file`))
    await form.getByTestId('extra-value-diameter_mm').press('Enter')
    const body = (await sent).postDataJSON()
    assert.deepEqual([body.category, body.fields], [CODE, { diameter_mm: 700 }])
    await form.waitFor({ state: 'detached' })
    await expectState(page, 'filed')
    await page.locator('[data-testid="extra-field"][data-key="diameter_mm"][data-missing="false"]').waitFor()
    assert.equal(await text(extra(page, 'diameter_mm')), '700')
    assert.equal(await page.getByTestId('extra-missing').count(), 0)
    assert.equal((await caseNow()).fields.diameter_mm, 700)

    // filed: the required diameter may not be emptied (said before sending), the others may
    await page.getByTestId('action-set-fields').click()
    const set = page.locator('[data-testid="command-form"][data-command="set-fields"]')
    await set.waitFor()
    await set.getByTestId('extra-value-diameter_mm').fill('')
    await set.getByTestId('command-submit').click()
    assert.equal(await text(set.getByTestId('extra-error-diameter_mm')), '必填')
    await set.getByTestId('extra-value-diameter_mm').fill('650')
    await set.getByTestId('extra-value-installed').fill('')
    await set.getByTestId('command-submit').click()
    await set.waitFor({ state: 'detached' })
    await page.locator('[data-testid="extra-field"][data-key="diameter_mm"][data-value="650"]').waitFor()
    assert.equal(await text(extra(page, 'installed')), '—')
    // the timeline (read again after the change) has the operator's entry, then this one
    const newest = page.locator('[data-testid="timeline"] > li[data-action="set_fields"]').nth(1)
    await newest.waitFor()
    assert.equal(await text(newest.getByTestId('timeline-fields')), '补充信息：管径（毫米） 650；安装日期 已清除')
    const now = await caseNow()
    assert.deepEqual(now.fields, { diameter_mm: 650, material: '复合材料', close_up: state.photo })
    // the server refuses the clearing the page held back
    const cleared = await call('shiftlead', 'POST', `/cases/${state.id}/set-fields`, { version: now.version, fields: { diameter_mm: null } })
    assert.equal(cleared.status, 422, JSON.stringify(cleared.json))
    assert.equal(cleared.json.error.field, 'fields.diameter_mm')
    await shot(page, 'filed')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the case page speaks English', async () => {
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await openCase(page)
    await page.getByTestId('case-extra-fields').waitFor()
    assert.equal(await text(page.locator('#case-extra-title')), 'Extra fields')
    // the filed class in English, from the catalogue (the case keeps the Chinese name it was filed under)
    const { en } = await category()
    await page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent.trim() === want, ['case-category', `${CODE} ${en}`])
    const labels = await page.locator('[data-testid="case-extra-fields"] dt').allTextContents()
    assert.deepEqual(labels.map((l) => l.trim()), ['Diameter (mm)', 'Material', 'Installed', 'Close-up'])
    assert.equal(await text(extra(page, 'diameter_mm')), '650')
    assert.equal(await text(page.getByTestId('action-set-fields')), 'Extra fields')
    await page.getByTestId('action-set-fields').click()
    const form = page.locator('[data-testid="command-form"][data-command="set-fields"]')
    await form.waitFor()
    await form.getByTestId('extra-value-installed').fill('2020-03-15')
    await form.getByTestId('command-submit').click()
    await form.waitFor({ state: 'detached' })
    await page.locator('[data-testid="extra-field"][data-key="installed"][data-value="2020-03-15"]').waitFor()
    assert.equal(await text(extra(page, 'installed')), 'March 15, 2020')
    const newest = page.locator('[data-testid="timeline"] > li[data-action="set_fields"]').nth(2)
    await newest.waitFor()
    assert.equal(await text(newest.getByTestId('timeline-fields')), 'Extra fields: Installed March 15, 2020')
    // nothing changed is said, not sent
    await page.getByTestId('action-set-fields').click()
    await form.waitFor()
    await form.getByTestId('command-submit').click()
    assert.equal(await text(form.getByTestId('form-error')), 'Nothing changed')
    await shot(page, 'english')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it("the dispatcher's queue of the class downloads as CSV with a column per extra field", async () => {
    const page = await newPage('dispatcher-export')
    await signIn(page, 'dispatcher')
    await page.goto(`${ui.url}/workbench?queue=to_dispatch`)
    await page.getByTestId('filter-category').fill(CODE)
    const href = await page.getByTestId('export-csv').getAttribute('href')
    assert.equal(href, `/api/v1/cases.csv?state=filed&category=${CODE}`)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()])
    assert.equal(download.suggestedFilename(), 'cases.csv')
    const body = readFileSync(await download.path(), 'utf8')
    assert.ok(body.startsWith('\ufeff'), 'Excel reads the BOM as UTF-8')
    const [header, ...rows] = body.slice(1).trim().split(/\r?\n/)
    const columns = csvCells(header)
    assert.deepEqual(columns.filter((c) => c.startsWith('fields.')), ['fields.diameter_mm', 'fields.material', 'fields.installed', 'fields.close_up'])
    const { number } = await caseNow()
    const row = rows.find((r) => r.startsWith(`${number},`))
    assert.ok(row, `case ${number} is in the file`)
    const cells = csvCells(row)
    assert.equal(cells[columns.indexOf('fields.diameter_mm')], '650')
    assert.equal(cells[columns.indexOf('state')], 'filed')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('a dispatcher is offered no form, and the API refuses one', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await openCase(page)
    await page.getByTestId('case-extra-fields').waitFor()
    await page.getByTestId('case-actions').waitFor()
    assert.equal(await page.getByTestId('action-set-fields').count(), 0)
    assert.equal(await text(extra(page, 'diameter_mm')), '650')
    await page.context().close()
    const now = await call('dispatcher', 'GET', `/cases/${state.id}`)
    assert.equal(now.status, 200)
    assert.ok(!now.json.actions.includes('set-fields'), JSON.stringify(now.json.actions))
    const refused = await call('dispatcher', 'POST', `/cases/${state.id}/set-fields`, { version: now.json.version, fields: { material: '铸铁' } })
    assert.equal(refused.status, 403, JSON.stringify(refused.json))
    assert.equal((await caseNow()).fields.material, '复合材料')
    assert.deepEqual(errors, [])
  })

  it("a citizen answers the questions of a manhole's class; an answer the class no longer takes is named beside it", async () => {
    // 井盖缺失或损坏 is filed under 10101 on the citizen page
    const defs = [
      { key: 'material', zh: '井盖材质', en: 'Cover material', kind: 'choice', choices: ['铸铁', '复合材料', '不清楚'] },
      { key: 'width_cm', zh: '缺口宽度（厘米）', en: 'Gap width (cm)', kind: 'number' },
      { key: 'seen_on', zh: '发现日期', en: 'Seen on', kind: 'date' },
      { key: 'photo', zh: '照片', en: 'Photo', kind: 'photo' },
    ]
    const put = await call('admin', 'PUT', '/categories/10101', { fields: defs })
    assert.equal(put.status, 200, JSON.stringify(put.json))

    const page = await newPage('citizen')
    await page.goto(`${ui.url}/citizen`)
    await page.locator('[data-kind="manhole"]').click()
    await page.getByTestId('citizen-extra').waitFor()
    const asked = await page.locator('[data-testid="citizen-question"]').evaluateAll((es) => es.map((e) => `${e.dataset.key}:${e.dataset.kind}`))
    // the photo is asked of staff, on the case
    assert.deepEqual(asked, ['material:choice', 'width_cm:number', 'seen_on:date'])
    assert.equal(await text(page.locator('[data-testid="citizen-question"] label').first()), '井盖材质')
    await page.getByTestId('citizen-answer-material').selectOption('复合材料')
    await page.getByTestId('citizen-answer-width_cm').fill('30')
    await page.getByTestId('lon').fill(HUANGPU.lon)
    await page.getByTestId('lat').fill(HUANGPU.lat)
    await page.getByTestId('description').fill(`${TAG} 人民广场附近井盖缺了一角`)
    await shot(page, 'citizen-questions')

    // meanwhile the class stops offering 复合材料
    const narrowed = await call('admin', 'PUT', '/categories/10101', { fields: defs.map((d) => (d.key === 'material' ? { ...d, choices: ['铸铁', '不清楚'] } : d)) })
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.json))
    await page.getByTestId('submit').click()
    const refused = page.getByTestId('citizen-error-material')
    await refused.waitFor()
    assert.equal(await text(refused), '请从选项中选择')
    assert.equal(await page.getByTestId('citizen-answer-material').getAttribute('aria-invalid'), 'true')
    await shot(page, 'citizen-refused')

    // the page asked the class again: the choice it no longer offers is gone, the other answers stay
    assert.deepEqual(await page.locator('[data-testid="citizen-answer-material"] option').evaluateAll((os) => os.map((o) => o.value)), ['', '铸铁', '不清楚'])
    assert.equal(await page.getByTestId('citizen-answer-material').inputValue(), '')
    assert.equal(await page.getByTestId('citizen-answer-width_cm').inputValue(), '30')
    await page.getByTestId('citizen-answer-material').selectOption('铸铁')
    assert.equal(await page.getByTestId('citizen-error-material').count(), 0)
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/public/reports'))
    await page.getByTestId('submit').click()
    assert.deepEqual((await sent).postDataJSON().fields, { material: '铸铁', width_cm: 30 })
    await page.getByTestId('report-done').waitFor()
    const number = (await page.getByTestId('case-number').textContent()).trim()
    const reported = await call('operator', 'GET', `/cases/${number}`)
    assert.equal(reported.status, 200)
    assert.deepEqual(reported.json.fields, { material: '铸铁', width_cm: 30 })
    assert.equal(reported.json.category_hint, '10101')
    await shot(page, 'citizen-done')
    await page.context().close()
    // the page gives no questions for a code the catalogue lacks
    assert.equal((await fetch(`${server.url}/api/v1/public/categories/10199/fields`)).status, 404)
    assert.deepEqual(errors, [])
  })
})
