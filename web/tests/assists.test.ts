// Lead and assisting units (主办 / 协办): which units the dispatcher's pickers offer, what blocks
// the lead's feedback and how it is said, a part's clock in working or natural time, the
// handler's assisting queue, and the evaluation's counts that include the parts.
import { beforeEach, describe, expect, it } from 'vitest'
import { i18n } from '../src/i18n'
import type { CalendarYear, CaseView, TimelineEntry } from '../src/api/types'
import {
  answersFor, assistCandidates, blockedFeedbackText, blockingParts, isOpen, leadState, openParts, partClock, partCounts, partLate, partOf, partTerms,
  releaseCandidates, signedAt, unitChoices, unitLabel, viewerPart, type AssistPart,
} from '../src/lib/assists'
import { workingMinutesBetween, yearsOf } from '../src/lib/workingTime'
import { buildBody, fieldsFor, validate } from '../src/lib/commands'
import { queuesFor } from '../src/stores/cases'
import { LATE, LEVEL_COUNTS, countOf, partsIncluded } from '../src/lib/evaluation'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})

const part = (unit: string, state: AssistPart['state'], extra: Partial<AssistPart> = {}): AssistPart => ({
  unit, state, assigned_at: '2026-12-07T02:00:00Z', deadline: null, finished_at: null, opinion: null, ...extra,
})

/** A case led by 310101-ZLS in 南京东路街道 with three parts: one assigned, one handling, one done. */
const led = (over: Partial<CaseView> = {}) => ({
  area: '310101002001', unit: '310101-ZLS', state: 'handling' as CaseView['state'],
  assists: [
    part('310101-CGZF', 'assigned'),
    part('310101-GD', 'handling', { deadline: '2026-12-07T09:00:00Z' }),
    part('310101-DX', 'done', { deadline: '2026-12-07T09:00:00Z', finished_at: '2026-12-07T08:00:00Z', opinion: '已协助' }),
  ],
  ...over,
})

const unit = (code: string, jurisdiction: string, active = true) => ({ code, name: `${code} 名称`, jurisdiction, active })
const NAMES: Record<string, string> = { '310101-CGZF': '黄浦区城管执法局', '310101-GD': '黄浦区供电公司' }
const nameOf = (code: string) => NAMES[code] ?? null

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('parts', () => {
  it('are open while assigned or handling', () => {
    expect(['assigned', 'handling', 'done', 'released', 'returned'].map((s) => isOpen({ state: s as AssistPart['state'] })))
      .toEqual([true, true, false, false, false])
    expect(openParts(led()).map((p) => p.unit)).toEqual(['310101-CGZF', '310101-GD'])
    expect(openParts(null)).toEqual([])
    expect(partCounts(led())).toEqual({ open: 2, done: 1, closed: 0 })
  })

  it('the lead\'s own part reads in the same words, from the case\'s state', () => {
    expect(leadState(led({ state: 'dispatched' }))).toBe('assigned')
    expect(leadState(led({ state: 'suspended' }))).toBe('handling')
    expect(leadState(led({ state: 'closed' }))).toBe('done')
    expect(leadState(led({ state: 'filed', unit: null }))).toBeNull()
    expect(leadState(led({ state: 'cancelled' }))).toBeNull()
  })

  it('a unit assigned again has its open part found before its released one', () => {
    const c = { assists: [part('310101-GD', 'released'), part('310101-GD', 'handling')] }
    expect(partOf(c, '310101-GD')?.state).toBe('handling')
    expect(partOf({ assists: [part('310101-GD', 'released'), part('310101-GD', 'returned')] }, '310101-GD')?.state).toBe('returned')
    expect(partOf(c, 'X')).toBeNull()
    expect(partOf(c, null)).toBeNull()
  })

  it('is the viewer\'s when their unit assists, never when it leads or they are no handler', () => {
    expect(viewerPart(led(), { role: 'unit_handler', unit: '310101-GD' })?.state).toBe('handling')
    expect(viewerPart(led(), { role: 'unit_handler', unit: '310101-ZLS' })).toBeNull()
    expect(viewerPart(led(), { role: 'dispatcher', unit: '310101-GD' })).toBeNull()
    expect(viewerPart(led(), { role: 'unit_handler', unit: null })).toBeNull()
  })
})

