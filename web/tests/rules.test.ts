// Telemetry rules on the administration page: the rule form's body checked as the server's
// `TelemetryRule::validate` checks it, a refusal's field, a rule in words, and the rule tester's
// window, thresholds, markers and notes; then the dialog, its tester sending the draft and
// showing the server's refusals beside the fields they name.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import type { Indicator, RuleTestEvent, TelemetryRule } from '../src/api/types'
import {
  alarmSpans, conditionText, durationParts, emptyRuleForm, eventMarkers, holdText, matchesRule, messageBeside, readingPoints, ruleBody, ruleFieldOf,
  ruleFormOf, ruleTestBody, scheduleText, scopeText, sortRules, testChartOption, testFieldOf, testNotes, testWindow, thresholds, type RuleForm,
} from '../src/lib/rules'
import { sectionOf } from '../src/lib/admin'
import TelemetryRuleFormDialog from '../src/components/TelemetryRuleFormDialog.vue'
import { jsonResponse, mockFetch } from './helpers'

const INDICATORS: Indicator[] = [
  { key: 'water_level', unit: 'cm', name_zh: '道路积水深度', name_en: 'Road water depth', normal_min: 0, normal_max: 15, category: '20406', plausible_min: 0, plausible_max: 500 },
  { key: 'gas_concentration', unit: '%LEL', name_zh: '燃气浓度', name_en: 'Gas concentration', normal_min: 0, normal_max: 10, category: '20403' },
]

const flood: TelemetryRule = {
  id: 'flood-30cm-10min', name: '道路积水超过30厘米持续10分钟', indicator: 'water_level', scope: { kind: 'all' },
  condition: { kind: 'above', value: 30, clear: 25 }, duration_secs: 600, repeat: 1, level: 'orange', schedule: null, enabled: true,
}

/** The form of the flood rule, changed by `over`. */
function form(over: (f: RuleForm) => void = () => {}): RuleForm {
  const f = ruleFormOf(flood)
  over(f)
  return f
}
const problems = (f: RuleForm) => ruleBody(f, INDICATORS).problems

const t = (key: string, named?: Record<string, unknown>, plural?: number) => i18n.global.t(key, named ?? {}, plural ?? 1)

