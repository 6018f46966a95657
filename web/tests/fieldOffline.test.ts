// The inspector's phone opened cold without network (城管通): the account of the inspector who
// signed in last is remembered (its public profile only), forgotten on sign-out and on a 401; a
// start-up check that gets no answer at all (not a refusal) lets the remembered inspector work on
// the phone's pages only; once the network is back the server is asked again, and a 401 then sends
// the inspector to the login page while what waits in the outbox stays.
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { REMEMBERED_KEY, SESSION_KEY, rememberedUser, unreachable, useAuth } from '../src/stores/auth'
import { router } from '../src/router'
import { api, ApiError } from '../src/api'
import { Outbox, type OutboxSender } from '../src/lib/outbox'
import { RETRY_MS, setFieldOutbox, useField } from '../src/stores/field'
import type { ReportRequest } from '../src/api/types'
import { jsonResponse, mockFetch } from './helpers'

const inspector = { id: 'u7', username: 'inspector', display_name: '王监督员', role: 'inspector', unit: null, scope: '310101' }
const operator = { id: 'u1', username: 'operator', display_name: '李受理员', role: 'operator', unit: 'C-310000', scope: '310000' }
const login = (user: object) => ({ expires_at: new Date(Date.now() + 3600_000).toISOString(), user, csrf_token: 'c5rf01', token: 'tok-secret' })
const unauthorized = () => jsonResponse(401, { error: { code: 'unauthenticated', message: 'the session token is unknown or expired' } })
/** What fetch does without network. */
const noNetwork = () => vi.fn(async () => { throw new TypeError('Failed to fetch') })

function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}
const remember = (user: object = inspector) => localStorage.setItem(REMEMBERED_KEY, JSON.stringify(user))
const stored = () => JSON.parse(localStorage.getItem(REMEMBERED_KEY) ?? 'null')

// stand-ins for a phone page (/field) and a staff page: loading the real pages' chunks is not what is tested
const blank = { render: () => null }
router.addRoute({ path: '/phone-probe', name: 'phone-probe', component: blank, meta: { auth: true, phone: true } })
router.addRoute({ path: '/staff-probe', name: 'staff-probe', component: blank, meta: { auth: true } })
let visit = 0
/** Navigates to `path` (a fresh full path each time, so the guard runs) and says where the router ended up. */
async function go(path: string) {
  await router.push({ path, query: { v: String(++visit) } })
  return router.currentRoute.value
}

// the login page's chunk, which the guard's redirects load: once, before the tests' clocks run
beforeAll(() => import('../src/pages/LoginPage.vue'), 60_000)

beforeEach(() => {
  sessionStorage.clear()
  localStorage.clear()
  clearCookies()
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})
afterEach(() => {
  vi.unstubAllGlobals()
})

