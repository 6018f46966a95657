// The responsibility matrix on the administration page: rules checked as the server's
// `Rule::new` checks them, ordered as it ranks them, written to and read from its CSV file, the
// server's refusal of a line brought back to the table's row, and "who gets class X at place Y".
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { i18n } from '../src/i18n'
import type { Categories, RoutingRule, Unit } from '../src/api/types'
import {
  categoryScope, categoryWords, compareRules, csvCell, decisionRows, duplicateRows, emptyPreviewForm, matchesText, matrixChanges,
  matrixFiltersOf, matrixQuery, parseRulesCsv, previewBody, refusedDraftRule, refusedLine, rowOfLine, ruleProblems, rulesCsv,
  ruleText, ruleWarnings, sortRules, specificity, unescapeCell, type RuleFields,
} from '../src/lib/matrix'
import { sectionOf } from '../src/lib/admin'
import AdminMatrix from '../src/components/AdminMatrix.vue'
import { jsonResponse } from './helpers'

const rule = (category: string, area: string, unit: string, owner = ''): RuleFields => ({ category, area, owner, unit })

describe('a rule as typed', () => {
  it('is checked as the server checks it, trimmed first', () => {
    expect(ruleProblems(rule('20101', '310101002', '310101-GD'))).toEqual({})
    expect(ruleProblems(rule(' 2 ', ' 310000 ', ' CITY ', ' OWNER '))).toEqual({})
    for (const category of ['', '0', '3', '30101', '123456', '2a', '20 1', '２']) {
      expect(ruleProblems(rule(category, '310101', 'U')), category).toEqual({ category: 'category' })
    }
    for (const area of ['', '3101', '3101010', '31010100200', '3101010020011', 'abcdef']) {
      expect(ruleProblems(rule('1', area, 'U')), area).toEqual({ area: 'area' })
    }
    expect(ruleProblems(rule('1', '310101', '  '))).toEqual({ unit: 'required' })
    expect(ruleProblems(rule('1', '310101', 'U'.repeat(64)))).toEqual({})
    expect(ruleProblems(rule('1', '310101', 'U'.repeat(65)))).toEqual({ unit: 'long' })
    // the server counts bytes: 22 Chinese characters are 66
    expect(ruleProblems(rule('1', '310101', '单'.repeat(22)))).toEqual({ unit: 'long' })
    expect(ruleProblems(rule('1', '310101', 'A\nB'))).toEqual({ unit: 'line_break' })
    expect(ruleProblems(rule('1', '310101', 'U', 'O\r\nP'))).toEqual({ owner: 'line_break' })
    expect(ruleProblems(rule('x', 'y', ''))).toEqual({ category: 'category', area: 'area', unit: 'required' })
  })

  it('warns of what the server refuses or what never applies, from the lists the page holds', () => {
    const units: Record<string, { active: boolean }> = { '310101-GD': { active: true }, OLD: { active: false } }
    const ctx = { unit: (c: string) => units[c], classes: (p: string) => (p.startsWith('2') ? 3 : 0) }
    expect(ruleWarnings(rule('20101', '310101', '310101-GD'), ctx)).toEqual([])
    expect(ruleWarnings(rule('20101', '310101', 'NOPE'), ctx)).toEqual(['unit_unknown'])
    expect(ruleWarnings(rule('20101', '310101', 'OLD'), ctx)).toEqual(['unit_retired'])
    expect(ruleWarnings(rule('10101', '310101', '310101-GD', 'NOBODY'), ctx)).toEqual(['owner_unknown', 'no_class'])
    expect(ruleWarnings(rule('2', '310101', '310101-GD'), { ...ctx, duplicate: true })).toEqual(['duplicate'])
    // a value with a problem is not warned of as well
    expect(ruleWarnings(rule('x', '310101', ''), ctx)).toEqual([])
  })

  it('finds the rules that name the same class, area and owner', () => {
    const rows = [rule('201', '310101', 'A'), rule('201', '310101', 'B'), rule('201', '310101', 'C', 'O'), rule(' 201', '310101 ', 'A')]
    expect([...duplicateRows(rows)].sort()).toEqual([0, 1, 3])
  })
})

