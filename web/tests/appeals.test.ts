// Appeals (申诉): their status, the evaluators' queue, and the timeline's words.
import { describe, expect, it, vi } from 'vitest'
import {
  appealQueue, appealStatus, loadPendingCases, mayDecide, maySeeQueue, pendingAppeals, showsAppeals, timelineAppeal, usernames,
} from '../src/lib/appeals'
import type { Appeal, CasePage, CaseView } from '../src/api/types'

function appeal(number: number, filedAt: string, decision: Appeal['decision'] = null, ground: Appeal['ground'] = 'rework'): Appeal {
  return { number, unit: '310101-ZLS', ground, reason: `理由 ${number}`, filed_at: filedAt, filed_by: 'user-water', decision }
}
const upheld = { accepted: true, opinion: '成立', at: '2026-12-06T05:00:00Z', by: 'user-evaluator' }
const refused = { ...upheld, accepted: false, opinion: '不成立' }

function caseWith(number: string, appeals: Appeal[], actions: CaseView['actions'] = []): CaseView {
  return { id: `c-${number}`, number, appeals, actions, version: 7 } as unknown as CaseView
}

describe('an appeal', () => {
  it('is pending until decided, then upheld or refused', () => {
    expect(appealStatus(appeal(1, '2026-12-06T02:00:00Z'))).toBe('pending')
    expect(appealStatus(appeal(1, '2026-12-06T02:00:00Z', upheld))).toBe('upheld')
    expect(appealStatus(appeal(1, '2026-12-06T02:00:00Z', refused))).toBe('refused')
  })
  it('lists the pending appeals of a case in filing order', () => {
    const c = caseWith('1', [appeal(2, '2026-12-06T03:00:00Z'), appeal(1, '2026-12-06T02:00:00Z', upheld), appeal(3, '2026-12-06T04:00:00Z')])
    expect(pendingAppeals(c).map((a) => a.number)).toEqual([2, 3])
  })
  it('is decided by whom the server offers decide-appeal; the queue is read by evaluators and center leaders', () => {
    expect(mayDecide(caseWith('1', [], ['decide-appeal']))).toBe(true)
    expect(mayDecide(caseWith('1', [], ['appeal']))).toBe(false)
    expect(maySeeQueue('evaluator')).toBe(true)
    expect(maySeeQueue('center_leader')).toBe(true)
    expect(maySeeQueue('dispatcher')).toBe(false)
    expect(maySeeQueue(null)).toBe(false)
  })
  it('has a panel on the case page when there are appeals or the user may file one', () => {
    expect(showsAppeals(caseWith('1', []))).toBe(false)
    expect(showsAppeals(caseWith('1', [], ['appeal']))).toBe(true)
    expect(showsAppeals(caseWith('1', [appeal(1, '2026-12-06T02:00:00Z', refused)]))).toBe(true)
  })
})

describe("the evaluators' queue", () => {
  it('holds the pending appeals of the listed cases, the longest waiting first', () => {
    const a = caseWith('3101012026120600002', [appeal(1, '2026-12-06T04:00:00Z'), appeal(2, '2026-12-06T01:00:00Z', upheld)])
    const b = caseWith('3101012026120600001', [appeal(1, '2026-12-06T02:00:00Z', null, 'late_handling'), appeal(2, '2026-12-06T05:00:00Z')])
    const queue = appealQueue([a, b])
    expect(queue.map((i) => [i.case.number, i.appeal.number])).toEqual([
      ['3101012026120600001', 1], ['3101012026120600002', 1], ['3101012026120600001', 2],
    ])
    expect(queue[0].case).toBe(b)
    expect(appealQueue([caseWith('1', [appeal(1, '2026-12-06T02:00:00Z', upheld)])])).toEqual([])
  })
  it('is read page after page from GET /cases?appeals_pending=true', async () => {
    const pages: CasePage[] = [
      { items: [caseWith('1', [])], next_cursor: '42' },
      { items: [caseWith('2', [])], next_cursor: null },
    ]
    const list = vi.fn(async () => pages.shift()!)
    const cases = await loadPendingCases(list)
    expect(cases.map((c) => c.number)).toEqual(['1', '2'])
    expect(list).toHaveBeenNthCalledWith(1, { appeals_pending: true, limit: 200, cursor: undefined })
    expect(list).toHaveBeenNthCalledWith(2, { appeals_pending: true, limit: 200, cursor: '42' })
  })
  it('stops after the pages it may read', async () => {
    const list = vi.fn(async () => ({ items: [caseWith('1', [])], next_cursor: 'more' }) as CasePage)
    expect(await loadPendingCases(list, 3)).toHaveLength(3)
    expect(list).toHaveBeenCalledTimes(3)
  })
})

describe('the timeline', () => {
  it('reads an appeal: its ground and unit', () => {
    expect(timelineAppeal({ action: 'appeal', details: { ground: 'rework', unit: '310101-ZLS', reason: 'x' } }))
      .toEqual({ kind: 'appeal', ground: 'rework', unit: '310101-ZLS' })
    expect(timelineAppeal({ action: 'appeal', details: { ground: 'weather' } })).toBeNull()
  })
  it("reads a decision: the appeal's number, the verdict, and the appeal's ground from the case", () => {
    const appeals = [appeal(1, '2026-12-06T02:00:00Z', upheld, 'late_handling')]
    expect(timelineAppeal({ action: 'decide_appeal', details: { appeal: 1, accepted: true, opinion: '成立' } }, appeals))
      .toEqual({ kind: 'decision', appeal: 1, accepted: true, ground: 'late_handling', unit: '310101-ZLS' })
    expect(timelineAppeal({ action: 'decide_appeal', details: { appeal: 2, accepted: false } }))
      .toEqual({ kind: 'decision', appeal: 2, accepted: false, ground: null, unit: null })
    expect(timelineAppeal({ action: 'decide_appeal', details: { appeal: 1 } })).toBeNull()
    expect(timelineAppeal({ action: 'check', details: { passed: false } })).toBeNull()
  })
  it("names the people appeals name by their user id", () => {
    const names = usernames([{ user_id: 'user-water', username: 'water' }, { user_id: 'user-evaluator', username: 'evaluator' }])
    expect(names.get('user-water')).toBe('water')
    expect(names.get('user-evaluator')).toBe('evaluator')
  })
})
