// Emergencies on the client (应急指挥): how a warning's level and an incident's response level
// look, how long a warning has left, which warnings and incidents a list keeps as live events
// arrive, how a task board sorts a unit's tasks, what each person may do, and how an incident's
// timeline reads (its response decisions, its situation reports, every step in words); the
// command view's zone drawn on the map, its alarm list, map markers and tasks' places (coloured
// by state as on the board), task photos, the notices a unit was sent, rule adjustments, and
// what an incident links to by itself (its link classes) in words.
import type {
  AlarmView, BigClass, Hazard, IncidentEvent, IncidentKind, IncidentView, Indicator, LinkView, NoticeView, ResourceKind, ResourceState,
  ResponseLevel, Role, RuleAdjustment, Severity, SmallClass, TaskState, TaskView, WarningLevel, WarningView, Zone,
} from '../api/types'
import { indicatorName } from './alarms'
import { contains, isAreaCode, isUnitGrid } from './areaCode'
import { categoryName } from './categoryNames'
import { formatDuration } from './deadlines'

type T = (key: string, values?: Record<string, unknown>) => string

/** The keys of a record that names every value of a vocabulary once, in the record's order. */
function valuesOf<V extends string>(record: Record<V, unknown>): readonly V[] {
  return Object.keys(record) as V[]
}

// ---- vocabularies, in the order the UI lists them

/** Most to least severe: red first. */
export const WARNING_LEVELS_DESC = valuesOf<WarningLevel>({ red: true, orange: true, yellow: true, blue: true })
export const HAZARDS = valuesOf<Hazard>({
  rainstorm: true, typhoon: true, flood: true, thunderstorm: true, gale: true, high_temperature: true, cold_wave: true,
  snowstorm: true, fog: true, haze: true, other: true,
})
export const INCIDENT_KINDS = valuesOf<IncidentKind>({ natural_disaster: true, accident: true, public_health: true, social_security: true })
/** Most to least severe (I 特别重大 .. IV 一般). */
export const SEVERITIES = valuesOf<Severity>({ I: true, II: true, III: true, IV: true })
/** Highest first: level 1 (一级) is the strongest response. */
export const RESPONSE_LEVELS = valuesOf<ResponseLevel>({ 1: true, 2: true, 3: true, 4: true })
/** The task board's columns, left to right. */
export const TASK_STATES = valuesOf<TaskState>({ assigned: true, accepted: true, in_progress: true, done: true, unable: true })
export const RESOURCE_KINDS = valuesOf<ResourceKind>({ pump_truck: true, team: true, sandbags: true, generator: true, vehicle: true, other: true })
export const RESOURCE_STATES = valuesOf<ResourceState>({ standby: true, en_route: true, deployed: true, released: true })

// ---- colours

/** A badge's colours: the level's hue behind text that reads on it (WCAG AA). */
export interface BadgeColors { background: string; color: string }

/** The colours of a warning level's badge (蓝 黄 橙 红). Unknown levels are grey. */
export const WARNING_COLORS: Record<WarningLevel, BadgeColors> = {
  red: { background: '#c62828', color: '#ffffff' },
  orange: { background: '#ef6c00', color: '#1a1a1a' },
  yellow: { background: '#fbc02d', color: '#1a1a1a' },
  blue: { background: '#1565c0', color: '#ffffff' },
}
const GREY: BadgeColors = { background: '#9e9e9e', color: '#1a1a1a' }

export function warningColors(level: string | null | undefined): BadgeColors {
  return (level && WARNING_COLORS[level as WarningLevel]) || GREY
}

/** A response level's colour, by the hue of the warning level it answers: 一级 red .. 四级 blue. */
export const RESPONSE_HUE: Record<ResponseLevel, WarningLevel> = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' }

export function responseColors(level: string | null | undefined): BadgeColors {
  return warningColors(level ? RESPONSE_HUE[level as ResponseLevel] : null)
}

/** A task's state's colour, the same on the task board and the command map. */
export const TASK_STATE_COLORS: Record<TaskState, string> = {
  assigned: '#607d8b', accepted: '#1565c0', in_progress: '#ef6c00', done: '#2e7d32', unable: '#6a1b9a',
}
/** The mark of an overdue task (its card's edge, its street's rim on the map). */
export const TASK_OVERDUE_COLOR = '#c62828'

