import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuth, SESSION_KEY } from '../src/stores/auth'
import { api, ApiError } from '../src/api'
import { jsonResponse, mockFetch } from './helpers'

const session = {
  expires_at: new Date(Date.now() + 3600_000).toISOString(),
  user: { id: 'u1', username: 'operator', display_name: '李受理员', role: 'operator', unit: 'C-310000', scope: '310000' },
  csrf_token: 'c5rf01',
}

const headersOf = (f: ReturnType<typeof mockFetch>, i: number) =>
  (f.mock.calls[i] as unknown as [string, RequestInit])[1].headers as Record<string, string>

function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

describe('auth store', () => {
  beforeEach(() => {
    sessionStorage.clear()
    clearCookies()
    setActivePinia(createPinia())
    vi.unstubAllGlobals()
  })

  it('signs in for a cookie session and keeps no token, only the user, expiry and CSRF token', async () => {
    // a server that still answered a token too: it must not be kept
    const f = mockFetch(jsonResponse(201, { ...session, token: 'tok-1' }), jsonResponse(200, session.user))
    const auth = useAuth()
    auth.wire(() => {})
    await auth.signIn('operator', 'cityops-demo')
    expect(auth.signedIn).toBe(true)
    expect(auth.role).toBe('operator')
    expect(auth.csrf).toBe('c5rf01')
    expect(JSON.parse(sessionStorage.getItem(SESSION_KEY)!)).toEqual(session)
    expect(sessionStorage.getItem(SESSION_KEY)).not.toContain('tok-1')
    expect(JSON.stringify(auth.$state)).not.toContain('tok-1')
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/sessions')
    expect(init.method).toBe('POST')
    expect(init.credentials).toBe('same-origin')
    expect(JSON.parse(init.body as string)).toEqual({ username: 'operator', password: 'cityops-demo', session: 'cookie' })
    expect(headersOf(f, 0).authorization).toBeUndefined()

    await api.me()
    const [url2, init2] = f.mock.calls[1] as unknown as [string, RequestInit]
    expect(url2).toBe('/api/v1/me')
    expect(init2.credentials).toBe('same-origin')
    expect(headersOf(f, 1).authorization).toBeUndefined()
    expect(headersOf(f, 1)['x-csrf-token']).toBeUndefined()
  })

  it('sends the CSRF token on unsafe calls: the cookie first, else the one from sign-in', async () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
    const auth = useAuth()
    auth.wire(() => {})
    const f = mockFetch(jsonResponse(200, { id: 'a1' }), jsonResponse(200, { id: 'a1' }))
    await api.acknowledgeAlarm('a1')
    expect(headersOf(f, 0)['x-csrf-token']).toBe('c5rf01')
    document.cookie = 'cityops_csrf=fresh02; path=/'
    await api.acknowledgeAlarm('a1')
    expect(headersOf(f, 1)['x-csrf-token']).toBe('fresh02')
    expect(headersOf(f, 1).authorization).toBeUndefined()
  })

  it('restores a stored session and ignores an expired one', () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
    expect(useAuth().signedIn).toBe(true)
    setActivePinia(createPinia())
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ ...session, expires_at: '2000-01-01T00:00:00Z' }))
    expect(useAuth().signedIn).toBe(false)
  })

  it('a wrong password keeps the user signed out with the server message', async () => {
    mockFetch(jsonResponse(401, { error: { code: 'bad_credentials', message: '用户名或密码错误' } }))
    const auth = useAuth()
    const expired = vi.fn()
    auth.wire(expired)
    await expect(auth.signIn('operator', 'x')).rejects.toMatchObject({ status: 401, code: 'bad_credentials', message: '用户名或密码错误' })
    expect(auth.signedIn).toBe(false)
    expect(expired).not.toHaveBeenCalled() // there was no session, so nothing expired
  })

  it('a 401 on an authenticated call signs out and reports the expiry', async () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
    const auth = useAuth()
    const expired = vi.fn()
    auth.wire(expired)
    mockFetch(jsonResponse(401, { error: { code: 'unauthenticated', message: 'session expired' } }))
    await expect(api.me()).rejects.toBeInstanceOf(ApiError)
    expect(expired).toHaveBeenCalledOnce()
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
  })

  it('ignores a stored session from the bearer-token UI and drops it', () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: 'tok-1', expires_at: session.expires_at, user: session.user }))
    expect(useAuth().signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
  })

  it('signOut ends the session on the server with the CSRF header, then here', async () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
    const auth = useAuth()
    auth.wire(() => {})
    const f = mockFetch(new Response(null, { status: 204 }))
    await auth.signOut()
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/sessions/current')
    expect(init.method).toBe('DELETE')
    expect(init.credentials).toBe('same-origin')
    expect(headersOf(f, 0)['x-csrf-token']).toBe('c5rf01')
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
  })

  it('signOut signs out here even when the server fails or says the session is already over', async () => {
    for (const answer of [jsonResponse(401, { error: { code: 'unauthenticated', message: 'no session' } }), null]) {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
      setActivePinia(createPinia())
      const auth = useAuth()
      const expired = vi.fn()
      auth.wire(expired)
      if (answer) mockFetch(answer)
      else vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
      await auth.signOut()
      expect(auth.signedIn).toBe(false)
      expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
      expect(expired).not.toHaveBeenCalled() // signing out is not an expiry
    }
  })
})
