// Merging duplicate reports into a master case (合并). An operator takes two calls about the same
// missing manhole cover at the same place in the intake console: the first is opened as a case
// (the master), the second is recorded as its duplicate from the likely duplicates under the
// description, i.e. opened and merged into the first at once, the caller given the master's
// number. The report's page says it was merged into the master (linked), the master's page lists
// it among its merged reports, both timelines say so in words. A shift lead undoes the merge and
// the report is back in its state before; accepted, it is merged again from its own page (the
// number typed is checked first, the server's refusal said beside it, then the master chosen from
// its likely duplicates), and undone in English, back to accepted. A dispatcher is offered
// neither. A citizen reporting the same problem there is told it was reported already, with the
// master's number linked to its follow page; the citizen's own report, merged by an operator,
// says on its follow page that its result is the master's, and shows the master's progress; the
// staff's hotline case a citizen is pointed at follows by its number too, its state shown.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const HUANGPU = { lon: '121.4837', lat: '31.2369' }
/** The first call: the master. */
const FIRST = '市民来电：河南中路人行道上的下水道井盖缺失，井口敞开，行人夜间容易踩空'
/** The second call about the same manhole. */
const SECOND = '市民来电：河南中路人行道上有个下水道井盖不见了，井口敞开很危险'
/** A citizen about the same manhole, and another one after them. */
const CITIZEN = '河南中路人行道上的下水道井盖不见了，井口敞开，晚上走路很危险'
const CITIZEN_AGAIN = '河南中路人行道有个下水道井盖没了，井口敞开，路过的人很危险'
/** A case number no case has. */
const NOBODY = '3100009999010100001'

