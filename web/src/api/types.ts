// The UI's names for the server's wire types. They are generated (./schema.d.ts, from the
// server's OpenAPI document by `npm run api:types`), so the UI compiles against what the server
// publishes; this file only names them. The last section holds the few shapes the document does
// not describe yet, each saying which schema the server should publish to retire it.
import type { components, operations } from './schema'

type Schemas = components['schemas']

// ---- the server's closed vocabularies
// Each is a union of the values the server's domain defines (roles, states...). Every table of the
// UI keyed by one of them (labels in ../locales, colours, lists in ../lib/vocabulary.ts) is typed
// `Record<Vocabulary, ...>`, so a value the server adds is a compile error until the UI handles it.

/** A user's role, e.g. `dispatcher`, `data_steward`. */
export type Role = Schemas['Role']
/** What a unit's appeal (申诉) disputes: `late_handling` (处置超时) or `rework` (返工). */
export type AppealGround = Schemas['AppealGround']
/** A case's state in the workflow, e.g. `filed`. */
export type CaseState = Schemas['CaseState']
/** Where a report came from: `inspector`, `hotline`, `photo`, `iot`, `department`, `leader`. */
export type CaseSource = Schemas['CaseSource']
/** The stage whose clock runs on a case: `accept`, `verify`, `file`, `dispatch`, `handling`, `check`, `callback`, `close`. */
export type CaseStage = Schemas['CaseStage']
/** How close a running stage is to its deadline: `on_time`, `due` (yellow), `overdue` (red). */
export type DeadlineMark = Schemas['DeadlineMark']
/** Where the overdue watch escalated a case: `unit_head` (催办) or `next_center`. */
export type EscalationTarget = Schemas['EscalationTarget']
/** A time limit's unit: `minutes`, `hours`, `working_hours`, `working_days`. */
export type TermUnit = Schemas['TermUnit']
export type TimeLeftView = Schemas['TimeLeftView']
export type WatchView = Schemas['WatchView']
export type SupervisionView = Schemas['SupervisionView']
export type ClockView = Schemas['ClockView']
/** What an evaluation ranks: `district`, `street`, `community`, `grid`, `unit`, `position`. */
export type EvaluationLevel = Schemas['EvaluationLevel']
/** One of the counts the evaluation sums, e.g. `filed`, `handled_on_time`. */
export type EvaluationCounter = Schemas['EvaluationCounter']
/** One of the standard indicators, e.g. `closing_rate`. */
export type EvaluationIndicator = Schemas['EvaluationIndicator']
export type EvaluationView = Schemas['EvaluationView']
export type EvaluationRow = Schemas['EvaluationRow']
/** Why a report was not accepted: `invalid` or `duplicate`. */
export type RejectReason = Schemas['RejectReason']
/** What a case's pending request asks for: `extension` or `park`. */
export type PendingKind = Schemas['PendingKind']
/** An area's level: `city`, `district`, `street`, `community`. */
export type AreaLevel = Schemas['AreaLevel']
/** The levels a map draws (`GET /geo/areas?level=`): the areas below the city, and unit grids. */
export type GeometryLevel = Schemas['GeometryLevel']
/** The line of work the responsibility matrix routes by, e.g. `water_supply`; `other` for contractors and added units. */
export type UnitKind = Schemas['UnitKind']
/** A small class's urgency: `normal` or `urgent` (every term of an urgent class runs on natural time). */
export type Urgency = Schemas['Urgency']
/** Whether a class is a component (部件) or an event (事件). */
export type CategoryKind = Schemas['CategoryKind']
/**
 * A workflow command's URL name, e.g. `request-extension`, as the server publishes them. Every
 * command-keyed table of the UI (`COMMAND_FIELDS` in lib/commands.ts) is keyed by this type, so a
 * command the server adds and the UI does not handle is a compile error.
 */
export type CommandName = Schemas['CaseCommandName']
/** Any workflow command by the name clients use, also those issued by reporting, uploading, rating or by CityOps itself: a stream event's and a public step's `action`. */
export type AnyCommandName = Schemas['CommandWireName']
/** What came of a call-back attempt: `reached`, `no_answer` or `wrong_number`. */
export type CallbackOutcome = Schemas['CallbackOutcome']
/** A reached caller's satisfaction: `satisfied`, `basically_satisfied` or `unsatisfied`. */
export type Satisfaction = Schemas['Satisfaction']
/** A command by the name the timeline records, e.g. `request_extension`: a timeline entry's `action`. */
export type CaseAction = Schemas['CaseAction']
/** Warning levels, least to most severe (蓝 < 黄 < 橙 < 红). */
export type AlarmLevel = Schemas['WarningLevel']
/** Active or cleared, acknowledged or not, in one word. */
export type AlarmState = Schemas['AlarmState']
/** What happened to an alarm on the live stream: `raise`, `reopen`, `repeat`, `clear`, `acknowledge`. */
export type AlarmChange = Schemas['AlarmChange']
/** The bucket of the downsampled history: `minute` or `hour`. */
export type Resolution = Schemas['Resolution']

