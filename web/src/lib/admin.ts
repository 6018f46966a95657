/**
 * The administration page's rules: who sees it, its sections, the password rules, the account
 * and API key forms' bodies, and an account's or a key's standing.
 */
import type { Account, ApiKey, ApiKeyPermission, DutyHolder, NewApiKey, NewUser, Role, RunningNode, StaffRole, UserChange } from '../api/types'
import { isAreaCode } from './areaCode'
import { API_KEY_PERMISSIONS } from './vocabulary'

/**
 * Only admins manage accounts, API keys, the category catalogue, the responsibility matrix, the hotline's
 * knowledge base, devices and rules, assign responsibility grids to inspectors, import the census and boundaries, and read the
 * configuration and the cluster's nodes: the API answers 403 to everyone else (other staff read the matrix and the grids, but do not change them).
 */
export function mayAdminister(role: Role | null | undefined): boolean {
  return role === 'admin'
}

/**
 * The sections of `/admin/:section`, in the menu's order; the first is shown at `/admin`. A new
 * section is a name here, its words in the locales (`admin.sections`) and its component in the page.
 */
export const ADMIN_SECTIONS = ['users', 'api-keys', 'categories', 'matrix', 'grids', 'knowledge', 'devices', 'imports', 'settings', 'nodes'] as const
export type AdminSection = (typeof ADMIN_SECTIONS)[number]

/** The section an address names: the first for none, null for one that does not exist. */
export function sectionOf(param: unknown): AdminSection | null {
  const name = Array.isArray(param) ? param[0] : param
  if (name === undefined || name === null || name === '') return ADMIN_SECTIONS[0]
  return (ADMIN_SECTIONS as readonly string[]).includes(String(name)) ? (name as AdminSection) : null
}

// ---- passwords

/** The rules a new password meets (the server's `check_password`), each one the form shows as met or not. */
export const PASSWORD_RULES = ['length', 'kinds', 'username'] as const
export type PasswordRule = (typeof PASSWORD_RULES)[number]

/**
 * Which of the server's rules `password` meets for `username`: 8 to 128 characters; at least two
 * kinds among letters, ASCII digits and others (neither letters nor digits of any script);
 * not containing the username, ignoring case, when it has 3 characters or more. The server
 * also refuses the most common passwords, a list it alone keeps: its message then says so.
 */
export function passwordRules(username: string, password: string): Record<PasswordRule, boolean> {
  const length = [...password].length
  const name = username.trim().toLowerCase()
  const kinds = [/\p{Alphabetic}/u.test(password), /[0-9]/.test(password), /[^\p{Alphabetic}\p{N}]/u.test(password)]
  return {
    length: length >= 8 && length <= 128,
    kinds: kinds.filter(Boolean).length >= 2,
    username: [...name].length < 3 || !password.toLowerCase().includes(name),
  }
}

/** The first rule `password` breaks, or null when it meets them all. */
export function passwordProblem(username: string, password: string): PasswordRule | null {
  const met = passwordRules(username, password)
  return PASSWORD_RULES.find((rule) => !met[rule]) ?? null
}

// ---- accounts

/** Why a field cannot be sent as typed. */
export type FormProblem = 'required' | 'name' | 'long' | 'area' | 'unit' | PasswordRule | 'days' | 'permissions'

/** Usernames and API key names: 1 to 64 letters, digits, `-`, `_` or `.`. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/

/** The account form as typed: strings, empty when not given. */
export interface AccountForm {
  username: string
  display_name: string
  role: StaffRole | ''
  scope: string
  unit: string
  password: string
}

export type AccountField = keyof AccountForm
export type Problems<F extends string> = Partial<Record<F, FormProblem>>

export function emptyAccountForm(): AccountForm {
  return { username: '', display_name: '', role: '', scope: '', unit: '', password: '' }
}

/** The edit form of an account: its values, no password (that is reset on its own). */
export function accountFormOf(account: Account): AccountForm {
  return {
    username: account.username,
    display_name: account.display_name,
    role: account.role as StaffRole,
    scope: account.scope,
    unit: account.unit ?? '',
    password: '',
  }
}

function checkDisplayName(name: string, problems: Problems<AccountField>) {
  if (!name) problems.display_name = 'required'
  else if ([...name].length > 100) problems.display_name = 'long'
}

function reachProblems(role: string, scope: string, unit: string): Problems<'role' | 'scope' | 'unit'> {
  const problems: Problems<'role' | 'scope' | 'unit'> = {}
  if (!role) problems.role = 'required'
  if (!scope) problems.scope = 'required'
  else if (!isAreaCode(scope)) problems.scope = 'area'
  // the server's rule: a unit handler (and a unit handler's key) acts for their unit
  if (role === 'unit_handler' && !unit) problems.unit = 'unit'
  return problems
}

