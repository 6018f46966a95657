/**
 * The responsibility matrix as an admin edits it (系统管理 → 责任矩阵): its rules as typed, checked
 * as the server's `Rule::new` checks them (crates/cityops-domain/src/routing.rs), ordered most
 * specific first as the server ranks them, written to and read from the CSV file `PUT
 * /routing/rules` takes (`category,area,owner,unit`, UTF-8 with a BOM), the server's refusal of a
 * line brought back to the table's row, and the "who gets class X at place Y" question.
 */
import type { BigClass, Categories, DraftRule, RoutingPreviewBody, SmallClass } from '../api/types'
import { isAreaCode } from './areaCode'

/** The columns of a rule, in the file's order. */
export const MATRIX_COLUMNS = ['category', 'area', 'owner', 'unit'] as const
export type MatrixColumn = (typeof MATRIX_COLUMNS)[number]

/** A rule as typed: strings, `owner` empty for any owner. */
export interface RuleFields {
  category: string
  area: string
  owner: string
  unit: string
}

/** A row of the table: a rule and a name the page keeps it by while it is edited, sorted and sent. */
export interface RuleRow extends RuleFields {
  id: number
  /** The line of the file it was read from, for a row read from a CSV file. */
  line?: number
}

/** Anything with a rule's four values; the server's `owner` is null or absent for any owner. */
export type RuleLike = Pick<RuleFields, 'category' | 'area' | 'unit'> & { owner?: string | null }

/** A rule as the server reads it: cells trimmed (the CSV reader trims them), no owner for an empty one. */
export function normalized(r: RuleLike): RuleFields {
  return { category: r.category.trim(), area: r.area.trim(), owner: (r.owner ?? '').trim(), unit: r.unit.trim() }
}

/** The row of a rule (the server's, or one read from a file), trimmed. */
export function rowOf(rule: RuleLike, id: number): RuleRow {
  return { id, ...normalized(rule) }
}

/** One text per rule, equal for rules the server would store alike. */
export function ruleKey(r: RuleLike): string {
  const n = normalized(r)
  return [n.category, n.area, n.owner, n.unit].join('\u0001')
}

export function sameRule(a: RuleLike, b: RuleLike): boolean {
  return ruleKey(a) === ruleKey(b)
}

// ---- checks

/**
 * Why a value would be refused: the server's `Rule::new` refuses a category that is not 1 to 5
 * digits starting 1 or 2 (`category`), an area code that is not 6, 9 or 12 digits (`area`) and a
 * unit code that is blank (`required`) or longer than 64 bytes (`long`). A line break in a unit or
 * owner code (`line_break`) is refused here only: no unit code has one (1 to 64 letters, digits,
 * `-`, `_`, `.`), and a cell spanning lines would make the server's line numbers and the table's
 * rows disagree.
 */
export type RuleProblem = 'category' | 'area' | 'required' | 'long' | 'line_break'
export type RuleProblems = Partial<Record<MatrixColumn, RuleProblem>>

const CATEGORY_PREFIX = /^[12]\d{0,4}$/
const LINE_BREAK = /[\r\n]/

/** Whether `text` is a category code or prefix a rule may name: 1 to 5 digits, starting 1 or 2. */
export function isCategoryPrefix(text: string): boolean {
  return CATEGORY_PREFIX.test(text)
}

/** The problems of a rule as typed (trimmed first, as the server reads a file); none when it would be stored. */
export function ruleProblems(r: RuleLike): RuleProblems {
  const n = normalized(r)
  const problems: RuleProblems = {}
  if (!isCategoryPrefix(n.category)) problems.category = 'category'
  if (!isAreaCode(n.area)) problems.area = 'area'
  if (!n.unit) problems.unit = 'required'
  else if (LINE_BREAK.test(n.unit)) problems.unit = 'line_break'
  // the server counts bytes: 64 ASCII characters, fewer of other scripts
  else if (new TextEncoder().encode(n.unit).length > 64) problems.unit = 'long'
  if (LINE_BREAK.test(n.owner)) problems.owner = 'line_break'
  return problems
}

export function isValidRule(r: RuleLike): boolean {
  return Object.keys(ruleProblems(r)).length === 0
}

/** What the page knows of a unit: whether it exists and is active. */
export type UnitStanding = { active: boolean } | undefined

/**
 * What the server may refuse or what may not be meant, known from the lists the page holds: a
 * unit that does not exist or is retired (the server refuses the file), an owner that is no unit
 * (such a rule never applies), a category prefix no small class starts with, and a second rule
 * for the same class, area and owner (only one of them can ever decide).
 */
