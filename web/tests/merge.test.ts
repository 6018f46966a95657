// Merging a duplicate report into a master case: the master's number checked and sent, the case
// view's merge fields read, the timeline's merge entries in words with their numbers linked, the
// citizen's question about reports nearby, and the panels that use them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import {
  MAX_REASON, isMergeCommand, isMergedInto, masterProblem, mayMerge, mergeBody, mergeErrorField, mergedInto, mergedReports, mergeLine,
  offers, partsOf, publicDuplicateQuery, publicQueryKey, reasonProblem, shownPublic, stateText, unmergeBody, type Entry,
} from '../src/lib/merge'
import { buildBody, fieldsFor, validate } from '../src/lib/commands'
import { DEBOUNCE_MS } from '../src/lib/duplicates'
import { publicApi } from '../src/api'
import type { CaseView, PublicCandidate } from '../src/api/types'
import { i18n, setLocale } from '../src/i18n'
import MergePanel from '../src/components/MergePanel.vue'
import MergeBanner from '../src/components/MergeBanner.vue'
import NearbyReports from '../src/components/NearbyReports.vue'
import { jsonResponse, mockFetch } from './helpers'

const t = i18n.global.t as unknown as (key: string, params?: Record<string, unknown>) => string
const REPORT = '3100002026112000007'
const MASTER = '3100002026112000001'
const HERE = { lon: 121.4837, lat: 31.2369 }

const report = (over: Record<string, unknown> = {}) => ({
  id: 'r1', number: REPORT, version: 3, state: 'reported', state_zh: '已上报', source: 'hotline', description: '市民来电：河南中路人行道井盖不见了',
  location: HERE, area: '310101002001', district: '310101', category: null, category_hint: '10101', attachments: [], actions: ['accept', 'merge'],
  merged_into: null, merged_reports: [], created_at: '2026-11-20T02:00:00Z', ...over,
}) as unknown as CaseView

beforeEach(() => setLocale('zh-CN'))
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
  setLocale('zh-CN')
  document.body.innerHTML = ''
})

describe('the master\'s number and the bodies', () => {
  it('wants 19 digits, not the report\'s own number', () => {
    expect(masterProblem('')).toBe('required')
    expect(masterProblem('   ')).toBe('required')
    expect(masterProblem(null)).toBe('required')
    for (const n of ['123', '31000020261120000010', '310000202611200000a', '3100-002026112000001']) expect(masterProblem(n), n).toBe('case_number')
    expect(masterProblem(` ${MASTER} `, REPORT)).toBeNull()
    expect(masterProblem(REPORT, REPORT)).toBe('self')
    expect(masterProblem(MASTER)).toBeNull()
  })

  it('sends the version, the master trimmed, and the opinion only when one is said', () => {
    expect(mergeBody(3, ` ${MASTER} `, ' 同一井盖 ')).toEqual({ version: 3, master: MASTER, opinion: '同一井盖' })
    expect(mergeBody(3, MASTER, '  ')).toEqual({ version: 3, master: MASTER })
    expect(mergeBody(3, MASTER)).toEqual({ version: 3, master: MASTER })
    // the generic command form asks and builds the same
    expect(fieldsFor('merge').map((f) => f.name)).toEqual(['master', 'opinion'])
    expect(buildBody('merge', { master: MASTER, opinion: '' }, 3)).toEqual(mergeBody(3, MASTER))
    expect(validate('merge', { master: '123', opinion: '' })).toEqual({ master: 'case_number' })
    expect(validate('merge', { master: '', opinion: '' })).toEqual({ master: 'required' })
  })

  it('asks a reason of at most 500 characters to undo a merge', () => {
    expect(MAX_REASON).toBe(500)
    expect(reasonProblem('')).toBe('required')
    expect(reasonProblem('  ')).toBe('required')
    expect(reasonProblem('不是同一个井盖')).toBeNull()
    expect(reasonProblem('井'.repeat(500))).toBeNull()
    expect(reasonProblem('井'.repeat(501))).toBe('long')
    // characters, not UTF-16 units: 500 four-byte letters are fine
    expect(reasonProblem('𠀀'.repeat(500))).toBeNull()
    expect(unmergeBody(7, ' 不是同一个井盖 ')).toEqual({ version: 7, reason: '不是同一个井盖' })
    expect(validate('unmerge', { reason: '' })).toEqual({ reason: 'required' })
  })

  it('says a refusal beside the master when it names it', () => {
    expect(mergeErrorField('master')).toBe('master')
    expect(mergeErrorField('opinion')).toBe('opinion')
    expect(mergeErrorField('version')).toBeNull()
    expect(mergeErrorField(undefined)).toBeNull()
  })
})