/** `POST /users` from the form, or the fields to fix first. */
export function newUserBody(form: AccountForm): { body: NewUser | null; problems: Problems<AccountField> } {
  const problems: Problems<AccountField> = {}
  const username = form.username.trim()
  const display_name = form.display_name.trim()
  const scope = form.scope.trim()
  const unit = form.unit.trim()
  if (!username) problems.username = 'required'
  else if (!NAME.test(username)) problems.username = 'name'
  checkDisplayName(display_name, problems)
  Object.assign(problems, reachProblems(form.role, scope, unit))
  if (!form.password) problems.password = 'required'
  else {
    const broken = passwordProblem(username, form.password)
    if (broken) problems.password = broken
  }
  if (Object.keys(problems).length) return { body: null, problems }
  const body: NewUser = { username, display_name, role: form.role as StaffRole, scope, password: form.password }
  if (unit) body.unit = unit
  return { body, problems }
}

/**
 * `PUT /users/{username}` from the edit form: only what changed, `unit: null` for a unit
 * removed. `self` (the signed-in admin's own account) sends the display name alone: the server
 * refuses a change of one's own role, scope or unit, and the form does not offer it.
 */
export function userChange(form: AccountForm, original: Account, self = false): { body: UserChange | null; problems: Problems<AccountField> } {
  const problems: Problems<AccountField> = {}
  const display_name = form.display_name.trim()
  const scope = form.scope.trim()
  const unit = form.unit.trim()
  checkDisplayName(display_name, problems)
  if (!self) Object.assign(problems, reachProblems(form.role, scope, unit))
  if (Object.keys(problems).length) return { body: null, problems }
  const body: UserChange = {}
  if (display_name !== original.display_name) body.display_name = display_name
  if (!self) {
    if (form.role !== original.role) body.role = form.role as StaffRole
    if (scope !== original.scope) body.scope = scope
    if (unit !== (original.unit ?? '')) body.unit = unit || null
  }
  return { body, problems }
}

/** Whether a change ends the account's sessions (the server does so for role, scope and unit). */
export function endsSessions(change: UserChange): boolean {
  return change.role !== undefined || change.scope !== undefined || change.unit !== undefined
}

/** `GET /users` filters, empty ones left out. */
export function userQuery(f: { role: StaffRole | ''; q: string }): { role?: StaffRole; q?: string } {
  const query: { role?: StaffRole; q?: string } = {}
  if (f.role) query.role = f.role
  const q = f.q.trim()
  if (q) query.q = q
  return query
}

/** Whether sign-in refuses the account now for too many failed attempts. */
export function isLocked(account: Pick<Account, 'locked_until'>, now: Date = new Date()): boolean {
  if (!account.locked_until) return false
  const until = Date.parse(account.locked_until)
  return Number.isFinite(until) && until > now.getTime()
}

/**
 * What an admin may do to an account from the list. Their own is changed by name only: the
 * server refuses to disable, enable, demote, move, reset or strip the second factor of one's
 * own account (409), so none of that is offered.
 */
export function accountActions(account: Account, me: string | null | undefined) {
  const self = !!me && account.username === me
  return {
    self,
    edit: true,
    resetPassword: !self,
    disable: !self && !account.disabled,
    enable: !self && account.disabled,
    removeSecondFactor: !self && account.second_factor !== 'none',
  }
}

// ---- API keys

/** The API key form as typed. */
export interface ApiKeyForm {
  name: string
  role: StaffRole | ''
  scope: string
  unit: string
  permissions: ApiKeyPermission[]
  /** Days until it expires, empty for never. */
  expires: string
}

export type ApiKeyField = keyof ApiKeyForm

/** A new key reads only, unless more is chosen. */
export function emptyApiKeyForm(): ApiKeyForm {
  return { name: '', role: '', scope: '', unit: '', permissions: ['read'], expires: '' }
}

/** `POST /api-keys` from the form, or the fields to fix first. */
export function apiKeyBody(form: ApiKeyForm): { body: NewApiKey | null; problems: Problems<ApiKeyField> } {
  const problems: Problems<ApiKeyField> = {}
  const name = form.name.trim()
  const scope = form.scope.trim()
  const unit = form.unit.trim()
  const expires = form.expires.trim()
  if (!name) problems.name = 'required'
  else if (!NAME.test(name)) problems.name = 'name'
  Object.assign(problems, reachProblems(form.role, scope, unit))
  if (!form.permissions.length) problems.permissions = 'permissions'
  let days: number | null = null
  if (expires) {
    days = /^\d+$/.test(expires) ? Number(expires) : NaN
    if (!Number.isInteger(days) || days < 1 || days > 3650) problems.expires = 'days'
  }
  if (Object.keys(problems).length) return { body: null, problems }
  const body: NewApiKey = {
    name, role: form.role as StaffRole, scope,
    // in the order the server lists them, each once
    permissions: API_KEY_PERMISSIONS.filter((p) => form.permissions.includes(p)),
  }
  if (unit) body.unit = unit
  if (days !== null) body.expires_in_days = days
  return { body, problems }
}

