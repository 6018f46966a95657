// Emergencies on the client: level colours, the expiry countdown, which warnings and incidents a
// live list keeps, the task board's columns and order, who may act on a task, and the timeline's
// response history, situation reports and words, in Chinese and English.
import { beforeEach, describe, expect, it } from 'vitest'
import { i18n } from '../src/i18n'
import zh from '../src/locales/zh-CN'
import en from '../src/locales/en'
import type { IncidentEvent, IncidentView, TaskView, WarningView } from '../src/api/types'
import {
  capElement, compareTasks, describeEvent, expiresSoon, expiryText, fieldName, HAZARDS, isCurrentWarning, mayUseEmergency,
  minutesUntil, newerIncident, parseNumber, problemOf, RESPONSE_LEVELS, responseColors, responseHistory, sitreps, sortIncidents,
  sortWarnings, TASK_STATES, taskActions, taskProgress, tasksByState, taskStateClass, upsertIncident, upsertWarning,
  WARNING_COLORS, WARNING_LEVELS_DESC, warningColors,
} from '../src/lib/emergency'
import { isCenterStaff, isLeader } from '../src/lib/emergencyRoles'
import { ApiError } from '../src/api/client'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
const NOW = Date.parse('2026-12-07T10:00:00Z')
const iso = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString()

