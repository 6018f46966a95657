import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuth, SESSION_KEY } from '../src/stores/auth'
import { router } from '../src/router'
import { jsonResponse, mockFetch } from './helpers'

const stored = {
  expires_at: new Date(Date.now() + 3600_000).toISOString(),
  user: { id: 'u1', username: 'operator', display_name: '李受理员', role: 'operator', unit: 'C-310000', scope: '310000' },
  csrf_token: 'c5rf01',
}
const other = { id: 'u2', username: 'lead', display_name: '王值班长', role: 'shift_lead', unit: 'C-310000', scope: '310000' }

function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

describe('start-up session check', () => {
  beforeEach(() => {
    sessionStorage.clear()
    clearCookies()
    setActivePinia(createPinia())
    vi.unstubAllGlobals()
  })

  it('200: takes the user the cookie belongs to, once, keeping the stored CSRF token', async () => {
    document.cookie = 'cityops_csrf=c5rf01; path=/'
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(stored))
    const f = mockFetch(jsonResponse(200, other))
    const auth = useAuth()
    auth.wire(() => {})
    await Promise.all([auth.verify(), auth.verify()])
    await auth.verify()
    expect(f).toHaveBeenCalledOnce()
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/me')
    expect(init.method).toBe('GET')
    expect(auth.user).toEqual(other)
    expect(auth.csrf).toBe('c5rf01')
    expect(JSON.parse(sessionStorage.getItem(SESSION_KEY)!).user).toEqual(other)
  })

  it('200 in a new tab: signs in with the CSRF token from the cookie, and the guard lets a staff route through', async () => {
    document.cookie = 'cityops_csrf=fresh02; path=/'
    mockFetch(jsonResponse(200, other))
    const auth = useAuth()
    auth.wire(() => {})
    expect(auth.signedIn).toBe(false)
    // a stand-in staff route: loading a real page's chunk is not what is tested here
    router.addRoute({ path: '/staff-probe', name: 'staff-probe', component: { render: () => null }, meta: { auth: true } })
    await router.push('/staff-probe')
    expect(router.currentRoute.value.name).toBe('staff-probe')
    expect(auth.signedIn).toBe(true)
    expect(auth.csrf).toBe('fresh02')
  })

  it('401: forgets the stored session without calling the server again or reporting an expiry', async () => {
    document.cookie = 'cityops_csrf=c5rf01; path=/'
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(stored))
    const f = mockFetch(jsonResponse(401, { error: { code: 'unauthenticated', message: 'no session' } }))
    const auth = useAuth()
    const expired = vi.fn()
    auth.wire(expired)
    await auth.verify()
    expect(f).toHaveBeenCalledOnce()
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
    expect(expired).not.toHaveBeenCalled()
  })

  it('network error: keeps what is stored', async () => {
    document.cookie = 'cityops_csrf=c5rf01; path=/'
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(stored))
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    const auth = useAuth()
    auth.wire(() => {})
    await auth.verify()
    expect(auth.user).toEqual(stored.user)
    expect(JSON.parse(sessionStorage.getItem(SESSION_KEY)!)).toEqual(stored)
  })

  it('no session cookie: nothing to ask, the stored session is dropped without a request', async () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(stored))
    const f = mockFetch(jsonResponse(401, { error: { code: 'unauthenticated', message: 'no session' } }))
    const auth = useAuth()
    auth.wire(() => {})
    await auth.verify()
    expect(f).not.toHaveBeenCalled()
    expect(auth.signedIn).toBe(false)
  })

  it('citizen pages neither call /me nor wait for it', async () => {
    const f = mockFetch()
    useAuth().wire(() => {})
    await router.push('/citizen')
    expect(router.currentRoute.value.name).toBe('citizen')
    expect(f).not.toHaveBeenCalled()
  })
})
