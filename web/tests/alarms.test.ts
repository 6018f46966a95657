import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { AlarmChange, AlarmEvent, AlarmState, AlarmView, Indicator, Role } from '../src/api/types'
import {
  ALARM_CAPACITY, NEUTRAL, LEVEL_COLORS, alarmAreaColor, alarmColors, alarmLabels, canAcknowledge, countsByChild, countsWithin,
  highestLevel, indicatorName, intensity, mergeAlarm, reduceAlarms, totalOf, zeroCounts,
} from '../src/lib/alarms'
import { useAlarms } from '../src/stores/alarms'
import { jsonResponse, mockFetch } from './helpers'

let n = 0
function alarm(over: Partial<AlarmView> = {}): AlarmView {
  n++
  return {
    id: `a${n}`, rule_id: 'r1', rule_name: '积水超警戒', device_id: `dev-${n}`, indicator: 'water_level',
    level: 'yellow', level_zh: '黄色预警', active: true, acknowledged: false, state: 'active_unacknowledged',
    area: '310101002001', location: { lon: 121.48, lat: 31.23 }, unit_grid: null,
    raised_at: `2026-11-25T08:${String(n % 60).padStart(2, '0')}:00Z`, last_at: `2026-11-25T08:${String(n % 60).padStart(2, '0')}:00Z`,
    cleared_at: null, acknowledged_at: null, acknowledged_by: null,
    first_value: 31, last_value: 31, min_value: 31, max_value: 31, readings: 1, flaps: 0, case_id: null,
    ...over,
  }
}
const ev = (action: AlarmChange, a: AlarmView): AlarmEvent => ({ action, alarm: a })

describe('alarm list reducer', () => {
  it('raise adds newest raised first', () => {
    const a = alarm({ raised_at: '2026-11-25T08:00:00Z' })
    const b = alarm({ raised_at: '2026-11-25T08:05:00Z' })
    const list = reduceAlarms([], [ev('raise', a), ev('raise', b)])
    expect(list.map((x) => x.id)).toEqual([b.id, a.id])
    // an older alarm raised later still takes its place by raise time
    const c = alarm({ raised_at: '2026-11-25T08:02:00Z' })
    expect(reduceAlarms(list, [ev('raise', c)]).map((x) => x.id)).toEqual([b.id, c.id, a.id])
  })

  it('clear updates the entry in place, keeping it in the list', () => {
    const a = alarm({ raised_at: '2026-11-25T08:00:00Z', last_at: '2026-11-25T08:00:00Z' })
    const b = alarm({ raised_at: '2026-11-25T08:05:00Z', last_at: '2026-11-25T08:05:00Z' })
    let list = reduceAlarms([], [ev('raise', a), ev('raise', b)])
    list = reduceAlarms(list, [ev('clear', { ...a, active: false, cleared_at: '2026-11-25T08:10:00Z', last_at: '2026-11-25T08:10:00Z', last_value: 12, state: 'cleared_unacknowledged' })])
    expect(list.map((x) => x.id)).toEqual([b.id, a.id])
    expect(list[1]).toMatchObject({ active: false, state: 'cleared_unacknowledged', last_value: 12 })
  })

  it('acknowledge sets the flag and it is never undone by an older snapshot', () => {
    const a = alarm({ last_at: '2026-11-25T08:00:00Z' })
    let list = reduceAlarms([], [ev('raise', a)])
    list = reduceAlarms(list, [ev('acknowledge', { ...a, acknowledged: true, acknowledged_by: 'operator', acknowledged_at: '2026-11-25T08:01:00Z', state: 'active_acknowledged' })])
    expect(list[0]).toMatchObject({ acknowledged: true, acknowledged_by: 'operator', state: 'active_acknowledged' })
    // a later clear event that predates the acknowledgement in the server's view keeps it
    list = reduceAlarms(list, [ev('clear', { ...a, active: false, last_at: '2026-11-25T08:02:00Z', cleared_at: '2026-11-25T08:02:00Z' })])
    expect(list[0]).toMatchObject({ active: false, acknowledged: true, acknowledged_by: 'operator', state: 'cleared_acknowledged' })
    // a stale snapshot (older reading, not acknowledged) changes nothing
    list = reduceAlarms(list, [ev('raise', a)])
    expect(list[0]).toMatchObject({ active: false, acknowledged: true, state: 'cleared_acknowledged' })
  })

  it('reopen makes a cleared alarm active again', () => {
    const a = alarm({ last_at: '2026-11-25T08:00:00Z' })
    let list = reduceAlarms([], [ev('clear', { ...a, active: false, last_at: '2026-11-25T08:01:00Z' })])
    list = reduceAlarms(list, [ev('reopen', { ...a, active: true, flaps: 1, last_at: '2026-11-25T08:02:00Z' })])
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ active: true, flaps: 1, state: 'active_unacknowledged' })
  })

  it('keeps the case id once known', () => {
    const a = alarm({ last_at: '2026-11-25T08:00:00Z', case_id: 'c1' })
    const m = mergeAlarm(a, { ...a, last_at: '2026-11-25T08:03:00Z', case_id: null })
    expect(m.case_id).toBe('c1')
  })

  it('drops malformed events and keeps at most the capacity', () => {
    const many = Array.from({ length: ALARM_CAPACITY + 10 }, (_, i) => ev('raise', alarm({ raised_at: new Date(Date.UTC(2026, 10, 25, 0, i)).toISOString() })))
    const list = reduceAlarms([], [...many, { action: 'raise' } as unknown as AlarmEvent])
    expect(list).toHaveLength(ALARM_CAPACITY)
    expect(list[0].id).toBe(many[many.length - 1].alarm.id)
  })
})

