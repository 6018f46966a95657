// A class's name in the UI's language, where the views carry the Chinese name only, and the
// punctuation the English UI puts between values instead of the Chinese full-width marks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { categoryName, forgetClassNames, learnClassNames } from '../src/lib/categoryNames'
import type { FeedEvent } from '../src/api/types'
import { i18n } from '../src/i18n'
import FeedTicker from '../src/components/FeedTicker.vue'
import PasswordField from '../src/components/PasswordField.vue'
import { jsonResponse, mockFetch } from './helpers'

const catalogue = {
  version: 'v1',
  big: [{ code: '101', zh: '公用设施', en: 'Public facilities' }],
  small: [
    { code: '10101', zh: '上水井盖', en: 'Water manhole cover', big_class: '101' },
    { code: '20101', zh: '暴露垃圾', en: 'Exposed rubbish', big_class: '201' },
  ],
}
const lookup = (code: string) => catalogue.small.find((s) => s.code === code)

beforeEach(() => {
  forgetClassNames()
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  i18n.global.locale.value = 'zh-CN'
})

describe('a class\'s name', () => {
  it('is the Chinese one in Chinese, as the view gives it', () => {
    expect(categoryName({ code: '10101', zh: '上水井盖' }, 'zh-CN', lookup)).toBe('上水井盖')
    expect(categoryName({ code: '10101', zh: '上水井盖' }, 'zh-CN')).toBe('上水井盖')
  })

  it('is the English one in English: the view\'s, else the catalogue\'s', () => {
    expect(categoryName({ code: '10101', zh: '上水井盖', en: 'Manhole (view)' }, 'en', lookup)).toBe('Manhole (view)')
    expect(categoryName({ code: '10101', zh: '上水井盖' }, 'en', lookup)).toBe('Water manhole cover')
    expect(categoryName({ code: '10101', zh: '上水井盖' }, 'en-GB', lookup)).toBe('Water manhole cover')
  })

  it('falls back to the Chinese name while the catalogue is not known, then to the code, then to nothing', () => {
    expect(categoryName({ code: '10101', zh: '上水井盖' }, 'en')).toBe('上水井盖')
    expect(categoryName({ code: '99999', zh: '未知类' }, 'en', lookup)).toBe('未知类')
    expect(categoryName({ code: '10101' }, 'zh-CN', lookup)).toBe('上水井盖')
    expect(categoryName({ code: '99999', zh: null }, 'en', lookup)).toBe('99999')
    expect(categoryName(null, 'en', lookup)).toBe('')
  })
})

describe('the catalogue\'s names', () => {
  it('are asked for once, and again after a failure', async () => {
    const f = mockFetch(jsonResponse(500, { code: 'internal', message: 'x' }), jsonResponse(200, catalogue))
    await learnClassNames()
    await learnClassNames()
    await Promise.all([learnClassNames(), learnClassNames()])
    expect(f).toHaveBeenCalledTimes(2)
  })
})

const event = (over: Partial<FeedEvent> = {}): FeedEvent => ({
  action: 'dispatch', area: '310101002', at: '2026-12-06T02:00:00Z', category: '10101', category_zh: '上水井盖',
  description: '井盖缺失', district: '310101', id: 'c1', number: '3100002026120600001', source: 'inspector',
  state: 'dispatched', state_zh: '已派遣', urgent: false, ...over,
} as FeedEvent)

function ticker(items: FeedEvent[]) {
  return mount(FeedTicker, { props: { items, status: 'open' }, global: { plugins: [i18n], stubs: { RouterLink: true } } })
}

describe('the live feed', () => {
  it('names the class in Chinese without asking for the catalogue', async () => {
    const f = mockFetch()
    const w = ticker([event()])
    await flushPromises()
    expect(w.find('.cat').text()).toBe('上水井盖')
    expect(f).not.toHaveBeenCalled()
    w.unmount()
  })

  it('names the class in English from the catalogue, in Chinese until it answers', async () => {
    i18n.global.locale.value = 'en'
    const f = mockFetch(jsonResponse(200, catalogue))
    const w = ticker([event(), event({ id: 'c2', number: '3100002026120600002', category: '20101', category_zh: '暴露垃圾' })])
    expect(w.findAll('.cat').map((c) => c.text())).toEqual(['上水井盖', '暴露垃圾'])
    await flushPromises()
    expect(w.findAll('.cat').map((c) => c.text())).toEqual(['Water manhole cover', 'Exposed rubbish'])
    expect(f).toHaveBeenCalledTimes(1)
    w.unmount()
  })

  it('asks for the catalogue when the UI turns English', async () => {
    const f = mockFetch(jsonResponse(200, catalogue))
    const w = ticker([event()])
    await flushPromises()
    expect(f).not.toHaveBeenCalled()
    i18n.global.locale.value = 'en'
    await flushPromises()
    expect(w.find('.cat').text()).toBe('Water manhole cover')
    i18n.global.locale.value = 'zh-CN'
    await flushPromises()
    expect(w.find('.cat').text()).toBe('上水井盖')
    w.unmount()
  })
})

describe('punctuation between values', () => {
  const t = (key: string, values: Record<string, unknown> = {}) => i18n.global.t(key, values)

  it('is full-width in Chinese and ASCII in English', () => {
    expect(`黄浦区供电公司${t('punct.paren', { text: '310101-GD' })}`).toBe('黄浦区供电公司（310101-GD）')
    expect(`${t('fields.opinion')}${t('punct.colon')}同意`).toBe('意见：同意')
    i18n.global.locale.value = 'en'
    expect(`Huangpu power${t('punct.paren', { text: '310101-GD' })}`).toBe('Huangpu power (310101-GD)')
    expect(`Opinion${t('punct.colon')}agreed`).toBe('Opinion: agreed')
  })

  it('puts no Chinese brackets into an English form', async () => {
    i18n.global.locale.value = 'en'
    const w = mount(PasswordField, {
      props: { prefix: 'user', username: 'ann', label: 'Password', modelValue: 'short' },
      global: { plugins: [i18n] },
    })
    const said = w.findAll('.sr-only').map((s) => s.text())
    expect(said.length).toBeGreaterThan(0)
    for (const s of said) expect(s).toMatch(/^\((met|not met)\)$/)
    expect(w.text()).not.toMatch(/[（）：、，]/)
    w.unmount()
  })
})
