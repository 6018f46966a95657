// Stage clocks in the UI: the countdown of a running stage in the time its term counts
// (working time on the city's calendar, or natural time), its yellow (临期) and red (超期)
// marks, what the overdue watch announced, and the timeline's lines about clocks.
import type { ClockView, DeadlineMark, TimeLeftView, WatchView } from '../api/types'
import { termText } from './categories'

type T = (key: string, values?: Record<string, unknown>, plural?: number) => string

/**
 * Minutes as days, hours and minutes (natural time) or hours and minutes (working time, whose days
 * are not 24 hours). Under a whole minute (the server counts whole minutes, rounded toward zero:
 * 0 in the last minute before a deadline and in the first one after it) reads "less than 1 min",
 * never "0 min".
 */
export function formatDuration(minutes: number, t: T, workingTime = false): string {
  if (!(Math.abs(minutes) >= 1)) return t('deadline.underMinute')
  const m = Math.abs(Math.round(minutes))
  const days = workingTime ? 0 : Math.floor(m / 1440)
  const hours = Math.floor((m - days * 1440) / 60)
  const mins = m % 60
  const parts: string[] = []
  if (days) parts.push(t('deadline.days', { n: days }))
  if (hours) parts.push(t('deadline.hours', { n: hours }))
  if (mins) parts.push(t('deadline.minutes', { n: mins }))
  return parts.join(t('deadline.joiner'))
}

/** "2 h 15 min left (working time)" / "overdue by 1 h 5 min". */
export function countdownText(left: TimeLeftView, t: T): string {
  const span = formatDuration(left.minutes_left, t, left.working_time)
  const text = left.minutes_left < 0 || left.mark === 'overdue'
    ? t('deadline.overdueBy', { span })
    : t('deadline.left', { span })
  return left.working_time ? `${text}${t('deadline.workingTime')}` : text
}

/** The colour class of a mark: none while on time. */
export function markClass(mark: DeadlineMark | null | undefined): string {
  return mark === 'due' ? 'due' : mark === 'overdue' ? 'overdue' : 'on-time'
}

/** What the watch's escalation did, or null when it took no step. */
export function escalationText(watch: WatchView | null | undefined, t: T): string | null {
  if (!watch?.escalated_to) return null
  return watch.escalated_to === 'unit_head'
    ? t('deadline.escalatedUnitHead')
    : t('deadline.escalatedCenter', { center: watch.center ?? '' })
}

/** The timeline's line about a stage clock an entry started, moved or stopped. */
export function clockText(clock: ClockView, t: T, when: (iso: string | null | undefined) => string): string | null {
  const stage = clock.stage ? t(`case.stages.${clock.stage}`) : ''
  const r = clock.reason
  switch (r.kind) {
    case 'started':
      return t('deadline.clockStarted', {
        stage,
        term: termText(r.term, (key, named, plural) => t(key, named, plural)),
        deadline: when(clock.deadline),
        warning: when(clock.warning),
      })
    case 'extended':
      return t('deadline.clockExtended', { stage, deadline: when(clock.deadline) })
    case 'parked':
      return t('deadline.clockParked', {
        span: r.remaining_secs == null ? '—' : formatDuration(r.remaining_secs / 60, t, r.working_time),
      })
    case 'resumed':
      return t('deadline.clockResumed', { stage, deadline: when(clock.deadline) })
    case 'stopped':
      return t('deadline.clockStopped')
    default:
      return null
  }
}

/** A center by the name of its area: one of the city's districts, or the city's own. */
export function centerName(code: string, city: { code: string | null; districts: { code: string; name: string }[] }, t: T): string {
  if (code === city.code) return t('deadline.cityCenter')
  return city.districts.find((d) => d.code === code)?.name ?? code
}

/**
 * The timeline's line for a finding of the overdue watch (an entry whose action is `watch`): the
 * running stage's yellow and red marks and escalations, a supervision notice unanswered, and an
 * assisting unit's part (协办) turning yellow or red on its own deadline. `unitName` names that
 * unit as the page knows it (by default its code).
 */
export function findingText(
  details: Record<string, unknown> | null | undefined, t: T, centerName: (code: string) => string = (c) => c,
  unitName: (code: string) => string = (c) => c,
): string | null {
  const finding = details?.finding
  const stage = typeof details?.stage === 'string' ? t(`case.stages.${details.stage}`) : ''
  const unit = typeof details?.unit === 'string' ? unitName(details.unit) : ''
  switch (finding) {
    case 'due':
      return t('deadline.findingDue', { stage })
    case 'overdue':
      return t('deadline.findingOverdue', { stage })
    case 'escalated':
      return details?.to === 'unit_head'
        ? t('deadline.findingUnitHead', { stage })
        : t('deadline.findingCenter', { stage, center: centerName(String(details?.center ?? '')) })
    case 'supervision_overdue':
      return t('deadline.findingSupervision')
    case 'assist_due':
      return t('deadline.findingAssistDue', { unit })
    case 'assist_overdue':
      return t('deadline.findingAssistOverdue', { unit })
    default:
      return null
  }
}

/** The reply terms a leader picks from for a supervision notice (督办); `amount:unit`. */
export const SUPERVISION_TERMS = ['2:hours', '4:working_hours', '1:working_days', '3:working_days'] as const

/** A term choice as the request's `term`. */
export function termBody(choice: string): { amount: number; unit: string } | null {
  const [amount, unit] = choice.split(':')
  const n = Number(amount)
  return Number.isInteger(n) && n > 0 && unit ? { amount: n, unit } : null
}
