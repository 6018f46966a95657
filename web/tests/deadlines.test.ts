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
    expect(formatDuration(0, t, false)).toBe('0分')
    i18n.global.locale.value = 'en'
    expect(formatDuration(135, t, true)).toBe('2 h 15 min')
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