// ---- sessions and users

export type User = Schemas['UserView']
/** `POST /sessions`: the new session (a cookie session carries `csrf_token`, a bearer session `token`). */
export type LoginResponse = Schemas['LoginResponse']
/** A cookie session as the UI keeps it: the session itself is an HttpOnly cookie, so there is no token here. */
export type Session = Pick<Schemas['LoginResponse'], 'expires_at' | 'user'> & { csrf_token: string }
/** A second factor being enrolled: the secret for typing into an authenticator app, and the same as an `otpauth://` URL. */
export type TotpEnrolment = Schemas['TotpEnrolment']

// ---- staff accounts and API keys (admins)
/** A role an account or an API key can have: any role but `citizen` and `system`. */
export type StaffRole = Schemas['StaffRole']
/** Where an account's second factor stands: `none`, `pending` (enrolled, not confirmed) or `enabled`. */
export type SecondFactor = Schemas['SecondFactor']
/** `GET /users`: a staff account as admins see it, with its standing (disabled, locked, second factor). */
export type Account = Schemas['AccountView']
/** `POST /users`: a new account with its first password. */
export type NewUser = Schemas['NewUser']
/** `PUT /users/{username}`: fields left out stay; `unit: null` removes the unit. */
export type UserChange = Schemas['UserChange']
/** What an API key may do: `read`, `report`, `telemetry`, `write`. */
export type ApiKeyPermission = Schemas['ApiKeyPermission']
/** An API key as listed (never its secret); `key` only in the answer to its creation. */
export type ApiKey = Schemas['ApiKeyView']
/** `POST /api-keys`. */
export type NewApiKey = Schemas['NewApiKey']

// ---- cases and their workflow

export type LonLat = Schemas['LocationBody']
/** `POST /cases`: a report staff take down (an operator's call, an inspector's patrol...). */
export type ReportRequest = Schemas['ReportRequest']
/** What a caller wants (工单类型): `request`, `complaint`, `enquiry` (answered on the call, never a case), `suggestion`, `praise`, `other`. */
export type TicketKind = Schemas['TicketKind']
/** The call a hotline or department report is taken down from: its kind and the reply owed to the caller (答复口径). */
export type CallBody = Schemas['CallBody']
/** The call a case was taken down from, the reply owed masked like the description. */
export type CallView = Schemas['CallView']
/** The category a filed case carries. */
export type CaseCategory = Schemas['FiledClassView']
export type CaseView = Schemas['CaseView']
export type CasePage = Schemas['CaseList']
export type TimelineEntry = Schemas['TimelineEntry']
/** A unit's appeal (申诉) on a case, numbered from 1, with the evaluator's decision once made. */
export type Appeal = Schemas['AppealView']
export type AppealDecision = Schemas['AppealDecisionView']
/** A hotline caller's call-back (回访): failed attempts of those allowed, the last outcome, the satisfaction, unreachable. */
export type CallbackView = Schemas['CallbackView']
/** Another case, by id and number: the master a merged report went into (`merged_into`). */
export type CaseRef = Schemas['CaseRef']
/**
 * A report merged into a master case, as the master lists it (`merged_reports`, oldest merge first);
 * a hotline report's `callback` is its caller's, once the master's call-back started.
 */
export type MergedReport = Schemas['MergedReportView']
/** One rule of the responsibility matrix. */
export type RoutingRule = Schemas['RuleView']
/** `GET /cases/{id}/routing`: the unit proposed for dispatch and why. */
export type CaseRouting = Schemas['RoutingView']
/** One rule of a draft matrix, as `POST /routing/preview` takes it (`owner` left out for any owner). */
export type DraftRule = Schemas['RuleBody']
/** `POST /routing/preview`: a small class and a place (an area code, or `lon` and `lat`), and optionally a draft matrix. */
export type RoutingPreviewBody = Schemas['RoutingPreviewBody']
/** What `POST /routing/preview` answers: the place found, whether the draft was asked, and the routing. */
export type RoutingPreview = Schemas['RoutingPreview']
export type Attachment = Schemas['AttachmentView']
/** `pending` until an operator or shift lead publishes a photo (regions blurred) or keeps it private. */
export type PhotoReviewState = Schemas['PhotoReviewState']
/** A region of a photo to blur, in the stored photo's pixels. */
export type BlurRect = Schemas['BlurRect']
/** The `case` stream event: one committed case change. */
export type FeedEvent = Schemas['CaseEvent']

