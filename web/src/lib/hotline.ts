/** The 12345 exchange page's small rules: the default period and the export's file name. */
import { TZ } from './format'

/** A day as the server reads `from`/`to`: `YYYY-MM-DD` in Shanghai. */
export function shanghaiDay(at: Date): string {
  // en-CA writes dates as YYYY-MM-DD
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at)
}

/** From the first of this month to today, Shanghai time: what a monthly return to the 12345 system covers. */
export function defaultPeriod(now: Date): [string, string] {
  const today = shanghaiDay(now)
  return [`${today.slice(0, 8)}01`, today]
}

/** `12345-results-2026-05-01_2026-05-31.csv` */
export function resultsFileName(from: string, to: string, format: 'csv' | 'json'): string {
  return `12345-results-${from}_${to}.${format}`
}

/** The period is one the server answers: both days given, `from` not after `to`, at most 366 days. */
export function validPeriod(from: string, to: string): boolean {
  const day = /^\d{4}-\d{2}-\d{2}$/
  if (!day.test(from) || !day.test(to) || from > to) return false
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000
  return days <= 366
}
