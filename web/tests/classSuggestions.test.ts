import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import {
  DEBOUNCE_MS, MAX_TEXT, MIN_TEXT, SHOWN, percentText, shownSuggestions, suggestionName, suggestionText, wordsText,
} from '../src/lib/classSuggestions'
import { api } from '../src/api'
import type { CaseView, Categories, ClassSuggestion, SmallClass } from '../src/api/types'
import { i18n, setLocale } from '../src/i18n'
import ClassSuggestions from '../src/components/ClassSuggestions.vue'
import CommandForm from '../src/components/CommandForm.vue'
import { jsonResponse, mockFetch } from './helpers'

const suggestion = (over: Partial<ClassSuggestion> = {}): ClassSuggestion => ({
  category: '10102', zh: '污水井盖', en: 'Sewage manhole cover', confidence: 0.734, words: ['井盖', '下水道'], ...over,
})
const MANHOLE = '市民来电反映：小区门口人行道上的下水道井盖不见了，晚上很危险'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('when a text is asked about', () => {
  it('is asked from four characters on, spaces at the ends left out', () => {
    expect(MIN_TEXT).toBe(4)
    for (const short of ['', '   ', '井盖', '井盖不见', ' 井盖没 ']) {
      expect(suggestionText(short), short).toBe(short.trim().length >= 4 ? short.trim() : null)
    }
    expect(suggestionText('井盖没了')).toBe('井盖没了')
    expect(suggestionText('  井盖没了 \n')).toBe('井盖没了')
    expect(suggestionText(null)).toBeNull()
    expect(suggestionText(undefined)).toBeNull()
  })

  it('counts characters, not UTF-16 units', () => {
    // three characters of six UTF-16 units are still too few
    expect(suggestionText('𠀀𠀀𠀀')).toBeNull()
    expect(suggestionText('𠀀𠀀𠀀𠀀')).toBe('𠀀𠀀𠀀𠀀')
  })

  it('asks about the first 2000 characters of a longer text, as the server takes no more', () => {
    expect(MAX_TEXT).toBe(2000)
    const long = `${'井'.repeat(1999)}盖没了`
    expect(suggestionText(long)).toBe(`${'井'.repeat(1999)}盖`)
    expect([...suggestionText('𠀀'.repeat(2500))!].length).toBe(2000)
    expect(suggestionText('井'.repeat(2000))).toBe('井'.repeat(2000))
  })
})

describe('how a suggestion reads', () => {
  it('says the confidence as a whole percentage', () => {
    expect(percentText(0.734)).toBe('73%')
    expect(percentText(0.735)).toBe('74%')
    expect(percentText(0.5)).toBe('50%')
    expect(percentText(1)).toBe('100%')
    expect(percentText(0.999)).toBe('100%')
    expect(percentText(0.01)).toBe('1%')
  })

  it('says a small confidence is under a percent, not none, and holds odd values to 0 and 100', () => {
    expect(percentText(0.004)).toBe('<1%')
    expect(percentText(0.0001)).toBe('<1%')
    expect(percentText(0)).toBe('0%')
    expect(percentText(-0.2)).toBe('0%')
    expect(percentText(1.4)).toBe('100%')
    expect(percentText(Number.NaN)).toBe('0%')
  })

  it('names the class in the UI\'s language', () => {
    expect(suggestionName(suggestion(), 'zh-CN')).toBe('污水井盖')
    expect(suggestionName(suggestion(), 'en')).toBe('Sewage manhole cover')
    // a class with no English name is named in Chinese
    expect(suggestionName(suggestion({ en: '' }), 'en')).toBe('污水井盖')
  })

  it('lists the deciding words with 、 in Chinese and commas in English, at most three, each once', () => {
    expect(wordsText(['井盖', '缺失'], 'zh-CN')).toBe('井盖、缺失')
    expect(wordsText(['manhole', 'missing'], 'en')).toBe('manhole, missing')
    expect(wordsText(['井盖', ' 井盖 ', '', '缺失', '危险', '晚上'], 'zh-CN')).toBe('井盖、缺失、危险')
    expect(wordsText([], 'zh-CN')).toBe('')
    expect(wordsText(undefined, 'en')).toBe('')
  })

  it('shows the three most likely, each class once, in the order the server gave', () => {
    expect(SHOWN).toBe(3)
    const list = ['10102', '10103', '10102', '10101', '10105'].map((category, i) => suggestion({ category, confidence: 0.5 - i / 10 }))
    expect(shownSuggestions(list).map((s) => s.category)).toEqual(['10102', '10103', '10101'])
    expect(shownSuggestions(list, 1).map((s) => s.category)).toEqual(['10102'])
    expect(shownSuggestions([])).toEqual([])
    expect(shownSuggestions(null)).toEqual([])
  })
})

