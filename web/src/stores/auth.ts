import { defineStore } from 'pinia'
import { api, ApiError, configureClient, CSRF_COOKIE, readCookie } from '../api'
import type { LoginResponse, Role, Session, User } from '../api/types'
import { mayPatrol } from '../lib/patrols'

export const SESSION_KEY = 'cityops.session'
/**
 * The inspector's account as the phone remembers it (localStorage, so a cold start of the installed
 * app finds it): their public profile only, never a token or the CSRF value. The session itself stays
 * the HttpOnly cookie; this only lets /field open without network while that cookie is still there.
 */
export const REMEMBERED_KEY = 'cityops.field.account'

/** Only what the UI needs to show who is signed in and to pass the CSRF check; the session itself is the HttpOnly cookie. */
function keep(s: Session | LoginResponse): Session {
  return { expires_at: s.expires_at, user: s.user, csrf_token: s.csrf_token ?? '' }
}

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Session
    // a session stored by the bearer-token UI has no csrf_token and its token must not linger
    if (!s.user || !s.csrf_token) {
      sessionStorage.removeItem(SESSION_KEY)
      return null
    }
    if (s.expires_at && Date.parse(s.expires_at) < Date.now()) return null
    return keep(s)
  } catch {
    return null
  }
}

/** Who the phone's page (城管通) is for: only their account is remembered for working offline. */
function rememberable(user: User): boolean {
  return mayPatrol(user.role)
}

/** Keeps the account of whoever signed in if they use /field; anyone else's sign-in forgets the former one. */
function remember(user: User) {
  try {
    if (!rememberable(user)) {
      localStorage.removeItem(REMEMBERED_KEY)
      return
    }
    const { id, username, display_name, role, unit, scope } = user
    localStorage.setItem(REMEMBERED_KEY, JSON.stringify({ id, username, display_name, role, unit: unit ?? null, scope }))
  } catch {
    /* no storage: the phone then needs the network to open */
  }
}

function unremember() {
  try {
    localStorage.removeItem(REMEMBERED_KEY)
  } catch {
    /* no storage */
  }
}

/** The account remembered for working offline, if any (and still one that uses /field). */
export function rememberedUser(): User | null {
  try {
    const raw = localStorage.getItem(REMEMBERED_KEY)
    if (!raw) return null
    const u = JSON.parse(raw) as Partial<User>
    if (typeof u?.username !== 'string' || !u.username || typeof u.display_name !== 'string' || typeof u.scope !== 'string') return null
    const user: User = { id: typeof u.id === 'string' ? u.id : '', username: u.username, display_name: u.display_name, role: u.role as Role, unit: u.unit ?? null, scope: u.scope }
    return rememberable(user) ? user : null
  } catch {
    return null
  }
}

/** Whether a failed request never reached the server (no network), as opposed to any answer of it. */
export function unreachable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 0
  return e instanceof TypeError
}

// once per page load (per store, so each test's fresh Pinia checks again): the cookie, not sessionStorage, says who the server acts as
const checks = new WeakMap<object, Promise<void>>()
// the network came back: one question to the server at a time, whoever asks
const reconnects = new WeakMap<object, Promise<boolean>>()
// what the page does when a session it worked with turned out to be over (the login page)
const expiries = new WeakMap<object, () => void>()

