// A master's call-back of the callers of the hotline reports merged into it: the attempt's body
// with the report's number, each caller's progress in words, which callers are owed one and
// when the own caller's form is offered, the timeline's line, and the panel that records it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import {
  callbackDone, callbackErrorField, callbackProgressText, callbackReports, callbackStatus, mergedCallbackBody, mergeLine, ownCallbackOpen,
  owesCallback, type Entry,
} from '../src/lib/merge'
import type { CallbackView, CaseView, MergedReport } from '../src/api/types'
import { i18n, setLocale } from '../src/i18n'
import MergedCallback from '../src/components/MergedCallback.vue'
import MergedReports from '../src/components/MergedReports.vue'
import { jsonResponse } from './helpers'

const t = i18n.global.t as unknown as (key: string, params?: Record<string, unknown>) => string
const MASTER = '3100002026112000001'
const FIRST = '3100002026112000007'
const SECOND = '3100002026112000008'
const PHOTO = '3100002026112000009'

const progress = (over: Partial<CallbackView> = {}): CallbackView => ({
  attempts_allowed: 3, failed_attempts: 0, last_outcome: null, satisfaction: null, unreachable: false, ...over,
})
const merged = (id: string, number: string, source: MergedReport['source'], at: string, callback: CallbackView | null = null): MergedReport =>
  ({ id, number, source, at, callback })
const master = (over: Record<string, unknown> = {}) => ({
  id: 'm1', number: MASTER, version: 12, state: 'callback', state_zh: '回访中', source: 'inspector', description: '井盖缺失',
  location: { lon: 121.4837, lat: 31.2369 }, area: '310101002001', district: '310101', attachments: [], actions: ['callback'],
  callback: null, merged_into: null, created_at: '2026-11-20T01:00:00Z',
  merged_reports: [
    merged('r2', SECOND, 'hotline', '2026-11-20T04:00:00Z', progress()),
    merged('r3', PHOTO, 'photo', '2026-11-20T05:00:00Z'),
    merged('r1', FIRST, 'hotline', '2026-11-20T03:00:00Z', progress()),
  ],
  ...over,
}) as unknown as CaseView

beforeEach(() => setLocale('zh-CN'))
afterEach(() => {
  vi.unstubAllGlobals()
  setLocale('zh-CN')
  document.body.innerHTML = ''
})