describe('the rule form', () => {
  it('reads a stored rule and sends it back unchanged', () => {
    const f = ruleFormOf(flood)
    expect(f).toMatchObject({ duration: '10', durationUnit: 'minutes', repeat: '1', scheduled: false })
    expect(f.condition).toMatchObject({ kind: 'above', value: '30', clear: '25' })
    const { body, problems } = ruleBody(f, INDICATORS)
    expect(problems).toEqual({})
    expect(body).toEqual({ ...flood, schedule: undefined })
    expect('schedule' in body!).toBe(false)
  })

  it('keeps a scope, a condition of every kind and a schedule through a round trip', () => {
    const rules: TelemetryRule[] = [
      { ...flood, scope: { kind: 'device_type', device_type: 'water_level_gauge' }, condition: { kind: 'below', value: 2 } },
      { ...flood, scope: { kind: 'device', device: 'HP-WL-0001' }, condition: { kind: 'outside', min: 60, max: 140, margin: 5 }, repeat: 3, duration_secs: 45 },
      { ...flood, scope: { kind: 'area', area: '310101' }, condition: { kind: 'rising', per_minute: 20, clear: 5 }, duration_secs: 7200 },
      { ...flood, condition: { kind: 'falling', per_minute: 1.5 }, schedule: { days: [1, 2, 3, 4, 5], from: '07:00', to: '09:30' }, enabled: false },
      { ...flood, condition: { kind: 'silent', minutes: 30 }, duration_secs: 0, repeat: 1, schedule: { days: [], from: '22:00', to: '06:00' } },
    ]
    for (const rule of rules) {
      const { body, problems } = ruleBody(ruleFormOf(rule), INDICATORS)
      expect(problems).toEqual({})
      expect(body).toEqual(rule.schedule ? rule : { ...rule, schedule: undefined })
    }
  })

  it('starts empty on the indicator given, above, orange, enabled, at once', () => {
    const f = emptyRuleForm('water_level')
    expect(f).toMatchObject({ indicator: 'water_level', level: 'orange', enabled: true, duration: '0', repeat: '1' })
    expect(problems(f)).toEqual({ id: 'required', name: 'required', 'condition.value': 'required' })
  })

  it('writes a duration in the largest whole unit', () => {
    expect(durationParts(0)).toEqual({ amount: '0', unit: 'minutes' })
    expect(durationParts(600)).toEqual({ amount: '10', unit: 'minutes' })
    expect(durationParts(7200)).toEqual({ amount: '2', unit: 'hours' })
    expect(durationParts(45)).toEqual({ amount: '45', unit: 'seconds' })
    expect(durationParts(90)).toEqual({ amount: '90', unit: 'seconds' })
  })

  it('checks the id, name and indicator as the server does', () => {
    expect(problems(form((f) => (f.id = 'has space')))).toEqual({ id: 'ruleId' })
    expect(problems(form((f) => (f.id = 'x'.repeat(65))))).toEqual({ id: 'ruleId' })
    expect(problems(form((f) => (f.id = '规则')))).toEqual({ id: 'ruleId' })
    expect(problems(form((f) => (f.name = '   ')))).toEqual({ name: 'required' })
    expect(problems(form((f) => (f.name = '积'.repeat(101))))).toEqual({ name: 'long' })
    expect(problems(form((f) => (f.name = '积'.repeat(100))))).toEqual({})
    expect(problems(form((f) => (f.indicator = 'Water')))).toEqual({ indicator: 'metricKey' })
    expect(problems(form((f) => (f.indicator = 'rainfall')))).toEqual({ indicator: 'unknownIndicator' })
    // without a catalogue the key is not checked against it
    expect(ruleBody(form((f) => (f.indicator = 'rainfall'))).problems).toEqual({})
  })

  it('checks the scope of each kind', () => {
    expect(problems(form((f) => (f.scope.kind = 'device_type')))).toEqual({ 'scope.device_type': 'required' })
    expect(problems(form((f) => Object.assign(f.scope, { kind: 'device_type', device_type: 'Gauge' })))).toEqual({ 'scope.device_type': 'metricKey' })
    expect(problems(form((f) => Object.assign(f.scope, { kind: 'device', device: 'a/b' })))).toEqual({ 'scope.device': 'deviceId' })
    expect(problems(form((f) => Object.assign(f.scope, { kind: 'area', area: '3101' })))).toEqual({ 'scope.area': 'area' })
    expect(problems(form((f) => Object.assign(f.scope, { kind: 'area', area: '310101002' })))).toEqual({})
    // the fields of the other kinds are not sent
    const { body } = ruleBody(form((f) => Object.assign(f.scope, { kind: 'all', device: 'left over' })), INDICATORS)
    expect(body!.scope).toEqual({ kind: 'all' })
  })

  it('checks an above or below condition: numbers, and a clear value on the safe side', () => {
    expect(problems(form((f) => (f.condition.value = 'thirty')))).toEqual({ 'condition.value': 'number' })
    expect(problems(form((f) => (f.condition.value = 'Infinity')))).toEqual({ 'condition.value': 'number' })
    expect(problems(form((f) => (f.condition.clear = '35')))).toEqual({ 'condition.clear': 'clearAbove' })
    expect(problems(form((f) => (f.condition.clear = '30')))).toEqual({})
    expect(problems(form((f) => (f.condition.kind = 'below')))).toEqual({ 'condition.clear': 'clearBelow' })
    expect(problems(form((f) => Object.assign(f.condition, { kind: 'below', value: '2', clear: '2.5' })))).toEqual({})
    // no clear value: none sent
    const { body } = ruleBody(form((f) => (f.condition.clear = ' ')), INDICATORS)
    expect(body!.condition).toEqual({ kind: 'above', value: 30 })
    expect(ruleBody(form((f) => Object.assign(f.condition, { value: '-2.5e1', clear: ' -3E1 ' })), INDICATORS).body!.condition)
      .toEqual({ kind: 'above', value: -25, clear: -30 })
  })

  it('checks an outside condition: max above min, a margin leaving part of the range', () => {
    const outside = (min: string, max: string, margin = '') => problems(form((f) => Object.assign(f.condition, { kind: 'outside', min, max, margin })))
    expect(outside('60', '140')).toEqual({})
    expect(outside('60', '60')).toEqual({ 'condition.max': 'range' })
    expect(outside('60', '140', '-1')).toEqual({ 'condition.margin': 'margin' })
    expect(outside('60', '140', '40')).toEqual({ 'condition.margin': 'margin' })
    expect(outside('60', '140', '39.9')).toEqual({})
    expect(outside('', '140')).toEqual({ 'condition.min': 'required' })
  })

  it('checks a rate: above 0, clearing at most at the trigger rate', () => {
    const rate = (kind: 'rising' | 'falling', per_minute: string, clear = '') => problems(form((f) => Object.assign(f.condition, { kind, per_minute, clear })))
    expect(rate('rising', '0')).toEqual({ 'condition.per_minute': 'rate' })
    expect(rate('falling', '-3')).toEqual({ 'condition.per_minute': 'rate' })
    expect(rate('rising', '20', '25')).toEqual({ 'condition.clear': 'clearRate' })
    expect(rate('falling', '20', '5')).toEqual({})
  })

  it('checks a silence: 1 to 10,080 whole minutes, with no duration or repeat of its own', () => {
    const silent = (minutes: string) => problems(form((f) => Object.assign(f.condition, { kind: 'silent', minutes })))
    expect(silent('0')).toEqual({ 'condition.minutes': 'minutes' })
    expect(silent('10081')).toEqual({ 'condition.minutes': 'minutes' })
    expect(silent('1.5')).toEqual({ 'condition.minutes': 'minutes' })
    expect(silent('10080')).toEqual({})
    // the form's duration (600 s) and a repeat typed before are not sent with a silence
    const { body } = ruleBody(form((f) => {
      Object.assign(f.condition, { kind: 'silent', minutes: '30' })
      f.repeat = '5'
    }), INDICATORS)
    expect(body).toMatchObject({ condition: { kind: 'silent', minutes: 30 }, duration_secs: 0, repeat: 1 })
  })

  it('checks the duration (whole seconds, at most a week) and the repeat (1 to 10,000)', () => {
    expect(problems(form((f) => Object.assign(f, { duration: '170', durationUnit: 'hours' })))).toEqual({ duration_secs: 'duration' })
    expect(problems(form((f) => Object.assign(f, { duration: '168', durationUnit: 'hours' })))).toEqual({})
    expect(problems(form((f) => Object.assign(f, { duration: '0.5', durationUnit: 'seconds' })))).toEqual({ duration_secs: 'duration' })
    expect(problems(form((f) => (f.duration = '-1')))).toEqual({ duration_secs: 'duration' })
    expect(ruleBody(form((f) => (f.duration = '1.5')), INDICATORS).body!.duration_secs).toBe(90)
    expect(ruleBody(form((f) => (f.duration = '')), INDICATORS).body!.duration_secs).toBe(0)
    expect(problems(form((f) => (f.repeat = '0')))).toEqual({ repeat: 'repeat' })
    expect(problems(form((f) => (f.repeat = '10001')))).toEqual({ repeat: 'repeat' })
    expect(problems(form((f) => (f.repeat = '2.5')))).toEqual({ repeat: 'repeat' })
    expect(ruleBody(form((f) => (f.repeat = '')), INDICATORS).body!.repeat).toBe(1)
  })

  it('checks a schedule: HH:MM times, a window that is not empty, days sent once in order', () => {
    const scheduled = (from: string, to: string, days: number[] = []) => form((f) => Object.assign(f, { scheduled: true, from, to, days }))
    expect(problems(scheduled('7:00', '09:00'))).toEqual({ 'schedule.from': 'time' })
    expect(problems(scheduled('07:00', '24:00'))).toEqual({ 'schedule.to': 'time' })
    expect(problems(scheduled('', ''))).toEqual({ 'schedule.from': 'required', 'schedule.to': 'required' })
    expect(problems(scheduled('07:00', '07:00'))).toEqual({ 'schedule.to': 'emptyWindow' })
    expect(problems(scheduled('07:00', '09:00', [8]))).toEqual({ 'schedule.days': 'days' })
    expect(ruleBody(scheduled('22:00', '06:00', [5, 1, 5]), INDICATORS).body!.schedule).toEqual({ days: [1, 5], from: '22:00', to: '06:00' })
  })

  it('names the field a refusal is about, with or without the tester\'s `rule.`', () => {
    expect(ruleFieldOf('duration_secs')).toBe('duration_secs')
    expect(ruleFieldOf('rule.condition.clear')).toBe('condition.clear')
    expect(ruleFieldOf('rule.condition')).toBe('condition')
    expect(ruleFieldOf('schedule.days[2]')).toBe('schedule.days')
    expect(ruleFieldOf('rule.condition.kind')).toBe('condition')
    expect(ruleFieldOf('rule.scope.kind')).toBe('scope')
    expect(ruleFieldOf('device')).toBe(null)
    expect(ruleFieldOf(undefined)).toBe(null)
    expect(testFieldOf('device')).toBe('device')
    expect(testFieldOf('from')).toBe('from')
    expect(testFieldOf('rule.id')).toBe(null)
    expect(messageBeside('rule.condition: invalid type: string "a", expected f64', 'rule.condition')).toBe('invalid type: string "a", expected f64')
    expect(messageBeside('rule.duration_secs: invalid value', 'rule.duration_secs')).toBe('invalid value')
    expect(messageBeside('at most a week (604,800 s)', 'rule.duration_secs')).toBe('at most a week (604,800 s)')
  })
})

