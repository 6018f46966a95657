/**
 * Merging a duplicate report into a master case (合并): the report (state `merged`) is no
 * longer handled on its own, the master's handling answers it; a shift lead may undo the merge,
 * which puts the report back in the state it was merged from. The case view says where a
 * merged report went (`merged_into`) and which reports a master answers (`merged_reports`);
 * the timeline records `merge` and `unmerge` on the report, `take_report` and `release_report`
 * on the master. Citizens are told when what they are about to report was reported already
 * (`GET /public/duplicate-candidates`), and a merged report's follow page shows its master.
 *
 * A master owes a call-back to the callers of the hotline reports merged into it, as a hotline
 * case does to its own: its call-back records each caller's attempts apart (`report` names the
 * merged report), one unsatisfied caller sends it back to rework, and it closes once every
 * caller is satisfied or unreachable.
 */
import type {
  CallbackView, CaseRef, CaseView, CommandName, MergedReport, PublicCandidate, PublicDuplicateQuery, Role, Satisfaction,
} from '../api/types'
import { inShanghai } from './citizen'
import { suggestionText } from './classSuggestions'
import { buildBody, type FormValues } from './commands'

/** The merge's commands, which the case page offers in panels of their own. */
export type MergeCommand = Extract<CommandName, 'merge' | 'unmerge'>

export const MERGE_COMMANDS: readonly MergeCommand[] = ['merge', 'unmerge']

/** A translator, as vue-i18n's `t`: the texts live in the locale files. */
export type Translate = (key: string, params?: Record<string, unknown>) => string

// ---- the case view

/** Whether the case view offers the command (the server's `actions`). */
export function offers(c: Pick<CaseView, 'actions'> | null | undefined, command: CommandName): boolean {
  return (c?.actions ?? []).includes(command)
}

/** Whether a command is one of the merge's, which the case page offers in panels of their own. */
export function isMergeCommand(command: string | null | undefined): command is MergeCommand {
  return (MERGE_COMMANDS as readonly string[]).includes(command ?? '')
}

/** The master a merged report went into; null for any other case. */
export function mergedInto(c: CaseView | null | undefined): CaseRef | null {
  return c?.merged_into ?? null
}

/**
 * The reports merged into the case, oldest merge first (as the server lists them, sorted again
 * so the page's order holds whatever the answer's); empty for a case that is no master.
 */
