// Lead and assisting units (主办 / 协办): a case dispatched to a lead unit (`unit`) may get
// assisting units, each with a part of its own (`assists`) that it signs for, works on its own
// deadline and feeds back. The lead's feedback waits until no part is open. What the case page,
// the command forms and the workbench show of it, kept free of Vue so it is unit-tested.
import type { CaseState, CaseView, CommandName, DeadlineMark, Term as TermView, TimeLeftView, TimelineEntry, Unit, User } from '../api/types'
import { minutesPerDay, workingMinutesBetween, type WorkingYear } from './workingTime'

/** An assisting unit's part of a case. */
export type AssistPart = CaseView['assists'][number]
/** Where a part stands: assigned, handling, done, released or returned. */
export type AssistState = AssistPart['state']

export const ASSIST_STATES: readonly AssistState[] = ['assigned', 'handling', 'done', 'released', 'returned']

/**
 * The case states in which a part may be open and worked on: beside a lead (dispatched, handling,
 * parked), and back with the dispatcher after the lead returned the case (filed).
 */
export const ASSISTED_STATES: readonly CaseState[] = ['filed', 'dispatched', 'handling', 'suspended']

/** The most parts a case has open at once (the server refuses an eleventh). */
export const MAX_OPEN_PARTS = 10

/** The yellow mark's share of the term used, the server's default (`deadlines.warning_share`). */
export const WARNING_SHARE = 0.75

/** A part still holds the lead's feedback back: assigned (not signed for yet) or handling. */
export function isOpen(part: Pick<AssistPart, 'state'>): boolean {
  return part.state === 'assigned' || part.state === 'handling'
}

/** The case's parts, in the order they were assigned (none on an older server). */
export function partsOf(c: Pick<CaseView, 'assists'> | null | undefined): AssistPart[] {
  return c?.assists ?? []
}

/** The parts still open. */
export function openParts(c: Pick<CaseView, 'assists'> | null | undefined): AssistPart[] {
  return partsOf(c).filter(isOpen)
}

/**
 * A unit's part of the case: its open one, else its latest (a unit released or returned may be
 * assigned again; each time is a part of its own). None when the unit has no part.
 */
export function partOf(c: Pick<CaseView, 'assists'> | null | undefined, unit: string | null | undefined): AssistPart | null {
  if (!unit) return null
  const mine = partsOf(c).filter((p) => p.unit === unit)
  return mine.find(isOpen) ?? mine.at(-1) ?? null
}

/** The viewer's unit assists on the case (and does not lead it): the part the workbench and the case page show them. */
export function viewerPart(
  c: Pick<CaseView, 'assists' | 'unit'> | null | undefined,
  viewer: Pick<User, 'role' | 'unit'> | null | undefined,
): AssistPart | null {
  if (!c || viewer?.role !== 'unit_handler' || !viewer.unit || c.unit === viewer.unit) return null
  return partOf(c, viewer.unit)
}

/** Whether a unit answers for the area: its jurisdiction is the area or one above it (area codes extend their parent's). */
export function answersFor(jurisdiction: string, area: string): boolean {
  return !!jurisdiction && area.startsWith(jurisdiction)
}

type UnitChoice = Pick<Unit, 'code' | 'name'>

/**
 * The units a dispatcher may name as assisting units: active ones answering for the case's area,
 * neither the lead nor one whose part is open. The server refuses the others (409).
 */
export function assistCandidates<U extends Pick<Unit, 'code' | 'name' | 'jurisdiction'> & Partial<Pick<Unit, 'active'>>>(
  units: U[], c: Pick<CaseView, 'area' | 'unit' | 'assists'>,
): U[] {
  const open = new Set(openParts(c).map((p) => p.unit))
  return units.filter((u) => u.active !== false && u.code !== c.unit && !open.has(u.code) && answersFor(u.jurisdiction, c.area))
}

/**
 * The units whose parts the dispatcher may take back: those with an open part, named from `units`
 * where it has them (a part's unit may lie outside the list the form loaded).
 */