export const useAuth = defineStore('auth', {
  state: () => ({
    session: load() as Session | null,
    /**
     * The session is the remembered inspector's, taken because the server could not be reached when
     * the app opened: good for the phone's pages (`phone` routes) only, until the server answers.
     */
    offline: false,
  }),
  getters: {
    csrf: (s): string | null => s.session?.csrf_token ?? null,
    user: (s): User | null => s.session?.user ?? null,
    /** Signed in as far as the server said (or this tab stored); not while working offline with the remembered account. */
    signedIn: (s): boolean => !!s.session && !s.offline,
    role: (s): Role | null => s.session?.user.role ?? null,
  },
  actions: {
    /** `otp`: the authenticator app's code, once the server answered `otp_required`. */
    async signIn(username: string, password: string, otp?: string) {
      const session = keep(await api.signIn(username, password, otp))
      this.session = session
      this.offline = false
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
      remember(session.user)
      return session.user
    },
    /** End the session on the server (it clears the cookies), then here, whatever the server said. */
    async signOut() {
      try {
        await api.signOut()
      } catch {
        /* already over, or the server is unreachable: signing out here is what the user asked for */
      }
      this.forget()
    },
    /**
     * Ask the server who the shared cookie belongs to: another tab may have signed in as someone else,
     * and a new tab has a valid cookie but nothing stored. Runs once; later calls wait for that one.
     */
    verify(): Promise<void> {
      let done = checks.get(this)
      if (!done) checks.set(this, (done = this.check()))
      return done
    },
    async check() {
      const before = this.session
      // The CSRF cookie comes and goes with the session cookie and expires with it: without it
      // there is no session to ask about, and the answer would only be a 401 in the console.
      if (!readCookie(CSRF_COOKIE)) {
        if (before || rememberedUser()) this.forget()
        return
      }
      try {
        const user = await api.whoAmI()
        // a sign-in or sign-out while the check was in flight is newer than its answer
        if (this.session !== before) return
        const session: Session = {
          // /me says nothing about expiry; '' means unknown, and the server's 401 will tell
          expires_at: before?.expires_at ?? '',
          user,
          // (the remembered account's copy was the cookie's, which is read again)
          csrf_token: (this.offline ? null : before?.csrf_token) || readCookie(CSRF_COOKIE) || '',
        }
        this.session = session
        this.offline = false
        sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
        remember(user)
      } catch (e) {
        if (this.session !== before) return
        // anything but a 401 (offline, 5xx) says nothing about the cookie, so what is stored stays
        if (e instanceof ApiError && e.status === 401) {
          this.forget()
          return
        }
        // No answer at all (the phone has no network) and nothing stored in this tab: a cold start
        // of the installed app. The cookie is still there, so the inspector remembered may work on
        // the phone's pages; the server is asked again once the network is back (`reconnect`).
        if (!before && unreachable(e)) {
          const user = rememberedUser()
          if (user) {
            this.session = { expires_at: '', user, csrf_token: readCookie(CSRF_COOKIE) ?? '' }
            this.offline = true
          }
        }
      }
    },
    /** Ask the server again now (not the start-up answer), e.g. once the network is back. */
    reverify(): Promise<void> {
      const done = this.check()
      checks.set(this, done)
      return done
    },
    /**
     * The network is back: while working offline with the remembered account, ask the server who
     * the cookie belongs to. True when the session is the server's now (or never was offline);
     * false while the server still cannot be reached, or when it said the session is over (401):
     * then the page goes to the login page, as after any expiry, and what waits on the phone stays.
     */
    reconnect(): Promise<boolean> {
      if (!this.offline) return Promise.resolve(true)
      let running = reconnects.get(this)
      if (!running) {
        running = (async () => {
          try {
            await this.reverify()
            if (this.offline) return false
            if (!this.session) {
              expiries.get(this)?.()
              return false
            }
            return true
          } finally {
            reconnects.delete(this)
          }
        })()
        reconnects.set(this, running)
      }
      return running
    },
    /** Drop the local session only: after a 401 the server has already ended it. The remembered account goes with it. */
    forget() {
      this.session = null
      this.offline = false
      sessionStorage.removeItem(SESSION_KEY)
      unremember()
    },
    /** Connect the API client to this store; `onExpired` runs after a 401. */
    wire(onExpired: () => void) {
      expiries.set(this, onExpired)
      configureClient({
        csrf: () => this.csrf,
        unauthorized: () => {
          // no local session: the 401 ended nothing (e.g. a stale page's call after signing out)
          if (!this.session) return
          this.forget()
          onExpired()
        },
      })
    },
  },
})
