// What each case command needs from the user, and how its request body is built.
import { ApiError } from '../api/client'
import type { Appeal, CallbackOutcome, CommandName, RejectReason } from '../api/types'
import { fromShanghaiLocal } from './format'
import { APPEAL_GROUNDS, CALLBACK_OUTCOMES, SATISFACTIONS } from './vocabulary'
import { SUPERVISION_TERMS, termBody } from './deadlines'

export type FieldKind =
  | 'opinion' | 'text' | 'textarea' | 'bool' | 'reject_reason' | 'case_number'
  | 'category' | 'unit' | 'datetime' | 'attachments'
  /** One of `CALLBACK_OUTCOMES` (a radio group). */
  | 'callback_outcome'
  /** One of `SATISFACTIONS` (a radio group). */
  | 'satisfaction'
  /** One of `SUPERVISION_TERMS` (a radio group), sent as `{ amount, unit }`. */
  | 'term'
  /** One of `APPEAL_GROUNDS` (a radio group, each with a sentence saying what it disputes). */
  | 'appeal_ground'
  /** The number of one of the case's pending appeals (a radio group), sent as a number. */
  | 'appeal'
  /** Upheld (true) or refused (false), chosen on purpose: it starts unset (a radio group). */
  | 'verdict'

export interface FieldSpec {
  name: string
  kind: FieldKind
  required?: boolean
  /** Only asked (and sent) when this predicate holds for the current values. */
  when?: (v: FormValues) => boolean
  /** Initial value. */
  initial?: unknown
  /** The i18n key of its label, when not `fields.<name>` (the assisting unit is a `unit` too). */
  label?: string
}

export type FormValues = Record<string, unknown>

const opinion = (required = false): FieldSpec => ({ name: 'opinion', kind: 'textarea', required })
const yes = (name: string, initial = true): FieldSpec => ({ name, kind: 'bool', required: true, initial })

/** The form of every workflow command; keyed by `CommandName`, so it must name them all. */
export const COMMAND_FIELDS: Record<CommandName, FieldSpec[]> = {
  accept: [opinion()],
  'request-verification': [opinion()],
  'send-check': [opinion()],
  resume: [opinion()],
  close: [opinion()],
  reject: [
    { name: 'reject_reason', kind: 'reject_reason', required: true, initial: 'invalid' satisfies RejectReason },
    { name: 'duplicate_of', kind: 'case_number', required: true, when: (v) => v.reject_reason === ('duplicate' satisfies RejectReason) },
    opinion(),
  ],
  verify: [yes('exists'), opinion()],
  file: [{ name: 'category', kind: 'category', required: true }, opinion()],
  'self-handle': [opinion(true)],
  dispatch: [{ name: 'unit', kind: 'unit', required: true }, opinion()],
  escalate: [{ name: 'reason', kind: 'textarea', required: true }],
  sign: [],
  return: [{ name: 'reason', kind: 'textarea', required: true }],
  'request-extension': [
    { name: 'until', kind: 'datetime', required: true },
    { name: 'reason', kind: 'textarea', required: true },
  ],
  'decide-extension': [yes('approve'), opinion()],
  'request-park': [{ name: 'reason', kind: 'textarea', required: true }],
  'decide-park': [yes('approve'), opinion()],
  feedback: [opinion(true), { name: 'attachments', kind: 'attachments', initial: [] }],
  check: [yes('passed'), opinion()],
  'start-callback': [],
  // One call-back attempt: the satisfaction is asked (and sent) only when the caller was reached;
  // the server refuses one with a failed attempt. The older `satisfied: bool` is not sent.
  callback: [
    { name: 'outcome', kind: 'callback_outcome', required: true, initial: 'reached' satisfies CallbackOutcome },
    { name: 'satisfaction', kind: 'satisfaction', required: true, when: (v) => v.outcome === ('reached' satisfies CallbackOutcome) },
    opinion(),
  ],
  cancel: [{ name: 'reason', kind: 'textarea', required: true }],
  'set-urgent': [yes('urgent')],
  // The class's extra fields: its inputs come from the class's definitions (lib/extraFields),
  // not from this table, and so does `fields` in the body.
  'set-fields': [],
  supervise: [opinion(true), { name: 'term', kind: 'term', required: true, initial: '1:working_days' }],
  // A unit's appeal (申诉): what it disputes, chosen on purpose, and why. The server refuses a
  // ground the case never counted against the unit (409, field `ground`).
  appeal: [
    { name: 'ground', kind: 'appeal_ground', required: true },
    { name: 'reason', kind: 'textarea', required: true },
  ],
  // An evaluator's decision on one pending appeal; the opinion is required.
  'decide-appeal': [
    { name: 'appeal', kind: 'appeal', required: true },
    { name: 'accepted', kind: 'verdict', required: true, initial: null },
    opinion(true),
  ],
  // The case page asks these in panels of their own (components/MergePanel.vue, MergeBanner.vue),
  // the merge beside the likely duplicates; the same fields, should a form be opened for them.
  merge: [{ name: 'master', kind: 'case_number', required: true }, opinion()],
  unmerge: [{ name: 'reason', kind: 'textarea', required: true }],
  // 协办: the dispatcher names an assisting unit beside the lead, or takes its part back
  // (the unit pickers offer only the units the server would take: lib/assists.ts `unitChoices`)
  assist: [{ name: 'unit', kind: 'unit', required: true, label: 'assist.unitField' }, opinion()],
  'release-assist': [
    { name: 'unit', kind: 'unit', required: true, label: 'assist.unitField' },
    { name: 'reason', kind: 'textarea', required: true },
  ],
  // the assisting unit's handler, on their own unit's part (the server takes their unit)
  'sign-assist': [],
  'assist-feedback': [opinion(true)],
  'return-assist': [{ name: 'reason', kind: 'textarea', required: true }],
}