export function releaseCandidates(units: UnitChoice[], c: Pick<CaseView, 'assists'>): UnitChoice[] {
  const names = new Map(units.map((u) => [u.code, u.name]))
  return openParts(c).map((p) => ({ code: p.unit, name: names.get(p.unit) ?? '' }))
}

/**
 * The units a command's unit picker offers: the dispatch's (the district's units, with the
 * matrix's proposal even when it lies outside them, but none with an open part: the server
 * refuses to make it lead before its part is released), the assisting candidates for `assist`,
 * the open parts' units for `release-assist`.
 */
export function unitChoices(
  command: CommandName,
  units: (UnitChoice & Pick<Unit, 'jurisdiction'> & Partial<Pick<Unit, 'active'>>)[],
  c: Pick<CaseView, 'area' | 'unit' | 'assists'>,
  proposal?: { unit?: string | null; unit_name?: string | null } | null,
): UnitChoice[] {
  if (command === 'assist') return assistCandidates(units, c)
  if (command === 'release-assist') return releaseCandidates(units, c)
  if (command !== 'dispatch') return units
  const open = new Set(openParts(c).map((p) => p.unit))
  const free = open.size ? units.filter((u) => !open.has(u.code)) : units
  if (proposal?.unit && !open.has(proposal.unit) && !units.some((u) => u.code === proposal.unit)) {
    return [{ code: proposal.unit, name: proposal.unit_name ?? '' }, ...free]
  }
  return free
}

/**
 * The open parts that keep the lead from feeding back, when the viewer is the lead's handler and
 * the case is being handled (the feedback's state); none otherwise. The server refuses the
 * feedback (409) and leaves it out of `actions` while any part is open.
 */
export function blockingParts(
  c: Pick<CaseView, 'assists' | 'unit' | 'state'> | null | undefined,
  viewer: Pick<User, 'role' | 'unit'> | null | undefined,
): AssistPart[] {
  if (!c || c.state !== 'handling' || viewer?.role !== 'unit_handler' || !viewer.unit || viewer.unit !== c.unit) return []
  return openParts(c)
}

type T = (key: string, values?: Record<string, unknown>) => string

/** A unit as people read it: its name and code, or the code alone when the name is not known. */
export function unitLabel(code: string, name: (code: string) => string | null | undefined): string {
  const n = name(code)
  return n ? `${n} ${code}` : code
}

/** Why the lead may not feed back yet, naming the open parts and where each stands; null when nothing blocks. */
export function blockedFeedbackText(parts: AssistPart[], t: T, name: (code: string) => string | null | undefined): string | null {
  if (!parts.length) return null
  const list = parts.map((p) => t('assist.partInList', { unit: unitLabel(p.unit, name), state: t(`assist.states.${p.state}`) }))
  return t('assist.feedbackBlocked', { parts: list.join(t('assist.listJoiner')), n: parts.length })
}

/** When the unit signed for its part: the latest `sign_assist` of that unit on the timeline. */
export function signedAt(timeline: Pick<TimelineEntry, 'action' | 'at' | 'details' | 'unit'>[], unit: string): string | null {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i]
    if (e.action === 'sign_assist' && (e.details?.unit === unit || e.unit === unit)) return e.at
  }
  return null
}

/** What a part's clock runs on: the filed class's handling term, and whether the case runs continuously (urgent). */
export interface PartTerms {
  term: TermView | null
  /** Urgent cases (or classes) count natural time even on working-time terms. */
  continuous: boolean
}

/** The handling term a part's deadline was set on when it was signed for (the server's `case.term(handling)`). */
export function partTerms(c: Pick<CaseView, 'category' | 'urgent'>): PartTerms {
  return { term: c.category?.terms.handling ?? null, continuous: c.urgent || c.category?.urgency === 'urgent' }
}

/** Whether a term counts working time on the calendar. */
export function onWorkingTime(t: PartTerms): boolean {
  return !t.continuous && (t.term?.unit === 'working_hours' || t.term?.unit === 'working_days')
}