describe('the remembered account', () => {
  it('is the inspector\'s public profile, kept on sign-in, never a token or the CSRF value', async () => {
    mockFetch(jsonResponse(201, login(inspector)))
    await useAuth().signIn('inspector', 'cityops-demo')
    expect(stored()).toEqual(inspector)
    const raw = localStorage.getItem(REMEMBERED_KEY)!
    expect(raw).not.toContain('tok-secret')
    expect(raw).not.toContain('c5rf01')
    expect(raw).not.toContain('expires_at')
    expect(rememberedUser()).toEqual(inspector)
  })

  it('is kept when a new tab\'s start-up check finds the inspector, and replaced when someone else signs in', async () => {
    document.cookie = 'cityops_csrf=c5rf01; path=/'
    mockFetch(jsonResponse(200, inspector))
    await useAuth().verify()
    expect(stored()).toEqual(inspector)
    // an operator on the same browser: no account of theirs is kept, and the inspector's goes
    mockFetch(jsonResponse(201, login(operator)))
    await useAuth().signIn('operator', 'cityops-demo')
    expect(localStorage.getItem(REMEMBERED_KEY)).toBeNull()
  })

  it('goes on sign-out, also when the server cannot be reached', async () => {
    for (const answer of [new Response(null, { status: 204 }), null]) {
      setActivePinia(createPinia())
      mockFetch(jsonResponse(201, login(inspector)))
      const auth = useAuth()
      await auth.signIn('inspector', 'cityops-demo')
      expect(stored()).toEqual(inspector)
      if (answer) mockFetch(answer)
      else vi.stubGlobal('fetch', noNetwork())
      await auth.signOut()
      expect(localStorage.getItem(REMEMBERED_KEY)).toBeNull()
    }
  })

  it('goes when the start-up check answers 401, whether or not this tab stored a session', async () => {
    for (const inTab of [true, false]) {
      setActivePinia(createPinia())
      remember()
      if (inTab) sessionStorage.setItem(SESSION_KEY, JSON.stringify({ ...login(inspector), token: undefined }))
      document.cookie = 'cityops_csrf=c5rf01; path=/'
      mockFetch(unauthorized())
      const auth = useAuth()
      auth.wire(() => {})
      await auth.verify()
      expect(auth.signedIn).toBe(false)
      expect(auth.offline).toBe(false)
      expect(localStorage.getItem(REMEMBERED_KEY)).toBeNull()
    }
  })

  it('goes when an authenticated call answers 401', async () => {
    mockFetch(jsonResponse(201, login(inspector)))
    const auth = useAuth()
    const expired = vi.fn()
    auth.wire(expired)
    await auth.signIn('inspector', 'cityops-demo')
    mockFetch(unauthorized())
    await expect(api.me()).rejects.toMatchObject({ status: 401 })
    expect(expired).toHaveBeenCalledOnce()
    expect(localStorage.getItem(REMEMBERED_KEY)).toBeNull()
  })

  it('is not taken from storage for anyone but an inspector, nor when it is malformed', () => {
    remember(operator)
    expect(rememberedUser()).toBeNull()
    localStorage.setItem(REMEMBERED_KEY, '{not json')
    expect(rememberedUser()).toBeNull()
    remember({ role: 'inspector' })
    expect(rememberedUser()).toBeNull()
  })
})

