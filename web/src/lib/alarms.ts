// IoT alarms on the client: merging list snapshots with live `alarm` events, counting active
// alarms by level per area, the map colour of an area by its alarms, and how an alarm reads
// (its indicator's name and unit, its state) in the alarm list and the screen's ticker alike.
import type { AlarmCount, AlarmEvent, AlarmLevel, AlarmState, AlarmView, Indicator, Role } from '../api/types'
import { childOf, within } from './areaCode'
import { ALARM_LEVELS } from './vocabulary'

/** Least to most severe. */
export const LEVELS: readonly AlarmLevel[] = ALARM_LEVELS
/** Most to least severe (for KPI tiles and legends). */
export const LEVELS_DESC: readonly AlarmLevel[] = [...ALARM_LEVELS].reverse()

/** Display colours of the levels on the dark screen and in chips. */
export const LEVEL_COLORS: Record<AlarmLevel, string> = {
  blue: '#1e88e5',
  yellow: '#fdd835',
  orange: '#fb8c00',
  red: '#e53935',
}
/** The map's colour of an area with no active alarm. */
export const NEUTRAL = '#0d2c54'

/** Roles that may acknowledge an alarm (the server decides; this only hides the button). */
export const ACK_ROLES: readonly Role[] = ['operator', 'shift_lead', 'dispatcher', 'center_leader', 'admin']
export function canAcknowledge(role: Role | null | undefined): boolean {
  return !!role && ACK_ROLES.includes(role)
}

export function levelRank(level: string): number {
  return LEVELS.indexOf(level as AlarmLevel)
}

export type LevelCounts = Record<AlarmLevel, number>
export const zeroCounts = (): LevelCounts => ({ blue: 0, yellow: 0, orange: 0, red: 0 })

export function totalOf(c: Partial<LevelCounts> | null | undefined): number {
  if (!c) return 0
  return LEVELS.reduce((n, l) => n + (c[l] ?? 0), 0)
}

/** The most severe level with at least one active alarm, or null. */
export function highestLevel(c: Partial<LevelCounts> | null | undefined): AlarmLevel | null {
  if (!c) return null
  for (const l of LEVELS_DESC) if ((c[l] ?? 0) > 0) return l
  return null
}

function hex(c: string): [number, number, number] {
  const n = parseInt(c.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}
function mix(a: string, b: string, t: number): string {
  const [r1, g1, b1] = hex(a)
  const [r2, g2, b2] = hex(b)
  const ch = (x: number, y: number) => Math.round(x + (y - x) * t).toString(16).padStart(2, '0')
  return `#${ch(r1, r2)}${ch(g1, g2)}${ch(b1, b2)}`
}

/** How strongly an area with `n` active alarms shows its level: 1 alarm 0.55, rising to 1 at 8 or more. */
export function intensity(n: number): number {
  if (n <= 0) return 0
  return Math.min(1, 0.55 + (0.45 * Math.log(n)) / Math.log(8))
}

/**
 * The map colour of an area: the hue of its most severe active level (red > orange > yellow > blue),
 * blended from the neutral map colour by the number of active alarms; null when there is none.
 */
export function alarmAreaColor(c: Partial<LevelCounts> | null | undefined): string | null {
  const level = highestLevel(c)
  if (!level) return null
  return mix(NEUTRAL, LEVEL_COLORS[level], intensity(totalOf(c)))
}

/** Colours for the areas of a layer (codes without alarms are left out: they stay neutral). */
export function alarmColors(counts: Record<string, Partial<LevelCounts>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [code, c] of Object.entries(counts)) {
    const color = alarmAreaColor(c)
    if (color) out[code] = color
  }
  return out
}

export function countsOf(a: AlarmCount | null | undefined): LevelCounts {
  return a ? { blue: a.blue, yellow: a.yellow, orange: a.orange, red: a.red } : zeroCounts()
}

/** Active alarms of a list counted by level per direct child of `parent` (e.g. communities of a street). */
export function countsByChild(alarms: AlarmView[], parent: string): Record<string, LevelCounts> {
  const out: Record<string, LevelCounts> = {}
  for (const a of alarms) {
    const code = a.active ? childOf(parent, a.area) : null
    if (!code) continue
    const c = (out[code] ||= zeroCounts())
    if (levelRank(a.level) >= 0) c[a.level]++
  }
  return out
}

