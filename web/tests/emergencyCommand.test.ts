// The command view's additions: the zone drawn on the map (its ring as the server takes it), the
// live alarm list of the incident's areas and the map's markers, task photos (which files may go,
// uploaded first and then named in the finish), the notices a unit was sent, rule adjustments,
// the timeline's new steps in words, and the tasks on the command map (a street office's street
// outlined in its task's state, every task in the strip below), in Chinese and English.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n } from '../src/i18n'
import type { AlarmView, IncidentView, LinkView, RuleAdjustment, TaskView } from '../src/api/types'
import {
  checkTaskPhotos, describeEvent, inAreas, incidentAlarms, isClassCode, isTaskOverdue, linkClassesText, linkClassName, linkMarkers, noticesFor, notifiedIncidents, reportFileName, sameAdjustments,
  TASK_OVERDUE_COLOR, TASK_PHOTO_BYTES, TASK_PHOTO_MAX, TASK_STATE_COLORS, taskAreaOf, taskStateClass, taskStreets, withAdjustment, zonePolygon, zoneRing,
  ZONE_MAX_POSITIONS,
} from '../src/lib/emergency'
import { useAuth } from '../src/stores/auth'
import TaskActions from '../src/components/emergency/TaskActions.vue'
import { forgetLinkCatalog } from '../src/components/emergency/useLinkClasses'
import { jsonResponse, mockFetch } from './helpers'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
const NOW = Date.parse('2026-12-07T10:00:00Z')
const iso = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString()

