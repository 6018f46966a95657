// A master case's call-back of the callers of the 12345 reports merged into it (合并报告的来电人回访).
// An inspector's case has two hotline calls about the same problem merged into it; it is
// handled and checked through the API. In the UI an operator starts its call-back: the
// inspector's case has no caller of its own, so no 回访 button is offered for it, the merged
// reports' rows are where each caller is called. The first caller's number is revealed (the read
// on the audit log) and they are reached and satisfied; the second does not answer three times
// and is unreachable; the case is then checked with its call-back passed, and a shift lead closes
// it in the UI. The master's page reads the same in English. A second story, in English: a
// hotline master with its own caller and one merged caller, the merged caller unsatisfied, sends
// the master back for rework.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `MCB${Date.now().toString(36)}`
const PLACE = { location: { lon: 121.4919, lat: 31.215 }, area: '310101002001' }
const CALLER_A = { name: '李女士', phone: '13712340001' }
const CALLER_B = { name: '张先生', phone: '13712340002' }
const CALLER_OWN = { name: '王先生', phone: '13712340003' }
const CALLER_C = { name: '赵女士', phone: '13712340004' }

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who, opts = {}) => openPage(chrome, who, errors, { timeout: 30_000, ...opts })
const signIn = (page, username) => signInAt(page, ui, username)
/** The first story: the inspector's master and its two merged calls (ids and numbers). */
const story = { master: null, a: null, b: null }

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
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `merge-callback-${name}.png`), fullPage: true })

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}
async function held(id, who = 'operator') {
  const r = await call(who, 'GET', `/cases/${id}`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}
/** A command through the API as `who`, with the case's version; the case as it is after. */
async function run(who, c, command, body = {}) {
  const r = await call(who, 'POST', `/cases/${c.id}/${command}`, { version: c.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}
async function report(who, body) {
  const r = await call(who, 'POST', '/cases', { ...PLACE, ...body })
  assert.equal(r.status, 201, JSON.stringify(r.json))
  return r.json
}
const hotlineCall = (what, contact) => report('operator', { source: 'hotline', description: `${TAG} 市民来电：${what}`, contact })
/** Merges the call into `master` (operators may, while the call is still to be filed). */
async function mergeInto(c, master) {
  const merged = await run('operator', c, 'merge', { master: master.number })
  assert.equal(merged.state, 'merged')
  return merged
}
/** A filed case dispatched to the water company, handled and checked: ready for its call-back. */
async function handleAndCheck(c) {
  c = await run('dispatcher', c, 'dispatch', { unit: '310101-ZLS' })
  c = await run('water', c, 'sign')
  c = await run('water', c, 'feedback', { opinion: '已更换井盖' })
  c = await run('operator', c, 'send-check')
  c = await run('inspector', c, 'check', { passed: true })
  assert.equal(c.state, 'checked')
  return c
}

async function openCase(page, number, state) {
  await page.goto(`${ui.url}/cases/${number}`)
  await page.locator('[data-testid="case-number"]', { hasText: number }).waitFor()
  if (state) await expectState(page, state)
}
const expectState = (page, state) => page.locator(`[data-testid="case-state"][data-state="${state}"]`).waitFor()

/** One of the case's generic actions, its form filled by `fill`. */
async function command(page, name, fill) {
  await page.getByTestId(`action-${name}`).click()
  const form = page.locator(`[data-testid="command-form"][data-command="${name}"]`)
  await form.waitFor()
  if (fill) await fill(form)
  await form.getByTestId('command-submit').click()
  await form.waitFor({ state: 'detached' })
}

const row = (page, number) => page.locator(`[data-testid="merged-callback"][data-report="${number}"]`)
/**
 * One attempt for a merged report's caller, from its row: the outcome, the satisfaction when
 * reached, an opinion; resolves with the request sent once the form has closed.
 */
async function attempt(page, number, { outcome, satisfaction, opinion }) {
  const r = row(page, number)
  await r.getByTestId('merged-callback-open').click()
  const form = r.getByTestId('merged-callback-form')
  await form.waitFor()
  await form.getByTestId(`outcome-${outcome}`).click()
  if (satisfaction) await form.getByTestId(`satisfaction-${satisfaction}`).click()
  else await form.getByTestId('merged-callback-satisfaction').waitFor({ state: 'detached' })
  if (opinion) await form.getByTestId('merged-callback-opinion').fill(opinion)
  const sent = page.waitForRequest((q) => q.method() === 'POST' && q.url().endsWith('/callback'))
  await form.getByTestId('merged-callback-submit').click()
  const request = await sent
  await form.waitFor({ state: 'detached' })
  return request.postDataJSON()
}

describe("a master's call-back of its merged callers", { timeout: 600_000 }, () => {
  it("an inspector's case with two hotline calls merged into it is handled and checked; its call-back is owed to the callers", async () => {
    let master = await report('inspector', { source: 'inspector', description: `${TAG} 河南中路人行道下水道井盖缺失` })
    master = await run('operator', master, 'accept')
    const a = await mergeInto(await hotlineCall('河南中路人行道上井盖不见了', CALLER_A), master)
    const b = await mergeInto(await hotlineCall('河南中路有个井盖没了，很危险', CALLER_B), master)
    master = await held(master.id)
    master = await run('shiftlead', master, 'file', { category: '10101' })
    master = await handleAndCheck(master)
    assert.deepEqual(master.merged_reports.map((r) => [r.number, r.source, r.callback ?? null]), [[a.number, 'hotline', null], [b.number, 'hotline', null]])
    // the operator is offered the call-back (the check's answer was the inspector's view)
    master = await held(master.id)
    assert.ok(master.actions.includes('start-callback'), JSON.stringify(master.actions))
    // not closed before its callers are called back
    assert.ok(!(await held(master.id, 'shiftlead')).actions.includes('close'))
    story.master = { id: master.id, number: master.number }
    story.a = { id: a.id, number: a.number }
    story.b = { id: b.id, number: b.number }
  })

  it('an operator starts the call-back, reveals the first caller\'s number and reaches them satisfied; the second is unreachable after three attempts', async () => {
    assert.ok(story.master, 'no master from the first test')
    const { master, a, b } = story
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openCase(page, master.number, 'checked')
    const panel = page.getByTestId('case-merged-reports')
    assert.equal(await panel.getAttribute('data-count'), '2')
    // before the call-back: no caller's row yet
    assert.equal(await page.getByTestId('merged-callback').count(), 0)
    await command(page, 'start-callback')
    await expectState(page, 'callback')

    // the inspector's case has no caller of its own: its callers are called from the panel
    await row(page, a.number).waitFor()
    assert.equal(await page.getByTestId('action-callback').count(), 0)
    assert.match(await text(page.getByTestId('callback-in-panel')), /合并的报告/)
    assert.match(await text(page.getByTestId('merged-callback-hint')), /12345 来电人/)
    for (const r of [a, b]) {
      assert.equal(await row(page, r.number).getAttribute('data-status'), 'waiting')
      assert.equal(await text(row(page, r.number).getByTestId('merged-callback-progress')), '待回访（最多拨打 3 次）')
    }
    // the server refuses an attempt without the merged report: the master is no hotline case
    const own = await call('operator', 'POST', `/cases/${master.id}/callback`, {
      version: (await held(master.id)).version, outcome: 'reached', satisfaction: 'satisfied',
    })
    assert.equal(own.status, 422, JSON.stringify(own.json))
    assert.equal(own.json.error.field, 'report')
    assert.ok(!(await page.content()).includes(CALLER_A.phone))
    await shot(page, 'zh-1-started')

    // the first caller's number, read for the call-back on the report's own id
    const read = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/cases/${a.id}/contact`)
    await row(page, a.number).getByTestId('merged-callback-reveal').click()
    const answer = await read
    assert.equal(answer.status(), 200, await answer.text())
    assert.equal(new URL(answer.url()).searchParams.get('purpose'), 'callback')
    assert.equal(await text(row(page, a.number).getByTestId('merged-callback-phone')), CALLER_A.phone)
    assert.equal(await text(row(page, a.number).getByTestId('merged-callback-name')), CALLER_A.name)
    assert.equal(await row(page, b.number).getByTestId('merged-callback-contact').count(), 0)
    await shot(page, 'zh-2-revealed')

    // reached and satisfied: a satisfaction must be picked
    await row(page, a.number).getByTestId('merged-callback-open').click()
    const form = row(page, a.number).getByTestId('merged-callback-form')
    await form.getByTestId('merged-callback-submit').click()
    assert.equal(await text(form.getByTestId('merged-callback-error-satisfaction')), '必填')
    await row(page, a.number).getByTestId('merged-callback-open').click()
    await form.waitFor({ state: 'detached' })
    const sentA = await attempt(page, a.number, { outcome: 'reached', satisfaction: 'satisfied', opinion: '市民表示满意' })
    assert.deepEqual(sentA, { version: sentA.version, outcome: 'reached', satisfaction: 'satisfied', opinion: '市民表示满意', report: a.number })
    await page.locator(`[data-testid="merged-callback"][data-report="${a.number}"][data-status="satisfied"]`).waitFor()
    assert.equal(await text(row(page, a.number).getByTestId('merged-callback-progress')), '已接通：满意')
    assert.equal(await row(page, a.number).getByTestId('merged-callback-open').count(), 0)
    await expectState(page, 'callback')

    // the second caller does not answer, three times
    for (const n of [1, 2, 3]) {
      const sent = await attempt(page, b.number, { outcome: 'no_answer' })
      assert.deepEqual(sent, { version: sent.version, outcome: 'no_answer', report: b.number })
      await page.locator(`[data-testid="merged-callback"][data-report="${b.number}"][data-failed="${n}"]`).waitFor()
      if (n < 3) {
        assert.equal(await text(row(page, b.number).getByTestId('merged-callback-progress')), `未接通 ${n} 次 / 共 3 次，最近一次：无人接听`)
        await expectState(page, 'callback')
      }
    }
    // every caller done: checked, the call-back passed; the number leaves the page
    await expectState(page, 'checked')
    assert.equal(await row(page, b.number).getAttribute('data-status'), 'unreachable')
    assert.equal(await text(row(page, b.number).getByTestId('merged-callback-progress')), '无法联系（3 次均未接通）')
    assert.equal(await page.getByTestId('merged-callback-contact').count(), 0)
    assert.equal(await page.getByTestId('merged-callback-reveal').count(), 0)
    const lines = page.locator('[data-testid="timeline-merge"][data-action="callback"]')
    assert.equal(await lines.count(), 4)
    const said = (await lines.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim())
    assert.deepEqual(said, [
      `回访合并报告 ${a.number} 的来电人：满意`,
      ...[1, 2, 3].map(() => `回访合并报告 ${b.number} 的来电人：无人接听`),
    ])
    assert.equal(await lines.first().getByTestId('timeline-merge-link').getAttribute('href'), `/cases/${a.number}`)
    await shot(page, 'zh-3-checked')

    const view = await held(master.id)
    assert.equal(view.state, 'checked')
    assert.equal(view.callback_satisfied, true)
    const byNumber = Object.fromEntries(view.merged_reports.map((r) => [r.number, r.callback]))
    assert.equal(byNumber[a.number].satisfaction, 'satisfied')
    assert.deepEqual([byNumber[b.number].failed_attempts, byNumber[b.number].unreachable], [3, true])

    // the read is on the audit log, on the merged report, for the call-back
    const log = await call('auditor', 'GET', `/audit?action=pii.read&object=case:${a.id}&limit=50`)
    assert.equal(log.status, 200, JSON.stringify(log.json))
    const reads = log.json.items.filter((e) => e.object === `case:${a.id}`)
    assert.equal(reads.length, 1, JSON.stringify(reads))
    assert.match(reads[0].detail, /purpose callback/)
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('a shift lead closes the case in the UI', async () => {
    const { master, a, b } = story
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openCase(page, master.number, 'checked')
    await command(page, 'close')
    await expectState(page, 'closed')
    assert.equal(await page.getByTestId('no-actions').count(), 1)
    // what the callers said stays to read
    assert.equal(await text(row(page, a.number).getByTestId('merged-callback-progress')), '已接通：满意')
    assert.equal(await text(row(page, b.number).getByTestId('merged-callback-progress')), '无法联系（3 次均未接通）')
    await shot(page, 'zh-4-closed')
    assert.equal((await held(master.id)).state, 'closed')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it("in English: the master's merged reports with their callers' call-back, and the timeline", async () => {
    const { master, a, b } = story
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await openCase(page, master.number, 'closed')
    const panel = page.getByTestId('case-merged-reports')
    assert.equal(await text(panel.locator('h2')), 'Merged reports (2)')
    assert.equal(await text(row(page, a.number).getByTestId('merged-callback-progress')), 'Reached: Satisfied')
    assert.equal(await text(row(page, b.number).getByTestId('merged-callback-progress')), 'Unreachable (3 attempts failed)')
    assert.equal(await text(page.locator('[data-testid="timeline-merge"][data-action="callback"]').first()),
      `Called back the caller of merged report ${a.number}: Satisfied`)
    await shot(page, 'en-closed')
    assert.deepEqual(errors, [])
    await page.context().close()
  })

  it('in English: a hotline master calls back its own caller and a merged one; the merged caller unsatisfied sends it back for rework', async () => {
    let master = await hotlineCall('西藏中路人行道井盖破损', CALLER_OWN)
    master = await run('operator', master, 'accept')
    const c = await mergeInto(await hotlineCall('西藏中路有块井盖裂了', CALLER_C), master)
    master = await held(master.id)
    master = await run('operator', master, 'request-verification')
    master = await run('inspector', master, 'verify', { exists: true })
    master = await run('shiftlead', master, 'file', { category: '10101' })
    master = await handleAndCheck(master)

    const page = await newPage('operator-en-rework')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await openCase(page, master.number, 'checked')
    await command(page, 'start-callback')
    await expectState(page, 'callback')
    // the own caller's call-back is the action's, the merged caller's is in the panel
    await page.getByTestId('action-callback').waitFor()
    assert.equal(await page.getByTestId('callback-in-panel').count(), 0)
    const r = row(page, c.number)
    assert.equal(await text(r.getByTestId('merged-callback-progress')), 'Not called yet (at most 3 attempts)')
    assert.equal(await text(r.getByTestId('merged-callback-reveal')), 'Reveal number')
    await r.getByTestId('merged-callback-reveal').click()
    assert.equal(await text(r.getByTestId('merged-callback-phone')), CALLER_C.phone)
    await r.getByTestId('merged-callback-open').click()
    const form = r.getByTestId('merged-callback-form')
    assert.equal(await text(form.locator('h4')), `Call-back of the caller of report ${c.number}`)
    const labels = async (prefix) => (await form.locator(`[data-testid^="${prefix}-"]`).allTextContents()).map((s) => s.trim())
    assert.deepEqual(await labels('outcome'), ['Reached', 'No answer', 'Wrong number'])
    assert.deepEqual(await labels('satisfaction'), ['Satisfied', 'Basically satisfied', 'Unsatisfied'])
    await shot(page, 'en-rework-form')
    await r.getByTestId('merged-callback-open').click()
    await form.waitFor({ state: 'detached' })

    await attempt(page, c.number, { outcome: 'reached', satisfaction: 'unsatisfied', opinion: 'The cover still rocks' })
    await expectState(page, 'dispatched')
    // back for rework: the callers' progress is cleared, nobody is called until the next call-back
    assert.equal(await page.getByTestId('merged-callback').count(), 0)
    assert.equal(await text(page.locator('[data-testid="timeline-merge"][data-action="callback"]')),
      `Called back the caller of merged report ${c.number}: Unsatisfied`)
    await shot(page, 'en-rework')
    const view = await held(master.id)
    assert.equal(view.state, 'dispatched')
    assert.equal(view.rework_count, 1)
    assert.equal(view.merged_reports[0].callback ?? null, null)
    assert.deepEqual(errors, [])
    await page.context().close()
  })
})