export type RuleWarning = 'unit_unknown' | 'unit_retired' | 'owner_unknown' | 'no_class' | 'duplicate'

export function ruleWarnings(
  r: RuleLike,
  ctx: { unit: (code: string) => UnitStanding; classes?: (prefix: string) => number; duplicate?: boolean },
): RuleWarning[] {
  const n = normalized(r)
  const problems = ruleProblems(n)
  const warnings: RuleWarning[] = []
  if (!problems.unit) {
    const unit = ctx.unit(n.unit)
    if (!unit) warnings.push('unit_unknown')
    else if (!unit.active) warnings.push('unit_retired')
  }
  if (n.owner && !problems.owner && !ctx.unit(n.owner)) warnings.push('owner_unknown')
  if (!problems.category && ctx.classes && ctx.classes(n.category) === 0) warnings.push('no_class')
  if (ctx.duplicate) warnings.push('duplicate')
  return warnings
}

/** The rows (by index) that name the same class, area and owner as another row. */
export function duplicateRows(rows: readonly RuleLike[]): Set<number> {
  const seen = new Map<string, number[]>()
  rows.forEach((r, i) => {
    const n = normalized(r)
    const key = [n.category, n.area, n.owner].join('\u0001')
    seen.set(key, [...(seen.get(key) ?? []), i])
  })
  return new Set([...seen.values()].filter((list) => list.length > 1).flat())
}

// ---- order

/** The server's rank of a rule (higher wins): an owner named, then the longer category prefix, then the deeper area. */
export function specificity(r: RuleLike): [number, number, number] {
  const n = normalized(r)
  return [n.owner ? 1 : 0, n.category.length, n.area.length]
}

/**
 * The table's orders: `specific`, as the server tries rules (most specific first, equal ones by
 * unit code, as it breaks ties); `category`, by category code (a prefix before the classes it
 * covers), then area, owner and unit.
 */
export const MATRIX_SORTS = ['specific', 'category'] as const
export type MatrixSort = (typeof MATRIX_SORTS)[number]

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export function compareRules(a: RuleLike, b: RuleLike, sort: MatrixSort): number {
  const x = normalized(a)
  const y = normalized(b)
  if (sort === 'specific') {
    const [so, sc, sa] = specificity(x)
    const [to, tc, ta] = specificity(y)
    return to - so || tc - sc || ta - sa || text(x.unit, y.unit) || text(x.category, y.category) || text(x.area, y.area) || text(x.owner, y.owner)
  }
  return text(x.category, y.category) || text(x.area, y.area) || text(x.owner, y.owner) || text(x.unit, y.unit)
}

/** A sorted copy; rows that compare equal keep their order. */
export function sortRules<T extends RuleLike>(rows: readonly T[], sort: MatrixSort): T[] {
  return [...rows].sort((a, b) => compareRules(a, b, sort))
}

// ---- changes

/**
 * How the table differs from the matrix in force, by value (order does not matter to the
 * server): the rows that are not in force (new or edited), and how many rules in force the table
 * no longer has (removed, or edited away).
 */
export function matrixChanges(saved: readonly RuleLike[], rows: readonly RuleLike[]): { changed: Set<number>; removed: number; dirty: boolean } {
  const left = new Map<string, number>()
  for (const r of saved) left.set(ruleKey(r), (left.get(ruleKey(r)) ?? 0) + 1)
  const changed = new Set<number>()
  rows.forEach((r, i) => {
    const key = ruleKey(r)
    const n = left.get(key) ?? 0
    if (n > 0) left.set(key, n - 1)
    else changed.add(i)
  })
  const removed = [...left.values()].reduce((sum, n) => sum + n, 0)
  return { changed, removed, dirty: changed.size > 0 || removed > 0 }
}

// ---- the CSV file

export const CSV_HEADER: readonly MatrixColumn[] = MATRIX_COLUMNS
const BOM = '\uFEFF'

/** What makes a spreadsheet read a cell as a formula, or what some strip before doing so (the server's `csv_file::cell`). */
const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r']
const startsFormula = (s: string) => FORMULA_STARTS.some((c) => s.startsWith(c))
const isNumber = (s: string) => s.trim() !== '' && Number.isFinite(Number(s.trim()))

/**
 * A cell as CityOps writes it for Excel or WPS: text a spreadsheet would run as a formula gets a
 * leading `'`, which the server's reader takes off again; plain numbers (`-3.5`) stay numbers.
 */
export function csvCell(value: string): string {
  return startsFormula(value) && !isNumber(value) ? `'${value}` : value
}

