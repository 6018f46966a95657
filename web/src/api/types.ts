// The UI's names for the server's wire types. They are generated (./schema.d.ts, from the
// server's OpenAPI document by `npm run api:types`), so the UI compiles against what the server
// publishes; this file only names them. The last section holds the few shapes the document does
// not describe yet, each saying which schema the server should publish to retire it.
import type { components } from './schema'

type Schemas = components['schemas']

// ---- sessions and users

export type User = Schemas['UserView']
/** A role's wire name, e.g. `dispatcher`, `data_steward`. */
export type Role = User['role']
/** `POST /sessions`: the new session (a cookie session carries `csrf_token`, a bearer session `token`). */
export type LoginResponse = Schemas['LoginResponse']
/** A cookie session as the UI keeps it: the session itself is an HttpOnly cookie, so there is no token here. */
export type Session = Pick<Schemas['LoginResponse'], 'expires_at' | 'user'> & { csrf_token: string }
/** A second factor being enrolled: the secret for typing into an authenticator app, and the same as an `otpauth://` URL. */
export type TotpEnrolment = Schemas['TotpEnrolment']

// ---- cases and their workflow

/**
 * A workflow command's URL name, e.g. `request-extension`, as the server publishes them. Every
 * command-keyed table of the UI (`COMMAND_FIELDS` in lib/commands.ts) is keyed by this type, so a
 * command the server adds and the UI does not handle is a compile error.
 */
export type CommandName = Schemas['CaseCommandName']

export type LonLat = Schemas['LocationBody']
/** The category a filed case carries. */
export type CaseCategory = Schemas['FiledClassView']
export type CaseView = Schemas['CaseView']
export type CasePage = Schemas['CaseList']
export type TimelineEntry = Schemas['TimelineEntry']
/** One rule of the responsibility matrix. */
export type RoutingRule = Schemas['RuleView']
/** `GET /cases/{id}/routing`: the unit proposed for dispatch and why. */
export type CaseRouting = Schemas['RoutingView']
export type Attachment = Schemas['AttachmentView']
/** The `case` stream event: one committed case change. */
export type FeedEvent = Schemas['CaseEvent']

// ---- reference data

export type Area = Schemas['AreaView']
/** `GET /areas/{code}`: an area with its children. */
export type AreaDetail = Schemas['AreaDetail']
export type Unit = Schemas['UnitView']
export type SmallClass = Schemas['CategoryView']
export type Categories = Schemas['CatalogView']

// ---- the city screen

export type ChildStats = Schemas['ChildStats']
export type Stats = Schemas['StatsView']

// ---- the citizen channel

export type PublicReportResult = Schemas['PublicReportReceipt']
export type PublicCase = Schemas['PublicCaseView']

// ---- geography

/** `GET /geo/locate`: the grids and areas a point lies in. */
export type Located = Schemas['LocateView']

// ---- digital vital signs (IoT)

/** Active alarms of an area by level. */
export type AlarmCount = Schemas['AlarmCount']

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

/** `GET /geo/areas/{code}`: `AreaGeometry` publishes `geometry` as any object and `bbox`, `centroid` as any length. */
export type AreaShape = Omit<Schemas['AreaGeometry'], 'bbox' | 'centroid' | 'geometry'> & {
  bbox: [number, number, number, number]
  centroid: [number, number]
  geometry: GeoGeometry
}

/** Warning levels, least to most severe (蓝 < 黄 < 橙 < 红). Not published: `AlarmView` has no `level`. */
export type AlarmLevel = 'blue' | 'yellow' | 'orange' | 'red'
/** `AlarmView.state` is published as a plain string. */
export type AlarmState = 'active_unacknowledged' | 'active_acknowledged' | 'cleared_unacknowledged' | 'cleared_acknowledged'

/** `GET /indicators`: what devices measure (published as `Vec<Value>`). */
export interface Indicator {
  key: string
  unit: string
  name_zh: string
  name_en: string
  normal_min: number | null
  normal_max: number | null
  category: string
}

/** One indicator over one area, from the newest reading of each device (`VitalSignsView.signs` is published as any object). */
export interface VitalSign {
  area: string
  indicator: string
  devices: number
  latest_at_ms: number
  mean: number
  min: number
  max: number
  abnormal: number
}

/** `GET /vital-signs` and the `vital_signs` stream event: the area itself and its direct children. */
export type VitalSignsView = Omit<Schemas['VitalSignsView'], 'signs'> & { signs: VitalSign[] }

/** `GET /vital-signs/history`: one bucket of the downsampled history, mean = sum / count (published as `Vec<Value>`). */
export interface Rollup {
  bucket: string
  count: number
  sum: number
  min: number
  max: number
  area?: string
  indicator?: string
  resolution?: string
}

/** An alarm (`AlarmView` publishes only `state` and `level_zh`: the alarm itself is flattened in as any object). */
export interface AlarmView {
  id: string
  rule_id: string
  rule_name: string
  device_id: string
  indicator: string
  level: AlarmLevel
  level_zh: Schemas['AlarmView']['level_zh']
  active: boolean
  acknowledged: boolean
  state: AlarmState | Schemas['AlarmView']['state']
  /** 12-digit community code. */
  area: string
  location: LonLat
  unit_grid: string | null
  raised_at: string
  last_at: string
  cleared_at: string | null
  acknowledged_at: string | null
  acknowledged_by: string | null
  first_value: number
  last_value: number
  min_value: number
  max_value: number
  readings: number
  flaps: number
  case_id: string | null
}

/** The `alarm` stream event (the stream's document describes only its `case` event). */
export interface AlarmEvent {
  action: 'raise' | 'reopen' | 'clear' | 'acknowledge' | string
  alarm: AlarmView
}
