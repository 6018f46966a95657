/**
 * Telemetry rules as an admin drafts them (系统管理 → 设备与预警规则): the rule form and the body
 * it sends, checked as the server's `TelemetryRule::validate` checks it (crates/cityops-domain/
 * src/telemetry/rule.rs); a rule in words; the rule tester's window, and its chart: the
 * device's readings, the rule's threshold lines, and a marker where the draft raises or clears.
 */
import type {
  AlarmLevel, Indicator, Reading, RuleCondition, RuleSchedule, RuleScope, RuleTestBody, RuleTestEvent, RuleTestView, TelemetryRule,
} from '../api/types'
import { isAreaCode } from './areaCode'
import { DEVICE_ID, METRIC_KEY, numberOf } from './devices'
import { fromShanghaiLocal } from './format'
import { LEVEL_COLORS } from './alarms'

export type ScopeKind = RuleScope['kind']
export type ConditionKind = RuleCondition['kind']

/** The server's bounds (rule.rs). */
export const MAX_DURATION_SECS = 7 * 24 * 3600
export const MAX_REPEAT = 10_000
export const MAX_SILENT_MINUTES = 10_080

/** How the form takes a duration; the body sends seconds. */
export const DURATION_UNITS = ['seconds', 'minutes', 'hours'] as const
export type DurationUnit = (typeof DURATION_UNITS)[number]
const UNIT_SECS: Record<DurationUnit, number> = { seconds: 1, minutes: 60, hours: 3600 }

/** ISO weekdays, 1 = Monday .. 7 = Sunday. */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const

/** The rule form as typed: numbers are the inputs' text until checked. */
export interface RuleForm {
  id: string
  name: string
  indicator: string
  scope: { kind: ScopeKind; device_type: string; device: string; area: string }
  condition: {
    kind: ConditionKind
    value: string
    clear: string
    min: string
    max: string
    margin: string
    per_minute: string
    minutes: string
  }
  duration: string
  durationUnit: DurationUnit
  repeat: string
  level: AlarmLevel
  /** Whether the rule raises only within the schedule's days and hours. */
  scheduled: boolean
  days: number[]
  from: string
  to: string
  enabled: boolean
}

/** The form's fields, named as the server names them in a refusal (`condition.clear`, `schedule.to`). */
export const RULE_FIELDS = [
  'id', 'name', 'indicator', 'scope', 'scope.device_type', 'scope.device', 'scope.area',
  'condition', 'condition.value', 'condition.clear', 'condition.min', 'condition.max', 'condition.margin', 'condition.per_minute', 'condition.minutes',
  'duration_secs', 'repeat', 'level', 'schedule', 'schedule.days', 'schedule.from', 'schedule.to', 'enabled',
] as const
export type RuleField = (typeof RULE_FIELDS)[number]

export type RuleProblem =
  | 'required' | 'ruleId' | 'long' | 'metricKey' | 'unknownIndicator' | 'deviceId' | 'area' | 'number'
  | 'clearAbove' | 'clearBelow' | 'range' | 'margin' | 'rate' | 'clearRate' | 'minutes'
  | 'duration' | 'repeat' | 'days' | 'time' | 'emptyWindow'
export type RuleProblems = Partial<Record<RuleField, RuleProblem>>

/** The number fields each condition kind has, in the order the form shows them. */
export const CONDITION_FIELDS: Record<ConditionKind, readonly (keyof Omit<RuleForm['condition'], 'kind'>)[]> = {
  above: ['value', 'clear'],
  below: ['value', 'clear'],
  outside: ['min', 'max', 'margin'],
  rising: ['per_minute', 'clear'],
  falling: ['per_minute', 'clear'],
  silent: ['minutes'],
}

/** Whether a condition field may be left empty (the alarm then clears where it was raised). */
export const OPTIONAL_CONDITION_FIELDS: readonly string[] = ['clear', 'margin']