/** Commands that change little and need no confirmation form (still shown as a form, with only a submit). */
export function fieldsFor(command: CommandName, values: FormValues = {}): FieldSpec[] {
  const all = COMMAND_FIELDS[command] ?? [opinion()]
  return all.filter((f) => !f.when || f.when(values))
}

/** Case-dependent defaults of a form. */
export interface InitialContext {
  /** The case is urgent now (set-urgent offers the other way). */
  urgent?: boolean
  /** The unit the responsibility matrix proposes (`GET /cases/{id}/routing`): dispatch starts with it. */
  routingUnit?: string | null
  /** The case's appeals: decide-appeal starts with the oldest pending one. */
  appeals?: Appeal[]
}

/** Starting values of a command's form; `ctx` gives case-dependent defaults. */
export function initialValues(command: CommandName, ctx: InitialContext = {}): FormValues {
  const v: FormValues = {}
  for (const f of COMMAND_FIELDS[command] ?? []) {
    if (f.initial !== undefined) v[f.name] = Array.isArray(f.initial) ? [...f.initial] : f.initial
    else if (f.kind === 'bool') v[f.name] = true
    else v[f.name] = ''
  }
  if (command === 'set-urgent') v.urgent = !ctx.urgent
  if (command === 'dispatch' && ctx.routingUnit) v.unit = ctx.routingUnit
  if (command === 'decide-appeal') {
    const first = (ctx.appeals ?? []).filter((a) => !a.decision).sort((x, y) => x.number - y.number)[0]
    if (first) v.appeal = first.number
  }
  return v
}

/** The values a radio group's kind offers; a value outside them counts as none chosen. */
export const CHOICES: Partial<Record<FieldKind, readonly string[]>> = {
  callback_outcome: CALLBACK_OUTCOMES,
  satisfaction: SATISFACTIONS,
  term: SUPERVISION_TERMS,
  appeal_ground: APPEAL_GROUNDS,
}

function isEmpty(x: unknown): boolean {
  return x === undefined || x === null || (typeof x === 'string' && x.trim() === '') ||
    (Array.isArray(x) && x.length === 0)
}

/** Required fields that are missing: field name -> error key (i18n: errors.required). */
export function validate(command: CommandName, values: FormValues): Record<string, string> {
  const errs: Record<string, string> = {}
  for (const f of fieldsFor(command, values)) {
    if (f.required && f.kind !== 'bool' && isEmpty(values[f.name])) errs[f.name] = 'required'
    const choices = CHOICES[f.kind]
    if (choices && !isEmpty(values[f.name]) && !choices.includes(String(values[f.name]))) errs[f.name] = 'required'
    if (f.kind === 'case_number' && !isEmpty(values[f.name]) && !/^\d{19}$/.test(String(values[f.name]).trim()))
      errs[f.name] = 'case_number'
    if (f.kind === 'datetime' && !isEmpty(values[f.name]) && Number.isNaN(Date.parse(String(values[f.name]))))
      errs[f.name] = 'datetime'
    if (f.kind === 'appeal' && !isEmpty(values[f.name]) && !(Number.isInteger(Number(values[f.name])) && Number(values[f.name]) >= 1))
      errs[f.name] = 'required'
    if (f.kind === 'verdict' && typeof values[f.name] !== 'boolean') errs[f.name] = 'required'
  }
  return errs
}

/** The JSON body of the command: the case version plus the fields in use, typed. */
export function buildBody(command: CommandName, values: FormValues, version: number): Record<string, unknown> {
  const body: Record<string, unknown> = { version }
  for (const f of fieldsFor(command, values)) {
    const v = values[f.name]
    switch (f.kind) {
      case 'bool':
        body[f.name] = Boolean(v)
        break
      case 'datetime':
        if (!isEmpty(v)) {
          const s = String(v)
          // a datetime-local value carries no zone: it is Shanghai time
          body[f.name] = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(s) ? fromShanghaiLocal(s) : new Date(s).toISOString()
        }
        break
      case 'attachments':
        if (Array.isArray(v) && v.length) body[f.name] = [...v]
        break
      case 'appeal':
        if (!isEmpty(v)) body[f.name] = Number(v)
        break
      case 'verdict':
        if (typeof v === 'boolean') body[f.name] = v
        break
      case 'term': {
        const term = termBody(String(v ?? ''))
        if (term) body[f.name] = term
        break
      }
      default:
        if (!isEmpty(v)) body[f.name] = String(v).trim()
    }
  }
  return body
}

export interface FormError {
  /** The form field the message belongs near, or undefined for the form as a whole. */
  field?: string
  message: string
  code: string
  /** The case changed meanwhile: reload it before trying again. */
  reload: boolean
}

/**
 * Place an API error near the field it names, when that field is on this command's form. A 409
 * asks for a reload (the case changed meanwhile), unless it names a field of the form: then it is
 * about what was entered (e.g. an appeal on a ground the case never counted against the unit).
 */
export function mapError(command: CommandName, err: unknown, values: FormValues = {}): FormError {
  if (err instanceof ApiError) {
    const names = new Set(fieldsFor(command, values).map((f) => f.name))
    const field = err.field && names.has(err.field) ? err.field : undefined
    const reload = err.status === 409 && !field
    return { field, message: err.message, code: err.code, reload }
  }
  return { message: (err as Error)?.message ?? String(err), code: 'unknown', reload: false }
}
