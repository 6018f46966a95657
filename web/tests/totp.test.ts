import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { api, configureClient } from '../src/api'
import { i18n } from '../src/i18n'
import { otpCode } from '../src/lib/otp'
import { SESSION_KEY, useAuth } from '../src/stores/auth'
import LoginPage from '../src/pages/LoginPage.vue'
import TwoFactorDialog from '../src/components/TwoFactorDialog.vue'
import { jsonResponse, mockFetch } from './helpers'

const session = {
  expires_at: new Date(Date.now() + 3600_000).toISOString(),
  user: { id: 'u1', username: 'operator', display_name: '李受理员', role: 'operator', unit: 'C-310000', scope: '310000' },
  csrf_token: 'c5rf01',
}
const otpRequired = () => jsonResponse(401, { error: { code: 'otp_required', message: 'send the code as otp', field: 'otp' } })
const invalidOtp = () => jsonResponse(401, { error: { code: 'invalid_otp', message: 'the code is wrong', field: 'otp' } })

type Call = [string, RequestInit]
const call = (f: ReturnType<typeof mockFetch>, i: number) => {
  const [url, init] = f.mock.calls[i] as unknown as Call
  return { url, method: init.method, body: init.body ? JSON.parse(String(init.body)) : undefined, headers: init.headers as Record<string, string> }
}

let pinia = createPinia()
beforeEach(() => {
  sessionStorage.clear()
  pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
  configureClient({ csrf: () => null, unauthorized: () => {} })
})

describe('second factor API', () => {
  it('enrols, confirms and removes through /me/totp with the CSRF header', async () => {
    configureClient({ csrf: () => 'c5rf01' })
    const enrolment = { secret: 'JBSWY3DPEHPK3PXP', otpauth_url: 'otpauth://totp/CityOps:operator?secret=JBSWY3DPEHPK3PXP&issuer=CityOps' }
    const f = mockFetch(jsonResponse(201, enrolment), new Response(null, { status: 204 }), new Response(null, { status: 204 }))
    expect(await api.enrolTotp('pw')).toEqual(enrolment)
    expect(await api.confirmTotp('123456')).toBeUndefined()
    expect(await api.removeTotp('pw', '654321')).toBeUndefined()
    expect([0, 1, 2].map((i) => [call(f, i).method, call(f, i).url, call(f, i).body])).toEqual([
      ['POST', '/api/v1/me/totp', { password: 'pw' }],
      ['POST', '/api/v1/me/totp/confirm', { code: '123456' }],
      ['DELETE', '/api/v1/me/totp', { password: 'pw', code: '654321' }],
    ])
    for (const i of [0, 1, 2]) expect(call(f, i).headers['x-csrf-token']).toBe('c5rf01')
  })

  it('reports an active factor and a wrong code with their codes and fields', async () => {
    mockFetch(
      jsonResponse(409, { error: { code: 'totp_enabled', message: 'remove it first' } }),
      jsonResponse(422, { error: { code: 'invalid_input', message: 'the code is wrong or expired', field: 'code' } }),
    )
    await expect(api.enrolTotp('pw')).rejects.toMatchObject({ status: 409, code: 'totp_enabled' })
    await expect(api.confirmTotp('000000')).rejects.toMatchObject({ status: 422, field: 'code' })
  })

  it('sends otp with the sign-in only when there is one', async () => {
    const f = mockFetch(otpRequired(), jsonResponse(201, session), jsonResponse(201, session))
    await expect(api.signIn('operator', 'pw')).rejects.toMatchObject({ status: 401, code: 'otp_required', field: 'otp' })
    await api.signIn('operator', 'pw', '123456')
    await api.signIn('operator', 'pw', '')
    expect(call(f, 0).body).toEqual({ username: 'operator', password: 'pw', session: 'cookie' })
    expect(call(f, 1).body).toEqual({ username: 'operator', password: 'pw', session: 'cookie', otp: '123456' })
    expect(call(f, 2).body).not.toHaveProperty('otp')
  })

  it('takes a code typed with a space, and nothing that cannot be one', () => {
    expect(otpCode('123456')).toBe('123456')
    expect(otpCode(' 123 456 ')).toBe('123456')
    for (const bad of ['', '12345', '1234567', '12a456']) expect(otpCode(bad), bad).toBeNull()
  })
})

