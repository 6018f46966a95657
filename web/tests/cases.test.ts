import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { buildCaseQuery, coordinationCenter, exportCasesHref, queuesFor, useCases } from '../src/stores/cases'
import { jsonResponse, mockFetch } from './helpers'

const row = (id: string, extra: Record<string, unknown> = {}) => ({ id, number: id, pending: null, supervised: false, ...extra })

describe('role queues', () => {
  it('gives each role its queue', () => {
    expect(queuesFor({ role: 'operator', unit: null }).map((q) => q.key)).toEqual(['to_accept', 'to_send_check', 'to_callback'])
    expect(queuesFor({ role: 'shift_lead', unit: null }).map((q) => q.states)).toEqual([['accepted'], ['checked'], ['handling']])
    expect(queuesFor({ role: 'dispatcher', unit: null })[0].states).toEqual(['filed'])
    expect(queuesFor({ role: 'dispatcher', unit: null }).map((q) => q.key)).toEqual(['to_dispatch'])
    const unit = queuesFor({ role: 'unit_handler', unit: '310101-ZLS' })
    expect(unit.map((q) => q.key)).toEqual(['to_sign', 'handling', 'assisting'])
    // the lead's queues are the unit's; the assisting one (协办) is narrowed here, by the unit's parts
    const [toSign, handling, assisting] = unit
    expect([toSign, handling].every((q) => q.unit === '310101-ZLS')).toBe(true)
    expect([toSign, handling].flatMap((q) => q.states)).toEqual(['dispatched', 'handling'])
    expect(assisting.unit).toBeUndefined()
    expect(assisting.states).toEqual(['filed', 'dispatched', 'handling', 'suspended'])
    const inspector = queuesFor({ role: 'inspector', unit: null })
    expect(inspector.map((q) => q.key)).toEqual(['to_verify', 'to_check', 'my_grid_tasks'])
    expect(inspector.map((q) => q.states)).toEqual([['verifying'], ['checking'], ['verifying', 'checking']])
    expect(queuesFor({ role: 'center_leader', unit: null }).map((q) => q.key)).toEqual(['overdue', 'supervised'])
    expect(queuesFor(null).map((q) => q.key)).toEqual(['all'])
  })
})

describe('coordination queue', () => {
  it('is offered to district and city dispatchers, not street ones', () => {
    expect(coordinationCenter('310000')).toBe('310000')
    expect(coordinationCenter('310101')).toBe('310101')
    expect(coordinationCenter('310101002')).toBeNull()
    expect(coordinationCenter(null)).toBeNull()
    expect(coordinationCenter('320500')).toBe('320500')
    expect(coordinationCenter('31010a')).toBeNull()
    const city = queuesFor({ role: 'dispatcher', unit: 'C-310000', scope: '310000' })
    expect(city.map((q) => q.key)).toEqual(['to_dispatch', 'coordination'])
    expect(buildCaseQuery(city[1])).toEqual({ limit: '50', coordination: '310000' })
    const district = queuesFor({ role: 'dispatcher', unit: null, scope: '310101' })
    expect(buildCaseQuery(district[1], { q: 'x' })).toEqual({ limit: '50', coordination: '310101', q: 'x' })
    expect(queuesFor({ role: 'dispatcher', unit: null, scope: '310101002' }).map((q) => q.key)).toEqual(['to_dispatch'])
    expect(queuesFor({ role: 'operator', unit: null, scope: '310000' }).some((q) => q.coordination)).toBe(false)
  })
})

describe('buildCaseQuery', () => {
  const [toAccept, , toCallback] = queuesFor({ role: 'operator', unit: null })
  it('uses the queue states, source and unit', () => {
    expect(buildCaseQuery(toAccept)).toEqual({ limit: '50', state: 'reported' })
    expect(buildCaseQuery(toCallback)).toEqual({ limit: '50', state: 'checked', source: 'hotline' })
    const [toSign] = queuesFor({ role: 'unit_handler', unit: '310101-ZLS' })
    expect(buildCaseQuery(toSign, {}, null, 20)).toEqual({ limit: '20', state: 'dispatched', unit: '310101-ZLS' })
  })
  it('lets filters narrow the queue and adds the cursor', () => {
    expect(buildCaseQuery(toAccept, { state: 'filed', source: 'photo', overdue: 'true', q: '  井盖 ', district: '310101' }, 'c2')).toEqual({
      limit: '50', state: 'filed', source: 'photo', overdue: 'true', q: '井盖', area: '310101', cursor: 'c2',
    })
  })
  it('ignores blank filters and keeps the queue overdue flag', () => {
    const [overdue] = queuesFor({ role: 'center_leader', unit: null })
    const q = buildCaseQuery(overdue, { state: '', q: '  ', overdue: '' })
    expect(q.overdue).toBe('true')
    expect(q.q).toBeUndefined()
    expect(q.state.split(',')).toContain('handling')
  })
})