let server, ui, chrome, api
const errors = []
/** The cases of the story: the master and the report merged into it (numbers and ids), the citizen's report. */
const story = { master: null, masterId: null, report: null, reportId: null, citizenMaster: null, citizen: null }
const tokenOf = sessionsOf(() => api)
const newPage = (who, opts = {}) => openPage(chrome, who, errors, { timeout: 30_000, ...opts })
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

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `merge-${name}.png`), fullPage: true })

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}
async function held(number) {
  const r = await call('operator', 'GET', `/cases/${number}`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}
async function timelineOf(id) {
  const r = await call('operator', 'GET', `/cases/${id}/timeline`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}

async function openConsole(page) {
  await page.getByTestId('nav-intake').click()
  await page.waitForURL(/\/intake$/)
  await page.getByTestId('intake-form').waitFor()
}

const KIND_WORDS = { complaint: '投诉', request: '求助' }
/** The call's kind, chosen again when the list closed before the choice took (Element Plus under load). */
async function chooseKind(page, kind) {
  const select = page.getByTestId('intake-kind')
  for (let attempt = 0; attempt < 3; attempt++) {
    await select.click()
    await page.locator(`.intake-kind-popper .el-select-dropdown__item[data-kind="${kind}"]:visible`).click()
    try {
      await page.waitForFunction(([w]) => document.querySelector('[data-testid="intake-kind"]')?.textContent?.includes(w), [KIND_WORDS[kind]], { timeout: 3_000 })
      return
    } catch { /* the list was still opening: choose again */ }
  }
  throw new Error(`kind ${kind} could not be chosen`)
}

/** A call typed at HUANGPU and located; resolves once the likely duplicates of `description` are answered. */
async function takeCall(page, c) {
  if (c.name) await page.getByTestId('intake-name').fill(c.name)
  if (c.phone) await page.getByTestId('intake-phone').fill(c.phone)
  await chooseKind(page, c.kind)
  const answered = page.waitForResponse((r) => {
    const url = new URL(r.url())
    return url.pathname === '/api/v1/duplicate-candidates' && url.searchParams.get('text') === c.description && url.searchParams.has('lon')
  })
  await page.getByTestId('intake-description').fill(c.description)
  await page.getByTestId('intake-lon').fill(HUANGPU.lon)
  await page.getByTestId('intake-lat').fill(HUANGPU.lat)
  await page.getByTestId('intake-located').waitFor()
  const answer = await answered
  assert.equal(answer.status(), 200, await answer.text())
  return answer.json()
}

/** The case page of `number`, once it shows the case at `state`. */
async function openCase(page, number, state) {
  await page.goto(`${ui.url}/cases/${number}`)
  await page.locator('[data-testid="case-number"]', { hasText: number }).waitFor()
  if (state) await page.locator(`[data-testid="case-state"][data-state="${state}"]`).waitFor()
}

/** One of the case's generic actions, its form filled by `fill`. */
async function command(page, name, fill) {
  await page.getByTestId(`action-${name}`).click()
  const form = page.locator(`[data-testid="command-form"][data-command="${name}"]`)
  await form.waitFor()
  if (fill) await fill(form)
  await form.getByTestId('command-submit').click()
  await form.waitFor({ state: 'detached' })
}

/** A citizen's manhole report typed at HUANGPU; resolves with the answer about reports nearby. */
async function reportAsCitizen(page, description) {
  await page.locator('[data-kind="manhole"]').click()
  const asked = page.waitForResponse((r) => {
    const url = new URL(r.url())
    return url.pathname === '/api/v1/public/duplicate-candidates' && url.searchParams.get('text') === description
  })
  await page.getByTestId('lon').fill(HUANGPU.lon)
  await page.getByTestId('lat').fill(HUANGPU.lat)
  await page.getByTestId('description').fill(description)
  const answer = await asked
  assert.equal(answer.status(), 200, await answer.text())
  await page.locator('[data-testid="nearby-reports"]:not([data-state="asking"])').waitFor({ state: 'attached' })
  return answer
}

const timelineLine = (page, action) => page.locator(`[data-testid="timeline-merge"][data-action="${action}"]`)

describe('merging a duplicate report into a master case', { timeout: 600_000 }, () => {
  it('an operator takes two calls about one manhole: the second is merged into the first from its likely duplicates', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openConsole(page)

    // the first call: opened as a case, the master of the story
    await takeCall(page, { name: '陈先生', phone: '13912345678', kind: 'complaint', description: FIRST })
    await page.getByTestId('intake-submit').click()
    await page.getByTestId('intake-created').waitFor()
    story.master = await text(page.getByTestId('intake-created-number'))
    assert.match(story.master, /^\d{19}$/)
    story.masterId = (await held(story.master)).id
    await page.getByTestId('intake-next').click()
    await page.getByTestId('intake-form').waitFor()

    // the second call: the first is among its likely duplicates
    const answer = await takeCall(page, { name: '李女士', phone: '13812345678', kind: 'request', description: SECOND })
    assert.ok(answer.some((c) => c.case.number === story.master), JSON.stringify(answer.map((c) => [c.case.number, c.score])))
    const row = page.getByTestId(`duplicate-candidate-${story.master}`)
    await row.waitFor()
    const posts = []
    page.on('request', (r) => {
      const url = new URL(r.url())
      if (r.method() === 'POST' && url.pathname.startsWith('/api/v1/cases')) posts.push([url.pathname, r.headers()['idempotency-key'], r.postDataJSON()])
    })
    const record = page.getByTestId(`duplicate-record-${story.master}`)
    assert.equal(await text(record), '登记为重复')
    assert.equal(await record.getAttribute('title'), `按当前填写立案，并合并到 ${story.master}`)
    await record.click()

    // merged: the caller is given the master's number
    const done = page.getByTestId('intake-duplicate-done')
    await done.waitFor()
    assert.equal(await done.getAttribute('data-state'), 'merged')
    assert.equal(await text(page.getByTestId('intake-duplicate-title')), `已合并到 ${story.master}`)
    assert.equal(await text(page.getByTestId('intake-duplicate-master')), story.master)
    story.report = await text(page.getByTestId('intake-duplicate-number'))
    assert.match(story.report, /^\d{19}$/)
    assert.notEqual(story.report, story.master)
    assert.match(await text(done), /请告知来电人/)
    assert.match(await text(done), /已合并到原案件/)
    assert.equal(posts.length, 2, JSON.stringify(posts))
    const [opened, merged] = posts
    assert.equal(opened[0], '/api/v1/cases')
    assert.match(opened[1], /^[0-9a-f-]{36}$/, 'the call carries its idempotency key')
    assert.equal(opened[2].description, SECOND)
    assert.match(merged[0], /^\/api\/v1\/cases\/[^/]+\/merge$/)
    assert.equal(merged[2].master, story.master)
    assert.equal(merged[2].opinion, `与 ${story.master} 为同一问题（来电受理时合并）`)
    assert.equal(typeof merged[2].version, 'number')
    await shot(page, 'zh-intake-merged')

    // what the server holds: the report merged into the master, the master taking it in
    const report = await held(story.report)
    story.reportId = report.id
    assert.equal(report.state, 'merged')
    assert.deepEqual(report.merged_into, { id: story.masterId, number: story.master })
    assert.equal(report.source, 'hotline')
    const master = await held(story.master)
    assert.equal(master.state, 'reported')
    assert.deepEqual(master.merged_reports.map((r) => [r.id, r.number, r.source]), [[story.reportId, story.report, 'hotline']])
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it("the report's page says it was merged into the master; the master lists it", async () => {
    assert.ok(story.report, 'no report from the first test')
    const page = await newPage('operator-pages')
    await signIn(page, 'operator')
    await openCase(page, story.report, 'merged')
    assert.equal(await text(page.getByTestId('case-state')), '已合并')
    const banner = page.getByTestId('case-merged-into')
    assert.equal(await banner.getAttribute('data-master'), story.master)
    assert.match(await text(banner), new RegExp(`已合并到 ${story.master}`))
    // an operator may not undo a merge, and a merged report is merged no further
    assert.equal(await page.getByTestId('unmerge-open').count(), 0)
    assert.equal(await page.getByTestId('merge-panel').count(), 0)
    const merge = timelineLine(page, 'merge')
    await merge.waitFor()
    assert.equal(await text(merge), `合并到主案 ${story.master}`)
    assert.equal(await merge.getByTestId('timeline-merge-link').getAttribute('href'), `/cases/${story.master}`)
    await shot(page, 'zh-report')

    // the banner's link opens the master, which lists the report
    await page.getByTestId('case-merged-into-link').click()
    await page.locator('[data-testid="case-number"]', { hasText: story.master }).waitFor()
    const reports = page.getByTestId('case-merged-reports')
    await reports.waitFor()
    assert.equal(await reports.getAttribute('data-count'), '1')
    assert.equal(await text(reports.locator('h2')), '合并的报告（1）')
    const row = reports.locator(`[data-testid="merged-report"][data-number="${story.report}"]`)
    assert.equal(await text(row.getByTestId('merged-report-link')), story.report)
    assert.equal(await row.getByTestId('merged-report-link').getAttribute('href'), `/cases/${story.report}`)
    assert.equal(await text(row.getByTestId('merged-report-source')), '12345 热线')
    assert.match(await text(row.getByTestId('merged-report-at')), /\d{4}.\d{1,2}.\d{1,2}/)
    const take = timelineLine(page, 'take_report')
    await take.waitFor()
    assert.equal(await text(take), `报告 ${story.report} 合并到本案，随本案处理`)
    assert.equal(await take.getByTestId('timeline-merge-link').getAttribute('href'), `/cases/${story.report}`)
    // a master is merged into no other case: its page offers no merge
    assert.equal(await page.getByTestId('merge-panel').count(), 0)
    await shot(page, 'zh-master')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a shift lead undoes the merge: the report is back in the state it had', async () => {
    const before = await held(story.report)
    assert.equal(before.state, 'merged')
    assert.ok(before.actions.includes('merge') === false)
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openCase(page, story.report, 'merged')
    await page.getByTestId('unmerge-open').click()
    const form = page.getByTestId('unmerge-form')
    await form.waitFor()
    // a reason is required
    await page.getByTestId('unmerge-submit').click()
    assert.equal(await text(page.getByTestId('unmerge-error-reason')), '请填写撤销原因')
    await page.getByTestId('unmerge-reason').fill('核实后不是同一处井盖')
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/unmerge'))
    await page.getByTestId('unmerge-submit').click()
    assert.deepEqual((await sent).postDataJSON(), { version: before.version, reason: '核实后不是同一处井盖' })
    await page.locator('[data-testid="case-state"][data-state="reported"]').waitFor()
    assert.equal(await page.getByTestId('case-merged-into').count(), 0)
    const unmerge = timelineLine(page, 'unmerge')
    await unmerge.waitFor()
    assert.equal(await text(unmerge), `撤销合并，不再随 ${story.master} 处理`)
    // a shift lead may merge a reported case again
    await page.getByTestId('merge-panel').waitFor()
    await shot(page, 'zh-unmerged')

    const report = await held(story.report)
    assert.equal(report.state, 'reported')
    assert.equal(report.merged_into ?? null, null)
    const master = await held(story.master)
    assert.deepEqual(master.merged_reports, [])
    const released = (await timelineOf(story.masterId)).find((e) => e.action === 'release_report')
    assert.ok(released, 'the master records the report released')
    assert.equal(released.details.report, story.report)

    await openCase(page, story.master)
    const release = timelineLine(page, 'release_report')
    await release.waitFor()
    assert.equal(await text(release), `报告 ${story.report} 撤销合并，不再随本案处理`)
    assert.equal(await page.getByTestId('case-merged-reports').count(), 0)
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it("an accepted report is merged from its own page: the number typed is checked, the server's refusal said beside it, then a likely duplicate chosen", async () => {
    // the unknown master's 422 is a failed request in the console
    const page = await newPage('operator-case', { consoleErrors: false })
    await signIn(page, 'operator')
    await openCase(page, story.report, 'reported')
    await command(page, 'accept')
    await page.locator('[data-testid="case-state"][data-state="accepted"]').waitFor()

    const panel = page.getByTestId('merge-panel')
    await panel.waitFor()
    assert.equal(await text(panel.locator('h2')), '合并到主案')
    const master = page.getByTestId('merge-master')
    const posts = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/merge')) posts.push(r.postDataJSON())
    })
    await master.fill('12345')
    await page.getByTestId('merge-submit').click()
    assert.equal(await text(page.getByTestId('merge-error-master')), '请输入 19 位案件编号')
    await master.fill(story.report)
    await page.getByTestId('merge-submit').click()
    assert.equal(await text(page.getByTestId('merge-error-master')), '不能合并到本案自身')
    assert.equal(posts.length, 0, 'nothing sent for a number checked here')
    // a number no case has: the server's refusal, beside the number
    await master.fill(NOBODY)
    const refused = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/merge'))
    await page.getByTestId('merge-submit').click()
    const answer = await refused
    assert.equal(answer.status(), 422, await answer.text())
    const body = await answer.json()
    assert.equal(body.error.code, 'unknown_reference')
    assert.equal(body.error.field, 'master')
    await page.locator('[data-testid="merge-error-master"]', { hasText: `没有编号为 ${NOBODY} 的案件，或该案件不在您的辖区内` }).waitFor()
    assert.equal(await master.getAttribute('aria-invalid'), 'true')
    await shot(page, 'zh-merge-refused')

    // the report's likely duplicates: the master among them, the report itself not
    const row = panel.getByTestId(`duplicate-candidate-${story.master}`)
    await row.waitFor()
    assert.equal(await panel.getByTestId(`duplicate-candidate-${story.report}`).count(), 0)
    const here = panel.getByTestId(`duplicate-record-${story.master}`)
    assert.equal(await text(here), '合并到此案')
    await page.getByTestId('merge-opinion').fill('同一处井盖，随原案处理')
    await here.click()
    await page.locator('[data-testid="case-state"][data-state="merged"]').waitFor()
    assert.equal(await page.getByTestId('case-merged-into').getAttribute('data-master'), story.master)
    const last = posts.at(-1)
    assert.equal(last.master, story.master)
    assert.equal(last.opinion, '同一处井盖，随原案处理')
    await shot(page, 'zh-merged-from-page')
    const report = await held(story.report)
    assert.equal(report.state, 'merged')
    assert.equal(report.merged_into?.number, story.master)
    await page.context().close()
  })

  it('in English: the master lists the report, the report says where it went, and a shift lead undoes the merge back to accepted', async () => {
    const page = await newPage('shiftlead-en')
    await signIn(page, 'shiftlead')
    await setLanguage(page, 'en')
    await openCase(page, story.master)
    const reports = page.getByTestId('case-merged-reports')
    await reports.waitFor()
    assert.equal(await text(reports.locator('h2')), 'Merged reports (1)')
    assert.equal(await text(reports.getByTestId('merged-report-source')), '12345 hotline')
    assert.equal(await text(timelineLine(page, 'take_report').last()), `Report ${story.report} merged into this case, handled with it`)
    await shot(page, 'en-master')

    await reports.getByTestId('merged-report-link').click()
    await page.locator('[data-testid="case-number"]', { hasText: story.report }).waitFor()
    await page.locator('[data-testid="case-state"][data-state="merged"]').waitFor()
    assert.equal(await text(page.getByTestId('case-state')), 'Merged')
    assert.match(await text(page.getByTestId('case-merged-into')), new RegExp(`Merged into ${story.master}`))
    assert.equal(await text(timelineLine(page, 'merge').last()), `Merged into case ${story.master}`)
    assert.equal(await text(timelineLine(page, 'unmerge')), `Merge undone: no longer handled with ${story.master}`)
    await page.getByTestId('unmerge-open').click()
    assert.equal(await text(page.getByTestId('unmerge-submit')), 'Undo merge')
    await page.getByTestId('unmerge-reason').fill('Another manhole after all')
    await page.getByTestId('unmerge-submit').click()
    await page.locator('[data-testid="case-state"][data-state="accepted"]').waitFor()
    assert.equal(await text(page.getByTestId('case-state')), 'Accepted')
    await shot(page, 'en-unmerged')
    assert.equal((await held(story.report)).state, 'accepted')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a citizen reporting the same problem there is told it was reported already, and may still send a report; merged, its follow page shows the master', async () => {
    // a first citizen reports the manhole: a case anyone may follow by its number
    const first = await newPage('citizen-first')
    await first.goto(`${ui.url}/citizen`)
    await reportAsCitizen(first, CITIZEN)
    await first.getByTestId('submit').click()
    await first.getByTestId('report-done').waitFor()
    story.citizenMaster = await text(first.getByTestId('case-number'))
    assert.match(story.citizenMaster, /^\d{19}$/)
    await first.context().close()

    // a second citizen about to report it again is told, with the number and the state
    const page = await newPage('citizen')
    await page.goto(`${ui.url}/citizen`)
    const answer = await reportAsCitizen(page, CITIZEN_AGAIN)
    const url = new URL(answer.url())
    assert.equal(url.searchParams.get('lon'), HUANGPU.lon)
    assert.equal(url.searchParams.get('lat'), HUANGPU.lat)
    assert.equal(url.searchParams.get('category'), '10101')
    const { candidates } = await answer.json()
    assert.ok(candidates.length <= 3)
    const found = candidates.find((c) => c.number === story.citizenMaster)
    assert.ok(found, JSON.stringify(candidates))
    assert.equal(found.state, 'reported')
    assert.ok(found.score > 0 && found.score <= 1 && found.distance_m >= 0, JSON.stringify(found))
    const shown = await page.locator('[data-testid="nearby-report"]').evaluateAll((ls) => ls.map((l) => l.dataset.number))
    assert.deepEqual(shown, candidates.map((c) => c.number))
    const row = page.locator(`[data-testid="nearby-report"][data-number="${story.citizenMaster}"]`)
    // the state in the words the public pages use (待受理 for a reported case)
    assert.equal(await text(row.locator('span').first()), `附近已有人上报：${story.citizenMaster}（${found.state_zh}），可直接跟踪`)
    const link = row.getByTestId('nearby-report-link')
    assert.equal(await link.getAttribute('href'), `/citizen/${story.citizenMaster}`)
    await shot(page, 'zh-citizen-nearby')

    // the link opens that case's follow page: its state, not its details
    await link.click()
    await page.locator('[data-testid="follow-number"]', { hasText: story.citizenMaster }).waitFor()
    await page.getByTestId('follow-no-details').waitFor()
    await page.goBack()
    await page.getByTestId('citizen-form').waitFor()

    // the citizen sends their own report all the same (the form as they left it, or typed again)
    if (!(await page.getByTestId('description').inputValue())) await reportAsCitizen(page, CITIZEN_AGAIN)
    await page.getByTestId('submit').click()
    await page.getByTestId('report-done').waitFor()
    story.citizen = await text(page.getByTestId('case-number'))
    assert.match(story.citizen, /^\d{19}$/)

    // an operator merges it into the first citizen's report
    const report = await held(story.citizen)
    assert.ok(report.actions.includes('merge'), JSON.stringify(report.actions))
    const merged = await call('operator', 'POST', `/cases/${report.id}/merge`, { version: report.version, master: story.citizenMaster, opinion: '同一处井盖' })
    assert.equal(merged.status, 200, JSON.stringify(merged.json))
    assert.equal(merged.json.state, 'merged')

    // the citizen's follow page (their device holds the follow token): merged, the master's state and progress
    await page.getByTestId('follow-link').click()
    await page.locator('[data-testid="follow-number"]', { hasText: story.citizen }).waitFor()
    const note = page.getByTestId('follow-merged')
    await note.waitFor()
    assert.equal(await note.getAttribute('data-master'), story.citizenMaster)
    assert.equal(await text(note), `您的报告已与 ${story.citizenMaster} 合并处理，处理结果以该案为准`)
    // the states in the words the public view gives them
    const seen = await api.call('GET', `/public/cases/${story.citizen}`)
    assert.equal(seen.status, 200, JSON.stringify(seen.json))
    assert.equal(seen.json.merged_into, story.citizenMaster)
    assert.equal(seen.json.master?.number, story.citizenMaster)
    assert.equal(await page.getByTestId('follow-state').getAttribute('data-state'), 'merged')
    assert.equal(await text(page.getByTestId('follow-state')), seen.json.state_zh)
    const masterBox = page.getByTestId('follow-master')
    assert.equal(await masterBox.getAttribute('data-master'), story.citizenMaster)
    assert.equal(await page.getByTestId('follow-master-state').getAttribute('data-state'), 'reported')
    assert.equal(await text(page.getByTestId('follow-master-state')), seen.json.master.state_zh)
    assert.ok(await page.locator('[data-testid="follow-master-steps"] li').count() >= 1, 'the master\'s steps, with the token')
    await shot(page, 'zh-citizen-follow')

    await setLanguage(page, 'en')
    assert.equal(await text(note), `Your report was merged into ${story.citizenMaster}; its result is yours`)
    await shot(page, 'en-citizen-follow')
    await page.getByTestId('follow-master-link').click()
    await page.waitForURL(new RegExp(`/citizen/${story.citizenMaster}$`))
    await page.locator('[data-testid="follow-number"]', { hasText: story.citizenMaster }).waitFor()
    assert.equal(await page.getByTestId('follow-merged').count(), 0)
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it("the staff's case a citizen is pointed at follows by its number: the link shows its state", async () => {
    // the hotline call the intake console opened reads alike too: a citizen is pointed at it
    const page = await newPage('citizen-staff-master')
    await page.goto(`${ui.url}/citizen`)
    const answer = await reportAsCitizen(page, CITIZEN_AGAIN)
    const { candidates } = await answer.json()
    assert.ok(candidates.some((c) => c.number === story.master), JSON.stringify(candidates))
    const master = await held(story.master)
    assert.equal(master.source, 'hotline')
    const row = page.locator(`[data-testid="nearby-report"][data-number="${story.master}"]`)
    assert.equal(await row.getAttribute('data-state'), master.state)
    await row.getByTestId('nearby-report-link').click()

    // its follow page: the state anyone may read by the number, no details without a follow token
    await page.locator('[data-testid="follow-number"]', { hasText: story.master }).waitFor()
    const state = page.getByTestId('follow-state')
    await state.waitFor()
    assert.equal(await state.getAttribute('data-state'), master.state)
    assert.equal(await text(state), master.state_zh)
    await page.getByTestId('follow-no-details').waitFor()
    assert.equal(await page.getByTestId('follow-description').count(), 0)
    const follow = await api.call('GET', `/public/cases/${story.master}`)
    assert.equal(follow.status, 200, JSON.stringify(follow.json))
    assert.equal(follow.json.state, master.state)
    assert.equal(follow.json.details, false)
    await shot(page, 'zh-citizen-follow-staff')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a dispatcher is offered neither the merge nor its undoing', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await openCase(page, story.report, 'accepted')
    assert.equal(await page.getByTestId('merge-panel').count(), 0)
    assert.equal(await page.getByTestId('action-merge').count(), 0)
    await openCase(page, story.citizen, 'merged')
    assert.equal(await page.getByTestId('case-merged-into').getAttribute('data-master'), story.citizenMaster)
    assert.equal(await page.getByTestId('unmerge-open').count(), 0)
    await openCase(page, story.citizenMaster, 'reported')
    await page.getByTestId('case-merged-reports').waitFor()
    assert.equal(await page.getByTestId('merge-panel').count(), 0)
    const view = await call('dispatcher', 'GET', `/cases/${story.report}`)
    assert.equal(view.status, 200, JSON.stringify(view.json))
    assert.ok(!view.json.actions.includes('merge'), JSON.stringify(view.json.actions))
    await shot(page, 'zh-dispatcher')
    assert.deepEqual(errors, [])
    await page.context().close()
  })
})