export function emptyRuleForm(indicator = ''): RuleForm {
  return {
    id: '', name: '', indicator,
    scope: { kind: 'all', device_type: '', device: '', area: '' },
    condition: { kind: 'above', value: '', clear: '', min: '', max: '', margin: '', per_minute: '', minutes: '' },
    duration: '0', durationUnit: 'minutes', repeat: '1', level: 'orange',
    scheduled: false, days: [], from: '', to: '', enabled: true,
  }
}

const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n))

/** A duration in the largest unit it is a whole number of (600 s is 10 minutes). */
export function durationParts(secs: number): { amount: string; unit: DurationUnit } {
  if (secs > 0 && secs % 3600 === 0) return { amount: String(secs / 3600), unit: 'hours' }
  if (secs % 60 === 0) return { amount: String(secs / 60), unit: 'minutes' }
  return { amount: String(secs), unit: 'seconds' }
}

/** The form of a stored rule. */
export function ruleFormOf(rule: TelemetryRule): RuleForm {
  const form = emptyRuleForm(rule.indicator)
  form.id = rule.id
  form.name = rule.name
  const s = rule.scope
  form.scope.kind = s.kind
  if (s.kind === 'device_type') form.scope.device_type = s.device_type
  if (s.kind === 'device') form.scope.device = s.device
  if (s.kind === 'area') form.scope.area = s.area
  const c = rule.condition
  form.condition.kind = c.kind
  if (c.kind === 'above' || c.kind === 'below') Object.assign(form.condition, { value: text(c.value), clear: text(c.clear) })
  if (c.kind === 'outside') Object.assign(form.condition, { min: text(c.min), max: text(c.max), margin: text(c.margin) })
  if (c.kind === 'rising' || c.kind === 'falling') Object.assign(form.condition, { per_minute: text(c.per_minute), clear: text(c.clear) })
  if (c.kind === 'silent') form.condition.minutes = text(c.minutes)
  const { amount, unit } = durationParts(rule.duration_secs ?? 0)
  form.duration = amount
  form.durationUnit = unit
  form.repeat = String(rule.repeat ?? 1)
  form.level = rule.level
  if (rule.schedule) {
    form.scheduled = true
    form.days = [...(rule.schedule.days ?? [])]
    form.from = rule.schedule.from
    form.to = rule.schedule.to
  }
  form.enabled = rule.enabled ?? true
  return form
}

/** A time of day as the server takes it: `HH:MM`, 00:00 to 23:59. */
const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]$/

/**
 * The condition the form's condition fields describe, or null with `problems` filled in (the
 * server's checks of a condition). A warning's or plan's adjustment of a rule is checked alike.
 */
export function conditionOf(form: RuleForm['condition'], problems: RuleProblems): RuleCondition | null {
  const numbers: Record<string, number | null> = {}
  for (const f of CONDITION_FIELDS[form.kind]) {
    const typed = form[f].trim()
    const field = `condition.${f}` as RuleField
    if (!typed) {
      if (!OPTIONAL_CONDITION_FIELDS.includes(f)) problems[field] = 'required'
      numbers[f] = null
      continue
    }
    const n = numberOf(typed)
    if (n === null) problems[field] = 'number'
    numbers[f] = n
  }
  const { value, clear, min, max, margin, per_minute, minutes } = numbers
  switch (form.kind) {
    case 'above':
      if (value !== null && clear !== null && clear > value) problems['condition.clear'] = 'clearAbove'
      return value === null ? null : { kind: 'above', value, ...(clear !== null ? { clear } : {}) }
    case 'below':
      if (value !== null && clear !== null && clear < value) problems['condition.clear'] = 'clearBelow'
      return value === null ? null : { kind: 'below', value, ...(clear !== null ? { clear } : {}) }
    case 'outside':
      if (min !== null && max !== null && min >= max) problems['condition.max'] = 'range'
      else if (min !== null && max !== null && margin !== null && (margin < 0 || 2 * margin >= max - min)) problems['condition.margin'] = 'margin'
      else if (margin !== null && margin < 0) problems['condition.margin'] = 'margin'
      return min === null || max === null ? null : { kind: 'outside', min, max, ...(margin !== null ? { margin } : {}) }
    case 'rising':
    case 'falling':
      if (per_minute !== null && per_minute <= 0) problems['condition.per_minute'] = 'rate'
      else if (per_minute !== null && clear !== null && clear > per_minute) problems['condition.clear'] = 'clearRate'
      return per_minute === null ? null : { kind: form.kind, per_minute, ...(clear !== null ? { clear } : {}) }
    case 'silent':
      if (minutes !== null && (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_SILENT_MINUTES)) problems['condition.minutes'] = 'minutes'
      return minutes === null ? null : { kind: 'silent', minutes }
  }
}