async function mountLogin() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginPage },
      { path: '/screen', component: { template: '<p>screen</p>' } },
    ],
  })
  router.push('/login')
  await router.isReady()
  const wrapper = mount(LoginPage, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
  return { wrapper, router }
}

describe('sign-in page with a second factor', () => {
  it('asks for the code after otp_required, then signs in again with the same password and the code', async () => {
    const f = mockFetch(otpRequired(), invalidOtp(), jsonResponse(201, session))
    const { wrapper, router } = await mountLogin()
    expect(wrapper.find('[data-testid=otp-field]').exists()).toBe(false)
    await wrapper.find('input[name=username]').setValue('operator')
    await wrapper.find('input[name=password]').setValue('cityops-demo')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    const otp = wrapper.find('input[name=otp]')
    expect(otp.exists()).toBe(true)
    expect(otp.attributes('autocomplete')).toBe('one-time-code')
    expect(otp.attributes('inputmode')).toBe('numeric')
    expect(wrapper.find('[data-testid=otp-field]').text()).toContain('请输入身份验证器应用中的6位动态码')
    expect(wrapper.find('[data-testid=login-error]').exists()).toBe(false)
    expect(document.activeElement).toBe(otp.element)

    // a code that cannot be one is not sent: it would count towards the sign-in throttle
    await otp.setValue('12345')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(f).toHaveBeenCalledTimes(1)
    expect(wrapper.find('[data-testid=otp-error]').text()).toBe('请输入6位数字动态码')

    await otp.setValue('111111')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 1).body).toEqual({ username: 'operator', password: 'cityops-demo', session: 'cookie', otp: '111111' })
    expect(wrapper.find('[data-testid=otp-error]').text()).toBe('动态码错误、已过期或已使用，请输入新的动态码')
    expect((wrapper.find('input[name=otp]').element as HTMLInputElement).value).toBe('')

    await wrapper.find('input[name=otp]').setValue('123 456')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(call(f, 2).body).toEqual({ username: 'operator', password: 'cityops-demo', session: 'cookie', otp: '123456' })
    expect(useAuth().signedIn).toBe(true)
    // the password went to the server only, never into storage
    expect(sessionStorage.getItem(SESSION_KEY)).not.toContain('cityops-demo')
    expect(JSON.stringify(useAuth().$state)).not.toContain('cityops-demo')
    expect(router.currentRoute.value.path).toBe('/screen')
    wrapper.unmount()
  })

  it('a throttled sign-in says how long this device must wait', async () => {
    mockFetch(jsonResponse(429, { error: { code: 'sign_in_throttled', message: 'try again in 8 s', retry_after: 8 } }))
    const { wrapper } = await mountLogin()
    await wrapper.find('input[name=username]').setValue('operator')
    await wrapper.find('input[name=password]').setValue('x')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid=login-error]').text()).toBe('此设备登录失败次数过多，请 8 秒后再试')
    wrapper.unmount()
  })

  it('a wrong password stays a password error and asks for no code', async () => {
    mockFetch(jsonResponse(401, { error: { code: 'bad_credentials', message: '用户名或密码错误' } }))
    const { wrapper } = await mountLogin()
    await wrapper.find('input[name=username]').setValue('operator')
    await wrapper.find('input[name=password]').setValue('x')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid=login-error]').text()).toBe('用户名或密码错误')
    expect(wrapper.find('input[name=otp]').exists()).toBe(false)
    wrapper.unmount()
  })
})