describe('GET /class-suggestions', () => {
  it('sends the text and the limit asked, and answers the list', async () => {
    const f = mockFetch(jsonResponse(200, [suggestion()]), jsonResponse(200, []))
    expect(await api.classSuggestions(MANHOLE, 3)).toEqual([suggestion()])
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    const sent = new URL(url, 'http://x')
    expect(sent.pathname).toBe('/api/v1/class-suggestions')
    expect(sent.searchParams.get('text')).toBe(MANHOLE)
    expect(sent.searchParams.get('limit')).toBe('3')
    expect(init.method).toBe('GET')
    // without a limit the server's default holds
    expect(await api.classSuggestions('井盖没了')).toEqual([])
    expect(new URL((f.mock.calls[1] as unknown as [string])[0], 'http://x').searchParams.has('limit')).toBe(false)
  })

  it('names the field a refusal is about', async () => {
    mockFetch(jsonResponse(422, { error: { code: 'invalid', message: 'a text has 1 to 2000 characters', field: 'text' } }))
    await expect(api.classSuggestions('x'.repeat(2001))).rejects.toMatchObject({ status: 422, field: 'text' })
  })
})

// ---- the component: fetch answers handed out by the test, aborted as the browser would
interface Pending { text: string; signal?: AbortSignal | null; answer: (r: Response) => void; fail: (e: unknown) => void; aborted: boolean }

function stubFetch() {
  const calls: Pending[] = []
  vi.stubGlobal('fetch', vi.fn((url: string, init: RequestInit) => new Promise<Response>((resolve, reject) => {
    const p: Pending = {
      text: new URL(url, 'http://x').searchParams.get('text') ?? '', signal: init.signal, answer: resolve, fail: reject, aborted: false,
    }
    init.signal?.addEventListener('abort', () => {
      p.aborted = true
      reject(new DOMException('aborted', 'AbortError'))
    })
    calls.push(p)
  })))
  return calls
}

describe('the suggestions under a class select', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    setLocale('zh-CN')
  })

  const mountWith = (text: string, selected: string | null = null) =>
    mount(ClassSuggestions, { props: { text, selected }, global: { plugins: [i18n] } })

  it('asks once the typing pauses, drops the request before, and shows the chips of the last text', async () => {
    const calls = stubFetch()
    const w = mountWith('')
    await flushPromises()
    expect(calls).toHaveLength(0)
    expect(w.find('button').exists()).toBe(false)

    await w.setProps({ text: '下水道井盖' })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 50)
    await w.setProps({ text: '下水道井盖不见了' })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 50)
    expect(calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(60)
    expect(calls.map((c) => c.text)).toEqual(['下水道井盖不见了'])

    // typing on while the answer is on its way: the next request drops it
    await w.setProps({ text: MANHOLE })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    expect(calls.map((c) => c.text)).toEqual(['下水道井盖不见了', MANHOLE])
    expect(calls[0].aborted).toBe(true)
    calls[1].answer(jsonResponse(200, [
      suggestion(),
      suggestion({ category: '10103', zh: '雨水井盖', en: 'Storm-water manhole cover', confidence: 0.12, words: ['井盖'] }),
      suggestion({ category: '10101', zh: '上水井盖', en: 'Water-supply manhole cover', confidence: 0.004, words: [] }),
      suggestion({ category: '10105', zh: '电力井盖', en: 'Power manhole cover', confidence: 0.001, words: ['井盖'] }),
    ]))
    await flushPromises()

    const box = w.get('[data-testid="class-suggestions"]')
    expect(box.attributes('data-state')).toBe('found')
    const chips = w.findAll('button')
    expect(chips.map((b) => b.attributes('data-testid'))).toEqual(['class-suggestion-10102', 'class-suggestion-10103', 'class-suggestion-10101'])
    expect(chips.every((b) => b.attributes('type') === 'button')).toBe(true)
    const first = chips[0].text().replace(/\s+/g, ' ')
    expect(first).toContain('污水井盖')
    expect(first).toContain('10102')
    expect(first).toContain('可信度 73%')
    expect(first).toContain('依据：井盖、下水道')
    expect(chips[2].text()).toContain('<1%')
    expect(chips[2].find('[data-testid="class-suggestion-words"]').exists()).toBe(false)
    expect(box.text()).toContain('按描述推荐的类别')

    await chips[1].trigger('click')
    expect(w.emitted('pick')).toEqual([['10103']])
    w.unmount()
  })

  it('speaks English in the English UI and marks the class the form holds', async () => {
    setLocale('en')
    const calls = stubFetch()
    const w = mountWith(MANHOLE, '10102')
    await flushPromises()
    expect(calls).toHaveLength(1)
    calls[0].answer(jsonResponse(200, [suggestion({ words: ['manhole', 'cover'] })]))
    await flushPromises()
    const chip = w.get('[data-testid="class-suggestion-10102"]')
    expect(chip.text().replace(/\s+/g, ' ')).toContain('Sewage manhole cover 10102 confidence 73%')
    expect(chip.text()).toContain('because of: manhole, cover')
    expect(chip.attributes('aria-pressed')).toBe('true')
    expect(w.text()).toContain('Likely classes from the description')
    w.unmount()
    setLocale('zh-CN')
  })

  it('shows nothing for a short text or an empty answer, and one quiet line when the request fails', async () => {
    const calls = stubFetch()
    const w = mountWith('井盖没了')
    await flushPromises()
    calls[0].answer(jsonResponse(200, []))
    await flushPromises()
    expect(w.get('[data-testid="class-suggestions"]').attributes('data-state')).toBe('none')
    expect(w.get('[data-testid="class-suggestions"]').text()).toBe('')

    await w.setProps({ text: '路灯不亮了' })
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    calls[1].answer(jsonResponse(500, { error: { code: 'internal', message: 'boom' } }))
    await flushPromises()
    expect(w.get('[data-testid="class-suggestions-failed"]').text()).toBe('暂时无法按描述推荐类别，请直接选择类别。')
    expect(w.findAll('button')).toHaveLength(0)

    // cut short, the text is not asked about and the note goes at once
    await w.setProps({ text: '路灯' })
    await flushPromises()
    expect(calls).toHaveLength(2)
    expect(w.find('[data-testid="class-suggestions-failed"]').exists()).toBe(false)
    expect(w.get('[data-testid="class-suggestions"]').attributes('data-state')).toBe('idle')
    w.unmount()
  })

  it('drops the request on its way when it goes', async () => {
    const calls = stubFetch()
    const w = mountWith(MANHOLE)
    await flushPromises()
    expect(calls).toHaveLength(1)
    w.unmount()
    expect(calls[0].aborted).toBe(true)
  })
})

