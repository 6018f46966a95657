// Extra fields per class (表单构建): an admin's definitions checked as the server checks them and
// sent whole only when changed; a case's values shown in words, set with only what changed
// (null for a cleared one), the filing asking the missing required ones; the refusals beside the
// field they name.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import type { Categories, CaseView, ExtraField, SmallClass } from '../src/api/types'
import {
  changedValues, choicesOf, fieldChanges, fieldDefinitions, fieldDraft, fieldDraftsOf, fieldsFieldOf, formatFieldValue, isDay,
  missingRequired, moved, parseValue, sameDefinitions, valueDrafts, valueKeyOf, MAX_FIELDS,
} from '../src/lib/extraFields'
import { categoryChange, categoryFieldOf, categoryFormOf } from '../src/lib/categories'
import AdminCategories from '../src/components/AdminCategories.vue'
import CommandForm from '../src/components/CommandForm.vue'
import { jsonResponse, mockFetch } from './helpers'

const diameter: ExtraField = { key: 'diameter_mm', zh: '管径（毫米）', en: 'Diameter (mm)', kind: 'number', required: true, choices: [] }
const material: ExtraField = { key: 'material', zh: '材质', en: 'Material', kind: 'choice', required: false, choices: ['铸铁', '复合材料'] }
const installed: ExtraField = { key: 'installed', zh: '安装日期', en: 'Installed', kind: 'date', required: false, choices: [] }
const note: ExtraField = { key: 'owner_note', zh: '权属说明', en: 'Owner note', kind: 'text', required: false, choices: [] }
const closeUp: ExtraField = { key: 'close_up', zh: '近景照片', en: 'Close-up', kind: 'photo', required: false, choices: [] }
const FIELDS = [diameter, material, installed, note, closeUp]

