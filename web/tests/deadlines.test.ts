// Stage clocks in the UI: countdowns in working or natural time, marks, escalations, and the
// timeline's lines about clocks and the overdue watch, in Chinese and English.
import { beforeEach, describe, expect, it } from 'vitest'
import { i18n } from '../src/i18n'
import type { TimeLeftView } from '../src/api/types'
import { clockText, countdownText, escalationText, findingText, formatDuration, markClass, termBody } from '../src/lib/deadlines'
import { buildBody, initialValues } from '../src/lib/commands'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
const left = (minutes_left: number, working_time: boolean, mark: TimeLeftView['mark']): TimeLeftView => ({
  stage: 'handling', deadline: '2026-11-30T09:30:00Z', term: { amount: 2, unit: 'working_days' }, working_time,
  minutes_left, used: 0.8, mark,
})

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('countdowns', () => {
  it('counts working time in hours, natural time in days', () => {
    expect(formatDuration(1500, t, true)).toBe('25小时')
    expect(formatDuration(1500, t, false)).toBe('1天1小时')
    expect(formatDuration(0, t, false)).toBe('不足1分钟')
    i18n.global.locale.value = 'en'
    expect(formatDuration(135, t, true)).toBe('2 h 15 min')
  })

  it('says less than a minute, never 0 min, under a whole minute, in working and natural time', () => {
    for (const working of [true, false]) {
      expect(formatDuration(0, t, working)).toBe('不足1分钟')
      expect(formatDuration(-0, t, working)).toBe('不足1分钟')
      // a parked clock's seconds, and a part's clock reckoned on the phone, are fractions
      expect(formatDuration(0.5, t, working)).toBe('不足1分钟')
      expect(formatDuration(-0.99, t, working)).toBe('不足1分钟')
      expect(formatDuration(1, t, working)).toBe('1分')
      expect(formatDuration(-1, t, working)).toBe('1分')
      expect(formatDuration(60, t, working)).toBe('1小时')
    }
    i18n.global.locale.value = 'en'
    expect(formatDuration(0, t, true)).toBe('less than 1 min')
    expect(formatDuration(0.5, t, false)).toBe('less than 1 min')
    expect(formatDuration(1, t, false)).toBe('1 min')
    expect(formatDuration(1440, t, false)).toBe('1 d')
    expect(formatDuration(1441, t, true)).toBe('24 h 1 min')
  })

  it('counts down the last minute before a deadline and the first one after it as less than a minute', () => {
    // the server's minutes are whole, rounded toward zero: 0 on both sides of the deadline
    expect(countdownText(left(0, false, 'due'), t)).toBe('剩余不足1分钟')
    expect(countdownText(left(0, true, 'due'), t)).toBe('剩余不足1分钟（工作时间）')
    expect(countdownText(left(0, false, 'overdue'), t)).toBe('已超期不足1分钟')
    expect(countdownText(left(0, true, 'overdue'), t)).toBe('已超期不足1分钟（工作时间）')
    expect(countdownText(left(1, false, 'due'), t)).toBe('剩余1分')
    expect(countdownText(left(-1, false, 'overdue'), t)).toBe('已超期1分')
    i18n.global.locale.value = 'en'
    expect(countdownText(left(0, false, 'due'), t)).toBe('less than 1 min left')
    expect(countdownText(left(0, true, 'due'), t)).toBe('less than 1 min left (working time)')
    expect(countdownText(left(0, false, 'overdue'), t)).toBe('overdue by less than 1 min')
    expect(countdownText(left(0, true, 'overdue'), t)).toBe('overdue by less than 1 min (working time)')
    expect(countdownText(left(-1, true, 'overdue'), t)).toBe('overdue by 1 min (working time)')
  })

  it('says a clock parked in its last minute has less than a minute left', () => {
    const parked = { stage: 'handling', deadline: null, warning: null, reason: { kind: 'parked', remaining_secs: 40, working_time: true } } as const
    expect(clockText(parked, t, String)).toBe('挂起停止计时，剩余不足1分钟')
    i18n.global.locale.value = 'en'
    expect(clockText(parked, t, String)).toBe('Clock stopped while parked, less than 1 min left')
    expect(clockText({ ...parked, reason: { ...parked.reason, remaining_secs: 150 } }, t, String)).toBe('Clock stopped while parked, 3 min left')
  })

  it('says what is left, or how far past the deadline, and in which time', () => {
    expect(countdownText(left(135, true, 'due'), t)).toBe('剩余2小时15分（工作时间）')
    expect(countdownText(left(-65, false, 'overdue'), t)).toBe('已超期1小时5分')
    i18n.global.locale.value = 'en'
    expect(countdownText(left(135, true, 'due'), t)).toBe('2 h 15 min left (working time)')
    expect(countdownText(left(-65, false, 'overdue'), t)).toBe('overdue by 1 h 5 min')
  })

  it('colours yellow and red only', () => {
    expect(markClass('due')).toBe('due')
    expect(markClass('overdue')).toBe('overdue')
    expect(markClass('on_time')).toBe('on-time')
    expect(markClass(null)).toBe('on-time')
  })
})