/** Active alarms of a list within an area, by level. */
export function countsWithin(alarms: AlarmView[], area: string | null | undefined): LevelCounts {
  const c = zeroCounts()
  for (const a of alarms) if (a.active && within(a.area, area) && levelRank(a.level) >= 0) c[a.level]++
  return c
}

/** The name of an indicator in the UI's language (the other language, then the key, when it has none). */
export function indicatorName(ind: Pick<Indicator, 'name_zh' | 'name_en' | 'key'> | undefined, key: string, locale: string): string {
  if (!ind) return key
  return (locale === 'en' ? ind.name_en : ind.name_zh) || ind.name_zh || ind.name_en || key
}

/** The translation functions of vue-i18n that `alarmLabels` needs. */
export interface Translate {
  t: (key: string) => string
  te: (key: string) => boolean
}

/** How the fields of an alarm read: its indicator's name and unit from the catalogue, its state in words. */
export interface AlarmLabels {
  indicator: (key: string) => string
  unit: (key: string) => string
  state: (state: AlarmState) => string
}

/** Labels over an indicator catalogue (indicators it lacks read as their key, with no unit; unknown states as themselves). */
export function alarmLabels(indicators: readonly Indicator[], locale: string, { t, te }: Translate): AlarmLabels {
  const byKey = new Map(indicators.map((i) => [i.key, i]))
  return {
    indicator: (key) => indicatorName(byKey.get(key), key, locale),
    unit: (key) => byKey.get(key)?.unit ?? '',
    state: (state) => (te(`alarms.states.${state}`) ? t(`alarms.states.${state}`) : state),
  }
}

export function stateOf(active: boolean, acknowledged: boolean): AlarmState {
  return `${active ? 'active' : 'cleared'}_${acknowledged ? 'acknowledged' : 'unacknowledged'}` as const
}

const ms = (iso: string | null | undefined) => {
  const t = iso ? Date.parse(iso) : NaN
  return Number.isNaN(t) ? -Infinity : t
}

/**
 * Two views of one alarm (a list snapshot and a live event, in either order) made one: the later
 * reading wins for activity and values; acknowledgement, once made, is never undone.
 */
export function mergeAlarm(old: AlarmView | undefined, next: AlarmView): AlarmView {
  if (!old) return { ...next, state: stateOf(next.active, next.acknowledged) }
  const newer = ms(next.last_at) >= ms(old.last_at) ? next : old
  const acked = old.acknowledged ? old : next.acknowledged ? next : null
  const merged: AlarmView = {
    ...newer,
    case_id: newer.case_id ?? (newer === next ? old.case_id : next.case_id),
    acknowledged: !!acked,
    acknowledged_at: acked?.acknowledged_at ?? null,
    acknowledged_by: acked?.acknowledged_by ?? null,
  }
  merged.state = stateOf(merged.active, merged.acknowledged)
  return merged
}

/** Newest raised first (ties by id, for a stable order). */
export function byRaisedDesc(a: AlarmView, b: AlarmView): number {
  return ms(b.raised_at) - ms(a.raised_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

export const ALARM_CAPACITY = 200

/** Merge alarms (a snapshot or events' alarms) into a list: one entry per id, newest raised first, at most `capacity`. */
export function mergeAlarms(list: AlarmView[], incoming: AlarmView[], capacity = ALARM_CAPACITY): AlarmView[] {
  const byId = new Map(list.map((a) => [a.id, a]))
  for (const a of incoming) byId.set(a.id, mergeAlarm(byId.get(a.id), a))
  return [...byId.values()].sort(byRaisedDesc).slice(0, capacity)
}

/** The alarm list after live events (raise adds; reopen, clear and acknowledge update the entry). */
export function reduceAlarms(list: AlarmView[], events: AlarmEvent[], capacity = ALARM_CAPACITY): AlarmView[] {
  return mergeAlarms(list, events.filter((e) => e && e.alarm && typeof e.alarm.id === 'string').map((e) => e.alarm), capacity)
}