/** The escape of `csvCell` taken off, as the server reads a cell. */
export function unescapeCell(value: string): string {
  return value.startsWith("'") && startsFormula(value.slice(1)) ? value.slice(1) : value
}

/** A field quoted when it must be: a comma, a quote, a line break, or spaces at either end (the reader trims unquoted ones). */
function quoted(field: string): string {
  return /[",\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field
}

/**
 * The file `PUT /routing/rules` takes, in the order of `rows`: a BOM (Excel opens it as UTF-8),
 * the header `category,area,owner,unit`, a rule a line, CRLF between records. `lines[i]` is the
 * line the record of `rows[i]` starts on (the header is line 1), which is what the server names
 * in a refusal (`line 3: unit`), and `end` the last line of the last record.
 */
export function rulesCsv(rows: readonly RuleLike[], opts: { bom?: boolean } = {}): { text: string; lines: number[]; end: number } {
  const records = [CSV_HEADER.join(',')]
  const lines: number[] = []
  let line = 2
  for (const r of rows) {
    const n = normalized(r)
    const record = MATRIX_COLUMNS.map((c) => quoted(csvCell(n[c]))).join(',')
    lines.push(line)
    // a quoted cell may span lines (the checks keep codes on one, but the file stays exact)
    line += 1 + (record.match(/\r\n|\r|\n/g)?.length ?? 0)
    records.push(record)
  }
  return { text: (opts.bom === false ? '' : BOM) + records.join('\r\n') + '\r\n', lines, end: line - 1 }
}

/** Why a file cannot be read into the table, and the line it starts on. */
export type CsvProblem =
  | { kind: 'empty'; line: 1 }
  | { kind: 'header'; line: 1; column: MatrixColumn }
  | { kind: 'fields'; line: number; found: number; expected: number }
  | { kind: 'quote'; line: number }

/** A record of the file: its cells and the line it starts on. */
interface CsvRecord {
  cells: string[]
  line: number
}

/**
 * The records of a CSV text (RFC 4180: `"` quotes a cell, `""` is a quote in it, a quoted cell may
 * span lines; CRLF, LF or CR end a record). Empty lines are skipped, as the server's reader does.
 */
function records(text: string): CsvRecord[] | { kind: 'quote'; line: number } {
  const out: CsvRecord[] = []
  let cells: string[] = []
  let cell = ''
  let line = 1
  let start = 1
  let inQuotes = false
  let atCellStart = true
  let i = 0
  const endRecord = () => {
    cells.push(cell)
    if (!(cells.length === 1 && cells[0] === '')) out.push({ cells, line: start })
    cells = []
    cell = ''
    atCellStart = true
  }
  while (i < text.length) {
    const ch = text[i]
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"'
          i += 2
          continue
        }
        inQuotes = false
      } else {
        if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++
        cell += ch
      }
      i++
      continue
    }
    if (ch === '"' && atCellStart) {
      inQuotes = true
      atCellStart = false
      i++
      continue
    }
    if (ch === ',') {
      cells.push(cell)
      cell = ''
      atCellStart = true
      i++
      continue
    }
    if (ch === '\r' || ch === '\n') {
      endRecord()
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1
      line++
      start = line
      continue
    }
    cell += ch
    atCellStart = false
    i++
  }
  if (inQuotes) return { kind: 'quote', line: start }
  if (cell !== '' || cells.length) endRecord()
  return out
}

/**
 * A CSV file of rules, as the export writes it and the import takes it, read into rows: the
 * header names the columns (in any order, others ignored), cells are trimmed and the
 * spreadsheet escape taken off. A rule the server would refuse is still read (the table shows
 * its problem); a file that is no table of rules is refused, naming its line.
 */
export function parseRulesCsv(text: string): { rules: RuleFields[]; lines: number[] } | { problem: CsvProblem } {
  const parsed = records(text.startsWith(BOM) ? text.slice(1) : text)
  if (!Array.isArray(parsed)) return { problem: parsed }
  const [header, ...body] = parsed
  if (!header) return { problem: { kind: 'empty', line: 1 } }
  const names = header.cells.map((c) => c.trim())
  const at = {} as Record<MatrixColumn, number>
  for (const column of MATRIX_COLUMNS) {
    const i = names.indexOf(column)
    if (i < 0) return { problem: { kind: 'header', line: 1, column } }
    at[column] = i
  }
  const rules: RuleFields[] = []
  const lines: number[] = []
  for (const record of body) {
    if (record.cells.length !== header.cells.length) {
      return { problem: { kind: 'fields', line: record.line, found: record.cells.length, expected: header.cells.length } }
    }
    const cell = (c: MatrixColumn) => unescapeCell(record.cells[at[c]].trim())
    rules.push({ category: cell('category'), area: cell('area'), owner: cell('owner'), unit: cell('unit') })
    lines.push(record.line)
  }
  return { rules, lines }
}

