import { API_BASE, request, upload, type UploadOptions } from './client'
import type { operations } from './schema'
import type { AuditCheckpoint, AuditEntry, AuditQuery } from '../lib/audit'
import type { ImportRequest } from '../lib/imports'
import type { AssignRequest, ResponsibilityGridView } from '../lib/grids'
import type { CounterName } from '../lib/evaluation'
import type {
  Account, ApiKey, NewApiKey, NewUser, StaffRole, UserChange,
  Device, DeviceImport, DeviceRequest, NodesReport, Reading, RuleTestBody, RuleTestView, Setting, TelemetryRule,
  AlarmView, CalendarImport, CalendarYear, Area, AreaDetail, AreaLevel, AreaShape, Attachment, BlurRect, CasePage, CaseRouting, RoutingPreview, RoutingPreviewBody, RoutingRule, CaseView, Categories, CategoryChange, CommandName, ContactPurpose,
  ContactView, GeoCollection,
  GeometryLevel, Indicator, Located, LoginResponse, PublicAttachmentReceipt, PublicCandidates, PublicCase, PublicDuplicateQuery, PublicReportResult, ReportChallenge, ReportRequest, Resolution, Rollup, Stats,
  RetireBody, SmallClass, TicketImport, TicketResult, TimelineEntry, TotpEnrolment, Unit, UnitBody, UnitContactPurpose, UnitContactsView, UnitImport, UnitKind, UnitOrganization,
  UnitRetirement, UnitStatus, User, VerifyReport, PersonalDataExport, Erasure, VitalSignsView,
  EvaluationLevel, EvaluationView, Role,
  Article, ArticleBody, Enquiry, EnquiryBody,
  BoundaryImport, Component, ComponentImport, ComponentPage, RelocationJob, ExtraField, FieldValues, ClassSuggestion, DuplicateCandidate,
  Patrol, PatrolListQuery, PatrolPosition, PatrolTrack, PositionsAccepted,
  CapImport, IncidentCommand, IncidentEvent, IncidentRequest, IncidentView, LinkView, PlanView, TaskPhoto, WarningRequest, WarningUpdateRequest, WarningView,
} from './types'

export * from './client'
export type * from './types'

/** `GET /units` filters: line of work, organization, the area the jurisdiction lies within, status (default active). */
export type UnitListQuery = { kind?: UnitKind; organization?: UnitOrganization; within?: string; status?: UnitStatus }

/**
 * `GET /duplicate-candidates`: the report's text (1 to 2000 characters) and where it is, a point
 * (`lon` and `lat` together, WGS-84) or, without one, its street or community (`area`); the class
 * given (`category`, 5 digits) and how many at most (`limit`, 1 to 10, the server's default 5).
 */
export type DuplicateQuery = operations['duplicate_candidates']['parameters']['query']

/** How an import's upload reports on itself (`upload` in ./client). */
export type UploadWatch = Pick<UploadOptions, 'onProgress' | 'onSent' | 'signal'>