/**
 * The rule the form describes (`POST /telemetry/rules`, `PUT /telemetry/rules/{id}`, the
 * tester's draft), or the fields to fix first: the checks of the server's
 * `TelemetryRule::validate`, all of them at once rather than the first. `indicators` is the
 * catalogue the indicator must be in (not checked while it is unknown). A silence rule has its
 * own duration (minutes): the form does not offer duration and repeat for it, and sends 0 and 1.
 */
export function ruleBody(form: RuleForm, indicators: readonly Pick<Indicator, 'key'>[] = []): { body: TelemetryRule | null; problems: RuleProblems } {
  const problems: RuleProblems = {}
  const id = form.id.trim()
  const name = form.name.trim()
  const indicator = form.indicator.trim()
  if (!id) problems.id = 'required'
  else if (!DEVICE_ID.test(id)) problems.id = 'ruleId'
  if (!name) problems.name = 'required'
  else if ([...name].length > 100) problems.name = 'long'
  if (!indicator) problems.indicator = 'required'
  else if (!METRIC_KEY.test(indicator)) problems.indicator = 'metricKey'
  else if (indicators.length && !indicators.some((i) => i.key === indicator)) problems.indicator = 'unknownIndicator'

  let scope: RuleScope = { kind: 'all' }
  const s = form.scope
  if (s.kind === 'device_type') {
    const v = s.device_type.trim()
    if (!v) problems['scope.device_type'] = 'required'
    else if (!METRIC_KEY.test(v)) problems['scope.device_type'] = 'metricKey'
    scope = { kind: 'device_type', device_type: v }
  } else if (s.kind === 'device') {
    const v = s.device.trim()
    if (!v) problems['scope.device'] = 'required'
    else if (!DEVICE_ID.test(v)) problems['scope.device'] = 'deviceId'
    scope = { kind: 'device', device: v }
  } else if (s.kind === 'area') {
    const v = s.area.trim()
    if (!v) problems['scope.area'] = 'required'
    else if (!isAreaCode(v)) problems['scope.area'] = 'area'
    scope = { kind: 'area', area: v }
  }

  const condition = conditionOf(form.condition, problems)
  const silent = form.condition.kind === 'silent'

  let duration_secs = 0
  let repeat = 1
  if (!silent) {
    const typed = form.duration.trim()
    if (typed) {
      const amount = numberOf(typed)
      const secs = amount === null ? NaN : amount * UNIT_SECS[form.durationUnit]
      // whole seconds, from 0 to a week
      if (!Number.isInteger(Math.round(secs * 1e6) / 1e6) || secs < 0 || secs > MAX_DURATION_SECS) problems.duration_secs = 'duration'
      else duration_secs = Math.round(secs)
    }
    const times = form.repeat.trim()
    if (times) {
      const n = /^\d+$/.test(times) ? Number(times) : NaN
      if (!Number.isInteger(n) || n < 1 || n > MAX_REPEAT) problems.repeat = 'repeat'
      else repeat = n
    }
  }

  let schedule: RuleSchedule | null = null
  if (form.scheduled) {
    const days = [...new Set(form.days)].sort((a, b) => a - b)
    if (days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) problems['schedule.days'] = 'days'
    const from = form.from.trim()
    const to = form.to.trim()
    if (!TIME.test(from)) problems['schedule.from'] = from ? 'time' : 'required'
    if (!TIME.test(to)) problems['schedule.to'] = to ? 'time' : 'required'
    else if (from === to) problems['schedule.to'] = 'emptyWindow'
    schedule = { days, from, to }
  }

  if (Object.keys(problems).length || !condition) return { body: null, problems }
  const body: TelemetryRule = { id, name, indicator, scope, condition, duration_secs, repeat, level: form.level, enabled: form.enabled }
  if (schedule) body.schedule = schedule
  return { body, problems }
}