describe('a cold start without network', () => {
  it('takes the remembered inspector for the phone\'s pages only, with the cookie\'s CSRF token', async () => {
    remember()
    document.cookie = 'cityops_csrf=fresh02; path=/'
    const f = noNetwork()
    vi.stubGlobal('fetch', f)
    const auth = useAuth()
    auth.wire(() => {})
    expect((await go('/phone-probe')).name).toBe('phone-probe')
    expect(auth.offline).toBe(true)
    expect(auth.user).toEqual(inspector)
    expect(auth.role).toBe('inspector')
    expect(auth.csrf).toBe('fresh02')
    // not signed in as far as any other page goes
    expect(auth.signedIn).toBe(false)
    // nothing unverified is stored for the tab
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
    // a staff page asks the server again, gets no answer, and sends to the login page
    const calls = f.mock.calls.length
    const staff = await go('/staff-probe')
    expect(staff.name).toBe('login')
    expect(String(staff.query.redirect)).toMatch(/^\/staff-probe/)
    expect(f.mock.calls.length).toBe(calls + 1)
    // the phone's page still opens
    expect((await go('/phone-probe')).name).toBe('phone-probe')
    expect(stored()).toEqual(inspector)
  })

  it('a staff page opened then gets through once the server answers', async () => {
    remember()
    document.cookie = 'cityops_csrf=fresh02; path=/'
    vi.stubGlobal('fetch', noNetwork())
    const auth = useAuth()
    auth.wire(() => {})
    expect((await go('/phone-probe')).name).toBe('phone-probe')
    mockFetch(jsonResponse(200, inspector))
    expect((await go('/staff-probe')).name).toBe('staff-probe')
    expect(auth.offline).toBe(false)
    expect(auth.signedIn).toBe(true)
  })

  it('is the login page on a start-up staff page too', async () => {
    remember()
    document.cookie = 'cityops_csrf=fresh02; path=/'
    vi.stubGlobal('fetch', noNetwork())
    const auth = useAuth()
    auth.wire(() => {})
    expect((await go('/staff-probe')).name).toBe('login')
    expect(auth.signedIn).toBe(false)
  })

  it('is not taken on an answer: a 403, a 5xx or a 401 is the server\'s word', async () => {
    for (const answer of [
      jsonResponse(403, { error: { code: 'forbidden', message: 'no' } }),
      jsonResponse(503, { error: { code: 'unavailable', message: 'busy' } }),
      unauthorized(),
    ]) {
      setActivePinia(createPinia())
      remember()
      document.cookie = 'cityops_csrf=fresh02; path=/'
      mockFetch(answer)
      const auth = useAuth()
      auth.wire(() => {})
      expect((await go('/phone-probe')).name).toBe('login')
      expect(auth.offline).toBe(false)
      expect(auth.user).toBeNull()
    }
  })

  it('is the login page without a remembered account, or without the session\'s cookie (it expired with the session)', async () => {
    document.cookie = 'cityops_csrf=fresh02; path=/'
    vi.stubGlobal('fetch', noNetwork())
    let auth = useAuth()
    auth.wire(() => {})
    expect((await go('/phone-probe')).name).toBe('login')
    expect(auth.offline).toBe(false)

    setActivePinia(createPinia())
    clearCookies()
    remember()
    const f = noNetwork()
    vi.stubGlobal('fetch', f)
    auth = useAuth()
    auth.wire(() => {})
    expect((await go('/phone-probe')).name).toBe('login')
    expect(f).not.toHaveBeenCalled()
    expect(localStorage.getItem(REMEMBERED_KEY)).toBeNull()
  })

  it('a tab that stored its session keeps it as before (a reload without network), not as the remembered account', async () => {
    remember()
    document.cookie = 'cityops_csrf=c5rf01; path=/'
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ expires_at: login(inspector).expires_at, user: inspector, csrf_token: 'c5rf01' }))
    vi.stubGlobal('fetch', noNetwork())
    const auth = useAuth()
    auth.wire(() => {})
    expect((await go('/staff-probe')).name).toBe('staff-probe')
    expect(auth.offline).toBe(false)
    expect(auth.signedIn).toBe(true)
  })

  it('unreachable: only no answer at all', () => {
    expect(unreachable(new ApiError(0, 'network', 'Failed to fetch'))).toBe(true)
    expect(unreachable(new TypeError('Failed to fetch'))).toBe(true)
    expect(unreachable(new ApiError(401, 'unauthenticated', 'x'))).toBe(false)
    expect(unreachable(new ApiError(403, 'forbidden', 'x'))).toBe(false)
    expect(unreachable(new ApiError(502, 'http_502', 'x'))).toBe(false)
  })
})

describe('the network back', () => {
  async function offlineStart() {
    remember()
    document.cookie = 'cityops_csrf=fresh02; path=/'
    vi.stubGlobal('fetch', noNetwork())
    const auth = useAuth()
    const expired = vi.fn()
    auth.wire(expired)
    await auth.verify()
    expect(auth.offline).toBe(true)
    return { auth, expired }
  }

  it('200: the server\'s session, stored for the tab; the remembered account stays', async () => {
    const { auth, expired } = await offlineStart()
    const f = mockFetch(jsonResponse(200, inspector))
    // the `online` event and a timer at once: one question
    const [a, b] = await Promise.all([auth.reconnect(), auth.reconnect()])
    expect([a, b]).toEqual([true, true])
    expect(f).toHaveBeenCalledOnce()
    expect(auth.offline).toBe(false)
    expect(auth.signedIn).toBe(true)
    expect(auth.csrf).toBe('fresh02')
    expect(JSON.parse(sessionStorage.getItem(SESSION_KEY)!).user).toEqual(inspector)
    expect(stored()).toEqual(inspector)
    expect(expired).not.toHaveBeenCalled()
    // nothing more to ask
    await expect(auth.reconnect()).resolves.toBe(true)
    expect(f).toHaveBeenCalledOnce()
  })

  it('401: the session is over: forgotten, remembered account too, and the page told (to the login page)', async () => {
    const { auth, expired } = await offlineStart()
    mockFetch(unauthorized())
    await expect(auth.reconnect()).resolves.toBe(false)
    expect(auth.offline).toBe(false)
    expect(auth.user).toBeNull()
    expect(localStorage.getItem(REMEMBERED_KEY)).toBeNull()
    expect(expired).toHaveBeenCalledOnce()
  })

  it('still no answer: working offline goes on', async () => {
    const { auth, expired } = await offlineStart()
    await expect(auth.reconnect()).resolves.toBe(false)
    expect(auth.offline).toBe(true)
    expect(auth.user).toEqual(inspector)
    expect(expired).not.toHaveBeenCalled()
  })
})