// ---- reference data

export type Area = Schemas['AreaView']
/** `GET /areas/{code}`: an area with its children. */
export type AreaDetail = Schemas['AreaDetail']
/** A unit as every staff member reads it: contacts masked; `open_cases` only from `GET /units/{code}`. */
export type Unit = Schemas['UnitView']
export type SmallClass = Schemas['CategoryView']
export type BigClass = Schemas['BigClassView']
export type Categories = Schemas['CatalogView']
/**
 * `GET /class-suggestions`: a small class a report's text likely belongs to, its confidence (0 to 1;
 * those of one text sum to at most 1) and the words of the text that decided it, strongest first.
 */
export type ClassSuggestion = Schemas['ClassSuggestionView']
/**
 * `GET /duplicate-candidates`: an open case of the caller's jurisdiction that looks like a report
 * being taken down (the case as `GET /cases/{id}` answers it), and why: the score (0 to 1, proposed
 * from the server's threshold), the distance in metres (none when the report gave an area), the
 * hours since it was reported, whether the classes are the same, how alike the kinds of problem
 * and the words are.
 */
export type DuplicateCandidate = Schemas['DuplicateCandidate']
/** The four terms of a small class: dispatch, handling, check, call-back. */
export type StageTerms = Schemas['TermsView']
export type Term = Schemas['TermView']
/** `PUT /categories/{code}` (admins): fields left out stay, and so do the terms of stages not named. */
export type CategoryChange = Schemas['CategoryUpdate']
/** What an extra field of a class holds: `text`, `number`, `choice`, `date` (YYYY-MM-DD) or `photo` (an attachment's id). */
export type ExtraFieldKind = Schemas['FieldKind']
/** One extra field of a small class (表单构建), in the order the forms ask them. */
export type ExtraField = Schemas['ExtraFieldView']
/** An extra field as `PUT /categories/{code}` takes it, in the whole list that replaces the class's. */
export type ExtraFieldBody = Schemas['ExtraFieldBody']
/** Values of extra fields to set by key, `null` clearing one (set-fields, file, a report's `fields`). */
export type FieldValues = Schemas['FieldsDoc']

// ---- the city screen

export type ChildStats = Schemas['ChildStats']
export type Stats = Schemas['StatsView']

// ---- the citizen channel

export type PublicReportResult = Schemas['PublicReportReceipt']
/** `POST /public/cases/{number}/photos`: the new attachment. */
export type PublicAttachmentReceipt = Schemas['PublicAttachmentReceipt']
export type ReportChallenge = Schemas['ReportChallenge']
export type PublicCase = Schemas['PublicCaseView']
/** One step of a followed case's progress (with the follow token only). */
export type PublicStep = Schemas['PublicStep']
/** A merged report's master as its follow page shows it: the steps only with the report's follow token. */
export type PublicMaster = Schemas['PublicMasterView']
/** `GET /public/duplicate-candidates`: an open case reported nearby that reads alike, by what its number tells anyone. */
export type PublicCandidate = Schemas['PublicCandidate']
export type PublicCandidates = Schemas['PublicCandidates']
/** `GET /public/duplicate-candidates`: where (required), what (2 to 2000 characters) and the class, if known. */
export type PublicDuplicateQuery = operations['public_candidates']['parameters']['query']
/** The reporter's clear contact and the clear form of masked texts, read for a purpose. */
export type ContactView = Schemas['ContactView']
export type ContactPurpose = 'callback' | 'verification' | 'clarification'

// ---- geography

/** `GET /geo/locate`: the grids and areas a point lies in. */
export type Located = Schemas['LocateView']
/** A coordinate system a client's points or a boundary file may be in: `wgs84` (GPS), `gcj02` (AMap, Tencent), `bd09` (Baidu). */
export type Crs = Schemas['Crs']
/** `GET /geo/relocations/{id}`: what re-locating cases, devices and components after a boundary import has done so far. */
export type RelocationJob = Schemas['RelocationJob']
/** `running`, `done` or `failed`. */
export type RelocationState = Schemas['RelocationState']
/** Records looked at, and records moved to another area or unit grid. */
export type RelocationTally = Schemas['Tally']