function task(over: Partial<TaskView> = {}): TaskView {
  return { id: 1, unit: '310101-SWJ', title: '强排', deadline: iso(120), state: 'accepted', overdue: false, assigned_at: iso(-5), photos: [], ...over }
}
function incident(over: Partial<IncidentView> = {}): IncidentView {
  return {
    id: 'i1', kind: 'natural_disaster', kind_zh: '自然灾害', severity: 'III', severity_zh: '较大', title: '暴雨内涝应急预案', description: '',
    areas: ['310101002', '310104'], center: '310000', state: 'active', response: null, lead_unit: '310101-SWJ', tasks: [], resources: [], warnings: [],
    plan: 'rainstorm', adjustments: [], link_classes: [], opened_at: iso(-30), stood_down_at: null, version: 1, zone: null, notices: [], ...over,
  }
}
function alarm(over: Partial<AlarmView> = {}): AlarmView {
  return {
    id: 'a1', device_id: 'HP-UP-1', rule_id: 'underpass', rule_name: '下立交积水', indicator: 'water_level', level: 'orange', level_zh: '橙色预警',
    area: '310101002003', location: { lon: 121.4837, lat: 31.2369 }, active: true, acknowledged: false, state: 'active_unacknowledged',
    raised_at: iso(1), last_at: iso(1), first_value: 12, last_value: 12, min_value: 12, max_value: 12, readings: 1, flaps: 0, ...over,
  } as AlarmView
}
function link(over: Partial<LinkView> = {}): LinkView {
  return { kind: 'alarm', target: 'a9', at: iso(-20), auto: true, title: '下立交积水 · HP-UP-2', state: 'active', level: 'red', location: { lon: 121.48, lat: 31.23 }, ...over }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('the zone drawn on the map', () => {
  const square: [number, number][] = [[121.47, 31.23], [121.49, 31.23], [121.49, 31.25], [121.47, 31.25]]

  it('closes the ring: the first vertex repeated at the end', () => {
    const { ring, problem } = zoneRing(square)
    expect(problem).toBeNull()
    expect(ring).toEqual([...square, square[0]])
    expect(zonePolygon(square)).toEqual({ type: 'Polygon', coordinates: [[...square, square[0]]] })
  })

  it('keeps a vertex clicked twice in a row once, and takes a last vertex on the first as the closing one', () => {
    const clicked = [square[0], square[1], square[1], square[2], square[3], square[3], square[0]]
    expect(zoneRing(clicked).ring).toEqual([...square, square[0]])
    // to 6 decimals: a jitter below 0.1 m is the same vertex
    expect(zoneRing([...square, [121.4700000001, 31.2300000001]]).ring).toHaveLength(5)
  })

  it('needs at least 3 distinct vertices, not all on one line', () => {
    expect(zoneRing([])).toEqual({ ring: null, problem: 'few' })
    expect(zoneRing([square[0], square[1]]).problem).toBe('few')
    expect(zoneRing([square[0], square[1], square[0], square[1]]).problem).toBe('few')
    expect(zoneRing([[121.47, 31.23], [121.48, 31.24], [121.49, 31.25]]).problem).toBe('flat')
    expect(zoneRing([square[0], square[1], square[2]]).ring).toHaveLength(4)
    expect(zonePolygon([square[0], square[1]])).toBeNull()
  })

  it('holds at most 500 positions, the closing one included', () => {
    const circle = (n: number) => Array.from({ length: n }, (_, i) => [121.48 + 0.01 * Math.cos((2 * Math.PI * i) / n), 31.24 + 0.01 * Math.sin((2 * Math.PI * i) / n)])
    expect(ZONE_MAX_POSITIONS).toBe(500)
    const most = zoneRing(circle(499))
    expect(most.problem).toBeNull()
    expect(most.ring).toHaveLength(500)
    expect(zoneRing(circle(500))).toEqual({ ring: null, problem: 'many' })
  })

  it('drops vertices that are not numbers, and rounds to 6 decimals', () => {
    const { ring } = zoneRing([[121.123456789, 31.1], [NaN, 31], [121.2, 31.1], [121.2, 31.2]])
    expect(ring?.[0]).toEqual([121.123457, 31.1])
    expect(ring).toHaveLength(4)
  })
})

describe('the live alarm list and the command map', () => {
  it('takes an alarm within one of the incident’s areas (codes are prefixes)', () => {
    expect(inAreas('310101002003', ['310101002'])).toBe(true)
    expect(inAreas('310104011001', ['310101002', '310104'])).toBe(true)
    expect(inAreas('310101013001', ['310101002'])).toBe(false)
    expect(inAreas('31010100200301', ['310101002'])).toBe(true) // a unit grid
    expect(inAreas('', ['310101002'])).toBe(false)
    expect(inAreas('abc', ['310101002'])).toBe(false)
  })

  it('lists the live alarms of the areas and the linked ones, newest first, one row each, at most 50', () => {
    const live = [
      alarm({ id: 'a1', raised_at: iso(1) }),
      alarm({ id: 'a2', area: '310105001001', raised_at: iso(2) }), // 长宁: not the incident's
      alarm({ id: 'a9', level: 'red', raised_at: iso(-25), last_value: 30 }), // also linked
      alarm({ id: 'a3', area: '310104011001', raised_at: iso(3), level: 'yellow' }),
    ]
    const links = [link(), link({ kind: 'case', target: 'c1', title: '2026120700001 · 积水', level: null, state: 'dispatched' }), link({ target: 'a8', at: iso(-40), location: null })]
    const rows = incidentAlarms(live, links, incident().areas)
    expect(rows.map((r) => [r.id, r.linked, r.live])).toEqual([['a3', false, true], ['a1', false, true], ['a9', true, true], ['a8', true, false]])
    expect(rows[0]).toMatchObject({ title: '下立交积水 · HP-UP-1', level: 'yellow', value: 12, area: '310104011001' })
    expect(rows.find((r) => r.id === 'a9')?.value).toBe(30)
    const many = Array.from({ length: 80 }, (_, i) => alarm({ id: `m${i}`, raised_at: iso(i) }))
    const capped = incidentAlarms(many, [], ['310101002'])
    expect(capped).toHaveLength(50)
    expect(capped[0].id).toBe('m79')
  })

  it('puts the linked alarms (by level) and cases with a place on the map, and the live alarms too', () => {
    const links = [link(), link({ kind: 'case', target: 'c1', level: null, location: { lon: 121.47, lat: 31.22 } }), link({ target: 'a8', location: null })]
    const rows = incidentAlarms([alarm()], links, ['310101002'])
    const marks = linkMarkers(links, rows)
    expect(marks.map((m) => [m.kind, m.id, m.level])).toEqual([['alarm', 'a9', 'red'], ['case', 'c1', null], ['alarm', 'a1', 'orange']])
    expect(marks[2]).toMatchObject({ lon: 121.4837, lat: 31.2369, label: '下立交积水 · HP-UP-1' })
  })
})

describe('task photos', () => {
  const file = (name: string, type = 'image/png', size = 1000) => ({ name, type, size })

  it('takes JPEG, PNG and WebP images of at most 10 MiB, at most 9 in all', () => {
    const { accepted, refused } = checkTaskPhotos([file('a.png'), file('b.jpg', 'image/jpeg'), file('c.webp', 'image/webp'), file('d.gif', 'image/gif'),
      file('e.heic', 'image/heic'), file('f.png', 'image/png', TASK_PHOTO_BYTES + 1), file('g.pdf', 'application/pdf')])
    expect(accepted.map((f) => f.name)).toEqual(['a.png', 'b.jpg', 'c.webp'])
    expect(refused).toEqual([
      { name: 'd.gif', why: 'type' }, { name: 'e.heic', why: 'type' }, { name: 'f.png', why: 'size' }, { name: 'g.pdf', why: 'type' },
    ])
    expect(checkTaskPhotos([file('x.png', 'image/png', TASK_PHOTO_BYTES)]).accepted).toHaveLength(1)
    const more = checkTaskPhotos(Array.from({ length: 5 }, (_, i) => file(`${i}.png`)), 6)
    expect(TASK_PHOTO_MAX).toBe(9)
    expect(more.accepted).toHaveLength(3)
    expect(more.refused.map((r) => r.why)).toEqual(['count', 'count'])
  })

  describe('the finish form', () => {
    const created: string[] = []
    beforeEach(() => {
      setActivePinia(createPinia())
      const auth = useAuth()
      auth.session = {
        expires_at: iso(600), csrf_token: 'c',
        user: { id: 'u1', username: 'drainage', display_name: '钱处置员', role: 'unit_handler', unit: '310101-SWJ', scope: '310101' },
      }
      vi.stubGlobal('URL', Object.assign(URL, {
        createObjectURL: vi.fn(() => {
          created.push(`blob:${created.length}`)
          return created[created.length - 1]
        }),
        revokeObjectURL: vi.fn(),
      }))
    })
    afterEach(() => {
      vi.unstubAllGlobals()
    })

    async function choose(w: ReturnType<typeof mount>, files: File[]) {
      const input = w.get('[data-testid="task-photo-input"]')
      Object.defineProperty(input.element, 'files', { value: files, configurable: true })
      Object.defineProperty(input.element, 'value', { value: '', writable: true, configurable: true })
      await input.trigger('change')
    }

    it('uploads each photo, then finishes the task naming them', async () => {
      const done = incident({ tasks: [task({ state: 'done', report: '已强排', photos: ['p1', 'p2'] })] })
      const fetch = mockFetch(
        jsonResponse(201, { id: 'p1', task: 1, file_name: 'a.png', content_type: 'image/png', size: 3, sha256: 'x', uploaded_at: iso(0) }),
        jsonResponse(200, { id: 'p2', task: 1, file_name: 'b.jpg', content_type: 'image/jpeg', size: 3, sha256: 'y', uploaded_at: iso(0) }),
        jsonResponse(200, done),
      )
      const w = mount(TaskActions, { props: { incident: 'i1', task: task() }, global: { plugins: [i18n] } })
      await w.get('[data-testid="task-finish"]').trigger('click')
      await choose(w, [
        new File([new Uint8Array([1, 2, 3])], 'a.png', { type: 'image/png' }),
        new File([new Uint8Array([4, 5, 6])], 'b.jpg', { type: 'image/jpeg' }),
        new File(['%PDF'], 'c.pdf', { type: 'application/pdf' }),
      ])
      expect(w.findAll('[data-testid="task-photo-chosen"]')).toHaveLength(2)
      expect(w.get('[data-testid="task-photo-note"]').text()).toBe('c.pdf 不是 JPEG、PNG 或 WebP 图片')
      await w.get('textarea[data-testid="task-text"]').setValue('河南中路下立交积水已强排')
      await w.get('[data-testid="task-finish-form"]').trigger('submit')
      await flushPromises()
      const calls = fetch.mock.calls as unknown as [string, RequestInit][]
      expect(calls.map(([url, init]) => [init.method, url])).toEqual([
        ['POST', '/api/v1/incidents/i1/tasks/1/photos?file_name=a.png'],
        ['POST', '/api/v1/incidents/i1/tasks/1/photos?file_name=b.jpg'],
        ['POST', '/api/v1/incidents/i1/commands'],
      ])
      expect((calls[0][1].headers as Record<string, string>)['content-type']).toBe('image/png')
      expect((calls[1][1].headers as Record<string, string>)['content-type']).toBe('image/jpeg')
      expect(JSON.parse(calls[2][1].body as string)).toEqual({ command: 'finish_task', task: 1, report: '河南中路下立交积水已强排', photos: ['p1', 'p2'] })
      expect(w.emitted('updated')?.[0]).toEqual([done])
      expect(w.find('[data-testid="task-finish-form"]').exists()).toBe(false)
    })

    it('keeps the report when an upload is refused, and sends no finish', async () => {
      const fetch = mockFetch(jsonResponse(422, { error: { code: 'invalid_input', message: 'photo: not an image', field: 'photo' } }))
      const w = mount(TaskActions, { props: { incident: 'i1', task: task() }, global: { plugins: [i18n] } })
      await w.get('[data-testid="task-finish"]').trigger('click')
      await choose(w, [new File([new Uint8Array([1])], 'a.png', { type: 'image/png' })])
      await w.get('textarea[data-testid="task-text"]').setValue('已处置')
      await w.get('[data-testid="task-finish-form"]').trigger('submit')
      await flushPromises()
      expect(fetch).toHaveBeenCalledTimes(1)
      expect(w.get('[data-testid="task-error"]').text()).toMatch(/^照片上传失败：/)
      expect(w.find('[data-testid="task-finish-form"]').exists()).toBe(true)
    })

    it('finishes without photos as before', async () => {
      const fetch = mockFetch(jsonResponse(200, incident()))
      const w = mount(TaskActions, { props: { incident: 'i1', task: task() }, global: { plugins: [i18n] } })
      await w.get('[data-testid="task-finish"]').trigger('click')
      await w.get('textarea[data-testid="task-text"]').setValue('已处置')
      await w.get('[data-testid="task-finish-form"]').trigger('submit')
      await flushPromises()
      const calls = fetch.mock.calls as unknown as [string, RequestInit][]
      expect(JSON.parse(calls[0][1].body as string)).toEqual({ command: 'finish_task', task: 1, report: '已处置' })
    })
  })
})

describe('notices', () => {
  const notices = [
    { units: ['310101-ZLS', '310104-ZLS'], text: '做好供水管网巡查', at: iso(-29) },
    { units: ['310101002-JDB'], text: '通知辖区居民', at: iso(-28) },
  ]

  it('gives a unit the notices sent to it, and the active incidents that notified it', () => {
    const inc = incident({ notices })
    expect(noticesFor(inc, '310101-ZLS').map((n) => n.text)).toEqual(['做好供水管网巡查'])
    expect(noticesFor(inc, '310101-SWJ')).toEqual([])
    expect(noticesFor(inc, null)).toEqual([])
    const later = incident({ id: 'i2', notices: [{ units: ['310101-ZLS'], text: '第二起', at: iso(-1) }] })
    const over = incident({ id: 'i3', state: 'stood_down', notices })
    expect(notifiedIncidents([inc, over, later, incident({ id: 'i4' })], '310101-ZLS').map((x) => x.incident.id)).toEqual(['i2', 'i1'])
  })
})

describe('rule adjustments', () => {
  const a: RuleAdjustment = { rule: 'underpass', condition: { kind: 'above', value: 10, clear: 5 } }
  const b: RuleAdjustment = { rule: 'tunnel', condition: { kind: 'above', value: 20 } }

  it('holds one adjustment per rule, the newest in place', () => {
    expect(withAdjustment([], a)).toEqual([a])
    const changed = { rule: 'underpass', condition: { kind: 'above' as const, value: 8, clear: 4 } }
    expect(withAdjustment([a, b], changed)).toEqual([changed, b])
    const full = Array.from({ length: 32 }, (_, i) => ({ ...b, rule: `r${i}` }))
    expect(withAdjustment(full, a)).toHaveLength(32)
  })

  it('tells whether two lists say the same, order aside', () => {
    expect(sameAdjustments([a, b], [b, a])).toBe(true)
    expect(sameAdjustments([a], [{ rule: 'underpass', condition: { clear: 5, value: 10, kind: 'above' } }])).toBe(true)
    expect(sameAdjustments([a], [{ ...a, condition: { kind: 'above', value: 10 } }])).toBe(false)
    expect(sameAdjustments([a], [])).toBe(false)
  })
})

describe('the timeline’s new steps and the report', () => {
  const words = { t, unit: (c: string) => (c === '310101-ZLS' ? '黄浦区自来水公司' : c), task: () => null, when: () => '' }

  it('puts notices and links in words, in Chinese and English', () => {
    const notify = { action: 'notify', details: { units: ['310101-ZLS', '310104-ZLS'], text: '做好供水管网巡查' } }
    expect(describeEvent(notify, words)).toBe('通知 黄浦区自来水公司、310104-ZLS：做好供水管网巡查')
    expect(describeEvent({ action: 'link', details: { kind: 'alarm', target: 'a1' } }, words)).toBe('告警 a1')
    i18n.global.locale.value = 'en'
    expect(describeEvent(notify, words)).toBe('to 黄浦区自来水公司, 310104-ZLS: 做好供水管网巡查')
    expect(describeEvent({ action: 'unlink', details: { kind: 'case', target: 'c1' } }, words)).toBe('Case c1')
    expect(t('emergency.actions.notify')).toBe('Notice sent')
  })

  it('names the after-action report by the incident', () => {
    expect(reportFileName('0193a1b2-c3d4-7e5f')).toBe('incident-0193a1b2-report.xlsx')
  })
})


describe('drawing the zone', () => {
  const square = (code: string, name: string, [w, s, e, n]: number[]) => ({
    type: 'Feature', properties: { code, name }, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
  })
  beforeEach(() => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url.includes('level=district')) {
        return jsonResponse(200, { type: 'FeatureCollection', features: [square('310101', '黄浦区', [121.46, 31.20, 121.52, 31.26]), square('310104', '徐汇区', [121.40, 31.14, 121.46, 31.22])] })
      }
      if (url.includes('level=street')) {
        return jsonResponse(200, { type: 'FeatureCollection', features: [square('310101002', '南京东路街道', [121.47, 31.23, 121.49, 31.25])] })
      }
      throw new Error(`unexpected fetch ${url}`)
    }))
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('frames the district of the first area, adds a vertex per click, closes on a double click, and clears', async () => {
    const { default: ZoneDrawMap } = await import('../src/components/emergency/ZoneDrawMap.vue')
    const w = mount(ZoneDrawMap, {
      props: {
        areas: ['310101013'], modelValue: [] as [number, number][], finished: false,
        'onUpdate:modelValue': (v: [number, number][]) => w.setProps({ modelValue: v }),
        'onUpdate:finished': (v: boolean) => w.setProps({ finished: v }),
      },
      global: { plugins: [i18n] },
    })
    await flushPromises()
    const svg = w.get('[data-testid="zone-map"]')
    expect(svg.attributes('data-frame')).toBe('310101')
    expect(w.findAll('[data-testid="zone-street"]').map((p) => p.attributes('data-code'))).toEqual(['310101002'])
    // the map as the browser lays it out: the viewBox's size at the page's origin
    const [, , width, height] = svg.attributes('viewBox')!.split(' ').map(Number)
    ;(svg.element as Element).getBoundingClientRect = () => ({ left: 0, top: 0, width, height, right: width, bottom: height, x: 0, y: 0, toJSON: () => ({}) }) as DOMRect
    const at = (x: number, y: number) => svg.trigger('click', { clientX: x, clientY: y })
    await at(100, 100)
    await at(200, 100)
    expect(w.get('[data-testid="zone-finish"]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid="zone-status"]').attributes('data-problem')).toBe('few')
    await at(200, 200)
    await at(200, 200) // the second click of a double click
    await svg.trigger('dblclick')
    expect(w.props('modelValue')).toHaveLength(3)
    expect(w.props('finished')).toBe(true)
    expect(w.find('[data-testid="zone-outline"]').exists()).toBe(true)
    expect(w.get('[data-testid="zone-status"]').text()).toBe('区域已闭合，共 3 个顶点')
    // the points are where they were clicked: x grows with longitude, y falls with latitude
    const [[lon1, lat1], [lon2], [, lat3]] = w.props('modelValue') as [number, number][]
    expect(lon2).toBeGreaterThan(lon1)
    expect(lat3).toBeLessThan(lat1)
    expect(lon1).toBeGreaterThan(121.46)
    expect(lon2).toBeLessThan(121.52)
    // closed: clicks add nothing; undo reopens; clear starts again
    await at(300, 300)
    expect(w.props('modelValue')).toHaveLength(3)
    await w.get('[data-testid="zone-undo"]').trigger('click')
    expect([w.props('modelValue').length, w.props('finished')]).toEqual([2, false])
    await w.get('[data-testid="zone-clear"]').trigger('click')
    expect(w.props('modelValue')).toEqual([])
    expect(w.get('[data-testid="zone-status"]').text()).toBe('在地图上单击添加顶点')
  })
})

