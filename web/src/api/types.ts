export type Role =
  | 'inspector' | 'operator' | 'shift_lead' | 'dispatcher' | 'unit_handler'
  | 'center_leader' | 'evaluator' | 'admin'

export interface User {
  id: string
  username: string
  display_name: string
  role: Role | string
  unit: string | null
  scope: string | null
}

/** A cookie session as the UI keeps it: the session itself is an HttpOnly cookie, so there is no token here. */
export interface Session { expires_at: string; user: User; csrf_token: string }

/** A second factor being enrolled: the secret for typing into an authenticator app, and the same as an `otpauth://` URL. */
export interface TotpEnrolment { secret: string; otpauth_url: string }

export interface LonLat { lon: number; lat: number }

export interface CaseCategory {
  code: string; zh: string; urgency: string
  dispatch_minutes: number; handling_minutes: number; check_minutes: number
}

export interface CaseView {
  id: string
  number: string
  version: number
  state: string
  state_zh: string
  source: string
  description: string
  address: string | null
  location: LonLat
  area: string
  district: string
  /** 14-digit unit grid (单元网格) the location falls in. */
  unit_grid?: string | null
  category_hint: string | null
  category: CaseCategory | null
  component_id: string | null
  unit: string | null
  urgent: boolean
  supervised: boolean
  overdue: boolean
  self_handled: boolean
  rework_count: number
  return_count: number
  extension_count: number
  pending: { kind: 'extension' | 'park'; reason: string; until: string | null } | null
  stage: 'dispatch' | 'handling' | 'check' | null
  deadline: string | null
  callback_satisfied: boolean | null
  reject_reason: string | null
  duplicate_of: string | null
  attachments: string[]
  reported_by: string | null
  created_at: string
  updated_at: string
  closed_at: string | null
  actions?: string[]
  /** Set while the case waits in a higher center's coordination queue (`center`: a district or the city). */
  coordination?: { center: string; reason: string; since: string } | null
}

/** One rule of the responsibility matrix. */
export interface RoutingRule {
  /** A small-class code or a prefix of one (1 to 5 digits). */
  category: string
  area: string
  owner: string | null
  unit: string
}

/** `GET /cases/{id}/routing`: the unit proposed for dispatch and why. */
export interface CaseRouting {
  unit: string | null
  unit_name: string | null
  /** The explicit rule that decided; null when the category's default applied (or nothing did). */
  rule: RoutingRule | null
  /** Matching rules that lost to a more specific one. */
  overridden: RoutingRule[]
  /** The decision in words (English, from the server). */
  reason: string
}

export interface CasePage { items: CaseView[]; next_cursor?: string | null }

export interface TimelineEntry {
  seq: number; at: string; user_id: string | null; username: string | null
  role: string | null; unit: string | null; action: string
  from: string | null; to: string | null; late: boolean
  details: Record<string, unknown>
}

export interface Area { code: string; name: string; level: string; parent: string | null }
export interface Unit { code: string; name: string; kind: string; jurisdiction: string }
export interface SmallClass {
  code: string; kind: string; big_class: string; zh: string; en: string; urgency: string
  dispatch_minutes: number; handling_minutes: number; check_minutes: number; unit_kind: string
}
export interface Categories {
  version: string
  big: { code: string; kind: string; zh: string; en: string }[]
  small: SmallClass[]
}

export interface Attachment { id: string; sha256: string; size: number; content_type: string; case_version: number }

export interface ChildStats {
  code: string; name: string; open: number; overdue: number; supervised: number
  reported_today: number; closed_today: number
}
export interface Stats {
  area: { code: string; name: string; level: string }
  totals: { open: number; overdue: number; supervised: number; urgent: number; reported_today: number; closed_today: number }
  by_child: ChildStats[]
  today_by_source: { source: string; count: number }[]
  today_by_category: { code: string; zh: string; count: number }[]
  top_categories: { code: string; zh: string; count: number }[]
  ranking: { code: string; name: string; closing_rate: number; on_time_rate: number; score: number; grade: string }[]
}

export interface FeedEvent {
  id: string; number: string; action: string; state: string; state_zh: string
  district: string; area: string; category: string | null; category_zh: string | null
  source: string; description: string; urgent: boolean; at: string
}

export interface PublicReportResult { number: string; follow_token: string; state: string; state_zh: string }
export interface PublicCase {
  number: string; state: string; state_zh: string; description: string
  category_zh: string | null; created_at: string; closed_at: string | null
  steps: { at: string; action: string; state: string; state_zh: string }[]
  rating: { score: number; comment: string | null } | null
  can_rate: boolean
}

export interface GeoFeature {
  type: 'Feature'
  properties: { code: string; name: string; [k: string]: unknown }
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: number[][][] | number[][][][] }
}
export interface GeoCollection { type: 'FeatureCollection'; features: GeoFeature[] }

export interface Located {
  location: { lon: number; lat: number }
  unit_grid: string | null
  responsibility_grid: string | null
  community: { code: string; name: string } | null
  street: { code: string; name: string } | null
  district: { code: string; name: string } | null
}
export interface AreaShape { code: string; level: string; bbox: [number, number, number, number]; centroid: [number, number]; geometry: GeoFeature['geometry'] }

// ---- digital vital signs (IoT): indicators, live aggregates, alarms

/** Warning levels, least to most severe (蓝 < 黄 < 橙 < 红). */
export type AlarmLevel = 'blue' | 'yellow' | 'orange' | 'red'
export type AlarmState = 'active_unacknowledged' | 'active_acknowledged' | 'cleared_unacknowledged' | 'cleared_acknowledged'

/** `GET /indicators`: what devices measure. */
export interface Indicator {
  key: string
  unit: string
  name_zh: string
  name_en: string
  normal_min: number | null
  normal_max: number | null
  category: string
}

/** One indicator over one area, from the newest reading of each device. */
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

/** Active alarms of an area by level. */
export interface AlarmCount { area: string; blue: number; yellow: number; orange: number; red: number }

/** `GET /vital-signs` and the `vital_signs` stream event: the area itself and its direct children. */
export interface VitalSignsView {
  at: string
  area: string
  signs: VitalSign[]
  alarms: AlarmCount[]
}

/** `GET /vital-signs/history`: one bucket of the downsampled history (mean = sum / count). */
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

export interface AlarmView {
  id: string
  rule_id: string
  rule_name: string
  device_id: string
  indicator: string
  level: AlarmLevel
  level_zh: string
  active: boolean
  acknowledged: boolean
  state: AlarmState | string
  /** 12-digit community code (district = first 6 digits, street = first 9). */
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

/** The `alarm` stream event. */
export interface AlarmEvent {
  action: 'raise' | 'reopen' | 'clear' | 'acknowledge' | string
  alarm: AlarmView
}