/**
 * The form field a server refusal names, or null for none it has (shown at the top of the
 * dialog then). The tester names the draft's fields under `rule.` (`rule.condition.clear`); a
 * list's item (`schedule.days[2]`) is the list; a part the form does not know lands on its whole.
 */
export function ruleFieldOf(field: string | null | undefined): RuleField | null {
  if (!field) return null
  const name = field.replace(/^rule\./, '').replace(/\[\d+\]$/, '')
  if ((RULE_FIELDS as readonly string[]).includes(name)) return name as RuleField
  const head = name.split('.')[0]
  return (['scope', 'condition', 'schedule'] as const).find((h) => h === head) ?? null
}

/** The tester's own fields, as the server names them. */
export const TEST_FIELDS = ['device', 'from', 'to'] as const
export type TestField = (typeof TEST_FIELDS)[number]

export function testFieldOf(field: string | null | undefined): TestField | null {
  return field && (TEST_FIELDS as readonly string[]).includes(field) ? (field as TestField) : null
}

/** The server's message without the field it starts with (`rule.condition: invalid type...`), as shown beside that field. */
export function messageBeside(message: string, field: string | null | undefined): string {
  if (!field) return message
  for (const prefix of [field, field.replace(/^rule\./, '')]) if (message.startsWith(`${prefix}: `)) return message.slice(prefix.length + 2)
  return message
}

// ---- the list

/** The rule list's filters: an indicator, and text in the rule's id or name. */
export interface RuleFilters {
  indicator: string
  q: string
}

export function matchesRule(rule: Pick<TelemetryRule, 'id' | 'name' | 'indicator'>, f: RuleFilters): boolean {
  if (f.indicator && rule.indicator !== f.indicator) return false
  const q = f.q.trim().toLowerCase()
  return !q || rule.id.toLowerCase().includes(q) || rule.name.toLowerCase().includes(q)
}

/** By indicator in the catalogue's order, then the most severe level first, then by id. */
export function sortRules(rules: readonly TelemetryRule[], indicators: readonly Pick<Indicator, 'key'>[] = []): TelemetryRule[] {
  const order = new Map(indicators.map((i, n) => [i.key, n]))
  const rank = (r: TelemetryRule) => order.get(r.indicator) ?? indicators.length
  const severity = (r: TelemetryRule) => ['blue', 'yellow', 'orange', 'red'].indexOf(r.level)
  return [...rules].sort((a, b) => rank(a) - rank(b) || a.indicator.localeCompare(b.indicator) || severity(b) - severity(a) || a.id.localeCompare(b.id))
}

// ---- a rule in words

type T = (key: string, named?: Record<string, unknown>, plural?: number) => string

/** A number as a rule reads it: no more decimals than it has, in the page's locale. */
export function formatLimit(n: number, locale = 'zh-CN'): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 6 }).format(n)
}

/** "高于 30 cm，回落到 25 cm 及以下解除" / "above 30 cm; clears at 25 cm or below". */
export function conditionText(c: RuleCondition, unit: string, t: T, locale = 'zh-CN'): string {
  const u = (n: number) => `${formatLimit(n, locale)}${unit ? ` ${unit}` : ''}`
  const base = 'admin.devices.conditionText'
  switch (c.kind) {
    case 'above':
    case 'below': {
      const trigger = t(`${base}.${c.kind}`, { value: u(c.value) })
      return c.clear === null || c.clear === undefined ? trigger : t(`${base}.${c.kind}Clear`, { trigger, clear: u(c.clear) })
    }
    case 'outside': {
      const trigger = t(`${base}.outside`, { min: u(c.min), max: u(c.max) })
      return c.margin ? t(`${base}.outsideMargin`, { trigger, margin: u(c.margin) }) : trigger
    }
    case 'rising':
    case 'falling': {
      const trigger = t(`${base}.${c.kind}`, { rate: u(c.per_minute) })
      return c.clear === null || c.clear === undefined ? trigger : t(`${base}.rateClear`, { trigger, clear: u(c.clear) })
    }
    case 'silent':
      return t(`${base}.silent`, { n: c.minutes }, c.minutes)
  }
}