describe('the order of the table', () => {
  it('ranks as the server does: an owner, then the longer category, then the deeper area, then the unit', () => {
    expect(specificity(rule('201', '310101002', 'U', 'O'))).toEqual([1, 3, 9])
    const rows = [
      rule('2', '310000', 'CITY'),
      rule('201', '310101', 'HP'),
      rule('20101', '310101', 'B'),
      rule('20101', '310101', 'A'),
      rule('20101', '310101002', 'ST'),
      rule('1', '310000', 'OWN', 'OWNER-X'),
    ]
    expect(sortRules(rows, 'specific').map((r) => r.unit)).toEqual(['OWN', 'ST', 'A', 'B', 'HP', 'CITY'])
  })

  it('orders by category code, a prefix before the classes it covers', () => {
    const rows = [rule('20101', '310101', 'A'), rule('2', '310000', 'B'), rule('10101', '310101', 'C'), rule('201', '310101', 'D'), rule('1', '310000', 'E')]
    expect(sortRules(rows, 'category').map((r) => r.category)).toEqual(['1', '10101', '2', '201', '20101'])
    expect(compareRules(rule('201', '310101', 'A'), rule('201', '310101', 'A'), 'category')).toBe(0)
  })
})

describe('changes', () => {
  const saved: RoutingRule[] = [
    { category: '201', area: '310101', owner: null, unit: 'HP' },
    { category: '20101', area: '310101002', unit: '310101-GD' },
  ]

  it('are told by value: the same rules in another order are no change', () => {
    expect(matrixChanges(saved, [rule('20101', '310101002', '310101-GD'), rule('201', '310101', 'HP')]))
      .toEqual({ changed: new Set(), removed: 0, dirty: false })
    expect(matrixChanges(saved, [rule(' 201 ', '310101', 'HP'), rule('20101', '310101002', '310101-GD')]).dirty).toBe(false)
  })

  it('count rows added or edited and rules removed', () => {
    const edited = matrixChanges(saved, [rule('201', '310101', 'HP2'), rule('20101', '310101002', '310101-GD')])
    expect(edited).toEqual({ changed: new Set([0]), removed: 1, dirty: true })
    expect(matrixChanges(saved, [rule('201', '310101', 'HP')])).toEqual({ changed: new Set(), removed: 1, dirty: true })
    // a rule twice is two rules
    const twice = matrixChanges(saved, [rule('201', '310101', 'HP'), rule('201', '310101', 'HP'), rule('20101', '310101002', '310101-GD')])
    expect(twice).toEqual({ changed: new Set([1]), removed: 0, dirty: true })
    expect(matrixChanges([], []).dirty).toBe(false)
  })
})