describe('the case view', () => {
  it('reads what the server offers, where a report went and what a master took in', () => {
    expect(offers(report(), 'merge')).toBe(true)
    expect(offers(report(), 'unmerge')).toBe(false)
    expect(offers(null, 'merge')).toBe(false)
    expect(isMergeCommand('merge')).toBe(true)
    expect(isMergeCommand('unmerge')).toBe(true)
    expect(isMergeCommand('reject')).toBe(false)
    expect(isMergeCommand(null)).toBe(false)

    expect(mergedInto(report())).toBeNull()
    const merged = report({ state: 'merged', merged_into: { id: 'm1', number: MASTER } })
    expect(mergedInto(merged)).toEqual({ id: 'm1', number: MASTER })
    expect(isMergedInto(merged, MASTER)).toBe(true)
    expect(isMergedInto(merged, REPORT)).toBe(false)
    // a server that says nothing of merges: none
    expect(mergedInto({ ...report(), merged_into: undefined } as unknown as CaseView)).toBeNull()
    expect(mergedReports({ ...report(), merged_reports: undefined } as unknown as CaseView)).toEqual([])

    const master = report({
      number: MASTER,
      merged_reports: [
        { id: 'b', number: '3100002026112000009', source: 'photo', at: '2026-11-20T05:00:00Z' },
        { id: 'a', number: REPORT, source: 'hotline', at: '2026-11-20T03:00:00Z' },
      ],
    })
    expect(mergedReports(master).map((r) => r.number)).toEqual([REPORT, '3100002026112000009'])
  })

  it('lets operators and shift leads merge', () => {
    expect(mayMerge('operator')).toBe(true)
    expect(mayMerge('shift_lead')).toBe(true)
    for (const role of ['dispatcher', 'inspector', 'admin', null] as const) expect(mayMerge(role)).toBe(false)
  })
})

