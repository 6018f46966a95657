import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuth, SESSION_KEY } from '../src/stores/auth'
import { api, ApiError } from '../src/api'
import { jsonResponse, mockFetch } from './helpers'

const session = {
  token: 'tok-1',
  expires_at: new Date(Date.now() + 3600_000).toISOString(),
  user: { id: 'u1', username: 'operator', display_name: '李受理员', role: 'operator', unit: 'C-310000', scope: '310000' },
}

describe('auth store', () => {
  beforeEach(() => {
    sessionStorage.clear()
    setActivePinia(createPinia())
    vi.unstubAllGlobals()
  })

  it('signs in, keeps the session in sessionStorage and sends the bearer token', async () => {
    const f = mockFetch(jsonResponse(201, session), jsonResponse(200, session.user))
    const auth = useAuth()
    auth.wire(() => {})
    await auth.signIn('operator', 'cityops-demo')
    expect(auth.signedIn).toBe(true)
    expect(auth.role).toBe('operator')
    expect(JSON.parse(sessionStorage.getItem(SESSION_KEY)!).token).toBe('tok-1')
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/sessions')
    expect(JSON.parse(init.body as string)).toEqual({ username: 'operator', password: 'cityops-demo' })
    expect((init.headers as Record<string, string>).authorization).toBeUndefined()

    await api.me()
    const [, init2] = f.mock.calls[1] as unknown as [string, RequestInit]
    expect((init2.headers as Record<string, string>).authorization).toBe('Bearer tok-1')
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
    expect(expired).not.toHaveBeenCalled() // no token was sent, so nothing expired
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

  it('signOut clears the session', () => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
    const auth = useAuth()
    auth.signOut()
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
  })
})