/** Which devices a rule watches, in words: "全部设备", "类型 water_level_gauge". */
export function scopeText(scope: RuleScope, t: T): string {
  const v = scope.kind === 'device_type' ? scope.device_type : scope.kind === 'device' ? scope.device : scope.kind === 'area' ? scope.area : ''
  return t(`admin.devices.scopeText.${scope.kind}`, { v })
}

/** "10 分钟" / "10 minutes": a duration in its largest whole unit. */
export function durationText(secs: number, t: T): string {
  const { amount, unit } = durationParts(secs)
  const n = Number(amount)
  return t(`admin.devices.durationText.${unit}`, { n }, n)
}

/** How long the trigger must hold: "持续 10 分钟，连续 2 次" / "for 10 minutes, 2 readings in a row"; empty when at once. */
export function holdText(rule: Pick<TelemetryRule, 'duration_secs' | 'repeat' | 'condition'>, t: T): string {
  if (rule.condition.kind === 'silent') return ''
  const parts: string[] = []
  if (rule.duration_secs) parts.push(t('admin.devices.hold.duration', { d: durationText(rule.duration_secs, t) }))
  const repeat = rule.repeat ?? 1
  if (repeat > 1) parts.push(t('admin.devices.hold.repeat', { n: repeat }, repeat))
  return parts.join(t('admin.devices.hold.and'))
}

/** The days and hours of a schedule: "周一至周五 07:00–09:00" / "Mon, Tue 22:00–06:00 (over midnight)". */
export function scheduleText(s: RuleSchedule | null | undefined, t: T): string {
  if (!s) return t('admin.devices.schedule.always')
  const days = s.days?.length ? s.days.map((d) => t(`admin.devices.weekdays.${d}`)).join(t('admin.devices.schedule.sep')) : t('admin.devices.schedule.everyDay')
  const overnight = s.to < s.from ? t('admin.devices.schedule.overnight') : ''
  return `${days} ${s.from}–${s.to}${overnight}`
}

// ---- the tester

/** The windows the tester offers: the last hour, 6 hours, 24 hours, or one typed. */
export const WINDOW_PRESETS = ['1h', '6h', '24h', 'custom'] as const
export type WindowPreset = (typeof WINDOW_PRESETS)[number]
const PRESET_HOURS: Record<Exclude<WindowPreset, 'custom'>, number> = { '1h': 1, '6h': 6, '24h': 24 }

export type WindowProblem = 'required' | 'datetime' | 'order'

/**
 * The window to replay, as RFC 3339: a preset ends now; a custom one is typed as
 * `datetime-local` values in Shanghai time. `from` must come before `to` (the server's rule,
 * which names `from`).
 */
export function testWindow(
  preset: WindowPreset, now: Date, custom: { from: string; to: string } = { from: '', to: '' },
): { window: { from: string; to: string } | null; problems: Partial<Record<'from' | 'to', WindowProblem>> } {
  if (preset !== 'custom') {
    const to = now.toISOString()
    const from = new Date(now.getTime() - PRESET_HOURS[preset] * 3600_000).toISOString()
    return { window: { from, to }, problems: {} }
  }
  const problems: Partial<Record<'from' | 'to', WindowProblem>> = {}
  const read = (v: string, field: 'from' | 'to') => {
    if (!v) {
      problems[field] = 'required'
      return null
    }
    const iso = fromShanghaiLocal(v)
    const ok = iso && !Number.isNaN(Date.parse(iso))
    if (!ok) problems[field] = 'datetime'
    return ok ? iso : null
  }
  let from: string | null = null
  let to: string | null = null
  try {
    from = read(custom.from, 'from')
    to = read(custom.to, 'to')
  } catch {
    // an impossible date: toISOString throws
    if (!from) problems.from = 'datetime'
    else problems.to = 'datetime'
  }
  if (from && to && Date.parse(from) >= Date.parse(to)) problems.from = 'order'
  if (Object.keys(problems).length || !from || !to) return { window: null, problems }
  return { window: { from, to }, problems }
}

