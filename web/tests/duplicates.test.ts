import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import {
  DEBOUNCE_MS, HOURS_SAID, SHOWN, distanceText, duplicateMergeBody, duplicateQuery, isDuplicateOf, mayRecordDuplicate, queryKey,
  scoreText, shownCandidates, timeApartText, type DuplicateProbe,
} from '../src/lib/duplicates'
import { api } from '../src/api'
import type { CaseView, DuplicateCandidate } from '../src/api/types'
import { i18n, setLocale } from '../src/i18n'
import DuplicateCandidates from '../src/components/DuplicateCandidates.vue'
import { jsonResponse, mockFetch } from './helpers'

const MANHOLE = '市民来电反映：河南中路人行道上的井盖不见了，晚上很危险'
const HERE = { lon: 121.4837, lat: 31.2369 }
const t = i18n.global.t

const caseOf = (number: string, over: Partial<CaseView> = {}) => ({
  id: `id-${number}`, number, state: 'reported', version: 1, description: '河南中路人行道井盖缺失，行人容易踩空', area: '310101002001',
  category_hint: '10101', category: null, created_at: '2026-11-20T02:00:00Z', ...over,
}) as unknown as CaseView
const candidate = (number: string, over: Partial<DuplicateCandidate> = {}): DuplicateCandidate => ({
  case: caseOf(number), score: 0.734, distance_m: 12, hours_apart: 3.2, same_class: true, kind_similarity: 0.9, text_similarity: 0.61, ...over,
})
const probe = (over: Partial<DuplicateProbe> = {}): DuplicateProbe => ({ description: MANHOLE, point: HERE, area: null, category: '', ...over })

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
  setLocale('zh-CN')
})

describe('when the console asks', () => {
  it('asks once the description says something and the place is known', () => {
    expect(duplicateQuery(probe())).toEqual({ text: MANHOLE, lon: HERE.lon, lat: HERE.lat, limit: SHOWN })
    // too short, trimmed: nothing to ask
    for (const description of ['', '   ', '井盖', ' 井盖没 ']) expect(duplicateQuery(probe({ description })), description).toBeNull()
    expect(duplicateQuery(probe({ description: '  井盖没了 ' }))?.text).toBe('井盖没了')
    // no place yet: nothing to ask
    expect(duplicateQuery(probe({ point: null }))).toBeNull()
    expect(duplicateQuery(probe({ point: null, area: '' }))).toBeNull()
  })

  it('sends the area when there is no point, a street or a community only', () => {
    expect(duplicateQuery(probe({ point: null, area: '310101002001' }))).toEqual({ text: MANHOLE, area: '310101002001', limit: SHOWN })
    expect(duplicateQuery(probe({ point: null, area: '310101002' }))?.area).toBe('310101002')
    // a district, a city, a unit grid or no code at all is no area to send
    for (const area of ['310101', '310000', '31010100200101', 'abc', '31010100200x']) {
      expect(duplicateQuery(probe({ point: null, area })), area).toBeNull()
    }
    // with a point, the point says where
    expect(duplicateQuery(probe({ area: '310101002001' }))).toEqual({ text: MANHOLE, lon: HERE.lon, lat: HERE.lat, limit: SHOWN })
  })

  it('leaves out a point the server would refuse, and sends the class when one is hinted', () => {
    expect(duplicateQuery(probe({ point: { lon: 10, lat: 31 } }))).toBeNull()
    expect(duplicateQuery(probe({ point: { lon: 10, lat: 31 }, area: '310101002' }))).toEqual({ text: MANHOLE, area: '310101002', limit: SHOWN })
    expect(duplicateQuery(probe({ category: '10101' }))?.category).toBe('10101')
    expect(duplicateQuery(probe({ category: '' }))).not.toHaveProperty('category')
    expect(duplicateQuery(probe({ category: '101' }))).not.toHaveProperty('category')
    expect(duplicateQuery(probe(), 3)?.limit).toBe(3)
  })

  it('clips a long description to what the server takes', () => {
    const long = `${'井'.repeat(1999)}盖没了`
    expect(duplicateQuery(probe({ description: long }))?.text).toBe(`${'井'.repeat(1999)}盖`)
  })

  it('tells queries apart by everything they send', () => {
    const q = duplicateQuery(probe())
    expect(queryKey(q)).toBe(queryKey(duplicateQuery(probe())))
    expect(queryKey(q)).not.toBe(queryKey(duplicateQuery(probe({ category: '10101' }))))
    expect(queryKey(q)).not.toBe(queryKey(duplicateQuery(probe({ point: { lon: 121.4838, lat: 31.2369 } }))))
    expect(queryKey(null)).toBe('')
  })
})

