/**
 * The administration page's imports: the component census (`PUT /components`, CSV or GeoJSON)
 * and a level of boundaries (`PUT /geo/boundaries/{level}`, GeoJSON), each sent whole as a file.
 * Here: what a file is and which request sends it, where a refusal points (line or feature,
 * and column), the counts an answer carries, what a boundary file holds (read before asking to
 * replace a level), the upload's progress and the relocation job that follows a boundary import.
 */
import { API_BASE, ApiError, type UploadProgress } from '../api/client'
import type { Crs, GeoCollection, RelocationJob, RelocationState } from '../api/types'
import { parentOf } from './areaCode'

// ---- the census

/** The census CSV's header, in order (`COMPONENT_CSV_COLUMNS` of `cityops-domain`); a GeoJSON census has the same names as properties. */
export const COMPONENT_CSV_COLUMNS = [
  'id', 'class', 'name', 'lon', 'lat', 'unit_grid', 'owner_unit', 'maintainer_unit', 'supervising_department',
  'status', 'setting', 'location_text', 'initial_date', 'change_date', 'source',
] as const

/** The census's two formats. */
export type CensusFormat = 'csv' | 'geojson'

export const CENSUS_CONTENT_TYPES: Record<CensusFormat, string> = { csv: 'text/csv', geojson: 'application/geo+json' }

/** A census file's format by its name, else its type; null for anything else. */
export function censusFormatOf(file: { name: string; type?: string }): CensusFormat | null {
  const name = file.name.toLowerCase()
  if (name.endsWith('.csv')) return 'csv'
  if (name.endsWith('.geojson') || name.endsWith('.json')) return 'geojson'
  const type = (file.type ?? '').toLowerCase()
  if (type === 'text/csv') return 'csv'
  if (type.includes('json')) return 'geojson'
  return null
}

/** An empty census file to fill in: the header alone, with a BOM so that spreadsheet programs read it as UTF-8 (the server accepts one). */
export function censusTemplate(): string {
  return `\uFEFF${COMPONENT_CSV_COLUMNS.join(',')}\r\n`
}

/** Where the current census is exported: the links an admin starts a file from. */
export const CENSUS_EXPORTS: Record<CensusFormat, string> = {
  csv: `${API_BASE}/components.csv`,
  geojson: `${API_BASE}/components.geojson`,
}

// ---- boundaries

/** The levels a boundary import replaces, by the path's names, largest first. */
export const BOUNDARY_LEVELS = ['districts', 'streets', 'communities', 'unit-grids'] as const
export type BoundaryLevel = (typeof BOUNDARY_LEVELS)[number]

/** The digits of a code of each level (its parent's are the level above's; a district's parent is the city). */
export const LEVEL_CODE_DIGITS: Record<BoundaryLevel, number> = { districts: 6, streets: 9, communities: 12, 'unit-grids': 14 }

/** `GET /geo/areas?level=` names a level in the singular. */
const MAP_LEVEL: Record<BoundaryLevel, 'district' | 'street' | 'community' | 'grid'> = {
  districts: 'district', streets: 'street', communities: 'community', 'unit-grids': 'grid',
}

export function isBoundaryLevel(value: unknown): value is BoundaryLevel {
  return (BOUNDARY_LEVELS as readonly unknown[]).includes(value)
}

/** One import as sent: the path under `/api/v1`, its query and the body's type. */
export interface ImportRequest {
  path: string
  query: Record<string, string>
  contentType: string
}

export function censusRequest(format: CensusFormat): ImportRequest {
  return { path: '/components', query: {}, contentType: CENSUS_CONTENT_TYPES[format] }
}

/** A level's boundaries; `crs` is the file's coordinate system (the server stores WGS-84). */
export function boundaryRequest(level: BoundaryLevel, crs: Crs = 'wgs84'): ImportRequest {
  return { path: `/geo/boundaries/${level}`, query: { crs }, contentType: 'application/geo+json' }
}

/** What a boundary file holds, read in the browser before asking to replace a level. */
export interface BoundaryFileSummary {
  features: number
  /** The level every feature's `properties.code` has the digits of, or null when they differ or are missing. */
  level: BoundaryLevel | null
}

/** Why a file cannot be a boundary file (before sending it): not JSON, not a FeatureCollection, no features. */
export type BoundaryFileProblem = 'json' | 'collection' | 'empty'