describe('the dispatcher\'s unit pickers', () => {
  const units = [
    unit('310101-ZLS', '310101'), unit('310101-CGZF', '310101'), unit('310101-GD', '310101'), unit('310101-DX', '310101'),
    unit('310101-RQ', '310101'), unit('310101002-JDB', '310101002'), unit('310101013-JDB', '310101013'), unit('E2E-OLD', '310101', false),
  ]

  it('assist offers the units answering for the case\'s area, not the lead nor a unit with an open part', () => {
    expect(answersFor('310101002', '310101002001')).toBe(true)
    expect(answersFor('310101013', '310101002001')).toBe(false)
    // 310101-DX's part is done: it may be asked again
    expect(assistCandidates(units, led()).map((u) => u.code)).toEqual(['310101-DX', '310101-RQ', '310101002-JDB'])
    expect(unitChoices('assist', units, led()).map((u) => u.code)).toEqual(['310101-DX', '310101-RQ', '310101002-JDB'])
  })

  it('release-assist offers only the open parts\' units, named when the list has them', () => {
    expect(releaseCandidates([unit('310101-GD', '310101')], led())).toEqual([
      { code: '310101-CGZF', name: '' }, { code: '310101-GD', name: '310101-GD 名称' },
    ])
    expect(unitChoices('release-assist', units, led()).map((u) => u.code)).toEqual(['310101-CGZF', '310101-GD'])
  })

  it('dispatch keeps the district\'s units, with the matrix\'s proposal first when it lies outside them', () => {
    expect(unitChoices('dispatch', units, led(), { unit: '310000-X', unit_name: '市级单位' })[0]).toEqual({ code: '310000-X', name: '市级单位' })
    // a case the lead returned, its parts still open: a unit with an open part may not lead it
    const returned = led({ state: 'filed', unit: null })
    expect(unitChoices('dispatch', units, returned, { unit: '310101-ZLS' }).map((u) => u.code))
      .toEqual(['310101-ZLS', '310101-DX', '310101-RQ', '310101002-JDB', '310101013-JDB', 'E2E-OLD'])
    expect(unitChoices('dispatch', units, led({ assists: [] }), { unit: '310101-ZLS' })).toHaveLength(units.length)
  })
})

describe('the lead\'s feedback', () => {
  it('is blocked for the lead\'s handler while parts are open, naming them and where they stand', () => {
    const lead = { role: 'unit_handler' as const, unit: '310101-ZLS' }
    expect(blockingParts(led(), lead).map((p) => p.unit)).toEqual(['310101-CGZF', '310101-GD'])
    expect(blockedFeedbackText(blockingParts(led(), lead), t, nameOf)).toBe(
      '暂不能反馈：协办单位黄浦区城管执法局 310101-CGZF（待签收）、黄浦区供电公司 310101-GD（办理中）尚未完成。请等待其反馈，或请派遣员撤销协办。',
    )
    i18n.global.locale.value = 'en'
    expect(blockedFeedbackText(blockingParts(led(), lead), t, () => null)).toBe(
      'Feedback must wait: the assisting units 310101-CGZF (To sign for), 310101-GD (Handling) have not finished. Wait for their feedback, or ask the dispatcher to release them.',
    )
  })

  it('is not said to others, before the lead signs, or once every part is finished', () => {
    const lead = { role: 'unit_handler' as const, unit: '310101-ZLS' }
    expect(blockingParts(led(), { role: 'unit_handler', unit: '310101-GD' })).toEqual([])
    expect(blockingParts(led(), { role: 'dispatcher', unit: 'C-310000' })).toEqual([])
    expect(blockingParts(led({ state: 'dispatched' }), lead)).toEqual([])
    expect(blockingParts(led({ assists: [part('310101-GD', 'done'), part('310101-DX', 'released')] }), lead)).toEqual([])
    expect(blockedFeedbackText([], t, nameOf)).toBeNull()
    expect(unitLabel('310101-GD', nameOf)).toBe('黄浦区供电公司 310101-GD')
    expect(unitLabel('E2E', nameOf)).toBe('E2E')
  })
})

