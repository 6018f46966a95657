// The configuration in force on the administration page: each value as shown (a secret never,
// tables folded), the environment variable of a key, the search, and the section itself.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import type { Setting } from '../src/api/types'
import { countBySource, envName, matchesSetting, preview, settingDisplay } from '../src/lib/settings'
import AdminSettings from '../src/components/AdminSettings.vue'
import { jsonResponse, mockFetch } from './helpers'

const SETTINGS: Setting[] = [
  { key: 'cors_origins', value: [], source: 'default', secret: false },
  { key: 'database', value: 'postgres://ops:***@db.example/cityops', source: 'command_line', secret: true },
  { key: 'deadline_warning_share', value: 0.75, source: 'file', secret: false },
  { key: 'intake_terms', value: { accept: { amount: 1, unit: 'working_hours' }, verify: { amount: 2, unit: 'working_hours' }, file: { amount: 1, unit: 'working_hours' } }, source: 'default', secret: false },
  { key: 'mqtt', value: null, source: 'default', secret: false },
  { key: 'overdue_watch_secs', value: 30, source: 'default', secret: false },
  { key: 'pii_keys', value: '[REDACTED]', source: 'environment', secret: true },
  { key: 'secure_cookies', value: true, source: 'environment', secret: false },
  { key: 'working_hours', value: ['08:30-12:00', '13:30-17:30'], source: 'default', secret: false },
]
const setting = (key: string) => SETTINGS.find((s) => s.key === key)!

describe('a setting as shown', () => {
  it('hides a secret entirely, even one the server half-redacts', () => {
    expect(settingDisplay(setting('pii_keys'))).toEqual({ kind: 'secret' })
    expect(settingDisplay(setting('database'))).toEqual({ kind: 'secret' })
    expect(settingDisplay({ value: '[REDACTED]', secret: false })).toEqual({ kind: 'secret' })
  })

  it('shows numbers, booleans and strings as the file would have them, and null as not set', () => {
    expect(settingDisplay(setting('overdue_watch_secs'))).toEqual({ kind: 'text', text: '30' })
    expect(settingDisplay(setting('deadline_warning_share'))).toEqual({ kind: 'text', text: '0.75' })
    expect(settingDisplay(setting('secure_cookies'))).toEqual({ kind: 'text', text: 'true' })
    expect(settingDisplay({ value: 'cityops', secret: false })).toEqual({ kind: 'text', text: 'cityops' })
    expect(settingDisplay({ value: '', secret: false })).toEqual({ kind: 'text', text: '""' })
    expect(settingDisplay(setting('mqtt'))).toEqual({ kind: 'unset' })
  })

  it('shows lists and tables as JSON, folding the long ones', () => {
    expect(settingDisplay(setting('cors_origins'))).toMatchObject({ kind: 'json', compact: '[]', fold: false, items: 0, list: true })
    expect(settingDisplay(setting('working_hours'))).toMatchObject({ kind: 'json', compact: '["08:30-12:00","13:30-17:30"]', fold: false, items: 2 })
    const terms = settingDisplay(setting('intake_terms'))
    expect(terms).toMatchObject({ kind: 'json', fold: true, items: 3, list: false })
    if (terms.kind !== 'json') throw new Error('json')
    expect(terms.pretty).toContain('\n  "accept": {\n    "amount": 1,')
    expect(preview(terms.compact)).toHaveLength(61)
    expect(preview(terms.compact).endsWith('…')).toBe(true)
    expect(preview('[]')).toBe('[]')
  })

  it('names the environment variable of a key', () => {
    expect(envName('overdue_watch_secs')).toBe('CITYOPS_OVERDUE_WATCH_SECS')
  })

  it('finds settings by key, variable, source or value, never by a secret', () => {
    const keys = (q: string, words: (s: Setting) => string[] = () => []) => SETTINGS.filter((s) => matchesSetting(s, q, words(s))).map((s) => s.key)
    expect(keys('')).toHaveLength(SETTINGS.length)
    expect(keys('OVERDUE')).toEqual(['overdue_watch_secs'])
    expect(keys('cityops_pii')).toEqual(['pii_keys'])
    expect(keys('13:30')).toEqual(['working_hours'])
    expect(keys('environment')).toEqual(['pii_keys', 'secure_cookies'])
    expect(keys('环境变量', (s) => (s.source === 'environment' ? ['环境变量'] : []))).toEqual(['pii_keys', 'secure_cookies'])
    // the redacted database URL is not searched
    expect(keys('db.example')).toEqual([])
    expect(keys('redacted')).toEqual([])
  })

  it('counts the settings of each source', () => {
    expect(countBySource(SETTINGS)).toEqual({ default: 5, file: 1, environment: 2, command_line: 1 })
  })
})