describe('alarms store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('buffers events until flush and merges a snapshot loaded later', async () => {
    const s = useAlarms()
    const a = alarm({ last_at: '2026-11-25T09:00:00Z' })
    s.push(ev('clear', { ...a, active: false }))
    expect(s.items).toEqual([])
    s.flush()
    expect(s.items[0]).toMatchObject({ id: a.id, active: false })
    const fetch = mockFetch(jsonResponse(200, [{ ...a, last_at: '2026-11-25T08:00:00Z' }, alarm()]))
    await s.load()
    expect((fetch.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/alarms?active=true&limit=50')
    expect(s.items).toHaveLength(2)
    expect(s.items.find((x) => x.id === a.id)!.active).toBe(false) // the newer event wins over the older snapshot
    vi.unstubAllGlobals()
  })
})

describe('alarm counts and map colours', () => {
  it('highest level wins: red > orange > yellow > blue', () => {
    expect(highestLevel({ blue: 3, yellow: 0, orange: 1, red: 0 })).toBe('orange')
    expect(highestLevel({ blue: 1, yellow: 1, orange: 1, red: 1 })).toBe('red')
    expect(highestLevel({ blue: 2, yellow: 0, orange: 0, red: 0 })).toBe('blue')
    expect(highestLevel(zeroCounts())).toBeNull()
    expect(highestLevel(null)).toBeNull()
  })

  it('colours an area by its highest level, deeper with more alarms; none stays neutral', () => {
    expect(alarmAreaColor(zeroCounts())).toBeNull()
    const one = alarmAreaColor({ blue: 0, yellow: 0, orange: 0, red: 1 })!
    const many = alarmAreaColor({ blue: 0, yellow: 0, orange: 0, red: 8 })!
    expect(many).toBe(LEVEL_COLORS.red)
    expect(one).not.toBe(many)
    expect(one).not.toBe(NEUTRAL)
    // a red alarm among many blue ones colours the area red
    const mixed = alarmAreaColor({ blue: 7, yellow: 0, orange: 0, red: 1 })!
    expect(mixed).toBe(LEVEL_COLORS.red)
    const red = parseInt(one.slice(1, 3), 16), blue = parseInt(one.slice(5, 7), 16)
    expect(red).toBeGreaterThan(blue)
    expect(intensity(1)).toBeLessThan(intensity(3))
    expect(intensity(100)).toBe(1)
    const colors = alarmColors({ '310101': { blue: 1, yellow: 0, orange: 0, red: 0 }, '310104': zeroCounts() })
    expect(Object.keys(colors)).toEqual(['310101'])
  })

  it('counts active alarms per child area and within an area', () => {
    const list = [
      alarm({ area: '310101002001', level: 'red' }),
      alarm({ area: '310101002003', level: 'yellow' }),
      alarm({ area: '310101013001', level: 'blue' }),
      alarm({ area: '310104001001', level: 'orange' }),
      alarm({ area: '310101002001', level: 'red', active: false }),
    ]
    expect(countsByChild(list, '310101')).toEqual({
      '310101002': { blue: 0, yellow: 1, orange: 0, red: 1 },
      '310101013': { blue: 1, yellow: 0, orange: 0, red: 0 },
    })
    expect(countsByChild(list, '310000')['310104']).toEqual({ blue: 0, yellow: 0, orange: 1, red: 0 })
    expect(countsByChild(list, '310101002')['310101002001'].red).toBe(1)
    expect(countsWithin(list, '310101')).toEqual({ blue: 1, yellow: 1, orange: 0, red: 1 })
    expect(totalOf(countsWithin(list, null))).toBe(4)
  })

  it('counts the districts of a prefecture-level city and leaves out alarms outside it', () => {
    const list = [alarm({ area: '320508001001', level: 'red' }), alarm({ area: '320102001001', level: 'red' }), alarm({ area: '310101002001' })]
    expect(countsByChild(list, '320500')).toEqual({ '320508': { blue: 0, yellow: 0, orange: 0, red: 1 } })
    expect(totalOf(countsWithin(list, '320500'))).toBe(1)
  })

  it('shows the acknowledge button to the roles that may acknowledge', () => {
    for (const r of ['operator', 'shift_lead', 'dispatcher', 'center_leader', 'admin'] as const) expect(canAcknowledge(r)).toBe(true)
    for (const r of ['inspector', 'unit_handler', 'evaluator', 'auditor', 'data_steward', null] satisfies (Role | null)[]) {
      expect(canAcknowledge(r)).toBe(false)
    }
  })
})