describe('the command view', () => {
  const ring = [[121.475, 31.235], [121.485, 31.235], [121.485, 31.245], [121.475, 31.245], [121.475, 31.235]]
  const rule = { id: 'underpass', name: '下立交积水', indicator: 'water_level', scope: { kind: 'all' }, condition: { kind: 'above', value: 25, clear: 20 }, level: 'orange' }
  const full = () => incident({
    areas: ['310101002'], zone: { type: 'Polygon', coordinates: [ring] },
    notices: [{ units: ['310101-ZLS', '310101-FGJ'], text: '加强供水管网巡查', at: iso(-29) }],
    adjustments: [{ rule: 'underpass', condition: { kind: 'above', value: 10, clear: 5 } }],
    tasks: [task({ state: 'done', report: '已强排', photos: ['ph1'] }), task({ id: 2, unit: '310101002-JDB', title: '巡查' })],
  })
  let asked: string[] = []
  beforeEach(() => {
    asked = []
    setActivePinia(createPinia())
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      asked.push(url)
      const geo = (code: string, [w, s, e, n]: number[]) => ({ type: 'Feature', properties: { code, name: code }, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } })
      if (url.includes('/geo/areas') && url.includes('level=district')) return jsonResponse(200, { type: 'FeatureCollection', features: [geo('310101', [121.46, 31.20, 121.52, 31.26])] })
      if (url.includes('/geo/areas') && url.includes('level=street')) return jsonResponse(200, { type: 'FeatureCollection', features: [geo('310101002', [121.47, 31.23, 121.49, 31.25])] })
      if (url.endsWith('/links')) {
        return jsonResponse(200, { items: [
          link({ target: 'a9', title: '下立交积水 · HP-UP-1', state: 'active', level: 'orange', location: { lon: 121.48, lat: 31.24 } }),
          link({ kind: 'case', target: 'c1', title: '2026120700001 · 道路积水', state: 'dispatched', level: null, location: { lon: 121.482, lat: 31.238 } }),
        ] })
      }
      if (url.endsWith('/telemetry/rules')) return jsonResponse(200, [rule])
      if (url.endsWith('/indicators')) return jsonResponse(200, [{ key: 'water_level', name_zh: '积水深度', name_en: 'Water level', unit: 'cm', category: '' }])
      throw new Error(`unexpected fetch ${url}`)
    }))
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  async function mountDetail(who: { center: boolean; handler: boolean; unit: string; role: 'shift_lead' | 'unit_handler' }, live: AlarmView[] = []) {
    useAuth().session = { expires_at: iso(600), csrf_token: 'c', user: { id: 'u', username: 'x', display_name: 'x', role: who.role, unit: who.unit, scope: '310000' } }
    const { default: IncidentDetail } = await import('../src/components/emergency/IncidentDetail.vue')
    const w = mount(IncidentDetail, {
      props: {
        incident: full(), timeline: [], timelineError: null, warnings: [], plans: [], center: who.center, leader: false, handler: who.handler,
        areaName: (c: string) => c, unitName: (c: string) => c, unitNameOf: () => null, liveAlarms: live, live: true,
      },
      global: { plugins: [i18n] },
    })
    await flushPromises()
    await flushPromises()
    return w
  }

  it('shows the center the linked and live alarms, the map’s markers and zone, the notices and the rules adjusted', async () => {
    const w = await mountDetail({ center: true, handler: false, unit: 'C-310000', role: 'shift_lead' }, [alarm({ id: 'a1', raised_at: iso(5) })])
    expect(w.findAll('[data-testid="incident-alarm"]').map((r) => [r.attributes('data-id'), r.attributes('data-linked'), r.attributes('data-live')]))
      .toEqual([['a1', 'false', 'true'], ['a9', 'true', 'false']])
    expect(w.get('[data-testid="incident-alarm"][data-id="a9"]').text()).toContain('未解除')
    expect(w.findAll('[data-testid="map-alarm"]').map((m) => [m.attributes('data-id'), m.attributes('data-level')])).toEqual([['a9', 'orange'], ['a1', 'orange']])
    expect(w.findAll('[data-testid="map-case"]').map((m) => m.attributes('data-id'))).toEqual(['c1'])
    expect(w.find('[data-testid="map-zone"]').exists()).toBe(true)
    expect(w.get('[data-testid="map-legend"]').text()).toContain('橙色告警 2')
    // the tasks: the street office's street outlined in its task's state, both in the strip
    expect(w.findAll('[data-testid="map-task"]').map((c) => [c.attributes('data-unit'), c.attributes('data-state'), c.attributes('data-street')]))
      .toEqual([['310101-SWJ', 'done', ''], ['310101002-JDB', 'accepted', '310101002']])
    expect(w.get('[data-testid="map-task-area"]').attributes()).toMatchObject({ 'data-code': '310101002', 'data-state': 'accepted', 'data-units': '310101002-JDB' })
    expect(w.get('[data-testid="incident-zone"]').text()).toBe('已在地图上划定（4 个顶点）')
    expect(w.get('[data-testid="incident-notice"]').attributes('data-units')).toBe('310101-ZLS,310101-FGJ')
    expect(w.get('[data-testid="incident-adjustments"]').text()).toContain('下立交积水：高于 10 cm，回落到 5 cm 及以下解除')
    expect(w.get('[data-testid="incident-adjustments"]').text()).toContain('原为 高于 25 cm')
    expect(w.get('[data-testid="task-photo"]').attributes('src')).toBe('/api/v1/incidents/i1/photos/ph1')
    expect(w.find('[data-testid="incident-report"]').exists()).toBe(true)
    expect(w.find('[data-testid="incident-notified"]').exists()).toBe(false)
    expect(asked.filter((u) => u.endsWith('/links'))).toHaveLength(1)
    // a live alarm of the areas changes: the links are asked again, soon
    vi.useFakeTimers()
    await w.setProps({ liveAlarms: [alarm({ id: 'a1', raised_at: iso(5), last_at: iso(6), last_value: 14 })] })
    await vi.advanceTimersByTimeAsync(500)
    vi.useRealTimers()
    await flushPromises()
    expect(asked.filter((u) => u.endsWith('/links'))).toHaveLength(2)
    w.unmount()
  })

  it('tells a notified unit it was, and asks for no links', async () => {
    const w = await mountDetail({ center: false, handler: true, unit: '310101-ZLS', role: 'unit_handler' })
    const told = w.get('[data-testid="incident-notified"]')
    expect(told.text()).toContain('您的单位（310101-ZLS）已收到本事件的通知')
    expect(told.text()).toContain('加强供水管网巡查')
    expect(told.attributes('data-own-task')).toBe('false')
    expect(w.find('[data-testid="incident-alarms-card"]').exists()).toBe(false)
    expect(w.find('[data-testid="incident-report"]').exists()).toBe(false)
    expect(asked.some((u) => u.endsWith('/links'))).toBe(false)
    w.unmount()
  })
})