export interface ClockContext extends Partial<PartTerms> {
  now?: number
  /** The calendars of the years from now to the deadline; without them working time is not reckoned. */
  calendars?: WorkingYear[]
  /** When the unit signed for the part: the share used without a term. */
  signed?: string | null
  warningShare?: number
}

/**
 * A part's running clock, as the server reckons a stage's (`TimeLeftView`): the minutes to its
 * deadline (working minutes on the calendar when its term counts working time), red once past
 * it, yellow once `warningShare` of its term is used. Without the calendar a working-time term
 * is counted in natural time (and said so: `working_time` false); without a term the share is
 * that of the time since the signing. None unless the part is being handled.
 */
export function partClock(
  part: Pick<AssistPart, 'state' | 'deadline'> & { time_left?: TimeLeftView | null },
  ctx: ClockContext = {},
): TimeLeftView | null {
  if (part.state !== 'handling' || !part.deadline) return null
  // the server's own reckoning, on the city's calendar and its warning share, when it gave one
  if (part.time_left) return part.time_left
  const end = Date.parse(part.deadline)
  if (Number.isNaN(end)) return null
  const now = ctx.now ?? Date.now()
  const terms: PartTerms = { term: ctx.term ?? null, continuous: ctx.continuous ?? false }
  const calendar = ctx.calendars?.[0]
  let working = onWorkingTime(terms) && !!calendar
  let left: number | null = null
  if (working) {
    const span = now <= end ? workingMinutesBetween(now, end, ctx.calendars!) : workingMinutesBetween(end, now, ctx.calendars!)
    if (span === null) working = false
    else left = now <= end ? span : -span
  }
  const exactLeft = working ? left! : (end - now) / 60_000
  const minutesLeft = working ? left! : Math.trunc(exactLeft)
  let length: number | null = null
  const term = terms.term
  if (term) {
    if (term.unit === 'minutes') length = term.amount
    else if (term.unit === 'hours' || term.unit === 'working_hours') length = term.amount * 60
    else length = term.amount * (working ? minutesPerDay(calendar!) : 1440)
  }
  let used: number
  if (length && length > 0) used = Math.max(0, 1 - exactLeft / length)
  else {
    const start = ctx.signed ? Date.parse(ctx.signed) : NaN
    used = !Number.isNaN(start) && end > start ? Math.max(0, (now - start) / (end - start)) : now > end ? 1 : 0
  }
  const mark: DeadlineMark = now > end ? 'overdue' : used >= (ctx.warningShare ?? WARNING_SHARE) ? 'due' : 'on_time'
  return { stage: 'handling', deadline: part.deadline, term, working_time: working, minutes_left: minutesLeft, used, mark }
}

/** A finished part's timeliness: fed back after its deadline is late; released and returned parts have none. */
export function partLate(part: Pick<AssistPart, 'state' | 'deadline' | 'finished_at'>): boolean | null {
  if (part.state !== 'done' || !part.deadline || !part.finished_at) return null
  return Date.parse(part.finished_at) > Date.parse(part.deadline)
}

/**
 * Where the lead's own part stands, in the parts' words: to sign for while dispatched, handling
 * while handled or parked, fed back from its feedback on; none before dispatch or once cancelled.
 */
export function leadState(c: Pick<CaseView, 'state' | 'unit'>): AssistState | null {
  if (!c.unit) return null
  switch (c.state) {
    case 'dispatched':
      return 'assigned'
    case 'handling':
    case 'suspended':
      return 'handling'
    case 'handled':
    case 'checking':
    case 'checked':
    case 'callback':
    case 'closed':
      return 'done'
    default:
      return null
  }
}

/** How many parts are open, done, and over (released or returned): the panel's summary. */
export function partCounts(c: Pick<CaseView, 'assists'> | null | undefined): { open: number; done: number; closed: number } {
  const parts = partsOf(c)
  return {
    open: parts.filter(isOpen).length,
    done: parts.filter((p) => p.state === 'done').length,
    closed: parts.filter((p) => p.state === 'released' || p.state === 'returned').length,
  }
}