describe('how an alarm reads', () => {
  const indicators: Indicator[] = [
    { key: 'water_level', unit: 'cm', name_zh: '积水深度', name_en: 'Water depth', normal_min: null, normal_max: 20, category: 'drainage' },
    { key: 'noise', unit: 'dB', name_zh: '噪声', name_en: '', normal_min: null, normal_max: 70, category: 'environment' },
  ]
  const messages: Record<string, string> = { 'alarms.states.active_unacknowledged': '告警中 未确认' }
  const i18n = { t: (k: string) => messages[k] ?? `!${k}`, te: (k: string) => k in messages }

  it('names the indicator in the UI language, falling back to the other language and then the key', () => {
    expect(indicatorName(indicators[0], 'water_level', 'zh-CN')).toBe('积水深度')
    expect(indicatorName(indicators[0], 'water_level', 'en')).toBe('Water depth')
    expect(indicatorName(indicators[1], 'noise', 'en')).toBe('噪声')
    expect(indicatorName(undefined, 'pm25', 'en')).toBe('pm25')
  })

  it('gives the indicator, its unit and the state in words, for the alarm list and the ticker alike', () => {
    const zh = alarmLabels(indicators, 'zh-CN', i18n)
    expect(zh.indicator('water_level')).toBe('积水深度')
    expect(zh.unit('water_level')).toBe('cm')
    expect(alarmLabels(indicators, 'en', i18n).indicator('water_level')).toBe('Water depth')
    expect(zh.state('active_unacknowledged')).toBe('告警中 未确认')
  })

  it('reads what the catalogue or the translations lack as it came', () => {
    const labels = alarmLabels([], 'zh-CN', i18n)
    expect(labels.indicator('pm25')).toBe('pm25')
    expect(labels.unit('pm25')).toBe('')
    // a state a newer server might send, which this UI has no words for
    expect(labels.state('suppressed' as AlarmState)).toBe('suppressed')
  })
})