describe('two-step verification dialog', () => {
  // the dialog is teleported to the body, out of the wrapper's reach
  const byId = (id: string) => document.body.querySelector(`[data-testid=${id}]`) as HTMLElement | null
  const click = async (id: string) => {
    byId(id)!.click()
    await flushPromises()
  }
  const type = async (value: string) => {
    const input = document.body.querySelector('input[name=code]') as HTMLInputElement
    input.value = value
    input.dispatchEvent(new Event('input'))
    await flushPromises()
  }
  const submit = async () => {
    byId('totp-form')!.dispatchEvent(new Event('submit'))
    await flushPromises()
  }
  const typePassword = async (value: string) => {
    const input = document.body.querySelector('input[name=password]') as HTMLInputElement
    input.value = value
    input.dispatchEvent(new Event('input'))
    await flushPromises()
  }

  async function mountDialog() {
    const wrapper = mount(TwoFactorDialog, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await flushPromises()
    return wrapper
  }

  it('enrols: shows the secret and the otpauth URL, then confirms with a code', async () => {
    const enrolment = { secret: 'JBSWY3DPEHPK3PXP', otpauth_url: 'otpauth://totp/CityOps:operator?secret=JBSWY3DPEHPK3PXP' }
    const f = mockFetch(
      jsonResponse(201, enrolment),
      jsonResponse(422, { error: { code: 'invalid_input', message: 'the code is wrong or expired', field: 'code' } }),
      new Response(null, { status: 204 }),
    )
    const wrapper = await mountDialog()
    await typePassword('cityops-demo')
    await click('totp-start')
    expect(call(f, 0).body).toEqual({ password: 'cityops-demo' })
    expect(byId('totp-secret')!.textContent).toBe(enrolment.secret)
    expect(byId('totp-url')!.getAttribute('href')).toBe(enrolment.otpauth_url)
    await type('000000')
    await submit()
    expect(byId('totp-error')!.textContent).toBe('动态码错误、已过期或已使用')
    await type('123456')
    await submit()
    expect([1, 2].map((i) => [call(f, i).method, call(f, i).url, call(f, i).body])).toEqual([
      ['POST', '/api/v1/me/totp/confirm', { code: '000000' }],
      ['POST', '/api/v1/me/totp/confirm', { code: '123456' }],
    ])
    expect(byId('totp-notice')!.textContent).toContain('两步验证已开启')
    expect(byId('totp-secret')).toBeNull()
    wrapper.unmount()
  })

  it('offers removal when a factor is already active, and removes it with a code', async () => {
    const f = mockFetch(
      jsonResponse(409, { error: { code: 'totp_enabled', message: 'remove it first' } }),
      new Response(null, { status: 204 }),
    )
    const wrapper = await mountDialog()
    await typePassword('cityops-demo')
    await click('totp-start')
    expect(byId('totp-notice')!.textContent).toContain('两步验证已开启')
    expect(byId('totp-submit')!.textContent).toContain('移除')
    await type('654321')
    await submit()
    expect([call(f, 1).method, call(f, 1).url, call(f, 1).body]).toEqual(['DELETE', '/api/v1/me/totp', { password: 'cityops-demo', code: '654321' }])
    expect(byId('totp-notice')!.textContent).toBe('两步验证已移除。')
    expect(byId('totp-start')).not.toBeNull()
    wrapper.unmount()
  })
  it('asks for the password before anything, and says when it is wrong', async () => {
    const f = mockFetch(jsonResponse(422, { error: { code: 'invalid_input', message: 'the password is wrong', field: 'password' } }))
    const wrapper = await mountDialog()
    await click('totp-start')
    expect(f).toHaveBeenCalledTimes(0)
    expect(document.body.querySelector('.totp .err')!.textContent).toBe('请输入密码')
    await typePassword('wrong')
    await click('totp-start')
    expect(document.body.querySelector('.totp .err')!.textContent).toBe('密码错误')
    expect((document.body.querySelector('input[name=password]') as HTMLInputElement).value).toBe('')
    wrapper.unmount()
  })
})
