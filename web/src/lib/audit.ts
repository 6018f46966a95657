// The audit page's pure logic: the search form -> `GET /audit` query, and the verification's summary.
import { fromShanghaiLocal } from './format'

/** One entry of the hash-chained audit log, as `GET /audit` answers it. */
export interface AuditEntry {
  seq: number
  at: string
  /** Username, `citizen`, `system` or `cli:<os user>` (the record's actor is flattened into the entry). */
  actor: string
  role: string
  /** The jurisdiction acted within, empty if none. */
  scope: string
  /** The client address, or `internal` / `cli`. */
  origin: string
  action: string
  object: string
  result: string
  detail: string
  prev_hash: string
  hash: string
}

/** A signed checkpoint of the chain's head (`GET /audit/checkpoints`). */
export interface AuditCheckpoint {
  seq: number
  hash: string
  at: string
  public_key: string
  signature: string
}

/** The search form: free text as typed, times as `datetime-local` values read as Shanghai time. */
export interface AuditForm {
  actor: string
  action: string
  object: string
  from: string
  to: string
}

export type AuditQuery = { actor?: string; action?: string; object?: string; from?: string; to?: string; after?: number; limit?: number }

/** Only the fields filled in, trimmed; times as RFC 3339. */
export function auditQuery(form: AuditForm, after?: number, limit = 50): AuditQuery {
  const q: AuditQuery = { limit }
  for (const key of ['actor', 'action', 'object'] as const) {
    const v = form[key].trim()
    if (v) q[key] = v
  }
  if (form.from) q.from = fromShanghaiLocal(form.from)
  if (form.to) q.to = fromShanghaiLocal(form.to)
  if (after !== undefined && after > 0) q.after = after
  return q
}

/** The entry numbers a finding's message names (e.g. "entry 12 was altered"), first one first. */
export function brokenEntries(findings: { message: string }[]): number[] {
  const seqs = new Set<number>()
  for (const f of findings) {
    for (const m of f.message.matchAll(/(?:entry|entries|#|seq)\s*#?(\d+)/gi)) seqs.add(Number(m[1]))
  }
  return [...seqs].sort((a, b) => a - b)
}

/** The checkpoints as a JSON file to anchor elsewhere. */
export function checkpointsFile(checkpoints: AuditCheckpoint[]): Blob {
  return new Blob([JSON.stringify(checkpoints, null, 2) + '\n'], { type: 'application/json' })
}
