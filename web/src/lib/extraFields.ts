/**
 * Extra fields per small class (表单构建): the definitions an admin gives a class in its dialog,
 * checked as the server's `form::check_definitions` checks them, and a case's values as the case
 * page shows and sets them, the filing asks the missing required ones and a citizen answers them.
 *
 * The citizen's page imports this file: it must stay free of Element Plus and of anything heavy.
 */
import type { ExtraField, ExtraFieldBody, ExtraFieldKind } from '../api/types'

/** At most this many fields a class (a form an inspector fills on a phone). */
export const MAX_FIELDS = 20
/** At most this many choices a choice field. */
export const MAX_CHOICES = 50
/** A label (zh, en) and a choice have 1 to this many characters. */
export const MAX_LABEL = 40
/** The longest text value. */
export const MAX_TEXT = 500
/** A field's key: a lower-case letter, then up to 31 lower-case letters, digits or `_`. */
export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,31}$/

// ---- definitions (admins, in the class dialog)

/** A field as the dialog edits it: the choices are one text (a line or a comma apart) until checked. */
export interface FieldDraft {
  /** The row's identity while rows move (never sent). */
  id: number
  key: string
  zh: string
  en: string
  kind: ExtraFieldKind
  required: boolean
  choices: string
}

/** The parts of a field a refusal names (`fields[1].key`). */
export type FieldPart = 'key' | 'zh' | 'en' | 'kind' | 'required' | 'choices'
export const FIELD_PARTS: readonly FieldPart[] = ['key', 'zh', 'en', 'kind', 'required', 'choices']
/** A part of the list's i-th field, or the list as a whole (`fields`: too many of them). */
export type FieldsField = 'fields' | `fields[${number}].${FieldPart}`

export type FieldProblem =
  | 'required' | 'key' | 'duplicateKey' | 'label' | 'noChoices' | 'choice' | 'duplicateChoice' | 'manyChoices' | 'manyFields'

let nextId = 1
export function fieldDraft(over: Partial<Omit<FieldDraft, 'id'>> = {}): FieldDraft {
  return { id: nextId++, key: '', zh: '', en: '', kind: 'text', required: false, choices: '', ...over }
}

export function fieldDraftsOf(fields: readonly ExtraField[]): FieldDraft[] {
  return fields.map((f) => fieldDraft({ key: f.key, zh: f.zh, en: f.en, kind: f.kind, required: f.required, choices: f.choices.join('\n') }))
}

/** The choices typed: one a line, or apart by commas (either width); blanks dropped, each trimmed. */
export function choicesOf(text: string): string[] {
  return text.split(/[\n,，]/).map((c) => c.trim()).filter(Boolean)
}

const chars = (s: string) => [...s].length

/**
 * The list `PUT /categories/{code}` takes from the drafts, and every problem the server would
 * refuse, by the field it would name: a key out of pattern or twice, a blank or long label, a
 * choice field without choices or with a long or repeated one, too many fields or choices.
 * Choices go with choice fields alone (the server refuses them on another kind).
 */
export function fieldDefinitions(drafts: readonly FieldDraft[]): { fields: ExtraFieldBody[]; problems: Partial<Record<FieldsField, FieldProblem>> } {
  const problems: Partial<Record<FieldsField, FieldProblem>> = {}
  if (drafts.length > MAX_FIELDS) problems.fields = 'manyFields'
  const keys = new Set<string>()
  const fields = drafts.map((d, i): ExtraFieldBody => {
    const at = (part: FieldPart) => `fields[${i}].${part}` as const
    const key = d.key.trim()
    if (!KEY_PATTERN.test(key)) problems[at('key')] = 'key'
    else if (keys.has(key)) problems[at('key')] = 'duplicateKey'
    keys.add(key)
    const zh = d.zh.trim()
    const en = d.en.trim()
    for (const [part, label] of [['zh', zh], ['en', en]] as const) {
      if (!label) problems[at(part)] = 'required'
      else if (chars(label) > MAX_LABEL) problems[at(part)] = 'label'
    }
    const field: ExtraFieldBody = { key, zh, en, kind: d.kind, required: d.required }
    if (d.kind === 'choice') {
      const choices = choicesOf(d.choices)
      if (!choices.length) problems[at('choices')] = 'noChoices'
      else if (choices.length > MAX_CHOICES) problems[at('choices')] = 'manyChoices'
      else if (choices.some((c) => chars(c) > MAX_LABEL)) problems[at('choices')] = 'choice'
      else if (new Set(choices).size !== choices.length) problems[at('choices')] = 'duplicateChoice'
      field.choices = choices
    }
    return field
  })
  return { fields, problems }
}

/** Whether the list would leave the class's fields as they are (then it is not sent). */
export function sameDefinitions(fields: readonly ExtraFieldBody[], original: readonly ExtraField[]): boolean {
  const norm = (f: ExtraFieldBody | ExtraField) =>
    JSON.stringify([f.key, f.zh, f.en, f.kind, !!f.required, f.kind === 'choice' ? f.choices ?? [] : []])
  return fields.length === original.length && fields.every((f, i) => norm(f) === norm(original[i]))
}

/** A refusal's field when it names a field of the list (`fields[1].key`, `fields`), else null. */
export function fieldsFieldOf(field: string | null | undefined): FieldsField | null {
  if (field === 'fields') return 'fields'
  const m = /^fields\[(\d+)\](?:\.([a-z]+))?$/.exec(field ?? '')
  if (!m) return null
  // a field named whole (`fields[2]`) is shown at its key, where its row starts
  const part = (m[2] ?? 'key') as FieldPart
  return FIELD_PARTS.includes(part) ? `fields[${Number(m[1])}].${part}` : null
}