describe('a rule in words', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })

  it('says the condition, how long it must hold, its scope and its hours', () => {
    expect(conditionText(flood.condition, 'cm', t)).toBe('高于 30 cm，回落到 25 cm 及以下解除')
    expect(conditionText({ kind: 'below', value: 2 }, 'm', t)).toBe('低于 2 m')
    expect(conditionText({ kind: 'outside', min: 60, max: 140, margin: 5 }, 'l/s', t)).toBe('超出 60 l/s – 140 l/s，回到范围内 5 l/s 解除')
    expect(conditionText({ kind: 'rising', per_minute: 20, clear: 5 }, 'l/s', t)).toBe('每分钟上升超过 20 l/s，放缓到每分钟 5 l/s 及以下解除')
    expect(conditionText({ kind: 'silent', minutes: 30 }, 'cm', t)).toBe('30 分钟没有读数')
    expect(holdText(flood, t)).toBe('持续 10 分钟')
    expect(holdText({ ...flood, duration_secs: 0, repeat: 3 }, t)).toBe('连续 3 次读数')
    expect(holdText({ ...flood, duration_secs: 7200, repeat: 2 }, t)).toBe('持续 2 小时，连续 2 次读数')
    expect(holdText({ ...flood, duration_secs: 0 }, t)).toBe('')
    expect(scopeText({ kind: 'all' }, t)).toBe('全部设备')
    expect(scopeText({ kind: 'device_type', device_type: 'water_level_gauge' }, t)).toBe('类型 water_level_gauge')
    expect(scheduleText(null, t)).toBe('全天')
    expect(scheduleText({ days: [1, 2, 3, 4, 5], from: '07:00', to: '09:00' }, t)).toBe('周一、周二、周三、周四、周五 07:00–09:00')
    expect(scheduleText({ days: [], from: '22:00', to: '06:00' }, t)).toBe('每天 22:00–06:00（跨午夜）')
  })

  it('speaks English, counting one apart', () => {
    i18n.global.locale.value = 'en'
    expect(conditionText(flood.condition, 'cm', t, 'en')).toBe('above 30 cm; clears at 25 cm or below')
    expect(conditionText({ kind: 'silent', minutes: 1 }, '', t, 'en')).toBe('no reading for 1 minute')
    expect(conditionText({ kind: 'falling', per_minute: 1.5 }, 'cm', t, 'en')).toBe('falling faster than 1.5 cm a minute')
    expect(holdText({ ...flood, duration_secs: 3600, repeat: 1 }, t)).toBe('for 1 hour')
    expect(holdText({ ...flood, duration_secs: 0, repeat: 2 }, t)).toBe('2 readings in a row')
    expect(scheduleText({ days: [6, 7], from: '10:00', to: '18:00' }, t)).toBe('Sat, Sun 10:00–18:00')
  })
})