describe('a part\'s clock', () => {
  // 2026-12-07 is a Monday; the plain week, 08:30-12:00 and 13:30-17:30 (450 minutes a day)
  const cal2026: CalendarYear = {
    year: 2026, known: true, time_zone: 'Asia/Shanghai', working_hours: ['08:30-12:00', '13:30-17:30'], working_minutes_per_day: 450,
    papers: [], days: [{ date: '2026-12-09', name: '测试假日', off: true, kind: 'holiday' }, { date: '2026-12-12', name: '测试', off: false, kind: 'make_up_workday' }],
    days_off: 0, holidays_on_weekdays: 1, make_up_workdays: 1, working_days: 250,
  }
  const at = (local: string) => Date.parse(`${local}+08:00`)

  it('counts working minutes as the server does: periods of working days, holidays off, make-up days on', () => {
    expect(workingMinutesBetween(at('2026-12-07T08:00:00'), at('2026-12-07T18:00:00'), [cal2026])).toBe(450)
    expect(workingMinutesBetween(at('2026-12-07T12:00:00'), at('2026-12-07T13:30:00'), [cal2026])).toBe(0)
    expect(workingMinutesBetween(at('2026-12-07T11:59:00'), at('2026-12-07T13:31:00'), [cal2026])).toBe(2)
    // Tuesday, the holiday Wednesday, Thursday, Friday, the make-up Saturday, not Sunday
    expect(workingMinutesBetween(at('2026-12-08T00:00:00'), at('2026-12-14T00:00:00'), [cal2026])).toBe(4 * 450)
    expect(workingMinutesBetween(at('2026-12-08T10:00:00'), at('2026-12-08T09:00:00'), [cal2026])).toBe(0)
    // a year whose calendar is not known: none
    expect(workingMinutesBetween(at('2026-12-31T10:00:00'), at('2027-01-04T10:00:00'), [cal2026])).toBeNull()
    expect(yearsOf(at('2026-12-31T10:00:00'), at('2027-01-04T10:00:00'))).toEqual([2026, 2027])
  })

  it('takes the server\'s time left when it gives one', () => {
    const served = { stage: 'handling', deadline: '2026-12-08T09:30:00Z', minutes_left: 42, used: 0.9, mark: 'due', working_time: true, term: null }
    const part = { state: 'handling', deadline: '2026-12-08T09:30:00Z', time_left: served } as never
    expect(partClock(part, { now: Date.parse('2026-12-07T02:00:00Z') })).toEqual(served)
    expect(partClock({ state: 'done', deadline: '2026-12-08T09:30:00Z', time_left: served } as never)).toBeNull()
  })

  it('runs on working time with the calendar: yellow once three quarters of the term are used, red past the deadline', () => {
    const terms = { term: { amount: 1, unit: 'working_days' as const }, continuous: false }
    // signed Monday 09:00: deadline Tuesday 09:00 (450 working minutes later)
    const p = part('310101-GD', 'handling', { deadline: new Date(at('2026-12-08T09:00:00')).toISOString() })
    const monday = partClock(p, { ...terms, calendars: [cal2026], now: at('2026-12-07T10:00:00') })!
    expect([monday.working_time, monday.minutes_left, monday.mark]).toEqual([true, 390, 'on_time'])
    // Monday 17:00: 60 left, 390 of 450 used
    const evening = partClock(p, { ...terms, calendars: [cal2026], now: at('2026-12-07T17:00:00') })!
    expect([evening.minutes_left, evening.mark]).toEqual([60, 'due'])
    // overnight the working clock stands still
    expect(partClock(p, { ...terms, calendars: [cal2026], now: at('2026-12-08T06:00:00') })!.minutes_left).toBe(30)
    const late = partClock(p, { ...terms, calendars: [cal2026], now: at('2026-12-08T10:00:00') })!
    expect([late.minutes_left, late.mark]).toEqual([-60, 'overdue'])
  })

  it('runs on natural time for urgent cases, natural terms, or without the calendar', () => {
    const p = part('310101-GD', 'handling', { deadline: '2026-12-07T06:00:00Z' })
    // an urgent case's 3 working hours run continuously: 3 h from 03:00Z
    const urgent = partClock(p, { term: { amount: 3, unit: 'working_hours' }, continuous: true, calendars: [cal2026], now: Date.parse('2026-12-07T05:00:00Z') })!
    expect([urgent.working_time, urgent.minutes_left, urgent.mark]).toEqual([false, 60, 'on_time'])
    expect(partClock(p, { term: { amount: 3, unit: 'hours' }, continuous: false, now: Date.parse('2026-12-07T05:30:00Z') })!.mark).toBe('due')
    // a working-time term without the calendar: natural time, said so
    const noCal = partClock(p, { term: { amount: 1, unit: 'working_days' }, continuous: false, now: Date.parse('2026-12-07T05:00:00Z') })!
    expect([noCal.working_time, noCal.minutes_left]).toEqual([false, 60])
    // no term: the share of the time since the signing
    expect(partClock(p, { signed: '2026-12-07T02:00:00Z', now: Date.parse('2026-12-07T05:30:00Z') })!.mark).toBe('due')
    expect(partClock(p, { now: Date.parse('2026-12-07T06:01:00Z') })!.mark).toBe('overdue')
  })

  it('runs only while the part is handled; a finished part is on time or late', () => {
    expect(partClock(part('X', 'assigned'))).toBeNull()
    expect(partClock(part('X', 'done', { deadline: '2026-12-07T06:00:00Z' }))).toBeNull()
    expect(partLate(part('X', 'done', { deadline: '2026-12-07T06:00:00Z', finished_at: '2026-12-07T05:00:00Z' }))).toBe(false)
    expect(partLate(part('X', 'done', { deadline: '2026-12-07T06:00:00Z', finished_at: '2026-12-07T07:00:00Z' }))).toBe(true)
    expect(partLate(part('X', 'released', { finished_at: '2026-12-07T07:00:00Z' }))).toBeNull()
  })

  it('takes the filed class\'s handling term, continuous when the case or its class is urgent', () => {
    const terms = { handling: { amount: 2, unit: 'working_days' as const }, dispatch: { amount: 30, unit: 'minutes' as const },
      check: { amount: 1, unit: 'working_hours' as const }, callback: { amount: 1, unit: 'working_days' as const } }
    expect(partTerms({ urgent: false, category: { code: '10101', zh: '上水井盖', urgency: 'normal', terms } }))
      .toEqual({ term: { amount: 2, unit: 'working_days' }, continuous: false })
    expect(partTerms({ urgent: false, category: { code: '10101', zh: '上水井盖', urgency: 'urgent', terms } }).continuous).toBe(true)
    expect(partTerms({ urgent: true, category: null })).toEqual({ term: null, continuous: true })
  })

  it('starts at the unit\'s latest signing on the timeline', () => {
    const tl = [
      { action: 'sign_assist', at: '2026-12-07T01:00:00Z', details: { unit: '310101-GD' }, unit: '310101-GD' },
      { action: 'sign_assist', at: '2026-12-07T02:00:00Z', details: { unit: '310101-CGZF' }, unit: '310101-CGZF' },
      { action: 'sign_assist', at: '2026-12-07T03:00:00Z', details: { unit: '310101-GD' }, unit: '310101-GD' },
    ] as Pick<TimelineEntry, 'action' | 'at' | 'details' | 'unit'>[]
    expect(signedAt(tl, '310101-GD')).toBe('2026-12-07T03:00:00Z')
    expect(signedAt(tl, 'X')).toBeNull()
  })
})

