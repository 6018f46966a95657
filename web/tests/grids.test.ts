// Responsibility grids: their codes, the list's filters, the inspectors offered, the assignment's
// body, what a refusal means, and a case's grid inspector.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import { ApiError } from '../src/api/client'
import AdminGrids from '../src/components/AdminGrids.vue'
import { jsonResponse } from './helpers'
import type { Account, CaseView } from '../src/api/types'
import {
  NO_INSPECTOR, assignBody, choiceOf, gridFiltersOf, gridFiltersQuery, gridInspectorOf, gridQuery, gridStreet, inspectorsFor,
  isResponsibilityGrid, refusalOf, type ResponsibilityGridView,
} from '../src/lib/grids'

const account = (username: string, over: Partial<Account> = {}): Account => ({
  username, display_name: username, role: 'inspector', scope: '310101', unit: null, disabled: false,
  created_at: '2026-12-01T00:00:00Z', second_factor: 'none', failed_sign_ins: 0, locked_until: null, ...over,
})

const grid = (over: Partial<ResponsibilityGridView> = {}): ResponsibilityGridView => ({
  code: 'R310101002001', street: '310101002', unit_grids: 30, inspector: null, ...over,
})

describe('grid codes', () => {
  it('are R, the street and a number', () => {
    expect(isResponsibilityGrid('R310101002001')).toBe(true)
    expect(gridStreet('R310101002001')).toBe('310101002')
    for (const code of ['310101002001', 'R31010100', 'X310101002001', 'R31010100a001', '', null, undefined]) {
      expect(isResponsibilityGrid(code)).toBe(false)
      expect(gridStreet(code)).toBeNull()
    }
  })
})

describe('the list', () => {
  it('sends a district or a street, and the city as the whole jurisdiction', () => {
    expect(gridQuery({ area: '', unassigned: false })).toEqual({ query: {}, problem: null })
    expect(gridQuery({ area: ' 310101 ', unassigned: true })).toEqual({ query: { area: '310101', unassigned: 'true' }, problem: null })
    expect(gridQuery({ area: '310101002', unassigned: false })).toEqual({ query: { area: '310101002' }, problem: null })
    expect(gridQuery({ area: '310000', unassigned: false })).toEqual({ query: {}, problem: null })
  })
  it('refuses a community or what is no area code', () => {
    for (const area of ['310101002001', '3101', 'R310101002001']) expect(gridQuery({ area, unassigned: false })).toEqual({ query: null, problem: 'area' })
  })
  it('keeps its filters in the address', () => {
    expect(gridFiltersOf({ area: '310101', unassigned: 'true' })).toEqual({ area: '310101', unassigned: true })
    expect(gridFiltersOf({ area: 'x', unassigned: '1' })).toEqual({ area: '', unassigned: false })
    expect(gridFiltersOf({})).toEqual({ area: '', unassigned: false })
    expect(gridFiltersQuery({ area: ' 310101002 ', unassigned: true })).toEqual({ area: '310101002', unassigned: 'true' })
    expect(gridFiltersQuery({ area: '', unassigned: false })).toEqual({})
  })
})

describe('assigning an inspector', () => {
  const accounts = [
    account('zz.insp'), account('city.insp', { scope: '310000' }), account('off.insp', { disabled: true }),
    account('pd.insp', { scope: '310115' }), account('nj.insp', { scope: '310101002' }), account('dispatcher', { role: 'dispatcher', scope: '310000' }),
  ]
  it('offers active inspectors whose jurisdiction holds every street, by username', () => {
    expect(inspectorsFor(accounts, ['310101002']).map((a) => a.username)).toEqual(['city.insp', 'nj.insp', 'zz.insp'])
    expect(inspectorsFor(accounts, ['310101002', '310101013']).map((a) => a.username)).toEqual(['city.insp', 'zz.insp'])
    expect(inspectorsFor(accounts, ['310115001']).map((a) => a.username)).toEqual(['city.insp', 'pd.insp'])
    expect(inspectorsFor(accounts, []).map((a) => a.username)).toEqual(['city.insp', 'nj.insp', 'pd.insp', 'zz.insp'])
  })
  it('sends the username chosen, or null to take the grid away', () => {
    expect(choiceOf(grid())).toBe(NO_INSPECTOR)
    expect(choiceOf(grid({ inspector: { user_id: 'u1', username: 'inspector' } }))).toBe('inspector')
    expect(assignBody('inspector')).toEqual({ inspector: 'inspector' })
    expect(assignBody(' typed.name ')).toEqual({ inspector: 'typed.name' })
    expect(assignBody(NO_INSPECTOR)).toEqual({ inspector: null })
    expect(assignBody('')).toEqual({ inspector: null })
  })
  it('says why the server refused', () => {
    const rule = (code: string) => new ApiError(422, code, 'refused', 'inspector')
    expect(refusalOf(rule('unknown_reference'), 'nobody', '310101002', accounts)).toBe('unknown')
    expect(refusalOf(rule('inconsistent_fields'), 'dispatcher', '310101002', accounts)).toBe('not_inspector')
    expect(refusalOf(rule('inconsistent_fields'), 'pd.insp', '310101002', accounts)).toBe('outside')
    // an account the admin cannot list: either cause
    expect(refusalOf(rule('inconsistent_fields'), 'elsewhere', '310101002', accounts)).toBe('mismatch')
    expect(refusalOf(new ApiError(403, 'forbidden', 'no'), 'zz.insp', '310101002', accounts)).toBe('forbidden')
    expect(refusalOf(new ApiError(404, 'not_found', 'no'), 'zz.insp', '310101002', accounts)).toBe('gone')
    expect(refusalOf(new ApiError(500, 'internal', 'boom'), 'zz.insp', '310101002', accounts)).toBe('failed')
    expect(refusalOf(new TypeError('offline'), 'zz.insp', '310101002', accounts)).toBe('failed')
  })
})