export function mergedReports(c: CaseView | null | undefined): MergedReport[] {
  return [...(c?.merged_reports ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
}

/** Whether `c` is merged into case `master` already (a retry finds it done). */
export function isMergedInto(c: { state: string; merged_into?: CaseRef | null }, master: string): boolean {
  return c.state === 'merged' && c.merged_into?.number === master
}

/** Those the workflow lets merge a report: operators and shift leads (the server's `actions` decides on each case). */
export function mayMerge(role: Role | null | undefined): boolean {
  return role === 'operator' || role === 'shift_lead'
}

// ---- the merge and its undoing

const CASE_NUMBER = /^\d{19}$/
/** The longest reason an undone merge may give (characters). */
export const MAX_REASON = 500
/** The longest opinion a merge may give (characters), as the other commands' opinions. */
export const MAX_OPINION = 500

export type MasterProblem = 'required' | 'case_number' | 'self'
export type ReasonProblem = 'required' | 'long'

/** What is wrong with the master's number typed (trimmed), null when it may be sent; `self` is the report's own number. */
export function masterProblem(master: string | null | undefined, self?: string | null): MasterProblem | null {
  const n = (master ?? '').trim()
  if (!n) return 'required'
  if (!CASE_NUMBER.test(n)) return 'case_number'
  if (self && n === self) return 'self'
  return null
}

/** What is wrong with an undone merge's reason, null when it may be sent. */
export function reasonProblem(reason: string | null | undefined): ReasonProblem | null {
  const r = (reason ?? '').trim()
  if (!r) return 'required'
  if ([...r].length > MAX_REASON) return 'long'
  return null
}

/** The body of `POST /cases/{id}/merge`: the version seen, the master's number, the opinion when one is said. */
export function mergeBody(version: number, master: string, opinion?: string | null) {
  const said = opinion?.trim()
  return { version, master: master.trim(), ...(said ? { opinion: said } : {}) }
}

/** The body of `POST /cases/{id}/unmerge`. */
export function unmergeBody(version: number, reason: string) {
  return { version, reason: reason.trim() }
}

/** Where a refusal of the merge is said: beside the master's number when it names it, else for the form. */
export function mergeErrorField(field: string | null | undefined): 'master' | 'opinion' | null {
  return field === 'master' || field === 'opinion' ? field : null
}

// ---- the timeline

/** A piece of a timeline line: words, or a case number shown as a link to the case. */
export type LinePart = { text: string } | { number: string }

const MARK = '\u0001'

/**
 * A translated sentence cut around the case numbers it names: `numbers` are its parameters
 * that are case numbers, each becoming a `{ number }` part the page links.
 */
export function partsOf(t: Translate, key: string, numbers: Record<string, string>, params: Record<string, unknown> = {}): LinePart[] {
  const names = Object.keys(numbers)
  const marked = Object.fromEntries(names.map((name, i) => [name, `${MARK}${i}${MARK}`]))
  const text = t(key, { ...params, ...marked })
  const parts: LinePart[] = []
  text.split(new RegExp(`${MARK}(\\d+)${MARK}`)).forEach((piece, i) => {
    if (i % 2 === 1) parts.push({ number: numbers[names[Number(piece)]] })
    else if (piece) parts.push({ text: piece })
  })
  return parts
}

/** A timeline entry, as much of it as its line needs. */
export interface Entry { seq: number; action: string; details?: Record<string, unknown> | null }

const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null)

/**
 * A merge entry in words, its case numbers linked: merged into the master (on the report),
 * undone (the master the last merge before named), a report taken in or released, a merged
 * report's caller called back (on the master); null for any other entry. Opinions and reasons
 * are the entry's details, said apart.
 */
export function mergeLine(e: Entry, t: Translate, timeline: readonly Entry[] = []): LinePart[] | null {
  const d = e.details ?? {}
  switch (e.action) {
    case 'merge': {
      const master = text(d.master)
      return master ? partsOf(t, 'merge.timeline.merge', { master }) : [{ text: t('merge.timeline.mergeBare') }]
    }
    case 'unmerge': {
      const earlier = [...timeline].filter((x) => x.action === 'merge' && x.seq < e.seq).sort((a, b) => b.seq - a.seq)[0]
      const master = text(d.master) ?? text(earlier?.details?.master)
      return master ? partsOf(t, 'merge.timeline.unmerge', { master }) : [{ text: t('merge.timeline.unmergeBare') }]
    }
    case 'take_report': {
      const report = text(d.report)
      return report ? partsOf(t, 'merge.timeline.take', { report }) : null
    }
    case 'release_report': {
      const report = text(d.report)
      return report ? partsOf(t, 'merge.timeline.release', { report }) : null
    }
    case 'callback': {
      // the master's own caller is said by the entry's details, as on any hotline case
      const report = text(d.report)
      if (!report) return null
      const said = attemptText(text(d.outcome), text(d.satisfaction), t)
      return said ? partsOf(t, 'merge.timeline.callback', { report }, { result: said }) : partsOf(t, 'merge.timeline.callbackBare', { report })
    }
    default:
      return null
  }
}

// ---- the call-back of merged reports' callers

/** Whether a merged report's caller is owed a call-back by its master: a 12345 caller gave a number to be called back. */
export function owesCallback(r: Pick<MergedReport, 'source'>): boolean {
  return r.source === 'hotline'
}

/** The merged reports whose callers the master calls back, oldest merge first. */
export function callbackReports(c: CaseView | null | undefined): MergedReport[] {
  return mergedReports(c).filter(owesCallback)
}

const accepts = (s: Satisfaction | null | undefined) => s === 'satisfied' || s === 'basically_satisfied'

/** Whether a caller's call-back is over: satisfied or basically satisfied, or unreachable after the attempts allowed. */
export function callbackDone(cb: CallbackView | null | undefined): boolean {
  return !!cb && (cb.unreachable || accepts(cb.satisfaction))
}

/**
 * Whether the case's own caller may be called back now: the case is in its call-back, is a
 * hotline case (the server refuses an attempt for any other's reporter, who is no caller) and
 * its caller is not done; a master's merged callers are called back from their own rows.
 */
export function ownCallbackOpen(c: Pick<CaseView, 'state' | 'source' | 'callback'> | null | undefined): boolean {
  return !!c && c.state === 'callback' && c.source === 'hotline' && !callbackDone(c.callback)
}

/** Where a caller's call-back stands: not called yet, called without reaching them, unreachable, or their satisfaction. */
export type CallbackStatus = 'waiting' | 'trying' | 'unreachable' | Satisfaction

export function callbackStatus(cb: CallbackView | null | undefined): CallbackStatus | null {
  if (!cb) return null
  if (cb.satisfaction) return cb.satisfaction
  if (cb.unreachable) return 'unreachable'
  return cb.failed_attempts ? 'trying' : 'waiting'
}

/** What an attempt came to, in words: the satisfaction of a reached caller, else the outcome; null when neither is known. */
function attemptText(outcome: string | null, satisfaction: string | null, t: Translate): string | null {
  if (satisfaction) return t(`callback.satisfaction.${satisfaction}`)
  return outcome ? t(`callback.outcomes.${outcome}`) : null
}

/**
 * A caller's call-back progress in words: their satisfaction once reached, unreachable after
 * the attempts allowed, the failed attempts so far with the last outcome, or not called yet;
 * null while none is under way (the master's call-back not started, or cleared by a rework).
 */
export function callbackProgressText(cb: CallbackView | null | undefined, t: Translate): string | null {
  if (!cb) return null
  const status = callbackStatus(cb)
  if (status === 'waiting') return t('merge.callback.waiting', { m: cb.attempts_allowed })
  if (status === 'trying') {
    return t('merge.callback.trying', { n: cb.failed_attempts, m: cb.attempts_allowed, last: attemptText(cb.last_outcome ?? null, null, t) ?? '' })
  }
  if (status === 'unreachable') return t('merge.callback.unreachable', { n: cb.failed_attempts })
  return t('merge.callback.reached', { result: t(`callback.satisfaction.${status}`) })
}

/**
 * The body of `POST /cases/{master}/callback` for one merged report's caller: the attempt as
 * the call-back form builds it for the case's own caller (the satisfaction only when reached,
 * the opinion when said), with the report's number.
 */
export function mergedCallbackBody(version: number, report: string, values: FormValues): Record<string, unknown> {
  return { ...buildBody('callback', values, version), report }
}

/** Where a refusal of a merged caller's attempt is said: beside the input it names, else for the form. */
export function callbackErrorField(field: string | null | undefined): 'outcome' | 'satisfaction' | 'opinion' | null {
  return field === 'outcome' || field === 'satisfaction' || field === 'opinion' ? field : null
}

// ---- the citizen's report

/**
 * What to ask `GET /public/duplicate-candidates` about the report being written, or null while
 * there is nothing to ask: a point in the city and a description that says something (trimmed,
 * at least 4 characters as the staff's forms ask, its first 2000 when longer); the class of the
 * kind chosen, when it has one.
 */
export function publicDuplicateQuery(r: {
  lon: number | string | null | undefined; lat: number | string | null | undefined; description: string; category?: string | null
}): PublicDuplicateQuery | null {
  if (r.lon === null || r.lon === undefined || r.lon === '' || r.lat === null || r.lat === undefined || r.lat === '') return null
  const lon = Number(r.lon), lat = Number(r.lat)
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || !inShanghai(lon, lat)) return null
  const t = suggestionText(r.description)
  if (!t) return null
  const q: PublicDuplicateQuery = { lon, lat, text: t }
  const category = r.category?.trim() ?? ''
  if (/^[12]\d{4}$/.test(category)) q.category = category
  return q
}

/** One string per query, to tell whether it changed. */
export function publicQueryKey(q: PublicDuplicateQuery | null): string {
  return q ? JSON.stringify([q.lon, q.lat, q.text, q.category ?? null]) : ''
}

/** How many the citizen is shown: the server answers at most 3. */
export const PUBLIC_SHOWN = 3

/** The candidates shown, likeliest first as the server gave them, each case once. */
export function shownPublic(list: readonly PublicCandidate[] | null | undefined, max = PUBLIC_SHOWN): PublicCandidate[] {
  const seen = new Set<string>()
  return (list ?? []).filter((c) => !seen.has(c.number) && seen.add(c.number)).slice(0, max)
}

/** A state in the page's language: the server's Chinese in Chinese, the UI's words in English. */
export function stateText(s: { state: string; state_zh: string }, locale: string, t: Translate): string {
  return locale.startsWith('en') ? t(`states.${s.state}`) : s.state_zh
}