// ---- the server's refusal of a file

/** `line 3: unit` (the server's `field` for a bad line) as the line and the column; null for any other field. */
export function refusedLine(field: string | null | undefined): { line: number; column: MatrixColumn | null } | null {
  const m = /^line (\d+)(?::\s*([a-z_]+))?$/.exec((field ?? '').trim())
  if (!m) return null
  const column = (MATRIX_COLUMNS as readonly string[]).includes(m[2] ?? '') ? (m[2] as MatrixColumn) : null
  return { line: Number(m[1]), column }
}

/** The index of the row whose record holds `line` of a file `rulesCsv` wrote (its `lines` and `end`); -1 for the header or beyond. */
export function rowOfLine(csv: { lines: readonly number[]; end: number }, line: number): number {
  if (line > csv.end) return -1
  let found = -1
  for (let i = 0; i < csv.lines.length && csv.lines[i] <= line; i++) found = i
  return found
}

/** `rules[3].unit` (a refused draft of the preview) as the index of the rule and the column. */
export function refusedDraftRule(field: string | null | undefined): { index: number; column: MatrixColumn | null } | null {
  const m = /^rules\[(\d+)\](?:\.([a-z_]+))?$/.exec((field ?? '').trim())
  if (!m) return null
  const column = (MATRIX_COLUMNS as readonly string[]).includes(m[2] ?? '') ? (m[2] as MatrixColumn) : null
  return { index: Number(m[1]), column }
}

/** The server's message without the field it may start with. */
export function messageBeside(message: string, field: string | null | undefined): string {
  return field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message
}

// ---- categories

/**
 * What a rule's category covers: one small class, a big class, all components (`1`) or events
 * (`2`), or another prefix; `count` is how many small classes of the catalogue it takes in.
 */
export type CategoryScope =
  | { kind: 'small'; small: SmallClass; count: 1 }
  | { kind: 'big'; big: BigClass; count: number }
  | { kind: 'all'; of: 'component' | 'event'; count: number }
  | { kind: 'prefix'; count: number }

export function categoryScope(code: string, catalog: Pick<Categories, 'big' | 'small'> | null | undefined): CategoryScope | null {
  const c = code.trim()
  if (!isCategoryPrefix(c) || !catalog) return null
  const count = catalog.small.filter((s) => s.code.startsWith(c)).length
  if (c.length === 5) {
    const small = catalog.small.find((s) => s.code === c)
    if (small) return { kind: 'small', small, count: 1 }
  }
  const big = catalog.big.find((b) => b.code === c)
  if (big) return { kind: 'big', big, count }
  if (c.length === 1) return { kind: 'all', of: c === '1' ? 'component' : 'event', count }
  return { kind: 'prefix', count }
}

// ---- the filter

export const MATRIX_SHOWS = ['all', 'changed', 'problems'] as const
export type MatrixShow = (typeof MATRIX_SHOWS)[number]

export interface MatrixFilters {
  q: string
  show: MatrixShow
  sort: MatrixSort
}

/** Whether any of a row's texts (codes and names) contains `q`, trimmed and ignoring case; an empty `q` matches all. */
export function matchesText(texts: readonly (string | null | undefined)[], q: string): boolean {
  const needle = q.trim().toLowerCase()
  if (!needle) return true
  return texts.some((t) => !!t && t.toLowerCase().includes(needle))
}

/** The filters kept in the address, defaults left out. */
export function matrixQuery(f: MatrixFilters): Record<string, string> {
  const query: Record<string, string> = {}
  if (f.q.trim()) query.q = f.q.trim()
  if (f.show !== 'all') query.show = f.show
  if (f.sort !== 'specific') query.sort = f.sort
  return query
}

/** The filters an address names; unknown values are the defaults. */
export function matrixFiltersOf(query: Record<string, unknown>): MatrixFilters {
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const show = str(query.show)
  const sort = str(query.sort)
  return {
    q: str(query.q),
    show: (MATRIX_SHOWS as readonly string[]).includes(show) ? (show as MatrixShow) : 'all',
    sort: (MATRIX_SORTS as readonly string[]).includes(sort) ? (sort as MatrixSort) : 'specific',
  }
}

// ---- "who gets class X at place Y"