describe("the merged callers' call-back", () => {
  it('sends the attempt as the own caller\'s form builds it, with the report\'s number', () => {
    expect(mergedCallbackBody(12, FIRST, { outcome: 'reached', satisfaction: 'satisfied', opinion: ' 市民满意 ' }))
      .toEqual({ version: 12, outcome: 'reached', satisfaction: 'satisfied', opinion: '市民满意', report: FIRST })
    // a failed attempt carries no satisfaction, even one picked before the outcome changed
    expect(mergedCallbackBody(13, SECOND, { outcome: 'no_answer', satisfaction: 'satisfied', opinion: '' }))
      .toEqual({ version: 13, outcome: 'no_answer', report: SECOND })
    expect(mergedCallbackBody(13, SECOND, { outcome: 'wrong_number', satisfaction: '', opinion: '   ' }))
      .toEqual({ version: 13, outcome: 'wrong_number', report: SECOND })
  })

  it('owes a call-back to hotline callers only, oldest merge first', () => {
    expect(owesCallback({ source: 'hotline' })).toBe(true)
    for (const source of ['photo', 'inspector', 'iot', 'department', 'leader'] as const) expect(owesCallback({ source })).toBe(false)
    expect(callbackReports(master()).map((r) => r.number)).toEqual([FIRST, SECOND])
    expect(callbackReports(null)).toEqual([])
  })

  it('reads where a caller stands', () => {
    expect(callbackStatus(null)).toBeNull()
    expect(callbackStatus(progress())).toBe('waiting')
    expect(callbackStatus(progress({ failed_attempts: 1, last_outcome: 'no_answer' }))).toBe('trying')
    expect(callbackStatus(progress({ failed_attempts: 3, last_outcome: 'no_answer', unreachable: true }))).toBe('unreachable')
    expect(callbackStatus(progress({ last_outcome: 'reached', satisfaction: 'basically_satisfied' }))).toBe('basically_satisfied')
    expect(callbackDone(progress({ satisfaction: 'satisfied' }))).toBe(true)
    expect(callbackDone(progress({ satisfaction: 'basically_satisfied' }))).toBe(true)
    expect(callbackDone(progress({ unreachable: true, failed_attempts: 3 }))).toBe(true)
    expect(callbackDone(progress({ satisfaction: 'unsatisfied' }))).toBe(false)
    expect(callbackDone(progress({ failed_attempts: 2 }))).toBe(false)
    expect(callbackDone(null)).toBe(false)
  })

  it('says the progress in words, in Chinese and in English', () => {
    const cases: [CallbackView | null, string | null, string | null][] = [
      [null, null, null],
      [progress(), '待回访（最多拨打 3 次）', 'Not called yet (at most 3 attempts)'],
      [progress({ failed_attempts: 2, last_outcome: 'wrong_number' }), '未接通 2 次 / 共 3 次，最近一次：号码错误', '2 of 3 attempts failed, last: Wrong number'],
      [progress({ failed_attempts: 3, last_outcome: 'no_answer', unreachable: true }), '无法联系（3 次均未接通）', 'Unreachable (3 attempts failed)'],
      [progress({ failed_attempts: 1, last_outcome: 'reached', satisfaction: 'satisfied' }), '已接通：满意', 'Reached: Satisfied'],
      [progress({ last_outcome: 'reached', satisfaction: 'basically_satisfied' }), '已接通：基本满意', 'Reached: Basically satisfied'],
    ]
    for (const [cb, zh] of cases) expect(callbackProgressText(cb, t), JSON.stringify(cb)).toBe(zh)
    setLocale('en')
    for (const [cb, , en] of cases) expect(callbackProgressText(cb, t), JSON.stringify(cb)).toBe(en)
  })

  it("offers the own caller's form only to a hotline case in its call-back whose caller is not done", () => {
    const own = (over: Record<string, unknown>) => ({ state: 'callback', source: 'hotline', callback: progress(), ...over }) as Pick<CaseView, 'state' | 'source' | 'callback'>
    expect(ownCallbackOpen(own({}))).toBe(true)
    // a case called back before the progress was kept
    expect(ownCallbackOpen(own({ callback: null }))).toBe(true)
    expect(ownCallbackOpen(own({ source: 'inspector', callback: null }))).toBe(false)
    expect(ownCallbackOpen(own({ state: 'checked' }))).toBe(false)
    expect(ownCallbackOpen(own({ callback: progress({ satisfaction: 'satisfied' }) }))).toBe(false)
    expect(ownCallbackOpen(own({ callback: progress({ unreachable: true, failed_attempts: 3 }) }))).toBe(false)
    expect(ownCallbackOpen(null)).toBe(false)
  })

  it('says a refusal beside the input it names', () => {
    expect(callbackErrorField('satisfaction')).toBe('satisfaction')
    expect(callbackErrorField('outcome')).toBe('outcome')
    expect(callbackErrorField('opinion')).toBe('opinion')
    expect(callbackErrorField('report')).toBeNull()
    expect(callbackErrorField(null)).toBeNull()
  })

  it("says a merged caller's call-back in the timeline, the number linked; the own caller's is left to the details", () => {
    const entry = (details: Record<string, unknown>): Entry => ({ seq: 9, action: 'callback', details })
    expect(mergeLine(entry({ report: FIRST, outcome: 'reached', satisfaction: 'satisfied' }), t))
      .toEqual([{ text: '回访合并报告 ' }, { number: FIRST }, { text: ' 的来电人：满意' }])
    expect(mergeLine(entry({ report: SECOND, outcome: 'no_answer' }), t))
      .toEqual([{ text: '回访合并报告 ' }, { number: SECOND }, { text: ' 的来电人：无人接听' }])
    expect(mergeLine(entry({ report: SECOND }), t)).toEqual([{ text: '回访合并报告 ' }, { number: SECOND }, { text: ' 的来电人' }])
    expect(mergeLine(entry({ outcome: 'reached', satisfaction: 'satisfied' }), t)).toBeNull()
    setLocale('en')
    expect(mergeLine(entry({ report: FIRST, outcome: 'reached', satisfaction: 'satisfied' }), t))
      .toEqual([{ text: 'Called back the caller of merged report ' }, { number: FIRST }, { text: ': Satisfied' }])
  })
})

// ---- the panel: fetch answered by method and path
function serve(routes: Record<string, (url: URL) => Response>) {
  const calls: { method: string; path: string; query: URLSearchParams; body: unknown }[] = []
  vi.stubGlobal('fetch', vi.fn(async (raw: string, init: RequestInit) => {
    const url = new URL(raw, 'http://x')
    calls.push({ method: init.method ?? 'GET', path: url.pathname, query: url.searchParams, body: init.body ? JSON.parse(String(init.body)) : undefined })
    const answer = routes[`${init.method ?? 'GET'} ${url.pathname}`]
    if (!answer) throw new Error(`unexpected ${init.method} ${url.pathname}`)
    return answer(url)
  }))
  return calls
}
const mountOpts = { global: { plugins: [i18n], stubs: { RouterLink: RouterLinkStub } }, attachTo: document.body }
const firstOf = (c: CaseView) => c.merged_reports.find((r) => r.number === FIRST)!