describe('the commands\' forms', () => {
  it('ask the assisting unit, a reason to release, and an opinion to feed back', () => {
    expect(fieldsFor('assist').map((f) => [f.name, f.kind, f.label])).toEqual([['unit', 'unit', 'assist.unitField'], ['opinion', 'textarea', undefined]])
    expect(validate('assist', { unit: '', opinion: '' })).toEqual({ unit: 'required' })
    expect(buildBody('assist', { unit: '310101-GD', opinion: ' 请协助 ' }, 7)).toEqual({ version: 7, unit: '310101-GD', opinion: '请协助' })
    expect(validate('release-assist', { unit: '310101-GD', reason: '' })).toEqual({ reason: 'required' })
    expect(buildBody('sign-assist', {}, 3)).toEqual({ version: 3 })
    expect(validate('assist-feedback', { opinion: ' ' })).toEqual({ opinion: 'required' })
    expect(validate('return-assist', { reason: '' })).toEqual({ reason: 'required' })
    expect(t('fields.unit')).toBe('责任单位')
    expect(t('assist.unitField')).toBe('协办单位')
  })
})

describe('the handler\'s assisting queue', () => {
  it('keeps the cases another unit leads that the handler\'s unit has a part of', () => {
    const assisting = queuesFor({ role: 'unit_handler', unit: '310101-GD' }).find((q) => q.key === 'assisting')!
    expect(assisting.noExport).toBe(true)
    const keep = assisting.keep!
    expect(keep(led() as CaseView)).toBe(true)
    expect(keep(led({ unit: '310101-GD' }) as CaseView)).toBe(false)
    expect(keep(led({ assists: [] }) as CaseView)).toBe(false)
  })
})

describe('the evaluation', () => {
  const figures = { dispatched: 3, handled: 2, handled_on_time: 1, closed: 1, part_assigned: 2, part_handled: 2, part_handled_on_time: 2, part_closed: 1 }

  it('counts a unit\'s and a handler\'s parts in their dispatches, handlings and closings, as the drill-down lists them', () => {
    expect(countOf('unit', 'handled', figures)).toBe(4)
    expect(countOf('unit', 'handled_on_time', figures)).toBe(3)
    expect(partsIncluded('unit', 'dispatched', figures)).toBe(2)
    expect(countOf('position', 'closed', figures)).toBe(2)
    expect(countOf('unit', 'part_handled', figures)).toBe(2)
    // an area's never hold parts
    expect(countOf('area', 'handled', figures)).toBe(2)
    expect(countOf('unit', 'rework', {})).toBe(0)
  })

  it('shows the parts\' own columns at the unit level, their late ones against the parts\' deadlines', () => {
    expect(LEVEL_COUNTS.unit).toEqual(expect.arrayContaining(['part_assigned', 'part_handled', 'part_closed']))
    expect(LATE.unit.part_handled).toBe('part_handled_on_time')
    for (const c of ['part_assigned', 'part_handled', 'part_handled_on_time', 'part_closed']) {
      expect(i18n.global.te(`evaluation.counters.${c}`)).toBe(true)
    }
  })
})