describe('the CSV file', () => {
  it('is written with a BOM, the header, CRLF, and the line of each rule', () => {
    const csv = rulesCsv([rule('20101', '310101002', '310101-GD'), rule('1', '310000', 'U', 'OWNER')])
    expect(csv.text).toBe('\uFEFFcategory,area,owner,unit\r\n20101,310101002,,310101-GD\r\n1,310000,OWNER,U\r\n')
    expect(csv.lines).toEqual([2, 3])
    expect(csv.end).toBe(3)
    expect(rulesCsv([], { bom: false })).toEqual({ text: 'category,area,owner,unit\r\n', lines: [], end: 1 })
  })

  it('quotes what must be quoted and escapes formulas as the server does', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe('\'=HYPERLINK("x")')
    expect(csvCell('-X')).toBe("'-X")
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvCell('-3.5')).toBe('-3.5')
    expect(csvCell('+2')).toBe('+2')
    expect(csvCell('310101-GD')).toBe('310101-GD')
    expect(unescapeCell("'-X")).toBe('-X')
    expect(unescapeCell("'abc")).toBe("'abc")
    const text = rulesCsv([rule('2', '310000', 'A,B', 'say "hi"')], { bom: false }).text
    expect(text).toBe('category,area,owner,unit\r\n2,310000,"say ""hi""","A,B"\r\n')
  })

  it('reads back what it writes', () => {
    const rows = [
      rule('20101', '310101002', '310101-GD'), rule('1', '310000', '-X', 'O,1'), rule('2', '310000', 'a "b"'), rule('201', '310101', '=1+1'),
    ]
    const parsed = parseRulesCsv(rulesCsv(rows).text)
    expect(parsed).toEqual({ rules: rows, lines: [2, 3, 4, 5] })
  })

  it('maps a line the server names back to the row that was on it', () => {
    const csv = rulesCsv([rule('1', '310000', 'A'), rule('2', '310000', 'B'), rule('201', '310101', 'C')])
    expect(rowOfLine(csv, 2)).toBe(0)
    expect(rowOfLine(csv, 4)).toBe(2)
    expect(rowOfLine(csv, 1)).toBe(-1)
    expect(rowOfLine(csv, 5)).toBe(-1)
    // a cell spanning lines moves the lines of the rules after it
    const spanning = rulesCsv([rule('1', '310000', 'A', 'two\nlines'), rule('2', '310000', 'B')])
    expect(spanning.lines).toEqual([2, 4])
    expect(rowOfLine(spanning, 3)).toBe(0)
    expect(rowOfLine(spanning, 4)).toBe(1)
    expect(parseRulesCsv(spanning.text)).toEqual({ rules: [rule('1', '310000', 'A', 'two\nlines'), rule('2', '310000', 'B')], lines: [2, 4] })
  })

  it('reads the server export: BOM, LF, columns in any order, extra ones, empty lines, cells trimmed', () => {
    expect(parseRulesCsv('\uFEFFcategory,area,owner,unit\n20101,310101002,,310101-GD\n')).toEqual({
      rules: [rule('20101', '310101002', '310101-GD')], lines: [2],
    })
    const text = 'note, unit ,category,area,owner\r\nx, HP ,201,310101,\r\n\r\ny,"GD",20101, 310101002 ,O\r\n'
    expect(parseRulesCsv(text)).toEqual({ rules: [rule('201', '310101', 'HP'), rule('20101', '310101002', 'GD', 'O')], lines: [2, 4] })
    // rules the server would refuse are read, for the table to show their problems
    expect(parseRulesCsv('category,area,owner,unit\n9,1,,\n')).toEqual({ rules: [rule('9', '1', '')], lines: [2] })
    expect(parseRulesCsv('category,area,owner,unit')).toEqual({ rules: [], lines: [] })
  })

  it('refuses a file that is no table of rules, naming the line', () => {
    expect(parseRulesCsv('')).toEqual({ problem: { kind: 'empty', line: 1 } })
    expect(parseRulesCsv('\uFEFF\n')).toEqual({ problem: { kind: 'empty', line: 1 } })
    expect(parseRulesCsv('category,area,unit\n1,310000,U\n')).toEqual({ problem: { kind: 'header', line: 1, column: 'owner' } })
    expect(parseRulesCsv('category,area,owner,unit\n1,310000,,U\n2,310000,U\n'))
      .toEqual({ problem: { kind: 'fields', line: 3, found: 3, expected: 4 } })
    expect(parseRulesCsv('category,area,owner,unit\n1,310000,,U\n2,310000,"U,\n')).toEqual({ problem: { kind: 'quote', line: 3 } })
  })
})