describe('a case\'s grid inspector', () => {
  it('is read when the case has one', () => {
    const held = { user_id: 'u1', username: 'inspector', grid: 'R310101002001' }
    expect(gridInspectorOf({ grid_inspector: held } as unknown as CaseView)).toEqual(held)
    expect(gridInspectorOf({ grid_inspector: null } as unknown as CaseView)).toBeNull()
    expect(gridInspectorOf({} as unknown as CaseView)).toBeNull()
    expect(gridInspectorOf(null)).toBeNull()
  })
})

// ---- the admin section

type Answer = Response | ((init: RequestInit) => Response)
/** fetch answered by method and path, each request recorded. */
function serve(routes: Record<string, Answer>) {
  const calls: { method: string; path: string; body: string | null }[] = []
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const path = url.replace(/^\/api\/v1/, '')
    calls.push({ method, path, body: init.body === undefined ? null : String(init.body) })
    const answer = routes[`${method} ${path}`] ?? routes[`${method} ${path.split('?')[0]}`]
    if (!answer) return jsonResponse(404, { error: { code: 'not_found', message: `${method} ${path}` } })
    return typeof answer === 'function' ? answer(init) : answer.clone()
  }))
  return calls
}

const GRIDS: ResponsibilityGridView[] = [
  grid({ inspector: { user_id: 'u1', username: 'inspector' } }),
  grid({ code: 'R310101013001', street: '310101013', unit_grids: 12 }),
]
const ACCOUNTS = [account('inspector', { display_name: '王监督员' }), account('pd.insp', { scope: '310115' })]
const section = (routes: Record<string, Answer> = {}) => serve({
  'GET /responsibility-grids': jsonResponse(200, GRIDS),
  'GET /users': jsonResponse(200, ACCOUNTS),
  'GET /areas?level=street': jsonResponse(200, [
    { code: '310101002', name: '南京东路街道', level: 'street', parent: '310101' },
    { code: '310101013', name: '淮海中路街道', level: 'street', parent: '310101' },
  ]),
  ...routes,
})

const byId = (id: string, within: ParentNode = document.body) => within.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
const gridRow = (code: string) => document.body.querySelector(`[data-testid="grid-row"][data-code="${code}"]`) as HTMLElement
const text = (el: Element | null) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