describe('the watch', () => {
  it('names the escalation step', () => {
    const watch = { stage: 'handling', mark: 'overdue', steps: 2, escalated_to: 'next_center', center: '310101', escalated_at: null, next_step_at: null } as const
    expect(escalationText(watch, t)).toBe('已上报310101中心')
    expect(escalationText({ ...watch, escalated_to: 'unit_head' }, t)).toBe('已催办单位负责人')
    expect(escalationText({ ...watch, escalated_to: null }, t)).toBeNull()
  })

  it('reads every finding on the timeline', () => {
    expect(findingText({ finding: 'due', stage: 'handling' }, t)).toBe('处置临期（黄色预警）')
    expect(findingText({ finding: 'overdue', stage: 'check' }, t)).toBe('核查超期（红色预警）')
    expect(findingText({ finding: 'escalated', stage: 'handling', to: 'next_center', center: '310101' }, t))
      .toBe('处置超期：已上报310101中心')
    expect(findingText({ finding: 'supervision_overdue' }, t)).toBe('督办单超过答复时限未答复')
    expect(findingText({ opinion: 'x' }, t)).toBeNull()
  })

  it('reads an assisting unit\'s part turning yellow or red, naming the unit where its name is known', () => {
    const names: Record<string, string> = { '310101-GD': '黄浦区供电公司' }
    const unitName = (code: string) => names[code] ?? code
    const center = (c: string) => c
    expect(findingText({ finding: 'assist_due', unit: '310101-GD' }, t, center, unitName))
      .toBe('协办单位黄浦区供电公司的协办部分临期（黄色预警）')
    expect(findingText({ finding: 'assist_overdue', unit: '310101-GD' }, t, center, unitName))
      .toBe('协办单位黄浦区供电公司的协办部分超期（红色预警）')
    // a unit the page does not know, and a page that names no units, show the code
    expect(findingText({ finding: 'assist_overdue', unit: '310101-SW' }, t, center, unitName))
      .toBe('协办单位310101-SW的协办部分超期（红色预警）')
    expect(findingText({ finding: 'assist_due', unit: '310101-GD' }, t)).toBe('协办单位310101-GD的协办部分临期（黄色预警）')
    i18n.global.locale.value = 'en'
    expect(findingText({ finding: 'assist_due', unit: '310101-GD' }, t, center, unitName))
      .toBe('Assisting unit 黄浦区供电公司\'s part is due soon (yellow)')
    expect(findingText({ finding: 'assist_overdue', unit: '310101-SW' }, t, center, unitName))
      .toBe('Assisting unit 310101-SW\'s part is overdue (red)')
    // the lead's own findings are unchanged by the unit's namer
    expect(findingText({ finding: 'overdue', stage: 'handling' }, t, center, unitName)).toBe('Handling: overdue (red)')
  })

  it('reads a clock that started with its term and yellow point', () => {
    i18n.global.locale.value = 'en'
    const line = clockText(
      { stage: 'handling', deadline: 'D', warning: 'W', reason: { kind: 'started', term: { amount: 2, unit: 'working_days' }, working_time: true } },
      t, (iso) => String(iso),
    )
    expect(line).toBe('Handling clock: 2 working days, due D (due soon from W)')
    expect(clockText({ stage: null, deadline: null, warning: null, reason: { kind: 'stopped' } }, t, String)).toBe('Stage clock stopped')
  })
})

describe('the supervision notice form', () => {
  it('starts with a working day and sends the term as amount and unit', () => {
    const values = initialValues('supervise')
    expect(values.term).toBe('1:working_days')
    values.opinion = '请尽快答复'
    values.term = '2:hours'
    expect(buildBody('supervise', values, 7)).toEqual({ version: 7, opinion: '请尽快答复', term: { amount: 2, unit: 'hours' } })
    expect(termBody('x')).toBeNull()
  })
})