export function readBoundaryFile(text: string): { summary: BoundaryFileSummary } | { problem: BoundaryFileProblem } {
  let doc: unknown
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch {
    return { problem: 'json' }
  }
  const features = (doc as { features?: unknown } | null)?.features
  if (!doc || typeof doc !== 'object' || (doc as { type?: unknown }).type !== 'FeatureCollection' || !Array.isArray(features)) {
    return { problem: 'collection' }
  }
  if (!features.length) return { problem: 'empty' }
  const digits = new Set(features.map((f) => {
    const code = (f as { properties?: { code?: unknown } } | null)?.properties?.code
    return typeof code === 'string' && /^\d+$/.test(code.trim()) ? code.trim().length : -1
  }))
  const only = digits.size === 1 ? [...digits][0] : -1
  const level = BOUNDARY_LEVELS.find((l) => LEVEL_CODE_DIGITS[l] === only) ?? null
  return { summary: { features: features.length, level } }
}

/** The level a file's codes belong to when it is not the one chosen (a likely mistake, said before replacing), else null. */
export function levelMismatch(chosen: BoundaryLevel, summary: BoundaryFileSummary): BoundaryLevel | null {
  return summary.level && summary.level !== chosen ? summary.level : null
}

/**
 * The current boundaries of a level as an import file: `GET /geo/areas?level=` leaves out
 * `parent`, which an import needs; it is the code's parent (a district's is its city). Unit
 * grids are not offered: the map serves them by street or box only (at most 20,000).
 */
export const BOUNDARY_EXPORT_LEVELS = ['districts', 'streets', 'communities'] as const satisfies readonly BoundaryLevel[]
export type BoundaryExportLevel = (typeof BOUNDARY_EXPORT_LEVELS)[number]

export function mapLevelOf(level: BoundaryExportLevel): 'district' | 'street' | 'community' {
  return MAP_LEVEL[level] as 'district' | 'street' | 'community'
}

export function boundaryTemplate(collection: GeoCollection): string {
  const features = collection.features.map((f) => {
    const { code, name } = f.properties
    return { type: 'Feature', properties: { code, parent: parentOf(code) ?? '', name: name ?? code }, geometry: f.geometry }
  })
  return JSON.stringify({ type: 'FeatureCollection', features })
}

// ---- where a refusal points

/**
 * One reason a file was refused, read from the server's `field`: `line 5: lon` (a CSV line,
 * the header being line 1, and its column), `features[3].properties.unit_grid` (a GeoJSON
 * feature by its index from 0, and its property), `features[3]` with the property or the
 * geometry at the start of the message (boundaries), `file` (the file as a whole: its header,
 * type or encoding).
 */
export interface ImportProblem {
  /** The CSV line, from 1 (the header). */
  line: number | null
  /** The feature's index in `features`, from 0 as the server counts. */
  feature: number | null
  /** The column or property at fault (`lon`, `unit_grid`, `code`), `geometry`, or null. */
  column: string | null
  /** The server's `field` as it was. */
  field: string | null
  message: string
}

const LINE = /^line (\d+)(?::\s*(.+))?$/
const FEATURE = /^features\[(\d+)\](?:\.(.+))?$/

/** A feature's part at fault as named: `properties.code` is `code`, `geometry.coordinates` is `geometry`. */
function partOf(path: string): string {
  if (path.startsWith('properties.')) return path.slice('properties.'.length)
  if (path === 'geometry' || path.startsWith('geometry.') || path === 'coordinates') return 'geometry'
  return path
}

/** The part a boundary refusal's message starts with: `properties.code '...' is not...`, `geometry overlaps...`, `coordinates are not closed rings...`. */
function partInMessage(message: string): string | null {
  const m = /^(properties\.[A-Za-z_]+|geometry|coordinates)\b/.exec(message.trim())
  return m ? partOf(m[1]) : null
}

export function problemOf(field: string | null | undefined, message: string): ImportProblem {
  const problem: ImportProblem = { line: null, feature: null, column: null, field: field ?? null, message }
  const text = (field ?? '').trim()
  let m = LINE.exec(text)
  if (m) {
    problem.line = Number(m[1])
    problem.column = m[2]?.trim() || null
    return problem
  }
  m = FEATURE.exec(text)
  if (m) {
    problem.feature = Number(m[1])
    problem.column = m[2] ? partOf(m[2]) : partInMessage(message)
    return problem
  }
  return problem
}

/** How a problem's place is said: which words (`admin.imports.where.<key>`) with which values, for the place and for the part. */
export interface ProblemPlace {
  where: { key: 'line' | 'header' | 'feature' | 'file' | 'field'; values: Record<string, string | number> }
  part: { key: 'column' | 'property' | 'geometry'; values: Record<string, string> } | null
}

