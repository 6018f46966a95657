// 应急指挥 (emergency command), role by role. The shift lead imports the weather service's CAP
// rainstorm alert (red, 黄浦区 and 徐汇区) and sees it listed with its countdown; a file that is not
// CAP is refused naming its element. The leader opens an incident from the rainstorm plan for
// 南京东路街道: the plan gives tasks to the units answering for it. The leader decides a level II
// response with a reason (without one it is refused). The drainage handler (黄浦区水务局) accepts
// and finishes its task with a report and never sees the street office's task; the street office
// does its own; the shift lead gives the water company a task, records a pump truck and deploys it
// (a dot on the map), and posts a situation report. The leader's page follows it all live.
// The leader lowers the response to level IV and stands the incident down while the city screen
// watches: its banner shows the warning (and the incident until it is stood down). Then the key
// steps again in English: a warning issued by hand, a refused file, an incident from the plan, a
// response decided, a task declined; the English page's own words hold no Chinese.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'
import { addArea, capAlert, card, myTask, openEmergency as openEmergencyAt, recordingPage, text, textOf } from './emergencyKit.mjs'

const TAG = `EM${Date.now().toString(36)}`
const STREET = '310101002' // 南京东路街道
const DRAINAGE = '310101-SWJ' // the demo's `drainage` handles for 黄浦区水务局
const STREET_OFFICE = '310101002-JDB' // the demo's `street`
const WATER = '310101-ZLS' // the water company (the demo's `water`)
/** Chinese characters: the English UI's own words have none. */
const HAN = /\p{Script=Han}/u

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const signIn = (page, username) => signInAt(page, ui, username)
const state = { warning: null, incident: null, leader: null, screen: null }

/**
 * A page recording page errors and console errors, except the browser's line for an answer the
 * test provokes on purpose (`expected`, e.g. the 422 of a file that is not CAP).
 */
const newPage = (who, expected = null) => recordingPage(chrome, who, errors, { expected })

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

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `emergency-${name}.png`), fullPage: true })
const call = async (who, method, path, body) => api.call(method, path, await tokenOf(who), body)

const openEmergency = (page, query = '') => openEmergencyAt(page, ui, query)
const warningRow = (page, id) => page.locator(`[data-testid="warning-row"][data-id="${id}"]`)
/** The texts of the page's own words (headings, labels, buttons, badges), data left out. */
async function chromeTexts(page, root = 'body') {
  return page.evaluate((sel) => {
    const data = '[data-testid="incident-pick"], [data-testid="my-task-incident"], [data-testid="banner-incident-title"], [data-testid="warning-headline"], [data-testid="resource-row-name"], [data-testid="incident-title-shown"], .pname, [data-testid="lang-toggle"], [data-testid="who"]'
    const words = new Set()
    for (const el of document.querySelectorAll(`${sel} :is(h1, h2, h3, h4, th, dt, label > span:first-child, button, .el-button, .badge, [data-kind], .el-checkbox__label, .el-radio-button__inner, .lbl, nav a)`)) {
      if (el.closest(data) || el.matches(data)) continue
      // The city's own names inside (a resource's, a plan's) are data, not the page's words.
      let own = el.innerText ?? el.textContent ?? ''
      if (el.querySelector(data)) {
        const clone = el.cloneNode(true)
        for (const inner of clone.querySelectorAll(data)) inner.replaceWith(' ')
        own = [...clone.childNodes].map((n) => n.textContent).join(' ')
      }
      own = own.replace(/\s+/g, ' ').trim()
      if (own) words.add(own)
    }
    return [...words]
  }, root)
}

