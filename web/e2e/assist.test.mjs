// Lead and assisting units (主办 / 协办). An admin adds a road-maintenance contractor in the UI
// and routes guardrails (10211) in 南京东路街道 to it in the matrix editor; a case there is
// proposed to it and the dispatcher dispatches it in the UI, then adds two assisting units (the
// water company and the power company) from a picker that offers neither the lead nor a unit of
// another street, nor a unit already assisting. The lead signs and finds its feedback blocked,
// the page naming both open parts; each assisting handler finds the case in their 协办 queue,
// signs for their part (its working-time countdown shows) and feeds back; the block names only
// what is left, then goes, and the lead feeds back. Check and close go through the API; the case
// page shows the lead's and both parts done, in Chinese and in English. The evaluator sees the
// parts counted for the power company. Then the admin retires the contractor while it leads
// another open case, and that case moves to the successor.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `AS${Date.now().toString(36)}`
const LEAD = 'E2E-AS-YH'
const LEAD_NAME = '黄浦区道路设施养护有限公司'
const CLASS = '10211' // 交通护栏 (guardrails): 2 working days to handle
const STREET = '310101002' // 南京东路街道
const COMMUNITY = '310101002001' // 云南中路居委会
const WATER = '310101-ZLS' // the demo's `water` handles for it
const POWER = '310101-GD' // a handler is added for it
const OTHER_STREET = '310101013-JDB' // 外滩街道办事处: does not answer for the case's area
const SUCCESSOR = '310101-JSJT'
// the new handlers sign in with the demo's password (harness.signIn, apiClient.login)
const USERS = { lead: 'as.yh', power: 'as.gd' }

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const signIn = (page, username) => signInAt(page, ui, username)
const state = { id: null, number: null, other: null }

/**
 * A page recording page errors and console errors, except the browser's line for an answer the
 * test provokes on purpose (`expected`: the retirement's 409 that asks for a successor). No other
 * 409 is expected: the lead is never let to send a feedback the server would refuse.
 */
