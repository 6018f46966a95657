/**
 * Devices as an admin keeps them (系统管理 → 设备与预警规则): the register form and the body it
 * sends, checked as the server checks a device; the list's filters; the export's file name.
 */
import type { Device, DeviceRequest, DeviceStatus } from '../api/types'
import { contains, isAreaCode } from './areaCode'
import { shanghaiDay } from './hotline'
import { DEVICE_STATUSES } from './vocabulary'

/** A device id (also an MQTT topic level): 1 to 64 ASCII letters, digits, `-`, `_` or `.`. */
export const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/
/** A device type or an indicator key: 1 to 64 lower-case letters, digits and underscores. */
export const METRIC_KEY = /^[a-z0-9_]{1,64}$/
/** The 16-digit census id of a component. */
const COMPONENT_ID = /^\d{16}$/
/** A decimal number as typed: `30`, `-2.5`, `.5`, `1e3`. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** The number typed, or null when it is none (empty, words, infinite). */
export function numberOf(text: string): number | null {
  const t = text.trim()
  if (!NUMBER.test(t)) return null
  const n = Number(t)
  return Number.isFinite(n) ? n : null
}

/** The server's page size bounds for `GET /devices`. */
export const DEVICE_PAGE = 200
export const MAX_DEVICE_PAGE = 1000

/** The register form as typed: strings, empty when not given. */
export interface DeviceForm {
  id: string
  kind: string
  name: string
  lon: string
  lat: string
  /** Empty: the community is found from the location. */
  area: string
  component_id: string
  owner_unit: string
  status: DeviceStatus
}

/** The form's fields, and `location` for a refusal of the point as a whole (outside the city). */
export type DeviceField = keyof DeviceForm | 'location'
export const DEVICE_FIELDS: readonly DeviceField[] = ['id', 'kind', 'name', 'lon', 'lat', 'location', 'area', 'component_id', 'owner_unit', 'status']

export type DeviceProblem = 'required' | 'deviceId' | 'metricKey' | 'long' | 'lon' | 'lat' | 'area' | 'componentId'

export function emptyDeviceForm(): DeviceForm {
  return { id: '', kind: '', name: '', lon: '', lat: '', area: '', component_id: '', owner_unit: '', status: 'active' }
}

/** The form of a device to change (the same id registers it again with the new values). */
export function deviceFormOf(d: Device): DeviceForm {
  return {
    id: d.id, kind: d.kind, name: d.name, lon: String(d.location.lon), lat: String(d.location.lat), area: d.area,
    component_id: d.component_id ?? '', owner_unit: d.owner_unit ?? '', status: d.status,
  }
}

/** `POST /devices` from the form, or the fields to fix first. */
export function deviceBody(form: DeviceForm): { body: DeviceRequest | null; problems: Partial<Record<DeviceField, DeviceProblem>> } {
  const problems: Partial<Record<DeviceField, DeviceProblem>> = {}
  const id = form.id.trim()
  const kind = form.kind.trim()
  const name = form.name.trim()
  const area = form.area.trim()
  const component = form.component_id.trim()
  const owner = form.owner_unit.trim()
  if (!id) problems.id = 'required'
  else if (!DEVICE_ID.test(id)) problems.id = 'deviceId'
  if (!kind) problems.kind = 'required'
  else if (!METRIC_KEY.test(kind)) problems.kind = 'metricKey'
  if (!name) problems.name = 'required'
  else if ([...name].length > 100) problems.name = 'long'
  const lon = numberOf(form.lon)
  const lat = numberOf(form.lat)
  if (!form.lon.trim()) problems.lon = 'required'
  else if (lon === null || lon < -180 || lon > 180) problems.lon = 'lon'
  if (!form.lat.trim()) problems.lat = 'required'
  else if (lat === null || lat < -90 || lat > 90) problems.lat = 'lat'
  if (area && !isAreaCode(area)) problems.area = 'area'
  if (component && !COMPONENT_ID.test(component)) problems.component_id = 'componentId'
  if (Object.keys(problems).length) return { body: null, problems }
  const body: DeviceRequest = { id, kind, name, location: { lon: lon!, lat: lat! }, status: form.status }
  if (area) body.area = area
  if (component) body.component_id = component
  if (owner) body.owner_unit = owner
  return { body, problems }
}

/**
 * The form field a server refusal names, or null (shown at the top of the dialog then):
 * `location.lon` is the longitude, `location` the point as a whole.
 */
export function deviceFieldOf(field: string | null | undefined): DeviceField | null {
  if (!field) return null
  const name = field.replace(/^location\./, '')
  return (DEVICE_FIELDS as readonly string[]).includes(name) ? (name as DeviceField) : null
}

/** The list's filters: the type asks the server; the others narrow the devices loaded. */
export interface DeviceFilters {
  kind: string
  /** A district (or any area): devices located within it. */
  area: string
  status: DeviceStatus | ''
  q: string
}

export function emptyDeviceFilters(): DeviceFilters {
  return { kind: '', area: '', status: '', q: '' }
}

/** Filters read back from the address, anything unknown dropped. */
export function deviceFiltersOf(query: Record<string, unknown>): DeviceFilters {
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const status = str(query.status)
  return {
    kind: METRIC_KEY.test(str(query.kind)) ? str(query.kind) : '',
    area: isAreaCode(str(query.area)) ? str(query.area) : '',
    status: (DEVICE_STATUSES as readonly string[]).includes(status) ? (status as DeviceStatus) : '',
    q: str(query.q),
  }
}

/** The filters kept in the address, empty ones left out. */
export function deviceQuery(f: DeviceFilters): Record<string, string> {
  const query: Record<string, string> = {}
  if (f.kind) query.kind = f.kind
  if (f.area) query.area = f.area
  if (f.status) query.status = f.status
  if (f.q.trim()) query.q = f.q.trim()
  return query
}

/** Whether a device matches: within the area, of the status, the text in its id or name (case-insensitive). */
export function matchesDevice(d: Device, f: DeviceFilters): boolean {
  if (f.kind && d.kind !== f.kind) return false
  if (f.area && !contains(f.area, d.area)) return false
  if (f.status && d.status !== f.status) return false
  const q = f.q.trim().toLowerCase()
  return !q || d.id.toLowerCase().includes(q) || d.name.toLowerCase().includes(q)
}

/**
 * The id to look up on its own (`GET /devices/{id}`), or null: the list comes a page at a time,
 * so a text that could be a complete id and matches no device loaded may name one not loaded yet.
 */
export function lookupId(q: string, loaded: readonly Pick<Device, 'id' | 'name'>[]): string | null {
  const id = q.trim()
  if (!DEVICE_ID.test(id)) return null
  const text = id.toLowerCase()
  return loaded.some((d) => d.id.toLowerCase().includes(text) || d.name.toLowerCase().includes(text)) ? null : id
}

/** Device types known from the devices loaded, and the one asked for, sorted. */
export function deviceKinds(devices: readonly Pick<Device, 'kind'>[], chosen = ''): string[] {
  return [...new Set([...devices.map((d) => d.kind), ...(chosen ? [chosen] : [])])].sort()
}

/** `devices-2026-12-06.csv`: the day (Shanghai) of the export. */
export function devicesFileName(now: Date): string {
  return `devices-${shanghaiDay(now)}.csv`
}

/** Hands a downloaded file to the browser under `name`. */
export function saveFile(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