describe('the timeline in words', () => {
  const entry = (seq: number, action: string, details: Record<string, unknown>): Entry => ({ seq, action, details })

  it('cuts a sentence around the case numbers it names', () => {
    expect(partsOf(t, 'merge.timeline.merge', { master: MASTER })).toEqual([{ text: '合并到主案 ' }, { number: MASTER }])
    setLocale('en')
    expect(partsOf(t, 'merge.timeline.take', { report: REPORT })).toEqual([
      { text: 'Report ' }, { number: REPORT }, { text: ' merged into this case, handled with it' },
    ])
  })

  it('says each merge entry, its numbers linked, in Chinese', () => {
    const merge = entry(4, 'merge', { master: MASTER, master_id: 'm1', opinion: '同一井盖' })
    const unmerge = entry(6, 'unmerge', { reason: '不是同一个井盖' })
    expect(mergeLine(merge, t)).toEqual([{ text: '合并到主案 ' }, { number: MASTER }])
    // the master an undone merge left is the one the merge before it named
    expect(mergeLine(unmerge, t, [entry(1, 'report', {}), entry(2, 'merge', { master: '3100002026112000002' }), merge, unmerge]))
      .toEqual([{ text: '撤销合并，不再随 ' }, { number: MASTER }, { text: ' 处理' }])
    expect(mergeLine(unmerge, t, [])).toEqual([{ text: '撤销合并' }])
    expect(mergeLine(entry(5, 'take_report', { report: REPORT, report_id: 'r1' }), t))
      .toEqual([{ text: '报告 ' }, { number: REPORT }, { text: ' 合并到本案，随本案处理' }])
    expect(mergeLine(entry(7, 'release_report', { report: REPORT, report_id: 'r1', reason: '不是同一个井盖' }), t))
      .toEqual([{ text: '报告 ' }, { number: REPORT }, { text: ' 撤销合并，不再随本案处理' }])
    expect(mergeLine(entry(3, 'accept', { opinion: '受理' }), t)).toBeNull()
    expect(mergeLine({ seq: 8, action: 'take_report', details: null }, t)).toBeNull()
  })

  it('and in English', () => {
    setLocale('en')
    const text = (parts: ReturnType<typeof mergeLine>) => parts?.map((p) => ('number' in p ? `[${p.number}]` : p.text)).join('')
    expect(text(mergeLine(entry(4, 'merge', { master: MASTER }), t))).toBe(`Merged into case [${MASTER}]`)
    expect(text(mergeLine(entry(6, 'unmerge', { reason: 'x' }), t, [entry(4, 'merge', { master: MASTER })])))
      .toBe(`Merge undone: no longer handled with [${MASTER}]`)
    expect(text(mergeLine(entry(5, 'take_report', { report: REPORT }), t))).toBe(`Report [${REPORT}] merged into this case, handled with it`)
    expect(text(mergeLine(entry(7, 'release_report', { report: REPORT, reason: 'x' }), t))).toBe(`Report [${REPORT}] taken back out of this case`)
  })

  it('has words for the state and the commands in both languages', () => {
    expect(t('states.merged')).toBe('已合并')
    expect(['merge', 'unmerge', 'take-report', 'release-report'].map((a) => t(`actions.${a}`))).toEqual(['合并到主案', '撤销合并', '并入报告', '移出报告'])
    setLocale('en')
    expect(t('states.merged')).toBe('Merged')
    expect(['merge', 'unmerge', 'take-report', 'release-report'].map((a) => t(`actions.${a}`)))
      .toEqual(['Merge into a case', 'Undo merge', 'Report merged in', 'Report taken out'])
    expect(t('merge.banner', { number: MASTER })).toBe(`Merged into ${MASTER}`)
    expect(t('merge.reports', { n: 2 })).toBe('Merged reports (2)')
  })
})

describe('reports nearby, for a citizen', () => {
  const draft = (over: Record<string, unknown> = {}) => ({ lon: HERE.lon, lat: HERE.lat, description: '人行道上井盖不见了', category: '10101', ...over })

  it('asks once the place and a description are known', () => {
    expect(publicDuplicateQuery(draft())).toEqual({ lon: HERE.lon, lat: HERE.lat, text: '人行道上井盖不见了', category: '10101' })
    expect(publicDuplicateQuery(draft({ category: null }))).toEqual({ lon: HERE.lon, lat: HERE.lat, text: '人行道上井盖不见了' })
    expect(publicDuplicateQuery(draft({ category: '101' }))).not.toHaveProperty('category')
    // numbers typed in the inputs come as strings, or empty
    expect(publicDuplicateQuery(draft({ lon: '121.4837', lat: '31.2369' }))?.lon).toBe(121.4837)
    for (const over of [{ lon: null }, { lat: '' }, { lon: 'abc' }, { lon: 10, lat: 31 }, { description: '井盖' }, { description: '   ' }]) {
      expect(publicDuplicateQuery(draft(over)), JSON.stringify(over)).toBeNull()
    }
    const long = publicDuplicateQuery(draft({ description: '井'.repeat(2100) }))
    expect([...(long?.text ?? '')]).toHaveLength(2000)
  })

  it('tells queries apart, and shows each case once, at most three', () => {
    const q = publicDuplicateQuery(draft())
    expect(publicQueryKey(q)).toBe(publicQueryKey(publicDuplicateQuery(draft())))
    expect(publicQueryKey(q)).not.toBe(publicQueryKey(publicDuplicateQuery(draft({ lon: 121.4838 }))))
    expect(publicQueryKey(null)).toBe('')
    const c = (number: string): PublicCandidate => ({ number, state: 'reported', state_zh: '已上报', distance_m: 12.4, score: 0.8 })
    expect(shownPublic([c('1'), c('1'), c('2'), c('3'), c('4')]).map((x) => x.number)).toEqual(['1', '2', '3'])
    expect(shownPublic(undefined)).toEqual([])
    expect(stateText(c('1'), 'zh-CN', t)).toBe('已上报')
    setLocale('en')
    expect(stateText(c('1'), 'en', t)).toBe('Reported')
  })

  it('GET /public/duplicate-candidates: no session, the point, the text and the class', async () => {
    const f = mockFetch(jsonResponse(200, { candidates: [] }))
    expect(await publicApi.duplicates({ lon: HERE.lon, lat: HERE.lat, text: '井盖不见了', category: '10101' })).toEqual({ candidates: [] })
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    const sent = new URL(url, 'http://x')
    expect(sent.pathname).toBe('/api/v1/public/duplicate-candidates')
    expect(Object.fromEntries(sent.searchParams)).toEqual({ lon: '121.4837', lat: '31.2369', text: '井盖不见了', category: '10101' })
    expect(init.method).toBe('GET')
  })
})