// ---- digital vital signs (IoT)

/** Active alarms of an area by level. */
export type AlarmCount = Schemas['AlarmCount']
/** `GET /indicators`: what devices measure. */
export type Indicator = Schemas['IndicatorView']
/** One indicator over one area, from the newest reading of each device. */
export type VitalSign = Schemas['VitalSignView']
/** `GET /vital-signs` and the `vital_signs` stream event: the area itself and its direct children. */
export type VitalSignsView = Schemas['VitalSignsView']

// ---- the hotline's knowledge base and enquiries
/** An article of the knowledge base (知识库); `score` is how well it matched a search (none when listing). */
export type Article = Schemas['ArticleView']
/** `POST /knowledge` (no `version`) and `PUT /knowledge/{id}` (the `version` the admin saw; a stale one is 409). */
export type ArticleBody = Schemas['ArticleBody']
/** An enquiry (咨询) answered on the call: no case, no contact; the texts masked. */
export type Enquiry = Schemas['EnquiryView']
/** `POST /enquiries`: the question, the answer, the articles cited, the area asked about. */
export type EnquiryBody = Schemas['EnquiryBody']

// ---- the 12345 exchange
/** What a ticket import did: new tickets, tickets known already, the numbers of the cases opened. */
export type TicketImport = Schemas['TicketImport']
/** A ticket's result for the 12345 system: case, state, reply, the caller's satisfaction. */
export type TicketResult = Schemas['TicketResult']

// ---- units as data
/** What sort of body a unit is: `operations_center`, `department`, `public_utility`, `contractor`... */
export type UnitOrganization = Schemas['UnitOrganization']
/** `GET /units?status=`: active units (the default), retired ones, or both. */
export type UnitStatus = 'active' | 'retired' | 'all'
/** `GET /audit/verify`: whether the hash chain is intact, and each finding when not. */
export type VerifyReport = Schemas['VerifyReport']
/** `GET /personal-data?phone=`: every case held under a citizen's phone, with what they wrote. */
export type PersonalDataExport = Schemas['PersonalDataExport']
/** `DELETE /personal-data?phone=`: finished cases anonymised, open ones keeping the contact until they end. */
export type Erasure = Schemas['Erasure']
/** `POST /units` and `PUT /units/{code}`: contact fields left out keep the stored value, `""` removes it. */
export type UnitBody = Schemas['UnitBody']
/** `POST /units/{code}/retire`: the reason, and the successor that takes over its open cases and rules. */
export type RetireBody = Schemas['RetireBody']
/** What a retirement did: the unit, open cases and matrix rules moved to the successor, rules removed without one. */
export type UnitRetirement = Schemas['RetirementView']
/** `PUT /units` (CSV): how many units the file created, updated and left as they were. */
export type UnitImport = Schemas['UnitImportView']
/** Why a unit's contacts are read in clear (the document states it as a pattern, not an enum). */
export type UnitContactPurpose = 'dispatch' | 'coordination'
/** `GET /units/{code}/contacts`: the contacts in clear, for the purpose stated (on the audit log). */
export type UnitContactsView = Schemas['UnitContactsView']

// ---- the working calendar
/** A year: working hours, the days its official schedule lists, counts; `known: false` is a plain week. */
export type CalendarYear = Schemas['CalendarYearView']
/** A listed day: `holiday`, `make_up_workday` (a weekend day made working) or `working_day`. */
export type CalendarDay = Schemas['CalendarDayView']
/** What an import did (`imported`, `replaced`, `unchanged`) and the year after it. */
export type CalendarImport = Schemas['CalendarImportView']
/** `GET /vital-signs/history`: one bucket of the downsampled history, mean = sum / count. */
export type Rollup = Schemas['RollupView']
/** An alarm, with its state and level in words. */
export type AlarmView = Schemas['AlarmView']
/** The `alarm` stream event. */
export type AlarmEvent = Schemas['AlarmEvent']