/** `POST /telemetry/rule-tests`: the draft, the device, the window. */
export function ruleTestBody(rule: TelemetryRule, device: string, window: { from: string; to: string }): RuleTestBody {
  return { rule, device: device.trim(), from: window.from, to: window.to }
}

/** The tester's device as typed: the problem, or null when it may be sent. */
export function deviceProblem(device: string): 'required' | 'deviceId' | null {
  const id = device.trim()
  if (!id) return 'required'
  return DEVICE_ID.test(id) ? null : 'deviceId'
}

/** What the summary says besides the counts, in the order it says it. */
export type TestNote = 'notWatched' | 'noReadings' | 'truncated' | 'activeAtEnd' | 'nothing'

export function testNotes(view: Pick<RuleTestView, 'watches_device' | 'readings' | 'truncated' | 'active_at_end' | 'alarms'>): TestNote[] {
  const notes: TestNote[] = []
  if (!view.watches_device) notes.push('notWatched')
  if (view.readings === 0) notes.push('noReadings')
  if (view.truncated) notes.push('truncated')
  if (view.active_at_end) notes.push('activeAtEnd')
  if (view.watches_device && view.readings > 0 && view.alarms === 0) notes.push('nothing')
  return notes
}

/** A line across the chart: a value that raises (trigger) or one at which the alarm clears. */
export interface Threshold {
  value: number
  role: 'trigger' | 'clear'
}

/**
 * The rule's lines on a chart of the values: above and below, their trigger and clear; outside,
 * its range and, with a margin, where it clears inside it. A rate of change or a silence has
 * no line on a chart of values.
 */
export function thresholds(c: RuleCondition): Threshold[] {
  switch (c.kind) {
    case 'above':
    case 'below':
      return [{ value: c.value, role: 'trigger' }, ...(c.clear !== null && c.clear !== undefined && c.clear !== c.value ? [{ value: c.clear, role: 'clear' as const }] : [])]
    case 'outside':
      return [
        { value: c.min, role: 'trigger' }, { value: c.max, role: 'trigger' },
        ...(c.margin ? [{ value: c.min + c.margin, role: 'clear' as const }, { value: c.max - c.margin, role: 'clear' as const }] : []),
      ]
    default:
      return []
  }
}

/** What the tester shows of an event: the alarm it belongs to, when, at what value. */
export interface EventMarker {
  at: number
  value: number
  change: 'raise' | 'reopen' | 'clear'
  level: AlarmLevel
  alarm: number
}

/** The raises, reopens and clears of a replay, oldest first (repeats are only counted). */
export function eventMarkers(events: readonly RuleTestEvent[]): EventMarker[] {
  return events
    .filter((e) => e.change === 'raise' || e.change === 'reopen' || e.change === 'clear')
    .map((e) => ({ at: Date.parse(e.at), value: e.value, change: e.change as EventMarker['change'], level: e.level, alarm: e.alarm }))
    .filter((m) => Number.isFinite(m.at))
    .sort((a, b) => a.at - b.at)
}

