// Bulk actions in the workbench: the same command, with the same shared fields, sent to several cases one after another.
import { ApiError } from '../api/client'
import type { CaseView, CommandName } from '../api/types'
import { buildBody, fieldsFor, initialValues, validate, type FieldSpec, type FormValues } from './commands'

/**
 * Commands that may be sent to many cases at once: they need no per-case input, or only a shared text
 * (close: opinion optional; cancel: reason required; supervise: opinion required, with a reply term) or a shared yes/no
 * (set-urgent). In the order the toolbar shows them.
 */
export const BULK_COMMANDS = [
  'accept', 'request-verification', 'send-check', 'sign', 'start-callback', 'close', 'cancel', 'set-urgent', 'supervise',
] as const satisfies readonly CommandName[]

export type BulkCase = Pick<CaseView, 'id' | 'number' | 'version'> & { actions?: CaseView['actions'] }

export function isBulkCommand(command: string): command is (typeof BULK_COMMANDS)[number] {
  return (BULK_COMMANDS as readonly string[]).includes(command)
}

/** The bulk commands every one of the cases offers (the server computes `actions` per case for the signed-in user). */
export function commonActions(cases: Pick<BulkCase, 'actions'>[]): CommandName[] {
  if (!cases.length) return []
  return BULK_COMMANDS.filter((cmd) => cases.every((c) => Array.isArray(c.actions) && (c.actions as readonly string[]).includes(cmd)))
}

/** The shared fields of a bulk command's form (the same specs as the case page's form). */
export function bulkFields(command: CommandName, values: FormValues = {}): FieldSpec[] {
  return fieldsFor(command, values)
}

/** Starting values of the shared form; set-urgent starts with "urgent: yes" as there is no single case to flip. */
export function bulkInitialValues(command: CommandName): FormValues {
  return initialValues(command, { urgent: false })
}

/** Missing or malformed shared fields: field name -> error key. */
export function validateBulk(command: CommandName, values: FormValues): Record<string, string> {
  return validate(command, values)
}

export interface BulkRequest {
  id: string
  number: string
  body: Record<string, unknown>
}

/** One request per case: that case's version plus the shared fields. */
export function buildBulkRequests(command: CommandName, values: FormValues, cases: BulkCase[]): BulkRequest[] {
  return cases.map((c) => ({ id: c.id, number: c.number, body: buildBody(command, values, c.version) }))
}

export type BulkOutcome =
  | { id: string; number: string; ok: true }
  | { id: string; number: string; ok: false; status: number; code: string; message: string }

export interface BulkSummary {
  command: CommandName
  total: number
  succeeded: number
  failed: { id: string; number: string; status: number; code: string; message: string }[]
}

/** The outcome of one request from what it threw. */
export function failure(req: Pick<BulkRequest, 'id' | 'number'>, err: unknown): BulkOutcome {
  if (err instanceof ApiError) return { id: req.id, number: req.number, ok: false, status: err.status, code: err.code, message: err.message }
  const message = (err as Error)?.message ?? String(err)
  return { id: req.id, number: req.number, ok: false, status: 0, code: 'unknown', message }
}

export function summarise(command: CommandName, outcomes: BulkOutcome[]): BulkSummary {
  const failed: BulkSummary['failed'] = []
  let succeeded = 0
  for (const o of outcomes) {
    if (o.ok) succeeded++
    else failed.push({ id: o.id, number: o.number, status: o.status, code: o.code, message: o.message })
  }
  return { command, total: outcomes.length, succeeded, failed }
}

export type SendCommand = (id: string, command: CommandName, body: Record<string, unknown>) => Promise<unknown>

/**
 * Send the command to each case one after another (never in parallel: the server sees them in order and a
 * failure of one does not stop the others). `onProgress(done, total)` is called after each request.
 */
export async function runBulk(
  command: CommandName,
  values: FormValues,
  cases: BulkCase[],
  send: SendCommand,
  onProgress?: (done: number, total: number) => void,
): Promise<BulkSummary> {
  const requests = buildBulkRequests(command, values, cases)
  const outcomes: BulkOutcome[] = []
  for (const req of requests) {
    try {
      await send(req.id, command, req.body)
      outcomes.push({ id: req.id, number: req.number, ok: true })
    } catch (e) {
      outcomes.push(failure(req, e))
    }
    onProgress?.(outcomes.length, requests.length)
  }
  return summarise(command, outcomes)
}