// ---- the panels: fetch answered by path
type Answer = (url: URL, init: RequestInit) => Response | Promise<Response>
function serve(routes: Record<string, Answer>) {
  const calls: { method: string; path: string; query: URLSearchParams; body: unknown; aborted: () => boolean }[] = []
  vi.stubGlobal('fetch', vi.fn(async (raw: string, init: RequestInit) => {
    const url = new URL(raw, 'http://x')
    let aborted = false
    init.signal?.addEventListener('abort', () => { aborted = true })
    calls.push({ method: init.method ?? 'GET', path: url.pathname, query: url.searchParams, body: init.body ? JSON.parse(String(init.body)) : undefined, aborted: () => aborted })
    const answer = routes[`${init.method ?? 'GET'} ${url.pathname}`]
    if (!answer) throw new Error(`unexpected ${init.method} ${url.pathname}`)
    return answer(url, init)
  }))
  return calls
}

const candidate = (number: string, score = 0.8) => ({
  case: { ...report(), id: `id-${number}`, number }, score, distance_m: 10, hours_apart: 1, same_class: true, kind_similarity: 1, text_similarity: 0.7,
})

const mountOpts = { global: { plugins: [i18n], stubs: { RouterLink: RouterLinkStub } }, attachTo: document.body }

describe('the merge panel on a report\'s page', () => {
  it('lists the report\'s likely duplicates but itself, and merges into one with the opinion typed', async () => {
    const calls = serve({
      'GET /api/v1/duplicate-candidates': () => jsonResponse(200, [candidate(REPORT, 1), candidate(MASTER)]),
      'POST /api/v1/cases/r1/merge': () => jsonResponse(200, report({ state: 'merged', version: 4, merged_into: { id: 'm1', number: MASTER }, actions: [] })),
    })
    const w = mount(MergePanel, { props: { caseView: report() }, ...mountOpts })
    await flushPromises()
    const asked = calls[0]
    expect(asked.path).toBe('/api/v1/duplicate-candidates')
    expect(Object.fromEntries(asked.query)).toEqual({
      text: '市民来电：河南中路人行道井盖不见了', lon: '121.4837', lat: '31.2369', category: '10101', limit: '6',
    })
    expect(w.get('h2').text()).toBe('合并到主案')
    expect(w.findAll('li[data-number]').map((l) => l.attributes('data-number'))).toEqual([MASTER])
    await w.get('[data-testid="merge-opinion"]').setValue('同一井盖')
    await w.get(`[data-testid="duplicate-record-${MASTER}"]`).trigger('click')
    await flushPromises()
    expect(calls[1]).toMatchObject({ method: 'POST', path: '/api/v1/cases/r1/merge', body: { version: 3, master: MASTER, opinion: '同一井盖' } })
    expect((w.get('[data-testid="merge-master"]').element as HTMLInputElement).value).toBe(MASTER)
    const done = w.emitted('done')?.[0]
    expect(done?.[1]).toBe(MASTER)
    expect(done?.[0]).toMatchObject({ state: 'merged', version: 4 })
    w.unmount()
  })

  it('checks the number typed before sending, and says a refusal of the master beside it', async () => {
    const calls = serve({
      'GET /api/v1/duplicate-candidates': () => jsonResponse(200, []),
      'POST /api/v1/cases/r1/merge': () => jsonResponse(409, { error: { code: 'precondition_failed', message: '主案已办结', field: 'master' } }),
    })
    const w = mount(MergePanel, { props: { caseView: report() }, ...mountOpts })
    await flushPromises()
    const input = w.get('[data-testid="merge-master"]')
    await w.get('form').trigger('submit')
    expect(w.get('[data-testid="merge-error-master"]').text()).toBe('请输入主案编号')
    await input.setValue('12345')
    await w.get('form').trigger('submit')
    expect(w.get('[data-testid="merge-error-master"]').text()).toBe('请输入 19 位案件编号')
    await input.setValue(REPORT)
    await w.get('form').trigger('submit')
    expect(w.get('[data-testid="merge-error-master"]').text()).toBe('不能合并到本案自身')
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    expect(input.attributes('aria-invalid')).toBe('true')

    await input.setValue(MASTER)
    await flushPromises()
    expect(w.find('[data-testid="merge-error-master"]').exists()).toBe(false)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ version: 3, master: MASTER }])
    expect(w.get('[data-testid="merge-error-master"]').text()).toBe('主案已办结')
    expect(w.emitted('conflict')).toBeUndefined()
    expect(w.emitted('done')).toBeUndefined()
    w.unmount()
  })

  it('says a master that is no case of one\'s jurisdiction in the page\'s language', async () => {
    serve({
      'GET /api/v1/duplicate-candidates': () => jsonResponse(200, []),
      'POST /api/v1/cases/r1/merge': () => jsonResponse(422, { error: { code: 'unknown_reference', message: 'master: there is no case', field: 'master' } }),
    })
    const w = mount(MergePanel, { props: { caseView: report() }, ...mountOpts })
    await flushPromises()
    await w.get('[data-testid="merge-master"]').setValue(MASTER)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="merge-error-master"]').text()).toBe(`没有编号为 ${MASTER} 的案件，或该案件不在您的辖区内`)
    setLocale('en')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="merge-error-master"]').text()).toBe(`There is no case ${MASTER} within your jurisdiction`)
    w.unmount()
  })

  it('reloads the page when the report changed meanwhile', async () => {
    serve({
      'GET /api/v1/duplicate-candidates': () => jsonResponse(200, []),
      'POST /api/v1/cases/r1/merge': () => jsonResponse(409, { error: { code: 'version_conflict', message: 'stale version', field: 'version' } }),
    })
    setLocale('en')
    const w = mount(MergePanel, { props: { caseView: report() }, ...mountOpts })
    await flushPromises()
    expect(w.get('h2').text()).toBe('Merge into a case')
    await w.get('[data-testid="merge-master"]').setValue(MASTER)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="merge-error"]').text()).toBe('The merge failed: stale version')
    expect(w.emitted('conflict')).toHaveLength(1)
    w.unmount()
  })
})

