// The evaluation page's logic: the periods offered, which indicators and counts each level's
// table shows, which number drills down to which cases, and the file names of the exports.
import type { EvaluationCounter, EvaluationIndicator, EvaluationLevel, EvaluationRow, Role } from '../api/types'

export const LEVELS: readonly EvaluationLevel[] = ['district', 'street', 'community', 'grid', 'unit', 'position']

/**
 * Every counter and indicator the server may send, those of inspectors' responsibility grids
 * (网格立案数, 漏报数, 漏报率) and the assisting parts gone overdue unhandled (协办超期未处置数)
 * included: the generated unions gain them when the schema is next generated, and the tables
 * keyed by these (the locales' labels, the columns, the drill-downs) need them before and after.
 */
export type CounterName = EvaluationCounter | 'grid_filed' | 'missed' | 'part_overdue_unhandled'
export type IndicatorName = EvaluationIndicator | 'missed_report_rate'

/** A day as the API takes it (YYYY-MM-DD), in Beijing time. */
export function dayOf(d: Date): string {
  const local = new Date(d.getTime() + 8 * 3600_000)
  return local.toISOString().slice(0, 10)
}

export type PeriodPreset = 'this_month' | 'last_month' | 'last_30' | 'this_year'
export const PRESETS: readonly PeriodPreset[] = ['this_month', 'last_month', 'last_30', 'this_year']

/** The days of a preset, relative to `now` (Beijing time). */
export function preset(which: PeriodPreset, now = new Date()): { from: string; to: string } {
  const today = dayOf(now)
  const [y, m] = today.split('-').map(Number)
  const first = (year: number, month: number) => `${year}-${String(month).padStart(2, '0')}-01`
  switch (which) {
    case 'this_month':
      return { from: first(y, m), to: today }
    case 'last_month': {
      const [py, pm] = m === 1 ? [y - 1, 12] : [y, m - 1]
      const last = new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10)
      return { from: first(py, pm), to: last }
    }
    case 'last_30':
      return { from: dayOf(new Date(now.getTime() - 29 * 86400_000)), to: today }
    case 'this_year':
      return { from: `${y}-01-01`, to: today }
  }
}

/** The months ending with the period's: the trend chart's x axis (oldest first). */
export function months(to: string, count = 6): { from: string; to: string; label: string }[] {
  const [y, m] = to.split('-').map(Number)
  const out = []
  for (let i = count - 1; i >= 0; i--) {
    const date = new Date(Date.UTC(y, m - 1 - i, 1))
    const yy = date.getUTCFullYear()
    const mm = date.getUTCMonth() + 1
    const last = new Date(Date.UTC(yy, mm, 0)).toISOString().slice(0, 10)
    const from = `${yy}-${String(mm).padStart(2, '0')}-01`
    out.push({ from, to: i === 0 && last > to ? to : last, label: `${yy}-${String(mm).padStart(2, '0')}` })
  }
  return out
}

/** The indicators a level's table shows, for areas and units; a position shows its composite's own. */
export const LEVEL_INDICATORS: Record<'area' | 'unit', EvaluationIndicator[]> = {
  area: ['closing_rate', 'on_time_closing_rate', 'public_report_share', 'filing_rate'],
  unit: ['closing_rate', 'on_time_handling_rate', 'rework_rate', 'handling_rate'],
}

/** The counts a level's table shows; each drills down to its cases. */
export const LEVEL_COUNTS: Record<'area' | 'unit', CounterName[]> = {
  area: ['reported', 'filed', 'handled', 'overdue_unhandled', 'closed'],
  // a unit's dispatches, handlings, overdue-unhandled and closings include its assisting parts
  // (协办), which have columns of their own too
  unit: [
    'dispatched', 'handled', 'overdue_unhandled', 'rework', 'closed',
    'part_assigned', 'part_handled', 'part_overdue_unhandled', 'part_closed',
  ],
}

export function kindOf(level: EvaluationLevel): 'area' | 'unit' | 'position' {
  return level === 'unit' ? 'unit' : level === 'position' ? 'position' : 'area'
}

/** A position's composite terms, by its role's name in the weights. */
export function weightsKey(role: Role | null | undefined): string {
  return role ?? 'unit_handler'
}

/** The late ones behind a level's on-time rate: the counter, except its on-time counter (only
 * where the level counts both). */
export const LATE: Record<'area' | 'unit', Partial<Record<CounterName, CounterName>>> = {
  area: { closed: 'closed_on_time' },
  unit: { handled: 'handled_on_time', part_handled: 'part_handled_on_time' },
}

/**
 * The assisting parts' counter (协办) a unit's or a handler's counter includes: the server's
 * drill-down of `handled` lists the cases they led and those they assisted on, and so do its
 * handling and closing rates; its figures keep them apart. A unit's cases due for handling
 * (应处置数) are its handlings and its overdue-unhandled, each with its parts'.
 */
export const PART_OF: Partial<Record<CounterName, CounterName>> = {
  dispatched: 'part_assigned', handled: 'part_handled', handled_on_time: 'part_handled_on_time',
  overdue_unhandled: 'part_overdue_unhandled', closed: 'part_closed',
}

/** The assisting parts a count includes at this level (units' and positions'; areas hold none). */
export function partsIncluded(kind: 'area' | 'unit' | 'position', counter: CounterName, figures: EvaluationRow['figures']): number {
  const part = kind === 'area' ? undefined : PART_OF[counter]
  return part ? figures[part] ?? 0 : 0
}

/** A count as its drill-down lists it: the counter's figure and, for units and positions, the parts it includes. */
export function countOf(kind: 'area' | 'unit' | 'position', counter: CounterName, figures: EvaluationRow['figures']): number {
  return (figures[counter] ?? 0) + partsIncluded(kind, counter, figures)
}

/** The non-zero counts of a row, for a position's compact list. */
export function nonZero(row: EvaluationRow): [CounterName, number][] {
  return Object.entries(row.figures)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([c, n]) => [c as CounterName, n as number])
}

export function percent(v: number | undefined | null): string {
  return v === undefined || v === null ? '—' : `${(v * 100).toFixed(1)}%`
}

export function exportName(level: EvaluationLevel, from: string, to: string, format: 'csv' | 'xlsx'): string {
  return `evaluation-${level}-${from}-${to}.${format}`
}
