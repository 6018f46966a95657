import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { Indicator, Rollup, VitalSign, VitalSignsView } from '../src/api/types'
import { childAlarmCounts, formatMeasure, ingestView, trendPoints, vitalTiles, vitalsAreaFor, type VitalsIndex } from '../src/lib/vitals'
import { useVitals } from '../src/stores/vitals'
import { jsonResponse, mockFetch } from './helpers'

const IND: Indicator[] = [
  { key: 'water_level', unit: 'cm', name_zh: '积水深度', name_en: 'Water level', normal_min: null, normal_max: 15, category: '20406' },
  { key: 'gas_concentration', unit: '%LEL', name_zh: '燃气浓度', name_en: 'Gas concentration', normal_min: null, normal_max: 10, category: '20403' },
  { key: 'pm25', unit: 'µg/m³', name_zh: 'PM2.5', name_en: 'PM2.5', normal_min: null, normal_max: 75, category: '30101' },
]
const sign = (area: string, indicator: string, over: Partial<VitalSign> = {}): VitalSign => ({
  area, indicator, devices: 4, latest_at_ms: 1_764_057_600_000, mean: 10, min: 2, max: 20, abnormal: 1, ...over,
})
const view = (area: string, at: string, signs: VitalSign[], alarms: VitalSignsView['alarms'] = []): VitalSignsView => ({ at, area, signs, alarms })

describe('vital signs index', () => {
  it('takes in a view for the area and its children', () => {
    const idx = ingestView({}, view('310000', '2026-11-25T08:00:00Z',
      [sign('310000', 'water_level'), sign('310101', 'water_level', { mean: 5 }), sign('310101', 'pm25')],
      [{ area: '310000', blue: 1, yellow: 0, orange: 2, red: 0 }, { area: '310101', blue: 1, yellow: 0, orange: 2, red: 0 }]))
    expect(Object.keys(idx).sort()).toEqual(['310000', '310101'])
    expect(idx['310101'].signs.water_level.mean).toBe(5)
    expect(idx['310101'].alarms).toEqual({ blue: 1, yellow: 0, orange: 2, red: 0 })
    expect(childAlarmCounts(idx, '310000')).toEqual({ '310101': { blue: 1, yellow: 0, orange: 2, red: 0 } })
  })

  it('a child left out of a newer view has no readings and no alarms any more; other levels are kept', () => {
    let idx: VitalsIndex = ingestView({}, view('310101', '2026-11-25T08:00:00Z', [sign('310101002', 'water_level')], [{ area: '310101002', blue: 0, yellow: 0, orange: 0, red: 1 }]))
    idx = ingestView(idx, view('310000', '2026-11-25T08:00:02Z', [sign('310101', 'water_level')], [{ area: '310104', blue: 1, yellow: 0, orange: 0, red: 0 }]))
    idx = ingestView(idx, view('310000', '2026-11-25T08:00:04Z', [sign('310104', 'water_level')], []))
    expect(idx['310101']).toBeUndefined() // left out: nothing fresh there now
    expect(idx['310104'].alarms).toEqual({ blue: 0, yellow: 0, orange: 0, red: 0 })
    expect(idx['310101002'].alarms.red).toBe(1) // a street: not spoken for by the city view
  })

  it('an older view does not overwrite newer entries', () => {
    let idx = ingestView({}, view('310000', '2026-11-25T08:00:10Z', [sign('310101', 'water_level', { mean: 9 })]))
    idx = ingestView(idx, view('310101', '2026-11-25T08:00:05Z', [sign('310101', 'water_level', { mean: 1 }), sign('310101002', 'water_level')]))
    expect(idx['310101'].signs.water_level.mean).toBe(9)
    expect(idx['310101002']).toBeDefined()
  })
})

describe('vital tiles', () => {
  it('one tile per indicator with readings, in catalogue order, named by locale', () => {
    const idx = ingestView({}, view('310000', '2026-11-25T08:00:00Z', [
      sign('310000', 'pm25', { mean: 80, max: 120, devices: 3, abnormal: 2 }),
      sign('310000', 'water_level', { mean: 12.345, max: 30, devices: 10, abnormal: 1 }),
      sign('310000', 'crowd_density', { mean: 1.5, max: 2, devices: 2, abnormal: 0 }),
      sign('310000', 'gas_concentration', { devices: 0 }),
    ]))
    const zh = vitalTiles(IND, idx['310000'], 'zh-CN')
    expect(zh.map((x) => x.key)).toEqual(['water_level', 'pm25', 'crowd_density'])
    expect(zh[0]).toMatchObject({ name: '积水深度', unit: 'cm', mean: 12.345, max: 30, devices: 10, abnormal: 1, meanAbnormal: false })
    expect(zh[1]).toMatchObject({ name: 'PM2.5', meanAbnormal: true })
    expect(zh[2]).toMatchObject({ name: 'crowd_density', unit: '' }) // not in the catalogue: by key
    expect(vitalTiles(IND, idx['310000'], 'en')[0].name).toBe('Water level')
    expect(vitalTiles(IND, undefined, 'en')).toEqual([])
  })

  it('trend points are per-bucket means, oldest first, empty buckets skipped', () => {
    const bucket = (at: string, count: number, sum: number, min: number, max: number): Rollup =>
      ({ resolution: 'minute', area: '310000', indicator: 'water_level', bucket: at, count, sum, min, max })
    const pts = trendPoints([
      bucket('2026-11-25T08:02:00Z', 4, 40, 5, 15),
      bucket('2026-11-25T08:01:00Z', 2, 10, 4, 6),
      bucket('2026-11-25T08:03:00Z', 0, 0, 0, 0),
    ])
    expect(pts).toEqual([
      { at: '2026-11-25T08:01:00Z', mean: 5, max: 6, min: 4 },
      { at: '2026-11-25T08:02:00Z', mean: 10, max: 15, min: 5 },
    ])
  })

  it('formats measurements and picks the area of the tiles', () => {
    expect(formatMeasure(12.345, 'en')).toBe('12.3')
    expect(formatMeasure(3.14159, 'en')).toBe('3.14')
    expect(formatMeasure(1234.5, 'en')).toBe('1,235')
    expect(formatMeasure(Number.NaN)).toBe('—')
    expect(vitalsAreaFor(null, '310000')).toBe('310000')
    expect(vitalsAreaFor('310101', '310000')).toBe('310101')
    expect(vitalsAreaFor('310101002001', '310000')).toBe('310101002')
  })
})

describe('vitals store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('stream views set the home area; a fetch of an area fills its children', async () => {
    const s = useVitals()
    s.ingest(view('310000', '2026-11-25T08:00:00Z', [sign('310000', 'water_level')]), true)
    expect(s.home).toBe('310000')
    expect(s.knows('310101')).toBe(true)
    expect(s.knows('310101002')).toBe(false)
    const fetch = mockFetch(jsonResponse(200, view('310101', '2026-11-25T08:00:01Z', [sign('310101002', 'pm25')], [{ area: '310101002', blue: 0, yellow: 1, orange: 0, red: 0 }])))
    await s.load('310101')
    expect((fetch.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/vital-signs?area=310101')
    expect(s.home).toBe('310000')
    expect(s.index['310101002'].alarms.yellow).toBe(1)
    expect(s.knows('310101002')).toBe(true)
    vi.unstubAllGlobals()
  })
})