/** Whether a task is still open past its deadline (a done or unable one no longer is). */
export function isTaskOverdue(task: Pick<TaskView, 'state' | 'overdue'>): boolean {
  return task.overdue && task.state !== 'done' && task.state !== 'unable'
}

/** The colour class of a task's state on the board. */
export function taskStateClass(state: TaskState, overdue = false): string {
  return isTaskOverdue({ state, overdue }) ? `task-${state} task-overdue` : `task-${state}`
}

// ---- warnings

const ms = (iso: string | null | undefined) => {
  const v = iso ? Date.parse(iso) : NaN
  return Number.isNaN(v) ? NaN : v
}

/** How severe a level is: 0 (blue) to 3 (red); -1 for an unknown one. */
export function warningRank(level: string): number {
  return ['blue', 'yellow', 'orange', 'red'].indexOf(level)
}

/** Whether a warning is (or is about to be) in force at `now`: issued or in force, not lifted, not expired. */
export function isCurrentWarning(w: Pick<WarningView, 'status' | 'expires_at' | 'lifted_at'>, now = Date.now()): boolean {
  if (w.status !== 'in_force' && w.status !== 'issued') return false
  if (w.lifted_at) return false
  const end = ms(w.expires_at)
  return Number.isNaN(end) || end > now
}