async function newPage(who, expected = null) {
  const page = await openPage(chrome, who, errors, { consoleErrors: false, timeout: 30_000 })
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    if (expected && expected.test(m.text())) return
    errors.push(`${who}: ${m.text()}`)
  })
  return page
}

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

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `assist-${name}.png`), fullPage: true })
const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()
/** Waits until the element's text (spaces collapsed) matches: unit names arrive after the page. */
async function textOf(locator, pattern) {
  const deadline = Date.now() + 15_000
  let last = ''
  while (Date.now() < deadline) {
    last = await text(locator).catch(() => '')
    if (typeof pattern === 'string' ? last === pattern : pattern.test(last)) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail(`${locator}: ${JSON.stringify(last)} does not match ${pattern}`)
}
const focused = (page, testId) => page.waitForFunction((id) => document.activeElement?.dataset?.testid === id, testId)
const expectState = (page, s) => page.locator(`[data-testid="case-state"][data-state="${s}"]`).waitFor()
const part = (page, unit) => page.locator(`[data-testid="assist-part"][data-unit="${unit}"]`)

async function run(who, id, command, body = {}) {
  const now = (await api.call('GET', `/cases/${id}`, await tokenOf('operator'))).json
  const r = await api.call('POST', `/cases/${id}/${command}`, await tokenOf(who), { version: now.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** An inspector's report at 云南中路 filed under guardrails: the matrix proposes the contractor. */
async function filedGuardrailCase(what) {
  const created = await api.call('POST', '/cases', await tokenOf('inspector'), {
    source: 'inspector', description: `${TAG} ${what}`, location: { lon: 121.4919, lat: 31.215 }, area: COMMUNITY,
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  await run('operator', created.json.id, 'accept')
  return run('shiftlead', created.json.id, 'file', { category: CLASS })
}

/** Picks the option labelled with `text` in an Element Plus select (typing it first when `search`). */
async function pick(page, testId, text, search = false) {
  await page.getByTestId(testId).click()
  if (search) await page.keyboard.type(text)
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

/** Opens the case from the user's workbench queue, found by the test's tag. */
async function openFromQueue(page, queue) {
  await page.goto(`${ui.url}/workbench?queue=${queue}`)
  await page.locator(`[data-testid="queue-tabs"] [data-queue="${queue}"][aria-selected="true"]`).waitFor()
  await page.getByTestId('filter-q').fill(TAG)
  await page.getByTestId('filter-apply').click()
  const row = page.locator(`tr[data-number="${state.number}"]`)
  await row.waitFor()
  return row
}

async function openCase(page) {
  await page.goto(`${ui.url}/cases/${state.id}`)
  await page.getByTestId('case-number').waitFor()
}

/** Opens a command's form among the actions, lets `fill` answer it, submits and waits for it to go. */
async function command(page, name, fill) {
  await page.getByTestId(`action-${name}`).click()
  const form = page.locator(`[data-testid="command-form"][data-command="${name}"]`)
  await form.waitFor()
  if (fill) await fill(form)
  await form.getByTestId('command-submit').click()
  await form.waitFor({ state: 'detached' })
}

/** The unit picker's options of an open form, by code. */
async function unitOptions(page, form) {
  await form.getByTestId('field-unit').locator('.el-select').click()
  const items = page.locator('.cmd-unit-popper:visible .el-select-dropdown__item')
  await items.first().waitFor()
  const codes = await items.evaluateAll((els) => els.map((e) => e.dataset.unit ?? e.textContent.trim().split(' ')[0]))
  await page.keyboard.press('Escape')
  return codes
}

async function pickUnit(page, form, code) {
  await form.getByTestId('field-unit').locator('.el-select').click()
  await form.getByTestId('field-unit').locator('input').fill(code)
  await page.locator(`.cmd-unit-popper .el-select-dropdown__item[data-unit="${code}"]`).click()
}

describe('lead and assisting units (主办 / 协办)', { timeout: 300_000 }, () => {
  it('(a) an admin adds a contractor and routes guardrails in 南京东路街道 to it', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await page.getByTestId('nav-units').click()
    await page.waitForURL(/\/units/)
    await page.locator('[data-testid="units-table"] tbody tr').first().waitFor()
    await page.getByTestId('unit-create').click()
    await focused(page, 'unit-code')
    await page.getByTestId('unit-code').fill(LEAD)
    await page.getByTestId('unit-name').fill(LEAD_NAME)
    await pick(page, 'unit-organization', '养护作业单位')
    await page.getByTestId('unit-jurisdiction').fill('310101')
    await page.locator('[data-testid="unit-area-name"]', { hasText: '黄浦区' }).waitFor()
    await pick(page, 'unit-parent', SUCCESSOR, true)
    await page.getByTestId('unit-save').click()
    await page.getByTestId('units-notice').waitFor()
    await page.getByTestId('unit-form').waitFor({ state: 'detached' })
    const admin = await tokenOf('admin')
    const made = (await api.call('GET', `/units/${LEAD}`, admin)).json
    assert.deepEqual([made.name, made.organization, made.jurisdiction, made.active], [LEAD_NAME, 'contractor', '310101', true])

    // the matrix: 10211 in 南京东路街道 goes to the contractor
    await page.getByTestId('nav-admin').click()
    await page.waitForURL(/\/admin/)
    await page.getByTestId('admin-tab-matrix').click()
    await page.waitForURL(/\/admin\/matrix/)
    await page.getByTestId('matrix-count').waitFor()
    await page.getByTestId('matrix-add').click()
    await page.getByTestId('matrix-editor').waitFor()
    await page.getByTestId('matrix-edit-category').fill(CLASS)
    await page.getByTestId('matrix-edit-area').fill(STREET)
    await page.locator('[data-testid="matrix-edit-area-name"]', { hasText: '南京东路街道' }).waitFor()
    await page.getByTestId('matrix-edit-unit').fill(LEAD)
    await page.locator('[data-testid="matrix-edit-unit-name"]', { hasText: LEAD_NAME }).waitFor()
    await page.getByTestId('matrix-edit-unit').press('Enter')
    await page.getByTestId('matrix-editor').waitFor({ state: 'detached' })
    await page.getByTestId('matrix-save').click()
    await page.locator('[data-testid="matrix-dirty"][data-dirty="false"]').waitFor()
    const rules = (await api.call('GET', '/routing/rules', admin)).json
    assert.ok(rules.some((r) => r.category === CLASS && r.area === STREET && r.unit === LEAD), JSON.stringify(rules.slice(-3)))

    // the handlers of the contractor and of the power company (the water company's is the demo's `water`)
    for (const [username, unit, name] of [[USERS.lead, LEAD, '养护公司处置员'], [USERS.power, POWER, '供电公司处置员']]) {
      const r = await api.call('POST', '/users', admin, { username, display_name: name, password: 'cityops-demo', role: 'unit_handler', scope: '310101', unit })
      assert.equal(r.status, 201, JSON.stringify(r.json))
    }
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(b) the case is proposed to the contractor; the dispatcher dispatches it and adds two assisting units', async () => {
    const filed = await filedGuardrailCase('南京东路云南中路口交通护栏被撞倒，旁边电力设施箱和自来水管阀门井受损')
    state.id = filed.id
    state.number = filed.number
    const routing = await api.call('GET', `/cases/${filed.id}/routing`, await tokenOf('dispatcher'))
    assert.equal(routing.json.unit, LEAD, JSON.stringify(routing.json))

    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    const row = await openFromQueue(page, 'to_dispatch')
    await row.click()
    await page.waitForURL(/\/cases\//)
    await page.locator(`[data-testid="case-routing"][data-unit="${LEAD}"]`).waitFor()
    await command(page, 'dispatch', async (f) => {
      await f.getByTestId('unit-proposal').waitFor()
      await f.getByTestId('field-unit').locator('.el-select__selected-item', { hasText: LEAD }).first().waitFor()
    })
    await expectState(page, 'dispatched')
    assert.equal(await text(page.getByTestId('case-unit')), LEAD)

    // no assisting unit yet: the panel says so, the lead marked 主办
    const panel = page.getByTestId('assist-panel')
    await panel.getByTestId('assist-none').waitFor()
    assert.equal(await page.getByTestId('assist-lead').getAttribute('data-unit'), LEAD)
    await textOf(page.getByTestId('assist-lead-unit'), `${LEAD_NAME} ${LEAD}`)
    assert.equal(await text(page.getByTestId('assist-lead-state')), '待签收')

    // the picker offers the units answering for the case's area: not the lead, not another street's office
    await command(page, 'assist', async (f) => {
      assert.equal(await text(f.locator('h3')), '增加协办单位')
      assert.match(await text(f.getByTestId('field-unit')), /^协办单位 \*/)
      await f.getByTestId('assist-unit-hint').waitFor()
      const offered = await unitOptions(page, f)
      assert.ok(offered.includes(WATER) && offered.includes(POWER) && offered.includes(`${STREET}-JDB`), offered.join())
      assert.ok(!offered.includes(LEAD), `the lead is offered: ${offered.join()}`)
      assert.ok(!offered.includes(OTHER_STREET), `${OTHER_STREET} is offered: ${offered.join()}`)
      assert.equal(await f.getByTestId('unit-proposal').count(), 0)
      await pickUnit(page, f, WATER)
      await f.getByTestId('field-opinion').locator('textarea').fill('请自来水公司检查阀门井')
    })
    await part(page, WATER).waitFor()
    // the water company assists now: offered no more
    await command(page, 'assist', async (f) => {
      await f.getByTestId('assist-unit-hint').waitFor()
      const offered = await unitOptions(page, f)
      assert.ok(!offered.includes(WATER) && !offered.includes(LEAD) && offered.includes(POWER), offered.join())
      await pickUnit(page, f, POWER)
      await f.getByTestId('field-opinion').locator('textarea').fill('请供电公司检查电力设施箱')
    })
    await part(page, POWER).waitFor()
    assert.equal(await panel.getAttribute('data-open'), '2')
    for (const unit of [WATER, POWER]) {
      assert.equal(await part(page, unit).getAttribute('data-state'), 'assigned')
      assert.equal(await text(part(page, unit).getByTestId('assist-part-state')), '待签收')
      assert.equal(await text(part(page, unit).getByTestId('assist-part-deadline')), '签收后开始计时')
    }
    await textOf(part(page, POWER).getByTestId('assist-part-unit'), `黄浦区供电公司 ${POWER}`)
    assert.equal(await text(part(page, WATER).getByTestId('assist-part-opinion')), '请自来水公司检查阀门井')
    // the lead is marked 主办 where the unit is shown
    assert.equal(await text(page.getByTestId('case-unit-lead')), '主办')
    // the release form offers only the open parts' units
    await page.getByTestId('action-release-assist').click()
    const release = page.locator('[data-testid="command-form"][data-command="release-assist"]')
    await release.waitFor()
    assert.deepEqual((await unitOptions(page, release)).sort(), [POWER, WATER].sort())
    await release.getByRole('button', { name: '取消' }).click()
    await release.waitFor({ state: 'detached' })
    await shot(page, 'b-dispatcher')
    const view = (await api.call('GET', `/cases/${state.id}`, await tokenOf('dispatcher'))).json
    assert.deepEqual(view.assists.map((p) => [p.unit, p.state]), [[WATER, 'assigned'], [POWER, 'assigned']])
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(c) the lead\'s feedback waits for both parts; each assisting handler signs and feeds back', async () => {
    // the lead signs: its feedback is not offered, and the page says which parts it waits for
    const lead = await newPage(USERS.lead)
    await signIn(lead, USERS.lead)
    const leadRow = await openFromQueue(lead, 'to_sign')
    assert.equal(await leadRow.getByTestId('row-assist').count(), 0)
    assert.equal(await text(leadRow.getByTestId('row-assist-count')), '协办 2')
    await leadRow.click()
    await lead.waitForURL(/\/cases\//)
    await command(lead, 'sign')
    await expectState(lead, 'handling')
    const blocked = lead.getByTestId('feedback-blocked')
    await blocked.waitFor()
    assert.equal(await lead.getByTestId('action-feedback').count(), 0)
    await textOf(blocked,
      `暂不能反馈：协办单位黄浦区自来水公司 ${WATER}（待签收）、黄浦区供电公司 ${POWER}（待签收）尚未完成。请等待其反馈，或请派遣员撤销协办。`)
    await lead.getByTestId('assist-waiting').waitFor()
    await shot(lead, 'c-lead-blocked')

    // each assisting handler: the 协办 queue lists the case with its part; the lead's queues do not
    for (const [who, unit] of [['water', WATER], [USERS.power, POWER]]) {
      const page = await newPage(who)
      await signIn(page, who)
      await page.goto(`${ui.url}/workbench?queue=to_sign`)
      await page.getByTestId('filter-q').fill(TAG)
      await page.getByTestId('filter-apply').click()
      await page.getByTestId('queue-empty').waitFor()
      const row = await openFromQueue(page, 'assisting')
      assert.equal(await row.getByTestId('row-assist').getAttribute('data-part-state'), 'assigned')
      assert.equal(await text(row.getByTestId('row-assist')), `协办待签收主办 ${LEAD}`)
      assert.equal(await text(row.getByTestId('row-assist-deadline')), '签收后开始计时')
      assert.equal(await page.getByTestId('export-csv').count(), 0)
      if (who === 'water') await shot(page, 'c-water-queue')
      await row.click()
      await page.waitForURL(/\/cases\//)
      const mine = part(page, unit)
      await mine.waitFor()
      assert.equal(await mine.getAttribute('data-mine'), 'true')
      // only the part's commands: the lead's are not theirs
      assert.equal(await page.getByTestId('action-sign').count(), 0)
      await command(page, 'sign-assist')
      await page.locator(`[data-testid="assist-part"][data-unit="${unit}"][data-state="handling"]`).waitFor()
      // the part's own deadline, counted down in working time as the stages' are
      const countdown = mine.getByTestId('assist-part-deadline').getByTestId('deadline-countdown')
      await countdown.waitFor()
      assert.match(await text(countdown), /^剩余.+（工作时间）$/)
      assert.equal(await mine.getByTestId('deadline-mark').count(), 1)
      const view = (await api.call('GET', `/cases/${state.id}`, await tokenOf(who))).json
      const signed = view.assists.find((p) => p.unit === unit)
      assert.equal(await mine.getByTestId('assist-part-deadline').getAttribute('data-deadline'), signed.deadline)
      assert.ok(Date.parse(signed.deadline) > Date.now(), signed.deadline)
      // the workbench row shows the part handling, with its countdown
      const again = await openFromQueue(page, 'assisting')
      assert.equal(await again.getByTestId('row-assist').getAttribute('data-part-state'), 'handling')
      await again.getByTestId('row-assist-deadline').getByTestId('deadline-countdown').waitFor()
      await again.click()
      await page.waitForURL(/\/cases\//)
      if (who === 'water') await shot(page, 'c-water-signed')

      // the lead still waits: reloaded, the block names what is left
      await lead.reload()
      await lead.getByTestId('feedback-blocked').waitFor()
      await textOf(lead.getByTestId('feedback-blocked'), new RegExp(`${unit}（办理中）`))

      // an empty opinion is refused in the form, then the part is fed back
      await page.getByTestId('action-assist-feedback').click()
      const form = page.locator('[data-testid="command-form"][data-command="assist-feedback"]')
      await form.getByTestId('command-submit').click()
      await form.getByTestId('field-error-opinion').waitFor()
      await form.locator('textarea').fill(who === 'water' ? '阀门井已检查，井盖复位' : '电力设施箱已检修，供电正常')
      await form.getByTestId('command-submit').click()
      await form.waitFor({ state: 'detached' })
      await page.locator(`[data-testid="assist-part"][data-unit="${unit}"][data-state="done"]`).waitFor()
      assert.equal(await mine.getByTestId('assist-part-timeliness').getAttribute('data-late'), 'false')
      assert.equal(await text(mine.getByTestId('assist-part-timeliness')), '按期反馈')
      assert.equal(await page.locator('[data-testid="case-actions"] [data-testid^="action-"]').count(), 0)
      await page.context().close()

      await lead.reload()
      await lead.getByTestId('case-number').waitFor()
      if (unit === WATER) {
        await lead.getByTestId('feedback-blocked').waitFor()
        const words = await text(lead.getByTestId('feedback-blocked'))
        assert.ok(words.includes(POWER) && !words.includes(WATER), words)
      }
    }

    // both parts done: the block is gone, and the lead feeds back
    await lead.getByTestId('action-feedback').waitFor()
    assert.equal(await lead.getByTestId('feedback-blocked').count(), 0)
    assert.equal(await lead.getByTestId('assist-waiting').count(), 0)
    await command(lead, 'feedback', (f) => f.locator('textarea').fill('护栏已重新安装加固，协办单位已处理各自设施'))
    await expectState(lead, 'handled')
    await lead.context().close()
    assert.deepEqual(errors, [])
  })

  it('(d) checked and closed, the case page shows the lead\'s and both parts done, in Chinese and English', async () => {
    await run('operator', state.id, 'send-check')
    await run('inspector', state.id, 'check', { passed: true, opinion: '护栏已修复' })
    const closed = await run('shiftlead', state.id, 'close')
    assert.equal(closed.state, 'closed')

    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await openCase(page)
    await expectState(page, 'closed')
    const panel = page.getByTestId('assist-panel')
    await panel.waitFor()
    assert.equal(await page.getByTestId('assist-lead').getAttribute('data-state'), 'done')
    assert.equal(await text(page.getByTestId('assist-lead-state')), '已反馈')
    const parts = await page.getByTestId('assist-part').evaluateAll((els) => els.map((e) => [e.dataset.unit, e.dataset.state]))
    assert.deepEqual(parts, [[WATER, 'done'], [POWER, 'done']])
    assert.equal(await panel.getAttribute('data-done'), '2')
    assert.equal(await text(part(page, POWER).getByTestId('assist-part-opinion')), '电力设施箱已检修，供电正常')
    assert.match(await text(panel.getByTestId('assist-summary')), /未完成 0 个 · 已反馈 2 个/)
    // the timeline tells each part's steps
    const actions = await page.getByTestId('timeline').locator(':scope > li').evaluateAll((els) => els.map((e) => e.dataset.action))
    for (const a of ['assist', 'sign_assist', 'assist_feedback']) assert.equal(actions.filter((x) => x === a).length, 2, `${a} in ${actions}`)
    const signing = page.locator('[data-testid="timeline"] > li[data-action="sign_assist"]').first()
    assert.match(await text(signing), /签收协办.*协办时限：/)
    await shot(page, 'd-closed-zh')

    await setLanguage(page, 'en')
    await openCase(page)
    await panel.waitFor()
    assert.equal(await text(panel.locator('h2')), 'Assisting units')
    await textOf(page.getByTestId('assist-lead-unit'), `${LEAD_NAME} ${LEAD}`)
    assert.equal(await text(page.getByTestId('assist-lead-state')), 'Fed back')
    assert.match(await text(page.getByTestId('assist-lead')), /^Lead/)
    for (const unit of [WATER, POWER]) {
      assert.equal(await text(part(page, unit).getByTestId('assist-part-state')), 'Fed back')
      assert.equal(await text(part(page, unit).getByTestId('assist-part-timeliness')), 'Fed back on time')
    }
    const head = await text(part(page, WATER))
    for (const word of ['Assisting', 'Assigned', 'Part deadline', 'Finished', 'Feedback']) assert.ok(head.includes(word), `${word} in ${head}`)
    assert.equal(await text(page.getByTestId('case-unit-lead')), 'Lead')
    assert.match(await text(page.locator('[data-testid="timeline"] > li[data-action="assist"]').first()), /Add an assisting unit/)
    await shot(page, 'd-closed-en')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(e) the evaluation counts the power company\'s part as its handling', async () => {
    const page = await newPage('evaluator')
    await signIn(page, 'evaluator')
    await page.getByTestId('nav-evaluation').click()
    await page.waitForURL(/\/evaluation/)
    await page.locator('[data-testid="evaluation-levels"] [data-level="unit"]').click()
    await page.locator('[data-testid="evaluation-result"][data-level="unit"]').waitFor()
    const from = await page.getByTestId('evaluation-from').inputValue()
    const to = await page.getByTestId('evaluation-to').inputValue()
    const units = (await api.call('GET', `/evaluation?level=unit&from=${from}&to=${to}`, await tokenOf('evaluator'))).json
    const power = units.rows.find((r) => r.key === POWER)
    assert.ok(power, 'the power company is evaluated')
    assert.deepEqual([power.figures.part_assigned, power.figures.part_handled, power.figures.part_handled_on_time, power.figures.part_closed], [1, 1, 1, 1])
    const row = page.locator(`[data-testid="evaluation-row"][data-key="${POWER}"]`)
    const head = await page.locator('[data-testid="evaluation-table"] thead').textContent()
    for (const label of ['协办派遣数', '协办处置数', '协办结案数']) assert.ok(head.includes(label), `${label} in ${head}`)
    assert.equal(await row.getByTestId('count-part_handled').getAttribute('data-count'), '1')
    // its handlings include the part, as the drill-down lists them
    const handled = (power.figures.handled ?? 0) + 1
    assert.equal(await row.getByTestId('count-handled').getAttribute('data-count'), String(handled))
    assert.equal(await text(row.getByTestId('parts-in-handled')), '含协办 1')
    await row.getByTestId('count-handled').click()
    const drill = page.getByTestId('evaluation-drill')
    await drill.locator(`[data-testid="evaluation-case"][data-number="${state.number}"]`).waitFor()
    assert.equal(await drill.getByTestId('evaluation-case').count(), handled)
    assert.equal(await text(drill.locator(`[data-testid="evaluation-case"][data-number="${state.number}"] [data-testid="evaluation-case-assist"]`)), `协办 ${POWER}`)
    await shot(page, 'e-evaluation')
    await row.screenshot({ path: join(ARTIFACTS, 'assist-e-evaluation-row.png') })
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(f) retiring the contractor while it leads another open case moves that case to the successor', async () => {
    const other = await filedGuardrailCase('云南中路人行道护栏松动')
    const dispatched = await run('dispatcher', other.id, 'dispatch', { unit: LEAD, opinion: '请养护公司处置' })
    assert.equal(dispatched.unit, LEAD)
    state.other = other.id

    const page = await newPage('admin', /Failed to load resource: the server responded with a status of 409/)
    await signIn(page, 'admin')
    await page.getByTestId('nav-units').click()
    await page.waitForURL(/\/units/)
    await page.getByTestId('units-q').fill(LEAD)
    const row = page.locator(`[data-testid="units-table"] tr[data-code="${LEAD}"]`)
    await row.waitFor()
    await row.getByTestId('unit-retire').click()
    await focused(page, 'unit-retire-reason')
    await page.getByTestId('unit-retire-reason').fill('养护合同到期，业务并入区建设和交通委员会')
    await page.getByTestId('unit-retire-submit').click()
    const count = page.getByTestId('unit-open-cases')
    await count.waitFor()
    assert.equal(await count.getAttribute('data-count'), '1')
    await pick(page, 'unit-retire-successor', SUCCESSOR, true)
    await page.getByTestId('unit-retire-submit').click()
    const notice = page.getByTestId('units-notice')
    await notice.waitFor()
    assert.equal(await notice.getAttribute('data-moved-cases'), '1')
    await row.waitFor({ state: 'detached' })
    await shot(page, 'f-retired')

    const op = await tokenOf('operator')
    const moved = (await api.call('GET', `/cases/${other.id}`, op)).json
    assert.equal(moved.unit, SUCCESSOR)
    const timeline = (await api.call('GET', `/cases/${other.id}/timeline`, op)).json
    assert.ok(timeline.some((e) => e.action === 'reassign'), JSON.stringify(timeline.map((e) => e.action)))
    // the closed case keeps the unit that led it
    assert.equal((await api.call('GET', `/cases/${state.id}`, op)).json.unit, LEAD)
    await page.context().close()
    assert.deepEqual(errors, [])
  })
})
