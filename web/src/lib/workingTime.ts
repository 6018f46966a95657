// Working time on the city's calendar, reckoned here as the server reckons it: the working
// periods (`08:30-12:00`, `13:30-17:30`) of working days in Shanghai time (UTC+8, no summer
// time), a working day being a weekday the schedule does not give off, or a make-up working day.
import { ref, watch, type Ref } from 'vue'
import { api } from '../api'
import type { CalendarYear } from '../api/types'

export type WorkingYear = Pick<CalendarYear, 'year' | 'days' | 'working_hours'>

const SHANGHAI_OFFSET_MS = 8 * 3600_000
const DAY_MS = 86_400_000

/** The periods of a working day as minutes after midnight, `[begin, end)`; malformed ones skipped. */
export function periodsOf(hours: string[]): [number, number][] {
  const out: [number, number][] = []
  for (const h of hours) {
    const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(h.trim())
    if (!m) continue
    const begin = Number(m[1]) * 60 + Number(m[2])
    const end = Number(m[3]) * 60 + Number(m[4])
    if (end > begin) out.push([begin, end])
  }
  return out
}

/** `YYYY-MM-DD` of the Shanghai day `dayIndex` (days since 1970-01-01 in Shanghai time). */
function dateOf(dayIndex: number): string {
  return new Date(dayIndex * DAY_MS).toISOString().slice(0, 10)
}

/**
 * Working minutes from `from` to `to` (epoch milliseconds), whole minutes rounded down; 0 when
 * `to` is not after `from`. Null when the calendar of a year the span touches is not given (the
 * caller falls back to natural time).
 */
export function workingMinutesBetween(from: number, to: number, years: WorkingYear[]): number | null {
  if (!(to > from)) return 0
  const byYear = new Map(years.map((y) => [y.year, y]))
  const first = Math.floor((from + SHANGHAI_OFFSET_MS) / DAY_MS)
  const last = Math.floor((to + SHANGHAI_OFFSET_MS) / DAY_MS)
  let total = 0
  for (let day = first; day <= last; day++) {
    const date = dateOf(day)
    const calendar = byYear.get(Number(date.slice(0, 4)))
    if (!calendar) return null
    const listed = calendar.days.find((d) => d.date === date)
    // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays
    const weekday = (((day + 3) % 7) + 7) % 7
    const working = listed ? !listed.off : weekday < 5
    if (!working) continue
    const midnight = day * DAY_MS - SHANGHAI_OFFSET_MS
    for (const [b, e] of periodsOf(calendar.working_hours)) {
      const begin = Math.max(midnight + b * 60_000, from)
      const end = Math.min(midnight + e * 60_000, to)
      if (end > begin) total += end - begin
    }
  }
  return Math.floor(total / 60_000)
}

/** The Shanghai calendar years a span touches, for loading their calendars. */
export function yearsOf(from: number, to: number): number[] {
  const a = new Date(Math.min(from, to) + SHANGHAI_OFFSET_MS).getUTCFullYear()
  const b = new Date(Math.max(from, to) + SHANGHAI_OFFSET_MS).getUTCFullYear()
  const out: number[] = []
  for (let y = a; y <= b; y++) out.push(y)
  return out
}

/** Working minutes in a working day of the calendar. */
export function minutesPerDay(calendar: Pick<CalendarYear, 'working_hours'> & Partial<Pick<CalendarYear, 'working_minutes_per_day'>>): number {
  return calendar.working_minutes_per_day ?? periodsOf(calendar.working_hours).reduce((n, [b, e]) => n + e - b, 0)
}

// ---- the calendars, each year asked for once per page load (any signed-in user reads them)
const asked = new Map<number, Promise<CalendarYear | null>>()

/** The calendar of a year, or null when it cannot be read (the clocks fall back to natural time). */
export function loadCalendar(year: number, read: (year: number) => Promise<CalendarYear> = (y) => api.calendar(y)): Promise<CalendarYear | null> {
  let p = asked.get(year)
  if (!p) {
    p = read(year).catch(() => {
      asked.delete(year)
      return null
    })
    asked.set(year, p)
  }
  return p
}

/**
 * The calendars of the years from now to the latest of `deadlines()` (epoch milliseconds), loaded
 * as they are needed; empty while there is none.
 */
export function useWorkingCalendars(deadlines: () => number[]): Ref<CalendarYear[]> {
  const calendars = ref<CalendarYear[]>([])
  watch(() => {
    const times = deadlines().filter((x) => !Number.isNaN(x))
    if (!times.length) return ''
    const now = Date.now()
    return yearsOf(Math.min(now, ...times), Math.max(now, ...times)).join(',')
  }, async (key) => {
    if (!key) return
    const years = key.split(',').map(Number)
    const loaded = (await Promise.all(years.map((y) => loadCalendar(y)))).filter((c): c is CalendarYear => !!c)
    calendars.value = loaded.length === years.length ? loaded : []
  }, { immediate: true })
  return calendars
}