describe('the forms', () => {
  const rule = { id: 'underpass', name: '下立交积水', indicator: 'water_level', scope: { kind: 'all' }, condition: { kind: 'above', value: 25, clear: 20 }, level: 'orange' }
  let posted: { url: string; body: unknown }[] = []
  beforeEach(() => {
    posted = []
    setActivePinia(createPinia())
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      const geo = (code: string, [w, s, e, n]: number[]) => ({ type: 'Feature', properties: { code, name: code }, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } })
      if (url.includes('/geo/areas') && url.includes('level=district')) return jsonResponse(200, { type: 'FeatureCollection', features: [geo('310101', [121.46, 31.20, 121.52, 31.26])] })
      if (url.includes('/geo/areas') && url.includes('level=street')) return jsonResponse(200, { type: 'FeatureCollection', features: [geo('310101002', [121.47, 31.23, 121.49, 31.25])] })
      if (url.endsWith('/telemetry/rules')) return jsonResponse(200, [rule])
      if (url.endsWith('/indicators')) return jsonResponse(200, [{ key: 'water_level', name_zh: '积水深度', name_en: 'Water level', unit: 'cm', category: '' }])
      if (url.endsWith('/incidents') && init?.method === 'POST') {
        posted.push({ url, body: JSON.parse(init.body as string) })
        return jsonResponse(201, incident())
      }
      throw new Error(`unexpected fetch ${url}`)
    }))
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('adjusts a rule with the numbers of its own kind, checked as the rules page checks them', async () => {
    const { default: AdjustmentsField } = await import('../src/components/emergency/AdjustmentsField.vue')
    const w = mount(AdjustmentsField, {
      props: { prefix: 'adj', label: '规则', modelValue: [] as RuleAdjustment[], 'onUpdate:modelValue': (v: RuleAdjustment[]) => w.setProps({ modelValue: v }) },
      global: { plugins: [i18n] },
    })
    await flushPromises()
    w.findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'underpass')
    await flushPromises()
    expect(w.get('[data-testid="adj-current"]').text()).toBe('当前规则：高于 25 cm，回落到 20 cm 及以下解除')
    expect((w.get('input[data-testid="adj-value"]').element as HTMLInputElement).value).toBe('25')
    await w.get('input[data-testid="adj-value"]').setValue('10')
    await w.get('input[data-testid="adj-clear"]').setValue('12')
    await w.get('[data-testid="adj-add"]').trigger('click')
    expect(w.get('[data-testid="adj-clear-error"]').text()).toBe('“高于”的解除值不能高于触发值')
    expect(w.props('modelValue')).toEqual([])
    await w.get('input[data-testid="adj-clear"]').setValue('5')
    await w.get('[data-testid="adj-add"]').trigger('click')
    expect(w.props('modelValue')).toEqual([{ rule: 'underpass', condition: { kind: 'above', value: 10, clear: 5 } }])
    expect(w.get('[data-testid="adj-item"]').text()).toContain('下立交积水：高于 10 cm，回落到 5 cm 及以下解除')
    await w.get('[data-testid="adj-remove"]').trigger('click')
    expect(w.props('modelValue')).toEqual([])
  })

  it('opens an incident from a plan for a zone drawn alone, and not before the zone is closed', async () => {
    const { default: IncidentOpenForm } = await import('../src/components/emergency/IncidentOpenForm.vue')
    const plan = {
      id: 'rainstorm', name: '暴雨内涝应急预案', hazard: 'rainstorm', from_level: 'yellow', kind: 'natural_disaster', severity: 'III',
      tasks: [{ unit_kind: 'water', title: '强排', hours: 2 }], resources: [{ kind: 'pump_truck', name: '移动泵车', quantity: 4 }],
      notices: [{ unit_kind: 'housing', text: '排查危房' }], adjustments: [{ rule: 'underpass', condition: { kind: 'above', value: 10, clear: 5 } }],
    } as const
    const w = mount(IncidentOpenForm, { props: { plans: [plan as never], warnings: [], nameOf: () => null }, global: { plugins: [i18n] } })
    await flushPromises()
    await w.get('input[data-testid="incident-plan-option"]').setValue(true)
    expect(w.get('[data-testid="incident-plan-resources"]').text()).toBe('调派资源：移动泵车 × 4')
    expect(w.get('[data-testid="incident-plan-notice"]').text()).toBe(`${t('units.kinds.housing')}：排查危房`)
    expect(w.get('[data-testid="incident-plan-adjustments"]').text()).toContain('下立交积水')
    // nothing picked, nothing drawn
    await w.get('form').trigger('submit')
    expect(w.get('[data-testid="incident-areas-code-error"]').text()).toBe('请至少添加一个区域，或在地图上划定区域')
    await w.get('[data-testid="incident-zone-toggle"] input').setValue(true)
    await flushPromises()
    const svg = w.get('[data-testid="zone-map"]')
    const [, , width, height] = svg.attributes('viewBox')!.split(' ').map(Number)
    ;(svg.element as Element).getBoundingClientRect = () => ({ left: 0, top: 0, width, height, right: width, bottom: height, x: 0, y: 0, toJSON: () => ({}) }) as DOMRect
    for (const [x, y] of [[100, 100], [200, 100], [200, 200]]) await svg.trigger('click', { clientX: x, clientY: y })
    await w.get('form').trigger('submit')
    expect(w.get('[data-testid="incident-zone-error"]').text()).toBe('请完成（闭合）所划区域，或清除后再启动')
    expect(posted).toEqual([])
    await w.get('[data-testid="zone-finish"]').trigger('click')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(posted).toHaveLength(1)
    const body = posted[0].body as { plan: string; areas: string[]; zone: { type: string; coordinates: number[][][] }; adjustments?: unknown }
    expect([body.plan, body.areas, body.zone.type, body.zone.coordinates[0].length, 'adjustments' in body]).toEqual(['rainstorm', [], 'Polygon', 4, false])
    expect(body.zone.coordinates[0][0]).toEqual(body.zone.coordinates[0][3])
    expect(w.emitted('opened')).toHaveLength(1)
  })
})