describe('the server refusals', () => {
  it('name a line and its column, or a draft rule', () => {
    expect(refusedLine('line 3: unit')).toEqual({ line: 3, column: 'unit' })
    expect(refusedLine('line 12: category')).toEqual({ line: 12, column: 'category' })
    expect(refusedLine('line 4')).toEqual({ line: 4, column: null })
    expect(refusedLine('line 4: colour')).toEqual({ line: 4, column: null })
    expect(refusedLine('file')).toBe(null)
    expect(refusedLine(undefined)).toBe(null)
    expect(refusedDraftRule('rules[3].unit')).toEqual({ index: 3, column: 'unit' })
    expect(refusedDraftRule('rules[0]')).toEqual({ index: 0, column: null })
    expect(refusedDraftRule('category')).toBe(null)
  })
})

describe('who gets class X at place Y', () => {
  it('asks with an area code or a point, and the draft when given', () => {
    const form = { ...emptyPreviewForm(), category: ' 20101 ', area: '310101002001' }
    expect(previewBody(form, null)).toEqual({ body: { category: '20101', area: '310101002001' }, problems: {} })
    const draft = [rule(' 20101', '310101002 ', ' 310101-GD'), rule('1', '310000', 'U', 'OWN')]
    expect(previewBody(form, draft).body).toEqual({
      category: '20101', area: '310101002001',
      rules: [{ category: '20101', area: '310101002', unit: '310101-GD' }, { category: '1', area: '310000', unit: 'U', owner: 'OWN' }],
    })
    expect(previewBody({ ...form, place: 'point', lon: '121.4837', lat: ' 31.2369 ' }, null).body)
      .toEqual({ category: '20101', lon: 121.4837, lat: 31.2369 })
  })

  it('names what is missing or wrong before asking', () => {
    expect(previewBody(emptyPreviewForm(), null)).toEqual({ body: null, problems: { category: 'required', area: 'required' } })
    expect(previewBody({ ...emptyPreviewForm(), category: '201', area: '3101' }, null).problems).toEqual({ category: 'small_class', area: 'area' })
    expect(previewBody({ ...emptyPreviewForm(), category: '20101', place: 'point', lon: '200', lat: 'x' }, null).problems).toEqual({ lon: 'lon', lat: 'lat' })
    expect(previewBody({ ...emptyPreviewForm(), category: '20101', place: 'point' }, null).problems).toEqual({ lon: 'required', lat: 'required' })
  })

  it('finds the rows of the answer, each once', () => {
    const rows = [rule('201', '310101', 'HP'), rule('20101', '310101002', 'GD'), rule('201', '310101', 'HP')]
    const answer = { rule: { category: '20101', area: '310101002', owner: null, unit: 'GD' }, overridden: [rule('201', '310101', 'HP'), rule('201', '310101', 'HP')] }
    expect(decisionRows(rows, answer)).toEqual({ rule: 1, overridden: [0, 2] })
    expect(decisionRows(rows, { rule: null, overridden: [] })).toEqual({ rule: null, overridden: [] })
    expect(decisionRows([], answer)).toEqual({ rule: null, overridden: [] })
  })

  it('writes a rule in a line', () => {
    expect(ruleText(rule('20101', '310101002', '310101-GD'))).toBe('20101 · 310101002 → 310101-GD')
    expect(ruleText(rule('201', '310101', 'U', 'OWN'))).toBe('201* · 310101 · OWN → U')
  })
})

