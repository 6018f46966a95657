// The responsibility matrix on the administration page. An admin adds a rule with the keyboard
// (20101 私搭乱建 in 南京东路街道 → 310101-GD), asks "who gets 20101 at 云南中路居委会" of the
// unsaved table and sees 310101-GD with that rule marked, saves with the keyboard, and the API
// has it; a case filed there afterwards is proposed to 310101-GD. A row naming a retired unit,
// then one naming no unit at all, is refused by the server: the line it names is marked in the
// table, and the matrix in force does not change. In English: the section's words, the export
// link's file, a CSV file read into the table as a draft (a bad line marked, a file with no
// owner column refused naming line 1), leaving with unsaved changes asked about, and the changes
// discarded. A dispatcher has no administration menu and the API refuses their PUT (403).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, sessionsOf, setLanguage, signIn as signInAt } from './harness.mjs'
import { assertNoAdminWayIn, focused, openAdminSection, recordingPage, startStage, stopStage, text } from './adminKit.mjs'

const TAG = `MX${Date.now().toString(36)}`
const STREET = '310101002' // 南京东路街道, Huangpu
const COMMUNITY = '310101002001' // 云南中路居委会, in that street
const RETIRED = 'E2E-MX-OLD'

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const signIn = (page, username) => signInAt(page, ui, username)

/** The browser's own line for an answer this test provokes on purpose, the 422 of a refused save, is expected. */
const EXPECTED = /Failed to load resource: the server responded with a status of 422/
const newPage = (who, opts = {}) => recordingPage(chrome, who, errors, { expected: EXPECTED, ...opts })

before(async () => {
  ({ server, ui, chrome, api } = await startStage())
  // a unit that existed and was retired: the matrix may not name it
  const admin = await tokenOf('admin')
  const made = await api.call('POST', '/units', admin, { code: RETIRED, name: '黄浦区旧养护公司', organization: 'contractor', kind: 'other', jurisdiction: '310101' })
  assert.equal(made.status, 201, JSON.stringify(made.json))
  const retired = await api.call('POST', `/units/${RETIRED}/retire`, admin, { reason: '合同到期' })
  assert.equal(retired.status, 200, JSON.stringify(retired.json))
})

after(() => stopStage({ server, ui, chrome }))

/** From the header's menu to the matrix section, loaded. */
const openMatrix = (page) => openAdminSection(page, 'matrix', 'matrix-count')

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `admin-matrix-${name}.png`), fullPage: true })
const rowOf = (page, unit) => page.locator(`[data-testid="matrix-table"] tr.row[data-unit="${unit}"]`)

/** The rules in force, as the API lists them, in an order that does not depend on the server's. */
async function rulesInForce(who = 'admin') {
  const r = await api.call('GET', '/routing/rules', await tokenOf(who))
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json.map((x) => `${x.category}|${x.area}|${x.owner ?? ''}|${x.unit}`).sort()
}

/** `PUT /routing/rules` with a CSV body, as a script would. */
async function putCsv(who, csv) {
  const res = await fetch(`${server.url}/api/v1/routing/rules`, {
    method: 'PUT', headers: { authorization: `Bearer ${await tokenOf(who)}`, 'content-type': 'text/csv' }, body: csv,
  })
  return { status: res.status, json: await res.json().catch(() => null) }
}

