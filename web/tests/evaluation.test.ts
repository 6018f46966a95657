// The evaluation page's periods, columns and drill-downs.
import { describe, expect, it } from 'vitest'
import { LATE, LEVEL_COUNTS, PART_OF, countOf, dayOf, exportName, kindOf, months, nonZero, partsIncluded, percent, preset } from '../src/lib/evaluation'
import type { EvaluationRow } from '../src/api/types'

// 2026-12-06 10:00 in Beijing.
const now = new Date('2026-12-06T02:00:00Z')

describe('periods', () => {
  it('dates days in Beijing time', () => {
    expect(dayOf(new Date('2026-11-30T17:00:00Z'))).toBe('2026-12-01')
  })
  it('offers this and last month, thirty days and the year', () => {
    expect(preset('this_month', now)).toEqual({ from: '2026-12-01', to: '2026-12-06' })
    expect(preset('last_month', now)).toEqual({ from: '2026-11-01', to: '2026-11-30' })
    expect(preset('last_30', now)).toEqual({ from: '2026-11-07', to: '2026-12-06' })
    expect(preset('this_year', now)).toEqual({ from: '2026-01-01', to: '2026-12-06' })
    expect(preset('last_month', new Date('2027-01-10T02:00:00Z'))).toEqual({ from: '2026-12-01', to: '2026-12-31' })
  })
  it('gives six months for the trend, the last ending with the period', () => {
    const m = months('2026-12-06')
    expect(m.map((x) => x.label)).toEqual(['2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12'])
    expect(m[0]).toEqual({ from: '2026-07-01', to: '2026-07-31', label: '2026-07' })
    expect(m[5]).toEqual({ from: '2026-12-01', to: '2026-12-06', label: '2026-12' })
    expect(months('2026-03-31')[0].label).toBe('2025-10')
  })
})

describe('columns and drill-downs', () => {
  it('groups levels into areas, units and positions', () => {
    expect(['district', 'street', 'community', 'grid'].map((l) => kindOf(l as never))).toEqual(['area', 'area', 'area', 'area'])
    expect(kindOf('unit')).toBe('unit')
    expect(kindOf('position')).toBe('position')
  })
  it('finds the late ones behind an on-time count', () => {
    expect(LATE.unit.handled).toBe('handled_on_time')
    expect(LATE.area.closed).toBe('closed_on_time')
    expect(LATE.unit.dispatched).toBeUndefined()
  })
  it('lists a position\'s counts that are not zero, and shows rates as percentages', () => {
    const row = { figures: { filed: 3, closed: 0, filed_on_time: 2 } } as unknown as EvaluationRow
    expect(nonZero(row)).toEqual([['filed', 3], ['filed_on_time', 2]])
    expect(percent(0.8333)).toBe('83.3%')
    expect(percent(undefined)).toBe('—')
    expect(exportName('unit', '2026-11-01', '2026-11-30', 'xlsx')).toBe('evaluation-unit-2026-11-01-2026-11-30.xlsx')
  })
})

describe('the grids\' counters and indicator', () => {
  it('are labelled in both languages', async () => {
    const zh = (await import('../src/locales/zh-CN')).default
    const en = (await import('../src/locales/en')).default
    expect([zh.evaluation.counters.grid_filed, zh.evaluation.counters.missed, zh.evaluation.indicators.missed_report_rate]).toEqual(['网格立案数', '漏报数', '漏报率'])
    expect([en.evaluation.counters.grid_filed, en.evaluation.counters.missed, en.evaluation.indicators.missed_report_rate]).toEqual(['Filed in grids', 'Missed', 'Missed-report rate'])
  })
  it('are listed among a position\'s counts like any other', () => {
    const row = { figures: { grid_filed: 4, missed: 1, reported: 0 } } as unknown as EvaluationRow
    expect(nonZero(row)).toEqual([['grid_filed', 4], ['missed', 1]])
  })
})

describe('assisting parts gone overdue unhandled (协办超期未处置数)', () => {
  it('are labelled in both languages', async () => {
    const zh = (await import('../src/locales/zh-CN')).default
    const en = (await import('../src/locales/en')).default
    expect(zh.evaluation.counters.part_overdue_unhandled).toBe('协办超期未处置数')
    expect(en.evaluation.counters.part_overdue_unhandled).toBe('Assisting parts overdue unhandled')
  })
  it('have a unit column of their own, beside the other parts\' counts, and none for areas', () => {
    expect(LEVEL_COUNTS.unit).toContain('part_overdue_unhandled')
    expect(LEVEL_COUNTS.unit.indexOf('part_overdue_unhandled')).toBe(LEVEL_COUNTS.unit.indexOf('part_handled') + 1)
    expect(LEVEL_COUNTS.area).not.toContain('part_overdue_unhandled')
  })
  it('are part of a unit\'s overdue-unhandled count, as its assisting handlings are of its handlings', () => {
    expect(PART_OF.overdue_unhandled).toBe('part_overdue_unhandled')
    expect(PART_OF.handled).toBe('part_handled')
    const figures = { handled: 5, part_handled: 2, overdue_unhandled: 1, part_overdue_unhandled: 3 }
    expect(countOf('unit', 'overdue_unhandled', figures)).toBe(4)
    expect(partsIncluded('unit', 'overdue_unhandled', figures)).toBe(3)
    expect(countOf('position', 'overdue_unhandled', figures)).toBe(4)
    // the column of the parts alone, and an area's count, which holds no parts
    expect(countOf('unit', 'part_overdue_unhandled', figures)).toBe(3)
    expect(countOf('area', 'overdue_unhandled', figures)).toBe(1)
    expect(partsIncluded('area', 'overdue_unhandled', figures)).toBe(0)
    // 应处置数: handled + part_handled + overdue_unhandled + part_overdue_unhandled
    expect(countOf('unit', 'handled', figures) + countOf('unit', 'overdue_unhandled', figures)).toBe(11)
  })
  it('are no late ones of any on-time count', () => {
    expect(LATE.unit.overdue_unhandled).toBeUndefined()
    expect(LATE.unit.part_overdue_unhandled).toBeUndefined()
  })
  it('are listed among a position\'s counts like any other', () => {
    const row = { figures: { part_overdue_unhandled: 2, handled: 0 } } as unknown as EvaluationRow
    expect(nonZero(row)).toEqual([['part_overdue_unhandled', 2]])
  })
})