describe('emergency command (应急指挥)', { timeout: 420_000 }, () => {
  it('(a) the shift lead imports the CAP rainstorm alert and sees it listed; a file that is not CAP is refused naming its element', async () => {
    const page = await newPage('shiftlead', /status of 422/)
    await signIn(page, 'shiftlead')
    await openEmergency(page)
    assert.equal(await text(page.locator('h1')), '应急指挥')
    await page.getByTestId('cap-open').click()
    const xml = capAlert({
      identifier: `${TAG}-rain`, event: '暴雨红色预警', headline: `上海中心气象台发布暴雨红色预警 ${TAG}`,
      codes: ['310101', '310104'], areaDesc: '黄浦区、徐汇区',
    })
    await page.getByTestId('cap-xml').fill(xml)
    await page.getByTestId('cap-submit').click()
    const outcome = page.locator('[data-testid="cap-outcome"][data-outcome="issued"]')
    await outcome.waitFor()
    assert.match(await text(outcome), /^已发布新预警：上海中心气象台发布暴雨红色预警/)
    state.warning = await outcome.getAttribute('data-id')

    const row = warningRow(page, state.warning)
    await row.waitFor()
    assert.deepEqual(
      await Promise.all(['data-level', 'data-hazard', 'data-status', 'data-source'].map((a) => row.getAttribute(a))),
      ['red', 'rainstorm', 'in_force', 'cap'],
    )
    assert.equal(await text(row.locator('[data-kind="warning"]')), '红色预警')
    assert.equal(await text(row.getByTestId('warning-hazard')), '暴雨')
    await textOf(row.getByTestId('warning-areas'), '影响区域：黄浦区、徐汇区')
    // the countdown: six hours less the moments the test has taken
    assert.match(await text(row.getByTestId('warning-expiry')), /^剩余(5小时5\d分|6小时)$/)
    // the badge is red
    const bg = await row.locator('[data-kind="warning"]').evaluate((el) => getComputedStyle(el).backgroundColor)
    assert.equal(bg, 'rgb(198, 40, 40)')

    // the same alert again changes nothing
    await page.getByTestId('cap-submit').click()
    await page.locator('[data-testid="cap-outcome"][data-outcome="unchanged"]').waitFor()
    assert.equal(await page.locator(`[data-testid="warning-row"][data-hazard="rainstorm"]`).count(), 1)

    // a page of HTML is no CAP alert: the element at fault is named
    await page.getByTestId('cap-file').setInputFiles({ name: 'notice.html', mimeType: 'text/html', buffer: Buffer.from('<html><body>暴雨预警</body></html>') })
    const refused = page.getByTestId('cap-error')
    await refused.waitFor()
    assert.equal(await refused.getAttribute('data-field'), 'html')
    assert.match(await text(refused), /^不是有效的 CAP 1\.2 预警，问题元素：<html>/)
    // an alert without its sender: the element named is <sender>
    await page.getByTestId('cap-xml').fill(xml.replace(/<sender>.*<\/sender>/, ''))
    await page.getByTestId('cap-submit').click()
    await page.locator('[data-testid="cap-error"][data-field="sender"]').waitFor()
    assert.match(await text(page.getByTestId('cap-error')), /<sender>/)
    await shot(page, 'cap')

    const listed = (await call('dispatcher', 'GET', '/warnings')).json.items.filter((w) => w.cap_identifier === `${TAG}-rain`)
    assert.equal(listed.length, 1)
    assert.deepEqual([listed[0].level, listed[0].areas], ['red', ['310101', '310104']])
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(b) the leader opens an incident from the rainstorm plan for 南京东路街道 and decides a level II response, not without a reason', async () => {
    const page = await newPage('leader')
    state.leader = page
    await signIn(page, 'leader')
    await openEmergency(page)
    await page.getByTestId('incident-open').click()
    const form = page.getByTestId('incident-open-form')
    await form.waitFor()
    await form.locator('[data-testid="incident-plan"] label[data-plan="rainstorm"]').click()
    await form.getByTestId('incident-plan-tasks').waitFor()
    await addArea(page, 'incident-areas', STREET, '南京东路街道')
    await form.locator(`[data-testid="incident-warnings"] [data-id="${state.warning}"]`).click()
    await form.getByTestId('incident-open-submit').click()
    const detail = page.getByTestId('incident-detail')
    await detail.waitFor()
    state.incident = await detail.getAttribute('data-id')
    assert.match(page.url(), new RegExp(`incident=${state.incident}`))
    assert.equal(await text(page.getByTestId('incident-title-shown')), '暴雨内涝应急预案')
    await textOf(page.getByTestId('incident-areas'), '南京东路街道')
    // the plan's tasks went to the units answering for the street: the water authority, the police, the street office
    await card(page, DRAINAGE).waitFor()
    await card(page, STREET_OFFICE).waitFor()
    assert.equal(await page.locator('[data-testid="task-column"][data-state="assigned"]').getAttribute('data-count'), '3')
    assert.equal(await text(page.getByTestId('response-none')), '尚未确定响应级别')
    // the map frames 黄浦区 and fills the street
    await page.locator(`[data-testid="map-street"][data-code="${STREET}"][data-affected="true"]`).waitFor()
    // and shows the tasks by state: the street office's on its street, every one in the strip
    await page.locator(`[data-testid="map-task"][data-unit="${STREET_OFFICE}"][data-state="assigned"][data-street="${STREET}"]`).waitFor()
    await page.locator(`[data-testid="map-task-area"][data-code="${STREET}"][data-state="assigned"]`).waitFor()
    assert.equal(await page.getByTestId('map-task').count(), 3)

    // a level without a reason is refused
    const response = page.getByTestId('response-form')
    await response.locator('[data-testid="response-level-pick"] [data-level="2"]').click()
    await response.getByTestId('response-submit').click()
    await textOf(page.getByTestId('response-error'), '请填写理由')
    assert.equal(await detail.getAttribute('data-level'), '')
    const bare = await call('leader', 'POST', `/incidents/${state.incident}/commands`, { command: 'set_response', level: '2', reason: '' })
    assert.equal(bare.status, 422)
    assert.equal(bare.json.error.field, 'reason')
    // and a shift lead may not decide it at all
    const lead = await call('shiftlead', 'POST', `/incidents/${state.incident}/commands`, { command: 'set_response', level: '2', reason: '试试' })
    assert.equal(lead.status, 403)

    await response.getByTestId('response-reason-input').fill('暴雨红色预警生效，南京东路一带内涝风险高')
    await response.getByTestId('response-submit').click()
    await page.locator('[data-testid="incident-detail"][data-level="2"]').waitFor()
    assert.equal(await text(page.getByTestId('response-level')), '二级响应')
    assert.equal(await text(page.getByTestId('response-reason')), '暴雨红色预警生效，南京东路一带内涝风险高')
    await page.locator('[data-testid="response-entry"][data-level="2"]').waitFor()
    await page.locator('[data-testid="incident-row"][data-level="2"]').waitFor()
    await page.locator('[data-testid="timeline-entry"][data-action="set_response"]').waitFor()
    await shot(page, 'incident')
    assert.deepEqual(errors, [])
  })

  it("(c) the drainage handler accepts and finishes its task with a report, and never sees the street office's task", async () => {
    const page = await newPage('drainage')
    await signIn(page, 'drainage')
    await openEmergency(page)
    const mine = myTask(page, DRAINAGE)
    await mine.waitFor()
    assert.equal(await page.getByTestId('my-task').count(), 1)
    assert.equal(await myTask(page, STREET_OFFICE).count(), 0)
    assert.equal(await text(mine.getByTestId('my-task-title')), '排查下立交、低洼路段积水，启动泵站强排')
    // the warning concerns 黄浦区: the handler sees it, without the center's controls
    await warningRow(page, state.warning).waitFor()
    assert.equal(await page.getByTestId('warning-update').count(), 0)
    assert.equal(await page.getByTestId('cap-open').count(), 0)

    await mine.getByTestId('task-accept').click()
    await page.locator(`[data-testid="my-task"][data-unit="${DRAINAGE}"][data-state="accepted"]`).waitFor()
    await mine.getByTestId('task-finish').click()
    // no report, no finish
    await mine.getByTestId('task-submit').click()
    await textOf(mine.getByTestId('task-error'), '必填')
    await mine.getByTestId('task-text').fill('河南中路下立交积水已强排，泵站运行正常')
    await mine.getByTestId('task-submit').click()
    await page.locator(`[data-testid="my-task"][data-unit="${DRAINAGE}"][data-state="done"]`).waitFor()

    // the incident's command view: its own task only
    await mine.getByTestId('my-task-incident').click()
    await page.getByTestId('incident-detail').waitFor()
    await card(page, DRAINAGE).waitFor()
    assert.equal(await page.getByTestId('task-card').count(), 1)
    assert.equal(await card(page, STREET_OFFICE).count(), 0)
    assert.equal(await page.getByTestId('assign-form').count(), 0)
    assert.equal(await page.getByTestId('response-form').count(), 0)
    assert.equal(await text(card(page, DRAINAGE).getByTestId('task-report')), '处置情况：河南中路下立交积水已强排，泵站运行正常')
    const seen = (await call('drainage', 'GET', `/incidents/${state.incident}`)).json
    assert.deepEqual(seen.tasks.map((x) => [x.unit, x.state]), [[DRAINAGE, 'done']])
    await shot(page, 'drainage')

    // the leader's page followed live
    await state.leader.locator(`[data-testid="task-card"][data-unit="${DRAINAGE}"][data-state="done"]`).waitFor()
    await state.leader.locator('[data-testid="timeline-entry"][data-action="finish_task"]').waitFor()
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(d) the street office does its own task', async () => {
    const page = await newPage('street')
    await signIn(page, 'street')
    await openEmergency(page)
    const mine = myTask(page, STREET_OFFICE)
    await mine.waitFor()
    assert.equal(await page.getByTestId('my-task').count(), 1)
    assert.equal(await myTask(page, DRAINAGE).count(), 0)
    await mine.getByTestId('task-start').click()
    await page.locator(`[data-testid="my-task"][data-unit="${STREET_OFFICE}"][data-state="in_progress"]`).waitFor()
    await mine.getByTestId('task-finish').click()
    await mine.getByTestId('task-text').fill('已巡查辖区12处积水点，转移地下空间人员23人')
    await mine.getByTestId('task-submit').click()
    await page.locator(`[data-testid="my-task"][data-unit="${STREET_OFFICE}"][data-state="done"]`).waitFor()
    await state.leader.locator(`[data-testid="task-card"][data-unit="${STREET_OFFICE}"][data-state="done"]`).waitFor()
    // the leader's command map follows: the street office's task and street are done
    await state.leader.locator(`[data-testid="map-task"][data-unit="${STREET_OFFICE}"][data-state="done"]`).waitFor()
    await state.leader.locator(`[data-testid="map-task-area"][data-code="${STREET}"][data-state="done"]`).waitFor()
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(e) the shift lead assigns the water company a task, deploys a pump truck and posts a situation report; the city screen shows the warning and the incident', async () => {
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openEmergency(page, `?incident=${state.incident}`)
    await page.getByTestId('incident-detail').waitFor()

    // one more task, for the water company, by its code (named once the units are known)
    await page.getByTestId('assign-unit').fill(WATER)
    await page.getByTestId('assign-unit-name').waitFor()
    await page.getByTestId('assign-title').fill('检查南京东路沿线供水管网')
    await page.getByTestId('assign-submit').click()
    await card(page, WATER).waitFor()
    assert.equal(await card(page, WATER).getAttribute('data-state'), 'assigned')
    // a pump truck more than the plan brought, on its way, then deployed: on the map where it stands
    await page.getByTestId('resource-name').fill('增援泵车')
    await page.getByTestId('resource-lon').fill('121.4876')
    await page.getByTestId('resource-lat').fill('31.2380')
    await page.getByTestId('resource-add').click()
    const truck = page.locator('[data-testid="resource-row"][data-kind="pump_truck"]', { hasText: '增援泵车' })
    await truck.waitFor()
    assert.equal(await truck.getAttribute('data-state'), 'standby')
    await page.locator('[data-testid="map-resource"]').first().waitFor()
    await truck.getByTestId('resource-move').click()
    await page.getByTestId('resource-move-state').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '已部署' }).first().click()
    await page.getByTestId('resource-move-submit').click()
    await page.locator('[data-testid="resource-row"][data-kind="pump_truck"][data-state="deployed"]', { hasText: '增援泵车' }).waitFor()
    await page.locator('[data-testid="map-resource"][data-state="deployed"]').waitFor()

    await page.getByTestId('sitrep-submit').click()
    await textOf(page.getByTestId('sitrep-error'), '必填')
    const report = `${TAG} 南京东路积水已降至5厘米以下，交通恢复`
    await page.getByTestId('sitrep-text').fill(report)
    await page.getByTestId('sitrep-submit').click()
    await page.locator('[data-testid="sitrep"][data-user="shiftlead"]').waitFor()
    assert.equal(await text(page.locator('[data-testid="sitrep"][data-user="shiftlead"] [data-testid="sitrep-text-shown"]')), report)
    // the leader's page has it too, and in the timeline
    await state.leader.locator('[data-testid="sitrep"][data-user="shiftlead"]').waitFor()
    await state.leader.locator('[data-testid="timeline-entry"][data-action="sitrep"]').waitFor()
    await page.context().close()

    // the city screen (kept open for the stand-down)
    const screen = await newPage('dispatcher')
    state.screen = screen
    await signIn(screen, 'dispatcher')
    const banner = screen.getByTestId('emergency-banner')
    await banner.waitFor()
    const w = screen.locator(`[data-testid="banner-warning"][data-id="${state.warning}"]`)
    await w.waitFor()
    assert.equal(await w.getAttribute('data-level'), 'red')
    assert.equal(await text(w.locator('[data-kind="warning"]')), '暴雨红色')
    await textOf(w.getByTestId('banner-warning-areas'), '黄浦区、徐汇区')
    const inc = screen.locator(`[data-testid="banner-incident"][data-id="${state.incident}"]`)
    await inc.waitFor()
    assert.equal(await inc.getAttribute('data-level'), '2')
    assert.equal(await text(inc.getByTestId('banner-incident-title')), '暴雨内涝应急预案')
    assert.equal(await text(inc.locator('[data-kind="response"]')), '二级响应')
    await shot(screen, 'screen')
    assert.deepEqual(errors, [])
  })

  it('(f) the leader lowers the response to level IV and stands the incident down; the screen follows', async () => {
    const page = state.leader
    const response = page.getByTestId('response-form')
    await response.locator('[data-testid="response-level-pick"] [data-level="4"]').click()
    await response.getByTestId('response-reason-input').fill('雨势减弱，积水基本消退')
    await response.getByTestId('response-submit').click()
    await page.locator('[data-testid="incident-detail"][data-level="4"]').waitFor()
    await page.locator('[data-testid="response-history"][data-count="2"]').waitFor()
    const entries = page.getByTestId('response-entry')
    assert.deepEqual(await entries.evaluateAll((els) => els.map((e) => e.dataset.level)), ['4', '2'])
    assert.equal(await text(entries.first().locator('[data-kind="response"]')), '四级响应')
    assert.equal(await text(entries.first().locator('.reason')), '雨势减弱，积水基本消退')
    assert.match(await text(entries.first().locator('.small')), /^leader 于 \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}$/)
    await state.screen.locator(`[data-testid="banner-incident"][data-id="${state.incident}"][data-level="4"]`).waitFor()

    await page.getByTestId('incident-stand-down').click()
    await page.getByTestId('leader-confirm').click()
    await textOf(page.getByTestId('leader-error'), '请填写理由')
    await page.getByTestId('leader-reason').fill('险情解除，转入常态管理')
    await page.getByTestId('leader-confirm').click()
    await page.locator('[data-testid="incident-detail"][data-state="stood_down"]').waitFor()
    assert.equal(await text(page.getByTestId('incident-state')), '已终止')
    assert.equal(await page.getByTestId('response-form').count(), 0)
    await page.locator('[data-testid="timeline-entry"][data-action="stand_down"]').waitFor()
    // no longer among the active incidents
    await page.locator(`[data-testid="incident-row"][data-id="${state.incident}"]`).waitFor({ state: 'detached' })
    await shot(page, 'stood-down')

    // the screen: the incident goes, the warning stays
    await state.screen.locator(`[data-testid="banner-incident"][data-id="${state.incident}"]`).waitFor({ state: 'detached' })
    await state.screen.locator(`[data-testid="banner-warning"][data-id="${state.warning}"]`).waitFor()
    const done = (await call('leader', 'GET', `/incidents/${state.incident}`)).json
    assert.equal(done.state, 'stood_down')
    assert.equal(done.response.level, '4')
    assert.deepEqual(done.tasks.filter((x) => x.state === 'done').map((x) => x.unit).sort(), [DRAINAGE, STREET_OFFICE])
    await state.screen.context().close()
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(g) in English: a warning issued by hand, a refused file, an incident from the plan, a response, a task declined', async () => {
    // the dispatcher issues a gale warning for 徐汇区 and refuses a file
    const page = await newPage('dispatcher-en', /status of 422/)
    await signIn(page, 'dispatcher')
    await setLanguage(page, 'en')
    await openEmergency(page)
    assert.equal(await text(page.locator('h1')), 'Emergency command')
    await page.getByTestId('warning-issue-open').click()
    const issue = page.getByTestId('warning-issue-form')
    await issue.waitFor()
    await issue.getByTestId('warning-hazard-select').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'Gale' }).first().click()
    await issue.locator('[data-testid="warning-level"] [data-level="yellow"]').click()
    // nothing yet: the areas and the headline are asked for
    await issue.getByTestId('warning-issue-submit').click()
    await textOf(issue.getByTestId('warning-areas-code-error'), 'Add at least one area')
    await addArea(page, 'warning-areas', '310104', '徐汇区')
    await issue.getByTestId('warning-headline-input').fill(`${TAG} gale warning`)
    await issue.getByTestId('warning-issue-submit').click()
    await textOf(page.getByTestId('emergency-notice'), 'Warning issued')
    const gale = page.locator('[data-testid="warning-row"][data-hazard="gale"]')
    await gale.waitFor()
    assert.equal(await text(gale.locator('[data-kind="warning"]')), 'Yellow warning')
    await textOf(gale.getByTestId('warning-areas'), 'Areas: 徐汇区')
    assert.match(await text(gale.getByTestId('warning-expiry')), /^(5 h 5\d min|6 h) left$/)
    // raised to orange
    await gale.getByTestId('warning-update').click()
    await gale.locator('[data-testid="warning-update-level"] [data-level="orange"]').click()
    await gale.getByTestId('warning-note').fill('wind rising')
    await gale.getByTestId('warning-submit').click()
    await page.locator('[data-testid="warning-row"][data-hazard="gale"][data-level="orange"]').waitFor()
    // then lifted: it leaves the list of those in force
    await gale.getByTestId('warning-lift').click()
    await gale.getByTestId('warning-note').fill('wind easing')
    await gale.getByTestId('warning-submit').click()
    await gale.waitFor({ state: 'detached' })
    await textOf(page.getByTestId('emergency-notice'), 'Warning lifted')
    const lifted = (await call('dispatcher', 'GET', '/warnings?past=true')).json.items.find((w) => w.hazard === 'gale')
    assert.deepEqual([lifted.status, lifted.level, lifted.history.map((h) => h.action)], ['lifted', 'orange', ['issued', 'updated', 'lifted']])
    assert.deepEqual(lifted.history.map((h) => h.note), [null, 'wind rising', 'wind easing'])

    await page.getByTestId('cap-open').click()
    await page.getByTestId('cap-file').setInputFiles({ name: 'feed.xml', mimeType: 'application/xml', buffer: Buffer.from('<rss version="2.0"><channel/></rss>') })
    await page.locator('[data-testid="cap-error"][data-field="rss"]').waitFor()
    assert.match(await text(page.getByTestId('cap-error')), /^Not a CAP 1\.2 alert; the element at fault: <rss>/)
    const words = await chromeTexts(page)
    assert.ok(words.length > 20, words.join(' | '))
    for (const w of words) assert.doesNotMatch(w, HAN, `Chinese in the English page: ${w}`)
    await shot(page, 'en-warnings')
    await page.context().close()

    // the leader opens an incident from the plan and decides a level III response
    const leader = await newPage('leader-en')
    await signIn(leader, 'leader')
    await setLanguage(leader, 'en')
    await openEmergency(leader)
    await leader.getByTestId('incident-open').click()
    const form = leader.getByTestId('incident-open-form')
    await form.locator('[data-testid="incident-plan"] label[data-plan="rainstorm"]').click()
    await addArea(leader, 'incident-areas', STREET, '南京东路街道')
    await form.getByTestId('incident-title').fill(`${TAG} Nanjing Road flooding`)
    await form.getByTestId('incident-open-submit').click()
    const detail = leader.getByTestId('incident-detail')
    await detail.waitFor()
    const id = await detail.getAttribute('data-id')
    assert.notEqual(id, state.incident)
    assert.equal(await text(leader.getByTestId('incident-title-shown')), `${TAG} Nanjing Road flooding`)
    await card(leader, DRAINAGE).waitFor()
    const response = leader.getByTestId('response-form')
    await response.locator('[data-testid="response-level-pick"] [data-level="3"]').click()
    await response.getByTestId('response-submit').click()
    await textOf(leader.getByTestId('response-error'), 'Give the reason')
    await response.getByTestId('response-reason-input').fill('Orange gale and standing water')
    await response.getByTestId('response-submit').click()
    await leader.locator('[data-testid="incident-detail"][data-level="3"]').waitFor()
    assert.equal(await text(leader.getByTestId('response-level')), 'Level III response')
    assert.equal(await text(leader.locator(`[data-testid="task-column"][data-state="assigned"] h4`)), 'Assigned 3')

    // the drainage handler declines its task, in English
    const drainage = await newPage('drainage-en')
    await signIn(drainage, 'drainage')
    await setLanguage(drainage, 'en')
    await openEmergency(drainage)
    const mine = drainage.locator(`[data-testid="my-task"][data-incident="${id}"]`)
    await mine.waitFor()
    assert.equal(await text(mine.getByTestId('my-task-state')), 'Assigned')
    await mine.getByTestId('task-unable').click()
    await mine.getByTestId('task-text').fill('All pump trucks are deployed at the first incident')
    await mine.getByTestId('task-submit').click()
    await drainage.locator(`[data-testid="my-task"][data-incident="${id}"][data-state="unable"]`).waitFor()
    for (const w of await chromeTexts(drainage)) assert.doesNotMatch(w, HAN, `Chinese in the handler's English page: ${w}`)
    await drainage.context().close()

    // the leader's page: the declined task, live, and every word of the page's own in English
    await leader.locator(`[data-testid="task-card"][data-unit="${DRAINAGE}"][data-state="unable"]`).waitFor()
    await leader.locator('[data-testid="timeline-entry"][data-action="task_unable"]').waitFor()
    assert.equal(await text(leader.locator('[data-testid="timeline-entry"][data-action="task_unable"] td').nth(2)), 'Task declined')
    const leaderWords = await chromeTexts(leader)
    assert.ok(leaderWords.includes('Task board') && leaderWords.includes('Situation reports') && leaderWords.includes('Timeline'), leaderWords.join(' | '))
    for (const w of leaderWords) assert.doesNotMatch(w, HAN, `Chinese in the leader's English page: ${w}`)
    await shot(leader, 'en-incident')

    // the English city screen's banner: its words in English, the areas' names as they are
    await leader.goto(`${ui.url}/screen`)
    const banner = leader.getByTestId('emergency-banner')
    await banner.waitFor()
    assert.equal(await text(leader.locator(`[data-testid="banner-warning"][data-id="${state.warning}"] [data-kind="warning"]`)), 'Rainstorm red')
    await leader.locator(`[data-testid="banner-incident"][data-id="${id}"][data-level="3"]`).waitFor()
    for (const w of await chromeTexts(leader, '[data-testid="emergency-banner"]')) assert.doesNotMatch(w, HAN, `Chinese in the English banner: ${w}`)
    assert.match(await text(banner.locator('.lbl').first()), /^Warnings$/)
    await shot(leader, 'en-screen')
    await leader.context().close()
    assert.deepEqual(errors, [])
  })

  it('(h) in English the shift lead, who has the most menu entries, still has them on one line', async () => {
    const page = await newPage('shiftlead-en')
    await signIn(page, 'shiftlead')
    await setLanguage(page, 'en')
    await openEmergency(page)
    assert.equal(await text(page.getByTestId('nav-emergency')), 'Emergency')
    const fits = await page.evaluate(() => {
      const header = document.querySelector('.app-header')
      const tops = [...header.querySelectorAll('.nav a')].map((a) => a.getBoundingClientRect().top)
      const who = header.querySelector('[data-testid="who"]').getBoundingClientRect().width
      return { oneRow: new Set(tops).size === 1, overflow: header.scrollWidth - header.clientWidth, whoShown: who >= 40 }
    })
    assert.deepEqual(fits, { oneRow: true, overflow: 0, whoShown: true })
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('(i) the page is not for other roles: no link, and the page says so', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    assert.equal(await page.getByTestId('nav-emergency').count(), 0)
    await page.goto(`${ui.url}/emergency`)
    await textOf(page.getByTestId('emergency-no-access'), /^应急指挥供中心领导、值班长、派遣员和专业部门使用/)
    await page.context().close()
    assert.deepEqual(errors, [])
  })
})