describe('a merged report\'s banner', () => {
  const merged = () => report({ state: 'merged', version: 4, merged_into: { id: 'm1', number: MASTER }, actions: ['unmerge'] })

  it('links the master, and lets a shift lead undo the merge with a reason', async () => {
    const calls = serve({
      'POST /api/v1/cases/r1/unmerge': () => jsonResponse(200, report({ version: 5 })),
    })
    const w = mount(MergeBanner, { props: { caseView: merged(), master: { id: 'm1', number: MASTER }, undoable: true }, ...mountOpts })
    expect(w.get('.what').text().replace(/\s+/g, ' ')).toBe(`已合并到 ${MASTER}`)
    expect(w.getComponent(RouterLinkStub).props('to')).toBe(`/cases/${MASTER}`)
    await w.get('[data-testid="unmerge-open"]').trigger('click')
    await w.get('form').trigger('submit')
    expect(w.get('[data-testid="unmerge-error-reason"]').text()).toBe('请填写撤销原因')
    await w.get('[data-testid="unmerge-reason"]').setValue(' 不是同一个井盖 ')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.map((c) => [c.path, c.body])).toEqual([['/api/v1/cases/r1/unmerge', { version: 4, reason: '不是同一个井盖' }]])
    expect(w.emitted('done')?.[0]?.[0]).toMatchObject({ state: 'reported', version: 5 })
    w.unmount()
  })

  it('says why an undo is refused, and offers none to those who may not', async () => {
    serve({
      'POST /api/v1/cases/r1/unmerge': () => jsonResponse(409, { error: { code: 'precondition_failed', message: 'the master has finished' } }),
    })
    setLocale('en')
    const w = mount(MergeBanner, { props: { caseView: merged(), master: { id: 'm1', number: MASTER }, undoable: true }, ...mountOpts })
    await w.get('[data-testid="unmerge-open"]').trigger('click')
    await w.get('[data-testid="unmerge-reason"]').setValue('wrong manhole')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="unmerge-error"]').text()).toBe('Could not undo the merge: the master has finished')
    expect(w.emitted('conflict')).toBeUndefined()
    w.unmount()

    const other = mount(MergeBanner, { props: { caseView: merged(), master: { id: 'm1', number: MASTER }, undoable: false }, ...mountOpts })
    expect(other.get('.line').text()).toContain(`Merged into ${MASTER}`)
    expect(other.find('[data-testid="unmerge-open"]').exists()).toBe(false)
    other.unmount()
  })
})

