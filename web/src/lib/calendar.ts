// The working calendar's year grid: the months of a year as weeks (Monday first), each day marked
// the way the server's schedule makes it. Pure date arithmetic on calendar dates (no time zone:
// a date of the Shanghai calendar is the same date everywhere), so it is unit-tested.
import type { CalendarDay, CalendarYear } from '../api/types'

/** What a cell of the grid shows: the server's listed kinds, or the plain week's. */
export type CellKind = CalendarDay['kind'] | 'weekend' | 'plain'

export interface CalendarCell {
  /** `YYYY-MM-DD`. */
  date: string
  day: number
  kind: CellKind
  /** The holiday's name, for listed days. */
  name?: string
}

export interface CalendarMonth {
  month: number
  /** Weeks of seven cells, Monday first; `null` pads the first and last week. */
  weeks: (CalendarCell | null)[][]
}

const pad = (n: number) => String(n).padStart(2, '0')

/** Days in a month of the proleptic Gregorian calendar (month 1-12). */
export function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** 0 for Monday ... 6 for Sunday. */
export function weekdayOf(year: number, month: number, day: number): number {
  return (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7
}

/** The twelve months of `calendar.year`, each day marked by the schedule or the plain week. */
export function yearGrid(calendar: Pick<CalendarYear, 'year' | 'days'>): CalendarMonth[] {
  const listed = new Map(calendar.days.map((d) => [d.date, d]))
  const months: CalendarMonth[] = []
  for (let month = 1; month <= 12; month++) {
    const cells: (CalendarCell | null)[] = Array(weekdayOf(calendar.year, month, 1)).fill(null)
    for (let day = 1; day <= daysIn(calendar.year, month); day++) {
      const date = `${calendar.year}-${pad(month)}-${pad(day)}`
      const entry = listed.get(date)
      const weekend = weekdayOf(calendar.year, month, day) >= 5
      cells.push(entry
        ? { date, day, kind: entry.kind, name: entry.name }
        : { date, day, kind: weekend ? 'weekend' : 'plain' })
    }
    while (cells.length % 7) cells.push(null)
    const weeks: (CalendarCell | null)[][] = []
    for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7))
    months.push({ month, weeks })
  }
  return months
}

/**
 * The public holidays of the State Council's notices by the names the notices (and holiday-cn
 * files) give them, as keys of `calendar.holidayNames`.
 */
export const HOLIDAYS: Readonly<Record<string, string>> = {
  元旦: 'new_year',
  春节: 'spring_festival',
  清明节: 'qingming',
  劳动节: 'labour_day',
  端午节: 'dragon_boat',
  中秋节: 'mid_autumn',
  国庆节: 'national_day',
}

/**
 * A listed day's name in the UI's language: a public holiday's (or holidays' joined by 、, as
 * 国庆节、中秋节) by its `calendar.holidayNames` key, any other name as the file gave it.
 */
export function holidayName(name: string, t: (key: string) => string): string {
  const parts = name.split('、').map((p) => p.trim())
  const keys = parts.map((p) => HOLIDAYS[p])
  if (!name.trim() || keys.some((k) => !k)) return name
  return keys.map((k) => t(`calendar.holidayNames.${k}`)).join(t('calendar.holidayJoiner'))
}

/** Whether a cell is a day off. */
export function isOff(kind: CellKind): boolean {
  return kind === 'holiday' || kind === 'weekend'
}

/**
 * The content type an import file is sent as: `.csv` files (or a CSV type) as `text/csv`, JSON
 * otherwise-named files by their type or `.json` ending; `null` for anything else.
 */
export function importContentType(file: { name: string; type: string }): 'application/json' | 'text/csv' | null {
  const name = file.name.toLowerCase()
  if (name.endsWith('.csv') || file.type === 'text/csv') return 'text/csv'
  if (name.endsWith('.json') || file.type === 'application/json') return 'application/json'
  return null
}

/** The years the picker offers: the server's range (2000-2100) around `current`. */
export function pickerYears(current: number, span = 5): number[] {
  const from = Math.max(2000, current - span)
  const to = Math.min(2100, current + span)
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
