/**
 * Likely duplicates (重复上报, `GET /duplicate-candidates`): the open cases that look like the call
 * being taken down, as the intake console shows them once the place is known. When to ask (a
 * description that says something, and a located point or an area), the query built from the
 * form, how a candidate reads (its score as a percentage, how far and how long ago), and the
 * merge that makes the new case a report of one of them. The case page asks the same about a
 * case already opened, which is then left out of its own list.
 */
import type { DuplicateQuery } from '../api'
import type { CaseRef, DuplicateCandidate, Role } from '../api/types'
import { MIN_TEXT, MAX_TEXT, percentText, suggestionText } from './classSuggestions'
import { isMergedInto, mayMerge, mergeBody } from './merge'

export { MIN_TEXT, MAX_TEXT }
/** How many candidates the console asks for and shows. */
export const SHOWN = 5
/** How long the typing must pause before the call is asked about (ms). */
export const DEBOUNCE_MS = 400
/** Beyond this many hours, how long ago is said in days. */
export const HOURS_SAID = 48

/** A translator, as vue-i18n's `t` (`plural` choosing a message's form): the texts live in the locale files. */
export type Translate = (key: string, params: Record<string, unknown>, plural?: number) => string

/** What the console knows of the call when it asks. */
export interface DuplicateProbe {
  description: string
  /** The point, only once it is located in the city. */
  point: { lon: number; lat: number } | null
  /** The street (9 digits) or community (12 digits) of the call, used when there is no point. */
  area?: string | null
  /** The class hinted, a 5-digit code or ''. */
  category?: string | null
}

const AREA = /^\d{9}(\d{3})?$/
const CATEGORY = /^[12]\d{4}$/
/** The server's bounds of a point (China). */
const inChina = (p: { lon: number; lat: number }) =>
  Number.isFinite(p.lon) && Number.isFinite(p.lat) && p.lon >= 73 && p.lon <= 136 && p.lat >= 3 && p.lat <= 54

/**
 * The query to send, or null when there is nothing to ask yet: a description of at least
 * `MIN_TEXT` characters (trimmed; its first `MAX_TEXT` when longer) and a located point or a
 * street or community. The point when there is one, else the area; the class when one is hinted.
 */
export function duplicateQuery(probe: DuplicateProbe, limit = SHOWN): DuplicateQuery | null {
  const text = suggestionText(probe.description)
  if (!text) return null
  const point = probe.point && inChina(probe.point) ? probe.point : null
  const area = probe.area?.trim() ?? ''
  if (!point && !AREA.test(area)) return null
  const q: DuplicateQuery = point ? { text, lon: point.lon, lat: point.lat } : { text, area }
  const category = probe.category?.trim() ?? ''
  if (CATEGORY.test(category)) q.category = category
  q.limit = limit
  return q
}

/** One string per query, to tell whether the query changed (the same query is not asked again). */
export function queryKey(q: DuplicateQuery | null): string {
  if (!q) return ''
  return JSON.stringify([q.text, q.lon ?? null, q.lat ?? null, q.area ?? null, q.category ?? null, q.limit ?? null])
}

/**
 * The candidates shown: the first `max` of the answer (likeliest first), each case once; `exclude`
 * (a case's own number, when the case itself is asked about) left out.
 */
export function shownCandidates(list: readonly DuplicateCandidate[] | null | undefined, max = SHOWN, exclude?: string | null): DuplicateCandidate[] {
  const seen = new Set<string>(exclude ? [exclude] : [])
  const out: DuplicateCandidate[] = []
  for (const c of list ?? []) {
    if (out.length >= max) break
    if (seen.has(c.case.number)) continue
    seen.add(c.case.number)
    out.push(c)
  }
  return out
}

/** A score (0 to 1) as a whole percentage: `0.734` → `73%`. */
export function scoreText(score: number): string {
  return percentText(score)
}

/** How far the case is: whole metres (`12 米`, `12 m`), kilometres from 1000 m; the same street when there is no distance (an area was given). */
export function distanceText(metres: number | null | undefined, t: Translate): string {
  if (metres === null || metres === undefined || !Number.isFinite(metres)) return t('duplicates.sameStreet', {})
  const m = Math.max(0, Math.round(metres))
  if (m >= 1000) return t('duplicates.km', { n: (Math.round(m / 100) / 10).toString() })
  return t('duplicates.metres', { n: m })
}

/**
 * How long before the call the case was reported: minutes under an hour (`刚刚` under one), hours
 * up to `HOURS_SAID`, days beyond (`3 小时前`, `3 hours earlier`, `4 天前`). `keys` names the
 * messages' group (`justNow`, `minutes`, `hours`, `days` in it): another page saying how long
 * ago something was says it in its own words (the nodes section: `3 h ago`).
 */
export function timeApartText(hours: number, t: Translate, keys = 'duplicates'): string {
  const h = Number.isFinite(hours) ? Math.max(0, hours) : 0
  const minutes = Math.round(h * 60)
  if (minutes < 1) return t(`${keys}.justNow`, {})
  if (minutes < 60) return t(`${keys}.minutes`, { n: minutes }, minutes)
  if (h <= HOURS_SAID) {
    const n = Math.max(1, Math.round(h))
    return t(`${keys}.hours`, { n }, n)
  }
  const n = Math.round(h / 24)
  return t(`${keys}.days`, { n }, n)
}

/** Those who may record the call as a duplicate: the workflow lets operators and shift leads merge a report. */
export function mayRecordDuplicate(role: Role | null | undefined): boolean {
  return mayMerge(role)
}

/** The body of `POST /cases/{id}/merge` that makes the new case a report of case `master`. */
export function duplicateMergeBody(version: number, master: string, opinion?: string) {
  return mergeBody(version, master, opinion)
}

/** Whether `c` has been merged into case `master` already (a retry finds it done). */
export function isDuplicateOf(c: { state: string; merged_into?: CaseRef | null }, master: string): boolean {
  return isMergedInto(c, master)
}