describe('reports nearby on the citizen\'s form', () => {
  it('asks once the typing pauses, drops the request before, and links each case\'s follow page', async () => {
    vi.useFakeTimers()
    const pending: ((r: Response) => void)[] = []
    const calls = serve({
      'GET /api/v1/public/duplicate-candidates': () => new Promise<Response>((resolve) => pending.push(resolve)),
    })
    const q = (text: string) => publicDuplicateQuery({ lon: HERE.lon, lat: HERE.lat, description: text, category: '10101' })
    const w = mount(NearbyReports, { props: { query: null }, ...mountOpts })
    await flushPromises()
    expect(calls).toHaveLength(0)
    await w.setProps({ query: q('人行道井盖') })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    await w.setProps({ query: q('人行道井盖不见了') })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    expect(calls.map((c) => c.query.get('text'))).toEqual(['人行道井盖', '人行道井盖不见了'])
    expect(calls[0].aborted()).toBe(true)
    pending[1](jsonResponse(200, { candidates: [{ number: MASTER, state: 'dispatched', state_zh: '已派遣', distance_m: 18.6, score: 0.81 }] }))
    await flushPromises()
    const row = w.get('[data-testid="nearby-report"]')
    expect(row.attributes('data-number')).toBe(MASTER)
    expect(row.text().replace(/\s+/g, ' ')).toBe(`附近已有人上报：${MASTER}（已派遣），可直接跟踪 · 距此约 19 米`)
    expect(w.getComponent(RouterLinkStub).props('to')).toBe(`/citizen/${MASTER}`)
    setLocale('en')
    await flushPromises()
    expect(w.get('[data-testid="nearby-report"]').text().replace(/\s+/g, ' ')).toBe(`Already reported as ${MASTER} (Dispatched) — follow it · about 19 m from here`)

    // the place cleared: what was shown goes at once
    await w.setProps({ query: null })
    expect(w.find('[data-testid="nearby-report"]').exists()).toBe(false)
    expect(w.get('[data-testid="nearby-reports"]').attributes('data-state')).toBe('idle')
    w.unmount()
  })

  it('shows nothing when nothing nearby reads alike or the request fails', async () => {
    serve({ 'GET /api/v1/public/duplicate-candidates': () => jsonResponse(500, { error: { code: 'internal', message: 'boom' } }) })
    const w = mount(NearbyReports, { props: { query: publicDuplicateQuery({ lon: HERE.lon, lat: HERE.lat, description: '井盖不见了' }) }, ...mountOpts })
    await flushPromises()
    expect(w.get('[data-testid="nearby-reports"]').text()).toBe('')
    w.unmount()
    serve({ 'GET /api/v1/public/duplicate-candidates': () => jsonResponse(200, { candidates: [] }) })
    const none = mount(NearbyReports, { props: { query: publicDuplicateQuery({ lon: HERE.lon, lat: HERE.lat, description: '井盖不见了' }) }, ...mountOpts })
    await flushPromises()
    expect(none.get('[data-testid="nearby-reports"]').attributes('data-state')).toBe('none')
    expect(none.get('[data-testid="nearby-reports"]').text()).toBe('')
    none.unmount()
  })
})