export const api = {
  // ---- the audit log (city-level auditors and admins)
  /** Entries oldest first; `next_after` is the `after` of the next page, absent on the last. */
  audit: (q: AuditQuery) => request<{ items: AuditEntry[]; next_after?: number | null }>('/audit', { query: q }),
  /** Checks the whole hash chain and the signed checkpoints now. */
  auditVerify: () => request<VerifyReport>('/audit/verify'),
  // ---- a citizen's request about their personal data (data stewards)
  // `ref`: the citizen's request being answered (a letter, ticket or form number), on the audit log.
  personalData: (phone: string, ref?: string) =>
    request<PersonalDataExport>('/personal-data', { query: { phone, ...(ref ? { request: ref } : {}) } }),
  erasePersonalData: (phone: string, ref?: string) =>
    request<Erasure>('/personal-data', { method: 'DELETE', query: { phone, ...(ref ? { request: ref } : {}) } }),
  auditCheckpoints: () => request<AuditCheckpoint[]>('/audit/checkpoints'),
  // ---- the evaluation (evaluators and center leaders)
  evaluation: (level: EvaluationLevel, from: string, to: string) =>
    request<EvaluationView>('/evaluation', { query: { level, from, to } }),
  /** The same ranking as a spreadsheet: CSV (with a BOM) or XLSX with a chart sheet. */
  evaluationFile: (level: EvaluationLevel, from: string, to: string, format: 'csv' | 'xlsx') =>
    request<Blob>('/evaluation', { query: { level, from, to, format }, as: 'blob' }),
  /** The cases behind a number: those counted in `counter` (and, with `except`, not in that one too). */
  evaluationCases: (q: {
    level: EvaluationLevel; key: string; role?: Role; counter: CounterName; except?: CounterName; from: string; to: string
  }) => request<CaseView[]>('/evaluation/cases', { query: q }),
  /** `session: 'cookie'`: the session becomes an HttpOnly cookie, so no token ever reaches the page's scripts. */
  signIn: (username: string, password: string, otp?: string) =>
    // no `otp` key at all until the server asks for one: an empty code would count as a wrong one
    request<LoginResponse>('/sessions', { body: { username, password, session: 'cookie', otp: otp || undefined }, auth: false }),
  /** Ends the session on the server, which clears both cookies; a 401 here (already over) must not loop back into sign-out. */
  signOut: () => request<void>('/sessions/current', { method: 'DELETE', auth: false }),
  me: () => request<User>('/me'),
  /** The start-up check: its 401 only means "not signed in" here, so it must not trigger the expiry redirect. */
  whoAmI: () => request<User>('/me', { auth: false }),
  // ---- the signed-in user's second factor (TOTP)
  /** A new secret, inactive until confirmed; needs the password again; 409 `totp_enabled` while one is active. */
  enrolTotp: (password: string) => request<TotpEnrolment>('/me/totp', { body: { password } }),
  confirmTotp: (code: string) => request<void>('/me/totp/confirm', { body: { code } }),
  /** Needs the password and a current code, so a session left open somewhere cannot drop the factor on its own. */
  removeTotp: (password: string, code: string) => request<void>('/me/totp', { method: 'DELETE', body: { password, code } }),
  // ---- staff accounts (admins, within their scope; never their own standing)
  /** Accounts by username; `role` and `q` (in the username or display name) narrow the list. */
  users: (q: { role?: StaffRole; q?: string } = {}) => request<Account[]>('/users', { query: q }),
  createUser: (body: NewUser) => request<Account>('/users', { body }),
  /** A change of role, scope or unit ends the account's sessions. */
  updateUser: (username: string, body: UserChange) =>
    request<Account>(`/users/${encodeURIComponent(username)}`, { method: 'PUT', body }),
  /** It cannot sign in, and its sessions end at once. */
  disableUser: (username: string) => request<Account>(`/users/${encodeURIComponent(username)}/disable`, { method: 'POST' }),
  enableUser: (username: string) => request<Account>(`/users/${encodeURIComponent(username)}/enable`, { method: 'POST' }),
  /** Unlocks the account, removes its second factor and ends its sessions (204). */
  resetPassword: (username: string, password: string) =>
    request<void>(`/users/${encodeURIComponent(username)}/password`, { method: 'PUT', body: { password } }),
  /** A lost phone: sign-in asks for the password alone until the user enrols again. */
  resetSecondFactor: (username: string) =>
    request<Account>(`/users/${encodeURIComponent(username)}/second-factor`, { method: 'DELETE' }),
  // ---- API keys (admins)
  /** Every key, revoked ones included; never their secrets. */
  apiKeys: () => request<ApiKey[]>('/api-keys'),
  /** The answer's `key` is the key itself, shown this once. */
  createApiKey: (body: NewApiKey) => request<ApiKey>('/api-keys', { body }),
  revokeApiKey: (id: string) => request<void>(`/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  areas: (q: { parent?: string; level?: AreaLevel }) => request<Area[]>('/areas', { query: q }),
  area: (code: string) => request<AreaDetail>(`/areas/${encodeURIComponent(code)}`),
  /** The areas within the caller's jurisdiction whose names contain `text` (1 to 50 characters): districts first, at most 20. */
  searchAreas: (text: string) => request<Area[]>('/areas', { query: { q: text } }),
  /**
   * The census's components a place search finds (any member of staff, within the jurisdiction):
   * `text` (1 to 50 characters) a 16-digit component id as printed on it, or words the name or
   * location text all hold; at most `limit` (1 to 1000), in id order.
   */
  searchComponents: (text: string, limit = 10) =>
    request<ComponentPage>('/components', { query: { q: text, limit } }).then((p): Component[] => p.items),
  units: (q: UnitListQuery = {}) => request<Unit[]>('/units', { query: q }),
  // ---- units as data: every staff member reads them; only admins write
  /** The same list as a CSV file (UTF-8 with a BOM, contacts masked), the columns `PUT /units` takes back. */
  unitsCsv: (q: UnitListQuery = {}) => request<Blob>('/units', { query: { ...q, format: 'csv' }, as: 'blob' }),
  /** One unit, with the number of its open cases. */
  unit: (code: string) => request<Unit>(`/units/${encodeURIComponent(code)}`),
  createUnit: (body: UnitBody) => request<Unit>('/units', { body }),
  /** Contact fields left out keep the stored value; `""` removes it. */
  updateUnit: (code: string, body: UnitBody) => request<Unit>(`/units/${encodeURIComponent(code)}`, { method: 'PUT', body }),
  /** 409 `unit_has_open_cases` (field `successor`) while it has open cases and no successor is named. */
  retireUnit: (code: string, body: RetireBody) =>
    request<UnitRetirement>(`/units/${encodeURIComponent(code)}/retire`, { body }),
  reinstateUnit: (code: string) => request<Unit>(`/units/${encodeURIComponent(code)}/reinstate`, { method: 'POST' }),
  /** A CSV of units as the export writes them: all or nothing, `invalid_file` naming the line. */
  importUnits: (file: Blob) => request<UnitImport>('/units', { method: 'PUT', raw: { data: file, contentType: 'text/csv' } }),
  /** A unit's contacts in clear, for a stated purpose; every read is on the audit log. */
  unitContacts: (code: string, purpose: UnitContactPurpose) =>
    request<UnitContactsView>(`/units/${encodeURIComponent(code)}/contacts`, { query: { purpose } }),
  categories: () => request<Categories>('/categories'),
  /** One small class, with its extra fields (the case page's form of them). */
  category: (code: string) => request<SmallClass>(`/categories/${encodeURIComponent(code)}`),
  /**
   * An admin's edit of a small class: only the fields and stages sent change. The catalogue's
   * version moves; cases filed before keep the terms they were filed under.
   */
  updateCategory: (code: string, body: CategoryChange) =>
    request<SmallClass>(`/categories/${encodeURIComponent(code)}`, { method: 'PUT', body }),
  /**
   * The small classes a report's text (1 to 2000 characters) most likely belongs to, most likely
   * first, at most `limit` (1 to 10, the server's default 3); empty when the text has no word the
   * model knows. Any member of staff; learned from every filing.
   */
  classSuggestions: (text: string, limit?: number, signal?: AbortSignal) =>
    request<ClassSuggestion[]>('/class-suggestions', { query: { text, limit }, signal }),
  /**
   * The open cases of the caller's jurisdiction likeliest to be the problem a report describes,
   * likeliest first: within 300 m of its point (or in its area's street), reported in the last
   * 14 days, scoring at least the server's threshold; empty when none looks alike. Any member of staff.
   */
  duplicateCandidates: (q: DuplicateQuery, signal?: AbortSignal) =>
    request<DuplicateCandidate[]>('/duplicate-candidates', { query: q, signal }),
  // ---- the census and the boundaries as files (admins): sent whole, with the upload's progress
  /** A census file, CSV or GeoJSON (`censusRequest`): all or nothing, `invalid_file` naming the line or feature and column. */
  importComponents: (req: ImportRequest, file: Blob, watch: UploadWatch = {}) =>
    upload<ComponentImport>(req.path, { method: 'PUT', query: req.query, data: file, contentType: req.contentType, ...watch }),
  /** A level's boundaries (`boundaryRequest`), replacing the whole level; the answer names the relocation job that follows. */
  importBoundaries: (req: ImportRequest, file: Blob, watch: UploadWatch = {}) =>
    upload<BoundaryImport>(req.path, { method: 'PUT', query: req.query, data: file, contentType: req.contentType, ...watch }),
  /** A relocation job by its path under `/api/v1` (`relocationPath` of the import's `relocation.href`). */
  relocation: (path: string) => request<RelocationJob>(path),
  /** A year of the working calendar (any signed-in user). */
  calendar: (year: number) => request<CalendarYear>(`/calendar/${year}`),
  /** An admin's import of a year's schedule, holiday-cn JSON or CSV, as the file is; `replace` replaces a different one. */
  importCalendar: (year: number, file: Blob, contentType: 'application/json' | 'text/csv', replace = false) =>
    request<CalendarImport>(`/calendar/${year}`, {
      method: 'PUT', query: { replace: replace || undefined }, raw: { data: file, contentType },
    }),
  /** 12345 tickets as the hotline system exported them, CSV or JSON (operators, shift leads, admins); all or nothing. */
  importTickets: (file: Blob, contentType: 'application/json' | 'text/csv') =>
    request<TicketImport>('/hotline/tickets', { method: 'PUT', raw: { data: file, contentType } }),
  /** The results of the tickets received from `from` to `to` (days, inclusive). */
  ticketResults: (from: string, to: string) =>
    request<TicketResult[]>('/hotline/tickets/results', { query: { from, to, format: 'json' } }),
  /** The same as a CSV file (with a BOM, for Excel). */
  ticketResultsCsv: (from: string, to: string) =>
    request<Blob>('/hotline/tickets/results', { query: { from, to, format: 'csv' }, as: 'blob' }),
  // ---- the hotline's knowledge base (every member of staff searches it; admins write it) and enquiries
  /** With `q` (1 to 200 characters), the articles sharing words with it, best first (at most `limit`); without, every article by title. */
  articles: (q: { q?: string; limit?: number } = {}, signal?: AbortSignal) => request<Article[]>('/knowledge', { query: q, signal }),
  createArticle: (body: ArticleBody) => request<Article>('/knowledge', { body }),
  /** `body.version` is the version the admin opened: 409 `version_conflict` when someone saved since. */
  updateArticle: (id: string, body: ArticleBody) => request<Article>(`/knowledge/${encodeURIComponent(id)}`, { method: 'PUT', body }),
  /** Enquiries that cited it keep its id. */
  deleteArticle: (id: string) => request<void>(`/knowledge/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  /** An enquiry answered on the call (operators, shift leads): no case is opened, no contact kept; the texts come back masked. */
  /**
   * With an `Idempotency-Key` (1 to 128 visible ASCII), a retry with the same key and body answers
   * the enquiry the first request recorded (201 again); the same key with another body is 422
   * `idempotency_key_reused`.
   */
  recordEnquiry: (body: EnquiryBody, idempotencyKey?: string) =>
    request<Enquiry>('/enquiries', { body, ...(idempotencyKey ? { headers: { 'Idempotency-Key': idempotencyKey } } : {}) }),
  /** The enquiries of a period (Beijing days, default the last seven), newest first. */
  enquiries: (q: { from?: string; to?: string; limit?: number } = {}) => request<Enquiry[]>('/enquiries', { query: q }),
  cases: (query: Record<string, string | number | boolean | undefined>) => request<CasePage>('/cases', { query }),
  case: (id: string) => request<CaseView>(`/cases/${encodeURIComponent(id)}`),
  /**
   * Opens a case (state `reported`), e.g. a call an operator takes down. A retry with the same
   * `Idempotency-Key` and body answers the case the first request opened (201 again), so a lost
   * answer or a double click never opens two; the same key with another body is refused.
   */
  report: (body: ReportRequest, idempotencyKey: string) =>
    request<CaseView>('/cases', { body, headers: { 'Idempotency-Key': idempotencyKey } }),
  /** The responsibility matrix's proposal for the case (dispatch without `unit` uses it). */
  routing: (id: string) => request<CaseRouting>(`/cases/${encodeURIComponent(id)}/routing`),
  // ---- the responsibility matrix: every staff member reads it and asks it; only admins replace it
  routingRules: () => request<RoutingRule[]>('/routing/rules'),
  /** Where the matrix in force downloads as CSV (UTF-8 with a BOM): a link, the session cookie goes with it. */
  routingRulesCsvUrl: () => `${API_BASE}/routing/rules.csv`,
  /** The whole matrix replaced from a CSV text (admins); all or nothing, a bad line refused as `line N: column`. */
  replaceRoutingRules: (csv: string) =>
    request<RoutingRule[]>('/routing/rules', { method: 'PUT', raw: { data: csv, contentType: 'text/csv' } }),
  /** Who gets class X at place Y, from the matrix in force or, with `rules`, from a draft; changes nothing. */
  routingPreview: (body: RoutingPreviewBody) => request<RoutingPreview>('/routing/preview', { body }),
  /** The clear contact and texts, for a stated purpose; every read is on the audit log. */
  contact: (id: string, purpose: ContactPurpose) =>
    request<ContactView>(`/cases/${encodeURIComponent(id)}/contact`, { query: { purpose } }),
  timeline: (id: string) => request<TimelineEntry[]>(`/cases/${encodeURIComponent(id)}/timeline`),
  /**
   * A workflow command on the case, `body.version` the version the caller saw. `merge` takes the
   * master's 19-digit `master` and an `opinion`; `unmerge` a `reason` (shift leads); `callback` on
   * a master, the `report` whose caller was called (none for the case's own caller).
   */
  command: (id: string, command: CommandName, body: Record<string, unknown>) =>
    request<CaseView>(`/cases/${encodeURIComponent(id)}/${command}`, { body }),
  upload: (id: string, version: number, file: Blob, fileName: string) =>
    request<Attachment>(`/cases/${encodeURIComponent(id)}/attachments`, {
      method: 'POST',
      query: { version, file_name: fileName },
      raw: { data: file, contentType: file.type || 'image/jpeg' },
    }),
  attachment: (id: string) => request<Blob>(`/attachments/${encodeURIComponent(id)}`, { as: 'blob' }),
  /** A case's photos with their review state (staff who handle cases). */
  attachments: (caseId: string) => request<Attachment[]>(`/cases/${encodeURIComponent(caseId)}/attachments`),
  /** Publish a photo with `blur` regions blurred in the public copy, or keep it private (operators, shift leads). */
  reviewPhoto: (id: string, publish: boolean, blur: BlurRect[]) =>
    request<Attachment>(`/attachments/${encodeURIComponent(id)}/review`, { body: { publish, blur } }),
  stats: (area?: string) => request<Stats>('/stats', { query: { area } }),
  geoAreas: (level: GeometryLevel = 'district') => request<GeoCollection>('/geo/areas', { query: { level }, auth: false }),
  /** One layer: level=district|street|community|grid, under a parent area or inside a bbox. */
  geoLayer: (q: { level: GeometryLevel; parent?: string; bbox?: number[] }) =>
    request<GeoCollection>('/geo/areas', { query: { level: q.level, parent: q.parent, bbox: q.bbox?.join(',') }, auth: false }),
  geoArea: (code: string) => request<AreaShape>(`/geo/areas/${encodeURIComponent(code)}`, { auth: false }),
  locate: (lon: number, lat: number) => request<Located>('/geo/locate', { query: { lon, lat }, auth: false }),
  // ---- digital vital signs (IoT)
  indicators: () => request<Indicator[]>('/indicators'),
  /** Live aggregates of an area (default: the caller's jurisdiction) and its direct children. */
  vitalSigns: (area?: string) => request<VitalSignsView>('/vital-signs', { query: { area } }),
  vitalHistory: (q: { indicator: string; area?: string; resolution?: Resolution; from?: string; to?: string }) =>
    request<Rollup[]>('/vital-signs/history', { query: q }),
  alarms: (q: { active?: boolean; acknowledged?: boolean; area?: string; device?: string; limit?: number } = {}) =>
    request<AlarmView[]>('/alarms', { query: q }),
  alarm: (id: string) => request<AlarmView>(`/alarms/${encodeURIComponent(id)}`),
  acknowledgeAlarm: (id: string) => request<AlarmView>(`/alarms/${encodeURIComponent(id)}/acknowledge`, { method: 'POST' }),
  // ---- responsibility grids (责任网格): every member of staff reads them; only admins assign inspectors
  /** The grids within the caller's jurisdiction, in code order; `area` a district or street, `unassigned` with or without an inspector. */
  responsibilityGrids: (q: { area?: string; unassigned?: string } = {}) =>
    request<ResponsibilityGridView[]>('/responsibility-grids', { query: q }),
  responsibilityGrid: (code: string) => request<ResponsibilityGridView>(`/responsibility-grids/${encodeURIComponent(code)}`),
  /** Reports made in the grid from then on take the inspector; cases reported before keep theirs. On the audit log. */
  assignGrid: (code: string, body: AssignRequest) =>
    request<ResponsibilityGridView>(`/responsibility-grids/${encodeURIComponent(code)}`, { method: 'PUT', body }),
  // ---- patrols (巡查): an inspector records their own; shift leads and center leaders read those of their jurisdiction
  /** Goes on duty (inspectors): 201 with the new patrol, or 200 with the one already open. */
  goOnDuty: () => request<Patrol>('/patrols', { method: 'POST' }),
  /**
   * 1 to 500 positions of the inspector's own patrol, in any order, also after it ended if taken
   * while it ran; one whose time the track holds already is skipped. All or nothing: a refusal
   * names the position (`positions[3].lon`).
   */
  addPositions: (id: string, positions: PatrolPosition[]) =>
    request<PositionsAccepted>(`/patrols/${encodeURIComponent(id)}/positions`, { body: { positions } }),
  /** Goes off duty; an ended patrol is answered as it is. */
  goOffDuty: (id: string) => request<Patrol>(`/patrols/${encodeURIComponent(id)}/end`, { method: 'POST' }),
  /** The patrols of Shanghai days `from`..`to` (both default today), the latest started first. */
  patrols: (q: PatrolListQuery = {}) => request<Patrol[]>('/patrols', { query: q }),
  /** One patrol's track (GeoJSON Feature); another person's read is on the audit log. */
  patrolTrack: (id: string) => request<PatrolTrack>(`/patrols/${encodeURIComponent(id)}`),
  // ---- devices and telemetry rules (every staff member reads them; admins change them)
  /** Devices within the caller's jurisdiction by id, a page at a time: `after` is the last id of the previous page. */
  devices: (q: { kind?: string; limit?: number; after?: string } = {}) => request<Device[]>('/devices', { query: q }),
  /** One device (404 outside the caller's jurisdiction, as for a missing one). */
  device: (id: string) => request<Device>(`/devices/${encodeURIComponent(id)}`),
  /** Registers a device, or changes the one with that id; the area is found from the location when not given. */
  registerDevice: (body: DeviceRequest) => request<Device>('/devices', { body }),
  /** Every device within the caller's jurisdiction as CSV (UTF-8 with a BOM), the columns `PUT /devices` takes back. */
  devicesCsv: () => request<Blob>('/devices.csv', { as: 'blob' }),
  /** A CSV of devices: all or nothing, a refusal naming the line and column (`line 3: lon`). */
  importDevices: (file: Blob) => request<DeviceImport>('/devices', { method: 'PUT', raw: { data: file, contentType: 'text/csv' } }),
  /** Raw readings of one indicator of a device, oldest first: the newest `limit` (at most 10,000) of the window. */
  readings: (id: string, q: { indicator: string; from?: string; to?: string; limit?: number }) =>
    request<Reading[]>(`/devices/${encodeURIComponent(id)}/readings`, { query: q }),
  /** The indicator catalogue as CSV (the columns `PUT /indicators` takes back). */
  indicatorsCsv: () => request<Blob>('/indicators.csv', { as: 'blob' }),
  /** Indicators from CSV: those in the file are added or replaced, the others stay; answers the whole catalogue. */
  importIndicators: (file: Blob) => request<Indicator[]>('/indicators', { method: 'PUT', raw: { data: file, contentType: 'text/csv' } }),
  telemetryRules: () => request<TelemetryRule[]>('/telemetry/rules'),
  /** Takes effect at once; 409 `duplicate` (field `id`) when the id is taken. */
  createTelemetryRule: (body: TelemetryRule) => request<TelemetryRule>('/telemetry/rules', { body }),
  /** Replaces the rule; its running state (durations, counts, alarms) carries over. */
  replaceTelemetryRule: (id: string, body: TelemetryRule) =>
    request<TelemetryRule>(`/telemetry/rules/${encodeURIComponent(id)}`, { method: 'PUT', body }),
  deleteTelemetryRule: (id: string) => request<void>(`/telemetry/rules/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  /** A draft replayed on a device's stored readings of the window (default the last day): nothing is stored. */
  testTelemetryRule: (body: RuleTestBody) => request<RuleTestView>('/telemetry/rule-tests', { body }),
  // ---- the configuration in force and the cluster's nodes (admins)
  settings: () => request<Setting[]>('/settings'),
  /** The cluster's live nodes and who holds each background duty (admins only). */
  nodes: () => request<NodesReport>('/nodes'),
  // ---- emergencies: warnings (center leaders, shift leads and dispatchers issue them; staff read those of their areas)
  /** Warnings in force or coming, latest issued first; `past`: also those of the last 30 days. */
  warnings: (past = false) => request<{ items: WarningView[] }>('/warnings', { query: { past: past || undefined } }).then((r) => r.items),
  issueWarning: (body: WarningRequest) => request<WarningView>('/warnings', { body }),
  /** Another level, other areas, a new expiry...: what is absent stays; `note` says why, for the history. */
  updateWarning: (id: string, body: WarningUpdateRequest) => request<WarningView>(`/warnings/${encodeURIComponent(id)}/update`, { body }),
  liftWarning: (id: string, note?: string) =>
    request<WarningView>(`/warnings/${encodeURIComponent(id)}/lift`, { body: { note: note || undefined } }),
  /** A CAP 1.2 alert as the weather service published it (XML); a file that is not CAP is 422 `invalid_file` naming the element. */
  importCap: (xml: string | Blob) => request<CapImport>('/warnings/cap', { method: 'POST', raw: { data: xml, contentType: 'application/xml' } }),
  // ---- incidents (突发事件): the center's staff; a unit's handlers see those with their unit's tasks
  /** Active incidents; `past`: also those stood down in the last 90 days. */
  incidents: (past = false) => request<{ items: IncidentView[] }>('/incidents', { query: { past: past || undefined } }).then((r) => r.items),
  incident: (id: string) => request<IncidentView>(`/incidents/${encodeURIComponent(id)}`),
  /**
   * From a plan (its tasks go to the units answering for the areas, its resources are added, its
   * notices sent) or by hand; a `zone` drawn adds the streets it touches to the areas.
   */
  openIncident: (body: IncidentRequest) => request<IncidentView>('/incidents', { body }),
  incidentCommand: (id: string, body: IncidentCommand) =>
    request<IncidentView>(`/incidents/${encodeURIComponent(id)}/commands`, { body }),
  incidentTimeline: (id: string) =>
    request<{ items: IncidentEvent[] }>(`/incidents/${encodeURIComponent(id)}/timeline`).then((r) => r.items),
  /** The alarms and cases it links (the center's staff; 404 for a unit), with their titles, states, levels and places. */
  incidentLinks: (id: string) =>
    request<{ items: LinkView[] }>(`/incidents/${encodeURIComponent(id)}/links`).then((r) => r.items),
  /** The after-action report (总结报告) as an XLSX workbook (the center's staff; a draft while it is active). */
  incidentReport: (id: string) => request<Blob>(`/incidents/${encodeURIComponent(id)}/report.xlsx`, { as: 'blob' }),
  /**
   * A photo of a task's work (JPEG, PNG or WebP, at most 10 MiB), by the task's unit's handlers or
   * the center's staff: 201, or 200 with the same answer when that image was uploaded to the task before.
   */
  uploadTaskPhoto: (id: string, task: number, file: Blob, fileName: string) =>
    request<TaskPhoto>(`/incidents/${encodeURIComponent(id)}/tasks/${task}/photos`, {
      method: 'POST', query: { file_name: fileName }, raw: { data: file, contentType: file.type || 'image/jpeg' },
    }),
  /** Where a task's photo is shown (an `<img>` source: the session cookie goes with it). */
  taskPhotoUrl: (id: string, photo: string) => `${API_BASE}/incidents/${encodeURIComponent(id)}/photos/${encodeURIComponent(photo)}`,
  /** The contingency plans (应急预案). */
  plans: () => request<{ items: PlanView[] }>('/plans').then((r) => r.items),
}

/** Citizen endpoints: no session needed, and a 401 from them never signs staff out. */
export const publicApi = {
  /** A proof-of-work challenge a report must carry solved (`lib/challenge`). */
  challenge: () => request<ReportChallenge>('/public/challenge', { auth: false }),
  report: (body: {
    description: string; location: { lon: number; lat: number }; address?: string
    category_hint?: string; contact?: { name?: string; phone?: string }
    /** Answers to the class's questions (`classFields`), by key; needs `category_hint`. */
    fields?: FieldValues
    challenge: string; nonce: string
  }) => request<PublicReportResult>('/public/reports', { body, auth: false }),
  /**
   * The questions a report of a small class may answer (its extra fields, photo ones left out,
   * all optional for a citizen); 404 for a code not in the catalogue.
   */
  classFields: (code: string) =>
    request<ExtraField[]>(`/public/categories/${encodeURIComponent(code)}/fields`, { auth: false }),
  photo: (number: string, token: string, file: Blob) =>
    request<PublicAttachmentReceipt>(`/public/cases/${encodeURIComponent(number)}/photos`, {
      method: 'POST', query: { token }, raw: { data: file, contentType: file.type || 'image/jpeg' }, auth: false,
    }),
  /** Where a published photo of one's own report is shown (an `<img>` source: the follow token is in it). */
  photoUrl: (number: string, id: string, token: string) =>
    `${API_BASE}/public/cases/${encodeURIComponent(number)}/photos/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}`,
  /**
   * Without the follow token only the state comes back; with it, the report's details. A merged
   * report names its master (`merged_into`) and carries its progress (`master`, the steps with the token).
   */
  follow: (number: string, token?: string | null) =>
    request<PublicCase>(`/public/cases/${encodeURIComponent(number)}`, { query: { token: token ?? undefined }, auth: false }),
  rate: (number: string, token: string, score: number, comment?: string) =>
    request<PublicCase>(`/public/cases/${encodeURIComponent(number)}/rating`, {
      body: { token, score, comment: comment || undefined }, auth: false,
    }),
  /**
   * Open cases reported near the point that read like the report being written, likeliest first
   * (at most 3): lon and lat, the text (2 to 2000 characters), the class (5 digits) if known.
   */
  duplicates: (q: PublicDuplicateQuery, signal?: AbortSignal) =>
    request<PublicCandidates>('/public/duplicate-candidates', { query: { ...q }, auth: false, signal }),
  geoAreas: (level: GeometryLevel = 'district') => request<GeoCollection>('/geo/areas', { query: { level }, auth: false }),
  locate: (lon: number, lat: number) => request<Located>('/geo/locate', { query: { lon, lat }, auth: false }),
}
