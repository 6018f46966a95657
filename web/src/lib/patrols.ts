/**
 * Patrols (巡查): who goes on duty and who reads the tracks, a phone's fix as the position the
 * server takes, the batches the positions are sent in, a refusal's position, and the track as a
 * map draws it (its coordinates, its bounds, its length as the server measures it, the distance
 * in words).
 */
import type { PatrolPosition, PatrolTrack, Role } from '../api/types'
import { TZ } from './format'

/** The most positions one `POST /patrols/{id}/positions` carries. */
export const MAX_BATCH = 500
/** The widest accuracy the server takes (metres); a fix vaguer than this is not recorded. */
export const MAX_ACCURACY_M = 5000
/** A fix this vague or worse is shown as weak (metres). */
export const WEAK_ACCURACY_M = 50

/** Those who go on patrol and use the phone's page (城管通): inspectors. */
export function mayPatrol(role: Role | null | undefined): boolean {
  return role === 'inspector'
}

/** Those who read the inspectors' tracks (巡查轨迹): shift leads and center leaders, over their jurisdiction. */
export function mayReadPatrols(role: Role | null | undefined): boolean {
  return role === 'shift_lead' || role === 'center_leader'
}

// ---- positions

/** What the page keeps of a Geolocation API fix. */
export interface Fix {
  lon: number
  lat: number
  /** Metres. */
  accuracy: number
  /** Milliseconds since the epoch, when the phone took it. */
  timestamp: number
}

/** The fix of a `GeolocationPosition` (or anything shaped like one). */
export function fixOf(p: { coords: { longitude: number; latitude: number; accuracy: number }; timestamp: number }): Fix {
  return { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, timestamp: p.timestamp }
}

/**
 * The position the server takes for a fix, at `at` (default the fix's own time): coordinates to 7
 * decimals (about 1 cm), the accuracy to 0.1 m; null for a fix the server would refuse (not a
 * coordinate, or vaguer than 5 km).
 */
export function positionOf(fix: Fix, at: Date = new Date(fix.timestamp)): PatrolPosition | null {
  if (![fix.lon, fix.lat, fix.accuracy].every(Number.isFinite)) return null
  if (Math.abs(fix.lon) > 180 || Math.abs(fix.lat) > 90) return null
  if (fix.accuracy < 0 || fix.accuracy > MAX_ACCURACY_M) return null
  if (Number.isNaN(at.getTime())) return null
  const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d
  return { at: at.toISOString(), lon: round(fix.lon, 7), lat: round(fix.lat, 7), accuracy_m: round(fix.accuracy, 1) }
}

/** The list in batches of at most `size`, in order. */
export function batchesOf<T>(list: readonly T[], size = MAX_BATCH): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

/** The position a refusal names (`positions[3].lon` → 3), or null when it names none. */
export function positionIndexOf(field: string | null | undefined): number | null {
  const m = /^positions\[(\d+)\]/.exec(field ?? '')
  return m ? Number(m[1]) : null
}

// ---- the track

export type LonLat = [number, number]

/** The track's coordinates in time order: none, one point, or the line's. */
export function trackCoordinates(track: Pick<PatrolTrack, 'geometry'> | null | undefined): LonLat[] {
  const g = track?.geometry
  if (!g) return []
  if (g.type === 'Point') return isLonLat(g.coordinates) ? [[g.coordinates[0], g.coordinates[1]]] : []
  if (g.type === 'LineString') return g.coordinates.filter(isLonLat).map((c) => [c[0], c[1]] as LonLat)
  return []
}

function isLonLat(c: unknown): c is LonLat {
  return Array.isArray(c) && c.length >= 2 && Number.isFinite(c[0]) && Number.isFinite(c[1])
}

/** `[minLon, minLat, maxLon, maxLat]`. */
export type Bounds = [number, number, number, number]

/** The box around the points, or null for none. */
export function boundsOf(points: readonly LonLat[]): Bounds | null {
  if (!points.length) return null
  let [a, b, c, d] = [Infinity, Infinity, -Infinity, -Infinity]
  for (const [x, y] of points) {
    a = Math.min(a, x); b = Math.min(b, y); c = Math.max(c, x); d = Math.max(d, y)
  }
  return [a, b, c, d]
}

/** The box around both (either may be missing). */
export function unionBounds(x: Bounds | null, y: Bounds | null): Bounds | null {
  if (!x) return y
  if (!y) return x
  return [Math.min(x[0], y[0]), Math.min(x[1], y[1]), Math.max(x[2], y[2]), Math.max(x[3], y[3])]
}

/** The box grown by `share` of its size on each side, and at least `min` degrees (a single point still shows some street). */
export function padBounds(b: Bounds, share = 0.08, min = 0.001): Bounds {
  const dx = Math.max((b[2] - b[0]) * share, min)
  const dy = Math.max((b[3] - b[1]) * share, min)
  return [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy]
}

/** ECharts' `boundingCoords` of a box: its top left and bottom right corners. */
export function boundingCoords(b: Bounds): [LonLat, LonLat] {
  return [[b[0], b[3]], [b[2], b[1]]]
}

const EARTH_RADIUS_M = 6_371_008.8

/** Great-circle distance in metres (the server's formula). */
export function distanceM(a: LonLat, b: LonLat): number {
  const rad = (v: number) => (v * Math.PI) / 180
  const la1 = rad(a[1]), la2 = rad(b[1])
  const dlat = la2 - la1
  const dlon = rad(b[0] - a[0])
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(la1) * Math.cos(la2) * Math.sin(dlon / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h))
}

/**
 * The length of a track (positions in time order) in metres as the server measures it: a step
 * counts only once it leaves the circle both fixes could be anywhere within, measured from the
 * last fix that counted, so a phone standing still walks nowhere.
 */
export function trackLengthM(points: readonly { lon: number; lat: number; accuracy_m: number }[]): number {
  if (!points.length) return 0
  let anchor = points[0]
  let length = 0
  for (const p of points.slice(1)) {
    const step = distanceM([anchor.lon, anchor.lat], [p.lon, p.lat])
    if (step > Math.max(anchor.accuracy_m, p.accuracy_m)) {
      length += step
      anchor = p
    }
  }
  return length
}

/** Metres as a person reads them: `850 m`, `1.25 km` (公里/米 in Chinese). */
export function formatDistance(metres: number | null | undefined, locale: string): string {
  const en = locale === 'en' || locale.startsWith('en-')
  if (metres === null || metres === undefined || !Number.isFinite(metres) || metres < 0) return '—'
  if (metres < 1000) return en ? `${Math.round(metres)} m` : `${Math.round(metres)} 米`
  const km = new Intl.NumberFormat(en ? 'en' : 'zh-CN', { maximumFractionDigits: 2 }).format(metres / 1000)
  return en ? `${km} km` : `${km} 公里`
}

/** A Shanghai day (`YYYY-MM-DD`), today by default: the days `GET /patrols` takes. */
export function shanghaiDate(at: Date = new Date()): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(at).map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day}`
}

/** Whether a text is a day `GET /patrols` takes. */
export function isDay(text: unknown): text is string {
  return typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`))
}