export function placeOf(problem: ImportProblem): ProblemPlace {
  const column = problem.column
  if (problem.line !== null) {
    return {
      where: problem.line === 1 && !column ? { key: 'header', values: {} } : { key: 'line', values: { line: problem.line } },
      part: column ? { key: 'column', values: { column } } : null,
    }
  }
  if (problem.feature !== null) {
    return {
      // people count features from 1; the server's index is shown beside, as the file's tools name it
      where: { key: 'feature', values: { n: problem.feature + 1, index: problem.feature } },
      part: !column ? null : column === 'geometry' ? { key: 'geometry', values: {} } : { key: 'property', values: { column } },
    }
  }
  if (!problem.field || problem.field === 'file') return { where: { key: 'file', values: {} }, part: null }
  return { where: { key: 'field', values: { field: problem.field } }, part: null }
}

/** The reasons a refused import gives (the server names the first bad row; the list holds it). */
export function problemsOf(error: ApiError): ImportProblem[] {
  return [problemOf(error.field, error.message)]
}

/** Whether a failure is the file's own (422: fix the file and send it again), as opposed to access or the connection. */
export function isFileRefusal(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 422
}

// ---- what an import answered

/** The counts of an answer, `imported` first, then any other the server adds, in its order. */
export function countsOf(answer: Record<string, unknown> | null | undefined): [string, number][] {
  if (!answer) return []
  const counts = Object.entries(answer).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
  return counts.sort(([a], [b]) => Number(b === 'imported') - Number(a === 'imported'))
}

// ---- the upload

/** Whole percent sent, or null when the total is unknown (an indeterminate bar). */
export function percentOf(progress: UploadProgress | null): number | null {
  if (!progress || !progress.total || progress.total <= 0) return null
  return Math.max(0, Math.min(100, Math.floor((progress.loaded / progress.total) * 100)))
}

/** A file's size for people: bytes, KB, MB (powers of 1024, one decimal above KB). */
export function sizeText(bytes: number, locale = 'zh-CN'): string {
  const n = (v: number, digits: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v)
  if (bytes < 1024) return `${n(bytes, 0)} B`
  if (bytes < 1024 * 1024) return `${n(bytes / 1024, 0)} KB`
  return `${n(bytes / (1024 * 1024), 1)} MB`
}

/** Where an import stands: choosing, reading the file (boundaries), asking, sending, the server checking, done, refused. */
export type ImportPhase = 'idle' | 'reading' | 'confirming' | 'uploading' | 'checking' | 'done' | 'refused'

/** Whether a phase is under way (nothing else may start meanwhile). */
export function isBusy(phase: ImportPhase): boolean {
  return phase === 'reading' || phase === 'confirming' || phase === 'uploading' || phase === 'checking'
}

// ---- the relocation after a boundary import

/** How often the job is asked about while it runs. */
export const RELOCATION_POLL_MS = 1000

/**
 * The path under `/api/v1` of a relocation job the import's `relocation.href` names (it
 * carries `/api/v1`), or null for an address that is not one of this server's jobs.
 */
export function relocationPath(href: string | null | undefined): string | null {
  if (!href) return null
  let path: string
  try {
    const base = typeof location !== 'undefined' ? location.origin : 'http://localhost'
    const url = new URL(href, base)
    if (url.origin !== base) return null
    path = url.pathname
  } catch {
    return null
  }
  const prefix = `${API_BASE}/geo/relocations/`
  if (!path.startsWith(prefix) || path.length === prefix.length || path.slice(prefix.length).includes('/')) return null
  return path.slice(API_BASE.length)
}

/** What is re-located, in the order shown. */
export const RELOCATED = ['cases', 'devices', 'components'] as const
export type Relocated = (typeof RELOCATED)[number]

export interface RelocationSummary {
  state: RelocationState
  finished: boolean
  counts: Record<Relocated, { checked: number; moved: number }>
  checked: number
  moved: number
  /** Open cases now lying in another district, left in place for a person to decide (the server lists the first 100). */
  leftInPlace: string[]
  error: string | null
  /** Seconds from start to finish, once finished. */
  seconds: number | null
}

export function summariseRelocation(job: RelocationJob): RelocationSummary {
  const counts = Object.fromEntries(
    RELOCATED.map((k) => [k, { checked: job[k]?.checked ?? 0, moved: job[k]?.moved ?? 0 }]),
  ) as RelocationSummary['counts']
  const finishedAt = job.finished_at ? Date.parse(job.finished_at) : NaN
  const startedAt = Date.parse(job.started_at)
  return {
    state: job.state,
    finished: job.state !== 'running',
    counts,
    checked: RELOCATED.reduce((sum, k) => sum + counts[k].checked, 0),
    moved: RELOCATED.reduce((sum, k) => sum + counts[k].moved, 0),
    leftInPlace: job.cases_in_another_district ?? [],
    error: job.error ?? null,
    seconds: Number.isFinite(finishedAt) && Number.isFinite(startedAt) ? Math.max(0, Math.round((finishedAt - startedAt) / 100) / 10) : null,
  }
}
