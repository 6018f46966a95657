// Appeals (申诉): a unit disputes what a case counted against it in the evaluation (late
// handling, a rework); an evaluator upholds or refuses it, and an upheld appeal takes the count
// back. The case page lists a case's appeals; the evaluation page keeps the evaluators' queue
// (`GET /cases?appeals_pending=true`). Both are issued as workflow commands (`appeal`,
// `decide-appeal`, see ./commands.ts), offered in a case's `actions` to who may issue them.
import type { Appeal, AppealGround, CasePage, CaseView, Role, TimelineEntry } from '../api/types'
import { APPEAL_GROUNDS } from './vocabulary'

export type AppealStatus = 'pending' | 'upheld' | 'refused'

/** Waiting for a decision, upheld (the count taken back) or refused. */
export function appealStatus(a: Pick<Appeal, 'decision'>): AppealStatus {
  if (!a.decision) return 'pending'
  return a.decision.accepted ? 'upheld' : 'refused'
}

/** The case's appeals still waiting for an evaluator, oldest first (their numbers run in filing order). */
export function pendingAppeals(c: Pick<CaseView, 'appeals'>): Appeal[] {
  return (c.appeals ?? []).filter((a) => !a.decision).sort((x, y) => x.number - y.number)
}

/** Whether the signed-in user may decide the case's appeals: the server offers `decide-appeal` to evaluators only. */
export function mayDecide(c: Pick<CaseView, 'actions'>): boolean {
  return (c.actions ?? []).includes('decide-appeal')
}

/** Who reads the evaluators' queue: evaluators decide, center leaders read it. */
export function maySeeQueue(role: Role | null | undefined): boolean {
  return role === 'evaluator' || role === 'center_leader'
}

/** Whether the case page shows its appeals panel: when there are appeals, or the user may file one. */
export function showsAppeals(c: Pick<CaseView, 'appeals' | 'actions'>): boolean {
  return (c.appeals ?? []).length > 0 || (c.actions ?? []).includes('appeal')
}

/** One line of the evaluators' queue: a pending appeal and its case. */
export interface QueueItem {
  case: CaseView
  appeal: Appeal
}

/** The pending appeals of the listed cases, the longest waiting first; decided ones are left out. */
export function appealQueue(cases: CaseView[]): QueueItem[] {
  const items = cases.flatMap((c) => pendingAppeals(c).map((appeal) => ({ case: c, appeal })))
  return items.sort((x, y) =>
    Date.parse(x.appeal.filed_at) - Date.parse(y.appeal.filed_at) ||
    x.case.number.localeCompare(y.case.number) || x.appeal.number - y.appeal.number)
}

/** Every case with a pending appeal, page after page (at most `maxPages` of 200). */
export async function loadPendingCases(
  list: (query: Record<string, string | number | boolean | undefined>) => Promise<CasePage>, maxPages = 10,
): Promise<CaseView[]> {
  const out: CaseView[] = []
  let cursor: string | undefined
  for (let i = 0; i < maxPages; i++) {
    const page = await list({ appeals_pending: true, limit: 200, cursor })
    out.push(...page.items)
    if (!page.next_cursor) break
    cursor = page.next_cursor
  }
  return out
}

/** What an `appeal` or `decide_appeal` timeline entry says, from its details; null for other entries or unreadable details. */
export type TimelineAppeal =
  | { kind: 'appeal'; ground: AppealGround; unit: string | null }
  | { kind: 'decision'; appeal: number; accepted: boolean; ground: AppealGround | null; unit: string | null }

export function timelineAppeal(e: Pick<TimelineEntry, 'action' | 'details'>, appeals: Appeal[] = []): TimelineAppeal | null {
  const d = e.details ?? {}
  if (e.action === 'appeal') {
    const ground = d.ground
    if (typeof ground !== 'string' || !(APPEAL_GROUNDS as readonly string[]).includes(ground)) return null
    return { kind: 'appeal', ground: ground as AppealGround, unit: typeof d.unit === 'string' ? d.unit : null }
  }
  if (e.action === 'decide_appeal') {
    const number = Number(d.appeal)
    if (!Number.isInteger(number) || typeof d.accepted !== 'boolean') return null
    const filed = appeals.find((a) => a.number === number)
    return { kind: 'decision', appeal: number, accepted: d.accepted, ground: filed?.ground ?? null, unit: filed?.unit ?? null }
  }
  return null
}

/** User ids to user names, from a case's timeline (appeals and decisions name their people by id). */
export function usernames(timeline: Pick<TimelineEntry, 'user_id' | 'username'>[]): Map<string, string> {
  return new Map(timeline.filter((e) => e.user_id && e.username).map((e) => [e.user_id, e.username]))
}