export interface PreviewForm {
  category: string
  /** The place as an area code or as a point. */
  place: 'area' | 'point'
  area: string
  lon: string
  lat: string
}

export type PreviewField = 'category' | 'area' | 'lon' | 'lat'
export type PreviewProblem = 'small_class' | 'area' | 'lon' | 'lat' | 'required'

export function emptyPreviewForm(): PreviewForm {
  return { category: '', place: 'area', area: '', lon: '', lat: '' }
}

/** A rule of a draft as `POST /routing/preview` takes it: trimmed (the server does not trim), no owner when empty. */
export function draftRule(r: RuleLike): DraftRule {
  const n = normalized(r)
  const rule: DraftRule = { category: n.category, area: n.area, unit: n.unit }
  if (n.owner) rule.owner = n.owner
  return rule
}

const degrees = (text: string, bound: number): number | null => {
  const t = text.trim()
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null
  const n = Number(t)
  return Math.abs(n) <= bound ? n : null
}

/**
 * `POST /routing/preview` from the form: a small class (5 digits, 1 or 2 first) and an area code
 * or a WGS-84 point; `draft`, when given, is the table to ask instead of the matrix in force.
 */
export function previewBody(form: PreviewForm, draft: readonly RuleLike[] | null): { body: RoutingPreviewBody | null; problems: Partial<Record<PreviewField, PreviewProblem>> } {
  const problems: Partial<Record<PreviewField, PreviewProblem>> = {}
  const category = form.category.trim()
  if (!category) problems.category = 'required'
  else if (!/^[12]\d{4}$/.test(category)) problems.category = 'small_class'
  const body: RoutingPreviewBody = { category }
  if (form.place === 'area') {
    const area = form.area.trim()
    if (!area) problems.area = 'required'
    else if (!isAreaCode(area)) problems.area = 'area'
    else body.area = area
  } else {
    const lon = degrees(form.lon, 180)
    const lat = degrees(form.lat, 90)
    if (!form.lon.trim()) problems.lon = 'required'
    else if (lon === null) problems.lon = 'lon'
    if (!form.lat.trim()) problems.lat = 'required'
    else if (lat === null) problems.lat = 'lat'
    if (lon !== null && lat !== null) {
      body.lon = lon
      body.lat = lat
    }
  }
  if (Object.keys(problems).length) return { body: null, problems }
  if (draft) body.rules = draft.map(draftRule)
  return { body, problems }
}

/**
 * The rows (by index) a routing answer names: the deciding rule and the ones it overrode, each
 * matched once to a row with the same values (two equal rows are two rules to the server).
 */
export function decisionRows(rows: readonly RuleLike[], routing: { rule?: RuleLike | null; overridden: readonly RuleLike[] }): { rule: number | null; overridden: number[] } {
  const taken = new Set<number>()
  const take = (r: RuleLike) => {
    const key = ruleKey(r)
    const i = rows.findIndex((row, j) => !taken.has(j) && ruleKey(row) === key)
    if (i >= 0) taken.add(i)
    return i
  }
  const rule = routing.rule ? take(routing.rule) : -1
  const overridden = routing.overridden.map(take).filter((i) => i >= 0)
  return { rule: rule >= 0 ? rule : null, overridden }
}

/** A rule in a line: `20101 · 310101002 → 310101-GD`, a prefix marked `201*`, the owner before the arrow when named. */
export function ruleText(r: RuleLike): string {
  const n = normalized(r)
  const category = n.category.length < 5 ? `${n.category}*` : n.category
  return `${[category, n.area, n.owner].filter(Boolean).join(' · ')} → ${n.unit}`
}

/** The name of a draft file downloaded from the page. */
export function draftFileName(day: string): string {
  return `responsibility-rules-draft-${day}.csv`
}

type T = (key: string, named?: Record<string, unknown>) => string

/** What a category code covers, in words: a small class's name, a big class, all components... */
export function categoryWords(code: string, catalog: Pick<Categories, 'big' | 'small'> | null | undefined, t: T, en: boolean): string {
  const scope = categoryScope(code, catalog)
  if (!scope) return ''
  const name = (c: { zh: string; en: string }) => (en ? c.en : c.zh)
  switch (scope.kind) {
    case 'small':
      return name(scope.small)
    case 'big':
      return t('admin.matrix.scope.big', { name: name(scope.big), n: scope.count })
    case 'all':
      return t(`admin.matrix.scope.${scope.of}`, { n: scope.count })
    default:
      return scope.count ? t('admin.matrix.scope.prefix', { code: code.trim(), n: scope.count }) : t('admin.matrix.scope.none')
  }
}