describe('how a candidate reads', () => {
  it('says the score as a whole percentage', () => {
    expect(scoreText(0.734)).toBe('73%')
    expect(scoreText(0.5)).toBe('50%')
    expect(scoreText(1)).toBe('100%')
  })

  it('says the distance in metres, or the same street when the call gave no point', () => {
    setLocale('zh-CN')
    expect(distanceText(12, t)).toBe('12 米')
    expect(distanceText(12.4, t)).toBe('12 米')
    expect(distanceText(0, t)).toBe('0 米')
    expect(distanceText(1234, t)).toBe('1.2 公里')
    expect(distanceText(null, t)).toBe('同一街道')
    setLocale('en')
    expect(distanceText(12, t)).toBe('12 m')
    expect(distanceText(299.6, t)).toBe('300 m')
    expect(distanceText(null, t)).toBe('same street')
  })

  it('says how long before the call the case was reported: minutes, hours, days beyond 48 hours', () => {
    expect(HOURS_SAID).toBe(48)
    setLocale('zh-CN')
    expect(timeApartText(3, t)).toBe('3 小时前')
    expect(timeApartText(3.4, t)).toBe('3 小时前')
    expect(timeApartText(0.5, t)).toBe('30 分钟前')
    expect(timeApartText(0, t)).toBe('刚刚')
    expect(timeApartText(48, t)).toBe('48 小时前')
    expect(timeApartText(49, t)).toBe('2 天前')
    expect(timeApartText(24 * 5.4, t)).toBe('5 天前')
    setLocale('en')
    expect(timeApartText(3, t)).toBe('3 hours earlier')
    expect(timeApartText(1, t)).toBe('1 hour earlier')
    expect(timeApartText(1 / 60, t)).toBe('1 minute earlier')
    expect(timeApartText(0.25, t)).toBe('15 minutes earlier')
    expect(timeApartText(0.001, t)).toBe('just now')
    expect(timeApartText(72, t)).toBe('3 days earlier')
    expect(timeApartText(Number.NaN, t)).toBe('just now')
  })

  it('shows at most five, each case once, in the order the server gave', () => {
    expect(SHOWN).toBe(5)
    const list = ['1', '2', '1', '3', '4', '5', '6'].map((n) => candidate(n))
    expect(shownCandidates(list).map((c) => c.case.number)).toEqual(['1', '2', '3', '4', '5'])
    expect(shownCandidates(null)).toEqual([])
  })

  it('leaves out the case asked about, which is its own likeliest duplicate', () => {
    const list = ['7', '1', '2', '3', '4', '5', '6'].map((n) => candidate(n))
    expect(shownCandidates(list, SHOWN, '7').map((c) => c.case.number)).toEqual(['1', '2', '3', '4', '5'])
    expect(shownCandidates(list, SHOWN, null).map((c) => c.case.number)).toEqual(['7', '1', '2', '3', '4'])
  })
})

