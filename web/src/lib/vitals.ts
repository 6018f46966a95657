// Digital vital signs on the client: an index of the newest aggregates per area (from
// `GET /vital-signs` and `vital_signs` stream events), the tiles of an area, trend points.
import type { Indicator, Rollup, VitalSign, VitalSignsView } from '../api/types'
import { countsOf, indicatorName, zeroCounts, type LevelCounts } from './alarms'
import { isDirectChild, streetOf } from './areaCode'

/** What is known of one area at one moment. */
export interface AreaVitals {
  /** Milliseconds of the view this came from. */
  at: number
  signs: Record<string, VitalSign>
  alarms: LevelCounts
}
export type VitalsIndex = Record<string, AreaVitals>

function atOf(view: VitalSignsView): number {
  const t = Date.parse(view.at)
  return Number.isNaN(t) ? 0 : t
}

/**
 * The index after a view of `view.area`: the view speaks for that area and all its direct children,
 * so a child it leaves out has no fresh readings and no active alarm. Entries newer than the view
 * (from another, later view) are kept. Returns a new object; untouched entries are shared.
 */
export function ingestView(index: VitalsIndex, view: VitalSignsView): VitalsIndex {
  const at = atOf(view)
  const next: VitalsIndex = { ...index }
  for (const code of Object.keys(next)) {
    if ((code === view.area || isDirectChild(code, view.area)) && next[code].at <= at) delete next[code]
  }
  const created = new Map<string, AreaVitals>()
  const entry = (code: string): AreaVitals | null => {
    let e = created.get(code)
    if (e) return e
    if (next[code] && next[code].at > at) return null // a newer view spoke for it
    e = { at, signs: {}, alarms: zeroCounts() }
    created.set(code, e)
    next[code] = e
    return e
  }
  entry(view.area)
  for (const s of view.signs ?? []) {
    const e = entry(s.area)
    if (e) e.signs[s.indicator] = s
  }
  for (const a of view.alarms ?? []) {
    const e = entry(a.area)
    if (e) e.alarms = countsOf(a)
  }
  return next
}

/** The active-alarm counts by level of the direct children of `parent` found in the index. */
export function childAlarmCounts(index: VitalsIndex, parent: string): Record<string, LevelCounts> {
  const out: Record<string, LevelCounts> = {}
  for (const [code, e] of Object.entries(index)) if (isDirectChild(code, parent)) out[code] = e.alarms
  return out
}

/** One tile of the vital-sign panel. */
export interface VitalTile {
  key: string
  name: string
  unit: string
  mean: number
  max: number
  min: number
  devices: number
  abnormal: number
  latestAt: number
  /** The mean is outside the indicator's normal range. */
  meanAbnormal: boolean
}

function outside(v: number, ind: Indicator | undefined): boolean {
  if (!ind) return false
  return (ind.normal_min !== null && ind.normal_min !== undefined && v < ind.normal_min) ||
    (ind.normal_max !== null && ind.normal_max !== undefined && v > ind.normal_max)
}

/**
 * The tiles of an area: one per indicator with readings there, in the order of the indicator
 * catalogue (indicators the catalogue does not know come last, by key).
 */
export function vitalTiles(indicators: Indicator[], area: AreaVitals | null | undefined, locale: string): VitalTile[] {
  if (!area) return []
  const order = new Map(indicators.map((ind, i) => [ind.key, i]))
  const byKey = new Map(indicators.map((ind) => [ind.key, ind]))
  return Object.values(area.signs)
    .filter((s) => s.devices > 0)
    .sort((a, b) => (order.get(a.indicator) ?? 1e9) - (order.get(b.indicator) ?? 1e9) || a.indicator.localeCompare(b.indicator))
    .map((s) => {
      const ind = byKey.get(s.indicator)
      return {
        key: s.indicator,
        name: indicatorName(ind, s.indicator, locale),
        unit: ind?.unit ?? '',
        mean: s.mean,
        max: s.max,
        min: s.min,
        devices: s.devices,
        abnormal: s.abnormal,
        latestAt: s.latest_at_ms,
        meanAbnormal: outside(s.mean, ind),
      }
    })
}

/** A trend point per bucket: mean = sum / count (buckets without readings are skipped), oldest first. */
export function trendPoints(rows: Rollup[]): { at: string; mean: number; max: number; min: number }[] {
  return rows
    .filter((r) => r.count > 0)
    .map((r) => ({ at: r.bucket, mean: r.sum / r.count, max: r.max, min: r.min }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
}

/** A measurement with sensible precision: 2 decimals below 10, 1 below 100, else none. */
export function formatMeasure(v: number | null | undefined, locale = 'zh-CN'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  const a = Math.abs(v)
  const digits = a < 10 ? 2 : a < 100 ? 1 : 0
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v)
}

/** The area whose vital signs stand for a drill-down selection: the city/district/street itself, a community's street. */
export function vitalsAreaFor(area: string | null | undefined, home: string | null | undefined): string | null {
  if (!area) return home ?? null
  return streetOf(area) ?? area
}