describe('the rule list', () => {
  it('finds rules by indicator and text, sorted by indicator, then most severe first', () => {
    const rules: TelemetryRule[] = [
      { ...flood, id: 'gas-warning', name: '燃气', indicator: 'gas_concentration', level: 'orange' },
      { ...flood, id: 'flood-15cm', name: '积水15', level: 'yellow' },
      { ...flood, id: 'flood-50cm', name: '积水50', level: 'red' },
      flood,
    ]
    expect(sortRules(rules, INDICATORS).map((r) => r.id)).toEqual(['flood-50cm', 'flood-30cm-10min', 'flood-15cm', 'gas-warning'])
    expect(rules.filter((r) => matchesRule(r, { indicator: 'water_level', q: '' })).length).toBe(3)
    expect(rules.filter((r) => matchesRule(r, { indicator: '', q: 'GAS' })).map((r) => r.id)).toEqual(['gas-warning'])
    expect(rules.filter((r) => matchesRule(r, { indicator: '', q: '积水5' })).map((r) => r.id)).toEqual(['flood-50cm'])
  })

  it('is one of the administration sections, with the configuration in force', () => {
    expect(sectionOf('devices')).toBe('devices')
    expect(sectionOf('settings')).toBe('settings')
  })
})

describe('the rule tester', () => {
  const NOW = new Date('2026-12-06T05:00:00Z')

  it('replays the last hour, 6 or 24 hours, or a window typed in Beijing time', () => {
    expect(testWindow('1h', NOW)).toEqual({ window: { from: '2026-12-06T04:00:00.000Z', to: '2026-12-06T05:00:00.000Z' }, problems: {} })
    expect(testWindow('24h', NOW).window!.from).toBe('2026-12-05T05:00:00.000Z')
    expect(testWindow('custom', NOW, { from: '2026-12-06T08:00', to: '2026-12-06T13:30' }).window)
      .toEqual({ from: '2026-12-06T00:00:00.000Z', to: '2026-12-06T05:30:00.000Z' })
    expect(testWindow('custom', NOW, { from: '', to: '2026-12-06T13:30' }).problems).toEqual({ from: 'required' })
    expect(testWindow('custom', NOW, { from: '2026-12-06T13:30', to: '2026-12-06T13:30' }).problems).toEqual({ from: 'order' })
    expect(testWindow('custom', NOW, { from: 'yesterday', to: '2026-12-06T13:30' }).problems).toEqual({ from: 'datetime' })
  })

  it('sends the draft, the device and the window', () => {
    expect(ruleTestBody(flood, ' HP-WL-0001 ', { from: 'a', to: 'b' })).toEqual({ rule: flood, device: 'HP-WL-0001', from: 'a', to: 'b' })
  })

  it('draws the thresholds a chart of values can show', () => {
    expect(thresholds(flood.condition)).toEqual([{ value: 30, role: 'trigger' }, { value: 25, role: 'clear' }])
    expect(thresholds({ kind: 'above', value: 30, clear: 30 })).toEqual([{ value: 30, role: 'trigger' }])
    expect(thresholds({ kind: 'below', value: 2 })).toEqual([{ value: 2, role: 'trigger' }])
    expect(thresholds({ kind: 'outside', min: 60, max: 140, margin: 5 })).toEqual([
      { value: 60, role: 'trigger' }, { value: 140, role: 'trigger' }, { value: 65, role: 'clear' }, { value: 135, role: 'clear' },
    ])
    expect(thresholds({ kind: 'rising', per_minute: 3 })).toEqual([])
    expect(thresholds({ kind: 'silent', minutes: 30 })).toEqual([])
  })

  const events: RuleTestEvent[] = [
    { change: 'clear', alarm: 1, level: 'orange', value: 24, at: '2026-12-06T04:51:36Z' },
    { change: 'raise', alarm: 1, level: 'orange', value: 36, at: '2026-12-06T04:36:36Z' },
    { change: 'reopen', alarm: 1, level: 'orange', value: 33, at: '2026-12-06T04:54:00Z' },
    { change: 'repeat', alarm: 1, level: 'orange', value: 34, at: '2026-12-06T04:55:00Z' },
  ]

  it('pins each raise, reopen and clear, oldest first, and shades each stretch an alarm is active', () => {
    const markers = eventMarkers(events)
    expect(markers.map((m) => [m.change, new Date(m.at).toISOString()])).toEqual([
      ['raise', '2026-12-06T04:36:36.000Z'], ['clear', '2026-12-06T04:51:36.000Z'], ['reopen', '2026-12-06T04:54:00.000Z'],
    ])
    const end = Date.parse('2026-12-06T05:00:00Z')
    expect(alarmSpans(markers, end).map((s) => [new Date(s.from).toISOString(), new Date(s.to).toISOString(), s.level])).toEqual([
      ['2026-12-06T04:36:36.000Z', '2026-12-06T04:51:36.000Z', 'orange'],
      ['2026-12-06T04:54:00.000Z', '2026-12-06T05:00:00.000Z', 'orange'],
    ])
  })

  it('says what else the summary needs to', () => {
    const view = { watches_device: true, readings: 14, truncated: false, active_at_end: false, alarms: 1 }
    expect(testNotes(view)).toEqual([])
    expect(testNotes({ ...view, alarms: 0 })).toEqual(['nothing'])
    expect(testNotes({ ...view, watches_device: false, alarms: 0 })).toEqual(['notWatched'])
    expect(testNotes({ ...view, readings: 0, alarms: 0 })).toEqual(['noReadings'])
    expect(testNotes({ ...view, truncated: true, active_at_end: true })).toEqual(['truncated', 'activeAtEnd'])
  })

  it('makes the chart: readings over the window, the lines, the stretches and the pins', () => {
    const points = readingPoints([
      { at: '2026-12-06T04:40:00Z', value: 31 }, { at: '2026-12-06T04:38:00Z', value: 29 }, { at: 'garbage', value: 1 },
    ])
    expect(points).toEqual([[Date.parse('2026-12-06T04:38:00Z'), 29], [Date.parse('2026-12-06T04:40:00Z'), 31]])
    const window = { from: Date.parse('2026-12-06T04:00:00Z'), to: Date.parse('2026-12-06T05:00:00Z') }
    const option = testChartOption(points, eventMarkers(events), thresholds(flood.condition), window, {
      series: '读数', unit: 'cm', trigger: '触发', clear: '解除', change: { raise: '触发', reopen: '重新触发', clear: '解除' },
      time: (ms) => new Date(ms).toISOString().slice(11, 16), value: (v) => String(v),
    })
    expect(option.xAxis).toMatchObject({ type: 'time', min: window.from, max: window.to })
    const series = option.series[0]
    expect(series.data).toEqual(points)
    expect(series.markLine.data.map((d) => [d.yAxis, d.label.formatter])).toEqual([[30, '触发 30'], [25, '解除 25']])
    expect(series.markPoint.data.map((d) => [d.coord, d.value])).toEqual([
      [[Date.parse('2026-12-06T04:36:36Z'), 36], '触发'], [[Date.parse('2026-12-06T04:51:36Z'), 24], '解除'], [[Date.parse('2026-12-06T04:54:00Z'), 33], '重新触发'],
    ])
    expect(series.markArea.data).toHaveLength(2)
    expect(option.tooltip.formatter([{ value: points[1] }])).toBe('04:40<br/>读数: 31 cm')
  })
})