/** The row and part a field of the list names, or null for the list itself. */
export function fieldsPlace(field: FieldsField): { index: number; part: FieldPart } | null {
  const m = /^fields\[(\d+)\]\.([a-z]+)$/.exec(field)
  return m ? { index: Number(m[1]), part: m[2] as FieldPart } : null
}

/** `items` with the one at `from` moved to `to` (a new array; `items` stays). */
export function moved<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items]
  if (from < 0 || from >= next.length || to < 0 || to >= next.length) return next
  const [item] = next.splice(from, 1)
  next.splice(to, 0, item)
  return next
}

// ---- values (the case page, the filing, a citizen's answers)

/** A value as a case keeps it: a number for a number field, else text (a choice, a day, a photo's id). */
export type FieldValue = number | string

export type ValueProblem = 'required' | 'number' | 'date' | 'choice' | 'long'

/** The label in the language shown. */
export function fieldLabel(f: Pick<ExtraField, 'zh' | 'en'>, locale: string): string {
  return locale === 'en' ? f.en : f.zh
}

const empty = (v: unknown) => v === undefined || v === null || v === ''

/** A calendar day `YYYY-MM-DD` that exists (not 2019-02-30). */
export function isDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}

/**
 * A value in words: a number in the locale's digits, a day as the locale writes one, text and
 * choices as they are, a photo by its id (the page shows its thumbnail); "—" when there is none.
 */
export function formatFieldValue(kind: ExtraFieldKind | undefined, value: unknown, locale: string): string {
  if (empty(value)) return '—'
  if (typeof value === 'number') return new Intl.NumberFormat(locale, { maximumFractionDigits: 6 }).format(value)
  const text = String(value)
  if (kind === 'date' && isDay(text)) {
    // a day has no time zone: read and written in UTC, it stays the day it is
    return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${text}T00:00:00Z`))
  }
  return text
}

/** The fields a class asks before filing that `values` leave empty, in the class's order. */
export function missingRequired(fields: readonly ExtraField[], values: Record<string, unknown> | null | undefined): ExtraField[] {
  return fields.filter((f) => f.required && empty(values?.[f.key]))
}

/** The inputs' text for each field from the values kept (a number as its digits). */
export function valueDrafts(fields: readonly ExtraField[], values: Record<string, unknown> | null | undefined): Record<string, string> {
  return Object.fromEntries(fields.map((f) => {
    const v = values?.[f.key]
    return [f.key, empty(v) ? '' : String(v)]
  }))
}

/** What an input's text stands for: null when empty, else the value or why it is none. */
export function parseValue(field: Pick<ExtraField, 'kind' | 'choices'>, text: string): { value: FieldValue | null } | { problem: ValueProblem } {
  const t = text.trim()
  if (!t) return { value: null }
  switch (field.kind) {
    case 'number': {
      // digits as people type them, a decimal point and a sign; not `1e3`, not `0x10`
      if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(t)) return { problem: 'number' }
      const n = Number(t)
      return Number.isFinite(n) ? { value: n } : { problem: 'number' }
    }
    case 'date':
      return isDay(t) ? { value: t } : { problem: 'date' }
    case 'choice':
      return field.choices.includes(t) ? { value: t } : { problem: 'choice' }
    case 'text':
      return chars(t) > MAX_TEXT ? { problem: 'long' } : { value: t }
    case 'photo':
      return { value: t }
  }
}

/**
 * The `fields` of set-fields, of the filing or of a report: of the fields given, only the values
 * that differ from `current`, `null` for one cleared; and what is wrong with the others. A key
 * of `mustHave` may not be left empty: the class's required fields once a case is filed (the
 * server refuses clearing one) and those the filing asks.
 */
export function fieldChanges(
  fields: readonly ExtraField[],
  drafts: Record<string, string>,
  current: Record<string, unknown> | null | undefined,
  mustHave: ReadonlySet<string> = new Set(),
): { changes: Record<string, FieldValue | null>; problems: Record<string, ValueProblem> } {
  const changes: Record<string, FieldValue | null> = {}
  const problems: Record<string, ValueProblem> = {}
  for (const f of fields) {
    const read = parseValue(f, drafts[f.key] ?? '')
    if ('problem' in read) {
      problems[f.key] = read.problem
      continue
    }
    if (read.value === null && mustHave.has(f.key)) {
      problems[f.key] = 'required'
      continue
    }
    const was = current?.[f.key]
    const same = read.value === null ? empty(was) : read.value === was
    if (!same) changes[f.key] = read.value
  }
  return { changes, problems }
}

/** The key a refusal names (`fields.diameter_mm`), or null. */
export function valueKeyOf(field: string | null | undefined): string | null {
  const m = /^fields\.([a-z][a-z0-9_]*)$/.exec(field ?? '')
  return m ? m[1] : null
}

/**
 * A timeline entry's values (`details.fields` of set_fields, file or report) in words, in the
 * class's order (the server keeps them by key), by label where the class still has the field,
 * by key after them where it no longer does.
 */
export function changedValues(
  given: unknown, fields: readonly ExtraField[], locale: string,
): { key: string; label: string; value: FieldValue | null; kind: ExtraFieldKind | undefined; text: string }[] {
  if (!given || typeof given !== 'object' || Array.isArray(given)) return []
  const place = (key: string) => {
    const i = fields.findIndex((f) => f.key === key)
    return i < 0 ? fields.length : i
  }
  const entries = Object.entries(given as Record<string, unknown>).sort(([a], [b]) => place(a) - place(b))
  return entries.map(([key, value]) => {
    const f = fields.find((x) => x.key === key)
    const v = typeof value === 'number' || typeof value === 'string' ? value : null
    return { key, label: f ? fieldLabel(f, locale) : key, value: v, kind: f?.kind, text: formatFieldValue(f?.kind, v, locale) }
  })
}