describe("a merged caller's row", () => {
  it("reveals the caller's number on the report's own id, for the call-back", async () => {
    const calls = serve({
      'GET /api/v1/cases/r1/contact': () => jsonResponse(200, { name: '李女士', phone: '13812345678', purpose: 'callback', texts: [] }),
    })
    const c = master()
    const w = mount(MergedCallback, { props: { master: c, report: firstOf(c), mayCall: true, mayReveal: true }, ...mountOpts })
    expect(w.get('[data-testid="merged-callback"]').attributes()).toMatchObject({ 'data-report': FIRST, 'data-status': 'waiting', 'data-open': 'true' })
    expect(w.get('[data-testid="merged-callback-progress"]').text()).toBe('待回访（最多拨打 3 次）')
    expect(w.get('[data-testid="merged-callback-reveal"]').text()).toBe('查看号码')
    await w.get('[data-testid="merged-callback-reveal"]').trigger('click')
    await flushPromises()
    expect(calls.map((x) => [x.method, x.path, x.query.get('purpose')])).toEqual([['GET', '/api/v1/cases/r1/contact', 'callback']])
    expect(w.get('[data-testid="merged-callback-phone"]').text()).toBe('13812345678')
    expect(w.get('[data-testid="merged-callback-name"]').text()).toBe('李女士')

    // the master's call-back over: the number leaves the screen
    await w.setProps({ master: { ...c, state: 'checked' } as CaseView })
    expect(w.find('[data-testid="merged-callback-contact"]').exists()).toBe(false)
    expect(w.find('[data-testid="merged-callback-reveal"]').exists()).toBe(false)
    w.unmount()
  })

  it("says a refused reveal in the page's words", async () => {
    serve({
      'GET /api/v1/cases/r1/contact': () => jsonResponse(409, { error: { code: 'precondition_failed', message: "the master's call-back is over" } }),
    })
    const c = master()
    const w = mount(MergedCallback, { props: { master: c, report: firstOf(c), mayCall: true, mayReveal: true }, ...mountOpts })
    await w.get('[data-testid="merged-callback-reveal"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="merged-callback-reveal-error"]').text()).toBe("无法查看号码：the master's call-back is over")
    w.unmount()
  })

  it('records an attempt on the master with the report\'s number: the satisfaction asked when reached', async () => {
    const after = master({ version: 13 })
    const calls = serve({ 'POST /api/v1/cases/m1/callback': () => jsonResponse(200, after) })
    const c = master()
    const w = mount(MergedCallback, { props: { master: c, report: firstOf(c), mayCall: true, mayReveal: false }, ...mountOpts })
    expect(w.find('[data-testid="merged-callback-reveal"]').exists()).toBe(false)
    await w.get('[data-testid="merged-callback-open"]').trigger('click')
    const form = w.get('[data-testid="merged-callback-form"]')
    expect(form.get('h4').text()).toBe(`回访报告 ${FIRST} 的来电人`)
    expect(form.findAll('[data-testid^="outcome-"]').map((o) => o.text())).toEqual(['已接通', '无人接听', '号码错误'])
    expect(form.get('[data-testid="outcome-reached"]').classes()).toContain('is-checked')
    await form.trigger('submit')
    expect(w.get('[data-testid="merged-callback-error-satisfaction"]').text()).toBe('必填')
    expect(calls).toHaveLength(0)
    await w.get('[data-testid="satisfaction-satisfied"] input').setValue(true)
    expect(w.find('[data-testid="merged-callback-error-satisfaction"]').exists()).toBe(false)
    await w.get('textarea[data-testid="merged-callback-opinion"]').setValue('市民满意')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.map((x) => [x.path, x.body])).toEqual([
      ['/api/v1/cases/m1/callback', { version: 12, outcome: 'reached', satisfaction: 'satisfied', opinion: '市民满意', report: FIRST }],
    ])
    expect(w.emitted('done')?.[0]).toEqual([after, FIRST])
    expect(w.find('[data-testid="merged-callback-form"]').exists()).toBe(false)
    w.unmount()
  })

  it('a failed attempt hides the satisfaction; a refusal is said beside the input it names, else under the form', async () => {
    let answer = jsonResponse(422, { error: { code: 'invalid_input', message: 'opinion: is longer than 2000 characters', field: 'opinion' } })
    const calls = serve({ 'POST /api/v1/cases/m1/callback': () => answer })
    const c = master()
    const w = mount(MergedCallback, { props: { master: c, report: firstOf(c), mayCall: true, mayReveal: true }, ...mountOpts })
    await w.get('[data-testid="merged-callback-open"]').trigger('click')
    await w.get('[data-testid="outcome-no_answer"] input').setValue(true)
    expect(w.find('[data-testid="merged-callback-satisfaction"]').exists()).toBe(false)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.at(-1)?.body).toEqual({ version: 12, outcome: 'no_answer', report: FIRST })
    expect(w.get('[data-testid="merged-callback-error-opinion"]').text()).toBe('is longer than 2000 characters')

    answer = jsonResponse(422, { error: { code: 'unknown_reference', message: `report: no report ${FIRST} is merged into this case`, field: 'report' } })
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="merged-callback-error"]').text()).toBe(`回访记录失败：no report ${FIRST} is merged into this case`)
    expect(w.emitted('conflict')).toBeUndefined()

    // the master moved on meanwhile: the page is reloaded
    answer = jsonResponse(409, { error: { code: 'version_conflict', message: 'stale version', field: 'version' } })
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.emitted('conflict')).toHaveLength(1)
    expect(w.emitted('done')).toBeUndefined()
    w.unmount()
  })
})