describe('the filing form', () => {
  const small = (code: string, zh: string, en: string): SmallClass => ({
    code, kind: 'component', big_class: '101', zh, en, urgency: 'urgent', unit_kind: 'water',
    terms: {
      dispatch: { amount: 1, unit: 'working_hours' }, handling: { amount: 5, unit: 'working_days' },
      check: { amount: 2, unit: 'working_hours' }, callback: { amount: 1, unit: 'working_days' },
    },
    fields: [],
  })
  const catalog: Categories = {
    version: '2026.1',
    big: [{ code: '101', kind: 'component', zh: '公用设施', en: 'Public utilities' }],
    small: [small('10101', '上水井盖', 'Water-supply manhole cover'), small('10102', '污水井盖', 'Sewage manhole cover')],
  }
  const accepted = {
    id: 'c1', number: '3100002026120600001', version: 7, state: 'accepted', source: 'inspector', urgent: false, attachments: [],
    category: null, category_hint: null, fields: {}, appeals: [], description: ` ${MANHOLE} `,
  } as unknown as CaseView

  /** The server: the catalogue, the suggestions, the filing; every call kept. */
  function server() {
    const calls: { path: string; query: URLSearchParams; body: unknown }[] = []
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      const u = new URL(url, 'http://x')
      calls.push({ path: u.pathname, query: u.searchParams, body: init.body ? JSON.parse(String(init.body)) : undefined })
      if (u.pathname === '/api/v1/categories') return jsonResponse(200, catalog)
      if (u.pathname === '/api/v1/class-suggestions') {
        return jsonResponse(200, [suggestion(), suggestion({ category: '10101', zh: '上水井盖', en: 'Water-supply manhole cover', confidence: 0.2 })])
      }
      if (u.pathname === '/api/v1/cases/c1/file') return jsonResponse(200, { ...accepted, state: 'filed', version: 8 })
      throw new Error(`unexpected ${u.pathname}`)
    }))
    return calls
  }
  const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null

  it('suggests classes for the case\'s description under the class select; the one clicked is filed', async () => {
    setLocale('zh-CN')
    const calls = server()
    const w = mount(CommandForm, { props: { command: 'file', caseView: accepted }, global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    const asked = calls.filter((c) => c.path === '/api/v1/class-suggestions')
    expect(asked).toHaveLength(1)
    expect(asked[0].query.get('text')).toBe(MANHOLE)
    expect(asked[0].query.get('limit')).toBe('3')

    // under the class select, and nowhere else: each field keeps its one input
    const field = byId('field-category')!
    expect(field.querySelectorAll('.el-select')).toHaveLength(1)
    expect(field.querySelector('[data-testid="class-suggestions"]')).not.toBeNull()
    expect(document.body.querySelectorAll('[data-testid="class-suggestions"]')).toHaveLength(1)
    expect(byId('field-opinion')!.querySelectorAll('input, textarea')).toHaveLength(1)
    expect(byId('field-opinion')!.querySelector('textarea')).not.toBeNull()

    const chip = byId('class-suggestion-10101')!
    expect(chip.getAttribute('aria-pressed')).toBe('false')
    chip.click()
    await flushPromises()
    expect(chip.getAttribute('aria-pressed')).toBe('true')
    expect(field.textContent).toContain('10101 上水井盖')
    await w.find('form').trigger('submit')
    await flushPromises()
    const filed = calls.find((c) => c.path === '/api/v1/cases/c1/file')
    expect(filed?.body).toEqual({ version: 7, category: '10101' })
    expect(w.emitted('done')).toHaveLength(1)
    w.unmount()
  })

  it('suggests nothing for the other commands', async () => {
    const calls = server()
    const w = mount(CommandForm, { props: { command: 'accept', caseView: accepted }, global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    expect(byId('class-suggestions')).toBeNull()
    expect(calls.filter((c) => c.path === '/api/v1/class-suggestions')).toHaveLength(0)
    w.unmount()
  })
})