describe('the tasks on the command map', () => {
  it('places a street office’s task on its street, another unit’s on its district, the center’s nowhere', () => {
    expect(taskAreaOf('310101002-JDB')).toBe('310101002')
    expect(taskAreaOf('310101013-JDB')).toBe('310101013')
    expect(taskAreaOf('310101-SWJ')).toBe('310101')
    expect(taskAreaOf('310101-GAFJ')).toBe('310101')
    expect(taskAreaOf('310101002-JD')).toBe('310101') // not a street office
    expect(taskAreaOf('C-310000')).toBeNull()
    expect(taskAreaOf('31010-X')).toBeNull()
    expect(taskAreaOf('')).toBeNull()
    expect(taskAreaOf(null)).toBeNull()
  })

  it('colours a street by its task most needing attention, overdue when an open one is; district units colour none', () => {
    const streets = taskStreets([
      task({ id: 1, unit: '310101-SWJ', state: 'assigned', overdue: true }),
      task({ id: 2, unit: '310101002-JDB', state: 'done' }),
      task({ id: 3, unit: '310101013-JDB', state: 'done', overdue: true }),
      task({ id: 4, unit: '310101002-JDB', state: 'in_progress', overdue: true }),
      task({ id: 5, unit: '310101002-JDB', state: 'accepted' }),
    ])
    expect(streets.map((s) => [s.code, s.state, s.overdue, s.tasks.map((x) => x.id)]))
      .toEqual([['310101002', 'accepted', true, [2, 4, 5]], ['310101013', 'done', false, [3]]])
    expect(taskStreets([task({ unit: '310101002-JDB', state: 'done' }), task({ id: 2, unit: '310101002-JDB', state: 'unable' })])[0].state).toBe('unable')
    expect(taskStreets([])).toEqual([])
  })

  it('has one colour per state, the board’s, and marks only open tasks overdue', () => {
    expect(TASK_STATE_COLORS).toEqual({ assigned: '#607d8b', accepted: '#1565c0', in_progress: '#ef6c00', done: '#2e7d32', unable: '#6a1b9a' })
    expect(isTaskOverdue({ state: 'in_progress', overdue: true })).toBe(true)
    expect(isTaskOverdue({ state: 'done', overdue: true })).toBe(false)
    expect(isTaskOverdue({ state: 'unable', overdue: true })).toBe(false)
    expect(taskStateClass('assigned', true)).toBe('task-assigned task-overdue')
  })

  describe('drawn', () => {
    const square = (code: string, name: string, [w, s, e, n]: number[]) => ({
      type: 'Feature', properties: { code, name }, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
    })
    beforeEach(() => {
      vi.stubGlobal('fetch', vi.fn(async (url: string) => {
        if (url.includes('level=district')) {
          return jsonResponse(200, { type: 'FeatureCollection', features: [square('310101', '黄浦区', [121.46, 31.20, 121.52, 31.26]), square('310104', '徐汇区', [121.40, 31.14, 121.46, 31.22])] })
        }
        if (url.includes('level=street') && url.includes('parent=310101')) {
          return jsonResponse(200, { type: 'FeatureCollection', features: [square('310101002', '南京东路街道', [121.47, 31.23, 121.49, 31.25])] })
        }
        if (url.includes('level=street') && url.includes('parent=310104')) {
          return jsonResponse(200, { type: 'FeatureCollection', features: [square('310104003', '天平路街道', [121.42, 31.16, 121.44, 31.18])] })
        }
        throw new Error(`unexpected fetch ${url}`)
      }))
    })
    afterEach(() => {
      vi.unstubAllGlobals()
      i18n.global.locale.value = 'zh-CN'
    })
    const tasks = [
      task({ id: 1, unit: '310101-SWJ', title: '强排', state: 'done' }),
      task({ id: 2, unit: '310101002-JDB', title: '巡查积水点', state: 'in_progress', overdue: true }),
      task({ id: 3, unit: '310101-GAFJ', title: '交通管制', state: 'assigned' }),
      task({ id: 4, unit: '310104003-JDB', title: '转移人员', state: 'unable' }),
    ]
    async function mountMap(areas: string[]) {
      const { default: EmergencyMap } = await import('../src/components/emergency/EmergencyMap.vue')
      const w = mount(EmergencyMap, {
        props: { areas, color: '#ef6c00', points: [], label: '指挥地图', tasks, unitName: (c: string) => (c === '310101002-JDB' ? '南京东路街道办事处（310101002-JDB）' : c) },
        global: { plugins: [i18n] },
      })
      await flushPromises()
      await flushPromises()
      return w
    }

    it('outlines the street offices’ streets in their task’s state, a red rim when overdue, and lists every task under the map', async () => {
      const w = await mountMap(['310101002', '310104'])
      // 黄浦区 street by street; 徐汇区 wholly affected: its streets are loaded for the task alone, not drawn
      expect(w.findAll('[data-testid="map-street"]').map((p) => p.attributes('data-code'))).toEqual(['310101002'])
      const areas = w.findAll('[data-testid="map-task-area"]')
      expect(areas.map((a) => [a.attributes('data-code'), a.attributes('data-state'), a.attributes('data-overdue'), a.attributes('data-units')]))
        .toEqual([['310101002', 'in_progress', 'true', '310101002-JDB'], ['310104003', 'unable', 'false', '310104003-JDB']])
      const first = areas[0]
      expect(first.get('.task-line').attributes('style')).toContain(hex(TASK_STATE_COLORS.in_progress))
      expect(first.get('.task-rim').attributes('style')).toContain(hex(TASK_OVERDUE_COLOR))
      expect(areas[1].get('.task-rim').attributes('style')).toBeUndefined()
      expect(first.get('title').text()).toBe('南京东路街道\n南京东路街道办事处（310101002-JDB） · 巡查积水点 · 处置中 · 已超时')
      // drawn after the fills, before the zone and the markers
      const order = [...w.get('svg').element.children].map((c) => c.getAttribute('data-testid'))
      expect(order.lastIndexOf('map-street')).toBeLessThan(order.indexOf('map-task-area'))

      const chips = w.findAll('[data-testid="map-task"]')
      expect(chips.map((c) => [c.attributes('data-task'), c.attributes('data-unit'), c.attributes('data-state'), c.attributes('data-overdue'), c.attributes('data-street')]))
        .toEqual([['1', '310101-SWJ', 'done', 'false', ''], ['2', '310101002-JDB', 'in_progress', 'true', '310101002'], ['3', '310101-GAFJ', 'assigned', 'false', ''], ['4', '310104003-JDB', 'unable', 'false', '310104003']])
      expect(chips.map((c) => c.text().replace(/\s+/g, ' '))).toEqual(['310101-SWJ 已完成', '310101002-JDB 处置中 已超时', '310101-GAFJ 待接收', '310104003-JDB 无法完成'])
      expect(chips[0].attributes('style')).toContain(hex(TASK_STATE_COLORS.done))
      expect(chips[1].attributes('title')).toBe('南京东路街道办事处（310101002-JDB） · 巡查积水点 · 处置中 · 已超时')
      expect(w.get('[data-testid="map-tasks"]').text()).toMatch(/^任务/)

      // the legend: the states present, in the board's order, and the overdue mark
      expect(w.findAll('[data-testid="map-legend-task"]').map((k) => [k.attributes('data-state'), k.text()]))
        .toEqual([['assigned', '任务：待接收（1）'], ['in_progress', '任务：处置中（1）'], ['done', '任务：已完成（1）'], ['unable', '任务：无法完成（1）']])
      expect(w.get('[data-testid="map-legend-task-overdue"]').text()).toBe('任务已超时')

      // the street office finishes: its street turns green, the rim goes
      await w.setProps({ tasks: tasks.map((x) => (x.id === 2 ? { ...x, state: 'done' as const } : x)) })
      expect(w.get('[data-testid="map-task-area"][data-code="310101002"]').attributes('data-state')).toBe('done')
      expect(w.get('[data-testid="map-task-area"][data-code="310101002"]').attributes('data-overdue')).toBe('false')
      expect(w.get('[data-testid="map-task"][data-unit="310101002-JDB"]').attributes('data-state')).toBe('done')
      expect(w.find('[data-testid="map-legend-task-overdue"]').exists()).toBe(false)
      w.unmount()
    })

    it('reads in English, and shows no strip without tasks', async () => {
      i18n.global.locale.value = 'en'
      const w = await mountMap(['310101002'])
      // 徐汇区 is not framed, but its street office's task is still listed
      expect(w.findAll('[data-testid="map-task"]')).toHaveLength(4)
      expect(w.get('[data-testid="map-task"][data-unit="310101002-JDB"]').text().replace(/\s+/g, ' ')).toBe('310101002-JDB In progress Overdue')
      expect(w.findAll('[data-testid="map-legend-task"]').map((k) => k.text())).toEqual(['Task: Assigned (1)', 'Task: In progress (1)', 'Task: Done (1)', 'Task: Unable (1)'])
      expect(w.get('[data-testid="map-legend-task-overdue"]').text()).toBe('Task overdue')
      expect(w.get('[data-testid="map-tasks"]').text()).toMatch(/^Tasks/)
      await w.setProps({ tasks: [] })
      expect(w.find('[data-testid="map-tasks"]').exists()).toBe(false)
      expect(w.find('[data-testid="map-task-area"]').exists()).toBe(false)
      expect(w.find('[data-testid="map-legend-task"]').exists()).toBe(false)
      w.unmount()
    })
  })
})