describe('the phone\'s outbox while working offline with the remembered account', () => {
  const BODY: ReportRequest = { source: 'inspector', description: '井盖缺失', location: { lon: 121.4837, lat: 31.2386 } }
  let n = 0
  let sender: OutboxSender & { report: ReturnType<typeof vi.fn> }
  beforeEach(() => {
    vi.stubGlobal('indexedDB', new IDBFactory())
    sender = {
      report: vi.fn(async () => ({ id: 'c1', number: 'N1', version: 1 })),
      upload: vi.fn(), caseVersion: vi.fn(), positions: vi.fn(), end: vi.fn(),
    }
    setFieldOutbox(new Outbox({ sender, dbName: `field-offline-${++n}`, lock: (fn) => fn() }))
  })
  afterEach(() => setFieldOutbox(null))

  async function storedOffline() {
    remember()
    document.cookie = 'cityops_csrf=fresh02; path=/'
    vi.stubGlobal('fetch', noNetwork())
    const auth = useAuth()
    const expired = vi.fn()
    auth.wire(expired)
    await auth.verify()
    const field = useField()
    field.online = false
    await field.submit(BODY, [])
    expect(field.waiting).toBe(1)
    expect(sender.report).not.toHaveBeenCalled()
    field.online = true
    return { auth, field, expired }
  }

  it('asks the server first; a 401 sends nothing and keeps the report for after signing in', async () => {
    const { field, expired } = await storedOffline()
    mockFetch(unauthorized())
    await expect(field.flush()).resolves.toBeNull()
    expect(sender.report).not.toHaveBeenCalled()
    expect(expired).toHaveBeenCalledOnce()
    // signed in again (the login page): the report is still on the phone, and goes once
    mockFetch(jsonResponse(201, login(inspector)))
    await useAuth().signIn('inspector', 'cityops-demo')
    await field.refresh()
    expect(field.waiting).toBe(1)
    const result = await field.flush()
    expect(result?.sent).toHaveLength(1)
    expect(sender.report).toHaveBeenCalledOnce()
    expect(field.waiting).toBe(0)
  })

  it('the server answers: the report goes', async () => {
    const { auth, field } = await storedOffline()
    mockFetch(jsonResponse(200, inspector))
    const result = await field.flush()
    expect(auth.offline).toBe(false)
    expect(result?.sent).toHaveLength(1)
    expect(sender.report).toHaveBeenCalledOnce()
  })

  it('nothing waiting and the server unreachable at first: the retry timer asks it again', async () => {
    remember()
    document.cookie = 'cityops_csrf=fresh02; path=/'
    const f = noNetwork()
    vi.stubGlobal('fetch', f)
    const auth = useAuth()
    auth.wire(() => {})
    await auth.verify()
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const field = useField()
    const stop = field.start()
    try {
      // the page's first flush asked once more (the phone says it is online), without an answer
      await vi.waitFor(() => expect(f).toHaveBeenCalledTimes(2))
      await new Promise((r) => setTimeout(r, 0))
      expect(auth.offline).toBe(true)
      mockFetch(jsonResponse(200, inspector))
      vi.advanceTimersByTime(RETRY_MS)
      await vi.waitFor(() => expect(auth.offline).toBe(false))
      expect(auth.signedIn).toBe(true)
      expect(sender.report).not.toHaveBeenCalled()
    } finally {
      stop()
      vi.useRealTimers()
    }
  })

  it('still no server: nothing is tried', async () => {
    const { auth, field } = await storedOffline()
    await expect(field.flush()).resolves.toBeNull()
    expect(auth.offline).toBe(true)
    expect(sender.report).not.toHaveBeenCalled()
    expect(field.waiting).toBe(1)
  })
})