// ---- emergencies: early warnings (预警), incidents (突发事件) and contingency plans (应急预案)
/** What a warning is about: `rainstorm`, `typhoon`, `high_temperature`... or `other`. */
export type Hazard = Schemas['Hazard']
/** A warning's level, least to most severe: blue, yellow, orange, red (the same words as an alarm's). */
export type WarningLevel = Schemas['WarningLevel']
export type WarningView = Schemas['WarningView']
export type WarningChange = Schemas['WarningChangeView']
/** `POST /warnings`: a warning issued by hand. */
export type WarningRequest = Schemas['WarningRequest']
/** `POST /warnings/{id}/update`: what is absent stays. */
export type WarningUpdateRequest = Schemas['WarningUpdateRequest']
/** `POST /warnings/cap`: what importing a CAP alert did (`issued`, `updated`, `lifted`, `unchanged`). */
export type CapImport = Schemas['CapImport']
/** The live stream's `warning` event. */
export type WarningEvent = Schemas['WarningEvent']
/** What kind of emergency: `natural_disaster`, `accident`, `public_health`, `social_security`. */
export type IncidentKind = Schemas['IncidentKind']
/** An incident's severity (事件分级): `I` (特别重大) to `IV` (一般). */
export type Severity = Schemas['Severity']
export type IncidentState = Schemas['IncidentState']
export type IncidentView = Schemas['IncidentView']
/** `POST /incidents`: by hand (kind, severity, title, areas) or from a plan (plan, areas). */
export type IncidentRequest = Schemas['IncidentRequest']
/** `POST /incidents/{id}/commands`: one command, tagged by `command`. */
export type IncidentCommand = Schemas['IncidentCommandRequest']
export type IncidentCommandName = IncidentCommand['command']
/** One entry of an incident's timeline (`GET /incidents/{id}/timeline`). */
export type IncidentEvent = Schemas['IncidentEventView']
/** The live stream's `incident` event, the incident as the subscriber may see it. */
export type IncidentChangeEvent = Schemas['IncidentChangeEvent']
/** The response level a leader decides: `1` (一级, the highest) to `4`. */
export type ResponseLevel = Schemas['ResponseLevel']
export type ResponseView = Schemas['ResponseView']
/** A unit's task in the joint response. */
export type TaskView = Schemas['TaskView']
export type TaskState = Schemas['TaskState']
export type ResourceView = Schemas['ResourceView']
export type ResourceKind = Schemas['ResourceKind']
export type ResourceState = Schemas['ResourceState']
export type PlanView = Schemas['PlanView']
export type PlanResource = Schemas['PlanResourceView']
/** A telemetry rule judged differently while a warning is in force (or an incident runs), in its areas. */
export type RuleAdjustment = Schemas['RuleAdjustmentView']
/** What an incident links to: `alarm` or `case`. */
export type LinkKind = Schemas['LinkKind']
/** An alarm or case an incident holds (`GET /incidents/{id}/links`): what it is, its state, level and place. */
export type LinkView = Schemas['LinkView']
/** A zone drawn on the map: a GeoJSON Polygon in WGS-84, one closed ring of 4 to 500 positions. */
export type Zone = Schemas['ZoneDoc']
/** Units told of an incident (通知), and what. */
export type NoticeView = Schemas['NoticeView']
/** Whom a plan tells when it opens an incident: the units of a kind answering for an affected area. */
export type PlanNotice = Schemas['PlanNoticeView']
/** `POST /incidents/{id}/tasks/{task}/photos`: a photo of a task's report as kept. */
export type TaskPhoto = Schemas['TaskPhotoView']

// ---- devices, telemetry rules and the rule tester (admins)
/** A sensor in the field, located on its unit grid. */
export type Device = Schemas['DeviceView']
/** `POST /devices`: register a device or change one (the area is found from the location when absent). */
export type DeviceRequest = Schemas['DeviceRequest']
/** `active`, `maintenance` (readings kept, no alarms) or `retired` (readings refused). */
export type DeviceStatus = Schemas['DeviceStatus']
/** `GET /devices/{id}/readings`: one raw reading as stored. */
export type Reading = Schemas['ReadingView']
/** A streaming rule: which devices, the condition, how long it must hold, its level and hours. */
export type TelemetryRule = Schemas['TelemetryRule']
/** Which devices a rule watches: `all`, a `device_type`, one `device` or an `area`. */
export type RuleScope = Schemas['RuleScope']
/** When a reading is trouble and when trouble is over: `above`, `below`, `outside`, `rising`, `falling`, `silent`. */
export type RuleCondition = Schemas['Condition']
/** The days (ISO, 1 = Monday) and hours (Asia/Shanghai) a rule may raise alarms. */
export type RuleSchedule = Schemas['Schedule']
/** `POST /telemetry/rule-tests`: a draft rule replayed on one device's stored readings. */
export type RuleTestBody = Schemas['RuleTestBody']
/** What the draft would have raised, reopened and cleared in the window. */
export type RuleTestView = Schemas['RuleTestView']
export type RuleTestEvent = Schemas['RuleTestEvent']