describe('recording the call as a duplicate: merged into the earlier case', () => {
  it('is for operators and shift leads, whom the workflow lets merge a report', () => {
    expect(mayRecordDuplicate('operator')).toBe(true)
    expect(mayRecordDuplicate('shift_lead')).toBe(true)
    for (const role of ['dispatcher', 'inspector', 'admin', null, undefined] as const) expect(mayRecordDuplicate(role)).toBe(false)
  })

  it('merges into the earlier case by its number, with the opinion said', () => {
    expect(duplicateMergeBody(1, '3100002026112000001', '与 3100002026112000001 为同一问题（来电受理时合并）')).toEqual({
      version: 1, master: '3100002026112000001', opinion: '与 3100002026112000001 为同一问题（来电受理时合并）',
    })
    expect(duplicateMergeBody(4, ' 3100002026112000001 ', '  ')).toEqual({ version: 4, master: '3100002026112000001' })
    setLocale('zh-CN')
    expect(t('duplicates.opinion', { number: '3100002026112000001' })).toBe('与 3100002026112000001 为同一问题（来电受理时合并）')
    expect(t('duplicates.done', { master: '3100002026112000001' })).toBe('已合并到 3100002026112000001')
    setLocale('en')
    expect(t('duplicates.done', { master: '3100002026112000001' })).toBe('Merged into 3100002026112000001')
  })

  it('knows a case merged into that case already', () => {
    const into = (number: string) => ({ id: `id-${number}`, number })
    expect(isDuplicateOf({ state: 'merged', merged_into: into('9') }, '9')).toBe(true)
    expect(isDuplicateOf({ state: 'merged', merged_into: into('8') }, '9')).toBe(false)
    // turned away as a duplicate the old way, or still open: not merged
    expect(isDuplicateOf({ state: 'invalid', merged_into: null }, '9')).toBe(false)
    expect(isDuplicateOf({ state: 'reported' }, '9')).toBe(false)
    expect(isDuplicateOf(caseOf('1', { state: 'merged', merged_into: into('9') } as unknown as Partial<CaseView>), '9')).toBe(true)
  })
})

describe('GET /duplicate-candidates', () => {
  it('sends the text, the point, the class and the limit, and answers the list', async () => {
    const f = mockFetch(jsonResponse(200, [candidate('1')]), jsonResponse(200, []))
    expect(await api.duplicateCandidates({ text: MANHOLE, lon: HERE.lon, lat: HERE.lat, category: '10101', limit: 5 })).toEqual([candidate('1')])
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    const sent = new URL(url, 'http://x')
    expect(sent.pathname).toBe('/api/v1/duplicate-candidates')
    expect(Object.fromEntries(sent.searchParams)).toEqual({ text: MANHOLE, lon: '121.4837', lat: '31.2369', category: '10101', limit: '5' })
    expect(init.method).toBe('GET')
    // an area instead of a point
    expect(await api.duplicateCandidates({ text: MANHOLE, area: '310101002' })).toEqual([])
    const second = new URL((f.mock.calls[1] as unknown as [string])[0], 'http://x')
    expect(Object.fromEntries(second.searchParams)).toEqual({ text: MANHOLE, area: '310101002' })
  })

  it('names the field a refusal is about', async () => {
    mockFetch(jsonResponse(422, { error: { code: 'inconsistent_fields', message: 'give lon and lat together', field: 'lat' } }))
    await expect(api.duplicateCandidates({ text: MANHOLE, lon: HERE.lon })).rejects.toMatchObject({ status: 422, field: 'lat' })
  })
})

// ---- the panel: fetch answers handed out by the test, aborted as the browser would
interface Pending { query: URLSearchParams; answer: (r: Response) => void; fail: (e: unknown) => void; aborted: boolean }

function stubFetch() {
  const calls: Pending[] = []
  vi.stubGlobal('fetch', vi.fn((url: string, init: RequestInit) => new Promise<Response>((resolve, reject) => {
    const p: Pending = { query: new URL(url, 'http://x').searchParams, answer: resolve, fail: reject, aborted: false }
    init.signal?.addEventListener('abort', () => {
      p.aborted = true
      reject(new DOMException('aborted', 'AbortError'))
    })
    calls.push(p)
  })))
  return calls
}