const catalog: Categories = {
  version: '2026.1',
  big: [
    { code: '101', kind: 'component', zh: '公用设施', en: 'Public utilities' },
    { code: '201', kind: 'event', zh: '市容环境', en: 'City appearance' },
  ],
  small: [
    { code: '10101', kind: 'component', big_class: '101', zh: '上水井盖', en: 'Water-supply manhole cover', urgency: 'urgent', unit_kind: 'water_supply',
      terms: { dispatch: { amount: 30, unit: 'minutes' }, handling: { amount: 3, unit: 'working_hours' }, check: { amount: 1, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' } }, fields: [] },
    { code: '20101', kind: 'event', big_class: '201', zh: '私搭乱建', en: 'Illegal structure', urgency: 'normal', unit_kind: 'law_enforcement',
      terms: { dispatch: { amount: 1, unit: 'working_hours' }, handling: { amount: 5, unit: 'working_days' }, check: { amount: 2, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' } }, fields: [] },
    { code: '20102', kind: 'event', big_class: '201', zh: '暴露垃圾', en: 'Exposed rubbish', urgency: 'normal', unit_kind: 'greening',
      terms: { dispatch: { amount: 1, unit: 'working_hours' }, handling: { amount: 5, unit: 'working_days' }, check: { amount: 2, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' } }, fields: [] },
  ],
}

describe('the category a rule covers', () => {
  it('is a small class, a big class, all of a kind, or a prefix', () => {
    expect(categoryScope('20101', catalog)).toMatchObject({ kind: 'small', count: 1 })
    expect(categoryScope('201', catalog)).toMatchObject({ kind: 'big', count: 2 })
    expect(categoryScope('2', catalog)).toEqual({ kind: 'all', of: 'event', count: 2 })
    expect(categoryScope('2010', catalog)).toEqual({ kind: 'prefix', count: 2 })
    expect(categoryScope('29', catalog)).toEqual({ kind: 'prefix', count: 0 })
    expect(categoryScope('x', catalog)).toBe(null)
    expect(categoryScope('201', null)).toBe(null)
  })

  it('is said in words, in both languages', () => {
    const t = i18n.global.t as Parameters<typeof categoryWords>[2]
    i18n.global.locale.value = 'zh-CN'
    expect(categoryWords('20101', catalog, t, false)).toBe('私搭乱建')
    expect(categoryWords('201', catalog, t, false)).toBe('市容环境（大类，2 个小类）')
    expect(categoryWords('1', catalog, t, false)).toBe('全部部件（1 个小类）')
    expect(categoryWords('2010', catalog, t, false)).toBe('以 2010 开头的 2 个小类')
    expect(categoryWords('29', catalog, t, false)).toBe('没有小类以此开头')
    i18n.global.locale.value = 'en'
    expect(categoryWords('20101', catalog, t, true)).toBe('Illegal structure')
    expect(categoryWords('201', catalog, t, true)).toBe('City appearance (big class, 2 small classes)')
    i18n.global.locale.value = 'zh-CN'
  })
})

describe('the filters', () => {
  it('match codes and names, and are kept in the address without defaults', () => {
    expect(matchesText(['20101', '私搭乱建'], ' 乱建 ')).toBe(true)
    expect(matchesText(['310101-GD', '黄浦区供电公司'], 'gd')).toBe(true)
    expect(matchesText(['x'], '')).toBe(true)
    expect(matchesText([null, 'x'], 'y')).toBe(false)
    expect(matrixQuery({ q: ' 201 ', show: 'all', sort: 'specific' })).toEqual({ q: '201' })
    expect(matrixQuery({ q: '', show: 'changed', sort: 'category' })).toEqual({ show: 'changed', sort: 'category' })
    expect(matrixFiltersOf({ q: '201', show: 'nonsense', sort: 'category' })).toEqual({ q: '201', show: 'all', sort: 'category' })
    expect(matrixFiltersOf({})).toEqual({ q: '', show: 'all', sort: 'specific' })
    expect(sectionOf('matrix')).toBe('matrix')
  })
})

// ---- the section itself

const unit = (code: string, name: string, active = true): Unit => ({
  code, name, kind: 'power', organization: 'public_utility', jurisdiction: '310101', district: '310101', parent: null, active,
  retired_at: active ? null : '2026-01-01T00:00:00Z', successor: null,
})
const inForce: RoutingRule[] = [
  { category: '201', area: '310101', owner: null, unit: '310101-CGZF' },
  { category: '10101', area: '310101', owner: null, unit: '310101-ZLS' },
]
const units = [unit('310101-CGZF', '黄浦区城管执法局'), unit('310101-ZLS', '黄浦区自来水公司'), unit('310101-GD', '黄浦区供电公司'), unit('OLD-1', '旧单位', false)]

type Answer = Response | ((init: RequestInit) => Response)
/** fetch answered by method and path, each request recorded. */
function serve(routes: Record<string, Answer>) {
  const calls: { method: string; path: string; body: string | null; contentType: string | null }[] = []
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const path = url.replace(/^\/api\/v1/, '')
    const headers = (init.headers ?? {}) as Record<string, string>
    calls.push({ method, path, body: init.body === undefined ? null : String(init.body), contentType: headers['content-type'] ?? null })
    const answer = routes[`${method} ${path}`] ?? routes[`${method} ${path.split('?')[0]}`]
    if (!answer) return jsonResponse(404, { error: { code: 'not_found', message: `${method} ${path}` } })
    return typeof answer === 'function' ? answer(init) : answer.clone()
  })
  vi.stubGlobal('fetch', fn)
  return calls
}
const base = () => ({
  'GET /routing/rules': jsonResponse(200, inForce),
  'GET /categories': jsonResponse(200, catalog),
  'GET /units?status=all': jsonResponse(200, units),
  'GET /areas/310101': jsonResponse(200, { code: '310101', name: '黄浦区', level: 'district', parent: '310000', children: [] }),
  'GET /areas/310101002': jsonResponse(200, { code: '310101002', name: '南京东路街道', level: 'street', parent: '310101', children: [] }),
})

const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
const rows = () => [...document.body.querySelectorAll<HTMLElement>('[data-testid="matrix-table"] tbody tr.row')]
async function type(id: string, value: string) {
  const input = byId(id) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}
async function click(id: string, within: ParentNode = document.body) {
  ;(within.querySelector(`[data-testid="${id}"]`) as HTMLElement).click()
  await flushPromises()
}

async function mountSection() {
  setActivePinia(createPinia())
  // inside a router view, as on the page: it guards leaving with unsaved changes
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/:section?', component: AdminMatrix }] })
  await router.push('/admin/matrix')
  const wrapper = mount(defineComponent({ render: () => h(RouterView) }), { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  await flushPromises()
  return { wrapper, router }
}

/** Adds 20101 in the Nanjing Road East street to `unit` through the row editor. */
async function addRule(unitCode: string) {
  await click('matrix-add')
  await vi.waitFor(() => expect(byId('matrix-editor')).not.toBeNull())
  await type('matrix-edit-category', '20101')
  await type('matrix-edit-area', '310101002')
  await type('matrix-edit-unit', unitCode)
  byId('matrix-editor')!.dispatchEvent(new Event('submit'))
  await flushPromises()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('the matrix section', () => {
  it('lists the rules in force, most specific first, with names', async () => {
    serve(base())
    const { wrapper } = await mountSection()
    expect(rows().map((r) => r.dataset.unit)).toEqual(['310101-ZLS', '310101-CGZF'])
    const first = rows()[1]
    expect(first.querySelector('[data-testid="matrix-row-category"]')!.textContent).toMatch(/201\s*市容环境（大类，2 个小类）/)
    expect(first.querySelector('[data-testid="matrix-row-area"]')!.textContent).toMatch(/310101\s*黄浦区/)
    expect(first.querySelector('[data-testid="matrix-row-unit"]')!.textContent).toMatch(/310101-CGZF\s*黄浦区城管执法局/)
    expect(first.querySelector('[data-testid="matrix-row-owner"]')!.textContent!.trim()).toBe('任意')
    expect(byId('matrix-dirty')!.dataset.dirty).toBe('false')
    expect(byId('matrix-count')!.textContent!.trim()).toBe('共 2 条规则')
    expect((byId('matrix-save') as HTMLButtonElement).disabled).toBe(true)
    wrapper.unmount()
  })

  it('adds a rule to the table, marks it unsaved, and saves the whole table as CSV', async () => {
    const stored = [...inForce, { category: '20101', area: '310101002', owner: null, unit: '310101-GD' }]
    const calls = serve({ ...base(), 'PUT /routing/rules': jsonResponse(200, stored) })
    const { wrapper } = await mountSection()
    await addRule('310101-GD')
    expect(byId('matrix-editor')).toBeNull()
    const added = rows().find((r) => r.dataset.unit === '310101-GD')!
    expect(added.dataset.state).toBe('changed')
    expect(added.querySelector('[data-testid="matrix-row-changed"]')).not.toBeNull()
    expect(byId('matrix-dirty')!.dataset.dirty).toBe('true')
    expect(byId('matrix-dirty')!.dataset.changed).toBe('1')
    await click('matrix-save')
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.path).toBe('/routing/rules')
    expect(put.contentType).toBe('text/csv')
    // most specific first, as the table shows them
    expect(put.body).toBe('\uFEFFcategory,area,owner,unit\r\n20101,310101002,,310101-GD\r\n10101,310101,,310101-ZLS\r\n201,310101,,310101-CGZF\r\n')
    expect(byId('matrix-notice')!.textContent).toContain('已保存责任矩阵：共 3 条规则')
    expect(byId('matrix-dirty')!.dataset.dirty).toBe('false')
    wrapper.unmount()
  })

  it('brings a refused line back to its row, and keeps the table as it was', async () => {
    serve({
      ...base(),
      'PUT /routing/rules': jsonResponse(422, { error: { code: 'invalid_file', message: 'unit OLD-1 is retired', field: 'line 2: unit' } }),
    })
    const { wrapper } = await mountSection()
    await addRule('OLD-1')
    const added = rows().find((r) => r.dataset.unit === 'OLD-1')!
    // the page knows the unit is retired, and says so before saving
    expect(added.querySelector('[data-testid="matrix-row-warning"]')!.getAttribute('data-warning')).toBe('unit_retired')
    await click('matrix-save')
    const alert = byId('matrix-save-error')!
    expect(alert.dataset.line).toBe('2')
    expect(alert.dataset.row).toBe('1')
    expect(alert.dataset.column).toBe('unit')
    expect(alert.textContent).toContain('CSV 第 2 行（表中第 1 条规则 20101 · 310101002 → OLD-1）的责任单位：unit OLD-1 is retired')
    const refused = rows().filter((r) => r.dataset.refused === 'true')
    expect(refused.map((r) => r.dataset.unit)).toEqual(['OLD-1'])
    expect(refused[0].querySelector('[data-testid="matrix-row-refusal"]')!.textContent).toContain('unit OLD-1 is retired')
    expect(byId('matrix-dirty')!.dataset.dirty).toBe('true')
    wrapper.unmount()
  })

  it('refuses to send a rule the server would refuse, naming the field', async () => {
    const calls = serve(base())
    const { wrapper } = await mountSection()
    await click('matrix-add')
    await vi.waitFor(() => expect(byId('matrix-editor')).not.toBeNull())
    await type('matrix-edit-category', '3')
    await type('matrix-edit-area', '3101')
    byId('matrix-editor')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(byId('matrix-edit-error-category')!.textContent).toContain('以 1（部件）或 2（事件）开头')
    expect(byId('matrix-edit-area-error')!.textContent).toContain('6、9 或 12 位')
    expect(byId('matrix-edit-error-unit')!.textContent).toBe('必填')
    expect(rows()).toHaveLength(2)
    expect(calls.some((c) => c.method === 'PUT')).toBe(false)
    wrapper.unmount()
  })

  it('reads a CSV file into the table as a draft', async () => {
    serve(base())
    const { wrapper } = await mountSection()
    const input = byId('matrix-import-file') as HTMLInputElement
    const file = new File(['\uFEFFcategory,area,owner,unit\r\n2,310000,,310101-CGZF\r\n9,310101,,X\r\n'], 'rules.csv', { type: 'text/csv' })
    if (!file.text) Object.defineProperty(file, 'text', { value: async () => '\uFEFFcategory,area,owner,unit\r\n2,310000,,310101-CGZF\r\n9,310101,,X\r\n' })
    Object.defineProperty(input, 'files', { value: [file], configurable: true })
    input.dispatchEvent(new Event('change'))
    await vi.waitFor(() => expect(byId('matrix-notice')).not.toBeNull())
    expect(byId('matrix-notice')!.textContent).toContain('已从 rules.csv 读入 2 条规则')
    expect(byId('matrix-notice')!.textContent).toContain('其中 1 条有问题')
    // equally specific: by unit code, as the server breaks ties
    expect(rows().map((r) => r.dataset.category)).toEqual(['2', '9'])
    const bad = rows()[1]
    expect(bad.dataset.invalid).toBe('true')
    expect(bad.querySelector('[data-testid="matrix-row-problem"]')!.getAttribute('data-column')).toBe('category')
    expect(bad.textContent).toContain('文件第 3 行')
    expect(byId('matrix-dirty')!.dataset.removed).toBe('2')
    // a file that is no table of rules is refused, naming its line
    const broken = new File(['category,area,unit\n'], 'broken.csv', { type: 'text/csv' })
    if (!broken.text) Object.defineProperty(broken, 'text', { value: async () => 'category,area,unit\n' })
    Object.defineProperty(input, 'files', { value: [broken], configurable: true })
    input.dispatchEvent(new Event('change'))
    await vi.waitFor(() => expect(byId('matrix-import-error')).not.toBeNull())
    expect(byId('matrix-import-error')!.textContent).toContain('第 1 行：表头缺少 owner 列')
    wrapper.unmount()
  })

  it('asks the draft while the table has changes, and marks the deciding row', async () => {
    const calls = serve({
      ...base(),
      'POST /routing/preview': jsonResponse(200, {
        area: '310101002001', area_name: '某居委会', unit_grid: null, draft: true,
        routing: {
          unit: '310101-GD', unit_name: '黄浦区供电公司', rule: { category: '20101', area: '310101002', owner: null, unit: '310101-GD' },
          overridden: [{ category: '201', area: '310101', owner: null, unit: '310101-CGZF' }],
          reason: 'rule: category 20101* in area 310101002 -> 310101-GD (the most specific of 2 matching rules)',
        },
      }),
    })
    const { wrapper } = await mountSection()
    await addRule('310101-GD')
    // the category is picked from a select: its choice is its update
    const preview = wrapper.findComponent({ name: 'MatrixPreview' })
    preview.findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', '20101')
    await type('matrix-preview-area', '310101002001')
    byId('matrix-preview-form')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    const sent = JSON.parse(calls.find((c) => c.path === '/routing/preview')!.body!)
    expect(sent.category).toBe('20101')
    expect(sent.area).toBe('310101002001')
    expect(sent.rules).toHaveLength(3)
    expect(sent.rules).toContainEqual({ category: '20101', area: '310101002', unit: '310101-GD' })
    expect(byId('matrix-preview-result')!.dataset.unit).toBe('310101-GD')
    expect(byId('matrix-preview-unit')!.textContent).toMatch(/黄浦区供电公司\s*310101-GD/)
    expect(rows().filter((r) => r.dataset.decisive === 'true').map((r) => r.dataset.unit)).toEqual(['310101-GD'])
    expect(rows().filter((r) => r.dataset.overridden === 'true').map((r) => r.dataset.unit)).toEqual(['310101-CGZF'])
    // a change to the table makes the answer stale, and the mark goes
    await click('matrix-row-remove', rows().find((r) => r.dataset.unit === '310101-ZLS')!)
    expect(byId('matrix-preview-stale')).not.toBeNull()
    expect(rows().some((r) => r.dataset.decisive === 'true')).toBe(false)
    wrapper.unmount()
  })
})
