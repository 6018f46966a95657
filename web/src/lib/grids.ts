/**
 * Responsibility grids (责任网格) and their inspectors (网格监督员): the wire shapes, the list's
 * filters, which inspectors may take a grid, the body that assigns one, what a refusal means, and
 * a case's grid inspector.
 */
import type { Account, CaseView } from '../api/types'
import { ApiError } from '../api/client'
import { areaLevel, contains, isAreaCode } from './areaCode'

// ---- wire shapes
// The server publishes these as `ResponsibilityGridView`, `InspectorView`, `AssignRequest` and
// `GridInspectorView`; they are declared here until ../api/schema.d.ts is generated with them, so
// the UI compiles against either. They then become `Schemas[...]` names in ../api/types.ts.

/** The account an inspector signs in with. */
export interface InspectorView {
  user_id: string
  username: string
}

/** `GET /responsibility-grids`: a grid, the street it lies in, how many unit grids make it, its inspector. */
export interface ResponsibilityGridView {
  /** `R` + the street's 9 digits + the grid's number. */
  code: string
  street: string
  unit_grids: number
  inspector?: InspectorView | null
}

/** `PUT /responsibility-grids/{code}`: an inspector's username, or null to take the grid away. */
export interface AssignRequest {
  inspector: string | null
}

/** `CaseView.grid_inspector`: the inspector of the grid the case was reported in, and the grid. */
export interface GridInspectorView {
  user_id: string
  username: string
  grid: string
}

// ---- codes

const GRID_CODE = /^R(\d{9})\d{1,6}$/

export function isResponsibilityGrid(code: string | null | undefined): code is string {
  return typeof code === 'string' && GRID_CODE.test(code)
}

/** The 9-digit street a grid lies in, or null for what is no grid code. */
export function gridStreet(code: string | null | undefined): string | null {
  return (typeof code === 'string' && GRID_CODE.exec(code)?.[1]) || null
}

// ---- the list

export interface GridFilters {
  /** An area code as typed: empty for the caller's whole jurisdiction. */
  area: string
  unassigned: boolean
}

/**
 * `GET /responsibility-grids` from the filters, or why the area cannot be sent: the server takes a
 * district or a street (a city is sent as nothing, which is the jurisdiction anyway; a community
 * is narrower than any grid's street, whose grids cross communities).
 */
export function gridQuery(filters: GridFilters): { query: Record<string, string> | null; problem: 'area' | null } {
  const area = filters.area.trim()
  const query: Record<string, string> = {}
  if (area) {
    const level = areaLevel(area)
    if (level === 'district' || level === 'street') query.area = area
    else if (level !== 'city') return { query: null, problem: 'area' }
  }
  if (filters.unassigned) query.unassigned = 'true'
  return { query, problem: null }
}

/** The filters kept in the address, from its query (anything unusable dropped). */
export function gridFiltersOf(query: Record<string, unknown>): GridFilters {
  const area = typeof query.area === 'string' && isAreaCode(query.area) ? query.area : ''
  return { area, unassigned: query.unassigned === 'true' }
}

/** The address's query for the filters: only what narrows the list. */
export function gridFiltersQuery(filters: GridFilters): Record<string, string> {
  const out: Record<string, string> = {}
  if (filters.area.trim()) out.area = filters.area.trim()
  if (filters.unassigned) out.unassigned = 'true'
  return out
}

// ---- inspectors

/**
 * The select's value for "no inspector". Not the empty string, which Element Plus shows as no
 * choice at all; usernames are letters, digits, `.`, `_` and `-`, so this is never one.
 */
export const NO_INSPECTOR = '(none)'

/** The select's value for a grid as it stands. */
export function choiceOf(grid: ResponsibilityGridView): string {
  return grid.inspector?.username ?? NO_INSPECTOR
}

/** The body that gives the grid to the choice (or takes it away). */
export function assignBody(choice: string): AssignRequest {
  const username = choice.trim()
  return { inspector: !username || username === NO_INSPECTOR ? null : username }
}

/**
 * The accounts the server would accept for grids of these streets: active inspectors whose
 * jurisdiction holds every one of them (several streets: a bulk assignment), by username.
 */
export function inspectorsFor(accounts: readonly Account[], streets: readonly string[]): Account[] {
  return accounts
    .filter((a) => a.role === 'inspector' && !a.disabled && streets.every((s) => contains(a.scope, s)))
    .sort((a, b) => a.username.localeCompare(b.username))
}

/**
 * Why the server refused an assignment, as the admin is told it. `inconsistent_fields` covers two
 * causes; the accounts the admin can list tell them apart when the username is among them.
 */
export type GridRefusal = 'unknown' | 'not_inspector' | 'outside' | 'mismatch' | 'forbidden' | 'gone' | 'failed'

export function refusalOf(error: unknown, username: string | null, street: string, accounts: readonly Account[]): GridRefusal {
  if (!(error instanceof ApiError)) return 'failed'
  if (error.status === 403) return 'forbidden'
  if (error.status === 404) return 'gone'
  if (error.code === 'unknown_reference') return 'unknown'
  if (error.code === 'inconsistent_fields') {
    const account = accounts.find((a) => a.username === username)
    if (account && account.role !== 'inspector') return 'not_inspector'
    if (account && !contains(account.scope, street)) return 'outside'
    return 'mismatch'
  }
  return 'failed'
}

// ---- cases

/**
 * The inspector of the grid a case was reported in, if the grid had one. Read through a wider
 * type: the generated `CaseView` has no `grid_inspector` until the schema is regenerated.
 */
export function gridInspectorOf(c: CaseView | null | undefined): GridInspectorView | null {
  const held = (c as (CaseView & { grid_inspector?: GridInspectorView | null }) | null | undefined)?.grid_inspector
  return held && held.username ? held : null
}
