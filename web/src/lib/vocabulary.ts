// The server's closed vocabularies as lists the UI iterates (filters, legends, radio groups).
// Each list is the keys of a record typed by the generated union (../api/types), so a value the
// server adds or drops is a compile error here rather than a value the UI silently leaves out.
import type {
  AlarmLevel, ApiKeyPermission, AppealGround, CallbackOutcome, CaseSource, CaseState, CategoryKind, Crs, DeviceStatus, ExtraFieldKind, RejectReason, RuleCondition, RuleScope, Satisfaction,
  SecondFactor, SettingSource, StaffRole, TermUnit, TicketKind, UnitKind, UnitOrganization, Urgency,
} from '../api/types'

/** The keys of a record that names every value of a vocabulary once, in the record's order. */
function valuesOf<V extends string>(record: Record<V, unknown>): readonly V[] {
  return Object.keys(record) as V[]
}

/**
 * Whether each case state is terminal (as `GET /workflow` says), in the order the UI lists them:
 * open ones first. A merged report counts as finished: only undoing the merge moves it again.
 */
const TERMINAL: Record<CaseState, boolean> = {
  reported: false, accepted: false, verifying: false, filed: false, dispatched: false, handling: false,
  suspended: false, handled: false, checking: false, checked: false, callback: false,
  closed: true, invalid: true, cancelled: true, merged: true,
}
export const CASE_STATES = valuesOf(TERMINAL)
/** The states a case can still change in. */
export const OPEN_STATES: readonly CaseState[] = CASE_STATES.filter((s) => !TERMINAL[s])

export const CASE_SOURCES = valuesOf<CaseSource>({
  inspector: true, hotline: true, photo: true, iot: true, department: true, leader: true,
})

export const REJECT_REASONS = valuesOf<RejectReason>({ invalid: true, duplicate: true })

/** What a caller wants (工单类型), as the 12345 hotline sorts its tickets; an enquiry is answered on the call, never a case. */
export const TICKET_KINDS = valuesOf<TicketKind>({
  request: true, complaint: true, enquiry: true, suggestion: true, praise: true, other: true,
})

/** What came of a call-back attempt, the caller reached first. */
export const CALLBACK_OUTCOMES = valuesOf<CallbackOutcome>({ reached: true, no_answer: true, wrong_number: true })

/** A reached caller's satisfaction, best first. */
export const SATISFACTIONS = valuesOf<Satisfaction>({ satisfied: true, basically_satisfied: true, unsatisfied: true })

/** Least to most severe. */
export const ALARM_LEVELS = valuesOf<AlarmLevel>({ blue: true, yellow: true, orange: true, red: true })

/** Lines of work, centers first, as the server lists them. */
export const UNIT_KINDS = valuesOf<UnitKind>({
  city_center: true, district_center: true, street_center: true, law_enforcement: true, greening: true, housing: true,
  water: true, transport: true, public_security: true, market_regulation: true, environment: true, power: true, gas: true,
  water_supply: true, telecom: true, street_office: true, other: true,
})

/** What sort of body a unit is. */
export const UNIT_ORGANIZATIONS = valuesOf<UnitOrganization>({
  operations_center: true, department: true, public_utility: true, contractor: true, street_office: true, town: true, other: true,
})

/** The roles an account or an API key can have, in the server's order (the workflow's, then admin, auditor, data steward). */
export const STAFF_ROLES = valuesOf<StaffRole>({
  inspector: true, operator: true, shift_lead: true, dispatcher: true, unit_handler: true, center_leader: true,
  evaluator: true, admin: true, auditor: true, data_steward: true,
})

/** What an API key may do: reads, new reports, readings, any other change. */
export const API_KEY_PERMISSIONS = valuesOf<ApiKeyPermission>({ read: true, report: true, telemetry: true, write: true })

/** Where an account's second factor stands. */
export const SECOND_FACTORS = valuesOf<SecondFactor>({ none: true, pending: true, enabled: true })

/** A term's units: natural time first (minutes, hours), then time on the city's working calendar. */
export const TERM_UNITS = valuesOf<TermUnit>({ minutes: true, hours: true, working_hours: true, working_days: true })

/** A small class's urgency, the usual first. */
export const URGENCIES = valuesOf<Urgency>({ normal: true, urgent: true })

/** Components (部件) first, then events (事件), as the catalogue's codes run (1xxxx, 2xxxx). */
export const CATEGORY_KINDS = valuesOf<CategoryKind>({ component: true, event: true })

/** What an extra field of a class holds, as the class dialog offers them: free text first, a photo last. */
export const FIELD_KINDS = valuesOf<ExtraFieldKind>({ text: true, number: true, choice: true, date: true, photo: true })

/** Coordinate systems a boundary file may be in, GPS's first (the default). */
export const COORDINATE_SYSTEMS = valuesOf<Crs>({ wgs84: true, gcj02: true, bd09: true })

/** A device's status: working, under maintenance (readings kept, no alarms), retired (readings refused). */
export const DEVICE_STATUSES = valuesOf<DeviceStatus>({ active: true, maintenance: true, retired: true })

/** Which devices a telemetry rule watches, the widest first. */
export const RULE_SCOPE_KINDS = valuesOf<RuleScope['kind']>({ all: true, device_type: true, device: true, area: true })

/** When a reading is trouble: a level crossed, a range left, a fast change, or silence. */
export const CONDITION_KINDS = valuesOf<RuleCondition['kind']>({ above: true, below: true, outside: true, rising: true, falling: true, silent: true })

/** Where a setting's value came from, lowest layer first. */
export const SETTING_SOURCES = valuesOf<SettingSource>({ default: true, file: true, environment: true, command_line: true })

/** What a unit's appeal (申诉) may dispute: its late handling first, then a rework. */
export const APPEAL_GROUNDS = valuesOf<AppealGround>({ late_handling: true, rework: true })