describe('the panel under the description', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    setLocale('zh-CN')
  })

  const mountWith = (query: ReturnType<typeof duplicateQuery>, recordable = true) =>
    mount(DuplicateCandidates, { props: { query, recordable }, global: { plugins: [i18n] } })

  it('asks once the typing pauses, drops the request before, and lists the candidates of the last query', async () => {
    const calls = stubFetch()
    const w = mountWith(null)
    await flushPromises()
    expect(calls).toHaveLength(0)
    expect(w.get('[data-testid="duplicate-candidates"]').attributes('data-state')).toBe('idle')

    await w.setProps({ query: duplicateQuery(probe({ description: '河南中路井盖' })) })
    expect(w.get('[data-testid="duplicate-candidates"]').attributes('data-state')).toBe('asking')
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 50)
    await w.setProps({ query: duplicateQuery(probe({ description: '河南中路井盖不见了' })) })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 50)
    expect(calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(60)
    expect(calls.map((c) => c.query.get('text'))).toEqual(['河南中路井盖不见了'])

    // typing on while the answer is on its way: the next request drops it
    await w.setProps({ query: duplicateQuery(probe()) })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    expect(calls.map((c) => c.query.get('text'))).toEqual(['河南中路井盖不见了', MANHOLE])
    expect(calls[0].aborted).toBe(true)
    expect(calls[1].query.get('lon')).toBe('121.4837')
    expect(calls[1].query.get('limit')).toBe('5')
    calls[1].answer(jsonResponse(200, [
      candidate('3100002026112000001'),
      candidate('3100002026112000002', {
        case: caseOf('3100002026112000002', { state: 'dispatched', description: '路口井盖松动' }), score: 0.52, distance_m: 240.4, hours_apart: 60, same_class: false,
      }),
      ...['3', '4', '5', '6'].map((n) => candidate(`310000202611200000${n}`, { score: 0.5 })),
    ]))
    await flushPromises()

    const box = w.get('[data-testid="duplicate-candidates"]')
    expect(box.attributes('data-state')).toBe('found')
    expect(box.attributes('data-count')).toBe('5')
    expect(box.get('h3').text()).toBe('可能重复的案件')
    const rows = w.findAll('li')
    expect(rows.map((r) => r.attributes('data-testid'))).toEqual([1, 2, 3, 4, 5].map((n) => `duplicate-candidate-310000202611200000${n}`))
    const first = rows[0]
    const link = first.get('a')
    expect(link.text()).toBe('3100002026112000001')
    expect(link.attributes('href')).toBe('/cases/3100002026112000001')
    expect(link.attributes('target')).toBe('_blank')
    expect(link.attributes('rel')).toContain('noopener')
    expect(first.get('.badge[data-state="reported"]').text()).toBe('已上报')
    expect(first.get('[data-testid="duplicate-candidate-description"]').text()).toBe('河南中路人行道井盖缺失，行人容易踩空')
    expect(first.get('[data-testid="duplicate-candidate-distance"]').text()).toBe('距离 12 米')
    expect(first.get('[data-testid="duplicate-candidate-ago"]').text()).toBe('上报 3 小时前')
    expect(first.get('[data-testid="duplicate-candidate-score"]').text()).toBe('相似度 73%')
    expect(first.get('[data-testid="duplicate-candidate-same-class"]').text()).toBe('同类')
    const second = rows[1]
    expect(second.find('[data-testid="duplicate-candidate-same-class"]').exists()).toBe(false)
    expect(second.get('[data-testid="duplicate-candidate-distance"]').text()).toBe('距离 240 米')
    expect(second.get('[data-testid="duplicate-candidate-ago"]').text()).toBe('上报 3 天前')

    // the button asks the console to record the call as a duplicate of that case
    const record = first.get('[data-testid="duplicate-record-3100002026112000001"]')
    expect(record.text()).toBe('登记为重复')
    await record.trigger('click')
    expect(w.emitted('record')?.[0]?.[0]).toMatchObject({ case: { number: '3100002026112000001' } })
    w.unmount()
  })

  it('speaks English, and offers no button when the console may not record duplicates', async () => {
    setLocale('en')
    const calls = stubFetch()
    const w = mountWith(duplicateQuery(probe({ point: null, area: '310101002001' })), false)
    await flushPromises()
    expect(calls).toHaveLength(1)
    expect(calls[0].query.get('area')).toBe('310101002001')
    calls[0].answer(jsonResponse(200, [candidate('3100002026112000001', { distance_m: null })]))
    await flushPromises()
    expect(w.get('h3').text()).toBe('Possibly the same problem')
    const row = w.get('[data-testid="duplicate-candidate-3100002026112000001"]')
    expect(row.get('[data-testid="duplicate-candidate-distance"]').text()).toBe('Distance same street')
    expect(row.get('[data-testid="duplicate-candidate-ago"]').text()).toBe('Reported 3 hours earlier')
    expect(row.get('[data-testid="duplicate-candidate-same-class"]').text()).toBe('same class')
    expect(row.find('button').exists()).toBe(false)
    w.unmount()
  })

  it('shows nothing when nothing looks alike, one quiet line when the request fails, and clears when the query goes', async () => {
    const calls = stubFetch()
    const w = mountWith(duplicateQuery(probe()))
    await flushPromises()
    calls[0].answer(jsonResponse(200, []))
    await flushPromises()
    const box = () => w.get('[data-testid="duplicate-candidates"]')
    expect(box().attributes('data-state')).toBe('none')
    expect(box().text()).toBe('')

    await w.setProps({ query: duplicateQuery(probe({ description: '路灯不亮了' })) })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    calls[1].answer(jsonResponse(500, { error: { code: 'internal', message: 'boom' } }))
    await flushPromises()
    expect(w.get('[data-testid="duplicate-candidates-failed"]').text()).toBe('暂时无法查找可能重复的案件。')
    expect(w.findAll('li')).toHaveLength(0)

    // the place cleared: nothing is asked, and the note goes at once
    await w.setProps({ query: null })
    await flushPromises()
    expect(calls).toHaveLength(2)
    expect(w.find('[data-testid="duplicate-candidates-failed"]').exists()).toBe(false)
    expect(box().attributes('data-state')).toBe('idle')
    w.unmount()
  })

  it('on a case\'s page, leaves the case itself out and offers to merge it into each other one', async () => {
    const calls = stubFetch()
    const w = mount(DuplicateCandidates, {
      props: { query: duplicateQuery(probe(), SHOWN + 1), recordable: true, action: 'merge', exclude: '3100002026112000009' },
      global: { plugins: [i18n] },
    })
    await flushPromises()
    expect(calls[0].query.get('limit')).toBe('6')
    calls[0].answer(jsonResponse(200, [candidate('3100002026112000009', { score: 1 }), candidate('3100002026112000001')]))
    await flushPromises()
    expect(w.findAll('li').map((r) => r.attributes('data-number'))).toEqual(['3100002026112000001'])
    expect(w.get('.hint').text()).toBe('附近两周内受理、尚未办结且内容相近的案件。确属同一问题的，可将本报告合并到其中一件。')
    const button = w.get('[data-testid="duplicate-record-3100002026112000001"]')
    expect(button.text()).toBe('合并到此案')
    expect(button.attributes('title')).toBe('将本报告合并到 3100002026112000001')
    await button.trigger('click')
    expect(w.emitted('record')?.[0]?.[0]).toMatchObject({ case: { number: '3100002026112000001' } })
    setLocale('en')
    await flushPromises()
    expect(w.get('[data-testid="duplicate-record-3100002026112000001"]').text()).toBe('Merge into this case')
    w.unmount()
  })

  it('drops the request on its way when the query goes or the panel does', async () => {
    const calls = stubFetch()
    const w = mountWith(duplicateQuery(probe()))
    await flushPromises()
    expect(calls).toHaveLength(1)
    await w.setProps({ query: null })
    expect(calls[0].aborted).toBe(true)
    await w.setProps({ query: duplicateQuery(probe()) })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    expect(calls).toHaveLength(2)
    w.unmount()
    expect(calls[1].aborted).toBe(true)
  })
})