const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
const row = (key: string) => document.body.querySelector(`[data-testid="settings-table"] tr[data-key="${key}"]`) as HTMLElement
const cell = (key: string, id: string) => row(key).querySelector(`[data-testid="${id}"]`)!.textContent!.replace(/\s+/g, ' ').trim()

describe('the configuration section', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
    i18n.global.locale.value = 'zh-CN'
  })

  async function mountSection(query: Record<string, string> = {}) {
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/:section?', component: { template: '<div />' } }] })
    await router.push({ path: '/admin/settings', query })
    const wrapper = mount(AdminSettings, { global: { plugins: [i18n, router] }, attachTo: document.body })
    await flushPromises()
    return { wrapper, router }
  }

  it('lists every setting with its value and source, a secret as a lock', async () => {
    const f = mockFetch(jsonResponse(200, SETTINGS))
    const { wrapper } = await mountSection()
    expect((f.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/settings')
    expect(cell('overdue_watch_secs', 'setting-value')).toBe('30')
    expect(cell('overdue_watch_secs', 'setting-source')).toBe('默认值')
    expect(cell('pii_keys', 'setting-value')).toBe('已隐藏 机密值，不显示')
    expect(cell('pii_keys', 'setting-source')).toBe('环境变量')
    expect(cell('database', 'setting-source')).toBe('命令行')
    expect(cell('mqtt', 'setting-value')).toBe('未设置')
    expect(cell('working_hours', 'setting-value')).toBe('["08:30-12:00","13:30-17:30"]')
    expect(row('intake_terms').querySelector('details')).not.toBeNull()
    expect(document.body.textContent).not.toContain('[REDACTED]')
    expect(document.body.textContent).not.toContain('db.example')
    expect(byId('settings-count')!.textContent!.trim()).toBe('共 9 项配置')
    wrapper.unmount()
  })

  it('searches, keeping the text in the address', async () => {
    mockFetch(jsonResponse(200, SETTINGS))
    const { wrapper, router } = await mountSection({ q: 'watch' })
    expect([...document.body.querySelectorAll('[data-testid="settings-table"] tbody tr')].map((r) => (r as HTMLElement).dataset.key)).toEqual(['overdue_watch_secs'])
    const input = byId('settings-q') as HTMLInputElement
    input.value = '配置文件'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ q: '配置文件' })
    expect(byId('settings-count')!.textContent!.trim()).toBe('显示 1 / 9 项配置')
    wrapper.unmount()
  })

  it('says a refusal in words, and reads in English', async () => {
    i18n.global.locale.value = 'en'
    mockFetch(jsonResponse(403, { error: { code: 'forbidden', message: 'only an admin may read the configuration' } }))
    const { wrapper } = await mountSection()
    expect(byId('settings-error')!.textContent).toBe('Only administrators read the configuration')
    wrapper.unmount()
    mockFetch(jsonResponse(200, SETTINGS))
    const again = await mountSection()
    expect(cell('pii_keys', 'setting-value')).toBe('hidden A secret: never shown')
    expect(cell('secure_cookies', 'setting-source')).toBe('Environment')
    expect(byId('settings-count')!.textContent!.trim()).toBe('9 settings')
    again.wrapper.unmount()
  })
})
