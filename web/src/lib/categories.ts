/**
 * The category catalogue as an admin edits it (系统管理 → 类别与时限): the small classes searched
 * and filtered, a class's edit form and the change it sends, a term in words. A class's extra
 * fields are edited in the same form; their rules are in ./extraFields.
 */
import type { BigClass, CategoryChange, SmallClass, StageTerms, Term, TermUnit, UnitKind, Urgency } from '../api/types'
import {
  fieldDefinitions, fieldDraftsOf, fieldsFieldOf, sameDefinitions, type FieldDraft, type FieldProblem, type FieldsField,
} from './extraFields'

/** The stages a small class gives a term for, in the order a case passes them. */
const STAGES: Record<keyof StageTerms, true> = { dispatch: true, handling: true, check: true, callback: true }
export const TERM_STAGES = Object.keys(STAGES) as (keyof StageTerms)[]
export type TermStage = keyof StageTerms

/**
 * The schema's bound on any term's amount (a year of minutes). The tighter bound of each unit
 * (366 working days, 8760 hours) is the server's rule across two fields: it answers
 * `inconsistent_fields` naming the amount, and the form shows that answer rather than a guess.
 */
export const MAX_TERM_AMOUNT = 525600

/** A term as typed: the amount is the input's text until it is checked. */
export interface TermForm {
  amount: string
  unit: TermUnit
}

export interface CategoryForm {
  zh: string
  en: string
  urgency: Urgency
  unit_kind: UnitKind
  terms: Record<TermStage, TermForm>
  /** The class's extra fields (表单构建), in the order the forms ask them. */
  fields: FieldDraft[]
}

/** The form's fields, named as the server names them in a refusal (`terms.handling.amount`, `fields[1].key`). */
export type CategoryField = 'zh' | 'en' | 'urgency' | 'unit_kind' | `terms.${TermStage}.${keyof TermForm}` | FieldsField
export const CATEGORY_FIELDS: readonly CategoryField[] = [
  'zh', 'en', 'urgency', 'unit_kind',
  ...TERM_STAGES.flatMap((s) => [`terms.${s}.amount`, `terms.${s}.unit`] as const),
]

export type CategoryProblem = 'required' | 'long' | 'amount' | FieldProblem
export type CategoryProblems = Partial<Record<CategoryField, CategoryProblem>>

export function categoryFormOf(c: SmallClass): CategoryForm {
  const terms = Object.fromEntries(
    TERM_STAGES.map((s) => [s, { amount: String(c.terms[s].amount), unit: c.terms[s].unit }]),
  ) as Record<TermStage, TermForm>
  return { zh: c.zh, en: c.en, urgency: c.urgency, unit_kind: c.unit_kind, terms, fields: fieldDraftsOf(c.fields) }
}

function checkName(name: string): CategoryProblem | null {
  if (!name) return 'required'
  return [...name].length > 100 ? 'long' : null
}

/** The amount typed, or null when it is not a whole number from 1 to the schema's bound. */
function amountOf(text: string): number | null {
  const t = text.trim()
  if (!/^\d{1,7}$/.test(t)) return null
  const n = Number(t)
  return n >= 1 && n <= MAX_TERM_AMOUNT ? n : null
}

/**
 * `PUT /categories/{code}` from the form: only what changed, and of the terms only the stages
 * whose amount or unit changed (the server keeps the others); the extra fields, as the whole
 * list that replaces the class's, only when it differs. An empty body means nothing changed: it
 * is not sent, since the server would still move the catalogue's version.
 */
export function categoryChange(form: CategoryForm, original: SmallClass): { body: CategoryChange | null; problems: CategoryProblems } {
  const problems: CategoryProblems = {}
  const zh = form.zh.trim()
  const en = form.en.trim()
  const zhProblem = checkName(zh)
  if (zhProblem) problems.zh = zhProblem
  const enProblem = checkName(en)
  if (enProblem) problems.en = enProblem
  const amounts = {} as Record<TermStage, number>
  for (const s of TERM_STAGES) {
    const n = amountOf(form.terms[s].amount)
    if (n === null) problems[`terms.${s}.amount`] = 'amount'
    else amounts[s] = n
  }
  const definitions = fieldDefinitions(form.fields)
  Object.assign(problems, definitions.problems)
  if (Object.keys(problems).length) return { body: null, problems }

  const body: CategoryChange = {}
  if (zh !== original.zh) body.zh = zh
  if (en !== original.en) body.en = en
  if (form.urgency !== original.urgency) body.urgency = form.urgency
  if (form.unit_kind !== original.unit_kind) body.unit_kind = form.unit_kind
  const terms: NonNullable<CategoryChange['terms']> = {}
  for (const s of TERM_STAGES) {
    const term: Term = { amount: amounts[s], unit: form.terms[s].unit }
    if (term.amount !== original.terms[s].amount || term.unit !== original.terms[s].unit) terms[s] = term
  }
  if (Object.keys(terms).length) body.terms = terms
  if (!sameDefinitions(definitions.fields, original.fields)) body.fields = definitions.fields
  return { body, problems }
}

/**
 * The form field a server refusal names, or null (shown at the top of the dialog then). A
 * stage named without its part (`terms.handling`) lands on its amount.
 */
export function categoryFieldOf(field: string | null | undefined): CategoryField | null {
  if (!field) return null
  if ((CATEGORY_FIELDS as readonly string[]).includes(field)) return field as CategoryField
  const listed = fieldsFieldOf(field)
  if (listed) return listed
  const stage = /^terms\.([a-z]+)$/.exec(field)?.[1]
  return stage && (TERM_STAGES as string[]).includes(stage) ? (`terms.${stage}.amount` as CategoryField) : null
}

/** The server's message without the field it starts with, as it is shown beside that field. */
export function messageBeside(message: string, field: string | null | undefined): string {
  return field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message
}

/** The list's filters: text, a big class, an urgency; empty ones match all. */
export interface CategoryFilters {
  q: string
  big: string
  urgency: Urgency | ''
}

/**
 * Whether a small class matches: the text in its code, its names in either language or its big
 * class's names (trimmed, case-insensitive), within the big class and urgency chosen.
 */
export function matchesCategory(c: SmallClass, f: CategoryFilters, big?: BigClass): boolean {
  if (f.big && c.big_class !== f.big) return false
  if (f.urgency && c.urgency !== f.urgency) return false
  const q = f.q.trim().toLowerCase()
  if (!q) return true
  return [c.code, c.zh, c.en, big?.zh ?? '', big?.en ?? ''].some((text) => text.toLowerCase().includes(q))
}

/** The filters kept in the address, empty ones left out. */
export function categoryQuery(f: CategoryFilters): Record<string, string> {
  const query: Record<string, string> = {}
  if (f.q.trim()) query.q = f.q.trim()
  if (f.big) query.big = f.big
  if (f.urgency) query.urgency = f.urgency
  return query
}

type T = (key: string, named: Record<string, unknown>, plural: number) => string

/** "3个工作日" / "3 working days" (English counts one apart). */
export function termText(term: Pick<Term, 'amount' | 'unit'>, t: T): string {
  return t(`admin.categories.term.${term.unit}`, { n: term.amount }, term.amount)
}

/**
 * Whether a term reads as working time but runs on natural time: an urgent class counts a
 * working hour as an hour and a working day as a day, whatever the calendar says.
 */
export function naturalDespiteUnit(term: Pick<Term, 'unit'>, urgency: Urgency): boolean {
  return urgency === 'urgent' && (term.unit === 'working_hours' || term.unit === 'working_days')
}