const small = (over: Partial<SmallClass> = {}): SmallClass => ({
  code: '10102', kind: 'component', big_class: '101', zh: '污水井盖', en: 'Sewage manhole cover', urgency: 'normal', unit_kind: 'water',
  terms: {
    dispatch: { amount: 1, unit: 'working_hours' }, handling: { amount: 5, unit: 'working_days' },
    check: { amount: 2, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' },
  },
  fields: [],
  ...over,
})

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe("a class's field definitions", () => {
  const drafts = () => fieldDraftsOf(FIELDS)

  it('reads choices a line or a comma apart, trimmed, blanks dropped', () => {
    expect(choicesOf('铸铁\n 复合材料 ,塑料，\n\n')).toEqual(['铸铁', '复合材料', '塑料'])
    expect(fieldDraftsOf([material])[0].choices).toBe('铸铁\n复合材料')
  })

  it('sends the whole list as the server takes it, choices on choice fields only', () => {
    const ds = drafts()
    ds[3].choices = 'left over from when it was a choice'
    const { fields, problems } = fieldDefinitions(ds)
    expect(problems).toEqual({})
    expect(fields).toEqual([
      { key: 'diameter_mm', zh: '管径（毫米）', en: 'Diameter (mm)', kind: 'number', required: true },
      { key: 'material', zh: '材质', en: 'Material', kind: 'choice', required: false, choices: ['铸铁', '复合材料'] },
      { key: 'installed', zh: '安装日期', en: 'Installed', kind: 'date', required: false },
      { key: 'owner_note', zh: '权属说明', en: 'Owner note', kind: 'text', required: false },
      { key: 'close_up', zh: '近景照片', en: 'Close-up', kind: 'photo', required: false },
    ])
    expect(sameDefinitions(fields, FIELDS)).toBe(true)
  })

  it('names every problem the server would refuse, by the field it would name', () => {
    const ds = drafts()
    ds[1].key = 'diameter_mm'
    ds[2].key = 'Installed'
    ds[3].zh = ' '
    ds[3].en = 'x'.repeat(41)
    ds[1].choices = ''
    expect(fieldDefinitions(ds).problems).toEqual({
      'fields[1].key': 'duplicateKey', 'fields[1].choices': 'noChoices',
      'fields[2].key': 'key', 'fields[3].zh': 'required', 'fields[3].en': 'label',
    })
    for (const [key, ok] of [['a', true], ['a_1', true], ['1a', false], ['_a', false], ['a-b', false], ['é', false], ['a'.repeat(32), true], ['a'.repeat(33), false]] as const) {
      expect(fieldDefinitions([fieldDraft({ key, zh: 'x', en: 'x' })]).problems['fields[0].key'], key).toBe(ok ? undefined : 'key')
    }
    const choice = (choices: string) => fieldDefinitions([fieldDraft({ key: 'k', zh: 'x', en: 'x', kind: 'choice', choices })]).problems['fields[0].choices']
    expect(choice('a\na')).toBe('duplicateChoice')
    expect(choice('y'.repeat(41))).toBe('choice')
    expect(choice(Array.from({ length: 51 }, (_, i) => `c${i}`).join('\n'))).toBe('manyChoices')
    const many = Array.from({ length: MAX_FIELDS + 1 }, (_, i) => fieldDraft({ key: `f${i}`, zh: 'x', en: 'x' }))
    expect(fieldDefinitions(many).problems).toEqual({ fields: 'manyFields' })
  })

  it('is part of the class edit: sent whole when it changed, not at all otherwise', () => {
    const original = small({ fields: [diameter, material] })
    const form = categoryFormOf(original)
    expect(categoryChange(form, original)).toEqual({ body: {}, problems: {} })
    // reordered is changed
    form.fields = moved(form.fields, 1, 0)
    expect(categoryChange(form, original).body?.fields?.map((f) => f.key)).toEqual(['material', 'diameter_mm'])
    // a required flag
    const flag = categoryFormOf(original)
    flag.fields[1].required = true
    expect(categoryChange(flag, original).body).toEqual({
      fields: [
        { key: 'diameter_mm', zh: '管径（毫米）', en: 'Diameter (mm)', kind: 'number', required: true },
        { key: 'material', zh: '材质', en: 'Material', kind: 'choice', required: true, choices: ['铸铁', '复合材料'] },
      ],
    })
    // all removed is an empty list, which clears them
    expect(categoryChange({ ...categoryFormOf(original), fields: [] }, original).body).toEqual({ fields: [] })
    // a problem of a field holds the whole edit back
    const bad = categoryFormOf(original)
    bad.fields.push(fieldDraft({ key: 'material', zh: '材质2', en: 'Material 2' }))
    expect(categoryChange(bad, original)).toEqual({ body: null, problems: { 'fields[2].key': 'duplicateKey' } })
  })

  it("puts the server's refusal on the row and part it names", () => {
    expect(fieldsFieldOf('fields[1].key')).toBe('fields[1].key')
    expect(fieldsFieldOf('fields[0].choices')).toBe('fields[0].choices')
    expect(fieldsFieldOf('fields[3]')).toBe('fields[3].key')
    expect(fieldsFieldOf('fields')).toBe('fields')
    expect(fieldsFieldOf('fields[1].colour')).toBe(null)
    expect(fieldsFieldOf('fields.diameter_mm')).toBe(null)
    expect(categoryFieldOf('fields[2].zh')).toBe('fields[2].zh')
    expect(categoryFieldOf('zh')).toBe('zh')
  })

  it('moves a row up and down, staying within the list', () => {
    expect(moved(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b'])
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c'])
    expect(moved(['a', 'b'], 0, -1)).toEqual(['a', 'b'])
  })
})

describe("a case's values", () => {
  it('are shown in words: numbers and days in the language shown, "—" for none', () => {
    expect(formatFieldValue('number', 1234.5, 'zh-CN')).toBe('1,234.5')
    expect(formatFieldValue('number', 700, 'en')).toBe('700')
    expect(formatFieldValue('date', '2019-05-01', 'zh-CN')).toBe('2019年5月1日')
    expect(formatFieldValue('date', '2019-05-01', 'en')).toBe('May 1, 2019')
    expect(formatFieldValue('choice', '铸铁', 'en')).toBe('铸铁')
    expect(formatFieldValue('text', '', 'zh-CN')).toBe('—')
    expect(formatFieldValue('number', null, 'zh-CN')).toBe('—')
    expect(formatFieldValue(undefined, 'kept from a field since removed', 'zh-CN')).toBe('kept from a field since removed')
  })

  it('know the required fields left empty', () => {
    expect(missingRequired(FIELDS, {}).map((f) => f.key)).toEqual(['diameter_mm'])
    expect(missingRequired(FIELDS, { diameter_mm: 0 })).toEqual([])
    expect(missingRequired(FIELDS, null).map((f) => f.key)).toEqual(['diameter_mm'])
  })

  it('are read from the inputs by kind', () => {
    expect(parseValue(diameter, ' 700 ')).toEqual({ value: 700 })
    expect(parseValue(diameter, '12.5')).toEqual({ value: 12.5 })
    expect(parseValue(diameter, '-3')).toEqual({ value: -3 })
    for (const bad of ['七百', '1e3', '0x10', '1,000', '.']) expect(parseValue(diameter, bad), bad).toEqual({ problem: 'number' })
    expect(parseValue(installed, '2019-05-01')).toEqual({ value: '2019-05-01' })
    expect(parseValue(installed, '2019-02-30')).toEqual({ problem: 'date' })
    expect(isDay('2024-02-29')).toBe(true)
    expect(parseValue(material, '塑料')).toEqual({ problem: 'choice' })
    expect(parseValue(note, 'x'.repeat(501))).toEqual({ problem: 'long' })
    expect(parseValue(note, '  ')).toEqual({ value: null })
  })

  it('are set with only what changed, null for one cleared', () => {
    const current = { diameter_mm: 700, material: '铸铁', owner_note: '物业' }
    const drafts = valueDrafts(FIELDS, current)
    expect(drafts).toEqual({ diameter_mm: '700', material: '铸铁', installed: '', owner_note: '物业', close_up: '' })
    expect(fieldChanges(FIELDS, drafts, current)).toEqual({ changes: {}, problems: {} })
    const edited = { ...drafts, material: '', installed: '2019-05-01', close_up: 'a1b2', owner_note: ' 物业 ' }
    expect(fieldChanges(FIELDS, edited, current)).toEqual({
      changes: { material: null, installed: '2019-05-01', close_up: 'a1b2' }, problems: {},
    })
    // once filed, a required field cannot be cleared; a bad value is named, not sent
    expect(fieldChanges(FIELDS, { ...drafts, diameter_mm: '', installed: '2019-13-01' }, current, new Set(['diameter_mm']))).toEqual({
      changes: {}, problems: { diameter_mm: 'required', installed: 'date' },
    })
    // a citizen's answers: the non-empty ones
    expect(fieldChanges([material, note], { material: '复合材料', owner_note: '' }, {}).changes).toEqual({ material: '复合材料' })
  })

  it('know the field a refusal names, and say a timeline entry in words', () => {
    expect(valueKeyOf('fields.diameter_mm')).toBe('diameter_mm')
    expect(valueKeyOf('fields')).toBe(null)
    expect(valueKeyOf('fields[1].key')).toBe(null)
    expect(changedValues({ gone_key: 'x', material: null, diameter_mm: 700 }, FIELDS, 'zh-CN')).toEqual([
      { key: 'diameter_mm', label: '管径（毫米）', value: 700, kind: 'number', text: '700' },
      { key: 'material', label: '材质', value: null, kind: 'choice', text: '—' },
      { key: 'gone_key', label: 'gone_key', value: 'x', kind: undefined, text: 'x' },
    ])
    expect(changedValues(undefined, FIELDS, 'zh-CN')).toEqual([])
  })
})

// ---- the forms

type Call = [string, RequestInit]
const call = (f: ReturnType<typeof mockFetch>, i: number) => {
  const [url, init] = f.mock.calls[i] as unknown as Call
  return { url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined }
}
const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
async function typeInto(el: Element | null, value: string) {
  const input = el as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

const filedCase = {
  id: 'c1', number: '3100002026120600001', version: 7, state: 'filed', source: 'department', urgent: false,
  attachments: ['p1', 'p2'], category: { code: '10102', zh: '污水井盖' }, category_hint: '10102',
  fields: { diameter_mm: 700, material: '铸铁' }, appeals: [],
} as unknown as CaseView

describe('the set-fields form', () => {
  /** The photo picker's thumbnails ask for the photos: any picture will do. */
  const photos = () => vi.stubGlobal('fetch', vi.fn(async () => new Response(new Blob(['x'], { type: 'image/png' }))))
  function mountForm(caseView: CaseView = filedCase) {
    return mount(CommandForm, {
      props: { command: 'set-fields', caseView, classFields: FIELDS },
      global: { plugins: [i18n] },
      attachTo: document.body,
    })
  }
  const input = (key: string) => document.body.querySelector(`[data-testid="extra-value-${key}"]`)

  it('asks every field by its kind, the values the case has filled in', async () => {
    photos()
    const w = mountForm()
    await flushPromises()
    const kinds = [...document.body.querySelectorAll('[data-testid="extra-input"]')].map((e) => `${(e as HTMLElement).dataset.key}:${(e as HTMLElement).dataset.kind}`)
    expect(kinds).toEqual(['diameter_mm:number', 'material:choice', 'installed:date', 'owner_note:text', 'close_up:photo'])
    expect((input('diameter_mm') as HTMLInputElement).value).toBe('700')
    expect((input('installed') as HTMLInputElement).type).toBe('date')
    // a filed case's required field is marked and may not be emptied
    expect(document.body.querySelector('[data-key="diameter_mm"] .lbl')!.textContent).toContain('*')
    expect(document.body.querySelectorAll('[data-testid="extra-photo"]').length).toBe(2)
    w.unmount()
  })

  it('sends only what changed, null for a cleared value, and shows the refusal beside its field', async () => {
    photos()
    const w = mountForm()
    await flushPromises()
    await typeInto(input('installed'), '2019-05-01')
    await typeInto(input('owner_note'), '物业王经理')
    ;(document.body.querySelector('[data-testid="extra-photo"][data-attachment="p2"] input') as HTMLInputElement).click()
    const f = mockFetch(jsonResponse(422, {
      error: { code: 'unknown_reference', message: 'fields.close_up: attachment p2 is not one of the case\'s photos', field: 'fields.close_up' },
    }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 0)).toEqual({
      url: '/api/v1/cases/c1/set-fields', method: 'POST',
      body: { version: 7, fields: { installed: '2019-05-01', owner_note: '物业王经理', close_up: 'p2' } },
    })
    expect(byId('extra-error-close_up')!.textContent).toBe("attachment p2 is not one of the case's photos")
    expect(byId('form-error')).toBeNull()
    w.unmount()
  })

  it('names an emptied required field and an unchanged form before sending anything', async () => {
    photos()
    const w = mountForm()
    await flushPromises()
    const f = mockFetch()
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(byId('form-error')!.textContent).toBe('没有修改')
    await typeInto(input('diameter_mm'), '')
    await typeInto(input('installed'), '')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(byId('extra-error-diameter_mm')!.textContent).toBe('必填')
    await typeInto(input('diameter_mm'), '七百')
    expect(byId('extra-error-diameter_mm')).toBeNull()
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(byId('extra-error-diameter_mm')!.textContent).toBe('请输入数字')
    expect(f).not.toHaveBeenCalled()
    w.unmount()
  })

  it('clears a value before filing, and reads in English', async () => {
    i18n.global.locale.value = 'en'
    photos()
    const reported = { ...filedCase, state: 'accepted', category: null } as unknown as CaseView
    const w = mountForm(reported)
    await flushPromises()
    expect(document.body.querySelector('[data-key="diameter_mm"] .lbl')!.textContent).toBe('Diameter (mm)')
    expect(w.find('h3').text()).toBe('Extra fields')
    await typeInto(input('diameter_mm'), '')
    const f = mockFetch(jsonResponse(200, { ...reported, version: 8 }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 0).body).toEqual({ version: 7, fields: { diameter_mm: null } })
    expect(w.emitted('done')).toBeTruthy()
    w.unmount()
  })
})

describe('the filing', () => {
  const catalog: Categories = {
    version: '2026.1',
    big: [{ code: '101', kind: 'component', zh: '公用设施', en: 'Public utilities' }],
    small: [small({ fields: [diameter, material] }), small({ code: '10101', zh: '上水井盖', en: 'Water-supply manhole cover' })],
  }
  const accepted = { ...filedCase, state: 'accepted', category: null, fields: { material: '铸铁' } } as unknown as CaseView

  it("asks the chosen class's required fields the case has no value for, and sends them", async () => {
    const f = mockFetch(jsonResponse(200, catalog))
    const w = mount(CommandForm, { props: { command: 'file', caseView: accepted }, global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    expect(byId('file-asks-fields')!.textContent).toContain('10102')
    const asked = [...document.body.querySelectorAll('[data-testid="extra-input"]')].map((e) => (e as HTMLElement).dataset.key)
    expect(asked).toEqual(['diameter_mm'])
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(byId('extra-error-diameter_mm')!.textContent).toBe('必填')
    expect(f).toHaveBeenCalledTimes(1)
    await typeInto(document.body.querySelector('[data-testid="extra-value-diameter_mm"]'), '700')
    f.mockImplementationOnce(async () => jsonResponse(200, { ...accepted, state: 'filed', version: 8 }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 1)).toEqual({ url: '/api/v1/cases/c1/file', method: 'POST', body: { version: 7, category: '10102', fields: { diameter_mm: 700 } } })
    w.unmount()
  })

  it('asks nothing more of a class without required fields', async () => {
    mockFetch(jsonResponse(200, catalog))
    const w = mount(CommandForm, {
      props: { command: 'file', caseView: { ...accepted, category_hint: '10101' } as CaseView }, global: { plugins: [i18n] }, attachTo: document.body,
    })
    await flushPromises()
    expect(byId('extra-inputs')).toBeNull()
    w.unmount()
  })
})

describe('the class dialog', () => {
  const catalog: Categories = {
    version: '2026.1',
    big: [{ code: '101', kind: 'component', zh: '公用设施', en: 'Public utilities' }],
    small: [small({ fields: [diameter] })],
  }
  async function openEdit() {
    const f = mockFetch(jsonResponse(200, catalog))
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/:section?', component: { template: '<div />' } }] })
    await router.push('/admin/categories')
    const wrapper = mount(AdminCategories, { global: { plugins: [i18n, router] }, attachTo: document.body })
    await flushPromises()
    ;(document.body.querySelector('[data-testid="category-edit"]') as HTMLElement).click()
    await vi.waitFor(() => expect(byId('category-form')).not.toBeNull(), { timeout: 10_000 })
    await flushPromises()
    return { wrapper, f }
  }
  const rows = () => [...document.body.querySelectorAll('[data-testid="category-field"]')] as HTMLElement[]
  const inRow = (i: number, id: string) => rows()[i].querySelector(`[data-testid="${id}"]`) as HTMLElement
  const submit = async () => {
    byId('category-form')!.dispatchEvent(new Event('submit'))
    await flushPromises()
  }

  it('counts the fields in the table', async () => {
    const { wrapper } = await openEdit()
    const cell = document.body.querySelector('[data-testid="category-row-fields"]') as HTMLElement
    expect(cell.dataset.count).toBe('1')
    expect(cell.textContent!.replace(/\s+/g, ' ').trim()).toBe('1 项 必填 1 项')
    wrapper.unmount()
  })

  it("lists the class's fields, adds one, names a duplicate key beside it before sending, and sends the whole list", async () => {
    const { wrapper, f } = await openEdit()
    expect(rows().map((r) => r.dataset.key)).toEqual(['diameter_mm'])
    expect((inRow(0, 'category-field-zh') as HTMLInputElement).value).toBe('管径（毫米）')
    ;(byId('category-field-add') as HTMLButtonElement).click()
    await flushPromises()
    expect(rows().length).toBe(2)
    // the new row's key has the focus
    expect(document.activeElement).toBe(inRow(1, 'category-field-key'))
    await typeInto(inRow(1, 'category-field-key'), 'diameter_mm')
    await typeInto(inRow(1, 'category-field-zh'), '材质')
    await typeInto(inRow(1, 'category-field-en'), 'Material')
    await submit()
    expect(f).toHaveBeenCalledTimes(1)
    const err = inRow(1, 'category-field-error-key')
    expect(err.textContent).toBe('键名与前面的字段重复')
    expect(err.dataset.field).toBe('fields[1].key')
    expect(inRow(1, 'category-field-key').getAttribute('aria-invalid')).toBe('true')
    await typeInto(inRow(1, 'category-field-key'), 'material')
    // moved up: the list goes in its new order, and the problems named by place are gone
    ;(inRow(1, 'category-field-up') as HTMLButtonElement).click()
    await flushPromises()
    expect(rows().map((r) => r.dataset.key)).toEqual(['material', 'diameter_mm'])
    expect(document.activeElement).toBe(inRow(0, 'category-field-down'))
    const saved = small({ fields: [{ ...material, kind: 'text', choices: [] }, diameter] })
    f.mockImplementationOnce(async () => jsonResponse(200, saved))
    f.mockImplementationOnce(async () => jsonResponse(200, { ...catalog, version: '2026.1-e1', small: [saved] }))
    await submit()
    expect(call(f, 1)).toEqual({
      url: '/api/v1/categories/10102', method: 'PUT',
      body: {
        fields: [
          { key: 'material', zh: '材质', en: 'Material', kind: 'text', required: false },
          { key: 'diameter_mm', zh: '管径（毫米）', en: 'Diameter (mm)', kind: 'number', required: true },
        ],
      },
    })
    wrapper.unmount()
  })

  it("shows the server's refusal of a row's part beside it", async () => {
    const { wrapper, f } = await openEdit()
    ;(inRow(0, 'category-field-remove') as HTMLButtonElement).click()
    await flushPromises()
    expect(rows().length).toBe(0)
    expect(byId('category-fields-empty')).not.toBeNull()
    // removing the last row leaves the focus on 添加字段
    expect(document.activeElement).toBe(byId('category-field-add'))
    ;(byId('category-field-add') as HTMLButtonElement).click()
    await flushPromises()
    await typeInto(inRow(0, 'category-field-key'), 'k')
    await typeInto(inRow(0, 'category-field-zh'), '甲')
    await typeInto(inRow(0, 'category-field-en'), 'A')
    f.mockImplementationOnce(async () => jsonResponse(422, {
      error: { code: 'invalid_input', message: 'fields[0].zh: a label has 1 to 40 characters', field: 'fields[0].zh' },
    }))
    await submit()
    expect(call(f, 1).body).toEqual({ fields: [{ key: 'k', zh: '甲', en: 'A', kind: 'text', required: false }] })
    expect(inRow(0, 'category-field-error-zh').textContent).toBe('a label has 1 to 40 characters')
    expect(byId('category-form-error')).toBeNull()
    wrapper.unmount()
  })
})

describe("the citizen's questions", () => {
  /** Answers by path; the report's answers in turn. */
  function stubServer(reports: Response[]) {
    const f = vi.fn(async (url: string) => {
      const path = String(url).split('?')[0]
      if (path === '/api/v1/geo/areas') return jsonResponse(200, { type: 'FeatureCollection', features: [] })
      if (path === '/api/v1/public/categories/10101/fields') return jsonResponse(200, [material, installed, diameter])
      if (path === '/api/v1/public/categories/20102/fields') return jsonResponse(200, [])
      if (path === '/api/v1/public/challenge') return jsonResponse(200, { challenge: 'c', bits: 0 })
      if (path === '/api/v1/geo/locate') return jsonResponse(404, { error: { code: 'not_found', message: 'no grid' } })
      if (path === '/api/v1/public/reports') return reports.shift() ?? jsonResponse(500, {})
      throw new Error(`unexpected ${path}`)
    })
    vi.stubGlobal('fetch', f)
    return f
  }
  async function mountPage() {
    const { default: CitizenPage } = await import('../src/pages/CitizenPage.vue')
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/citizen/:n?', component: { template: '<div />' } }] })
    await router.push('/citizen')
    const w = mount(CitizenPage, { global: { plugins: [i18n, router] }, attachTo: document.body })
    await flushPromises()
    return w
  }
  const pickKind = async (kind: string) => {
    ;(document.body.querySelector(`[data-kind="${kind}"] input`) as HTMLInputElement).click()
    await flushPromises()
  }
  const fill = async (id: string, value: string) => typeInto(byId(id), value)
  const reportBody = (f: ReturnType<typeof vi.fn>) => {
    const [, init] = f.mock.calls.find(([u]) => String(u).startsWith('/api/v1/public/reports')) as unknown as Call
    return JSON.parse(String(init.body))
  }

  it("asks the chosen kind's class its questions, sends the answers given, and shows a refused one beside it", async () => {
    const f = stubServer([
      jsonResponse(422, { error: { code: 'inconsistent_fields', message: 'fields.material: material is a choice field: its value is one of its choices', field: 'fields.material' } }),
    ])
    const w = await mountPage()
    expect(byId('citizen-extra')).toBeNull()
    await pickKind('manhole')
    const asked = [...document.body.querySelectorAll('[data-testid="citizen-question"]')].map((e) => (e as HTMLElement).dataset.key)
    expect(asked).toEqual(['material', 'installed', 'diameter_mm'])
    expect(document.body.querySelector('[data-testid="citizen-question"] label')!.textContent).toBe('材质')
    // no Element Plus on the light page: a native select with the class's choices
    const select = byId('citizen-answer-material') as HTMLSelectElement
    expect(select.tagName).toBe('SELECT')
    expect([...select.options].map((o) => o.value)).toEqual(['', '铸铁', '复合材料'])
    select.value = '复合材料'
    select.dispatchEvent(new Event('change'))
    await fill('citizen-answer-diameter_mm', '七百')
    await fill('lon', '121.4837')
    await fill('lat', '31.2369')
    await fill('description', '人行道上一个井盖裂了')
    ;(byId('citizen-form') as HTMLFormElement).dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(byId('citizen-error-diameter_mm')!.textContent).toBe('请输入数字')
    expect(f.mock.calls.some(([u]) => String(u).startsWith('/api/v1/public/reports'))).toBe(false)
    await fill('citizen-answer-diameter_mm', '')
    ;(byId('citizen-form') as HTMLFormElement).dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(byId('citizen-error-material')).not.toBeNull())
    expect(reportBody(f)).toMatchObject({ category_hint: '10101', fields: { material: '复合材料' } })
    expect(byId('citizen-error-material')!.textContent).toBe('请从选项中选择')
    expect(select.getAttribute('aria-invalid')).toBe('true')
    w.unmount()
  })

  it('asks nothing of a class without questions, and sends no fields', async () => {
    stubServer([])
    const w = await mountPage()
    await pickKind('garbage')
    expect(byId('citizen-extra')).toBeNull()
    await pickKind('manhole')
    expect(byId('citizen-extra')!.dataset.count).toBe('3')
    await pickKind('other')
    expect(byId('citizen-extra')).toBeNull()
    w.unmount()
  })
})