async function run(who, c, command, body = {}) {
  const r = await api.call('POST', `/cases/${c.id}/${command}`, await tokenOf(who), { version: c.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** An inspector's report in 云南中路居委会, accepted by the operator and filed by the shift lead under 20101. */
async function filedUnder20101() {
  const created = await api.call('POST', '/cases', await tokenOf('inspector'), {
    source: 'inspector', description: `${TAG} 云南中路人行道搭建违章棚屋`, location: { lon: 121.4919, lat: 31.215 }, area: COMMUNITY,
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  let c = created.json
  c = await run('operator', c, 'accept')
  return run('shiftlead', c, 'file', { category: '20101' })
}

/** The row editor, once open: fills what is given and applies the rule with Enter in the unit's field. */
async function fillRule(page, { category, area, unit }) {
  await page.getByTestId('matrix-editor').waitFor()
  if (category !== undefined) await page.getByTestId('matrix-edit-category').fill(category)
  if (area !== undefined) await page.getByTestId('matrix-edit-area').fill(area)
  await page.getByTestId('matrix-edit-unit').fill(unit)
  await page.getByTestId('matrix-edit-unit').press('Enter')
  await page.getByTestId('matrix-editor').waitFor({ state: 'detached' })
}

describe('the responsibility matrix', { timeout: 180_000 }, () => {
  it('an admin adds a rule, asks the draft who gets 20101 there, saves, and a case filed there is proposed to the unit', async () => {
    const before = await rulesInForce()
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await openMatrix(page)
    assert.equal(await page.getByTestId('admin-tab-matrix').getAttribute('aria-current'), 'page')
    assert.equal(await text(page.getByTestId('admin-section-title')), '责任矩阵')
    assert.equal(await page.getByTestId('matrix-count').getAttribute('data-total'), String(before.length))
    assert.equal(await page.getByTestId('matrix-dirty').getAttribute('data-dirty'), 'false')
    assert.equal(await page.getByTestId('matrix-save').isDisabled(), true)
    await shot(page, 'in-force')

    // a new rule, from the keyboard: Enter on 添加规则 opens the editor on the category
    await page.getByTestId('matrix-add').focus()
    await page.keyboard.press('Enter')
    await focused(page, 'matrix-edit-category')
    await page.keyboard.type('20101')
    assert.equal(await text(page.getByTestId('matrix-edit-category-name')), '私搭乱建')
    await page.getByTestId('matrix-edit-area').fill(STREET)
    await page.locator('[data-testid="matrix-edit-area-name"]', { hasText: '南京东路街道' }).waitFor()
    await page.getByTestId('matrix-edit-unit').fill('310101-GD')
    await page.locator('[data-testid="matrix-edit-unit-name"]', { hasText: '黄浦区供电公司' }).waitFor()
    await shot(page, 'editor')
    await page.getByTestId('matrix-edit-unit').press('Enter')
    await page.getByTestId('matrix-editor').waitFor({ state: 'detached' })
    const row = rowOf(page, '310101-GD')
    await row.waitFor()
    // the focus lands on the new row, which is marked unsaved
    await focused(page, 'matrix-row-edit')
    assert.deepEqual(
      [await row.getAttribute('data-category'), await row.getAttribute('data-area'), await row.getAttribute('data-state')],
      ['20101', STREET, 'changed'],
    )
    assert.match(await text(row.getByTestId('matrix-row-category')), /^20101 私搭乱建$/)
    assert.match(await text(row.getByTestId('matrix-row-area')), new RegExp(`^${STREET} 南京东路街道$`))
    assert.match(await text(row.getByTestId('matrix-row-unit')), /^310101-GD 黄浦区供电公司$/)
    assert.equal(await text(row.getByTestId('matrix-row-changed')), '未保存')
    const dirty = page.getByTestId('matrix-dirty')
    assert.equal(await dirty.getAttribute('data-dirty'), 'true')
    assert.equal(await text(dirty), '有未保存的修改：1 条新增或修改，0 条删除')
    // nothing reached the server yet
    assert.deepEqual(await rulesInForce(), before)

    // who gets 20101 at 云南中路居委会? The unsaved table is asked
    assert.equal(await text(page.getByTestId('matrix-preview-basis-next')), '将按表格（含未保存的修改）回答')
    await page.getByTestId('matrix-preview-category').click()
    await page.keyboard.type('20101')
    await page.locator('.el-select-dropdown__item:visible', { hasText: '20101 私搭乱建' }).waitFor()
    await page.keyboard.press('Enter')
    await page.getByTestId('matrix-preview-area').fill(COMMUNITY)
    await page.locator('[data-testid="matrix-preview-area-name"]', { hasText: '云南中路居委会' }).waitFor()
    await page.getByTestId('matrix-preview-area').press('Enter')
    const result = page.locator('[data-testid="matrix-preview-result"][data-unit="310101-GD"]')
    await result.waitFor()
    assert.equal(await result.getAttribute('data-draft'), 'true')
    assert.equal(await text(page.getByTestId('matrix-preview-basis')), '按表格中的草稿回答')
    assert.match(await text(page.getByTestId('matrix-preview-unit')), /^黄浦区供电公司 310101-GD$/)
    assert.match(await text(page.getByTestId('matrix-preview-rule')), /^20101 · 310101002 → 310101-GD（黄浦区供电公司） · 已在表中标出$/)
    assert.match(await text(page.getByTestId('matrix-preview-reason')), /^rule: category 20101\* in area 310101002 -> 310101-GD/)
    assert.match(await text(page.getByTestId('matrix-preview-place-found')), new RegExp(`^云南中路居委会 ${COMMUNITY}`))
    // the deciding rule is marked in the table, and so are the rules it overrode
    await page.locator('[data-testid="matrix-table"] tr.row[data-decisive="true"][data-unit="310101-GD"]').waitFor()
    assert.equal(await page.locator('[data-testid="matrix-table"] tr.row[data-decisive="true"]').count(), 1)
    assert.equal(await text(row.getByTestId('matrix-row-decisive')), '决定规则')
    const overridden = Number(await page.getByTestId('matrix-preview-overridden').getAttribute('data-count'))
    assert.equal(await page.locator('[data-testid="matrix-table"] tr.row[data-overridden="true"]').count(), overridden)
    await shot(page, 'preview-draft')
    // the preview changed nothing
    assert.deepEqual(await rulesInForce(), before)

    // saved from the keyboard
    await page.getByTestId('matrix-save').focus()
    await page.keyboard.press('Enter')
    await page.locator('[data-testid="matrix-notice"]', { hasText: `已保存责任矩阵：共 ${before.length + 1} 条规则` }).waitFor()
    await page.locator('[data-testid="matrix-dirty"][data-dirty="false"]').waitFor()
    assert.equal(await row.getAttribute('data-state'), 'saved')
    // the answer still holds (the draft is now in force), and its row stays marked
    assert.equal(await page.getByTestId('matrix-preview-result').getAttribute('data-stale'), 'false')
    assert.equal(await row.getAttribute('data-decisive'), 'true')
    const after = await rulesInForce()
    assert.deepEqual(after, [...before, `20101|${STREET}||310101-GD`].sort())
    await shot(page, 'saved')

    // a case filed at that place now is proposed to that unit, by that rule
    const c = await filedUnder20101()
    assert.equal(c.area, COMMUNITY)
    const routing = await api.call('GET', `/cases/${c.id}/routing`, await tokenOf('dispatcher'))
    assert.equal(routing.status, 200, JSON.stringify(routing.json))
    assert.equal(routing.json.unit, '310101-GD')
    assert.deepEqual([routing.json.rule.category, routing.json.rule.area, routing.json.rule.unit], ['20101', STREET, '310101-GD'])

    // a row naming a retired unit: the page says so, the server refuses the line, nothing changes
    await page.getByTestId('matrix-add').click()
    await fillRule(page, { category: '201', area: '310101', unit: RETIRED })
    const bad = rowOf(page, RETIRED)
    assert.equal(await bad.getByTestId('matrix-row-warning').getAttribute('data-warning'), 'unit_retired')
    await page.getByTestId('matrix-save').click()
    const refusal = page.getByTestId('matrix-save-error')
    await refusal.waitFor()
    // line N of the file is row N-1 of the table as it was sent (its order, unfiltered)
    const units = await page.locator('[data-testid="matrix-table"] tr.row').evaluateAll((trs) => trs.map((tr) => tr.dataset.unit))
    const at = units.indexOf(RETIRED)
    assert.ok(at >= 0, units.join())
    assert.equal(await refusal.getAttribute('data-line'), String(at + 2))
    assert.equal(await refusal.getAttribute('data-row'), String(at + 1))
    assert.equal(await refusal.getAttribute('data-column'), 'unit')
    assert.equal(
      await text(refusal),
      `服务器拒绝保存，生效中的矩阵没有改变。CSV 第 ${at + 2} 行（表中第 ${at + 1} 条规则 201* · 310101 → ${RETIRED}）的责任单位：unit ${RETIRED} is retired`,
    )
    assert.equal(await bad.getAttribute('data-refused'), 'true')
    assert.match(await text(bad.getByTestId('matrix-row-refusal')), new RegExp(`CSV 第 ${at + 2} 行.*unit ${RETIRED} is retired`))
    assert.equal(await page.locator('[data-testid="matrix-table"] tr.row[data-refused="true"]').count(), 1)
    // the focus is on the refused row
    await focused(page, 'matrix-row-edit')
    await shot(page, 'refused-retired')
    assert.deepEqual(await rulesInForce(), after)
    assert.equal(await page.getByTestId('matrix-dirty').getAttribute('data-dirty'), 'true')

    // the same row edited to a unit that does not exist: refused on its line too
    await bad.getByTestId('matrix-row-edit').click()
    await focused(page, 'matrix-edit-category')
    assert.equal(await page.getByTestId('matrix-edit-unit').inputValue(), RETIRED)
    await page.getByTestId('matrix-edit-unit-warning').filter({ hasText: '该单位已撤销' }).waitFor()
    await fillRule(page, { unit: 'E2E-NO-SUCH-UNIT' })
    const missing = rowOf(page, 'E2E-NO-SUCH-UNIT')
    assert.equal(await missing.getByTestId('matrix-row-warning').getAttribute('data-warning'), 'unit_unknown')
    // the edit answers the earlier refusal
    assert.equal(await page.locator('[data-testid="matrix-table"] tr.row[data-refused="true"]').count(), 0)
    await page.getByTestId('matrix-save').click()
    await page.locator('[data-testid="matrix-save-error"]', { hasText: 'unit E2E-NO-SUCH-UNIT does not exist' }).waitFor()
    assert.equal(await missing.getAttribute('data-refused'), 'true')
    const now = await page.locator('[data-testid="matrix-table"] tr.row').evaluateAll((trs) => trs.map((tr) => tr.dataset.unit))
    assert.equal(await page.getByTestId('matrix-save-error').getAttribute('data-line'), String(now.indexOf('E2E-NO-SUCH-UNIT') + 2))
    assert.deepEqual(await rulesInForce(), after)
    await shot(page, 'refused-missing')

    // the row removed, the table is the matrix in force again
    await missing.getByTestId('matrix-row-remove').click()
    await page.locator('[data-testid="matrix-dirty"][data-dirty="false"]').waitFor()
    assert.equal(await page.getByTestId('matrix-save').isDisabled(), true)
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the section speaks English; a CSV file is read in as a draft, its bad line marked; leaving asks first; the draft is discarded', async () => {
    const inForce = await rulesInForce()
    const page = await newPage('admin-en', { downloads: true })
    await signIn(page, 'admin')
    await setLanguage(page, 'en')
    await openMatrix(page)
    assert.equal(await text(page.getByTestId('admin-tab-matrix')), 'Responsibility matrix')
    assert.equal(await text(page.getByTestId('admin-section-title')), 'Responsibility matrix')
    const head = await page.locator('[data-testid="matrix-table"] thead th').allTextContents()
    assert.deepEqual(head.map((h) => h.trim()), ['Category', 'Area', 'Owner', 'Responsible unit', 'Notes', 'Actions'])
    const row = rowOf(page, '310101-GD')
    assert.match(await text(row.getByTestId('matrix-row-category')), /^20101 Illegal/)
    assert.equal(await text(row.getByTestId('matrix-row-owner')), 'any')
    assert.equal(await text(page.getByTestId('matrix-dirty')), 'Same as the matrix in force')

    // the export link downloads the matrix in force as the server writes it
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('matrix-export').click()])
    assert.equal(download.suggestedFilename(), 'responsibility-rules.csv')
    const exported = readFileSync(await download.path(), 'utf8')
    assert.ok(exported.startsWith('\uFEFFcategory,area,owner,unit'), JSON.stringify(exported.slice(0, 40)))
    assert.ok(exported.includes(`20101,${STREET},,310101-GD`), exported)

    // a file with a bad line is read into the table as a draft, the line marked; nothing is sent
    const file = `\uFEFFcategory,area,owner,unit\r\n20101,${STREET},,310101-GD\r\n9,310101,,310101-CGZF\r\n2,310000,,310101-CGZF\r\n`
    await page.getByTestId('matrix-import-file').setInputFiles({ name: 'draft.csv', mimeType: 'text/csv', buffer: Buffer.from(file) })
    await page.locator('[data-testid="matrix-notice"]', { hasText: 'Read 3 rules from draft.csv, not saved yet' }).waitFor()
    assert.match(await text(page.getByTestId('matrix-notice')), /One of them has a problem, marked in the table\.$/)
    const badRow = page.locator('[data-testid="matrix-table"] tr.row[data-category="9"]')
    assert.equal(await badRow.getAttribute('data-invalid'), 'true')
    assert.equal(await text(badRow.getByTestId('matrix-row-problem')), 'Category: Enter 1 to 5 digits starting 1 (components) or 2 (events)')
    assert.match(await text(badRow.getByTestId('matrix-row-notes')), /Line 3 of the file/)
    const dirty = page.getByTestId('matrix-dirty')
    assert.equal(await dirty.getAttribute('data-dirty'), 'true')
    // saving is refused before sending: the bad row is named
    await page.getByTestId('matrix-save').click()
    assert.equal(await text(page.getByTestId('matrix-save-error')), 'A rule needs fixing first; it is marked in the table')
    // so is asking the draft
    await page.getByTestId('matrix-preview-category').click()
    await page.keyboard.type('20101')
    await page.locator('.el-select-dropdown__item:visible', { hasText: '20101 Illegal' }).waitFor()
    await page.keyboard.press('Enter')
    await page.getByTestId('matrix-preview-area').fill(COMMUNITY)
    await page.getByTestId('matrix-preview-submit').click()
    assert.equal(await text(page.getByTestId('matrix-preview-error')), 'A rule of the table needs fixing before the draft can be asked')
    await shot(page, 'english-import')
    assert.deepEqual(await rulesInForce(), inForce)

    // a file without an owner column is refused, naming line 1, and the draft stays
    await page.getByTestId('matrix-import-file').setInputFiles({ name: 'nocol.csv', mimeType: 'text/csv', buffer: Buffer.from('category,area,unit\n1,310000,X\n') })
    const importError = page.getByTestId('matrix-import-error')
    await importError.waitFor()
    assert.equal(await importError.getAttribute('data-line'), '1')
    assert.equal(await text(importError), 'Could not read nocol.csv: Line 1: the header has no owner column (it should be category,area,owner,unit)')
    assert.equal(await badRow.count(), 1)

    // leaving with unsaved changes is asked about: staying keeps the draft
    const asked = new Promise((resolve) => page.once('dialog', async (d) => {
      resolve(d.message())
      await d.dismiss()
    }))
    await page.getByTestId('admin-tab-users').click()
    assert.match(await asked, /unsaved changes/)
    assert.match(page.url(), /\/admin\/matrix/)
    assert.equal(await page.getByTestId('matrix-dirty').getAttribute('data-dirty'), 'true')
    assert.equal(await page.getByTestId('admin-tab-matrix').getAttribute('aria-current'), 'page')

    // discarded after a confirmation that starts on Cancel
    await page.getByTestId('matrix-discard').click()
    await page.getByTestId('matrix-discard-dialog').waitFor()
    await focused(page, 'matrix-discard-dialog-cancel')
    await page.getByTestId('matrix-discard-dialog-confirm').click()
    await page.getByTestId('matrix-discard-dialog').waitFor({ state: 'detached' })
    await page.locator('[data-testid="matrix-dirty"][data-dirty="false"]').waitFor()
    assert.equal(await badRow.count(), 0)
    assert.equal(await text(page.getByTestId('matrix-notice')), 'Unsaved changes discarded')
    assert.equal(await page.getByTestId('matrix-count').getAttribute('data-total'), String(inForce.length))
    assert.deepEqual(await rulesInForce(), inForce)

    // the table is clean now: the matrix in force is asked, here of a point (the case's), located to its community and grid
    await page.getByTestId('matrix-preview-place-point').click()
    await page.getByTestId('matrix-preview-lon').fill('121.4919')
    await page.getByTestId('matrix-preview-lat').fill('31.215')
    await page.getByTestId('matrix-preview-lat').press('Enter')
    const answer = page.locator('[data-testid="matrix-preview-result"][data-draft="false"]')
    await answer.waitFor()
    assert.equal(await answer.getAttribute('data-unit'), '310101-GD')
    assert.equal(await text(page.getByTestId('matrix-preview-basis')), 'Answered from the matrix in force')
    assert.equal(await page.getByTestId('matrix-preview-place-found').getAttribute('data-area'), COMMUNITY)
    assert.match(await text(page.getByTestId('matrix-preview-place-found')), /unit grid \d{14}$/)
    await page.locator('[data-testid="matrix-table"] tr.row[data-decisive="true"][data-unit="310101-GD"]').waitFor()
    await shot(page, 'english-point')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no administration menu, reads and asks the matrix, and may not replace it', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await assertNoAdminWayIn(page, ui, 'matrix', 'matrix-table')
    await shot(page, 'dispatcher-no-access')
    await page.context().close()

    const inForce = await rulesInForce('dispatcher')
    assert.ok(inForce.includes(`20101|${STREET}||310101-GD`), inForce.join())
    const dispatcher = await tokenOf('dispatcher')
    const asked = await api.call('POST', '/routing/preview', dispatcher, { category: '20101', area: COMMUNITY })
    assert.equal(asked.status, 200, JSON.stringify(asked.json))
    assert.deepEqual([asked.json.draft, asked.json.routing.unit], [false, '310101-GD'])
    const put = await putCsv('dispatcher', 'category,area,owner,unit\n2,310000,,310101-CGZF\n')
    assert.equal(put.status, 403, JSON.stringify(put.json))
    assert.deepEqual(await rulesInForce(), inForce)
    assert.deepEqual(errors, [])
  })
})
