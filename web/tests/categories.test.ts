// The category catalogue on the administration page: the small classes listed and searched, a
// class's edit sending only what changed, and the server's refusal shown beside its field.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import type { Categories, SmallClass } from '../src/api/types'
import {
  categoryChange, categoryFieldOf, categoryFormOf, categoryQuery, matchesCategory, messageBeside, naturalDespiteUnit, termText,
} from '../src/lib/categories'
import { sectionOf } from '../src/lib/admin'
import AdminCategories from '../src/components/AdminCategories.vue'
import { jsonResponse, mockFetch } from './helpers'

const small = (over: Partial<SmallClass> = {}): SmallClass => ({
  code: '20101', kind: 'event', big_class: '201', zh: '私搭乱建', en: 'Illegal structure', urgency: 'normal', unit_kind: 'law_enforcement',
  terms: {
    dispatch: { amount: 1, unit: 'working_hours' }, handling: { amount: 5, unit: 'working_days' },
    check: { amount: 2, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' },
  },
  fields: [],
  ...over,
})

const catalog: Categories = {
  version: '2026.1',
  big: [
    { code: '101', kind: 'component', zh: '公用设施', en: 'Public utilities' },
    { code: '103', kind: 'component', zh: '市容环境', en: 'City appearance' },
    { code: '201', kind: 'event', zh: '市容环境', en: 'City appearance' },
  ],
  small: [
    small({
      code: '10101', kind: 'component', big_class: '101', zh: '上水井盖', en: 'Water-supply manhole cover', urgency: 'urgent', unit_kind: 'water_supply',
      terms: {
        dispatch: { amount: 30, unit: 'minutes' }, handling: { amount: 3, unit: 'working_hours' },
        check: { amount: 1, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' },
      },
    }),
    small({ code: '10305', kind: 'component', big_class: '103', zh: '垃圾箱', en: 'Litter bin', unit_kind: 'greening' }),
    small(),
  ],
}

describe('the categories section', () => {
  it('is a section of the administration page', () => {
    expect(sectionOf('categories')).toBe('categories')
  })
})

describe('a small class edit', () => {
  const original = small()

  it('sends nothing when nothing changed, and only what changed otherwise', () => {
    const form = categoryFormOf(original)
    expect(form.terms.handling).toEqual({ amount: '5', unit: 'working_days' })
    expect(categoryChange(form, original)).toEqual({ body: {}, problems: {} })
    // names are trimmed before they are compared
    expect(categoryChange({ ...form, zh: ' 私搭乱建 ' }, original).body).toEqual({})
    expect(categoryChange({ ...form, zh: '违法建筑', urgency: 'urgent' }, original).body).toEqual({ zh: '违法建筑', urgency: 'urgent' })
    expect(categoryChange({ ...form, unit_kind: 'housing' }, original).body).toEqual({ unit_kind: 'housing' })
  })

  it('names only the stages whose amount or unit changed, each with both', () => {
    const form = categoryFormOf(original)
    form.terms.handling = { amount: ' 3 ', unit: 'working_days' }
    form.terms.check.unit = 'hours'
    expect(categoryChange(form, original).body).toEqual({
      terms: { handling: { amount: 3, unit: 'working_days' }, check: { amount: 2, unit: 'hours' } },
    })
  })

  it('names each field to fix, leaving the per-unit bound to the server', () => {
    const form = categoryFormOf(original)
    expect(categoryChange({ ...form, zh: '  ', en: 'x'.repeat(101) }, original).problems).toEqual({ zh: 'required', en: 'long' })
    for (const amount of ['', '0', '-1', '1.5', 'three', '525601']) {
      const bad = categoryFormOf(original)
      bad.terms.dispatch.amount = amount
      expect(categoryChange(bad, original), amount).toEqual({ body: null, problems: { 'terms.dispatch.amount': 'amount' } })
    }
    // 400 working days is beyond a year of them: the server's rule across two fields, sent for it to state
    const long = categoryFormOf(original)
    long.terms.handling.amount = '400'
    expect(categoryChange(long, original).body).toEqual({ terms: { handling: { amount: 400, unit: 'working_days' } } })
  })

  it("puts the server's refusal on the field it names, without repeating the field", () => {
    expect(categoryFieldOf('terms.handling.amount')).toBe('terms.handling.amount')
    expect(categoryFieldOf('terms.check.unit')).toBe('terms.check.unit')
    expect(categoryFieldOf('terms.callback')).toBe('terms.callback.amount')
    expect(categoryFieldOf('zh')).toBe('zh')
    expect(categoryFieldOf('terms.close.amount')).toBe(null)
    expect(categoryFieldOf('version')).toBe(null)
    expect(categoryFieldOf(undefined)).toBe(null)
    expect(messageBeside('terms.handling.amount: a term in working_days is 1 to 366 (about a year)', 'terms.handling.amount'))
      .toBe('a term in working_days is 1 to 366 (about a year)')
    expect(messageBeside('a name has 1 to 100 characters', 'zh')).toBe('a name has 1 to 100 characters')
  })
})

describe('the list of small classes', () => {
  const big = catalog.big[2]

  it('matches the code, either name or the big class, within the filters', () => {
    const c = small()
    const all = { q: '', big: '', urgency: '' } as const
    expect(matchesCategory(c, all, big)).toBe(true)
    for (const q of ['2010', '乱建', 'ILLEGAL', ' 市容 ', 'appearance']) expect(matchesCategory(c, { ...all, q }, big), q).toBe(true)
    expect(matchesCategory(c, { ...all, q: '井盖' }, big)).toBe(false)
    expect(matchesCategory(c, { ...all, big: '201' }, big)).toBe(true)
    expect(matchesCategory(c, { ...all, big: '103' }, big)).toBe(false)
    expect(matchesCategory(c, { ...all, urgency: 'urgent' }, big)).toBe(false)
    expect(categoryQuery({ q: ' 井盖 ', big: '', urgency: 'urgent' })).toEqual({ q: '井盖', urgency: 'urgent' })
  })

  it('says a term in words in both languages, counting one apart in English', () => {
    const t = i18n.global.t as Parameters<typeof termText>[1]
    i18n.global.locale.value = 'zh-CN'
    expect(termText({ amount: 3, unit: 'working_days' }, t)).toBe('3个工作日')
    expect(termText({ amount: 30, unit: 'minutes' }, t)).toBe('30分钟')
    i18n.global.locale.value = 'en'
    expect(termText({ amount: 3, unit: 'working_days' }, t)).toBe('3 working days')
    expect(termText({ amount: 1, unit: 'working_hours' }, t)).toBe('1 working hour')
    expect(termText({ amount: 2, unit: 'hours' }, t)).toBe('2 hours')
    i18n.global.locale.value = 'zh-CN'
  })

  it('marks the working-time terms an urgent class runs on natural time', () => {
    expect(naturalDespiteUnit({ unit: 'working_hours' }, 'urgent')).toBe(true)
    expect(naturalDespiteUnit({ unit: 'minutes' }, 'urgent')).toBe(false)
    expect(naturalDespiteUnit({ unit: 'working_days' }, 'normal')).toBe(false)
  })
})

// ---- the section itself

type Call = [string, RequestInit]
const call = (f: ReturnType<typeof mockFetch>, i: number) => {
  const [url, init] = f.mock.calls[i] as unknown as Call
  return { url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined }
}
// the dialog is teleported to the body, out of the wrapper's reach
const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
async function type(id: string, value: string) {
  const input = byId(id) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}
async function submit() {
  byId('category-form')!.dispatchEvent(new Event('submit'))
  await flushPromises()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

async function mountSection(query: Record<string, string> = {}) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/:section?', component: { template: '<div />' } }] })
  await router.push({ path: '/admin/categories', query })
  const wrapper = mount(AdminCategories, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

const rowCodes = () => [...document.body.querySelectorAll('[data-testid="categories-table"] tbody tr')].map((r) => (r as HTMLElement).dataset.code)
const row = (code: string) => document.body.querySelector(`[data-testid="categories-table"] tr[data-code="${code}"]`) as HTMLElement
const cell = (code: string, id: string) => row(code).querySelector(`[data-testid="${id}"]`)!.textContent!.trim()

describe('the categories table', () => {
  it('lists every small class with its big class, urgency, line of work and terms in words', async () => {
    const f = mockFetch(jsonResponse(200, catalog))
    const { wrapper } = await mountSection()
    expect(call(f, 0)).toMatchObject({ url: '/api/v1/categories', method: 'GET' })
    expect(rowCodes()).toEqual(['10101', '10305', '20101'])
    expect(cell('20101', 'category-row-name')).toBe('私搭乱建')
    // 市容环境 is a component class and an event class: the kind tells them apart
    expect(cell('20101', 'category-row-big')).toMatch(/^事件\s+市容环境\s+201$/)
    expect(cell('10305', 'category-row-big')).toMatch(/^部件\s+市容环境\s+103$/)
    expect(cell('20101', 'category-row-urgency')).toBe('一般')
    expect(cell('20101', 'category-row-unit-kind')).toBe('城管执法')
    expect(cell('20101', 'category-row-term-handling')).toBe('5个工作日')
    expect(cell('20101', 'category-row-term-dispatch')).toBe('1个工作小时')
    // an urgent class's working hours run on natural time, and the row says so
    expect(cell('10101', 'category-row-term-handling')).toMatch(/^3个工作小时\s*按自然时间$/)
    expect(cell('10101', 'category-row-term-dispatch')).toBe('30分钟')
    expect(byId('categories-version')!.textContent).toContain('2026.1')
    expect(byId('categories-count')!.textContent!.trim()).toBe('共 3 个小类')
    wrapper.unmount()
  })

  it('searches the code and names, keeping the text in the address', async () => {
    mockFetch(jsonResponse(200, catalog))
    const { wrapper, router } = await mountSection()
    await type('categories-q', '乱建')
    expect(rowCodes()).toEqual(['20101'])
    expect(router.currentRoute.value.query).toEqual({ q: '乱建' })
    expect(byId('categories-count')!.textContent!.trim()).toBe('显示 1 / 3 个小类')
    await type('categories-q', 'manhole')
    expect(rowCodes()).toEqual(['10101'])
    await type('categories-q', '没有这个')
    expect(rowCodes()).toEqual([])
    expect(byId('categories-empty')).not.toBeNull()
    wrapper.unmount()
  })

  it('starts from the filters in the address', async () => {
    mockFetch(jsonResponse(200, catalog))
    const { wrapper } = await mountSection({ urgency: 'urgent' })
    expect(rowCodes()).toEqual(['10101'])
    wrapper.unmount()
  })

  it('reads in English', async () => {
    i18n.global.locale.value = 'en'
    mockFetch(jsonResponse(200, catalog))
    const { wrapper } = await mountSection()
    expect(cell('20101', 'category-row-name')).toBe('Illegal structure')
    expect(cell('20101', 'category-row-big')).toMatch(/^Event\s+City appearance\s+201$/)
    expect(cell('20101', 'category-row-urgency')).toBe('Normal')
    expect(cell('20101', 'category-row-unit-kind')).toBe('Law enforcement')
    expect(cell('20101', 'category-row-term-handling')).toBe('5 working days')
    expect(cell('20101', 'category-row-term-callback')).toBe('1 working day')
    expect(byId('categories-count')!.textContent!.trim()).toBe('3 small classes')
    const head = document.body.querySelector('[data-testid="categories-table"] thead')!.textContent!
    for (const word of ['Code', 'Name', 'Big class', 'Urgency', 'Default line', 'Dispatch', 'Handling', 'Check', 'Call-back']) expect(head).toContain(word)
    wrapper.unmount()
  })
})

describe('the edit dialog', () => {
  async function openEdit(code: string) {
    const f = mockFetch(jsonResponse(200, catalog))
    const mounted = await mountSection()
    ;(row(code).querySelector('[data-testid="category-edit"]') as HTMLElement).click()
    // the dialog is loaded when first opened: transforming its chunk takes more than the default
    // second when the whole suite runs on a busy machine
    await vi.waitFor(() => expect(byId('category-form')).not.toBeNull(), { timeout: 10_000 })
    await flushPromises()
    return { ...mounted, f }
  }

  it('shows the class as it is', async () => {
    const { wrapper } = await openEdit('20101')
    expect((byId('category-zh') as HTMLInputElement).value).toBe('私搭乱建')
    expect((byId('category-en') as HTMLInputElement).value).toBe('Illegal structure')
    expect((byId('category-term-handling-amount') as HTMLInputElement).value).toBe('5')
    expect(document.body.querySelector('.el-dialog__title')!.textContent).toBe('编辑类别 20101 私搭乱建')
    // no urgent note for a normal class
    expect(byId('category-urgent-hint')).toBeNull()
    wrapper.unmount()
  })

  it('sends only the changed fields and stages, and lists the saved class', async () => {
    const { wrapper, f } = await openEdit('20101')
    await type('category-term-handling-amount', '3')
    ;(document.body.querySelector('[data-testid="category-urgency-urgent"] input') as HTMLInputElement).click()
    await flushPromises()
    // urgent: the note says every term runs on natural time
    expect(byId('category-urgent-hint')!.textContent).toContain('自然时间')
    const saved = small({ urgency: 'urgent', terms: { ...small().terms, handling: { amount: 3, unit: 'working_days' } } })
    f.mockImplementationOnce(async () => jsonResponse(200, saved))
    f.mockImplementationOnce(async () => jsonResponse(200, { ...catalog, version: '2026.1-e1', small: [catalog.small[0], catalog.small[1], saved] }))
    await submit()
    expect(call(f, 1)).toEqual({
      url: '/api/v1/categories/20101', method: 'PUT',
      body: { urgency: 'urgent', terms: { handling: { amount: 3, unit: 'working_days' } } },
    })
    expect(byId('categories-notice')!.textContent).toBe('已保存类别 20101 私搭乱建')
    expect(cell('20101', 'category-row-term-handling')).toMatch(/^3个工作日/)
    expect(cell('20101', 'category-row-urgency')).toBe('紧急')
    // the list is read again, for the catalogue's new version
    expect(call(f, 2)).toMatchObject({ url: '/api/v1/categories', method: 'GET' })
    expect(byId('categories-version')!.dataset.version).toBe('2026.1-e1')
    wrapper.unmount()
  })

  it('sends nothing when nothing changed', async () => {
    const { wrapper, f } = await openEdit('20101')
    await submit()
    expect(f).toHaveBeenCalledTimes(1)
    expect(byId('categories-notice')!.textContent).toBe('没有修改')
    wrapper.unmount()
  })

  it("shows the server's refusal beside the amount it names, and keeps the dialog open", async () => {
    const { wrapper, f } = await openEdit('20101')
    await type('category-term-handling-amount', '400')
    f.mockImplementationOnce(async () => jsonResponse(422, {
      error: { code: 'inconsistent_fields', message: 'terms.handling.amount: a term in working_days is 1 to 366 (about a year)', field: 'terms.handling.amount' },
    }))
    await submit()
    expect(call(f, 1).body).toEqual({ terms: { handling: { amount: 400, unit: 'working_days' } } })
    const error = byId('category-error-handling')!
    // the server's words, after what they mean in Chinese (the server speaks English only)
    expect(error.textContent).toBe('超出该单位允许的上限（约一年）：a term in working_days is 1 to 366 (about a year)')
    expect(error.dataset.field).toBe('terms.handling.amount')
    // beside its field: in the handling stage's row, and describing its amount
    expect(error.closest('[data-stage]')!.getAttribute('data-stage')).toBe('handling')
    const amount = byId('category-term-handling-amount')!
    expect(amount.getAttribute('aria-invalid')).toBe('true')
    expect(amount.getAttribute('aria-describedby')).toContain('category-err-handling')
    expect(byId('category-form-error')).toBeNull()
    expect(byId('categories-notice')).toBeNull()
    expect(byId('category-form')).not.toBeNull()
    wrapper.unmount()
  })

  it('shows a refused name beside the name, and a refusal without a field at the top', async () => {
    const { wrapper, f } = await openEdit('20101')
    await type('category-en', 'Unauthorised building')
    f.mockImplementationOnce(async () => jsonResponse(422, { error: { code: 'invalid_input', message: 'a name has 1 to 100 characters', field: 'en' } }))
    await submit()
    expect(byId('category-error-en')!.textContent).toBe('a name has 1 to 100 characters')
    f.mockImplementationOnce(async () => jsonResponse(403, { error: { code: 'forbidden', message: 'only an admin may edit the category catalogue' } }))
    await submit()
    expect(byId('category-error-en')).toBeNull()
    expect(byId('category-form-error')!.textContent).toBe('只有管理员可以修改类别目录')
    wrapper.unmount()
  })

  it('names what to fix before sending anything', async () => {
    const { wrapper, f } = await openEdit('20101')
    await type('category-zh', ' ')
    await type('category-term-check-amount', '1.5')
    await submit()
    expect(f).toHaveBeenCalledTimes(1)
    expect(byId('category-error-zh')!.textContent).toBe('必填')
    expect(byId('category-error-check')!.textContent).toBe('请输入 1–525600 之间的整数')
    wrapper.unmount()
  })

  it('says an urgent class runs on natural time, in English too', async () => {
    i18n.global.locale.value = 'en'
    const { wrapper } = await openEdit('10101')
    expect(document.body.querySelector('.el-dialog__title')!.textContent).toBe('Edit category 10101 Water-supply manhole cover')
    expect(byId('category-urgent-hint')!.textContent).toContain('natural time')
    const labels = [...document.body.querySelectorAll('[data-testid="category-terms"] .stage-name')].map((e) => e.textContent)
    expect(labels).toEqual(['Dispatch', 'Handling', 'Check', 'Call-back'])
    wrapper.unmount()
  })
})