describe("a master's merged reports", () => {
  it('shows a call-back row under each hotline report only, its progress, and the attempts only in the call-back', async () => {
    const c = master({
      merged_reports: [
        merged('r1', FIRST, 'hotline', '2026-11-20T03:00:00Z', progress({ last_outcome: 'reached', satisfaction: 'satisfied' })),
        merged('r2', SECOND, 'hotline', '2026-11-20T04:00:00Z', progress({ failed_attempts: 1, last_outcome: 'no_answer' })),
        merged('r3', PHOTO, 'photo', '2026-11-20T05:00:00Z'),
      ],
    })
    const w = mount(MergedReports, { props: { caseView: c, mayReveal: true }, ...mountOpts })
    expect(w.get('[data-testid="case-merged-reports"]').attributes('data-count')).toBe('3')
    expect(w.findAll('[data-testid="merged-report"]').map((r) => r.attributes('data-number'))).toEqual([FIRST, SECOND, PHOTO])
    const rows = w.findAll('[data-testid="merged-callback"]')
    expect(rows.map((r) => [r.attributes('data-report'), r.attributes('data-status'), r.attributes('data-open')]))
      .toEqual([[FIRST, 'satisfied', 'false'], [SECOND, 'trying', 'true']])
    expect(rows[0].text()).toContain('已接通：满意')
    expect(rows[0].find('[data-testid="merged-callback-open"]').exists()).toBe(false)
    expect(rows[1].get('[data-testid="merged-callback-progress"]').text()).toBe('未接通 1 次 / 共 3 次，最近一次：无人接听')
    expect(rows[1].find('[data-testid="merged-callback-open"]').exists()).toBe(true)
    expect(w.get('[data-testid="merged-callback-hint"]').text()).toContain('12345 来电人')

    // closed: the progress stays to read, nothing to do
    await w.setProps({ caseView: { ...c, state: 'closed', actions: [] } as CaseView })
    expect(w.findAll('[data-testid="merged-callback-open"]')).toHaveLength(0)
    expect(w.findAll('[data-testid="merged-callback-reveal"]')).toHaveLength(0)
    expect(w.find('[data-testid="merged-callback-hint"]').exists()).toBe(false)
    expect(w.findAll('[data-testid="merged-callback-progress"]').map((p) => p.text())).toEqual(['已接通：满意', '未接通 1 次 / 共 3 次，最近一次：无人接听'])

    setLocale('en')
    await flushPromises()
    expect(w.get('h2').text()).toBe('Merged reports (3)')
    expect(w.findAll('[data-testid="merged-callback-progress"]').map((p) => p.text())).toEqual(['Reached: Satisfied', '1 of 3 attempts failed, last: No answer'])
    w.unmount()
  })

  it('offers no attempt to those the server does not offer the call-back, and no call-back row before it starts', async () => {
    const c = master({ actions: [] })
    const w = mount(MergedReports, { props: { caseView: c, mayReveal: true }, ...mountOpts })
    expect(w.findAll('[data-testid="merged-callback-open"]')).toHaveLength(0)
    expect(w.findAll('[data-testid="merged-callback-reveal"]')).toHaveLength(2)
    w.unmount()
    const before = master({
      state: 'checked', actions: ['start-callback'],
      merged_reports: [merged('r1', FIRST, 'hotline', '2026-11-20T03:00:00Z'), merged('r3', PHOTO, 'photo', '2026-11-20T05:00:00Z')],
    })
    const v = mount(MergedReports, { props: { caseView: before, mayReveal: true }, ...mountOpts })
    expect(v.findAll('[data-testid="merged-callback"]')).toHaveLength(0)
    v.unmount()
  })
})