/** Current warnings first, the most severe first, then the latest issued. */
export function compareWarnings(a: WarningView, b: WarningView, now = Date.now()): number {
  const ca = isCurrentWarning(a, now) ? 1 : 0
  const cb = isCurrentWarning(b, now) ? 1 : 0
  return cb - ca || warningRank(b.level) - warningRank(a.level) || (ms(b.issued_at) || 0) - (ms(a.issued_at) || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export function sortWarnings(list: readonly WarningView[], now = Date.now()): WarningView[] {
  return [...list].sort((a, b) => compareWarnings(a, b, now))
}

/**
 * A list of warnings with one more reading of a warning (a live event, an answer): the newer
 * version wins; with `keepPast` false, a warning no longer current leaves the list.
 */
export function upsertWarning(list: readonly WarningView[], w: WarningView, keepPast = false, now = Date.now()): WarningView[] {
  const old = list.find((x) => x.id === w.id)
  const next = old && old.version > w.version ? old : w
  const rest = list.filter((x) => x.id !== w.id)
  if (!keepPast && !isCurrentWarning(next, now)) return sortWarnings(rest, now)
  return sortWarnings([...rest, next], now)
}

/** Whole minutes from `now` to `iso` (negative once past), or null for no time. */
export function minutesUntil(iso: string | null | undefined, now = Date.now()): number | null {
  const end = ms(iso)
  if (Number.isNaN(end)) return null
  return Math.trunc((end - now) / 60_000)
}

/** "剩余5小时59分" / "5 h 59 min left" until a warning expires; "已过期" / "expired" after. */
export function expiryText(iso: string | null | undefined, now: number, t: T): string {
  const end = ms(iso)
  if (Number.isNaN(end)) return '—'
  if (end <= now) return t('emergency.expired')
  // whole minutes, rounded down: a countdown never promises more time than is left
  return t('deadline.left', { span: formatDuration(Math.floor((end - now) / 60_000), t) })
}

/** Whether a warning expires within the hour (its countdown is marked). */
export function expiresSoon(iso: string | null | undefined, now = Date.now()): boolean {
  const m = minutesUntil(iso, now)
  return m !== null && m >= 0 && m < 60
}

// ---- incidents

/** The strongest response first (一级), then those without a response, then the latest opened. */
export function compareIncidents(a: IncidentView, b: IncidentView): number {
  const active = (i: IncidentView) => (i.state === 'active' ? 0 : 1)
  const lvl = (i: IncidentView) => (i.response ? Number(i.response.level) : 9)
  return active(a) - active(b) || lvl(a) - lvl(b) || (ms(b.opened_at) || 0) - (ms(a.opened_at) || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export function sortIncidents(list: readonly IncidentView[]): IncidentView[] {
  return [...list].sort(compareIncidents)
}

/** An incident's newer reading into a list (the higher version wins); a stood-down one leaves it unless `keepPast`. */
export function upsertIncident(list: readonly IncidentView[], inc: IncidentView, keepPast = false): IncidentView[] {
  const old = list.find((x) => x.id === inc.id)
  const next = old && old.version > inc.version ? old : inc
  const rest = list.filter((x) => x.id !== inc.id)
  if (!keepPast && next.state !== 'active') return sortIncidents(rest)
  return sortIncidents([...rest, next])
}

/** The newer of two readings of one incident (either may be missing). */
export function newerIncident(a: IncidentView | null | undefined, b: IncidentView | null | undefined): IncidentView | null {
  if (!a) return b ?? null
  if (!b) return a
  return b.version >= a.version ? b : a
}

/** Open tasks by urgency (overdue first, then the earliest deadline), finished ones after; ties by id. */
export function compareTasks(a: TaskView, b: TaskView): number {
  const closed = (x: TaskView) => (x.state === 'done' || x.state === 'unable' ? 1 : 0)
  return closed(a) - closed(b) || Number(b.overdue) - Number(a.overdue) || (ms(a.deadline) || 0) - (ms(b.deadline) || 0) || a.id - b.id
}

/** The task board's columns: every state, in board order, each column's tasks sorted. */
export function tasksByState(tasks: readonly TaskView[]): Record<TaskState, TaskView[]> {
  const out = Object.fromEntries(TASK_STATES.map((s) => [s, [] as TaskView[]])) as Record<TaskState, TaskView[]>
  for (const task of tasks) (out[task.state] ??= []).push(task)
  for (const s of Object.keys(out) as TaskState[]) out[s].sort(compareTasks)
  return out
}

/** How far the tasks have come: how many, done, unable, overdue. */
export function taskProgress(tasks: readonly TaskView[]): { total: number; done: number; unable: number; overdue: number } {
  return {
    total: tasks.length,
    done: tasks.filter((x) => x.state === 'done').length,
    unable: tasks.filter((x) => x.state === 'unable').length,
    overdue: tasks.filter((x) => x.overdue && x.state !== 'done' && x.state !== 'unable').length,
  }
}

// ---- who may do what (the server decides; these only show and hide controls)

export { CENTER_ROLES, isCenterStaff, isLeader, mayUseEmergency } from './emergencyRoles'

export type TaskAction = 'accept' | 'start' | 'finish' | 'unable'

/** What a unit's handler may do with a task of their unit: accept, start, finish (with a report) or decline it. */
export function taskActions(task: Pick<TaskView, 'state' | 'unit'>, who: { role: Role | null | undefined; unit?: string | null }): TaskAction[] {
  if (who.role !== 'unit_handler' || !who.unit || who.unit !== task.unit) return []
  switch (task.state) {
    case 'assigned': return ['accept', 'start', 'unable']
    case 'accepted': return ['start', 'finish', 'unable']
    case 'in_progress': return ['finish', 'unable']
    default: return []
  }
}

// ---- the timeline

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** A response decision, from a `set_response` entry. */
export interface ResponseDecision { seq: number; at: string; username: string; level: ResponseLevel; reason: string }

/** The response level's history, newest first (the timeline's `set_response` entries with their reasons). */
export function responseHistory(timeline: readonly IncidentEvent[]): ResponseDecision[] {
  return timeline
    .filter((e) => e.action === 'set_response')
    .map((e) => ({ seq: e.seq, at: e.at, username: e.username, level: str(e.details.level) as ResponseLevel, reason: str(e.details.reason) }))
    .sort((a, b) => b.seq - a.seq)
}

/** A situation report, from a `sitrep` entry. */
export interface Sitrep { seq: number; at: string; username: string; role: Role; unit: string | null; text: string }

/** The situation reports, newest first. */
export function sitreps(timeline: readonly IncidentEvent[]): Sitrep[] {
  return timeline
    .filter((e) => e.action === 'sitrep')
    .map((e) => ({ seq: e.seq, at: e.at, username: e.username, role: e.role, unit: e.unit ?? null, text: str(e.details.text) }))
    .sort((a, b) => b.seq - a.seq)
}

/** What `describeEvent` needs besides the entry: translation, names and times. */
export interface EventWords {
  t: T
  /** A unit's name (with its code), or the code. */
  unit: (code: string) => string
  /** A task's title by its number on this incident, if known. */
  task: (id: number) => string | null
  when: (iso: string) => string
}

/** A timeline entry in words (the action's name is shown beside it). */
export function describeEvent(e: Pick<IncidentEvent, 'action' | 'details'>, w: EventWords): string {
  const d = e.details ?? {}
  const { t } = w
  const taskName = () => {
    const id = num(d.task)
    if (id === null) return ''
    const title = w.task(id)
    return title ? t('emergency.timeline.taskNamed', { id, title }) : t('emergency.timeline.task', { id })
  }
  switch (e.action) {
    case 'open': return str(d.title)
    case 'set_response': return t('emergency.timeline.response', { level: t(`emergency.response.levels.${str(d.level)}`), reason: str(d.reason) })
    case 'assign_task': return t('emergency.timeline.assign', { unit: w.unit(str(d.unit)), title: str(d.title), deadline: w.when(str(d.deadline)) })
    case 'accept_task':
    case 'start_task': return taskName()
    case 'finish_task': return t('emergency.timeline.withText', { what: taskName(), text: str(d.report) })
    case 'task_unable': return t('emergency.timeline.withText', { what: taskName(), text: str(d.reason) })
    case 'sitrep': return str(d.text)
    case 'add_resource': {
      const kind = str(d.kind)
      return t('emergency.timeline.resource', { name: str(d.name), quantity: num(d.quantity) ?? '', kind: t(`emergency.resources.kinds.${kind}`) })
    }
    case 'move_resource':
      return t('emergency.timeline.move', { id: num(d.resource) ?? '', state: t(`emergency.resources.states.${str(d.state)}`) })
    case 'hand_over':
    case 'stand_down': return str(d.reason)
    case 'notify': {
      const units = Array.isArray(d.units) ? d.units.map(str).filter(Boolean) : str(d.unit) ? [str(d.unit)] : []
      return t('emergency.timeline.notify', { units: units.map(w.unit).join(t('emergency.joiner')), text: str(d.text) })
    }
    case 'link':
    case 'unlink': {
      const kind = str(d.kind)
      return t('emergency.timeline.link', { kind: kind === 'alarm' || kind === 'case' ? t(`emergency.links.kinds.${kind}`) : kind, target: str(d.target) })
    }
    default: return ''
  }
}

/** The timeline's actions the UI has words for (others show as they are). */
export const EVENT_ACTIONS = [
  'open', 'set_response', 'assign_task', 'accept_task', 'start_task', 'finish_task', 'task_unable', 'sitrep',
  'add_resource', 'move_resource', 'hand_over', 'stand_down', 'notify', 'link', 'unlink',
] as const

// ---- forms

/** A number typed as text (lon, lat, quantity): null when empty, NaN when not a number. */
export function parseNumber(text: string | number | null | undefined): number | null {
  if (text === null || text === undefined) return null
  const s = String(text).trim()
  if (!s) return null
  const n = Number(s)
  return Number.isFinite(n) ? n : NaN
}

/** The element a refused CAP file names (`invalid_file`'s field), or null. */
export function capElement(e: { code?: string; field?: string } | null | undefined): string | null {
  return e && e.code === 'invalid_file' && e.field ? e.field : null
}

/** An error's field with a list index dropped (`areas[2]` is the areas field). */
export function fieldName(field: string | null | undefined): string | null {
  if (!field) return null
  return field.replace(/\[\d+\].*$/, '').replace(/\..*$/, '')
}

/** A refusal as a form shows it: words in the UI's language where it has them, the field it concerns. */
export interface Problem { text: string; field: string | null; code: string }

/** Refusals the UI has its own words for (`emergency.errors.*`). */
const KNOWN_REFUSALS = ['role_not_allowed', 'not_assigned_unit', 'transition_not_allowed', 'unknown_reference', 'not_found'] as const

/** A failed call as a form's problem: the server's refusal in words, beside the field it names. */
export function problemOf(e: unknown, t: T): Problem {
  const err = e as { status?: number; code?: string; field?: string; message?: string }
  const code = typeof err?.code === 'string' ? err.code : 'error'
  const field = fieldName(err?.field)
  const message = String(err?.message ?? e)
  const bare = field && message.startsWith(`${err.field}: `) ? message.slice(String(err.field).length + 2) : message
  if (err?.status === 0 || code === 'network') return { text: t('errors.network'), field: null, code }
  if (code === 'invalid_input' && /must not be empty|name at least one/.test(bare)) return { text: t('emergency.errors.required'), field, code }
  if ((KNOWN_REFUSALS as readonly string[]).includes(code)) return { text: t(`emergency.errors.${code}`, { msg: bare }), field, code }
  return { text: t('errors.generic', { msg: bare }), field, code }
}

// ---- the zone drawn on the map

/** The most positions of a zone's ring, the closing one included (the server's bound). */
export const ZONE_MAX_POSITIONS = 500
/** Why the vertices make no zone yet: fewer than 3 distinct, more than the ring holds, all on a line. */
export type ZoneProblem = 'few' | 'many' | 'flat'

const round6 = (n: number) => Math.round(n * 1e6) / 1e6

/**
 * The closed ring of the vertices clicked, as the server takes it: [lon, lat] to 6 decimals
 * (about 0.1 m), a vertex clicked twice in a row (a double click) kept once, a last vertex on the
 * first taken as the closing one, and the first repeated at the end. Null with the problem when
 * there are fewer than 3 distinct vertices, more than 499 (the ring then exceeds 500 positions),
 * or they all lie on one line.
 */
export function zoneRing(vertices: readonly (readonly number[])[]): { ring: [number, number][] | null; problem: ZoneProblem | null } {
  const pts: [number, number][] = []
  for (const v of vertices) {
    const [lon, lat] = v
    if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) continue
    const p: [number, number] = [round6(lon), round6(lat)]
    const last = pts[pts.length - 1]
    if (last && last[0] === p[0] && last[1] === p[1]) continue
    pts.push(p)
  }
  while (pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) pts.pop()
  const distinct = new Set(pts.map((p) => `${p[0]},${p[1]}`)).size
  if (distinct < 3) return { ring: null, problem: 'few' }
  if (pts.length + 1 > ZONE_MAX_POSITIONS) return { ring: null, problem: 'many' }
  // twice the signed area (shoelace): zero when every vertex is on one line
  let area2 = 0
  for (let i = 0; i < pts.length; i++) {
    const [x1, y1] = pts[i]
    const [x2, y2] = pts[(i + 1) % pts.length]
    area2 += x1 * y2 - x2 * y1
  }
  if (Math.abs(area2) < 1e-12) return { ring: null, problem: 'flat' }
  return { ring: [...pts, [pts[0][0], pts[0][1]]], problem: null }
}

/** The zone to send (`POST /incidents` `zone`), or null while the vertices make none. */
export function zonePolygon(vertices: readonly (readonly number[])[]): Zone | null {
  const { ring } = zoneRing(vertices)
  return ring ? { type: 'Polygon', coordinates: [ring] } : null
}

// ---- the command map and the live alarm list

/** Whether an area (or unit grid) lies within one of the incident's areas (codes are prefixes). */
export function inAreas(code: string | null | undefined, areas: readonly string[]): boolean {
  if (!code || !(isAreaCode(code) || isUnitGrid(code))) return false
  return areas.some((a) => contains(a, code))
}

/** A row of the command view's alarm list: a live alarm of the incident's areas, or a linked one. */
export interface IncidentAlarm {
  id: string
  level: WarningLevel | null
  /** The rule's name and the device. */
  title: string
  state: string | null
  area: string | null
  /** When it was raised (a live one) or linked. */
  at: string
  value: number | null
  indicator: string | null
  location: { lon: number; lat: number } | null
  /** Linked to the incident (by hand or by its areas). */
  linked: boolean
  /** Seen on the live stream since the page opened. */
  live: boolean
}

export const INCIDENT_ALARMS_CAPACITY = 50

const msOr = (iso: string | null | undefined) => {
  const v = iso ? Date.parse(iso) : NaN
  return Number.isNaN(v) ? -Infinity : v
}

/**
 * The alarm list of an incident's command view: the alarms the stream brought whose area lies
 * within one of the incident's areas, and the alarms linked to it; one row per alarm (the live
 * reading wins, marked linked when it is), newest first, at most `capacity`.
 */
export function incidentAlarms(
  live: readonly AlarmView[], links: readonly LinkView[], areas: readonly string[], capacity = INCIDENT_ALARMS_CAPACITY,
): IncidentAlarm[] {
  const rows = new Map<string, IncidentAlarm>()
  for (const l of links) {
    if (l.kind !== 'alarm') continue
    rows.set(l.target, {
      id: l.target, level: l.level ?? null, title: l.title || l.target, state: l.state ?? null, area: null, at: l.at,
      value: null, indicator: null, location: l.location ?? null, linked: true, live: false,
    })
  }
  for (const a of live) {
    const linked = rows.has(a.id)
    if (!linked && !inAreas(a.area, areas)) continue
    rows.set(a.id, {
      id: a.id, level: a.level, title: `${a.rule_name} · ${a.device_id}`, state: a.state ?? null, area: a.area, at: a.raised_at,
      value: a.last_value, indicator: a.indicator, location: a.location ?? null, linked, live: true,
    })
  }
  return [...rows.values()]
    .sort((x, y) => msOr(y.at) - msOr(x.at) || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
    .slice(0, capacity)
}

/** A marker of the command map: an alarm (by its level) or a case, where it is. */
export interface MapMarker { id: string; kind: 'alarm' | 'case'; lon: number; lat: number; level: WarningLevel | null; label: string }

/**
 * The markers of the linked alarms and cases that have a place, and of the live alarms of the
 * list (a live alarm not yet linked shows too); one per target.
 */
export function linkMarkers(links: readonly LinkView[], alarms: readonly IncidentAlarm[] = []): MapMarker[] {
  const out = new Map<string, MapMarker>()
  const ok = (p: { lon: number; lat: number } | null | undefined): p is { lon: number; lat: number } =>
    !!p && Number.isFinite(p.lon) && Number.isFinite(p.lat)
  for (const l of links) {
    if (!ok(l.location)) continue
    out.set(`${l.kind}:${l.target}`, { id: l.target, kind: l.kind, lon: l.location.lon, lat: l.location.lat, level: l.kind === 'alarm' ? l.level ?? null : null, label: l.title || l.target })
  }
  for (const a of alarms) {
    if (!ok(a.location)) continue
    out.set(`alarm:${a.id}`, { id: a.id, kind: 'alarm', lon: a.location.lon, lat: a.location.lat, level: a.level, label: a.title })
  }
  return [...out.values()]
}

/**
 * Where a task is on the command map: its unit's area. A street office (`<street>-JDB`, e.g.
 * 310101002-JDB) answers for its street; another unit whose code starts with a district's 6
 * digits (310101-SWJ, 310101-GAFJ) for the district; any other unit (the center's) for none.
 */
export function taskAreaOf(unit: string | null | undefined): string | null {
  if (!unit) return null
  const office = /^(\d{9})-JDB$/.exec(unit)
  if (office) return office[1]
  const district = /^(\d{6})/.exec(unit)
  return district ? district[1] : null
}

/** The order in which a street's tasks decide its colour: the one most needing the command's eye first. */
const TASK_ATTENTION: readonly TaskState[] = ['unable', 'assigned', 'accepted', 'in_progress', 'done']

/** A street the command map outlines for its street office's tasks. */
export interface TaskStreet<K> { code: string; state: TaskState; overdue: boolean; tasks: K[] }

/**
 * The streets the tasks of street offices mark on the command map, in the order first assigned:
 * each in the state of its task most needing attention (unable, then the least advanced; done
 * only when all are), overdue when one of its tasks is. Tasks of district units mark none.
 */
export function taskStreets<K extends Pick<TaskView, 'unit' | 'state' | 'overdue'>>(tasks: readonly K[]): TaskStreet<K>[] {
  const out = new Map<string, TaskStreet<K>>()
  for (const task of tasks) {
    const code = taskAreaOf(task.unit)
    if (!code || code.length !== 9) continue
    const s = out.get(code) ?? { code, state: task.state, overdue: false, tasks: [] }
    s.tasks.push(task)
    if (TASK_ATTENTION.indexOf(task.state) < TASK_ATTENTION.indexOf(s.state)) s.state = task.state
    s.overdue ||= isTaskOverdue(task)
    out.set(code, s)
  }
  return [...out.values()]
}

// ---- task photos

/** At most 9 photos to a finished task, each a JPEG, PNG or WebP of at most 10 MiB (the server's bounds). */
export const TASK_PHOTO_MAX = 9
export const TASK_PHOTO_BYTES = 10 * 1024 * 1024
export const TASK_PHOTO_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/webp']
export type PhotoRefusal = 'type' | 'size' | 'count'

/**
 * Which of the files chosen may go with the report: those of an image type the server takes and
 * not too large, up to 9 with the `already` chosen; the rest with why.
 */
export function checkTaskPhotos<F extends { name: string; type: string; size: number }>(
  files: readonly F[], already = 0,
): { accepted: F[]; refused: { name: string; why: PhotoRefusal }[] } {
  const accepted: F[] = []
  const refused: { name: string; why: PhotoRefusal }[] = []
  for (const f of files) {
    if (!TASK_PHOTO_TYPES.includes(f.type)) refused.push({ name: f.name, why: 'type' })
    else if (f.size > TASK_PHOTO_BYTES || f.size <= 0) refused.push({ name: f.name, why: 'size' })
    else if (already + accepted.length >= TASK_PHOTO_MAX) refused.push({ name: f.name, why: 'count' })
    else accepted.push(f)
  }
  return { accepted, refused }
}

// ---- notices

/** The notices of an incident sent to `unit`. */
export function noticesFor(inc: IncidentView, unit: string | null | undefined): NoticeView[] {
  if (!unit) return []
  return (inc.notices ?? []).filter((n) => Array.isArray(n.units) && n.units.includes(unit))
}

/** The active incidents that notified `unit`, the latest notice first, with the notices. */
export function notifiedIncidents(incidents: readonly IncidentView[], unit: string | null | undefined): { incident: IncidentView; notices: NoticeView[] }[] {
  return incidents
    .filter((i) => i.state === 'active')
    .map((incident) => ({ incident, notices: noticesFor(incident, unit) }))
    .filter((x) => x.notices.length)
    .sort((a, b) => msOr(b.notices[b.notices.length - 1].at) - msOr(a.notices[a.notices.length - 1].at))
}

// ---- rule adjustments

/** The most rules a warning (or incident) judges differently. */
export const MAX_ADJUSTMENTS = 32

/** The adjustments with `adj` in place of any of the same rule (added at the end otherwise), at most 32. */
export function withAdjustment(list: readonly RuleAdjustment[], adj: RuleAdjustment): RuleAdjustment[] {
  const i = list.findIndex((a) => a.rule === adj.rule)
  if (i >= 0) return list.map((a, n) => (n === i ? adj : a))
  return list.length >= MAX_ADJUSTMENTS ? [...list] : [...list, adj]
}

/** Whether two lists of adjustments say the same (order aside). */
export function sameAdjustments(a: readonly RuleAdjustment[], b: readonly RuleAdjustment[]): boolean {
  if (a.length !== b.length) return false
  const key = (x: RuleAdjustment) => `${x.rule}|${JSON.stringify(x.condition, Object.keys(x.condition).sort())}`
  const keys = new Set(a.map(key))
  return b.every((x) => keys.has(key(x)))
}

/** A file name for an incident's after-action report: `incident-<first 8 of its id>-report.xlsx`. */
export function reportFileName(id: string): string {
  return `incident-${id.replace(/[^A-Za-z0-9-]/g, '').slice(0, 8)}-report.xlsx`
}

// ---- what an incident links by itself (自动关联)

/** The catalogues that name link classes: the indicators, and the category catalogue's classes. */
export interface LinkClassCatalogs {
  indicators?: readonly Pick<Indicator, 'key' | 'name_zh' | 'name_en'>[] | null
  big?: readonly Pick<BigClass, 'code' | 'zh' | 'en'>[] | null
  small?: readonly Pick<SmallClass, 'code' | 'zh' | 'en'>[] | null
}

/** Whether a link class is a class code or its start (digits), rather than an indicator's key. */
export const isClassCode = (key: string) => /^\d+$/.test(key)

/**
 * A link class in words: an indicator's key as the indicator's name (as the vital-signs and
 * rules pages name it), a small class's code as the class's name, the start of a code that is a
 * big class's (`204`) as the big class's name; the key itself when the catalogues do not know it.
 */
export function linkClassName(key: string, catalogs: LinkClassCatalogs | null | undefined, locale: string): string {
  const indicator = catalogs?.indicators?.find((i) => i.key === key)
  if (indicator) return indicatorName(indicator, key, locale)
  if (!isClassCode(key)) return key
  const known = catalogs?.small?.find((c) => c.code === key) ?? catalogs?.big?.find((b) => b.code === key)
  return known ? categoryName(known, locale) : key
}

/** An incident's (or a plan's) link classes in words, joined; everything in its areas when none. */
export function linkClassesText(keys: readonly string[] | null | undefined, catalogs: LinkClassCatalogs | null | undefined, locale: string, t: T): string {
  if (!keys?.length) return t('emergency.links.everything')
  return keys.map((k) => linkClassName(k, catalogs, locale)).join(t('emergency.joiner'))
}
