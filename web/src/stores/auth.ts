import { defineStore } from 'pinia'
import { api, ApiError, configureClient, CSRF_COOKIE, readCookie } from '../api'
import type { LoginResponse, Role, Session, User } from '../api/types'

export const SESSION_KEY = 'cityops.session'

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

// once per page load (per store, so each test's fresh Pinia checks again): the cookie, not sessionStorage, says who the server acts as
const checks = new WeakMap<object, Promise<void>>()

export const useAuth = defineStore('auth', {
  state: () => ({ session: load() as Session | null }),
  getters: {
    csrf: (s): string | null => s.session?.csrf_token ?? null,
    user: (s): User | null => s.session?.user ?? null,
    signedIn: (s): boolean => !!s.session,
    role: (s): Role | null => s.session?.user.role ?? null,
  },
  actions: {
    /** `otp`: the authenticator app's code, once the server answered `otp_required`. */
    async signIn(username: string, password: string, otp?: string) {
      const session = keep(await api.signIn(username, password, otp))
      this.session = session
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
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
        if (before) this.forget()
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
          csrf_token: before?.csrf_token || readCookie(CSRF_COOKIE) || '',
        }
        this.session = session
        sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
      } catch (e) {
        if (this.session !== before) return
        // anything but a 401 (offline, 5xx) says nothing about the cookie, so what is stored stays
        if (e instanceof ApiError && e.status === 401) this.forget()
      }
    },
    /** Drop the local session only: after a 401 the server has already ended it. */
    forget() {
      this.session = null
      sessionStorage.removeItem(SESSION_KEY)
    },
    /** Connect the API client to this store; `onExpired` runs after a 401. */
    wire(onExpired: () => void) {
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