// ---- the dialog and its tester

const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
async function type(id: string, value: string) {
  const input = byId(id) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}
type Call = [string, RequestInit]
const call = (f: ReturnType<typeof mockFetch>, i: number) => {
  const [url, init] = f.mock.calls[i] as unknown as Call
  return { url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined }
}

describe('the rule dialog', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  async function open(rule: TelemetryRule | null = null) {
    const wrapper = mount(TelemetryRuleFormDialog, {
      props: { rule, indicators: INDICATORS, devices: [], initialDevice: 'HP-WL-0001' },
      global: { plugins: [i18n] },
      attachTo: document.body,
    })
    await vi.waitFor(() => expect(byId('rule-form')).not.toBeNull())
    await flushPromises()
    return wrapper
  }

  it('shows problems beside their fields and sends nothing', async () => {
    const f = mockFetch()
    const wrapper = await open()
    await type('rule-id', 'flood test')
    await type('rule-condition-value', '30')
    await type('rule-condition-clear', '35')
    byId('rule-form')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(byId('rule-error-id')!.textContent).toBe('只能包含字母、数字、-、_ 或 .，最多 64 位')
    expect(byId('rule-error-name')!.textContent).toBe('必填')
    expect(byId('rule-error-condition-clear')!.textContent).toBe('“高于”的解除值不能高于触发值')
    expect(byId('rule-condition-clear')!.getAttribute('aria-invalid')).toBe('true')
    // the tester asks the same of the draft
    byId('tester-run')!.click()
    await flushPromises()
    expect(byId('rule-error-condition-clear')).not.toBeNull()
    expect(f).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('tests the draft as it stands, and shows the server\'s refusals beside the fields they name', async () => {
    const f = mockFetch(
      jsonResponse(422, { error: { code: 'invalid_input', message: 'at most a week (604,800 s)', field: 'rule.duration_secs' } }),
      jsonResponse(200, []),
      jsonResponse(404, { error: { code: 'not_found', message: 'the device was not found', field: 'device' } }),
      jsonResponse(404, { error: { code: 'not_found', message: 'the device was not found' } }),
    )
    const wrapper = await open(flood)
    expect((byId('rule-id') as HTMLInputElement).disabled).toBe(true)
    expect((byId('tester-device') as HTMLInputElement).value).toBe('HP-WL-0001')
    byId('tester-run')!.click()
    await flushPromises()
    const test = call(f, 0)
    expect(test).toMatchObject({ url: '/api/v1/telemetry/rule-tests', method: 'POST' })
    expect(test.body.rule).toEqual({ ...flood, schedule: undefined, enabled: true })
    expect(test.body.device).toBe('HP-WL-0001')
    expect(Date.parse(test.body.to) - Date.parse(test.body.from)).toBe(3600_000)
    expect(call(f, 1).url).toMatch(/^\/api\/v1\/devices\/HP-WL-0001\/readings\?indicator=water_level&from=.*&limit=10000$/)
    expect(byId('rule-error-duration_secs')!.textContent).toBe('at most a week (604,800 s)')
    expect(byId('tester-result')).toBeNull()

    byId('tester-run')!.click()
    await flushPromises()
    expect(byId('tester-error-device')!.textContent).toBe('the device was not found')
    expect(byId('rule-error-duration_secs')).toBeNull()
    wrapper.unmount()
  })
})