function warning(over: Partial<WarningView> = {}): WarningView {
  return {
    id: 'w1', hazard: 'rainstorm', hazard_zh: '暴雨', level: 'red', level_zh: '红色预警', areas: ['310101'], headline: '暴雨红色预警',
    description: '', issued_at: iso(-10), expires_at: iso(360), lifted_at: null, status: 'in_force', source: 'cap', cap_identifier: 'x',
    adjustments: [], version: 1, history: [], ...over,
  }
}
function task(over: Partial<TaskView> = {}): TaskView {
  return { id: 1, unit: '310101-SWJ', title: '强排', deadline: iso(120), state: 'assigned', overdue: false, assigned_at: iso(-5), photos: [], ...over }
}
function incident(over: Partial<IncidentView> = {}): IncidentView {
  return {
    id: 'i1', kind: 'natural_disaster', kind_zh: '自然灾害', severity: 'III', severity_zh: '较大', title: '暴雨内涝应急预案', description: '',
    areas: ['310101002'], center: '310101002', state: 'active', response: null, lead_unit: '310101-SWJ', tasks: [], resources: [], warnings: [],
    plan: 'rainstorm', adjustments: [], link_classes: [], notices: [], opened_at: iso(-30), stood_down_at: null, version: 1, ...over,
  }
}
function event(seq: number, action: string, details: Record<string, unknown>, over: Partial<IncidentEvent> = {}): IncidentEvent {
  return { seq, at: iso(seq), username: 'leader', role: 'center_leader', unit: 'C-310000', action, details, ...over }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('colours', () => {
  it('gives each warning level its hue, red to blue, and grey to an unknown one', () => {
    expect(WARNING_LEVELS_DESC).toEqual(['red', 'orange', 'yellow', 'blue'])
    expect(warningColors('red')).toEqual(WARNING_COLORS.red)
    expect(warningColors('red').background).toBe('#c62828')
    expect(warningColors('blue').color).toBe('#ffffff')
    expect(warningColors('yellow').color).toBe('#1a1a1a')
    expect(warningColors('purple').background).toBe('#9e9e9e')
    expect(warningColors(null).background).toBe('#9e9e9e')
  })

  it('colours a response level by the warning hue it answers: 一级 red .. 四级 blue', () => {
    expect(RESPONSE_LEVELS).toEqual(['1', '2', '3', '4'])
    expect(responseColors('1')).toEqual(WARNING_COLORS.red)
    expect(responseColors('2')).toEqual(WARNING_COLORS.orange)
    expect(responseColors('3')).toEqual(WARNING_COLORS.yellow)
    expect(responseColors('4')).toEqual(WARNING_COLORS.blue)
    expect(responseColors(null).background).toBe('#9e9e9e')
  })

  it('marks a task by its state, and an open overdue one besides', () => {
    expect(taskStateClass('accepted')).toBe('task-accepted')
    expect(taskStateClass('in_progress', true)).toBe('task-in_progress task-overdue')
    expect(taskStateClass('done', true)).toBe('task-done')
  })
})

describe('the expiry countdown', () => {
  it('reads the time left in the UI language, and expired after', () => {
    expect(expiryText(iso(359.5), NOW, t)).toBe('剩余5小时59分')
    expect(expiryText(iso(0.5), NOW, t)).toBe('剩余不足1分钟')
    expect(expiryText(iso(-1), NOW, t)).toBe('已过期')
    expect(expiryText(null, NOW, t)).toBe('—')
    i18n.global.locale.value = 'en'
    expect(expiryText(iso(1500), NOW, t)).toBe('1 d 1 h left')
    expect(expiryText(iso(0), NOW, t)).toBe('expired')
  })

  it('counts whole minutes and marks the last hour', () => {
    expect(minutesUntil(iso(59.9), NOW)).toBe(59)
    expect(minutesUntil(iso(-2.5), NOW)).toBe(-2)
    expect(minutesUntil('not a time', NOW)).toBeNull()
    expect(expiresSoon(iso(59), NOW)).toBe(true)
    expect(expiresSoon(iso(61), NOW)).toBe(false)
    expect(expiresSoon(iso(-1), NOW)).toBe(false)
  })
})

describe('warning lists', () => {
  it('keeps issued and in-force warnings until they expire or are lifted', () => {
    expect(isCurrentWarning(warning(), NOW)).toBe(true)
    expect(isCurrentWarning(warning({ status: 'issued', issued_at: iso(30) }), NOW)).toBe(true)
    expect(isCurrentWarning(warning({ expires_at: iso(-1) }), NOW)).toBe(false)
    expect(isCurrentWarning(warning({ status: 'lifted', lifted_at: iso(-1) }), NOW)).toBe(false)
    expect(isCurrentWarning(warning({ status: 'expired' }), NOW)).toBe(false)
  })

  it('lists the current first, the most severe first, then the latest issued', () => {
    const list = sortWarnings([
      warning({ id: 'blue', level: 'blue' }),
      warning({ id: 'old-red', level: 'red', issued_at: iso(-100) }),
      warning({ id: 'red', level: 'red', issued_at: iso(-5) }),
      warning({ id: 'gone', level: 'red', status: 'lifted', lifted_at: iso(-1) }),
      warning({ id: 'orange', level: 'orange' }),
    ], NOW)
    expect(list.map((w) => w.id)).toEqual(['red', 'old-red', 'orange', 'blue', 'gone'])
  })

  it('takes the newer version of a warning, and drops one lifted unless past ones are kept', () => {
    let list = upsertWarning([], warning({ version: 2, level: 'orange' }), false, NOW)
    list = upsertWarning(list, warning({ version: 1, level: 'red' }), false, NOW)
    expect(list).toHaveLength(1)
    expect(list[0].level).toBe('orange')
    const lifted = warning({ version: 3, status: 'lifted', lifted_at: iso(0) })
    expect(upsertWarning(list, lifted, false, NOW)).toEqual([])
    expect(upsertWarning(list, lifted, true, NOW)[0].status).toBe('lifted')
    expect(upsertWarning(list, warning({ id: 'w2', level: 'red' }), false, NOW).map((w) => w.id)).toEqual(['w2', 'w1'])
  })
})

describe('incident lists', () => {
  it('lists the strongest response first, then those without one, then the latest opened', () => {
    const list = sortIncidents([
      incident({ id: 'none-old', opened_at: iso(-100) }),
      incident({ id: 'l4', response: { level: '4', level_zh: '四级响应', reason: 'r', username: 'leader', at: iso(0) } }),
      incident({ id: 'none-new', opened_at: iso(-1) }),
      incident({ id: 'l2', response: { level: '2', level_zh: '二级响应', reason: 'r', username: 'leader', at: iso(0) } }),
      incident({ id: 'down', state: 'stood_down' }),
    ])
    expect(list.map((i) => i.id)).toEqual(['l2', 'l4', 'none-new', 'none-old', 'down'])
  })

  it('keeps the higher version, and drops a stood-down incident unless past ones are kept', () => {
    let list = upsertIncident([], incident({ version: 5, title: 'new' }))
    list = upsertIncident(list, incident({ version: 4, title: 'old' }))
    expect(list.map((i) => i.title)).toEqual(['new'])
    const down = incident({ version: 6, state: 'stood_down' })
    expect(upsertIncident(list, down)).toEqual([])
    expect(upsertIncident(list, down, true)[0].state).toBe('stood_down')
    expect(newerIncident(incident({ version: 3 }), incident({ version: 2 }))?.version).toBe(3)
    expect(newerIncident(null, incident({ version: 2 }))?.version).toBe(2)
    expect(newerIncident(incident({ version: 2, title: 'a' }), incident({ version: 2, title: 'b' }))?.title).toBe('b')
  })
})

describe('the task board', () => {
  const tasks = [
    task({ id: 1, state: 'assigned', deadline: iso(240) }),
    task({ id: 2, state: 'assigned', deadline: iso(60) }),
    task({ id: 3, state: 'assigned', deadline: iso(300), overdue: true }),
    task({ id: 4, state: 'done', report: '已强排' }),
    task({ id: 5, state: 'in_progress' }),
    task({ id: 6, state: 'unable', report: '无车辆' }),
  ]

  it('has a column per state in board order, overdue first, then by deadline', () => {
    expect(TASK_STATES).toEqual(['assigned', 'accepted', 'in_progress', 'done', 'unable'])
    const cols = tasksByState(tasks)
    expect(Object.keys(cols)).toEqual(TASK_STATES)
    expect(cols.assigned.map((x) => x.id)).toEqual([3, 2, 1])
    expect(cols.accepted).toEqual([])
    expect(cols.done.map((x) => x.id)).toEqual([4])
    expect(cols.unable.map((x) => x.id)).toEqual([6])
  })

  it('orders finished tasks after open ones, and counts progress', () => {
    expect([...tasks].sort(compareTasks).map((x) => x.id)).toEqual([3, 2, 5, 1, 4, 6])
    expect(taskProgress(tasks)).toEqual({ total: 6, done: 1, unable: 1, overdue: 1 })
    expect(taskProgress([task({ state: 'done', overdue: true })]).overdue).toBe(0)
  })

  it("offers a unit's handler the next steps of their own unit's tasks only", () => {
    const me = { role: 'unit_handler' as const, unit: '310101-SWJ' }
    expect(taskActions(task({ state: 'assigned' }), me)).toEqual(['accept', 'start', 'unable'])
    expect(taskActions(task({ state: 'accepted' }), me)).toEqual(['start', 'finish', 'unable'])
    expect(taskActions(task({ state: 'in_progress' }), me)).toEqual(['finish', 'unable'])
    expect(taskActions(task({ state: 'done' }), me)).toEqual([])
    expect(taskActions(task({ unit: '310101002-JDB' }), me)).toEqual([])
    expect(taskActions(task(), { role: 'center_leader', unit: '310101-SWJ' })).toEqual([])
    expect(taskActions(task(), { role: 'unit_handler', unit: null })).toEqual([])
  })
})

describe('who may do what', () => {
  it('opens the page to the center staff and unit handlers; the response is the leader’s', () => {
    expect(['center_leader', 'shift_lead', 'dispatcher', 'unit_handler'].every((r) => mayUseEmergency(r as never))).toBe(true)
    expect(['operator', 'inspector', 'admin', 'evaluator'].some((r) => mayUseEmergency(r as never))).toBe(false)
    expect(mayUseEmergency(null)).toBe(false)
    expect(isCenterStaff('dispatcher')).toBe(true)
    expect(isCenterStaff('unit_handler')).toBe(false)
    expect(isLeader('center_leader')).toBe(true)
    expect(isLeader('shift_lead')).toBe(false)
  })
})

describe('the timeline', () => {
  const timeline = [
    event(1, 'open', { title: '暴雨内涝应急预案' }),
    event(2, 'assign_task', { unit: '310101-SWJ', title: '强排', deadline: '2026-12-07T12:00:00Z' }),
    event(3, 'set_response', { level: '2', reason: '暴雨红色预警' }),
    event(4, 'finish_task', { task: 1, report: '已强排', photos: [] }, { username: 'drainage', role: 'unit_handler', unit: '310101-SWJ' }),
    event(5, 'sitrep', { text: '积水消退' }, { username: 'shiftlead', role: 'shift_lead' }),
    event(6, 'set_response', { level: '4', reason: '雨势减弱' }),
    event(7, 'add_resource', { kind: 'pump_truck', name: '移动泵车', quantity: 2, unit: null, location: { lon: 121.48, lat: 31.23 } }),
    event(8, 'move_resource', { resource: 1, state: 'deployed' }),
    event(9, 'stand_down', { reason: '险情解除' }),
  ]

  it('gives the response history newest first, with the reasons', () => {
    expect(responseHistory(timeline)).toEqual([
      { seq: 6, at: iso(6), username: 'leader', level: '4', reason: '雨势减弱' },
      { seq: 3, at: iso(3), username: 'leader', level: '2', reason: '暴雨红色预警' },
    ])
  })

  it('gives the situation reports newest first', () => {
    const more = [...timeline, event(10, 'sitrep', { text: '第二条' }, { username: 'drainage', role: 'unit_handler', unit: '310101-SWJ' })]
    expect(sitreps(more).map((s) => [s.seq, s.text, s.unit])).toEqual([[10, '第二条', '310101-SWJ'], [5, '积水消退', 'C-310000']])
  })

  it('puts each step in words, in Chinese and English', () => {
    const words = {
      t, unit: (c: string) => (c === '310101-SWJ' ? '黄浦区水务局' : c), task: (id: number) => (id === 1 ? '强排' : null), when: () => '12-07 20:00',
    }
    const said = timeline.map((e) => describeEvent(e, words))
    expect(said).toEqual([
      '暴雨内涝应急预案', '黄浦区水务局：强排，12-07 20:00 前完成', '二级响应：暴雨红色预警', '任务 #1“强排”：已强排', '积水消退',
      '四级响应：雨势减弱', '移动泵车 × 2（排水泵车）', '资源 #1 → 已部署', '险情解除',
    ])
    expect(describeEvent(event(1, 'accept_task', { task: 9 }), words)).toBe('任务 #9')
    expect(describeEvent(event(1, 'something_new', { x: 1 }), words)).toBe('')
    i18n.global.locale.value = 'en'
    expect(describeEvent(timeline[2], words)).toBe('Level II response: 暴雨红色预警')
    expect(describeEvent(timeline[7], words)).toBe('resource #1 → Deployed')
  })
})

describe('forms and refusals', () => {
  it('reads numbers typed as text', () => {
    expect(parseNumber('')).toBeNull()
    expect(parseNumber('  ')).toBeNull()
    expect(parseNumber(null)).toBeNull()
    expect(parseNumber(' 121.48 ')).toBe(121.48)
    expect(parseNumber('abc')).toBeNaN()
  })

  it('names the element a refused CAP file was refused for', () => {
    expect(capElement(new ApiError(422, 'invalid_file', 'not a CAP 1.2 alert: <html> is the root element', 'html'))).toBe('html')
    expect(capElement(new ApiError(422, 'invalid_input', 'x', 'sender'))).toBeNull()
    expect(capElement(null)).toBeNull()
    expect(fieldName('areas[2]')).toBe('areas')
    expect(fieldName('location.lon')).toBe('location')
    expect(fieldName(undefined)).toBeNull()
  })

  it('words a refusal in the UI language, beside its field', () => {
    expect(problemOf(new ApiError(422, 'invalid_input', 'reason: must not be empty', 'reason'), t)).toEqual({ text: '必填', field: 'reason', code: 'invalid_input' })
    expect(problemOf(new ApiError(403, 'role_not_allowed', 'a shift_lead may not set_response'), t).text).toBe('您的角色不能执行此操作')
    expect(problemOf(new ApiError(422, 'unknown_reference', 'unit: NOPE is no active unit', 'unit'), t))
      .toEqual({ text: '编码不存在或已停用：NOPE is no active unit', field: 'unit', code: 'unknown_reference' })
    expect(problemOf(new ApiError(0, 'network', 'offline'), t).text).toBe('网络错误')
    i18n.global.locale.value = 'en'
    expect(problemOf(new ApiError(409, 'transition_not_allowed', 'task 3 is assigned'), t).text).toBe('Not possible now: task 3 is assigned')
    expect(problemOf(new ApiError(422, 'inconsistent_fields', 'deadline: a deadline is after now', 'deadline'), t))
      .toEqual({ text: 'Failed: a deadline is after now', field: 'deadline', code: 'inconsistent_fields' })
  })
})

describe('the words', () => {
  it('has every hazard, level and state in both languages, the English with no Chinese', () => {
    const han = /\p{Script=Han}/u
    for (const h of HAZARDS) {
      expect(zh.emergency.hazards[h]).toMatch(han)
      expect(en.emergency.hazards[h]).not.toMatch(han)
    }
    const walk = (o: unknown, path: string): void => {
      if (typeof o === 'string') expect(o, path).not.toMatch(han)
      else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`)
    }
    walk(en.emergency, 'emergency')
    expect(en.nav.emergency).toBe('Emergency')
  })
})