// ---- the configuration in force (admins)
/** Where a setting's value came from, lowest layer first: `default`, `file`, `environment`, `command_line`. */
export type SettingSource = Schemas['SettingSource']

// ---- patrols (巡查): an inspector's time on duty and the track their phone records
/** A patrol: who, when on and off duty (`ended_at` null while on duty), positions, metres walked, the last fix, the phone's interval. */
export type Patrol = Schemas['PatrolView']
/** One position of the phone: when it was taken, WGS-84 lon/lat, the Geolocation API's accuracy in metres (0 to 5000). */
export type PatrolPosition = Schemas['PositionView']
/** `POST /patrols/{id}/positions`: how many were new to the track, and the patrol after them. */
export type PositionsAccepted = Schemas['PositionsAccepted']
/** `GET /patrols` filters: an inspector (username), Shanghai days `from`..`to` (both default today), on duty or ended. */
export type PatrolListQuery = NonNullable<operations['patrols']['parameters']['query']>

// ---- not described by the OpenAPI document yet
// Each of these would be generated too once the server publishes the schema named beside it;
// until then they say what the server sends today.

/** GeoJSON of area boundaries (`GET /geo/areas`: `application/geo+json`, no schema). */
export interface GeoFeature {
  type: 'Feature'
  properties: { code: string; name: string; [k: string]: unknown }
  geometry: GeoGeometry
}
export interface GeoGeometry { type: 'Polygon' | 'MultiPolygon'; coordinates: number[][][] | number[][][][] }
export interface GeoCollection { type: 'FeatureCollection'; features: GeoFeature[] }

/** A component of the census (部件): a manhole cover, a lamp post...; its 16-digit id is printed on it. */
export type Component = Schemas['ComponentView']
/** `GET /components`: a page of components, `next` the `after` of the next page. */
export type ComponentPage = Schemas['ComponentPage']

/**
 * `PUT /components` (`ComponentImport`): the document describes the answer in words only,
 * `{"imported": n}`; any other count the server adds is shown too.
 */
export type ComponentImport = { imported: number } & Record<string, unknown>

/** `PUT /geo/boundaries/{level}` (`BoundaryImport`): described in words only. */
export interface BoundaryImport {
  imported: number
  level: string
  /** The job re-locating what lies on the map; `href` is the path to follow it (`/api/v1/geo/relocations/{id}`). */
  relocation: { id: string; href: string }
}

/** `GET /geo/areas/{code}`: `AreaGeometry` publishes `geometry` as any object and `bbox`, `centroid` as any length. */
export type AreaShape = Omit<Schemas['AreaGeometry'], 'bbox' | 'centroid' | 'geometry'> & {
  bbox: [number, number, number, number]
  centroid: [number, number]
  geometry: GeoGeometry
}

/** A patrol track's geometry (`PatrolTrack` publishes it as any object): none, one point, or a line in time order. */
export type TrackGeometry =
  | { type: 'Point'; coordinates: [number, number] }
  | { type: 'LineString'; coordinates: [number, number][] }
/** `GET /patrols/{id}`: the track as a GeoJSON Feature, each coordinate's time and accuracy in its properties. */
export type PatrolTrack = Omit<Schemas['PatrolTrack'], 'geometry'> & { geometry?: TrackGeometry | null }

/** `PUT /devices` (CSV): how many devices the file registered or changed (`import_devices` publishes no schema for its answer). */
export interface DeviceImport { imported: number }

/**
 * `GET /settings`: one setting of the configuration in force, secrets `[REDACTED]`. `Setting`
 * publishes `value` as an object, but it is any JSON: a number, a string, null, a list, a table.
 */
export type Setting = Omit<Schemas['Setting'], 'value'> & { value: unknown }

/**
 * `GET /nodes` (admins): the node that answered, the lease time (renewed every third of it), the
 * running nodes by name with the duties each holds, and every duty with its holder (none while
 * nobody holds it: see `dutyStanding` in ../lib/admin).
 */
export type NodesReport = Schemas['NodesReport']
export type RunningNode = Schemas['RunningNode']
export type DutyHolder = Schemas['DutyHolder']