describe('what an incident links by itself', () => {
  const RAINSTORM = ['water_level', 'manhole_water', '20406', '20404', '20401']
  const indicators = [
    { key: 'water_level', name_zh: '道路积水深度', name_en: 'Road water depth', unit: 'cm', category: '' },
    { key: 'manhole_water', name_zh: '井内水位', name_en: 'Water in manhole', unit: 'cm', category: '' },
    { key: 'gas_concentration', name_zh: '', name_en: 'Gas concentration', unit: '%LEL', category: '' },
  ]
  const catalog = {
    version: 'v1',
    big: [{ code: '204', zh: '突发事件', en: 'Emergencies', kind: 'event' }],
    small: [
      { code: '20401', zh: '路面塌陷', en: 'Road collapse', big_class: '204' },
      { code: '20404', zh: '下水道堵塞或破损', en: 'Sewer blocked / broken', big_class: '204' },
      { code: '20406', zh: '道路积水', en: 'Road flooding', big_class: '204' },
    ],
  }
  const catalogs = { indicators, big: catalog.big, small: catalog.small }

  describe('in words', () => {
    it('names indicators as the rules pages do, classes by the catalogue, a big class’s code by the big class', () => {
      expect(isClassCode('20406')).toBe(true)
      expect(isClassCode('water_level')).toBe(false)
      expect(linkClassName('water_level', catalogs, 'zh-CN')).toBe('道路积水深度')
      expect(linkClassName('20406', catalogs, 'zh-CN')).toBe('道路积水')
      expect(linkClassName('204', catalogs, 'zh-CN')).toBe('突发事件')
      expect(linkClassName('204', catalogs, 'en')).toBe('Emergencies')
      expect(linkClassName('20404', catalogs, 'en')).toBe('Sewer blocked / broken')
      expect(linkClassName('manhole_water', catalogs, 'en')).toBe('Water in manhole')
      // an indicator without a Chinese name reads in English
      expect(linkClassName('gas_concentration', catalogs, 'zh-CN')).toBe('Gas concentration')
    })

    it('shows the key when the catalogues do not know it, or are not there yet', () => {
      expect(linkClassName('2040', catalogs, 'zh-CN')).toBe('2040') // a start that is no big class
      expect(linkClassName('2', catalogs, 'zh-CN')).toBe('2')
      expect(linkClassName('20499', catalogs, 'zh-CN')).toBe('20499')
      expect(linkClassName('noise_level', catalogs, 'zh-CN')).toBe('noise_level')
      expect(linkClassName('water_level', null, 'zh-CN')).toBe('water_level')
      expect(linkClassName('20406', { indicators }, 'en')).toBe('20406')
    })

    it('joins the list in the UI’s language, and says everything in the areas when it is empty', () => {
      expect(linkClassesText(RAINSTORM, catalogs, 'zh-CN', t)).toBe('道路积水深度、井内水位、道路积水、下水道堵塞或破损、路面塌陷')
      expect(linkClassesText([], catalogs, 'zh-CN', t)).toBe('全部（区域内）')
      expect(linkClassesText(undefined, catalogs, 'zh-CN', t)).toBe('全部（区域内）')
      i18n.global.locale.value = 'en'
      expect(linkClassesText(['water_level', '204'], catalogs, 'en', t)).toBe('Road water depth, Emergencies')
      expect(linkClassesText([], catalogs, 'en', t)).toBe('everything in its areas')
    })
  })

  describe('shown', () => {
    let asked: string[] = []
    beforeEach(() => {
      asked = []
      forgetLinkCatalog()
      setActivePinia(createPinia())
      vi.stubGlobal('fetch', vi.fn(async (url: string) => {
        asked.push(url)
        if (url.endsWith('/links')) return jsonResponse(200, { items: [] })
        if (url.endsWith('/indicators')) return jsonResponse(200, indicators)
        if (url.endsWith('/categories')) return jsonResponse(200, catalog)
        if (url.endsWith('/telemetry/rules')) return jsonResponse(200, [])
        if (url.includes('/geo/areas')) return jsonResponse(200, { type: 'FeatureCollection', features: [] })
        throw new Error(`unexpected fetch ${url}`)
      }))
    })
    afterEach(() => {
      vi.unstubAllGlobals()
    })

    async function mountDetail(inc: IncidentView, center = true) {
      useAuth().session = {
        expires_at: iso(600), csrf_token: 'c',
        user: { id: 'u', username: 'x', display_name: 'x', role: center ? 'shift_lead' : 'unit_handler', unit: center ? 'C-310000' : '310101-SWJ', scope: '310000' },
      }
      const { default: IncidentDetail } = await import('../src/components/emergency/IncidentDetail.vue')
      const w = mount(IncidentDetail, {
        props: {
          incident: inc, timeline: [], timelineError: null, warnings: [], plans: [], center, leader: false, handler: !center,
          areaName: (c: string) => c, unitName: (c: string) => c, unitNameOf: () => null, liveAlarms: [], live: true,
        },
        global: { plugins: [i18n] },
      })
      await flushPromises()
      await flushPromises()
      return w
    }

    it('tells the center what the incident links by itself, in either language', async () => {
      const w = await mountDetail(incident({ link_classes: RAINSTORM }))
      const line = w.get('[data-testid="incident-link-classes"]')
      expect(line.attributes('data-classes')).toBe(RAINSTORM.join(','))
      expect(line.get('dt').text()).toBe('自动关联')
      expect(line.get('dd').text()).toBe('道路积水深度、井内水位、道路积水、下水道堵塞或破损、路面塌陷')
      expect(asked.filter((u) => u.endsWith('/categories'))).toHaveLength(1)
      i18n.global.locale.value = 'en'
      await flushPromises()
      expect(line.get('dt').text()).toBe('Linked automatically')
      expect(line.get('dd').text()).toBe('Road water depth, Water in manhole, Road flooding, Sewer blocked / broken, Road collapse')
      // a group of classes by its start
      await w.setProps({ incident: incident({ link_classes: ['204', 'gas_concentration'], version: 2 }) })
      await flushPromises()
      expect(w.get('[data-testid="incident-link-classes"] dd').text()).toBe('Emergencies, Gas concentration')
      w.unmount()
    })

    it('says everything in its areas when it names nothing, and asks for no catalogue then', async () => {
      const w = await mountDetail(incident())
      expect(w.get('[data-testid="incident-link-classes"]').attributes('data-classes')).toBe('')
      expect(w.get('[data-testid="incident-link-classes"] dd').text()).toBe('全部（区域内）')
      expect(asked.some((u) => u.endsWith('/categories') || u.endsWith('/indicators'))).toBe(false)
      w.unmount()
    })

    it('shows the codes while the catalogues cannot be had', async () => {
      vi.stubGlobal('fetch', vi.fn(async (url: string) => {
        if (url.endsWith('/links')) return jsonResponse(200, { items: [] })
        if (url.endsWith('/indicators') || url.endsWith('/categories')) return jsonResponse(503, { error: { code: 'unavailable', message: 'down' } })
        throw new Error(`unexpected fetch ${url}`)
      }))
      const w = await mountDetail(incident({ link_classes: ['water_level', '20406'] }))
      expect(w.get('[data-testid="incident-link-classes"] dd').text()).toBe('water_level、20406')
      w.unmount()
    })

    it('keeps it from a unit’s handlers', async () => {
      const w = await mountDetail(incident({ link_classes: RAINSTORM }), false)
      expect(w.find('[data-testid="incident-link-classes"]').exists()).toBe(false)
      expect(asked.some((u) => u.endsWith('/categories'))).toBe(false)
      w.unmount()
    })

    it('shows a plan’s in the plan picker', async () => {
      const { default: IncidentOpenForm } = await import('../src/components/emergency/IncidentOpenForm.vue')
      const plan = (id: string, link_classes?: string[]) => ({
        id, name: id, hazard: 'rainstorm', from_level: 'yellow', kind: 'natural_disaster', severity: 'III', tasks: [{ unit_kind: 'water', title: '强排', hours: 2 }],
        ...(link_classes ? { link_classes } : {}),
      })
      const w = mount(IncidentOpenForm, {
        props: { plans: [plan('rainstorm', RAINSTORM), plan('other')] as never[], warnings: [], nameOf: () => null },
        global: { plugins: [i18n] },
      })
      await flushPromises()
      expect(w.find('[data-testid="incident-plan-link-classes"]').exists()).toBe(false)
      await w.get('input[data-testid="incident-plan-option"][data-plan="rainstorm"]').setValue(true)
      await flushPromises()
      const line = w.get('[data-testid="incident-plan-link-classes"]')
      expect(line.text()).toBe('自动关联：道路积水深度、井内水位、道路积水、下水道堵塞或破损、路面塌陷')
      expect(line.attributes('data-classes')).toBe(RAINSTORM.join(','))
      await w.get('input[data-testid="incident-plan-option"][data-plan="other"]').setValue(true)
      await flushPromises()
      expect(w.get('[data-testid="incident-plan-link-classes"]').text()).toBe('自动关联：全部（区域内）')
      w.unmount()
    })
  })
})

/** A colour as the DOM writes it in a style: `rgb(r, g, b)`. */
function hex(color: string): string {
  const n = parseInt(color.slice(1), 16)
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`
}
