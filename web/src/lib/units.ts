/** The units page's rules: who sees contacts, the text filter, the form's body, successors, file names. */
import type { Role, Unit, UnitBody, UnitKind, UnitOrganization, UnitStatus } from '../api/types'
import { contains } from './areaCode'
import { shanghaiDay } from './hotline'

/** The roles `GET /units/{code}/contacts` answers (each read is on the audit log); others get 403. */
export const CONTACT_ROLES: readonly Role[] = ['admin', 'dispatcher', 'shift_lead', 'operator', 'center_leader']

export function mayRevealContacts(role: Role | null | undefined): boolean {
  return !!role && CONTACT_ROLES.includes(role)
}

/** Only admins create, edit, retire, reinstate and import units. */
export function mayEditUnits(role: Role | null | undefined): boolean {
  return role === 'admin'
}

/** Whether a unit's name or code contains `text` (trimmed, case-insensitive); an empty text matches all. */
export function matchesText(unit: Pick<Unit, 'code' | 'name'>, text: string): boolean {
  const q = text.trim().toLowerCase()
  if (!q) return true
  return unit.code.toLowerCase().includes(q) || unit.name.toLowerCase().includes(q)
}

/** The filters of the list as `GET /units` takes them: empty ones left out, `active` being the default status. */
export interface UnitFilters {
  organization: UnitOrganization | ''
  kind: UnitKind | ''
  district: string
  street: string
  status: UnitStatus
}

export function unitQuery(f: UnitFilters): { organization?: UnitOrganization; kind?: UnitKind; within?: string; status?: UnitStatus } {
  const q: { organization?: UnitOrganization; kind?: UnitKind; within?: string; status?: UnitStatus } = {}
  if (f.organization) q.organization = f.organization
  if (f.kind) q.kind = f.kind
  const within = f.street || f.district
  if (within) q.within = within
  if (f.status !== 'active') q.status = f.status
  return q
}

/**
 * What a contact field of the edit form asks the server to do with the stored value. The field
 * starts with the masked value (`139****1111`): left as it is, it keeps the stored one; emptied,
 * it removes it; a new value replaces it. A masked value edited only in part (still with `*`)
 * is neither, as the server cannot know the hidden digits: `partial`.
 */
export type ContactEdit = { kind: 'keep' } | { kind: 'remove' } | { kind: 'set'; value: string } | { kind: 'partial' }

export function contactEdit(shown: string | null | undefined, typed: string): ContactEdit {
  const now = typed.trim()
  const before = (shown ?? '').trim()
  if (now === before) return { kind: 'keep' }
  if (!now) return { kind: 'remove' }
  if (now.includes('*')) return { kind: 'partial' }
  return { kind: 'set', value: now }
}

export const CONTACT_FIELDS = ['duty_phone', 'contact_name', 'contact_phone'] as const
export type ContactField = (typeof CONTACT_FIELDS)[number]

/** The unit form as typed: strings, empty when not given. */
export interface UnitForm {
  code: string
  name: string
  organization: UnitOrganization | ''
  kind: UnitKind | ''
  jurisdiction: string
  parent: string
  duty_phone: string
  contact_name: string
  contact_phone: string
}

export function emptyForm(): UnitForm {
  return { code: '', name: '', organization: '', kind: '', jurisdiction: '', parent: '', duty_phone: '', contact_name: '', contact_phone: '' }
}

/** The edit form of a unit: its values, contacts as the server shows them (masked). */
export function formOf(unit: Unit): UnitForm {
  return {
    code: unit.code,
    name: unit.name,
    organization: unit.organization,
    kind: unit.kind,
    jurisdiction: unit.jurisdiction,
    parent: unit.parent ?? '',
    duty_phone: unit.duty_phone ?? '',
    contact_name: unit.contact_name ?? '',
    contact_phone: unit.contact_phone ?? '',
  }
}


/** Why a field cannot be sent as typed: `required`, `code` (not a unit code), `area` (not an area code), `masked` (a masked contact edited in part). */
export type FormProblem = 'required' | 'code' | 'area' | 'masked' | 'long'

const UNIT_CODE = /^[A-Za-z0-9._-]{1,64}$/
const AREA = /^(?:\d{6}|\d{9}|\d{12})$/

/** What the form would send (`POST /units` for a new unit, `PUT /units/{code}` with `original`), or the fields to fix first. */
export function unitBody(form: UnitForm, original?: Unit): { body: UnitBody | null; problems: Partial<Record<keyof UnitForm, FormProblem>> } {
  const problems: Partial<Record<keyof UnitForm, FormProblem>> = {}
  const code = form.code.trim()
  const name = form.name.trim()
  const jurisdiction = form.jurisdiction.trim()
  if (!original) {
    if (!code) problems.code = 'required'
    else if (!UNIT_CODE.test(code)) problems.code = 'code'
  }
  if (!name) problems.name = 'required'
  else if ([...name].length > 100) problems.name = 'long'
  if (!form.organization) problems.organization = 'required'
  if (!jurisdiction) problems.jurisdiction = 'required'
  else if (!AREA.test(jurisdiction)) problems.jurisdiction = 'area'

  const body: UnitBody = { name, organization: form.organization as UnitOrganization, jurisdiction }
  if (!original) body.code = code
  if (form.kind) body.kind = form.kind
  if (form.parent.trim()) body.parent = form.parent.trim()
  for (const field of CONTACT_FIELDS) {
    const typed = form[field]
    if (!original) {
      if (typed.trim()) body[field] = typed.trim()
      continue
    }
    const edit = contactEdit(original[field], typed)
    if (edit.kind === 'remove') body[field] = ''
    else if (edit.kind === 'set') body[field] = edit.value
    else if (edit.kind === 'partial') problems[field] = 'masked'
  }
  return { body: Object.keys(problems).length ? null : body, problems }
}

/** A retirement's reason as the server takes it: 1 to 500 characters. */
export function reasonOk(reason: string): boolean {
  const n = [...reason.trim()].length
  return n >= 1 && n <= 500
}

/**
 * The units that may take over a retiring unit's open cases: the other active ones whose
 * jurisdiction covers its own (the server refuses others), those of its district and line of
 * work first, then its district, then the rest, each by code.
 */
export function successorCandidates(
  units: readonly Unit[], retiring: Pick<Unit, 'code' | 'kind' | 'district' | 'jurisdiction'>,
): Unit[] {
  const rank = (u: Unit) => {
    const sameDistrict = !!retiring.district && u.district === retiring.district
    if (sameDistrict && u.kind === retiring.kind) return 0
    if (sameDistrict) return 1
    if (u.kind === retiring.kind) return 2
    return 3
  }
  return units
    .filter((u) => u.active && u.code !== retiring.code && contains(u.jurisdiction, retiring.jurisdiction))
    .sort((a, b) => rank(a) - rank(b) || a.code.localeCompare(b.code))
}

/** `units-2026-05-20.csv`: the day (Shanghai) the list was exported. */
export function unitsFileName(now: Date): string {
  return `units-${shanghaiDay(now)}.csv`
}