export type KeyStatus = 'active' | 'expired' | 'revoked'

/** Whether a key works now: revoked for good, expired, or active. */
export function keyStatus(key: Pick<ApiKey, 'revoked_at' | 'expires_at'>, now: Date = new Date()): KeyStatus {
  if (key.revoked_at) return 'revoked'
  if (key.expires_at && Date.parse(key.expires_at) <= now.getTime()) return 'expired'
  return 'active'
}

/** Keys that still work first, then the newest first. */
export function sortKeys(keys: readonly ApiKey[], now: Date = new Date()): ApiKey[] {
  const rank = (k: ApiKey) => (keyStatus(k, now) === 'active' ? 0 : 1)
  return [...keys].sort((a, b) => rank(a) - rank(b) || b.created_at.localeCompare(a.created_at) || a.name.localeCompare(b.name))
}

/**
 * The form field a server refusal names, or null for one the form does not have (shown at the
 * top of the dialog then): `permissions[2]` is the permissions, and `aliases` maps the body's
 * names to the form's (`expires_in_days` to `expires`).
 */
export function fieldOf<F extends string>(field: string | null | undefined, fields: readonly F[], aliases: Partial<Record<string, F>> = {}): F | null {
  if (!field) return null
  const name = field.replace(/\[\d+\]$/, '')
  const mapped = aliases[name] ?? name
  return (fields as readonly string[]).includes(mapped) ? (mapped as F) : null
}

// ---- nodes and their duties

/**
 * The background jobs ("duties") one node of several sharing the database runs at a time, each
 * by a lease, in the order `GET /nodes` lists them (the server's `Duty::ALL`). The document names
 * a duty as any string: one the UI does not know is shown by its name.
 */
export const DUTIES = ['overdue-watch', 'retention', 'audit-checkpoints', 'outbox-pruning', 'readings-pruning', 'outbox-relay'] as const
export type DutyName = (typeof DUTIES)[number]

/** The duty that runs only with NATS configured: without a holder it is not used, not missing. */
export const NATS_DUTY: DutyName = 'outbox-relay'

/**
 * How a duty stands: held by a node; held by nobody (a node is taking it over: a warning); or
 * not used on this deployment (the NATS relay without NATS).
 */
export type DutyStanding = 'held' | 'nobody' | 'unused'

export function dutyStanding(d: Pick<DutyHolder, 'duty' | 'holder'>): DutyStanding {
  if (d.holder) return 'held'
  return d.duty === NATS_DUTY ? 'unused' : 'nobody'
}

/** Whether the UI has words for a duty (a newer server may name one it does not know yet: shown as is). */
export function isKnownDuty(duty: string): duty is DutyName {
  return (DUTIES as readonly string[]).includes(duty)
}

/** How often a holder renews its leases: every third of the lease time, in whole seconds (at least 1). */
export function renewEvery(leaseSecs: number): number {
  return Math.max(1, Math.floor(leaseSecs / 3))
}

/** How often the nodes section asks again while shown. */
export const NODES_REFRESH_MS = 5_000

/**
 * What a running node says of itself with its presence: the release it runs and when it started.
 * Both null for a node of an earlier release (which does not say), and optional here until the
 * generated API types have them.
 */
export type NodeSelf = Pick<RunningNode, 'node'> & { version?: string | null; started_at?: string | null }

/** The release a node runs, or null when it does not say (a node of an earlier release). */
export function nodeVersion(n: NodeSelf): string | null {
  return n.version || null
}

/** When a node started (RFC 3339), or null when it does not say (or says something that is no time). */
export function nodeStartedAt(n: NodeSelf): string | null {
  const at = n.started_at
  return at && !Number.isNaN(Date.parse(at)) ? at : null
}

/**
 * Whether the live nodes do not all run the same release: a rolling upgrade is under way (or
 * stuck). A node that does not say its release runs an earlier one than any that does, so it
 * differs from them; nodes none of which say are not told apart.
 */
export function mixedVersions(nodes: readonly NodeSelf[]): boolean {
  return new Set(nodes.map(nodeVersion)).size > 1
}

/** How long a node has been running at `now`, in hours (0 for a start after `now`: clocks differ), or null for no or an unreadable start. */
export function uptimeHours(startedAt: string | null | undefined, now: Date = new Date()): number | null {
  if (!startedAt) return null
  const at = Date.parse(startedAt)
  if (Number.isNaN(at)) return null
  return Math.max(0, now.getTime() - at) / 3_600_000
}
