// The call-back (回访) of a hotline case in the UI: the attempt's form and the caller's number,
// offered only during the call-back.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import type { CaseView } from '../src/api/types'
import CommandForm from '../src/components/CommandForm.vue'
import ContactReveal from '../src/components/ContactReveal.vue'
import { jsonResponse, mockFetch } from './helpers'

type Call = [string, RequestInit]
const call = (f: ReturnType<typeof mockFetch>, i: number) => {
  const [url, init] = f.mock.calls[i] as unknown as Call
  return { url, method: init.method, body: init.body ? JSON.parse(String(init.body)) : undefined }
}

const caseInCallback = {
  id: 'c1', number: '3100002026112500001', version: 9, state: 'callback', source: 'hotline', urgent: false, attachments: [],
  callback: { attempts_allowed: 3, failed_attempts: 0, last_outcome: null, satisfaction: null, unreachable: false },
} as unknown as CaseView

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

function mountForm() {
  return mount(CommandForm, {
    props: { command: 'callback', caseView: caseInCallback },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
}

describe('the call-back form', () => {
  it('starts with 已接通 and asks the satisfaction, required, in three grades', async () => {
    const w = mountForm()
    await flushPromises()
    const outcomes = w.findAll('[data-testid^="outcome-"]')
    expect(outcomes.map((o) => o.attributes('data-testid'))).toEqual(['outcome-reached', 'outcome-no_answer', 'outcome-wrong_number'])
    expect(outcomes.map((o) => o.text())).toEqual(['已接通', '无人接听', '号码错误'])
    expect(w.find('[data-testid="outcome-reached"]').classes()).toContain('is-checked')
    expect(w.findAll('[data-testid^="satisfaction-"]').map((o) => o.text())).toEqual(['满意', '基本满意', '不满意'])
    expect(w.find('[data-testid="field-satisfaction"]').text()).toContain('*')

    // nothing picked: the form says so and sends nothing
    const f = mockFetch()
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid="field-error-satisfaction"]').text()).toBe('必填')
    expect(f).not.toHaveBeenCalled()
  })

  it('sends the reached outcome with the grade picked', async () => {
    const w = mountForm()
    await flushPromises()
    await w.find('[data-testid="satisfaction-basically_satisfied"] input').setValue(true)
    await w.find('textarea').setValue('市民表示基本满意')
    const f = mockFetch(jsonResponse(200, { ...caseInCallback, version: 10, state: 'checked' }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 0)).toEqual({
      url: '/api/v1/cases/c1/callback', method: 'POST',
      body: { version: 9, outcome: 'reached', satisfaction: 'basically_satisfied', opinion: '市民表示基本满意' },
    })
    expect(w.emitted('done')?.[0]?.[0]).toMatchObject({ version: 10 })
  })

  it('hides the satisfaction for a failed attempt and sends only the outcome', async () => {
    const w = mountForm()
    await flushPromises()
    await w.find('[data-testid="satisfaction-satisfied"] input').setValue(true)
    await w.find('[data-testid="outcome-no_answer"] input').setValue(true)
    expect(w.find('[data-testid="field-satisfaction"]').exists()).toBe(false)
    const f = mockFetch(jsonResponse(200, { ...caseInCallback, version: 10 }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 0).body).toEqual({ version: 9, outcome: 'no_answer' })
  })

  it('reads in English', async () => {
    i18n.global.locale.value = 'en'
    const w = mountForm()
    await flushPromises()
    expect(w.findAll('[data-testid^="outcome-"]').map((o) => o.text())).toEqual(['Reached', 'No answer', 'Wrong number'])
    expect(w.findAll('[data-testid^="satisfaction-"]').map((o) => o.text())).toEqual(['Satisfied', 'Basically satisfied', 'Unsatisfied'])
    expect(w.find('[data-testid="field-outcome"]').text()).toContain('Outcome')
  })
})

function mountReveal(source: string, state: string) {
  return mount(ContactReveal, {
    props: { caseId: 'c1', source, state } as never,
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
}

describe("a hotline caller's number", () => {
  it('is not offered before the call-back, with the reason', () => {
    const w = mountReveal('hotline', 'checked')
    expect(w.find('[data-testid="contact-reveal-button"]').exists()).toBe(false)
    expect(w.find('[data-testid="contact-callback-only"]').text()).toBe('12345 来电人的电话仅在回访期间显示，且仅用于回访。')
  })

  it('is read during the call-back, for the call-back only, and leaves when it ends', async () => {
    const w = mountReveal('hotline', 'callback')
    expect(w.find('[data-testid="contact-purpose"]').exists()).toBe(false)
    expect(w.find('[data-testid="contact-purpose-fixed"]').text()).toBe('用途：回访')
    const f = mockFetch(jsonResponse(200, { name: '王小明', phone: '13900001111', purpose: 'callback', texts: [] }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 0)).toMatchObject({ url: '/api/v1/cases/c1/contact?purpose=callback', method: 'GET' })
    expect(w.find('[data-testid="contact-phone"]').text()).toBe('13900001111')

    await w.setProps({ state: 'checked' } as never)
    expect(w.find('[data-testid="contact-clear"]').exists()).toBe(false)
    expect(w.find('[data-testid="contact-reveal-button"]').exists()).toBe(false)
  })

  it("shows the server's refusal", async () => {
    const w = mountReveal('hotline', 'callback')
    const message = "a hotline caller's contact is read only during the call-back step, with purpose callback; the case is checked"
    mockFetch(jsonResponse(409, { error: { code: 'precondition_failed', message, field: 'purpose' } }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid="contact-error"]').text()).toBe(message)
    expect(w.find('[data-testid="contact-clear"]').exists()).toBe(false)
  })

  it('reads in English', () => {
    i18n.global.locale.value = 'en'
    const w = mountReveal('hotline', 'checked')
    expect(w.find('[data-testid="contact-callback-only"]').text()).toBe("A 12345 caller's number is shown only during the call-back, and only for it.")
  })
})

describe("other reporters' contact", () => {
  it('is offered in any state for any of the three purposes, as before', async () => {
    const w = mountReveal('photo', 'handling')
    expect(w.find('[data-testid="contact-callback-only"]').exists()).toBe(false)
    expect(w.findAll('[data-testid="contact-purpose"] option').map((o) => o.attributes('value'))).toEqual(['callback', 'verification', 'clarification'])
    await w.find('[data-testid="contact-purpose"]').setValue('clarification')
    const f = mockFetch(jsonResponse(200, { name: null, phone: null, purpose: 'clarification', texts: [{ seq: 1, action: 'report', field: 'description', text: '电话 139-0000-1111' }] }))
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 0).url).toBe('/api/v1/cases/c1/contact?purpose=clarification')
    expect(w.find('[data-testid="contact-text"]').text()).toContain('139-0000-1111')
  })
})