/** Each stretch an alarm of the replay was active: from its raise (or reopen) to its clear, or the window's end. */
export function alarmSpans(markers: readonly EventMarker[], end: number): { from: number; to: number; level: AlarmLevel; alarm: number }[] {
  const spans: { from: number; to: number; level: AlarmLevel; alarm: number }[] = []
  const open = new Map<number, { from: number; level: AlarmLevel }>()
  for (const m of markers) {
    if (m.change === 'clear') {
      const o = open.get(m.alarm)
      if (o) spans.push({ from: o.from, to: m.at, level: o.level, alarm: m.alarm })
      open.delete(m.alarm)
    } else if (!open.has(m.alarm)) open.set(m.alarm, { from: m.at, level: m.level })
  }
  for (const [alarm, o] of open) spans.push({ from: o.from, to: end, level: o.level, alarm })
  return spans.sort((a, b) => a.from - b.from)
}

/** The readings as chart points `[ms, value]`, oldest first. */
export function readingPoints(readings: readonly Pick<Reading, 'at' | 'value'>[]): [number, number][] {
  return readings
    .map((r) => [Date.parse(r.at), r.value] as [number, number])
    .filter(([at, v]) => Number.isFinite(at) && Number.isFinite(v))
    .sort((a, b) => a[0] - b[0])
}

export const CLEAR_COLOR = '#2e7d32'
export const TRIGGER_COLOR = '#c62828'

/** The words the chart needs, in the page's language. */
export interface ChartLabels {
  series: string
  unit: string
  trigger: string
  clear: string
  change: Record<EventMarker['change'], string>
  /** A time on the axis and in the tooltip. */
  time: (ms: number) => string
  value: (v: number) => string
}

/**
 * The tester's chart (an ECharts option): the readings as a line over the window, the rule's
 * thresholds as dashed lines, each stretch an alarm was active shaded in its level's colour, and
 * a pin where the draft raised or reopened (the level's colour) and where it cleared (green).
 */
export function testChartOption(
  points: readonly [number, number][], markers: readonly EventMarker[], lines: readonly Threshold[],
  window: { from: number; to: number }, labels: ChartLabels,
) {
  const spans = alarmSpans(markers, window.to)
  return {
    animation: false,
    grid: { left: 8, right: 64, top: 28, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'line' },
      formatter: (items: { value: [number, number] }[]) => {
        const first = Array.isArray(items) ? items[0] : null
        if (!first) return ''
        return `${labels.time(first.value[0])}<br/>${labels.series}: ${labels.value(first.value[1])}${labels.unit ? ` ${labels.unit}` : ''}`
      },
    },
    xAxis: {
      type: 'time', min: window.from, max: window.to,
      axisLabel: { hideOverlap: true, formatter: (ms: number) => labels.time(ms) },
    },
    yAxis: { type: 'value', scale: true, name: labels.unit, nameTextStyle: { padding: [0, 0, 0, 0] } },
    series: [
      {
        name: labels.series, type: 'line', data: points.map((p) => [...p]), showSymbol: points.length <= 80, symbolSize: 4,
        lineStyle: { width: 1.5, color: '#1f6feb' }, itemStyle: { color: '#1f6feb' },
        markLine: {
          silent: true, symbol: 'none',
          data: lines.map((l) => ({
            yAxis: l.value,
            lineStyle: { type: 'dashed', width: 1.5, color: l.role === 'trigger' ? TRIGGER_COLOR : CLEAR_COLOR },
            label: { formatter: `${l.role === 'trigger' ? labels.trigger : labels.clear} ${labels.value(l.value)}`, position: 'end', color: l.role === 'trigger' ? TRIGGER_COLOR : CLEAR_COLOR },
          })),
        },
        markArea: {
          silent: true,
          data: spans.map((s) => [{ xAxis: s.from, itemStyle: { color: LEVEL_COLORS[s.level], opacity: 0.12 } }, { xAxis: s.to }]),
        },
        markPoint: {
          symbol: 'pin', symbolSize: 38,
          data: markers.map((m) => ({
            coord: [m.at, m.value], value: labels.change[m.change],
            itemStyle: { color: m.change === 'clear' ? CLEAR_COLOR : LEVEL_COLORS[m.level] },
            label: { fontSize: 10, color: m.change !== 'clear' && m.level === 'yellow' ? '#111' : '#fff', formatter: labels.change[m.change] },
          })),
        },
      },
    ],
  }
}