async function mountSection(query: Record<string, string> = {}) {
  setActivePinia(createPinia())
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/:section?', component: { template: '<div />' } }] })
  await router.push({ path: '/admin/grids', query })
  const wrapper = mount(AdminGrids, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}
/** Chooses `value` in the row's select: a select's choice is its update. */
async function choose(wrapper: VueWrapper, code: string, value: string) {
  const select = wrapper.findAllComponents({ name: 'ElSelect' }).find((s) => s.element.closest('[data-testid="grid-row"]') === gridRow(code))!
  select.vm.$emit('update:modelValue', value)
  await flushPromises()
}

describe('the responsibility grids section', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
    i18n.global.locale.value = 'zh-CN'
  })

  it('lists the grids with their streets and inspectors, the filters from the address', async () => {
    const calls = section()
    const { wrapper } = await mountSection({ area: '310101', unassigned: 'true' })
    expect(calls.find((c) => c.path.startsWith('/responsibility-grids'))!.path).toBe('/responsibility-grids?area=310101&unassigned=true')
    expect(text(byId('grid-street', gridRow('R310101002001')))).toBe('南京东路街道 310101002')
    expect(gridRow('R310101002001').dataset.inspector).toBe('inspector')
    expect(byId('grid-unassigned', gridRow('R310101013001'))).not.toBeNull()
    expect(text(byId('grids-count'))).toBe('共 2 个责任网格')
    // nothing changed yet: nothing to save
    expect((byId('grid-save', gridRow('R310101013001')) as HTMLButtonElement).disabled).toBe(true)
    wrapper.unmount()
  })

  it('assigns an inspector, and takes one away', async () => {
    const calls = section({
      'PUT /responsibility-grids/R310101013001': (init) => jsonResponse(200, {
        ...GRIDS[1], inspector: JSON.parse(String(init.body)).inspector ? { user_id: 'u1', username: 'inspector' } : null,
      }),
      'PUT /responsibility-grids/R310101002001': jsonResponse(200, { ...GRIDS[0], inspector: null }),
    })
    const { wrapper } = await mountSection()
    await choose(wrapper, 'R310101013001', 'inspector')
    byId('grid-save', gridRow('R310101013001'))!.click()
    await flushPromises()
    expect(JSON.parse(calls.find((c) => c.method === 'PUT')!.body!)).toEqual({ inspector: 'inspector' })
    expect(gridRow('R310101013001').dataset.inspector).toBe('inspector')
    expect(text(byId('grids-notice'))).toBe('已将网格 R310101013001 指派给 inspector')

    await choose(wrapper, 'R310101002001', NO_INSPECTOR)
    byId('grid-save', gridRow('R310101002001'))!.click()
    await flushPromises()
    expect(JSON.parse(calls.filter((c) => c.method === 'PUT')[1].body!)).toEqual({ inspector: null })
    expect(gridRow('R310101002001').dataset.inspector).toBe('')
    expect(text(byId('grids-notice'))).toBe('已取消网格 R310101002001 的监督员指派')
    wrapper.unmount()
  })

  it('shows a refusal beside its row, in English too', async () => {
    i18n.global.locale.value = 'en'
    section({
      'GET /users': jsonResponse(200, [...ACCOUNTS, account('dispatcher', { role: 'dispatcher', scope: '310000' })]),
      'PUT /responsibility-grids/R310101013001': jsonResponse(422, {
        error: { code: 'inconsistent_fields', field: 'inspector', message: 'dispatcher is a dispatcher, not an inspector' },
      }),
    })
    const { wrapper } = await mountSection()
    await choose(wrapper, 'R310101013001', 'dispatcher')
    byId('grid-save', gridRow('R310101013001'))!.click()
    await flushPromises()
    const refusal = byId('grid-refusal', gridRow('R310101013001'))!
    expect(refusal.dataset.refusal).toBe('not_inspector')
    expect(text(refusal)).toBe('dispatcher is not an inspector and cannot take a grid')
    expect(byId('grid-refusal', gridRow('R310101002001'))).toBeNull()
    expect(gridRow('R310101013001').dataset.inspector).toBe('')
    wrapper.unmount()
  })

  it('assigns the selected grids to one inspector, one request each', async () => {
    const calls = section({
      'PUT /responsibility-grids/R310101002001': jsonResponse(200, GRIDS[0]),
      'PUT /responsibility-grids/R310101013001': jsonResponse(422, { error: { code: 'unknown_reference', field: 'inspector', message: 'no' } }),
    })
    const { wrapper } = await mountSection()
    byId('grids-select-all')!.click()
    await flushPromises()
    expect(text(byId('grids-bulk'))).toContain('已选 2 个网格')
    wrapper.findAllComponents({ name: 'ElSelect' }).find((s) => s.element.closest('[data-testid="grids-bulk"]'))!.vm.$emit('update:modelValue', 'inspector')
    await flushPromises()
    byId('grids-bulk-run')!.click()
    await flushPromises()
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.path)).toEqual(['/responsibility-grids/R310101002001', '/responsibility-grids/R310101013001'])
    expect(text(byId('grids-notice'))).toBe('批量指派：成功 1 个，失败 1 个（失败的仍保持选中，原因见各行）')
    expect(byId('grid-refusal', gridRow('R310101013001'))!.dataset.refusal).toBe('unknown')
    expect(text(byId('grids-bulk'))).toContain('已选 1 个网格')
    wrapper.unmount()
  })

  it('asks nothing for a community, and says why', async () => {
    const calls = section()
    const { wrapper } = await mountSection()
    const before = calls.length
    const input = byId('grids-area') as HTMLInputElement
    input.value = '310101002001'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(text(byId('grids-area-error'))).toBe('请输入 6 位区代码或 9 位街道/乡镇代码')
    await new Promise((r) => setTimeout(r, 350))
    expect(calls.slice(before).some((c) => c.path.startsWith('/responsibility-grids'))).toBe(false)
    wrapper.unmount()
  })
})