describe('cases store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.unstubAllGlobals()
  })
  it('pages with the cursor and appends', async () => {
    const f = mockFetch(
      jsonResponse(200, { items: [row('a'), row('b')], next_cursor: 'n1' }),
      jsonResponse(200, { items: [row('c')] }),
    )
    const s = useCases()
    const [q] = queuesFor({ role: 'dispatcher', unit: null })
    await s.load(q, {})
    expect(s.items.map((c) => c.id)).toEqual(['a', 'b'])
    expect(s.done).toBe(false)
    await s.load(q, {}, true)
    expect(s.items.map((c) => c.id)).toEqual(['a', 'b', 'c'])
    expect(s.done).toBe(true)
    expect((f.mock.calls[1] as unknown as [string])[0]).toContain('cursor=n1')
  })
  it('keeps only rows the queue wants when the API cannot filter', async () => {
    mockFetch(jsonResponse(200, { items: [row('a'), row('b', { pending: { kind: 'park', reason: 'x', until: null } })] }))
    const s = useCases()
    const pending = queuesFor({ role: 'shift_lead', unit: null })[2]
    await s.load(pending, {})
    expect(s.items.map((c) => c.id)).toEqual(['b'])
  })
  it('drops the answer of a superseded query', async () => {
    let release!: (r: Response) => void
    const slow = new Promise<Response>((r) => (release = r))
    const answers = [slow, Promise.resolve(jsonResponse(200, { items: [row('new')] }))]
    vi.stubGlobal('fetch', vi.fn(() => answers.shift()))
    const s = useCases()
    const [q] = queuesFor({ role: 'dispatcher', unit: null })
    const first = s.load(q, { q: 'old' })
    await s.load(q, { q: 'new' })
    release(jsonResponse(200, { items: [row('old')] }))
    await first
    expect(s.items.map((c) => c.id)).toEqual(['new'])
  })
  it('reports an error message', async () => {
    mockFetch(jsonResponse(403, { error: { code: 'forbidden', message: '无权查看' } }))
    const s = useCases()
    await s.load(queuesFor(null)[0], {})
    expect(s.error).toBe('无权查看')
    expect(s.loading).toBe(false)
  })
})

describe('exportCasesHref', () => {
  const [toAccept, , toCallback] = queuesFor({ role: 'operator', unit: null })
  it('downloads the queue with its filters, every case rather than a page', () => {
    expect(exportCasesHref(toAccept)).toBe('/api/v1/cases.csv?state=reported')
    const href = exportCasesHref(toCallback, { category: ' 10102 ', q: '井盖', district: '310101' })
    const query = new URLSearchParams(href!.split('?')[1])
    expect(Object.fromEntries(query)).toEqual({ state: 'checked', source: 'hotline', category: '10102', q: '井盖', area: '310101' })
    expect(query.has('limit')).toBe(false)
  })
  it('asks for an inspector\'s own grid tasks, which the export cannot select', () => {
    const mine = queuesFor({ role: 'inspector', unit: null })[2]
    expect(buildCaseQuery(mine)).toEqual({ limit: '50', state: 'verifying,checking', mine: 'true' })
    expect(buildCaseQuery(mine, { state: 'verifying', q: 'x' })).toEqual({ limit: '50', state: 'verifying', mine: 'true', q: 'x' })
    expect(exportCasesHref(mine)).toBeNull()
    expect(exportCasesHref(queuesFor({ role: 'inspector', unit: null })[0])).toBe('/api/v1/cases.csv?state=verifying')
  })
  it('names a class in the list query too', () => {
    expect(buildCaseQuery(toAccept, { category: '101' })).toEqual({ limit: '50', state: 'reported', category: '101' })
  })
})
